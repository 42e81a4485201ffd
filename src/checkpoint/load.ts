import type { ModelConfig } from '../engine/config.js';
import { paramLayout } from '../engine/params.js';
import type { DocsMode, DocumentRule } from '../text/documents.js';
import { recordedSentenceRule, SENTENCE_RULE_VERSION } from '../text/sentences.js';
import { NO_SPACING } from '../text/spacing.js';
import { Vocabulary } from '../text/vocab.js';
import { checkpointOf, readCheckpointBytes } from './checkpoint.js';
import type { ModelState } from './interop.js';
import type { Checkpoint } from './schema.js';
import { recordedLevel, recordedWordRule } from './settings.js';
import { decodeTensors } from './tensors.js';

export interface LoadedModel {
  path: string;
  checkpoint: Checkpoint;
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
}

/**
 * A checkpoint with its weights decoded and its vocabulary rebuilt; every problem is a one-line
 * CheckpointError. `bytes`: the file's, where they were read already (readCheckpointBytes).
 */
export function loadModel(path: string, bytes: Uint8Array = readCheckpointBytes(path)): LoadedModel {
  const checkpoint = checkpointOf(bytes, path);
  const { config, params } = modelFromCheckpoint(checkpoint, path);
  return { path, checkpoint, config, params, vocab: checkpointVocabulary(checkpoint) };
}

/**
 * A checkpoint's vocabulary at its level (loading has checked it), cutting a text it reads into
 * documents as its corpus was (`recordedDocuments`).
 */
export function checkpointVocabulary(ckpt: Checkpoint): Vocabulary {
  const training = ckpt.config.training;
  return Vocabulary.fromTokens(ckpt.vocab, recordedLevel(training), recordedWordRule(training), recordedDocuments(ckpt), training.spacing);
}

/**
 * How a checkpoint's corpus was cut into documents: as its corpus record says, sentences by the
 * rules it names (none: version 1, `recordedSentenceRule`; loading checked that this code has
 * them); a checkpoint without one (imported), as its training settings say, sentences by the
 * rules its file named (`importedCheckpoint`), or else today's.
 */
export function recordedDocuments(ckpt: Checkpoint): DocumentRule {
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
