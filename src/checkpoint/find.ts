import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError, SettingError, type SettingNamer } from '../input/settings.js';
import { CheckpointError, formatProblem, isJsonObject } from './errors.js';
import { importFirst } from './imports.js';
import { BEST_FILE_END, RUN_FOLDER_FILES, checkpointBeside } from './run-folder.js';
import { CHECKPOINT_FORMAT, startsLikeCheckpoint } from './schema.js';
import { quoted } from '../input/issues.js';
import { NAMED_PIPE, STANDARD_STREAM, linkTarget, notFoundLine, standardStreamLine } from '../input/paths.js';
import { NotJsonError, formatWrittenFirst, specialFileKind, isFile, isFolder, isTempFile, parseJsonBytes, readFileBytes, readFilePart } from './files.js';
import { INTEROP_FORMAT, wrappedState } from './interop.js';
import { PREPARED_FORMAT, isPreparedFolder } from './prepared.js';
import { isSafetensorsPath, startsLikeSafetensors, startsLikeZip, torchFile, ZIP_NOT_JSON } from './safetensors.js';
import { firstNamed } from '../input/counts.js';
import { beginsAsText } from '../text/utf8.js';
import { preparedTokenFile } from './corpus.js';

/** Where `rnn train` writes checkpoints, and where commands look when no checkpoint is named. */
export const CHECKPOINT_DIR = 'checkpoints';

/** How a help line says which checkpoint a run folder stands for (folderCheckpoint). */
export const RUN_FOLDER_READS = `its ${RUN_FOLDER_FILES.best}, else ${RUN_FOLDER_FILES.latest}`;

/** How a help line says which checkpoint a command takes when none is named (resolveCheckpointPath). */
export const NEWEST_CHECKPOINT = `the newest run under ${CHECKPOINT_DIR}/`;

/** How a command names the model path it was given, in the lines that refuse it. */
export interface ModelPathReader {
  /** The setting that names the path (`checkpoint`, `initFrom`); none for a command's argument. */
  setting?: string;
  /** What the path is to name: `checkpoint`, `model file`. */
  what: string;
  /** The JSON formats it reads: `rnn-checkpoint/1`, and for a model file `rnn-state/1`. */
  formats: readonly string[];
  /** What it may name, for the line that refuses a path that names nothing. */
  takes: string;
  /**
   * What the line refusing a folder given that holds no checkpoint but a model file (`.safetensors`,
   * `modelFileInFolder`'s) says of that file, after "but a model file:": what to do with it.
   */
  modelFile: (file: string, name: SettingNamer) => string;
}

/** A command that reads the checkpoint its argument names (`rnn info FILE`, `rnn export FILE`, the library's load). */
const CHECKPOINT_ARGUMENT: ModelPathReader = {
  what: 'checkpoint', formats: [CHECKPOINT_FORMAT], takes: `a checkpoint or a run folder (${RUN_FOLDER_READS})`, modelFile: (file) => importFirst(file, (checkpoint) => `name ${checkpoint}`),
};

/** A command that reads the checkpoint its --checkpoint names. */
export const CHECKPOINT_FLAG: ModelPathReader = {
  ...CHECKPOINT_ARGUMENT, setting: 'checkpoint',
  modelFile: (file, name) => importFirst(file, (checkpoint) => `give ${name('checkpoint')} ${checkpoint}`),
};

/** The line refusing `path` as `reader` was given it: naming its setting (as the caller spells it) where it has one. */
function refused(reader: ModelPathReader, path: string, describe: (name: SettingNamer) => string): InputError | CheckpointError {
  const { setting } = reader;
  return setting === undefined ? new CheckpointError(describe((name) => name)) : new SettingError(setting, path, describe);
}

/** What a refusal of `reader`'s path bids: a flag's value is given, a command's argument named. */
function bid(reader: ModelPathReader): string {
  return `${reader.setting === undefined ? 'name' : 'give'} ${reader.takes}`;
}

/** How a refusal of `reader`'s `path` begins: with its flag, where it has one. */
function givenAs(reader: ModelPathReader, path: string, name: SettingNamer): string {
  return reader.setting === undefined ? path : `${name(reader.setting)} ${path}`;
}

/**
 * `path`, where it names a file or a folder; else one line naming the setting it was given to (where one was) and the
 * checkpoint near its name that is there (nearCheckpoint), or else what it may name; `-` as standard input, which no
 * model is read from.
 */
function existingPath(path: string, reader: ModelPathReader): string {
  if (existsSync(path)) return path;
  const { setting, what } = reader;
  const line = path === STANDARD_STREAM ? standardStreamLine('input', `read a ${what} from`, bid(reader))
    : notFoundLine(what, path, nearCheckpoint(path) ?? bid(reader));
  throw refused(reader, path, (name) => `${setting === undefined ? '' : `${name(setting)}: `}${line}`);
}

/**
 * Where `path`, which names nothing, is near the name of a checkpoint there, that one to name instead: for `X.best.json`
 * (a best checkpoint as a run writing to a file names it), the run folder X, else the file X.json (a run with no best yet);
 * for a name without `.json` (`run/best`), that name with it. Else null.
 */
function nearCheckpoint(path: string): string | null {
  const lower = path.toLowerCase();
  if (lower.endsWith(BEST_FILE_END)) {
    const run = path.slice(0, -BEST_FILE_END.length);
    if (isRunFolder(run)) return `${run}/ is there, a run folder: name it`;
    return isFile(`${run}.json`) ? `${run}.json is there: name it` : null;
  }
  return !lower.endsWith('.json') && isFile(`${path}.json`) ? `${path}.json is there: name it` : null;
}

/** The bytes of a file's beginning that say whether it begins as JSON: its first characters, past a BOM and white space. */
const HEAD_BYTES = 256;

/**
 * `path`, a file that names something (existingPath), refused as `reader` names it where it begins as no model file does:
 * not as JSON of an object (`{`), nor as a safetensors file (a text given where a checkpoint goes, quoted by its beginning;
 * a zip archive PyTorch did not write, and a binary file, named so), or where it is JSON that is no model file (jsonModelPath);
 * a model file given where only checkpoints are read is refused saying what to do with it (refuseModelFile). A prepared
 * folder's train.bin or val.bin is named as its meta.json is. An empty file, or one with the `{` further in, is left for its
 * parser to name.
 */
function modelFilePath(path: string, reader: ModelPathReader): string {
  const kind = specialFileKind(existingPath(path, reader));
  // a named pipe (`<(cat run/best.json)`) is read once, by the loader
  if (kind !== null && kind !== NAMED_PIPE) throw notModelFile(reader, path, `it is ${kind}`);
  const tokenFile = preparedTokenFile(path);
  if (tokenFile !== null) throw notModelFile(reader, path, `a prepared folder's ${tokenFile}: ${PREPARED_DATA}`);
  const head = readFilePart(path, HEAD_BYTES);
  if (head === null) return path;
  if (startsLikeSafetensors(head, false)) return readsModelFiles(reader) ? path : refuseModelFile(reader, path);
  const torch = torchFile(head);
  if (torch !== null) throw refused(reader, path, (name) => `${givenAs(reader, path, name)} is ${torch}`);
  if (startsLikeZip(head)) throw notModelFile(reader, path, `it is ${ZIP_NOT_JSON}`);
  const text = head.toString('utf8').replace(/^\uFEFF/, '').trimStart();
  if (text === '') return path;
  if (text.startsWith('{')) return jsonModelPath(path, reader);
  if (!beginsAsText(head)) throw notModelFile(reader, path, 'it is binary, not JSON');
  throw notModelFile(reader, path, `it begins ${quoted(text, 32)}`);
}

/** The JSON formats of a model: a checkpoint's, and a model file's (rnn-state/1). */
const MODEL_FORMATS: readonly unknown[] = [CHECKPOINT_FORMAT, INTEROP_FORMAT];

/**
 * `path`, a file that begins as JSON of an object, refused as `reader` names it, with the parser's reason, where it is no
 * model file: not JSON (`{ not json`), or JSON of no model format (`{"a":1}`, a package.json, a prepared folder's meta.json);
 * and an rnn-state/1 file where `reader` reads checkpoints only, saying what to do with it (refuseModelFile). A file that
 * names a model's format first, as rnn writes them, is read whole only by its loader, which names what is wrong inside it
 * (a checkpoint cut short, a tensor of another shape). A reader of model files reads a `.safetensors` by its name, as
 * `rnn import` does, and a fixture that wraps an rnn-state/1 (wrappedState); a reader of checkpoints goes by what the file holds.
 */
function jsonModelPath(path: string, reader: ModelPathReader): string {
  if (readsModelFiles(reader) && isSafetensorsPath(path)) return path;
  const first = formatWrittenFirst(path);
  const json = MODEL_FORMATS.includes(first) ? undefined : parsedJson(path, reader);
  const format = json === undefined ? first : isJsonObject(json) ? json['format'] : undefined;
  if (MODEL_FORMATS.includes(format)) return reader.formats.includes(format as string) ? path : refuseModelFile(reader, path);
  if (readsModelFiles(reader) && wrappedState(json) !== null) return path;
  const prepared = format === PREPARED_FORMAT ? `; a prepared folder's meta.json: ${PREPARED_DATA}` : '';
  throw notModelFile(reader, path, `${formatProblem(json, reader.formats)!}${prepared}`);
}

/** What a prepared folder holds, where a model is read: the refusal of the folder, and of its meta.json, says so. */
const PREPARED_DATA = 'data to train on, not a model';

/** The JSON of the file at `path`, or where it is not JSON its refusal as `reader` names it, with the parser's reason. */
function parsedJson(path: string, reader: ModelPathReader): unknown {
  try {
    return parseJsonBytes(readFileBytes(path, reader.what), path);
  } catch (error) {
    if (!(error instanceof NotJsonError)) throw error;
    throw notModelFile(reader, path, error.reason);
  }
}

/** Whether `reader` reads model files (rnn-state/1, .safetensors) as well as checkpoints: --init-from does. */
function readsModelFiles(reader: ModelPathReader): boolean {
  return reader.formats.includes(INTEROP_FORMAT);
}

/** Refuses the model file `path` (rnn-state/1, .safetensors), given to `reader`, which reads checkpoints only: what to do with it. */
function refuseModelFile(reader: ModelPathReader, path: string): never {
  throw refused(reader, path, (name) => `${givenAs(reader, path, name)} is a model file, not a checkpoint: ${reader.modelFile(path, name)}`);
}

/**
 * The refusal of `path`, given to `reader`, as no model file, `reason` saying why (`format is missing, expected …`); a run
 * folder's best.json or latest.json names the folder's other checkpoint (checkpointBeside).
 */
function notModelFile(reader: ModelPathReader, path: string, reason: string): InputError | CheckpointError {
  const beside = checkpointBeside(path);
  return refused(reader, path, (name) => `${givenAs(reader, path, name)} is not a ${reader.what} (${reason}): ${bid(reader)}${beside}`);
}

/**
 * The refusal of the folder `dir` that lacks what `reader` reads there (`lacks`: "without latest.json") but holds a
 * model file (a train_ddp.py result), saying what to do with it; null where it holds none.
 */
function heldModelFile(reader: ModelPathReader, dir: string, lacks: string): InputError | CheckpointError | null {
  const modelFile = modelFileInFolder(dir);
  if (modelFile === null) return null;
  return refused(reader, dir, (name) => `${givenAs(reader, dir, name)} is a folder ${lacks}, but a model file: ${reader.modelFile(modelFile, name)}`);
}

/** Whether `dir` is a run folder: one that holds a run's latest.json or best.json. */
function isRunFolder(dir: string): boolean {
  return Object.values(RUN_FOLDER_FILES).some((file) => isFile(join(dir, file)));
}

/** Run folders a refusal of a folder of them names; the rest are counted. */
const RUNS_NAMED = 3;

/**
 * How a refusal of the folder `dir`, which is no run folder (`lacks`: "without latest.json"), describes it: as a
 * folder of runs (a checkpoints/ folder) where run folders are in it, naming the first few, else as lacking that.
 */
function notARunFolder(dir: string, lacks: string): string {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    names = [];
  }
  const runs = names.filter((name) => isRunFolder(join(dir, name)));
  if (runs.length === 0) return `a folder ${lacks}`;
  return `a folder of runs, not a run (${firstNamed(runs, RUNS_NAMED, (name) => `${join(dir, name)}/`)})`;
}

/**
 * The checkpoint `path` names where a command reads one file of a run folder (`file`: --resume and
 * `rnn plot` read its latest.json): the path itself where it is no folder, else the folder's `file`,
 * either refused as modelFilePath refuses a file (a model file saying what to do with it, as in a
 * folder); a folder without `file` refused (heldModelFile).
 */
export function runFolderFile(path: string, file: string, reader: ModelPathReader): string {
  if (!isFolder(path)) return modelFilePath(path, reader);
  const inside = join(path, file);
  if (heldInRunFolder(inside)) return modelFilePath(inside, reader);
  throw heldModelFile(reader, path, `without ${file}`) ?? bestAlone(reader, path, file) ??
    refused(reader, path, (name) => `${givenAs(reader, path, name)} is ${notARunFolder(path, `without ${file}`)}: ${bid(reader)}`);
}

/**
 * The refusal of a run folder `dir` read for its latest.json (`file`) that holds its best.json alone, as a run killed
 * between its first evaluation's two saves leaves it: that best.json is the run's state, which --resume goes on from
 * into another folder (this one's best.json it would not overwrite); null for any other folder.
 */
function bestAlone(reader: ModelPathReader, dir: string, file: string): InputError | CheckpointError | null {
  const best = join(dir, RUN_FOLDER_FILES.best);
  if (file !== RUN_FOLDER_FILES.latest || !heldInRunFolder(best)) return null;
  return refused(reader, dir, (name) => `${givenAs(reader, dir, name)} is a folder without ${file}, but with its ${RUN_FOLDER_FILES.best} ` +
    '(a run stopped between its first two saves): ' +
    (reader.setting === 'resume' ? `go on from it with ${name('resume')} ${best} ${name('out')} ANOTHER_FOLDER` : `name ${best}`));
}

/**
 * Whether a run folder holds its checkpoint `path`: a file, or a link, which is read where it leads (one to nothing is
 * refused naming where it leads, never passed over for the folder's other checkpoint).
 */
function heldInRunFolder(path: string): boolean {
  return isFile(path) || linkTarget(path) !== null;
}

/**
 * The checkpoint a run folder stands for where a model is read: its best.json, else its latest.json,
 * refused as modelFilePath refuses a file where it is none; a folder of neither is refused (heldModelFile).
 */
function folderCheckpoint(dir: string, reader: ModelPathReader): string {
  const { best, latest } = RUN_FOLDER_FILES;
  for (const name of [best, latest]) {
    const path = join(dir, name);
    if (heldInRunFolder(path)) return modelFilePath(path, reader);
  }
  const lacks = `with no checkpoint in it, neither ${best} nor ${latest}`;
  const prepared = isPreparedFolder(dir) ? ` (a prepared folder: ${PREPARED_DATA})` : '';
  throw heldModelFile(reader, dir, lacks) ?? refused(reader, dir, (name) => `${givenAs(reader, dir, name)} is ${notARunFolder(dir, lacks)}${prepared}: ${bid(reader)}`);
}

/**
 * The model file (`.safetensors`, as examples/pytorch/train_ddp.py writes its `model.safetensors`)
 * in `dir`, where it is a folder with no checkpoint of a run in it; null otherwise. The first by name.
 */
export function modelFileInFolder(dir: string): string | null {
  if (!isFolder(dir)) return null;
  const names = readdirSync(dir).filter((name) => !isTempFile(name)).sort();
  if (names.includes(RUN_FOLDER_FILES.best) || names.includes(RUN_FOLDER_FILES.latest)) return null;
  const model = names.find((name) => isSafetensorsPath(name) && isFile(join(dir, name)));
  return model === undefined ? null : join(dir, model);
}

function collectJson(dir: string, depth: number, into: { path: string; mtimeMs: number }[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (isTempFile(name)) continue;
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory() && depth > 0) collectJson(path, depth - 1, into);
      else if (stat.isFile() && name.endsWith('.json')) into.push({ path, mtimeMs: stat.mtimeMs });
    } catch {
      /* vanished or unreadable: not a candidate */
    }
  }
}

/** The most recently written checkpoint in `dir` or its immediate subfolders, or null. */
export function latestCheckpoint(dir: string): string | null {
  const candidates: { path: string; mtimeMs: number }[] = [];
  collectJson(dir, 1, candidates);
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  return candidates.find((c) => startsLikeCheckpoint(c.path))?.path ?? null;
}

/**
 * The named checkpoint (a run folder: folderCheckpoint), or else the most recently written one
 * under checkpoints/ (a run folder's latest.json: that folder's checkpoint, its best.json
 * where it has one). A path that names nothing is refused as `reader` names it; finding none
 * under checkpoints/ is refused as newestCheckpoint refuses it.
 */
export function resolveCheckpointPath(path: string | undefined, usage?: string, reader: ModelPathReader = CHECKPOINT_ARGUMENT): string {
  if (path === '') throw new CheckpointError('the checkpoint\'s path is empty: name a checkpoint file or a run folder');
  if (path !== undefined) return isFolder(path) ? folderCheckpoint(path, reader) : modelFilePath(path, reader);
  const latest = newestCheckpoint(usage);
  return basename(latest) === RUN_FOLDER_FILES.latest ? folderCheckpoint(dirname(latest), reader) : latest;
}

/**
 * The newest run under checkpoints/ where a command reads a run as a folder (`rnn plot`): the run
 * folder of the most recently written checkpoint where it is a run folder's, else that file. Finding
 * none is refused as newestCheckpoint refuses it.
 */
export function newestRun(usage: string): string {
  const latest = newestCheckpoint(usage);
  return (Object.values(RUN_FOLDER_FILES) as string[]).includes(basename(latest)) ? dirname(latest) : latest;
}

/**
 * The most recently written checkpoint under checkpoints/. Finding none, the error names the folder
 * it looked in and says how to name one (the `checkpoint` setting, or `usage`, e.g. `rnn info FILE`,
 * for a command that takes it as an argument) or make one.
 */
function newestCheckpoint(usage: string | undefined): string {
  const latest = latestCheckpoint(CHECKPOINT_DIR);
  if (latest !== null) return latest;
  throw new SettingError('checkpoint', undefined, (name) =>
    `no checkpoint found under ${resolve(CHECKPOINT_DIR)}/: ` +
      `${usage === undefined ? `pass ${name('checkpoint')} FILE` : `name one: ${usage}`}, or train one first (rnn train)`);
}
