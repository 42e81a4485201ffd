import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { OPTIMIZER_KINDS } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { zodErrorMessage } from '../input/issues.js';
import { VAL_FRAC } from '../text/corpus.js';
import { DOCS_MODES, type DocsMode, type DocumentRule } from '../text/documents.js';
import { recordedSentenceRule, SENTENCE_RULE_VERSION } from '../text/sentences.js';
import { NO_SPACING } from '../text/spacing.js';
import { Vocabulary } from '../text/vocab.js';
import { CheckpointError, checkFormat, isJsonObject } from './errors.js';
import { corpusFiles, count, ruleVersion, sha256 } from './fields.js';
import { formatWrittenFirst, isFile, parseJsonBytes, readFileBytes, writeFileAtomic } from './files.js';
import { INTEROP_FORMAT, type ModelState, checkClaimedModel } from './interop.js';
import { checkMeaning, contentChecksum } from './integrity.js';
import { ModelConfigSchema } from './model-config.js';
import { NAME_IT_SAFETENSORS, SAFETENSORS_EXTENSION, isMisnamedSafetensors, startsLikeSafetensors } from './safetensors.js';
import { TrainingConfigSchema, recordedLevel, recordedWordRule } from './settings.js';
import { EncodedTensorsSchema, carriedStateLayout, checkTensors, decodeTensors } from './tensors.js';
import { checkSentenceRule, checkVocab, checkWordRule } from './vocab.js';

export { carriedStateLayout } from './tensors.js';
export { recordedLevel } from './settings.js';

export const CHECKPOINT_FORMAT = 'rnn-checkpoint/1';

const uint32 = z.int().min(0).max(0xffffffff);

const DocsModeSchema = z.enum(DOCS_MODES);
const OptimizerKindSchema = z.enum(OPTIMIZER_KINDS);

const OptimizerStateSchema = z.object({
  kind: OptimizerKindSchema,
  step: count,
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  eps: z.number().nonnegative(),
  m: EncodedTensorsSchema.nullable(),
  v: EncodedTensorsSchema.nullable(),
});

/**
 * An object schema that also reads fields under the names checkpoints written before them used
 * (`{ tokensSeen: 'charsSeen' }`), each in its place.
 */
function readingOldNames<T extends z.ZodObject>(schema: T, oldNames: Readonly<Record<string, string>>) {
  return z.preprocess((value) => {
    if (!isJsonObject(value)) return value;
    const renamed = Object.fromEntries(Object.entries(oldNames).map(([name, old]) => [old, name]));
    const nameOf = (key: string): string => (key in renamed && !(renamed[key]! in value) ? renamed[key]! : key);
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [nameOf(key), v]));
  }, schema);
}

/** A checkpoint from before the word level names `tokensSeen` `charsSeen`. */
const OLD_NAMES = { tokensSeen: 'charsSeen' };

const TrainingStateSchema = readingOldNames(z.object({
  step: count,
  epoch: count,
  cursor: count,
  lr: z.number().nonnegative(),
  rng: z.tuple([uint32, uint32, uint32, uint32]),
  bestValLoss: z.number().nonnegative().nullable(),
  tokensSeen: count,
  elapsedSeconds: z.number().nonnegative(),
  /**
   * The recurrent state the next training window starts from (truncated BPTT carries it from
   * step to step): tensors `h` and, for an LSTM, `c`, each [L, B, H]. Exact resume needs it.
   */
  carried: EncodedTensorsSchema.nullable().optional(),
  /** The exponential moving average of the step losses that progress reports. */
  smoothedLoss: z.number().nonnegative().nullable().optional(),
  /** The run stopped because its --time was spent: resumed with the same limits, it has nothing left to do. */
  timeSpent: z.boolean().optional(),
}), OLD_NAMES);

/** Weight of the newest step in the smoothed training loss. */
export const SMOOTHING = 0.05;

/** The smoothed training loss once a step of `loss` is taken: an exponential moving average of the step losses, the first its own. */
export function smoothedLoss(smoothed: number | null, loss: number): number {
  return smoothed === null ? loss : (1 - SMOOTHING) * smoothed + SMOOTHING * loss;
}

/** One evaluation of a run, in the order the run made them. */
const HistoryEntrySchema = readingOldNames(z.object({
  /** The steps trained when it was made. */
  step: count,
  /** The whole epochs done then. */
  epoch: count,
  /** The tokens trained on by then. */
  tokensSeen: count,
  /** The training loss then, nats a token: the moving average of the step losses that progress reports. */
  trainLoss: z.number().nonnegative(),
  /** The validation split's mean loss, nats a token; null where the run holds out no split. */
  valLoss: z.number().nonnegative().nullable(),
  /** The learning rate of that step. */
  lr: z.number().nonnegative(),
  /** The seconds trained by then, over every resume of the run. */
  seconds: z.number().nonnegative(),
}), OLD_NAMES);

const CorpusInfoSchema = z.object({
  files: corpusFiles,
  docs: DocsModeSchema,
  /** With docs 'sentence': the version of the sentence rules that cut the documents; absent, version 1 (`recordedSentenceRule`). */
  sentenceRule: ruleVersion.optional(),
  valFrac: VAL_FRAC.schema,
  totalTokens: count,
  trainTokens: count,
  valTokens: count,
  sha256,
  /** The prepared folder the run read its ids from (DataFingerprint.prepared). */
  prepared: z.string().optional(),
});

/** Where a fine-tuned run started: the model file it was initialised from (`rnn train --init-from`). */
const InitFromSchema = z.object({
  /** The file read, absolute. */
  path: z.string(),
  /** SHA-256 of its bytes. */
  sha256,
  /** Its training step (`trainedStep`); null for a model that records none: an exported one, or one imported into a checkpoint. */
  step: count.nullable(),
  /**
   * The tokens `--extend-vocab` added to its vocabulary, most frequent first (`rnn train --json`'s `vocabAdded`); absent
   * where it added none. Added characters take their places in code-point order, so the vocabulary alone cannot tell them.
   */
  added: z.array(z.string()).optional(),
});

const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  createdAt: z.iso.datetime({ offset: true }),
  command: z.array(z.string()),
  config: z.object({ model: ModelConfigSchema, training: TrainingConfigSchema }),
  vocab: z.array(z.string()),
  weights: EncodedTensorsSchema,
  optimizer: OptimizerStateSchema,
  training: TrainingStateSchema,
  history: z.array(HistoryEntrySchema),
  corpus: CorpusInfoSchema.nullable(),
  /** Absent unless the run was started from another model's weights. */
  initFrom: InitFromSchema.optional(),
  /** SHA-256 of everything else (integrity.ts), checked where present: a checkpoint from before the field has none. */
  sha256: sha256.optional(),
});

export type Checkpoint = z.infer<typeof CheckpointSchema>;
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export type InitFrom = z.infer<typeof InitFromSchema>;

/**
 * The checks a schema cannot express: vocabulary and tensors agree with the model config, a
 * word-level vocabulary was made under the tokenizer rules this code has, sentence documents
 * were cut under sentence rules it has, and every field means what it says.
 */
function checkConsistency(ckpt: Checkpoint, source: string, written: object): void {
  const model = ckpt.config.model;
  const level = recordedLevel(ckpt.config.training);
  if (level === 'word') checkWordRule(ckpt.config.training.wordRule, source, 'config.training.wordRule');
  if (ckpt.corpus !== null) checkSentenceRule(ckpt.corpus.sentenceRule, source, 'corpus.sentenceRule');
  const importedRule = ckpt.config.training.sentenceRule;
  if (importedRule !== undefined) checkSentenceRule(importedRule, source, 'config.training.sentenceRule');
  checkVocab(ckpt.vocab, model.vocabSize, level, source, 'vocab', 'config.model.vocabSize');
  checkClaimedModel(model, Object.keys(ckpt.weights.tensors), source, 'config.model.numLayers', (name) => `weights.tensors[${JSON.stringify(name)}]`, undefined);
  const layout = paramLayout(model);
  checkTensors(layout, ckpt.weights, source, 'weights');
  for (const moment of ['m', 'v'] as const) {
    const encoded = ckpt.optimizer[moment];
    if (encoded) checkTensors(layout, encoded, source, `optimizer.${moment}`);
    else if (ckpt.optimizer.kind === 'adam') {
      throw new CheckpointError(`${source}: optimizer.${moment} is null, but an adam optimizer needs its moments`);
    }
  }
  const carried = ckpt.training.carried;
  if (carried) checkTensors(carriedStateLayout(model, ckpt.config.training.batchSize), carried, source, 'training.carried');
  checkMeaning(ckpt, source, written);
}

/**
 * The step a checkpoint's training reached, or null for an imported model (`rnn import`: no
 * corpus recorded), trained elsewhere for steps no rnn-state/1 or .safetensors file records: its
 * step 0 only means that rnn has not trained it yet.
 */
export function trainedStep(ckpt: Checkpoint): number | null {
  return ckpt.corpus === null ? null : ckpt.training.step;
}

/** How `importCommand` names the checkpoint it makes of a model file: the file's name, with this for its extension. */
const IMPORTED_EXTENSION = '.checkpoint.json';

/**
 * The checkpoint `importCommand` makes of the model file at `path`: beside it, named as the file
 * with `.checkpoint.json` for its extension.
 */
function importedCheckpointPath(path: string): string {
  const name = basename(path);
  const stem = name.includes('.', 1) ? name.slice(0, name.lastIndexOf('.')) : name;
  return join(dirname(path), `${stem}${IMPORTED_EXTENSION}`);
}

/**
 * The model files beside the checkpoint at `path` that `importCommand` would import into it: a `.safetensors` file and
 * rnn-state/1 JSON (`model.safetensors` and `model.json` for `model.checkpoint.json`), those that are there.
 */
function importedModelFiles(path: string): string[] {
  const name = basename(path);
  if (name.length <= IMPORTED_EXTENSION.length || !name.endsWith(IMPORTED_EXTENSION)) return [];
  const stem = join(dirname(path), name.slice(0, -IMPORTED_EXTENSION.length));
  const safetensors = `${stem}${SAFETENSORS_EXTENSION}`, json = `${stem}.json`;
  return [
    ...(isFile(safetensors) ? [safetensors] : []),
    ...(formatWrittenFirst(json) === INTEROP_FORMAT ? [json] : []),
  ];
}

/**
 * The command that imports the model file at `path` into a checkpoint beside it
 * (importedCheckpointPath): never the file itself, whatever it is named.
 */
function importCommand(path: string): string {
  return `rnn import ${path} --out ${importedCheckpointPath(path)}`;
}

/** Whether the file at `path` begins as a checkpoint does (`format` is written first); false for none, or one unreadable. */
export function startsLikeCheckpoint(path: string): boolean {
  return formatWrittenFirst(path) === CHECKPOINT_FORMAT;
}

/**
 * Whether the checkpoint imported from the model file `model` (importedCheckpointPath) is older than it: an import of
 * the model a run wrote there before, which `reimport` replaces.
 */
function isStaleImport(checkpoint: string, model: string): boolean {
  return modifiedMs(checkpoint) < modifiedMs(model);
}

/** What to do with a stale import (isStaleImport) of the model file `model`: import it again, replacing the checkpoint. */
function reimport(model: string): string {
  return `convert it again with \`${importCommand(model)} --force\``;
}

/**
 * What to do with the model file at `path` for a command that reads checkpoints, and then with the checkpoint (`then`;
 * none: name it): convert it with `importCommand`, or, where that checkpoint is there already, only name it; where it is
 * stale (isStaleImport), convert it again, replacing it.
 */
export function importFirst(path: string, then?: (checkpoint: string) => string): string {
  if (isMisnamedSafetensors(path)) {
    const named = `FILE${SAFETENSORS_EXTENSION}`;
    return `${NAME_IT_SAFETENSORS}, then convert it with \`${importCommand(named)}\`${then === undefined ? '' : `, then ${then(importedCheckpointPath(named))}`}`;
  }
  const checkpoint = importedCheckpointPath(path);
  const after = then === undefined ? ' first' : `, then ${then(checkpoint)}`;
  if (!startsLikeCheckpoint(checkpoint)) return `convert it with \`${importCommand(path)}\`${after}`;
  if (!isStaleImport(checkpoint, path)) return `its checkpoint is there already: ${then?.(checkpoint) ?? `name ${checkpoint}`}`;
  return `its checkpoint ${checkpoint} is older than it (an import of an earlier model): ${reimport(path)}${after}`;
}

/**
 * Refuses the checkpoint at `path` where it is an import (`trainedStep` null) of the model file beside it that is stale
 * (isStaleImport), saying to import that file again. `checkpoint`: the file's, parsed only where there is such a model file
 * newer than it.
 */
export function refuseStaleImport(path: string, checkpoint: () => Checkpoint): void {
  const model = importedModelFiles(path).find((file) => isStaleImport(path, file));
  if (model === undefined || trainedStep(checkpoint()) !== null) return;
  throw new CheckpointError(`${path} is an imported checkpoint older than the model file beside it, ${model} ` +
    `(an import of an earlier model): ${reimport(model)}`);
}

/** When the file at `path` was last written (0 where it cannot be read). */
function modifiedMs(path: string): number {
  return statSync(path, { throwIfNoEntry: false })?.mtimeMs ?? 0;
}

/** Validates a parsed JSON value as a checkpoint; messages name `source` and the field. */
export function parseCheckpoint(json: unknown, source: string): Checkpoint {
  checkFormat(json, source, CHECKPOINT_FORMAT, (format) =>
    format === INTEROP_FORMAT ? `; it is an interop model: ${importFirst(source)}` : '');
  const parsed = CheckpointSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  checkConsistency(parsed.data, source, json as object);
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

/** The checkpoints a run folder holds (train/output.ts): its last state, and its best validation loss. */
export const RUN_FOLDER_FILES = { latest: 'latest.json', best: 'best.json' } as const;

/** How the best checkpoint of a run whose output names a file ends, in place of its `.json`: `run.json` → `run.best.json`. */
export const BEST_FILE_END = '.best.json';

/** The checkpoint in a file's bytes (readCheckpointBytes), checked; `path` names the file in its errors (namingCheckpointBeside). */
export function checkpointOf(bytes: Uint8Array, path: string): Checkpoint {
  return namingCheckpointBeside(path, () => parseCheckpoint(parseJsonBytes(bytes, path), path));
}

/** What each checkpoint of a run folder is, as an error naming it beside the other (namingCheckpointBeside) says. */
const RUN_FOLDER_ROLES = { latest: "the run's last checkpoint", best: "the run's best checkpoint" } as const;

/**
 * `read()` of the file at `path`; where that is a run folder's best.json or latest.json, a CheckpointError it throws
 * names the folder's other one too (where that begins as a checkpoint), which what damaged the one may have spared.
 */
export function namingCheckpointBeside<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    const beside = checkpointBeside(path);
    if (beside === '') throw error;
    throw new CheckpointError(`${error.message}${beside}`);
  }
}

/**
 * Where `path` is a run folder's best.json or latest.json and the folder's other one begins as a checkpoint, the words
 * a refusal of `path` ends with to name that one (`; DIR/latest.json beside it is the run's last checkpoint`); else ''.
 */
export function checkpointBeside(path: string): string {
  const name = basename(path);
  const other = name === RUN_FOLDER_FILES.best ? 'latest' : name === RUN_FOLDER_FILES.latest ? 'best' : null;
  if (other === null) return '';
  const beside = join(dirname(path), RUN_FOLDER_FILES[other]);
  return startsLikeCheckpoint(beside) ? `; ${beside} beside it is ${RUN_FOLDER_ROLES[other]}` : '';
}

/**
 * Writes the checkpoint atomically: a temp file beside `path`, flushed to disk, then renamed over
 * it, so a crash leaves either the previous file or the new one.
 */
export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  writeCheckpointText(path, checkpointText(checkpoint, path));
}

/**
 * The text of the checkpoint's file, checked as loading checks it (`path` names the file in its
 * errors) and with its checksum: keys in schema order, `format` first. Building it costs more
 * than writing it, so one text serves every file a save writes.
 */
export function checkpointText(checkpoint: Checkpoint, path: string): string {
  const { sha256: _, ...content } = parseCheckpoint(checkpoint, path);
  return `${JSON.stringify({ ...content, sha256: contentChecksum(content) })}\n`;
}

/** Writes a checkpoint's text (`checkpointText`) to `path` as `saveCheckpoint` writes a checkpoint. */
export function writeCheckpointText(path: string, text: string): void {
  writeFileAtomic(path, text, 'checkpoint ');
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
