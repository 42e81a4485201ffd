import { existsSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusDocuments } from '../checkpoint/load.js';
import type { Checkpoint } from '../checkpoint/schema.js';
import {
  type PreparedFolder, checkPreparedLevel, checkpointPreparedData, dataDifference, readCheckpointCorpus, refuseRnnFiles,
  refuseStdinCorpus, type SkippedFile, skipRunFiles,
} from '../checkpoint/corpus.js';
import { PREPARED_FILES, isPreparedFolder, preparedLockPath, readPreparedData, readPreparedMeta } from '../checkpoint/prepared.js';
import { TEXT_SETTING_NAMES, type TrainSettings, recordedLevel } from '../checkpoint/settings.js';
import type { SettingNamer } from '../input/settings.js';
import { refuseClashes } from './options.js';
import { CorpusError, type PreparedData, fingerprintMatches } from '../text/corpus.js';
import { type CorpusSkip, STDIN_PATH, absoluteCorpusPath, fileName } from '../text/corpus-files.js';
import { CHUNK_BYTES, loadCorpusData } from '../text/corpus-stream.js';
import type { TextLevel } from '../text/vocab.js';
import { type BaseModel, fineTunePreparedData, loadFineTuneData } from './finetune.js';
import { isLockFile, lockHolder, lockPath } from './lock.js';
import { outputPaths } from './output.js';

/** The package root: the first folder above this module with a package.json (src/ and dist/src/ alike). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  return dir;
}

/** The corpus `rnn train` and `rnn prepare` read when given none, in the package (corpora/README.md). */
export const DEFAULT_CORPUS = 'corpora/sotu.txt';

/** DEFAULT_CORPUS's path. */
export function defaultCorpus(): string {
  return join(packageRoot(), DEFAULT_CORPUS);
}

/** A short name for the corpus, for the default output folder: the first path's base name (`stdin` for standard input). */
export function corpusName(paths: readonly string[]): string {
  const first = paths[0] ?? 'corpus';
  if (first === STDIN_PATH) return 'stdin';
  const name = basename(resolve(first), extname(first)).replace(/[^A-Za-z0-9_.-]+/g, '_');
  return name === '' ? 'corpus' : name;
}

/**
 * A fresh run's data: the corpus at `paths` (absolute, so a checkpoint's recorded files can be
 * found from any folder), a vocabulary from its training part, the train/validation split.
 */
function loadFreshData(
  paths: readonly string[], settings: TrainSettings, skip: CorpusSkip, onProgress?: (fraction: number) => void,
): PreparedData {
  return loadCorpusData(paths.map(absoluteCorpusPath), settings.docs, { ...vocabularyOptions(settings), onProgress }, CHUNK_BYTES, skip);
}

/** How a fresh run's or a prepared folder's text is split and its vocabulary built: --vocab-size at the word level only. */
export function vocabularyOptions(settings: TrainSettings): { valFrac: number; minCount: number; level: TextLevel; vocabSize?: number } {
  const { valFrac, minCount, level, vocabSize } = settings;
  return { valFrac, minCount, level, ...(level === 'word' && { vocabSize }) };
}

/**
 * What a corpus folder's walk leaves out (`skipRunFiles`): rnn's models and lock files, and the output `out` of
 * this run, when known — its folder, or its checkpoint and lock files.
 */
export function skipRunOutput(out: string | null, skipped: SkippedFile[]): CorpusSkip {
  const paths = out === null ? null : outputPaths(out);
  return skipRunFiles(paths === null ? [] : [out!, paths.latest, paths.best, lockPath(paths)], skipped, isLockFile);
}

/**
 * A resumed run's data: the given corpus, or else the files the checkpoint recorded, read with
 * the checkpoint's vocabulary and split, and refused unless its fingerprint matches.
 */
function loadResumedData(
  paths: readonly string[], ckpt: Checkpoint, source: string, skip: CorpusSkip, onProgress?: (fraction: number) => void,
): PreparedData {
  const recorded = ckpt.corpus;
  if (recorded === null && paths.length === 0) {
    throw new CorpusError(`${source} records no corpus (an imported model?): give the corpus it was trained on after \`rnn train\`, ` +
      `or start a new run on a text from it with \`rnn train TEXT --init-from ${source}\``);
  }
  if (paths.length === 0) refuseStdinCorpus(ckpt, source, (corpus, name) =>
    `pipe the same text in and name it: … | rnn train ${corpus} ${name('resume')} ${source}`);
  const files = paths.length > 0 ? paths.map(absoluteCorpusPath) : recorded!.files.map((f) => f.path);
  let read;
  try {
    read = readCheckpointCorpus(ckpt, files, skip, onProgress);
  } catch (err) {
    if (err instanceof CorpusError && paths.length === 0) {
      throw new CorpusError((name) =>
        `${err.messageNaming(name)} (a corpus file recorded in ${source}; give the corpus's new location after \`rnn train\`)`);
    }
    throw err;
  }
  if (recorded !== null && read.changed) {
    throw new CorpusError((name) =>
      `the corpus (${files.map(fileName).join(', ')}) differs from the one ${source} was trained on: ` +
        `${dataDifference(read.data.fingerprint, recorded, recordedLevel(ckpt.config.training), name)}: ${otherDataAdvice('that text', source, name)}`);
  }
  return read.data;
}

/**
 * What to do where the data given to resume the checkpoint at `source` is not `trained` (the
 * data it was trained on): resume on that, or start a new run on this data, from the checkpoint's
 * model (fine-tuning) or from scratch.
 */
function otherDataAdvice(trained: string, source: string, name: SettingNamer): string {
  return `resume with ${trained}; or, to start a new run on this one, fine-tune the model with ${name('initFrom')} ${source} ` +
    `in place of ${name('resume')}, or train from scratch without ${name('resume')}`;
}

/**
 * Refuses a folder that `rnn prepare` is writing, or left unfinished (killed before its
 * meta.json, its lock left): read as a corpus folder it would hold no text. The line names the
 * lock and what to do: wait for the prepare, or run it again (it takes a lock left over).
 */
export function refuseUnfinishedPrepared(path: string): void {
  if (path === STDIN_PATH || isPreparedFolder(path)) return;
  const lock = preparedLockPath(path);
  const holder = lockHolder(lock, 'rnn prepare');
  if (holder === null) return;
  if (!holder.gone) {
    throw new CorpusError(`${path} is a prepared folder being written (${holder.who}, which holds ${lock}): wait for it to end, then use it`);
  }
  throw new CorpusError((name) => `${path} is a prepared folder left unfinished (${holder.who}, ended before it wrote ` +
    `${PREPARED_FILES.meta}, leaving ${lock}): run rnn prepare again with ${name('out')} ${path}, which takes the lock over`);
}

/** The prepared folder among the corpus paths, its meta.json read, or null; a prepared folder is trained on alone. */
export function preparedFolderOf(paths: readonly string[]): PreparedFolder | null {
  paths.forEach(refuseUnfinishedPrepared);
  const prepared = paths.filter((path) => path !== STDIN_PATH && isPreparedFolder(path));
  if (prepared.length === 0) return null;
  if (paths.length > 1) {
    throw new CorpusError(`${prepared[0]} is a prepared folder: train on it alone, or prepare all of ${paths.join(', ')} into one`);
  }
  const dir = resolve(prepared[0]!);
  return { dir, meta: readPreparedMeta(dir) };
}

/** How a run starts: fresh (null), resumed from a checkpoint, or fine-tuned from a base model. */
export type RunStart = { ckpt: Checkpoint; source: string } | { base: BaseModel; extend: boolean } | null;

/**
 * A run's data: the prepared folder's (resuming, refused unless it is the checkpoint's data),
 * or the corpus at `paths` (`loadFreshData`, `loadResumedData`); fine-tuning, read with the
 * base's vocabulary (`loadFineTuneData`, `fineTunePreparedData`). Its vocabulary reads a text
 * cut into documents as the corpus was (`corpusDocuments`), as the trained model will. A text
 * tokenized tells `onProgress` how far it has come (`PrepareOptions.onProgress`).
 */
export function loadRunData(
  paths: readonly string[], prepared: PreparedFolder | null, settings: TrainSettings, start: RunStart, skip: CorpusSkip,
  onProgress?: (fraction: number) => void,
): PreparedData {
  const data = readRunData(paths, prepared, settings, start, skip, onProgress);
  return { ...data, vocab: data.vocab.withDocuments(corpusDocuments(data.fingerprint)) };
}

function readRunData(
  paths: readonly string[], prepared: PreparedFolder | null, settings: TrainSettings, start: RunStart, skip: CorpusSkip,
  onProgress?: (fraction: number) => void,
): PreparedData {
  if (prepared === null) {
    refuseRnnFiles(paths, 'a text to train on', (path, name, checkpoint) =>
      `${checkpoint ? `go on training it with ${name('resume')} ${path}, or fine-tune` : 'fine-tune'} it on a text with ${name('initFrom')} ${path}`);
  }
  if (start !== null && 'ckpt' in start) {
    return prepared !== null ? loadResumedPreparedData(prepared, start.ckpt, start.source)
      : loadResumedData(paths, start.ckpt, start.source, skip, onProgress);
  }
  if (prepared !== null) {
    const data = readPreparedData(prepared.dir, prepared.meta);
    return start === null ? data : fineTunePreparedData(data, settings, start.base, start.extend);
  }
  const text = paths.length > 0 ? paths : [defaultCorpus()];
  return start === null ? loadFreshData(text, settings, skip, onProgress)
    : loadFineTuneData(text, settings, start.base, start.extend, skip, onProgress);
}

/**
 * The options with the text settings (TEXT_SETTINGS) of the prepared folder `dir` filled in;
 * one given with another value than the folder was prepared with is an error naming both.
 * Fine-tuning a base model (`base`), the folder must be of its level, and only
 * the settings of its data are taken: the vocabulary is the base's.
 */
export function withPreparedSettings<T extends Partial<Pick<TrainSettings, TextSettingName>>>(
  options: T, prepared: PreparedFolder, base?: BaseModel,
): T {
  const { dir, meta } = prepared;
  if (base !== undefined) checkPreparedLevel(prepared, base.vocab.level, (name) => `${name('initFrom')} ${base.file.path}`);
  const recorded: Partial<Record<TextSettingName, unknown>> = { ...meta.settings, level: meta.level };
  const keys = (base === undefined ? TEXT_SETTING_NAMES : DATA_SETTING_NAMES).filter((key) => recorded[key] !== undefined);
  const clashes = keys.filter((key) => options[key] !== undefined && options[key] !== recorded[key]);
  refuseClashes(clashes, options, recorded, `the prepared folder ${dir}, made with`, (_, them) => `, or prepare the corpus again with ${them}`);
  const filled: T = { ...options };
  for (const key of keys) (filled as Record<string, unknown>)[key] = recorded[key];
  return filled;
}

type TextSettingName = (typeof TEXT_SETTING_NAMES)[number];

/** The text settings that shape a prepared folder's data rather than its vocabulary. */
const DATA_SETTING_NAMES = ['docs', 'valFrac'] as const satisfies readonly TextSettingName[];

/**
 * A resumed run's data from the folder `prepared`: refused unless it is the data the
 * checkpoint was trained on. A fine-tuned run's folder is read with its vocabulary, by symbol.
 */
function loadResumedPreparedData(prepared: PreparedFolder, ckpt: Checkpoint, source: string): PreparedData {
  const { dir } = prepared;
  const recorded = ckpt.corpus;
  const trainedLevel = recordedLevel(ckpt.config.training);
  checkPreparedLevel(prepared, trainedLevel, (name) => `${name('resume')} ${source}`);
  // an imported model records no data: its first run reads the folder by symbol, as it would the text
  const data = checkpointPreparedData(ckpt, prepared);
  const sameVocab = data.vocab.sameTokens(ckpt.vocab, trainedLevel);
  const sameData = recorded === null || fingerprintMatches(data.fingerprint, recorded);
  if (recorded !== null && (!sameData || !sameVocab)) {
    const held = [...(sameData ? [] : ['other data']), ...(sameVocab ? [] : ['another vocabulary'])].join(' and ');
    throw new CorpusError((name) =>
      `the prepared folder ${dir} holds ${held} than ${source} was trained on` +
        `${sameData ? '' : ` (${dataDifference(data.fingerprint, recorded, trainedLevel, name)})`}: ${otherDataAdvice('that data', source, name)}`);
  }
  return data;
}
