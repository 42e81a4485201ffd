import { createHash } from 'node:crypto';
import { type CorpusFile, type CorpusSource, CorpusError, type PreparedData, type PrepareOptions, prepareData } from './corpus.js';
import {
  type CorpusSkip, type CorpusStep, fileChunks, fileName, NUL, notText, ranToEnd, readCorpusFiles, readStandardInput, STANDARD_INPUT_UNREAD,
  utf16Refusal,
} from './corpus-files.js';
import { type CorpusPiece, type DocsMode, DOCUMENT_END, DocumentCutter, type DocumentRule } from './documents.js';
import { SENTENCE_RULE_VERSION, type SentenceRule } from './sentences.js';
import { Utf8ChunkDecoder } from './utf8.js';
import { turn } from './token-files.js';
import { codePointCount } from './vocab.js';
import { checkedOption, integerAtLeast } from '../input/settings.js';

/*
 * A corpus of any size, read as a stream: each file in chunks, decoded as it comes and cut into
 * documents, never held whole as one string. Each pass over the corpus rereads the files.
 */

/** Bytes read from a file at a time. */
export const CHUNK_BYTES = 4 << 20;

/** The corpus at `paths` prepared by `prepareData`, streamed (`streamCorpus`). */
export function loadCorpusData(
  paths: readonly string[], docs: DocsMode, options: PrepareOptions, chunkBytes = CHUNK_BYTES, skip?: CorpusSkip,
  sentenceRule: SentenceRule = SENTENCE_RULE_VERSION,
): PreparedData {
  return prepareData(streamCorpus(paths, docs, chunkBytes, skip, sentenceRule), options);
}

/** A piece read holds at least one code point (up to 4 bytes of UTF-8). */
const CHUNK_BYTES_RANGE = integerAtLeast(4);

/**
 * The corpus at `paths` (`readCorpusFiles`: files, or folders walked, leaving out what `skip`
 * does; `-`: standard input, read once and kept), as a source of pieces read from the files
 * `chunkBytes` at a time, cut into documents by `docs` (and, for 'sentence', the sentence rules
 * of version `sentenceRule`). This first pass hashes each file and counts its documents and tokens.
 */
export function streamCorpus(
  paths: readonly string[], docs: DocsMode, chunkBytes = CHUNK_BYTES, skip?: CorpusSkip, sentenceRule: SentenceRule = SENTENCE_RULE_VERSION,
): CorpusSource {
  return ranToEnd(scanCorpus(paths, docs, chunkBytes, skip, sentenceRule));
}

/**
 * streamCorpus's source, the event loop turning before its first pass, after each chunk it reads and while it waits on
 * a pipe on standard input (readStandardInput), where `stop`, aborted, ends it by throwing its reason: a signal's
 * handler runs while a large corpus is read or its writer is awaited.
 */
export async function streamCorpusStoppably(
  paths: readonly string[], docs: DocsMode, chunkBytes: number, skip: CorpusSkip | undefined, stop?: AbortSignal,
): Promise<CorpusSource> {
  const scanning = scanCorpus(paths, docs, chunkBytes, skip, SENTENCE_RULE_VERSION);
  try {
    for (;;) {
      await turn(stop);
      const step = scanning.next();
      if (step.done) return step.value;
      if (step.value === STANDARD_INPUT_UNREAD) await readStandardInput(stop);
    }
  } finally {
    // a stop between chunks closes the file being read
    scanning.return(undefined as never);
  }
}

/** streamCorpus's first pass, yielding after each chunk it reads and as readCorpusFiles does. */
function* scanCorpus(
  paths: readonly string[], docs: DocsMode, chunkBytes: number, skip: CorpusSkip | undefined, sentenceRule: SentenceRule,
): Generator<CorpusStep, CorpusSource> {
  checkedOption('chunkBytes', CHUNK_BYTES_RANGE.schema, chunkBytes);
  const cutter = (): DocumentCutter => new DocumentCutter(docs, sentenceRule);
  const scans = yield* readCorpusFiles(paths, docs, (path, inFolder) => scanFile(path, docs, cutter(), chunkBytes, inFolder), skip);
  const files = scans.map((scan) => scan.file);
  const read = scans.map((scan) => scan.path);
  const documents = scans.reduce((n, scan) => n + scan.documents, 0);
  const chars = scans.reduce((n, scan) => n + scan.chars, 0);
  return {
    files, docs, sentenceRule, documents,
    totalTokens: 1 + chars + documents,
    *pieces() {
      for (const path of read) yield* filePieces(path, cutter(), chunkBytes);
    },
  };
}

/**
 * Refuses the text file at `path` (`-`: standard input, held) as `readTextFile` refuses it (UTF-16, a NUL byte, invalid
 * UTF-8, each named as it names them) without holding it: read `chunkBytes` at a time, for `textFilePieces` to read again.
 */
export function checkTextFile(path: string, chunkBytes = CHUNK_BYTES): void {
  checkedOption('chunkBytes', CHUNK_BYTES_RANGE.schema, chunkBytes);
  ranToEnd(scanFile(path, 'file', new DocumentCutter('file'), chunkBytes, false));
}

/**
 * The text file at `path` as `readTextFile` then `Vocabulary.tokenize` read it (a leading BOM dropped, CRLF as LF), cut
 * into documents by `rule`, read `chunkBytes` at a time: the pieces of a `CorpusSource`.
 */
export function textFilePieces(path: string, rule: DocumentRule, chunkBytes = CHUNK_BYTES): Generator<CorpusPiece> {
  checkedOption('chunkBytes', CHUNK_BYTES_RANGE.schema, chunkBytes);
  return filePieces(path, new DocumentCutter(rule.docs, rule.sentenceRule), chunkBytes);
}

/** What the first pass found in one file (`FileRead`). */
interface FileScan {
  /** Where the file is read (`-`: standard input), and what the corpus records of it. */
  path: string;
  file: CorpusFile;
  documents: number;
  /** Code points in the file's documents. */
  chars: number;
  holdsText: boolean;
}

/**
 * One file's bytes, hash, documents and characters. UTF-16 (its byte-order mark) is refused as such,
 * in a folder too; a NUL byte refuses the file (null in a folder: not a text file, skipped), before
 * any invalid UTF-8 is reported.
 */
function* scanFile(
  path: string, docs: DocsMode, cutter: DocumentCutter, chunkBytes: number, inFolder: boolean,
): Generator<void, FileScan | null> {
  const name = fileName(path);
  const hash = createHash('sha256');
  const decoder = new Utf8ChunkDecoder(path);
  let bytes = 0;
  let nul = -1;
  let head = new Uint8Array(0);
  let failure: unknown = null;
  let documents = 0;
  let chars = 0;
  let holdsText = false;
  const cut = (text: string): readonly CorpusPiece[] => {
    holdsText ||= text.length > 0;
    return cutter.push(text);
  };
  const count = (pieces: readonly CorpusPiece[]): void => {
    for (const piece of pieces) {
      if (piece === DOCUMENT_END) documents++;
      else chars += codePointCount(piece);
    }
  };
  for (const chunk of fileChunks(path, chunkBytes)) {
    hash.update(chunk);
    if (head.length < 2) head = Buffer.concat([head, chunk.subarray(0, 2 - head.length)]);
    if (nul < 0) {
      const at = chunk.indexOf(NUL);
      if (at >= 0) nul = bytes + at;
    }
    bytes += chunk.length;
    if (nul < 0 && failure === null) {
      try {
        count(cut(decoder.push(chunk)));
      } catch (err) {
        // a string past V8's longest (2^29 − 24 characters): the text held while no cut came
        failure = err instanceof RangeError
          ? new CorpusError((flag) => `${name}: more text than one string can hold before a place to cut it into documents ` +
            `(${docs === 'line' ? 'a line break' : 'a blank line'}); use ${flag('docs')} file${docs === 'line' ? '' : ' or line'}`)
          : err;
      }
    }
    yield;
  }
  // a UTF-16 file is text meant for the corpus, in a folder too, where a binary file is not
  const utf16 = utf16Refusal(path, head);
  if (utf16 !== null) throw utf16;
  if (nul >= 0 && inFolder) return null;
  if (nul >= 0) throw notText(name, nul);
  if (failure !== null) throw failure;
  count(cut(decoder.end()));
  count(cutter.end());
  return { path, file: { path: name, bytes, sha256: hash.digest('hex') }, documents, chars, holdsText };
}

/** One file's pieces, read again: its documents' text as it is decoded, each followed by its end. */
function* filePieces(path: string, cutter: DocumentCutter, chunkBytes: number): Generator<CorpusPiece> {
  const decoder = new Utf8ChunkDecoder(path);
  for (const chunk of fileChunks(path, chunkBytes)) yield* cutter.push(decoder.push(chunk));
  yield* cutter.push(decoder.end());
  yield* cutter.end();
}
