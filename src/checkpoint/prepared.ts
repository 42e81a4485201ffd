import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { zodErrorMessage } from '../input/issues.js';
import { checkValidationSplit } from '../text/batches.js';
import type { CorpusSource, PreparedData, TextTokens } from '../text/corpus.js';
import type { CorpusSkip } from '../text/corpus-files.js';
import { CHUNK_BYTES, streamCorpusStoppably } from '../text/corpus-stream.js';
import type { DocsMode } from '../text/documents.js';
import { type TokenFileOptions, type WrittenTokens, littleEndian, tokenFileBytes, writeTokenFiles } from '../text/token-files.js';
import { recordedSentenceRule } from '../text/sentences.js';
import { DTYPE_BYTES, TOKEN_DTYPES, type TokenArray, tokenArrayFor, tokenDtype } from '../text/tokens.js';
import { spacesNone } from '../text/spacing.js';
import { Vocabulary } from '../text/vocab.js';
import { CheckpointError, checkFormat, shortMessage } from './errors.js';
import { corpusFiles, count, ruleVersion, sha256, spacingRecord } from './fields.js';
import { TEMP_SUFFIX, isFolder, makeFolders, removeAbandonedTemps, tempFileWriter, writeFailure, readJsonFile, writeTarget } from './files.js';
import { MODEL_SCHEMAS } from './model-config.js';
import { recordedWordRule, TRAIN_SETTINGS } from './settings.js';
import { checkSentenceRule, checkVocab, checkWordRule } from './vocab.js';

/*
 * A prepared folder (`rnn prepare`, docs/scale-out.md): a corpus's token stream, cut into its
 * training and validation parts, as nanoGPT's prepare step writes it. `train.bin` and `val.bin`
 * hold the ids `rnn train` would make of the text, little-endian, `dtype` wide; `meta.json`
 * holds the vocabulary and what the ids were made with. `rnn train DIR` reads it with no
 * tokenizing; examples/pytorch/train_ddp.py memory-maps it.
 */

export const PREPARED_FORMAT = 'rnn-prepared/1';

export const PREPARED_FILES = { meta: 'meta.json', train: 'train.bin', val: 'val.bin' } as const;

const PreparedMetaSchema = z.object({
  format: z.literal(PREPARED_FORMAT),
  level: TRAIN_SETTINGS.level.schema,
  /** Word level: the version of the tokenizer rules the ids were made under (`Vocabulary.wordRule`). */
  wordRule: ruleVersion.optional(),
  /** With docs 'sentence': the version of the sentence rules that cut the documents; absent, version 1 (`recordedSentenceRule`). */
  sentenceRule: ruleVersion.optional(),
  /** Word level: the marks the text spaces (`Vocabulary.spacing`); absent, none (or a folder from before the record). */
  spacing: spacingRecord.optional(),
  dtype: z.enum(TOKEN_DTYPES),
  /** Entries of `vocab`: every id in the files is below it. */
  vocabSize: MODEL_SCHEMAS.vocabSize,
  trainTokens: count,
  valTokens: count,
  /** The text settings the stream was made with, as `rnn train` names them. */
  settings: z.object({
    valFrac: TRAIN_SETTINGS.valFrac.schema,
    minCount: TRAIN_SETTINGS.minCount.schema,
    docs: TRAIN_SETTINGS.docs.schema,
    /** Word level: the vocabulary size asked for (the vocabulary may be smaller). */
    vocabSize: TRAIN_SETTINGS.vocabSize.schema.optional(),
  }),
  /** The corpus's fingerprint, as a checkpoint trained on it records it. */
  corpus: z.object({
    files: corpusFiles,
    documents: count,
    sha256,
  }),
  /** Word level: what the training text offered the vocabulary (`WordVocabularyBuild`, for the warnings `rnn train` gives). */
  wordVocab: z.object({
    distinct: count, eligible: count, shortfall: count, occurrences: count, unknown: count, seenOnce: count.optional(),
  }).optional(),
  vocab: z.array(z.string()),
});

export type PreparedMeta = z.infer<typeof PreparedMetaSchema>;

/** `writePreparedFolder`'s options: the token files' and how the corpus's documents are read. */
export type PrepareFolderOptions = TokenFileOptions & { docs: DocsMode };

/**
 * Creates the folder `dir` for a corpus's token files, with its parents; a file there, or a
 * folder that cannot be made, is a CheckpointError.
 */
function makePreparedFolder(dir: string): void {
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new CheckpointError(`${dir} is a file, not a folder to prepare the corpus in`);
  try {
    makeFolders(dir);
  } catch (err) {
    throw new CheckpointError(`cannot create ${dir}: ${writeFailure(err)}`);
  }
}

/**
 * The lock file of a prepared folder, beside its meta.json as a run's is beside its
 * latest.json: one `rnn prepare` at a time writes there.
 */
export function preparedLockPath(dir: string): string {
  return join(dir, `${PREPARED_FILES.meta}.lock`);
}

/**
 * Writes the prepared folder of the corpus at `paths` (files or folders, streamed, leaving out
 * what `skip` does) to `dir`. The token files and `meta.json` are written under temporary names,
 * then renamed into place, `meta.json` last, so a folder with a `meta.json` always holds the files
 * it describes; an older prepared folder there is replaced, or kept as it was where a write fails
 * or `stop` ends the writing (`writeTokenFiles`), its temp files removed.
 */
export async function writePreparedFolder(
  paths: readonly string[], options: PrepareFolderOptions, dir: string, { onProgress, skip, hold, stop }: PrepareFolderWriting = {},
): Promise<WrittenFolder> {
  const source = await streamCorpusStoppably(paths, options.docs, CHUNK_BYTES, skip, stop);
  makePreparedFolder(dir);
  const held = hold?.(dir);
  try {
    return await writeFolder(source, options, dir, onProgress, stop);
  } finally {
    held?.release();
  }
}

/** A prepared folder just written: its meta.json, and the text's tokens in each part, which meta.json does not record. */
export interface WrittenFolder {
  meta: PreparedMeta;
  textTokens: TextTokens;
}

/** How `writePreparedFolder` reports and what it leaves out and holds, beside what it writes. */
export interface PrepareFolderWriting {
  /** How much of the text has been tokenized (0 … 1). */
  onProgress?: (fraction: number) => void;
  /** What the corpus's folders hold that is left out of it. */
  skip?: CorpusSkip;
  /** Holds the folder while its files are written, once it exists and the corpus has been read: `rnn prepare`'s lock. */
  hold?: (dir: string) => { release(): void };
  /** Aborted (a signal), ends the writing, as `writeTokenFiles` says, by throwing its reason. */
  stop?: AbortSignal;
}

async function writeFolder(
  source: CorpusSource, options: PrepareFolderOptions, dir: string, onProgress?: (fraction: number) => void, stop?: AbortSignal,
): Promise<WrittenFolder> {
  const file = (name: string): string => join(dir, name);
  // a token file that is a link is written where it leads, its temp file beside that, so that the link stays a link
  const targets = {
    train: writeTarget(file(PREPARED_FILES.train), 'prepared folder '), val: writeTarget(file(PREPARED_FILES.val), 'prepared folder '),
    meta: writeTarget(file(PREPARED_FILES.meta), 'prepared folder '),
  };
  const temp = (path: string): string => join(dirname(path), `${hidden(basename(path))}${TEMP_SUFFIX}${process.pid}`);
  const tempsIn = new Map<string, string[]>([[dir, [PREPARED_FILES.train, PREPARED_FILES.val, PROVISIONAL].map(hidden)]]);
  for (const target of [targets.train, targets.val, targets.meta]) {
    tempsIn.set(dirname(target), [...tempsIn.get(dirname(target)) ?? [], hidden(basename(target))]);
  }
  for (const [folder, names] of tempsIn) removeAbandonedTemps(folder, (name) => tempFileWriter(name, names));
  const temps = { train: temp(targets.train), val: temp(targets.val), meta: temp(targets.meta), scratch: temp(file(PROVISIONAL)) };
  const removeTemps = (): void => {
    for (const path of [temps.train, temps.val, temps.meta]) if (existsSync(path)) unlinkSync(path);
  };
  let written: WrittenTokens;
  let meta: PreparedMeta;
  try {
    written = await writeTokenFiles(source, options, temps, onProgress, stop);
    checkValidationSplit(written.fingerprint.valTokens, options.valFrac, options.level);
    meta = preparedMeta(options, written);
    writeFileSync(temps.meta, `${JSON.stringify(meta)}\n`, { mode: 0o644 });
  } catch (error) {
    removeTemps();
    // the file system's error (a full disk): the token files' folder, named with what to do
    if (typeof (error as NodeJS.ErrnoException).code === 'string') throw new CheckpointError(`cannot write ${dir}: ${writeFailure(error)}`);
    throw error;
  }
  // every file written before any is renamed, which needs no space: a write that fails leaves an older folder as it was
  try {
    if (existsSync(targets.meta)) unlinkSync(targets.meta);
    renameSync(temps.train, targets.train);
    renameSync(temps.val, targets.val);
    renameSync(temps.meta, targets.meta);
  } catch (err) {
    removeTemps();
    throw new CheckpointError(`cannot write ${dir}: ${writeFailure(err)}`);
  }
  return { meta, textTokens: written.textTokens };
}

/** The meta.json of token files written with `options`: what they hold, and what made them. */
function preparedMeta(options: PrepareFolderOptions, { vocab, dtype, fingerprint, wordVocab }: WrittenTokens): PreparedMeta {
  return {
    format: PREPARED_FORMAT,
    level: options.level,
    ...(options.level === 'word' && { wordRule: vocab.wordRule }),
    ...(fingerprint.sentenceRule !== undefined && { sentenceRule: fingerprint.sentenceRule }),
    ...(!spacesNone(vocab.spacing) && { spacing: vocab.spacing }),
    dtype,
    vocabSize: vocab.size,
    trainTokens: fingerprint.trainTokens,
    valTokens: fingerprint.valTokens,
    settings: {
      valFrac: options.valFrac, minCount: options.minCount, docs: options.docs,
      ...(options.level === 'word' && options.vocabSize !== undefined && { vocabSize: options.vocabSize }),
    },
    corpus: { files: fingerprint.files.map((f) => ({ ...f })), documents: fingerprint.documents, sha256: fingerprint.sha256 },
    ...(wordVocab && { wordVocab: { ...wordVocab } }),
    vocab: [...vocab.tokens],
  };
}

/**
 * A file's name with a leading dot. `writePreparedFolder` writes each of its files (the token files, meta.json and the
 * scratch file of provisional ids) first under its hidden name with TEMP_SUFFIX and its pid after it (`.NAME.tmp-PID`);
 * what a writer killed midway left is removed (the scratch file can be large).
 */
const hidden = (name: string): string => `.${name}`;
/** The name of the scratch file of provisional ids, beside the token files. */
const PROVISIONAL = 'provisional';

/** Whether `path` is a prepared folder: a folder with a `meta.json` and a `train.bin`. */
export function isPreparedFolder(path: string): boolean {
  return isFolder(path) &&
    existsSync(join(path, PREPARED_FILES.meta)) && existsSync(join(path, PREPARED_FILES.train));
}

/**
 * Whether writing a prepared folder to `dir` replaces nothing but an older one: none of
 * train.bin, val.bin and meta.json is there, or its meta.json says it is a prepared folder's.
 */
export function replacesOnlyPrepared(dir: string): boolean {
  if (!Object.values(PREPARED_FILES).some((name) => existsSync(join(dir, name)))) return true;
  try {
    return (JSON.parse(readFileSync(join(dir, PREPARED_FILES.meta), 'utf8')) as { format?: unknown }).format === PREPARED_FORMAT;
  } catch {
    return false;
  }
}

/** The meta.json of the prepared folder `dir`, checked: its vocabulary, the tokenizer and sentence rules, the token files' sizes. */
export function readPreparedMeta(dir: string): PreparedMeta {
  const source = join(dir, PREPARED_FILES.meta);
  const json = readJsonFile(source, 'prepared folder meta.json');
  checkFormat(json, source, PREPARED_FORMAT);
  const parsed = PreparedMetaSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  const meta = parsed.data;
  if (meta.level === 'word') checkWordRule(meta.wordRule, source, 'wordRule');
  checkSentenceRule(meta.sentenceRule, source, 'sentenceRule');
  checkVocab(meta.vocab, meta.vocabSize, meta.level, source, 'vocab', 'vocabSize');
  if (meta.dtype !== tokenDtype(meta.vocabSize)) {
    throw new CheckpointError(`${source}: dtype is "${meta.dtype}", expected "${tokenDtype(meta.vocabSize)}" for ${meta.vocabSize} entries`);
  }
  for (const part of ['train', 'val'] as const) {
    const path = join(dir, PREPARED_FILES[part]);
    const bytes = statSync(path, { throwIfNoEntry: false });
    const expected = tokenFileBytes(meta.dtype, part === 'train' ? meta.trainTokens : meta.valTokens);
    if (bytes === undefined) throw new CheckpointError(`${path} is missing (${source} describes it): prepare the folder again`);
    if (bytes.size !== expected) {
      throw new CheckpointError(`${path} has ${bytes.size} bytes, ${source} says ${expected}: prepare the folder again`);
    }
  }
  return meta;
}

/**
 * The data of the prepared folder `dir`, as `prepareData` gives it for the text it was made from;
 * with `valOnly`, its training ids left unread (empty) for a reader of the validation split alone.
 */
export function readPreparedData(dir: string, meta: PreparedMeta = readPreparedMeta(dir), valOnly = false): PreparedData {
  const vocab = Vocabulary.fromTokens(meta.vocab, meta.level, recordedWordRule(meta), undefined, meta.spacing);
  const train = valOnly
    ? tokenArrayFor(meta.vocabSize, 0)
    : readTokenFile(join(dir, PREPARED_FILES.train), meta.trainTokens, meta.vocabSize);
  const val = readTokenFile(join(dir, PREPARED_FILES.val), meta.valTokens, meta.vocabSize);
  const totalTokens = meta.trainTokens + meta.valTokens;
  const data: PreparedData = {
    vocab, train, val,
    fingerprint: {
      files: meta.corpus.files.map((f) => ({ ...f })), docs: meta.settings.docs,
      ...(meta.settings.docs === 'sentence' && { sentenceRule: recordedSentenceRule(meta.sentenceRule)! }),
      documents: meta.corpus.documents,
      totalTokens, trainTokens: meta.trainTokens, valTokens: meta.valTokens, valFrac: meta.settings.valFrac,
      ...(meta.level === 'word' && { level: 'word' as const }), sha256: meta.corpus.sha256, prepared: resolve(dir),
    },
  };
  if (meta.wordVocab) data.wordVocab = { ...meta.wordVocab };
  return data;
}

/** `tokens` ids of the token file at `path`, each checked to be below `vocabSize`. */
function readTokenFile(path: string, tokens: number, vocabSize: number): TokenArray {
  const ids = tokenArrayFor(vocabSize, tokens);
  const bytes = new Uint8Array(ids.buffer, ids.byteOffset, ids.byteLength);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CheckpointError(`cannot read ${path}: ${shortMessage(err)}`);
  }
  try {
    const chunk = 64 << 20;
    for (let at = 0; at < bytes.length;) {
      const n = readSync(fd, bytes, at, Math.min(chunk, bytes.length - at), at);
      if (n === 0) throw new CheckpointError(`${path} ends at byte ${at}, before ${bytes.length}: prepare the folder again`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  littleEndian(bytes, DTYPE_BYTES[tokenDtype(vocabSize)]);
  for (let i = 0; i < ids.length; i++) {
    if (ids[i]! >= vocabSize || ids[i]! < 0) {
      throw new CheckpointError(`${path}: token ${i} has id ${ids[i]}, outside the vocabulary's ${vocabSize} entries: prepare the folder again`);
    }
  }
  return ids;
}
