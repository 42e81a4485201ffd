import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../input/settings.js';
import { EOS, Vocabulary } from './vocab.js';

/** A problem with the input text; the message is one line that names the file. */
export class CorpusError extends InputError {
  override name = 'CorpusError';
}

/** How a corpus is cut into documents (docs/text.md: each file is one, or a finer split). */
export type DocsMode = 'file' | 'line' | 'blank';

export const DOCS_MODES: readonly DocsMode[] = ['file', 'line', 'blank'];

export interface CorpusFile {
  path: string;
  bytes: number;
  /** Hex SHA-256 of the file's bytes as read. */
  sha256: string;
}

export interface Corpus {
  documents: string[];
  files: CorpusFile[];
  docs: DocsMode;
}

/** What a checkpoint records about the data it was trained on, to tell on resume whether it changed. */
export interface DataFingerprint {
  files: CorpusFile[];
  docs: DocsMode;
  documents: number;
  totalTokens: number;
  trainTokens: number;
  valTokens: number;
  valFrac: number;
  /** Over the files' hashes in order, the docs mode and valFrac — not the paths, so a moved corpus still matches. */
  sha256: string;
}

export interface PreparedData {
  vocab: Vocabulary;
  train: Int32Array;
  val: Int32Array;
  fingerprint: DataFingerprint;
}

export interface PrepareOptions {
  /** Fraction of the token stream, taken from its end, held out for validation; 0 ≤ valFrac < 1. */
  valFrac: number;
  /** Characters seen fewer times than this in the training split read as `<UNK>`. */
  minCount: number;
  /** Reuse this vocabulary (resume, eval) instead of building one; `minCount` is then ignored. */
  vocab?: Vocabulary;
}

const NUL = 0x00;

/**
 * Reads the corpus named by `paths` (files or folders) and cuts it into documents.
 * A folder is walked recursively in sorted path order, skipping dotfiles, dot-folders and
 * files with NUL bytes (binary); every other file in it must be valid UTF-8.
 * Documents never span files, and empty documents are dropped.
 */
export function readCorpus(paths: readonly string[], docs: DocsMode): Corpus {
  const files: CorpusFile[] = [];
  const documents: string[] = [];
  const addFile = (path: string, bytes: Buffer): void => {
    files.push({ path, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    for (const doc of splitDocuments(decodeUtf8(path, bytes), docs)) documents.push(doc);
  };

  for (const path of paths) {
    const stats = statOrThrow(path, 'corpus file not found');
    if (stats.isDirectory()) {
      const found = textFilesUnder(path);
      if (found.length === 0) throw new CorpusError(`corpus folder has no text files: ${path}`);
      for (const file of found) addFile(file.path, file.bytes);
    } else if (stats.isFile()) {
      const bytes = readOrThrow(path);
      const nul = bytes.indexOf(NUL);
      if (nul >= 0) throw new CorpusError(`${path}: not a text file (NUL byte at offset ${nul})`);
      addFile(path, bytes);
    } else {
      throw new CorpusError(`corpus path is neither a file nor a folder: ${path}`);
    }
  }
  if (documents.length === 0) {
    throw new CorpusError(`corpus is empty: no text in ${paths.join(', ')}`);
  }
  return { documents, files, docs };
}

/** A whole text file (e.g. `--prime-file`), BOM stripped and CRLF read as LF. */
export function readTextFile(path: string): string {
  statOrThrow(path, 'file not found');
  return decodeUtf8(path, readOrThrow(path));
}

/** The spec's token stream `<EOS> d1 <EOS> d2 <EOS> … dn <EOS>`. */
export function tokenStream(documents: readonly string[], vocab: Vocabulary): Int32Array {
  const encoded = documents.map((doc) => vocab.encode(doc));
  const stream = new Int32Array(1 + encoded.reduce((n, ids) => n + ids.length + 1, 0));
  let at = 0;
  stream[at++] = EOS;
  for (const ids of encoded) {
    stream.set(ids, at);
    at += ids.length;
    stream[at++] = EOS;
  }
  return stream;
}

/**
 * Builds the vocabulary and the train/validation streams. The whole stream (N tokens) is cut
 * at floor((1 − valFrac)·N): the first part trains, the rest validates. The vocabulary comes
 * from the training part's characters only, so a character that appears only in the
 * validation part reads there as `<UNK>`.
 */
export function prepareData(corpus: Corpus, options: PrepareOptions): PreparedData {
  const { valFrac, minCount } = options;
  if (!(valFrac >= 0 && valFrac < 1)) throw new RangeError(`valFrac must be in [0, 1), got ${valFrac}`);

  const lengths = corpus.documents.map(codePointCount);
  const totalTokens = 1 + lengths.reduce((n, len) => n + len + 1, 0);
  const trainTokens = Math.floor((1 - valFrac) * totalTokens);
  const vocab = options.vocab ?? Vocabulary.build(trainingTexts(corpus.documents, lengths, trainTokens), minCount);

  const stream = tokenStream(corpus.documents, vocab);
  const fingerprint: DataFingerprint = {
    files: corpus.files.map((f) => ({ ...f })),
    docs: corpus.docs,
    documents: corpus.documents.length,
    totalTokens,
    trainTokens,
    valTokens: totalTokens - trainTokens,
    valFrac,
    sha256: createHash('sha256')
      .update(JSON.stringify({ files: corpus.files.map((f) => f.sha256), docs: corpus.docs, valFrac }))
      .digest('hex'),
  };
  return { vocab, train: stream.slice(0, trainTokens), val: stream.slice(trainTokens), fingerprint };
}

/** Whether two fingerprints describe the same data and split (file paths aside). */
export function fingerprintMatches(a: FingerprintKey, b: FingerprintKey): boolean {
  return a.sha256 === b.sha256 && a.totalTokens === b.totalTokens && a.trainTokens === b.trainTokens;
}

/** What identifies a corpus and its split (a checkpoint records these). */
export type FingerprintKey = Pick<DataFingerprint, 'sha256' | 'totalTokens' | 'trainTokens'>;

/** The document texts that fall in the first `trainTokens` tokens of the stream (the last one perhaps cut). */
function* trainingTexts(documents: readonly string[], lengths: readonly number[], trainTokens: number): Generator<string> {
  let start = 1; // after the opening <EOS>
  for (let d = 0; d < documents.length && start < trainTokens; d++) {
    const doc = documents[d]!;
    const len = lengths[d]!;
    yield start + len <= trainTokens ? doc : codePointPrefix(doc, trainTokens - start);
    start += len + 1;
  }
}

function splitDocuments(text: string, docs: DocsMode): string[] {
  switch (docs) {
    case 'file':
      return text.length > 0 ? [text] : [];
    case 'line':
      return text.split('\n').filter((line) => !isBlank(line));
    case 'blank': {
      const paragraphs: string[] = [];
      let lines: string[] = [];
      for (const line of text.split('\n')) {
        if (!isBlank(line)) {
          lines.push(line);
        } else if (lines.length > 0) {
          paragraphs.push(lines.join('\n'));
          lines = [];
        }
      }
      if (lines.length > 0) paragraphs.push(lines.join('\n'));
      return paragraphs;
    }
  }
}

function isBlank(line: string): boolean {
  return /^[ \t]*$/.test(line);
}

function textFilesUnder(folder: string): { path: string; bytes: Buffer }[] {
  const found: { path: string; bytes: Buffer }[] = [];
  const visited = new Set<string>();
  const walk = (dir: string): void => {
    const real = realpathSync(dir);
    if (visited.has(real)) return; // a symlink cycle
    visited.add(real);
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      throw new CorpusError(`cannot read folder ${dir}: ${errorCode(err)}`);
    }
    for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
      const path = join(dir, name);
      const stats = statOrThrow(path, 'corpus file not found');
      if (stats.isDirectory()) {
        walk(path);
      } else if (stats.isFile()) {
        const bytes = readOrThrow(path);
        if (!bytes.includes(NUL)) found.push({ path, bytes });
      }
    }
  };
  walk(folder);
  return found;
}

function statOrThrow(path: string, missing: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CorpusError(`${missing}: ${path}`);
    throw new CorpusError(`cannot read ${path}: ${code}`);
  }
}

function readOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CorpusError(`cannot read ${path}: ${errorCode(err)}`);
  }
}

function errorCode(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return String(err);
}

// With ignoreBOM left false, decode() drops a leading BOM.
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes → text with the BOM stripped and CRLF as LF; invalid UTF-8 names the file and byte offset. */
function decodeUtf8(path: string, bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8Offset(bytes);
    const line = 1 + bytes.subarray(0, offset).filter((b) => b === 0x0a).length;
    const byte = bytes[offset]!.toString(16).toUpperCase().padStart(2, '0');
    throw new CorpusError(`${path}: not valid UTF-8 at byte offset ${offset} (line ${line}, byte 0x${byte})`);
  }
  return text.replace(/\r\n/g, '\n');
}

/**
 * Offset of the first byte that starts an ill-formed sequence (as the Unicode standard's
 * table 3-7 defines well-formed UTF-8: no overlongs, no surrogates, nothing above U+10FFFF),
 * or -1 when all of `bytes` is valid.
 */
export function firstInvalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b0 = bytes[i]!;
    if (b0 < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (b0 >= 0xc2 && b0 <= 0xdf) need = 1;
    else if (b0 >= 0xe0 && b0 <= 0xef) {
      need = 2;
      if (b0 === 0xe0) lo = 0xa0;
      if (b0 === 0xed) hi = 0x9f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
      need = 3;
      if (b0 === 0xf0) lo = 0x90;
      if (b0 === 0xf4) hi = 0x8f;
    } else return i;
    for (let k = 1; k <= need; k++) {
      const b = bytes[i + k];
      if (b === undefined || b < (k === 1 ? lo : 0x80) || b > (k === 1 ? hi : 0xbf)) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Counts code points the way `Vocabulary.encode` steps through them. */
function codePointCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; n++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return n;
}

function codePointPrefix(text: string, count: number): string {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return text.slice(0, i);
}
