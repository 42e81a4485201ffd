import { basename, dirname, join, resolve } from 'node:path';
import { SettingError, type SettingNamer } from '../input/settings.js';
import {
  type CorpusFile, CorpusError, type DataFingerprint, type PreparedData, type UnknownTokens, fingerprintMatches, withVocabulary,
} from '../text/corpus.js';
import { type CorpusSkip, type SkippedFile, STDIN_NAME, STDIN_PATH, corpusArguments, leftOutText } from '../text/corpus-files.js';
import { CHUNK_BYTES, loadCorpusData } from '../text/corpus-stream.js';
import type { TokenArray } from '../text/tokens.js';
import { grouped } from '../input/counts.js';
import { EOS_TOKEN, TOKEN_UNITS, type TextLevel } from '../text/vocab.js';
import { type DocumentRule, documentRuleText, sameDocumentRule } from '../text/documents.js';
import { SENTENCE_RULE_VERSION } from '../text/sentences.js';
import { type Checkpoint, type CheckpointRecord, CHECKPOINT_FORMAT } from './schema.js';
import { recordedLevel } from './settings.js';
import { PREPARED_FILES, PREPARED_FORMAT, type PreparedMeta, isPreparedFolder, readPreparedData, readPreparedMeta } from './prepared.js';
import { formatWrittenFirst, isFile, isFolder } from './files.js';
import { INTEROP_FORMAT } from './interop.js';
import { safetensorsFormatAt } from './safetensors.js';
import { type LoadedModel, checkpointVocabulary, corpusDocuments, recordedDocuments } from './load.js';

/*
 * A checkpoint's corpus, read again: to go on training on it, or to score its validation split.
 * And what rnn wrote, left out of a corpus folder.
 */

/**
 * Leaves out of a corpus folder what rnn wrote: its checkpoints and `rnn-state` models (known
 * by how they begin: `{"format":"rnn-checkpoint/…` or `rnn-state/…`, `format` written first, or
 * a safetensors file whose metadata names `rnn-state/…`), the summary.json that
 * examples/pytorch/train_ddp.py writes beside its model, prepared folders (`rnn prepare`), the
 * lock files `isLock` knows (one an interrupted run or prepare left), and `outputs`, the files or
 * folder a run writes to. Each path the walk leaves out, these and what it leaves out itself (a named pipe, a socket, a
 * device, a file that is not text), is added to `skipped` with why.
 */
export function skipRunFiles(outputs: readonly string[], skipped: SkippedFile[], isLock: (path: string) => boolean): CorpusSkip {
  const left = new Set(outputs.map((path) => resolve(path)));
  const fileSkip = (path: string): string | null => (isModelFormat(rnnFormatOf(path)) ? 'an rnn model'
    : isDdpSummary(path) ? "train_ddp.py's summary of its run" : isLock(path) ? 'an rnn lock file' : null);
  return {
    why: (path, isFolder) => (left.has(resolve(path)) ? "the run's output" : isFolder ? preparedFolderSkip(path) : fileSkip(path)),
    leftOut: (path, why) => {
      skipped.push({ path, why });
    },
  };
}

function preparedFolderSkip(path: string): string | null {
  return isPreparedFolder(path) ? 'a prepared folder' : null;
}

export type { SkippedFile };

/** The notice that names what a corpus folder's walk left out (`skipRunFiles`' `skipped`), or null when it left out nothing. */
export function skippedNotice(skipped: readonly SkippedFile[]): string | null {
  if (skipped.length === 0) return null;
  return `left out of the corpus: ${leftOutText(skipped)}`;
}

/**
 * Refuses an rnn model (`isModelFormat`) among `paths`, files named where a text is read: a
 * checkpoint is JSON, and read as text it would train or score a model of its digits. One line
 * naming it, what it was to be (`a text to train on`) and what to do with it (`remedy`, told
 * whether it is a checkpoint, which a run may go on from, or an `rnn-state` model). A prepared
 * folder's meta.json, train.bin or val.bin is refused so too, naming its folder, which is what a run and a score read.
 */
export function refuseRnnFiles(
  paths: readonly string[], purpose: string, remedy: (path: string, name: SettingNamer, checkpoint: boolean) => string,
): void {
  for (const path of paths) {
    if (path === STDIN_PATH) continue;
    const format = rnnFormatOf(path);
    const prepared = isPreparedMeta(format) ? PREPARED_FILES.meta : preparedTokenFile(path);
    if (prepared !== null) {
      throw new CorpusError(`${path} is a prepared folder's ${prepared}, not ${purpose}: rnn train and rnn eval perplexity read its folder, ${dirname(path)}`);
    }
    if (!isModelFormat(format)) continue;
    const checkpoint = format.startsWith(formatKind(CHECKPOINT_FORMAT));
    throw new CorpusError((name) => `${path} is an rnn model, not ${purpose}: ${remedy(path, name, checkpoint)}`);
  }
}

/** Whether `format` (rnnFormatOf) is a prepared folder's meta.json's, of any version. */
function isPreparedMeta(format: string | null): boolean {
  return format?.startsWith(formatKind(PREPARED_FORMAT)) === true;
}

/** The name of the prepared folder's token file at `path` (train.bin or val.bin, beside its meta.json); null for any other file. */
export function preparedTokenFile(path: string): string | null {
  const name = basename(path);
  const tokens: readonly string[] = [PREPARED_FILES.train, PREPARED_FILES.val];
  return tokens.includes(name) && isPreparedMeta(rnnFormatOf(join(dirname(path), PREPARED_FILES.meta))) ? name : null;
}

/** A format of any version: `rnn-state/` of `rnn-state/1`. */
function formatKind(format: string): string {
  return format.slice(0, format.indexOf('/') + 1);
}

/** The kinds (formatKind) of rnn's model formats, of any version: `rnn-checkpoint/` and `rnn-state/`. */
const MODEL_FORMAT_KINDS = [CHECKPOINT_FORMAT, INTEROP_FORMAT].map((format) => formatKind(format));

/**
 * The format a file of rnn's names as it begins (JSON with `format` written first, or a safetensors file's metadata); null
 * for any other file, and one unreadable, which is left to the corpus reader.
 */
function rnnFormatOf(path: string): string | null {
  return formatWrittenFirst(path) ?? safetensorsFormatAt(path);
}

/** Whether `format` (rnnFormatOf) is an rnn model's, of any version: a checkpoint or an `rnn-state` model. */
function isModelFormat(format: string | null): format is string {
  return format !== null && MODEL_FORMAT_KINDS.some((kind) => format.startsWith(kind));
}

/** Whether the file is a safetensors file of an `rnn-state` model (rnn export's, train_ddp.py's), which a folder's walk skips as binary. */
function isSafetensorsModel(path: string): boolean {
  return safetensorsFormatAt(path)?.startsWith(formatKind(INTEROP_FORMAT)) === true;
}

/** What examples/pytorch/train_ddp.py writes to its --out: the model, beside it its run's losses, and the run's state (`--resume`). */
export const DDP_RESULT = { model: 'model.safetensors', summary: 'summary.json', state: 'state.pt' } as const;

/** Whether the file is the summary.json train_ddp.py wrote: named so, beside its model. */
function isDdpSummary(path: string): boolean {
  return basename(path) === DDP_RESULT.summary && isSafetensorsModel(join(dirname(path), DDP_RESULT.model));
}

/**
 * The summary.json of the train_ddp.py run that `path` names: its --out folder, its model.safetensors or the summary
 * itself (isDdpSummary); null where it names none.
 */
export function ddpRunSummary(path: string): string | null {
  const summary = isFolder(path) ? join(path, DDP_RESULT.summary)
    : basename(path) === DDP_RESULT.model ? join(dirname(path), DDP_RESULT.summary) : path;
  return isFile(summary) && isDdpSummary(summary) ? summary : null;
}

/**
 * The file of its run beside the model train_ddp.py trained at `path` (named so, an `rnn-state` model): its summary.json,
 * else the run's saved state; null where `path` is no such model.
 */
export function ddpModelRunFile(path: string): string | null {
  if (basename(path) !== DDP_RESULT.model) return null;
  const beside = [DDP_RESULT.summary, DDP_RESULT.state].map((name) => join(dirname(path), name)).find(isFile);
  return beside !== undefined && isSafetensorsModel(path) ? beside : null;
}

/** The file that shows `dir` to be a train_ddp.py run's --out: its saved state, or its model beside its summary; null where none does. */
function ddpResultIn(dir: string): string | null {
  const state = join(dir, DDP_RESULT.state), model = join(dir, DDP_RESULT.model);
  return isFile(state) ? state : ddpModelRunFile(model) !== null ? model : null;
}

/**
 * Refuses `out`, the output `setting` chose, where it is the folder of a train_ddp.py run (`ddpResultIn`): the script
 * refuses an --out that holds rnn's files, so rnn's files there would keep its run from going on (--resume). `instead`
 * says what to give.
 */
export function refuseDdpFolder(out: string, setting: 'out' | 'resume', instead: (name: SettingNamer) => string): void {
  const held = ddpResultIn(out);
  if (held === null) return;
  throw new SettingError(setting, out, (name) =>
    `${name('out')} ${out} is the folder of an examples/pytorch/train_ddp.py run (it holds its ${basename(held)}): ${instead(name)}`);
}

/**
 * `files` read as the checkpoint read its corpus: its documents (`recordedDocuments`), split and
 * vocabulary, telling `onProgress` how far the tokenizing has come (`PrepareOptions.onProgress`).
 * `changed` says whether they differ from the text it recorded (false when it recorded none).
 */
export function readCheckpointCorpus(
  ckpt: CheckpointRecord, files: readonly string[], skip?: CorpusSkip, onProgress?: (fraction: number) => void,
): { data: PreparedData; changed: boolean } {
  const { valFrac } = ckpt.corpus ?? ckpt.config.training;
  const { docs, sentenceRule } = recordedDocuments(ckpt);
  // an imported model's first run on a text counts the tokens its vocabulary lacks, which the run warns of
  const unknownTokens = ckpt.corpus === null ? 'count' as const : undefined;
  const options = { valFrac, minCount: 1, vocab: checkpointVocabulary(ckpt), unknownTokens, onProgress };
  const data = loadCorpusData(files, docs, options, CHUNK_BYTES, skip, sentenceRule);
  return { data, changed: ckpt.corpus !== null && !fingerprintMatches(data.fingerprint, ckpt.corpus) };
}

/**
 * Refuses to read again the corpus of a checkpoint trained on standard input, which is gone with
 * the run that read it: `remedy` says what to give instead, from the corpus as a command names
 * it (`-` for standard input).
 */
export function refuseStdinCorpus(ckpt: CheckpointRecord, source: string, remedy: (corpus: string, name: SettingNamer) => string): void {
  const files = ckpt.corpus?.files.map((f) => f.path) ?? [];
  if (!files.includes(STDIN_NAME)) return;
  const corpus = corpusArguments(files).join(' ');
  throw new CorpusError((name) => `${source} was trained on text from ${STDIN_NAME}, which cannot be read again: ${remedy(corpus, name)}`);
}

/** A prepared folder (`rnn prepare`): where it is, and its meta.json. */
export interface PreparedFolder {
  dir: string;
  meta: PreparedMeta;
}

/** Refuses a prepared folder whose tokens are of another level than `level`, the level of `model` (as a message names it). */
export function checkPreparedLevel(
  { dir, meta }: PreparedFolder, level: TextLevel, model: string | ((name: SettingNamer) => string),
): void {
  if (meta.level === level) return;
  throw new CorpusError((name) => `the prepared folder ${dir} holds ${meta.level}-level tokens, ` +
    `${typeof model === 'string' ? model : model(name)} is ${level}-level: prepare the corpus again with ${name('level')} ${level}`);
}

/**
 * Refuses a prepared folder cut into documents by another rule than `documents`, the rule of
 * `model` (as a message names it): its ids hold an `<EOS>` where the model reads a line break,
 * or the reverse, so their loss is not the loss of the text as the model reads it. The text
 * itself is cut by the model's rule; preparing again cuts sentences by today's rules only.
 */
function checkPreparedDocuments(
  { dir, meta }: PreparedFolder, documents: DocumentRule, model: (name: SettingNamer) => string,
): void {
  const cut = corpusDocuments({ docs: meta.settings.docs, sentenceRule: meta.sentenceRule });
  if (sameDocumentRule(cut, documents)) return;
  const preparable = documents.docs !== 'sentence' || documents.sentenceRule === SENTENCE_RULE_VERSION;
  throw new CorpusError((name) => `the prepared folder ${dir} was cut into documents by ${documentRuleText(cut, name('docs'))}, ` +
    `${model(name)} reads its texts by ${documentRuleText(documents, name('docs'))}: its ids are not the stream the model reads of that ` +
    `text: score the text itself, which the model cuts as its corpus was cut${
      preparable ? `, or prepare the corpus again with ${name('docs')} ${documents.docs}` : ''}`);
}

/**
 * The prepared folder the checkpoint's run read its ids from, when it records one and the folder
 * is there; null when it records none, or when the folder is gone and its text read again gives
 * the same ids. A fine-tuned run's folder may read as `<UNK>` what the run's vocabulary has, so
 * without it the run's data cannot be rebuilt: refused, naming the folder.
 */
export function recordedPreparedFolder(ckpt: CheckpointRecord, source: string): PreparedFolder | null {
  const dir = ckpt.corpus?.prepared;
  if (dir === undefined) return null;
  if (isPreparedFolder(dir)) return { dir, meta: readPreparedMeta(dir) };
  if (ckpt.initFrom === undefined) return null;
  throw new CorpusError(`${source} was fine-tuned on the prepared folder ${dir}, which is gone: ` +
    'prepare its corpus into that folder again (rnn prepare), or name the folder where it is now');
}

/**
 * The prepared folder's data as the checkpoint's run read it: by symbol in the run's vocabulary
 * where it was fine-tuned or imported (its first run on the folder too, which records no
 * corpus), the tokens it lacks counted; with `valOnly`, its validation split alone (readPreparedData).
 */
export function checkpointPreparedData(ckpt: CheckpointRecord, { dir, meta }: PreparedFolder, valOnly = false): PreparedData {
  const data = readPreparedData(dir, meta, valOnly);
  const bySymbol = ckpt.initFrom || ckpt.corpus === null;
  return bySymbol ? withVocabulary(data, checkpointVocabulary(ckpt), { unknownTokens: 'count', minCount: 1 }) : data;
}

/** A corpus file as a refusal names it, in what `wc -c` and `sha256sum` print of it: its size in bytes and its SHA-256's start. */
function fileText(file: CorpusFile): string {
  return `${grouped(file.bytes)} bytes, sha256 ${file.sha256.slice(0, 12)}…`;
}

/**
 * How the data `read` differs from the data a checkpoint `recorded`, in what a user can check: the first file whose
 * bytes differ (its size and SHA-256, as `wc -c` and `sha256sum` give them), a file more or less, the rule that cut
 * documents, the split; else the token streams' lengths, which count an `<EOS>` at each document's end.
 */
export function dataDifference(read: DataFingerprint, recorded: NonNullable<Checkpoint['corpus']>, level: TextLevel, name: SettingNamer): string {
  const at = read.files.findIndex((file, i) => file.sha256 !== recorded.files[i]?.sha256);
  const now = read.files[at], was = recorded.files[at] ?? recorded.files[read.files.length];
  if (now !== undefined && was !== undefined) {
    const where = now.path === was.path ? `${now.path} is ${fileText(now)}, where it was` : `${now.path} is ${fileText(now)}, where ${was.path} was`;
    return `${where} ${fileText(was)}`;
  }
  if (now !== undefined) return `${now.path} (${fileText(now)}) is one file more than it was trained on`;
  if (was !== undefined) return `${was.path} (${fileText(was)}), which it was trained on, is not among its files`;
  const recordedRule = corpusDocuments(recorded);
  if (!sameDocumentRule(corpusDocuments(read), recordedRule)) {
    return `the same files, cut into documents by ${documentRuleText(corpusDocuments(read), name('docs'))}, ` +
      `where it was cut by ${documentRuleText(recordedRule, name('docs'))}`;
  }
  if (read.valFrac !== recorded.valFrac) return `the same files, split by ${name('valFrac')} ${read.valFrac}, where it was split by ${recorded.valFrac}`;
  const tokens = (n: number): string => `${grouped(n)} tokens (its ${TOKEN_UNITS[level].many} and an ${EOS_TOKEN} at each document's end)`;
  return read.totalTokens === recorded.totalTokens ? 'the same files, read into other tokens (by other rules of the tokenizer)' :
    `the same files, read into ${tokens(read.totalTokens)}, where it was ${tokens(recorded.totalTokens)}`;
}

/**
 * The checkpoint's validation split: read from the prepared folder it was trained on where it
 * records one (recordedPreparedFolder), else rebuilt from its corpus files with its vocabulary. Refuses
 * when the checkpoint records no corpus (an imported model), when the split is empty, or when
 * the files no longer match what it was trained on (CorpusError).
 */
export function validationSplit(model: LoadedModel): TokenArray {
  const { path, checkpoint } = model;
  const corpus = checkpoint.corpus;
  /** What scores the model where its validation split cannot be had. */
  const instead = (name: SettingNamer): string => `name files to score, or use ${name('text')}`;
  if (corpus === null) throw new CorpusError((name) => `${path} records no training corpus (an imported model?): ${instead(name)}`);
  if (corpus.valTokens === 0) {
    throw new CorpusError((name) => `${path} was trained without a validation split (${name('valFrac')} 0): ${instead(name)}`);
  }
  const rebuild = `cannot rebuild the validation split of ${path}`;
  // a refusal met on the way, named so: `remedy` follows one that says nothing of what to do instead
  const rebuilding = <T>(step: () => T, remedy: ((name: SettingNamer) => string) | null): T => {
    try {
      return step();
    } catch (error) {
      if (!(error instanceof CorpusError)) throw error;
      throw new CorpusError((name) => `${rebuild}: ${error.messageNaming(name)}${remedy === null ? '' : `; ${remedy(name)}`}`);
    }
  };
  const files = corpus.files.map((f) => f.path);
  const folder = rebuilding(() => recordedPreparedFolder(checkpoint, path), null);
  if (folder === null) rebuilding(() => refuseStdinCorpus(checkpoint, path, (_, name) => instead(name)), null);
  const read = rebuilding(() => {
    if (folder === null) return readCheckpointCorpus(checkpoint, files);
    const data = checkpointPreparedData(checkpoint, folder, true);
    return { data, changed: !fingerprintMatches(data.fingerprint, corpus) };
  }, instead);
  if (read.changed) {
    throw new CorpusError((name) =>
      `${rebuild}: its corpus (${folder?.dir ?? files.join(', ')}) changed since training: ` +
        `${dataDifference(read.data.fingerprint, corpus, recordedLevel(checkpoint.config.training), name)}; ${instead(name)}`);
  }
  return read.data.val;
}

/**
 * The validation split of the prepared folder `dir` (rnn prepare), to score a model on: its ids
 * read in the model's vocabulary by symbol, the tokens it lacks as `<UNK>` (`unknown` counts
 * them). Refuses a folder of another level or document rule, and one prepared with no validation split.
 */
export function preparedValidationSplit(model: LoadedModel, dir: string): { ids: TokenArray; unknown: UnknownTokens } {
  const meta = readPreparedMeta(dir);
  // the model as the command gave it, as rnn train names its --resume and --init-from
  const givenAs = (name: SettingNamer): string => `${name('checkpoint')} ${model.path}`;
  checkPreparedLevel({ dir, meta }, model.vocab.level, givenAs);
  checkPreparedDocuments({ dir, meta }, model.vocab.documents, givenAs);
  if (meta.valTokens === 0) throw new CorpusError(`the prepared folder ${dir} has no validation split (it was prepared with --val-frac 0)`);
  const data = withVocabulary(readPreparedData(dir, meta, true), model.vocab, { unknownTokens: 'count', minCount: 1 });
  return { ids: data.val, unknown: data.unknown! };
}
