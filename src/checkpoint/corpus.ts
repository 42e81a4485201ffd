import { CorpusError, type PreparedData, fingerprintMatches } from '../text/corpus.js';
import { loadCorpusData } from '../text/corpus-stream.js';
import type { TokenArray } from '../text/tokens.js';
import { type Checkpoint, checkpointVocabulary } from './checkpoint.js';
import type { LoadedModel } from './load.js';

/*
 * A checkpoint's corpus, read again: to go on training on it, or to score its validation split.
 */

/**
 * `files` read as the checkpoint read its corpus: its documents mode, split and vocabulary.
 * `changed` says whether they differ from the text it recorded (false when it recorded none).
 */
export function readCheckpointCorpus(ckpt: Checkpoint, files: readonly string[]): { data: PreparedData; changed: boolean } {
  // the corpus record says how the text was read; a checkpoint without one, its training settings
  const { docs, valFrac } = ckpt.corpus ?? ckpt.config.training;
  const data = loadCorpusData(files, docs, { valFrac, minCount: 1, vocab: checkpointVocabulary(ckpt) });
  return { data, changed: ckpt.corpus !== null && !fingerprintMatches(data.fingerprint, ckpt.corpus) };
}

/**
 * The checkpoint's validation split, rebuilt from its corpus files with its vocabulary. Refuses
 * when the checkpoint records no corpus (an imported model), when the split is empty, or when
 * the files no longer match what it was trained on (CorpusError).
 */
export function validationSplit(model: LoadedModel): TokenArray {
  const { path, checkpoint } = model;
  const info = checkpoint.corpus;
  if (info === null) {
    throw new CorpusError((name) =>
      `${path} records no training corpus (an imported model?): name files to score, or use ${name('text')}`);
  }
  if (info.valTokens === 0) {
    throw new CorpusError((name) =>
      `${path} was trained without a validation split (${name('valFrac')} 0): name files to score, or use ${name('text')}`);
  }
  const rebuild = `cannot rebuild the validation split of ${path}`;
  const files = info.files.map((f) => f.path);
  let read;
  try {
    read = readCheckpointCorpus(checkpoint, files);
  } catch (error) {
    if (error instanceof CorpusError) throw new CorpusError((name) => `${rebuild}: ${error.messageNaming(name)}`);
    throw error;
  }
  if (read.changed) {
    throw new CorpusError((name) =>
      `${rebuild}: its corpus (${files.join(', ')}) changed since training; name files to score, or use ${name('text')}`);
  }
  return read.data.val;
}
