import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { zodErrorMessage } from '../input/issues.js';
import { CheckpointError, checkFormat } from './errors.js';
import { parseJsonBytes, readFileBytes, writeFileAtomic } from './files.js';
import { importFirst, refuseStaleImport } from './imports.js';
import { INTEROP_FORMAT, checkClaimedModel } from './interop.js';
import { checkMeaning, checksummedFile } from './integrity.js';
import { namingCheckpointBeside } from './run-folder.js';
import { startsLikeSafetensors } from './safetensors.js';
import { type Checkpoint, type InitFrom, CHECKPOINT_FORMAT, CheckpointSchema, trainedStep } from './schema.js';
import { recordedLevel } from './settings.js';
import { checkSentenceRule, checkVocab, checkWordRule } from './vocab.js';

/**
 * The checks a schema cannot express: vocabulary and tensors agree with the model config, a
 * word-level vocabulary was made under the tokenizer rules this code has, sentence documents
 * were cut under sentence rules it has, and every field means what it says.
 */
function checkConsistency(ckpt: Checkpoint, source: string, written: object, bytes: Uint8Array | undefined): void {
  const model = ckpt.config.model;
  const level = recordedLevel(ckpt.config.training);
  if (level === 'word') checkWordRule(ckpt.config.training.wordRule, source, 'config.training.wordRule');
  if (ckpt.corpus !== null) checkSentenceRule(ckpt.corpus.sentenceRule, source, 'corpus.sentenceRule');
  const importedRule = ckpt.config.training.sentenceRule;
  if (importedRule !== undefined) checkSentenceRule(importedRule, source, 'config.training.sentenceRule');
  checkVocab(ckpt.vocab, model.vocabSize, level, source, 'vocab', 'config.model.vocabSize');
  checkClaimedModel(model, Object.keys(ckpt.weights.tensors), source, 'config.model.numLayers', (name) => `weights.tensors[${JSON.stringify(name)}]`, undefined);
  for (const moment of ['m', 'v'] as const) {
    if (!ckpt.optimizer[moment] && ckpt.optimizer.kind === 'adam') {
      throw new CheckpointError(`${source}: optimizer.${moment} is null, but an adam optimizer needs its moments`);
    }
  }
  // the tensors' names, shapes and sizes checked as checkMeaning decodes them
  checkMeaning(ckpt, source, written, bytes);
}

/** Validates a parsed JSON value as a checkpoint, parsed from `bytes` where a file was read; messages name `source` and the field. */
export function parseCheckpoint(json: unknown, source: string, bytes?: Uint8Array): Checkpoint {
  checkFormat(json, source, CHECKPOINT_FORMAT, (format) =>
    format === INTEROP_FORMAT ? `; it is an interop model: ${importFirst(source)}` : '');
  const parsed = CheckpointSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  checkConsistency(parsed.data, source, json as object, bytes);
  return parsed.data;
}

/** The checkpoint at `path`, checked; a safetensors file (the weights alone) is refused, saying how to make it one. */
export function loadCheckpoint(path: string): Checkpoint {
  return checkpointOf(readCheckpointBytes(path), path);
}

/** A checkpoint a run resumes, and where that run started when it is an imported model. */
export interface ResumedCheckpoint {
  checkpoint: Checkpoint;
  /**
   * For an imported model (`trainedStep` null), trained elsewhere: the file itself, recorded as
   * --init-from records a base (its path, the SHA-256 of its bytes, no step); null for a
   * checkpoint rnn trained, whose own `initFrom`, if any, goes on.
   */
  importedFrom: InitFrom | null;
}

/** `loadCheckpoint` for a run that resumes it: the file read once, hashed only where the run records its bytes. */
export function loadResumedCheckpoint(path: string): ResumedCheckpoint {
  const bytes = readCheckpointBytes(path);
  const checkpoint = checkpointOf(bytes, path);
  const importedFrom = trainedStep(checkpoint) !== null ? null
    : { path: resolve(path), sha256: createHash('sha256').update(bytes).digest('hex'), step: null };
  return { checkpoint, importedFrom };
}

/**
 * The bytes of the checkpoint file at `path`; a safetensors file (the weights alone) is refused, saying how to make it
 * one, and a stale import (refuseStaleImport) saying how to make it again.
 */
export function readCheckpointBytes(path: string): Uint8Array {
  const bytes = readFileBytes(path, 'checkpoint');
  if (startsLikeSafetensors(bytes)) {
    throw new CheckpointError(`${path} is a safetensors file, not a checkpoint: ${importFirst(path)}`);
  }
  refuseStaleImport(path, () => checkpointOf(bytes, path));
  return bytes;
}

/** The checkpoint in a file's bytes (readCheckpointBytes), checked; `path` names the file in its errors (namingCheckpointBeside). */
export function checkpointOf(bytes: Uint8Array, path: string): Checkpoint {
  return namingCheckpointBeside(path, () => parsedCheckpoint(bytes, path));
}

/** `checkpointOf` whose errors name the file at `path` alone. */
export function parsedCheckpoint(bytes: Uint8Array, path: string): Checkpoint {
  return parseCheckpoint(parseJsonBytes(bytes, path), path, bytes);
}

/**
 * Writes the checkpoint atomically: a temp file beside `path`, flushed to disk, then renamed over
 * it, so a crash leaves either the previous file or the new one.
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeCheckpointBytes(path, checkpointBytes(checkpoint, path));
}

/**
 * The bytes of the checkpoint's file, checked as loading checks it (`path` names the file in its
 * errors) and with its checksum: keys in schema order, `format` first. Building them costs more
 * than writing them, so one build serves every file a save writes.
 */
export function checkpointBytes(checkpoint: Checkpoint, path: string): Uint8Array {
  const { sha256: _, ...content } = parseCheckpoint(checkpoint, path);
  return checksummedFile(JSON.stringify(content));
}

/** Writes a checkpoint's bytes (`checkpointBytes`) to `path` as `saveCheckpoint` writes a checkpoint. */
export function writeCheckpointBytes(path: string, bytes: Uint8Array): void {
  writeFileAtomic(path, bytes, 'checkpoint ');
}
