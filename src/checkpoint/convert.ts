import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ADAM_DEFAULTS, type OptimizerKind } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { describeValue } from '../input/issues.js';
import { SettingError } from '../input/settings.js';
import { decodeUtf8 } from '../text/utf8.js';
import { parseCheckpoint, saveCheckpoint } from './checkpoint.js';
import { refuseStaleImport } from './imports.js';
import { namingCheckpointBeside } from './run-folder.js';
import { type Checkpoint, CHECKPOINT_FORMAT, startsLikeCheckpoint } from './schema.js';
import { ddpModelRunFile } from './corpus.js';
import { CheckpointError, isJsonObject, shortMessage } from './errors.js';
import { modelFileInFolder } from './find.js';
import {
  NotJsonError, formatWrittenFirst, isFolder, parseJsonBytes, readFileBytes, readFilePart, readJsonFile, samePath, writeFileAtomic,
  writeTarget,
} from './files.js';
import { INTEROP_FORMAT, type ModelState, checkModelValues, fromInteropState, nonFiniteWeight, toInteropState, wrappedState } from './interop.js';
import { type LoadedModel, loadModel, modelFromCheckpoint } from './load.js';
import { PREPARED_FORMAT } from './prepared.js';
import {
  METADATA, NAME_IT_SAFETENSORS, SAFETENSORS_EXTENSION, fromSafetensors, isMisnamedSafetensors, isSafetensorsPath,
  safetensorsFormatAt, startsLikeZip, toSafetensors, torchFile, ZIP_NOT_JSON,
} from './safetensors.js';
import { defaultSettings, trainingConfig } from './settings.js';
import { encodeTensors } from './tensors.js';

/** What `rnn export` writes: rnn-state/1 JSON (`torch`), or a `.safetensors` file of the weights. */
export const EXPORT_FORMATS = ['torch', 'safetensors'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * The format an export to `outPath` takes: the one asked for, or else the one its extension names
 * (`rnn import` reads a file by its extension, so a `.safetensors` file holds safetensors and
 * nothing else does); a format that contradicts the extension is refused.
 */
function exportFormatFor(outPath: string, asked: ExportFormat | undefined): ExportFormat {
  const byName: ExportFormat = isSafetensorsPath(outPath) ? 'safetensors' : 'torch';
  if (asked === undefined || asked === byName) return byName;
  throw new SettingError('format', asked, (name) => asked === 'safetensors'
    ? `${name('format')} safetensors writes a ${SAFETENSORS_EXTENSION} file, and ${name('out')} ${outPath} is not one ` +
      `(rnn import reads a file by its extension): name it *${SAFETENSORS_EXTENSION}`
    : `${name('format')} torch writes rnn-state/1 JSON, and ${name('out')} ${outPath} names a ${SAFETENSORS_EXTENSION} file ` +
      `(rnn import reads a file by its extension): name it *.json, or leave out ${name('format')}`);
}

/**
 * Whether the checkpoint at `path` records training, as `rnn import`'s output (`importedCheckpoint`:
 * step 0, no history, no corpus) does not; one that cannot be read as JSON counts as a run's.
 */
function recordsTraining(path: string): boolean {
  let json: unknown;
  try {
    json = readJsonFile(path, 'checkpoint');
  } catch {
    return true;
  }
  if (!isJsonObject(json)) return true;
  const { training, history, corpus } = json;
  return !(corpus === null && isJsonObject(training) && training['step'] === 0 && Array.isArray(history) && history.length === 0);
}

/** Refuses an `--out` that is a folder, naming `what` to write there, as `example` would be named in it. */
function refuseFolderOut(outPath: string, what: string, example: string): void {
  if (isFolder(outPath)) {
    throw new SettingError('out', outPath, (name) => `${name('out')} ${outPath} is a folder: name ${what} to write, e.g. ${join(outPath, example)}`);
  }
}

/**
 * Refuses an `--out` where `writing` (an export, an import) would replace a run's checkpoint, and the
 * training state `--resume` needs with it. An export writes no checkpoint, so it replaces none; an import may
 * replace an earlier import's output, which holds a model and a fresh optimizer alone, but not one that records training.
 */
function refuseReplacingRun(outPath: string, writing: 'export' | 'import'): void {
  if (!startsLikeCheckpoint(outPath) || (writing === 'import' && !recordsTraining(outPath))) return;
  const what = writing === 'export' ? 'a checkpoint' : 'a training run\'s checkpoint';
  throw new SettingError('out', outPath, (name) =>
    `${name('out')} ${outPath} is ${what}: an ${writing} would replace it, and its training state with it; choose another file for the ${writing}`);
}

/** What an export or an import may replace, besides an empty file: what one of them wrote. */
const REPLACEABLE = {
  export: `an export (${INTEROP_FORMAT} JSON or a ${SAFETENSORS_EXTENSION} file)`,
  import: `an earlier import or export (a checkpoint rnn import wrote, or ${INTEROP_FORMAT} JSON)`,
} as const;

/**
 * Refuses an `--out` that holds something `writing` would lose: it replaces what `REPLACEABLE` names for it
 * (rnn-state/1 JSON, `format` first as rnn writes it; for an export a .safetensors file whose metadata names
 * rnn-state/1; for an import a checkpoint that refuseReplacingRun let through, which records no training)
 * or an empty file alone, never a text, a prepared folder's meta.json, the model train_ddp.py trained or another file.
 */
function refuseReplacingOther(outPath: string, writing: 'export' | 'import'): void {
  const runFile = writing === 'export' ? ddpModelRunFile(writeTarget(outPath)) : null;
  if (runFile !== null) {
    throw new SettingError('out', outPath, (name) =>
      `${name('out')} ${outPath} is the model examples/pytorch/train_ddp.py trained (its ${basename(runFile)} beside it), not an earlier export, ` +
        'so an export would lose it: choose another file for the export');
  }
  const empty = (readFilePart(outPath, 1)?.length ?? 0) === 0; // or none at all
  const format = formatWrittenFirst(outPath);
  const earlier = format === INTEROP_FORMAT ||
    (writing === 'export' ? safetensorsFormatAt(outPath) === INTEROP_FORMAT : format === CHECKPOINT_FORMAT);
  if (empty || earlier) return;
  throw new SettingError('out', outPath, (name) =>
    `${name('out')} ${outPath} exists and is not ${REPLACEABLE[writing]}, so an ${writing} would lose it: ` +
      `choose another file for the ${writing}, or remove it first`);
}

/**
 * Writes a checkpoint's model as `rnn-state/1` JSON or safetensors to `outPath` (atomically; an
 * existing file is replaced only where it is an earlier export, or empty), in the format `exportFormatFor` gives.
 */
export function exportState(checkpointPath: string, outPath: string, asked?: ExportFormat): LoadedModel {
  const format = exportFormatFor(outPath, asked);
  if (samePath(checkpointPath, outPath)) {
    throw new SettingError('out', outPath, (name) => `${name('out')} ${outPath} is the checkpoint itself: choose another file for the export`);
  }
  refuseFolderOut(outPath, 'the file', 'model.json');
  refuseReplacingRun(outPath, 'export');
  refuseReplacingOther(outPath, 'export');
  const model = loadModel(checkpointPath);
  if (format === 'safetensors') {
    const { level, wordRule, documents, spacing } = model.vocab;
    const state = { config: model.config, vocab: model.checkpoint.vocab, level, wordRule, documents, spacing, params: model.params };
    writeFileAtomic(outPath, toSafetensors(state));
    return model;
  }
  let text: string;
  try {
    const { level, wordRule, documents, spacing } = model.vocab;
    text = `${JSON.stringify(toInteropState(model.config, model.checkpoint.vocab, model.params, level, wordRule, documents, spacing))}\n`;
  } catch (error) {
    throw new CheckpointError(`cannot export ${checkpointPath}: ${shortMessage(error)}`);
  }
  writeFileAtomic(outPath, text);
  return model;
}

/** What a message calls the file `rnn import` or `--init-from` reads, as docs/interop.md does. */
const MODEL_FILE = 'model file';
/** What `rnn import` reads, as a message lists it. */
const INTEROP_FILES = `an ${INTEROP_FORMAT} file or a ${SAFETENSORS_EXTENSION} file`;
/** What `readModelFile` reads (`--init-from`), as a message lists it. */
const MODEL_FILES = `a checkpoint (${CHECKPOINT_FORMAT}), ${INTEROP_FILES}`;
/** What a JSON file of another format that rnn writes is, for the message that refuses it. */
const OTHER_FILES = new Map<unknown, string>([[CHECKPOINT_FORMAT, 'a checkpoint already'], [PREPARED_FORMAT, "a prepared folder's meta.json"]]);

/**
 * Reads a `.safetensors` file (by its name), an `rnn-state/1` file, or a fixture that wraps one in its `state` field (as
 * test/fixtures/eval/*.json do, beside the cases they score). A folder is refused naming the model file it holds (train_ddp.py's
 * `--out`, its model.safetensors), or else what to name.
 */
function readInteropFile(path: string): ModelState {
  if (isFolder(path)) {
    const held = modelFileInFolder(path);
    throw new CheckpointError(`${path} is a folder, not a ${MODEL_FILE}: name ${held ?? INTEROP_FILES}`);
  }
  const bytes = interopFileBytes(path);
  if (isSafetensorsPath(path)) return safetensorsModel(bytes, path);
  refuseOtherFormats(bytes, path, INTEROP_FILES);
  return interopJsonModel(parseModelJson(bytes, path, INTEROP_FILES), path, INTEROP_FILES);
}

/**
 * The bytes of the file `rnn import` reads; one it cannot read is refused saying what it reads, as a path that names
 * nothing is where notFoundLine knows no likelier cause (a ~ no shell expanded, a name in another Unicode form).
 */
function interopFileBytes(path: string): Buffer {
  const reads = `name ${INTEROP_FILES}`;
  try {
    return readFileBytes(path, MODEL_FILE, reads);
  } catch (error) {
    if (error instanceof CheckpointError && existsSync(path)) throw new CheckpointError(`${error.message}; ${reads}`);
    throw error;
  }
}

/**
 * The JSON of a model file's bytes; bytes that are not JSON (a text, a file cut short) are refused naming what is read, `expected`,
 * and rnn-state/1 text with a weight as Python writes one that is not finite, naming that weight.
 */
function parseModelJson(bytes: Uint8Array, path: string, expected: string): unknown {
  try {
    return parseJsonBytes(bytes, path);
  } catch (error) {
    const fault = error instanceof NotJsonError ? nonFiniteWeight(decodeUtf8(path, bytes)) : null;
    if (fault !== null) throw new CheckpointError(`${path}: ${fault}`);
    throw error instanceof CheckpointError ? new CheckpointError(`${error.message}; expected ${expected}`) : error;
  }
}

/**
 * Refuses the `bytes` of a model file not named .safetensors that are no JSON rnn could read, saying what they are and what
 * to do: safetensors (to be named so) or what PyTorch wrote (torch.save, torch.jit.save; to be saved as rnn reads weights);
 * another zip archive is refused as no JSON, saying what is read, `expected`.
 */
function refuseOtherFormats(bytes: Buffer, path: string, expected: string): void {
  if (isMisnamedSafetensors(path, bytes)) throw new CheckpointError(`${path} is a safetensors file, read as one only where named so: ${NAME_IT_SAFETENSORS}`);
  const torch = torchFile(bytes);
  if (torch !== null) throw new CheckpointError(`${path} is ${torch}`);
  if (startsLikeZip(bytes)) throw new CheckpointError(`${path}: ${ZIP_NOT_JSON}; expected ${expected}`);
}

/** The checkpoint `importedCheckpoint` makes, which an imported model must fit. */
function importShape(): { optimizer: OptimizerKind; batch: number } {
  const { optimizer, batch } = defaultSettings();
  return { optimizer, batch };
}

function safetensorsModel(bytes: Buffer, path: string): ModelState {
  const model = fromSafetensors(bytes, path, importShape());
  checkModelValues(model, path, `${METADATA}.vocab`, (name, i) => `${JSON.stringify(name)}[${i}]`);
  return model;
}

/**
 * The model of `rnn-state/1` JSON, or of a fixture wrapping it (its `state`, an object with a
 * format of its own, checked as a file's); JSON of another format is refused, naming the file,
 * its format and the files `expected`.
 */
function interopJsonModel(json: unknown, path: string, expected: string): ModelState {
  const wrapped = wrappedState(json);
  if (wrapped === null && !(isJsonObject(json) && json['format'] === INTEROP_FORMAT)) {
    const format = isJsonObject(json) ? json['format'] : undefined;
    const other = OTHER_FILES.get(format);
    const holds = isJsonObject(json) ? `format is ${describeValue(format)}${other === undefined ? '' : ` (${other})`}` : `is ${describeValue(json)}`;
    throw new CheckpointError(`${path}: ${holds}, expected ${expected}`);
  }
  const source = wrapped === null ? path : `${path}: state`;
  const model = fromInteropState(wrapped ?? json, source, importShape());
  checkModelValues(model, source, 'vocab', (name, i) => `tensors[${JSON.stringify(name)}].data[${i}]`);
  return model;
}

/** A model file read whole, with the SHA-256 of its bytes (what a fine-tuned run records of where it started). */
export interface ModelFile {
  path: string;
  sha256: string;
  /** The checkpoint, when the file is one; an interop file holds the model alone. */
  checkpoint: Checkpoint | null;
  model: ModelState;
}

/**
 * A checkpoint, an `rnn-state/1` file or a `.safetensors` file (by its name), read once and checked as its loader checks it
 * (a checkpoint that is a stale import refused, as readCheckpointBytes refuses it).
 */
export function readModelFile(path: string): ModelFile {
  const safetensors = isSafetensorsPath(path);
  const bytes = readFileBytes(path, MODEL_FILE);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (safetensors) return { path, sha256, checkpoint: null, model: safetensorsModel(bytes, path) };
  refuseOtherFormats(bytes, path, MODEL_FILES);
  return namingCheckpointBeside(path, () => {
    const json = parseModelJson(bytes, path, MODEL_FILES);
    if (isJsonObject(json) && json['format'] === CHECKPOINT_FORMAT) {
      const checkpoint = parseCheckpoint(json, path, bytes);
      refuseStaleImport(path, () => checkpoint);
      return { path, sha256, checkpoint, model: modelFromCheckpoint(checkpoint, path) };
    }
    return { path, sha256, checkpoint: null, model: interopJsonModel(json, path, MODEL_FILES) };
  });
}

/**
 * A fresh checkpoint for an imported model: step 0, no history, no corpus, a fresh optimizer
 * (Adam with zero moments, by default) and the default training settings, but for the model's
 * level and document rule, by which it reads text (`recordedDocuments`).
 */
export function importedCheckpoint(state: ModelState, command: string[]): Checkpoint {
  const layout = paramLayout(state.config);
  const { docs, sentenceRule } = state.documents;
  // but for how it reads text, used only if training resumes from it: a fresh `rnn train` run's defaults
  const training = {
    ...trainingConfig({ ...defaultSettings(), level: state.level, docs }, state.wordRule, undefined, state.spacing),
    ...(docs === 'sentence' && { sentenceRule }),
  };
  const zeros = training.optimizer === 'adam' ? encodeTensors(layout, new Float32Array(layout.total)) : null;
  return {
    format: CHECKPOINT_FORMAT,
    createdAt: new Date().toISOString(),
    command,
    config: { model: { ...state.config }, training },
    vocab: [...state.vocab],
    weights: encodeTensors(layout, state.params),
    optimizer: { kind: training.optimizer, step: 0, ...ADAM_DEFAULTS, m: zeros, v: zeros },
    training: {
      step: 0, epoch: 0, cursor: 0, lr: training.lr, rng: new Rng(training.seed).state(), bestValLoss: null,
      tokensSeen: 0, elapsedSeconds: 0,
    },
    history: [],
    corpus: null,
  };
}

/**
 * `rnn import`: an `rnn-state/1` file → a new checkpoint at `outPath`, which may not be named as
 * a `.safetensors` file (read as one by its name); an existing file is replaced only with `overwrite`, and only
 * where it is an earlier import or export (or empty): a training run's checkpoint or another file never.
 */
export function importState(statePath: string, outPath: string, command: string[], overwrite: boolean): Checkpoint {
  if (isSafetensorsPath(outPath)) {
    throw new SettingError('out', outPath, (name) =>
      `${name('out')} ${outPath} names a ${SAFETENSORS_EXTENSION} file, and rnn import writes a checkpoint, JSON ` +
        `(a file named *${SAFETENSORS_EXTENSION} is read as safetensors): name it *.json`);
  }
  const state = readInteropFile(statePath);
  if (samePath(statePath, outPath)) {
    throw new SettingError('out', outPath, (name) => `${name('out')} ${outPath} is the input file: choose another file for the checkpoint`);
  }
  refuseFolderOut(outPath, 'the checkpoint file', 'model.json');
  refuseReplacingRun(outPath, 'import');
  refuseReplacingOther(outPath, 'import');
  if (!overwrite && existsSync(outPath)) {
    throw new SettingError('force', overwrite, (name) => `${outPath} already exists: pass ${name('force')} to replace it`);
  }
  const checkpoint = importedCheckpoint(state, command);
  saveCheckpoint(outPath, checkpoint);
  return checkpoint;
}
