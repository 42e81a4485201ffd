import type { ModelConfig } from '../engine/config.js';
import { paramLayout } from '../engine/params.js';
import type { DocsMode, DocumentRule } from '../text/documents.js';
import { recordedSentenceRule, SENTENCE_RULE_VERSION } from '../text/sentences.js';
import { NO_SPACING } from '../text/spacing.js';
import { Vocabulary } from '../text/vocab.js';
import { loadCheckpoint } from './checkpoint.js';
import type { ModelState } from './interop.js';
import type { Checkpoint, CheckpointRecord } from './schema.js';
import { recordedLevel, recordedWordRule } from './settings.js';
import { decodeTensors } from './tensors.js';

export interface LoadedModel {
  path: string;
  /** What the checkpoint says of itself (checkpointRecord); its weights are `params`, decoded. */
  checkpoint: CheckpointRecord;
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
}

/** A checkpoint with its weights decoded and its vocabulary rebuilt, its tensors' text let go; any problem a one-line CheckpointError. */
export function loadModel(path: string): LoadedModel {
  const checkpoint = loadCheckpoint(path);
  return loadedModel(path, checkpointRecord(checkpoint), modelFromCheckpoint(checkpoint, path).params);
}

/** The model of a checkpoint loaded already (`loadModel`): its record, and its weights decoded. */
export function loadedModel(path: string, checkpoint: CheckpointRecord, params: Float32Array): LoadedModel {
  return { path, checkpoint, config: checkpoint.config.model, params, vocab: checkpointVocabulary(checkpoint) };
}

/** A checkpoint without its tensors, whose text is the most of a file: a model whose weights are decoded keeps this. */
export function checkpointRecord(ckpt: Checkpoint): CheckpointRecord {
  const { weights: _weights, optimizer: _optimizer, training: { carried: _carried, ...training }, ...record } = ckpt;
  return { ...record, training };
}

/**
 * A checkpoint's vocabulary at its level (loading has checked it), cutting a text it reads into
 * documents as its corpus was (`recordedDocuments`).
 */
export function checkpointVocabulary(ckpt: CheckpointRecord): Vocabulary {
  const training = ckpt.config.training;
  return Vocabulary.fromTokens(ckpt.vocab, recordedLevel(training), recordedWordRule(training), recordedDocuments(ckpt), training.spacing);
}

/**
 * How a checkpoint's corpus was cut into documents: as its corpus record says, sentences by the
 * rules it names (none: version 1, `recordedSentenceRule`; loading checked that this code has
 * them); a checkpoint without one (imported), as its training settings say, sentences by the
 * rules its file named (`importedCheckpoint`), or else today's.
 */
export function recordedDocuments(ckpt: CheckpointRecord): DocumentRule {
  const { corpus, config: { training } } = ckpt;
  if (corpus === null) return { docs: training.docs, sentenceRule: recordedSentenceRule(training.sentenceRule ?? SENTENCE_RULE_VERSION)! };
  return corpusDocuments(corpus);
}

/** How a corpus record's documents were cut: by its mode, sentences by the rules it names (none: version 1). */
export function corpusDocuments(corpus: { docs: DocsMode; sentenceRule?: number }): DocumentRule {
  return { docs: corpus.docs, sentenceRule: recordedSentenceRule(corpus.sentenceRule)! };
}

/** The model a checkpoint holds, with its weights decoded into one flat buffer. */
export function modelFromCheckpoint(ckpt: Checkpoint, source: string): ModelState {
  const config = { ...ckpt.config.model };
  return {
    config,
    vocab: [...ckpt.vocab],
    level: recordedLevel(ckpt.config.training),
    wordRule: recordedWordRule(ckpt.config.training),
    documents: recordedDocuments(ckpt),
    spacing: ckpt.config.training.spacing ?? NO_SPACING,
    params: decodeTensors(paramLayout(config), ckpt.weights, source, 'weights'),
  };
}
