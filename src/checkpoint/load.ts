import { type Checkpoint, latestCheckpoint, loadCheckpoint, modelFromCheckpoint } from '../checkpoint/checkpoint.js';
import { CheckpointError, shortMessage } from '../checkpoint/errors.js';
import type { ModelConfig } from '../engine/config.js';
import { CorpusError } from '../text/corpus.js';
import { readCheckpointCorpus } from '../train/data.js';
import { Vocabulary } from '../text/vocab.js';

/** Where `rnn train` writes checkpoints, and where commands look when no checkpoint is named. */
export const CHECKPOINT_DIR = 'checkpoints';

export interface LoadedModel {
  path: string;
  checkpoint: Checkpoint;
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
}

/** The named checkpoint, or else the most recently written one under checkpoints/. */
export function resolveCheckpointPath(path: string | undefined): string {
  if (path !== undefined) return path;
  const latest = latestCheckpoint(CHECKPOINT_DIR);
  if (latest === null) throw new CheckpointError(`no checkpoint found under ${CHECKPOINT_DIR}/: pass --checkpoint FILE`);
  return latest;
}

/** A checkpoint with its weights decoded and its vocabulary rebuilt; every problem is a one-line CheckpointError. */
export function loadModel(path: string): LoadedModel {
  const checkpoint = loadCheckpoint(path);
  const { config, params } = modelFromCheckpoint(checkpoint, path);
  let vocab: Vocabulary;
  try {
    vocab = Vocabulary.fromTokens(checkpoint.vocab);
  } catch (error) {
    throw new CheckpointError(`${path}: ${shortMessage(error)}`);
  }
  return { path, checkpoint, config, params, vocab };
}

/**
 * The checkpoint's validation split, rebuilt from its corpus files with its vocabulary. Refuses
 * (CorpusError) when the checkpoint records no corpus (an imported model), when the split is
 * empty, or when the files no longer match what it was trained on.
 */
export function validationSplit(model: LoadedModel): Int32Array {
  const { path, checkpoint } = model;
  const info = checkpoint.corpus;
  if (info === null) {
    throw new CorpusError(`${path} records no training corpus (an imported model?): name files to score, or use --text`);
  }
  if (info.valTokens === 0) {
    throw new CorpusError(`${path} was trained without a validation split (--val-frac 0): name files to score, or use --text`);
  }
  const rebuild = `cannot rebuild the validation split of ${path}`;
  const files = info.files.map((f) => f.path);
  let read;
  try {
    read = readCheckpointCorpus(checkpoint, files);
  } catch (error) {
    if (error instanceof CorpusError) throw new CorpusError(`${rebuild}: ${error.message}`);
    throw error;
  }
  if (read.changed) {
    throw new CorpusError(`${rebuild}: its corpus (${files.join(', ')}) changed since training; name files to score, or use --text`);
  }
  return read.data.val;
}
