import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { InputError, SettingError } from '../input/settings.js';
import { splitSentences } from './sentences.js';
import { type TokenArray, tokenArrayFor } from './tokens.js';
import { EOS, type TextLevel, UNK, Vocabulary } from './vocab.js';
import { buildWordVocabulary, DEFAULT_VOCAB_SIZE, type WordVocabularyBuild } from './word-vocab.js';
import { LINE_BREAK, tokenizeWords, WORD_RULE_VERSION } from './words.js';

/** A problem with the input text; the message is one line that names the file. */
export class CorpusError extends InputError {
  override name = 'CorpusError';
}

/**
 * How a corpus is cut into documents (docs/text.md: each file is one, or a finer split):
 * 'sentence' cuts each blank-line paragraph into sentences (sentences.ts, docs/words.md).
 */
export type DocsMode = 'file' | 'line' | 'blank' | 'sentence';

export const DOCS_MODES: readonly DocsMode[] = ['file', 'line', 'blank', 'sentence'];

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

/**
 * A corpus as a sequence of pieces to read again and again (a streamed corpus rereads its files):
 * text, each piece part of the current document, and `DOCUMENT_END` after each document's last.
 * A piece never cuts a surrogate pair.
 */
export interface CorpusSource {
  files: CorpusFile[];
  docs: DocsMode;
  /** Documents, and tokens of the char-level stream `<EOS> d1 <EOS> … dn <EOS>`. */
  documents: number;
  totalTokens: number;
  pieces(): Iterable<CorpusPiece>;
}

export const DOCUMENT_END = null;
export type CorpusPiece = string | typeof DOCUMENT_END;

/** What a checkpoint records about the data it was trained on, to tell on resume whether it changed. */
export interface DataFingerprint {
  files: CorpusFile[];
  docs: DocsMode;
  documents: number;
  totalTokens: number;
  trainTokens: number;
  valTokens: number;
  valFrac: number;
  /** Present at the word level only, where the tokens above are word tokens. */
  level?: 'word';
  /**
   * Over the files' hashes in order, the docs mode and valFrac — not the paths, so a moved corpus
   * still matches; at the word level also over the level and `WORD_RULE_VERSION`.
   */
  sha256: string;
}

export interface PreparedData {
  vocab: Vocabulary;
  /** The training and validation parts: views of one compact token stream (`TokenArray`). */
  train: TokenArray;
  val: TokenArray;
  fingerprint: DataFingerprint;
  /** When `prepareData` built a word vocabulary: what the training text offered it (for warnings). */
  wordVocab?: Omit<WordVocabularyBuild, 'vocab'>;
}

export interface PrepareOptions {
  /** Fraction of the token stream, taken from its end, held out for validation; 0 ≤ valFrac < 1. */
  valFrac: number;
  /** Tokens (characters, or word tokens) seen fewer times than this in the training split read as `<UNK>`. */
  minCount: number;
  /** Reuse this vocabulary (resume, eval) instead of building one; `minCount` and `vocabSize` are then ignored. */
  vocab?: Vocabulary;
  /** What a token is; default 'char', or `vocab`'s level when `vocab` is given (they must agree). */
  level?: TextLevel;
  /** Word level: entries of the vocabulary built, `<EOS>` and `<UNK>` included; default 10,000. Ignored at the char level. */
  vocabSize?: number;
}

export const NUL = 0x00;

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

/** The spec's token stream `<EOS> d1 <EOS> d2 <EOS> … dn <EOS>`, compact (`tokenArrayFor`). */
export function tokenStream(documents: readonly string[], vocab: Vocabulary): TokenArray {
  const encoded = documents.map((doc) => vocab.encode(doc));
  const stream = tokenArrayFor(vocab.size, 1 + encoded.reduce((n, ids) => n + ids.length + 1, 0));
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
 * from the training part's tokens only, so a token that appears only in the validation part
 * reads there as `<UNK>`. A token is a code point at the char level and a `tokenizeWords`
 * token at the word level, so N, the cut and the vocabulary are counted in those. The corpus
 * is read piece by piece, a pass for each of these, and never held whole.
 */
export function prepareData(corpus: Corpus | CorpusSource, options: PrepareOptions): PreparedData {
  const { valFrac } = options;
  if (!(valFrac >= 0 && valFrac < 1)) throw new RangeError(`valFrac must be in [0, 1), got ${valFrac}`);
  const level = options.vocab?.level ?? options.level ?? 'char';
  if (options.level !== undefined && options.level !== level) {
    throw new RangeError(`level '${options.level}' does not match the vocabulary's level '${level}'`);
  }
  const source = 'pieces' in corpus ? corpus : sourceOf(corpus);
  return level === 'word' ? prepareWords(source, options) : prepareChars(source, options);
}

/** `prepareData` at the char level, where the first pass over the corpus counted its code points. */
function prepareChars(source: CorpusSource, options: PrepareOptions): PreparedData {
  const { totalTokens } = source;
  const trainTokens = Math.floor((1 - options.valFrac) * totalTokens);
  const vocab = options.vocab ?? Vocabulary.build(trainingUnits(CHARS, source, trainTokens), options.minCount);
  return { vocab, ...split(source, encodeStream(CHARS, source, vocab, totalTokens), trainTokens, options.valFrac, 'char') };
}

/** `prepareData` at the word level: a pass to count the word tokens, one for the vocabulary, one to encode. */
function prepareWords(source: CorpusSource, options: PrepareOptions): PreparedData {
  const { valFrac, minCount } = options;
  let totalTokens = 1;
  let words = false;
  for (const unit of WORDS.units(source)) {
    if (unit === DOCUMENT_END) {
      totalTokens++;
    } else {
      totalTokens += unit.length;
      words ||= unit.some((token) => token !== LINE_BREAK);
    }
  }
  if (!words) throw noWords(source);
  const trainTokens = Math.floor((1 - valFrac) * totalTokens);
  const built = options.vocab === undefined
    ? buildWordVocabulary(trainingUnits(WORDS, source, trainTokens), { vocabSize: options.vocabSize ?? DEFAULT_VOCAB_SIZE, minCount })
    : undefined;
  if (built !== undefined) checkWordVocabulary(built, minCount);
  const vocab = options.vocab ?? built!.vocab;
  const prepared: PreparedData = { vocab, ...split(source, encodeStream(WORDS, source, vocab, totalTokens), trainTokens, valFrac, 'word') };
  if (built !== undefined) {
    const { vocab: _, ...report } = built;
    prepared.wordVocab = report;
  }
  return prepared;
}

/** The refusal of a corpus whose text holds no word token but line breaks. */
export function noWords(source: Pick<CorpusSource, 'files'>): CorpusError {
  return new CorpusError(`corpus has no words: ${source.files.map((f) => f.path).join(', ')} holds only white space`);
}

/** Refuses a word vocabulary with no entry besides `<EOS>` and `<UNK>`, saying which setting to lower. */
export function checkWordVocabulary(built: WordVocabularyBuild, minCount: number): void {
  if (built.vocab.size > UNK + 1) return;
  if (built.distinct === 0) throw new CorpusError((name) => `the training part of the corpus has no words: lower ${name('valFrac')}`);
  throw new SettingError('minCount', minCount, (name) =>
    `no token of the training text is seen ${minCount} times or more, so every one would read as <UNK>: lower ${name('minCount')}`);
}

/**
 * How a level reads a corpus's pieces: as units of its tokens (at the char level the pieces'
 * text, at the word level the word tokens of text cut where no token spans the cut), each
 * counted in tokens, cut to its first tokens, and encoded.
 */
interface Reading<U> {
  units(source: CorpusSource): Iterable<U | typeof DOCUMENT_END>;
  length(unit: U): number;
  prefix(unit: U, count: number): U;
  encode(vocab: Vocabulary, unit: U): Int32Array;
}

const CHARS: Reading<string> = {
  units: (source) => source.pieces(),
  length: codePointCount,
  prefix: codePointPrefix,
  encode: (vocab, text) => vocab.encode(text),
};

const WORDS: Reading<string[]> = {
  units: wordUnits,
  length: (tokens) => tokens.length,
  prefix: (tokens, count) => tokens.slice(0, count),
  encode: (vocab, tokens) => vocab.encodeWords(tokens),
};

/**
 * The source's pieces as word tokens. No token spans white space (a CR LF cut in two reads as
 * a lone CR, which is no token, and a line break, as it would whole), so text cut just after
 * white space tokenizes as its two halves do: each piece is tokenized up to its last white
 * space, and the rest waits for the next piece (or the document's end).
 */
export function* wordUnits(source: CorpusSource): Generator<string[] | typeof DOCUMENT_END> {
  let held = '';
  for (const piece of source.pieces()) {
    if (piece === DOCUMENT_END) {
      if (held.length > 0) yield tokenizeWords(held);
      held = '';
      yield DOCUMENT_END;
      continue;
    }
    const text = held + piece;
    const cut = afterLastSpace(text);
    if (cut > 0) yield tokenizeWords(text.slice(0, cut));
    held = cut > 0 ? text.slice(cut) : text;
    if (held.length > MAX_HELD_WORD_TEXT) {
      throw new CorpusError(`${source.files.map((f) => f.path).join(', ')}: more than ${MAX_HELD_WORD_TEXT.toLocaleString('en-US')} ` +
        'characters without white space, which the word level cannot cut into words');
    }
  }
  if (held.length > 0) yield tokenizeWords(held);
}

/** Characters of text without white space the word level holds before it refuses the corpus (a quarter of V8's longest string). */
const MAX_HELD_WORD_TEXT = 1 << 27;

const SPACE = /\s/u;

/** The index just after the last white space in `text`, or 0. */
function afterLastSpace(text: string): number {
  for (let i = text.length - 1; i >= 0; i--) if (SPACE.test(text[i]!)) return i + 1;
  return 0;
}

/**
 * The units of the first `trainTokens` tokens of the stream: every unit that starts before the
 * cut, the one it falls in cut to its first tokens.
 */
function* trainingUnits<U>(reading: Reading<U>, source: CorpusSource, trainTokens: number): Generator<U> {
  let at = 1; // after the opening <EOS>
  for (const unit of reading.units(source)) {
    if (at >= trainTokens) return;
    if (unit === DOCUMENT_END) {
      at++;
    } else {
      const len = reading.length(unit);
      yield at + len <= trainTokens ? unit : reading.prefix(unit, trainTokens - at);
      at += len;
    }
  }
}

/** The spec's stream, as `tokenStream` writes it, encoded one unit at a time into a compact array of `totalTokens`. */
function encodeStream<U>(reading: Reading<U>, source: CorpusSource, vocab: Vocabulary, totalTokens: number): TokenArray {
  const stream = tokenArrayFor(vocab.size, totalTokens);
  const changed = (): CorpusError => new CorpusError(
    `the corpus changed while it was read: ${source.files.map((f) => f.path).join(', ')}`);
  let at = 0;
  stream[at++] = EOS;
  for (const unit of reading.units(source)) {
    if (unit === DOCUMENT_END) {
      if (at >= totalTokens) throw changed();
      stream[at++] = EOS;
    } else {
      const ids = reading.encode(vocab, unit);
      if (at + ids.length > totalTokens) throw changed();
      stream.set(ids, at);
      at += ids.length;
    }
  }
  if (at !== totalTokens) throw changed();
  return stream;
}

/** A corpus read whole, as a source of pieces: each document whole, then its end. */
function sourceOf(corpus: Corpus): CorpusSource {
  const { documents, files, docs } = corpus;
  return {
    files, docs, documents: documents.length,
    totalTokens: 1 + documents.reduce((n, doc) => n + codePointCount(doc) + 1, 0),
    *pieces() {
      for (const doc of documents) {
        yield doc;
        yield DOCUMENT_END;
      }
    },
  };
}

/** The train/validation streams cut at `trainTokens`, and the fingerprint of the data and split. */
function split(
  corpus: Pick<CorpusSource, 'files' | 'docs' | 'documents'>, stream: TokenArray, trainTokens: number, valFrac: number, level: TextLevel,
): Pick<PreparedData, 'train' | 'val' | 'fingerprint'> {
  const fingerprint = dataFingerprint(corpus, stream.length, trainTokens, valFrac, level);
  return { train: stream.subarray(0, trainTokens), val: stream.subarray(trainTokens), fingerprint };
}

/** The fingerprint of a corpus's token stream of `totalTokens`, cut at `trainTokens`. */
export function dataFingerprint(
  corpus: Pick<CorpusSource, 'files' | 'docs' | 'documents'>, totalTokens: number, trainTokens: number, valFrac: number, level: TextLevel,
): DataFingerprint {
  const hashed = { files: corpus.files.map((f) => f.sha256), docs: corpus.docs, valFrac };
  const fingerprint: DataFingerprint = {
    files: corpus.files.map((f) => ({ ...f })),
    docs: corpus.docs,
    documents: corpus.documents,
    totalTokens,
    trainTokens,
    valTokens: totalTokens - trainTokens,
    valFrac,
    sha256: createHash('sha256')
      .update(JSON.stringify(level === 'char' ? hashed : { ...hashed, level, wordRule: WORD_RULE_VERSION }))
      .digest('hex'),
  };
  if (level === 'word') fingerprint.level = 'word';
  return fingerprint;
}

/** Whether two fingerprints describe the same data and split (file paths aside). */
export function fingerprintMatches(a: FingerprintKey, b: FingerprintKey): boolean {
  return a.sha256 === b.sha256 && a.totalTokens === b.totalTokens && a.trainTokens === b.trainTokens;
}

/** What identifies a corpus and its split (a checkpoint records these). */
export type FingerprintKey = Pick<DataFingerprint, 'sha256' | 'totalTokens' | 'trainTokens'>;

/** Cuts one file's text into documents as `docs` says; empty documents are dropped. (corpus-stream.ts cuts a streamed file with it.) */
export function splitDocuments(text: string, docs: DocsMode): string[] {
  switch (docs) {
    case 'file':
      return text.length > 0 ? [text] : [];
    case 'line':
      return text.split('\n').filter((line) => !isBlank(line));
    case 'blank':
      return paragraphsOf(text);
    case 'sentence':
      return paragraphsOf(text).flatMap(splitSentences);
  }
}

/** The runs of non-blank lines, each joined with "\n"; blank lines (spaces and tabs only) separate them. */
function paragraphsOf(text: string): string[] {
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

export function isBlank(line: string): boolean {
  return /^[ \t]*$/.test(line);
}

function textFilesUnder(folder: string): { path: string; bytes: Buffer }[] {
  return filesUnder(folder).map((path) => ({ path, bytes: readOrThrow(path) })).filter(({ bytes }) => !bytes.includes(NUL));
}

/** The files under `folder`, recursively in sorted path order, skipping dotfiles and dot-folders. */
export function filesUnder(folder: string): string[] {
  const found: string[] = [];
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
        found.push(path);
      }
    }
  };
  walk(folder);
  return found;
}

export function statOrThrow(path: string, missing: string): Stats {
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

export function errorCode(err: unknown): string {
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
    if (offset < 0) {
      // valid UTF-8 that decodes to more than V8's longest string (2^29 − 24 characters)
      throw new CorpusError(`${path}: ${bytes.length.toLocaleString('en-US')} bytes is more text than one file can be read as ` +
        '(at most 2^29 characters, about 512 MB of ASCII)');
    }
    throw invalidUtf8(path, offset, 1 + bytes.subarray(0, offset).filter((b) => b === LF).length, bytes[offset]!);
  }
  return text.replace(/\r\n/g, '\n');
}

const LF = 0x0a;

/** The one-line error for invalid UTF-8: the file, the byte offset, its line (1-based) and the byte. */
export function invalidUtf8(path: string, offset: number, line: number, byte: number): CorpusError {
  const hex = byte.toString(16).toUpperCase().padStart(2, '0');
  return new CorpusError(`${path}: not valid UTF-8 at byte offset ${offset} (line ${line}, byte 0x${hex})`);
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
export function codePointCount(text: string): number {
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
