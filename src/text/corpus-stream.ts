import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import {
  type CorpusFile, type CorpusPiece, type CorpusSource, CorpusError, type DocsMode, DOCUMENT_END, codePointCount, errorCode,
  filesUnder, firstInvalidUtf8Offset, invalidUtf8, isBlank, NUL, type PreparedData, type PrepareOptions, prepareData,
  splitDocuments, statOrThrow,
} from './corpus.js';

/*
 * A corpus of any size, read as a stream: each file in chunks, decoded as it comes and cut into
 * documents with `splitDocuments`, never held whole as one string. Each pass over the corpus
 * rereads the files.
 */

/** Bytes read from a file at a time. */
export const CHUNK_BYTES = 4 << 20;

/** The corpus at `paths` prepared as `prepareData` prepares `readCorpus(paths, docs)`, but streamed (`streamCorpus`). */
export function loadCorpusData(
  paths: readonly string[], docs: DocsMode, options: PrepareOptions, chunkBytes = CHUNK_BYTES,
): PreparedData {
  return prepareData(streamCorpus(paths, docs, chunkBytes), options);
}

/**
 * The corpus `readCorpus` reads, as a source of pieces read from the files `chunkBytes` at a
 * time. This first pass hashes each file and counts its documents and tokens; it refuses what
 * `readCorpus` refuses, with the same messages (a folder's files with NUL bytes are skipped).
 */
export function streamCorpus(paths: readonly string[], docs: DocsMode, chunkBytes = CHUNK_BYTES): CorpusSource {
  if (!Number.isInteger(chunkBytes) || chunkBytes < 4) throw new RangeError(`chunkBytes must be an integer ≥ 4, got ${chunkBytes}`);
  const files: CorpusFile[] = [];
  let documents = 0;
  let chars = 0;
  const add = (scan: FileScan | null): void => {
    if (scan === null) return;
    files.push(scan.file);
    documents += scan.documents;
    chars += scan.chars;
  };
  for (const path of paths) {
    const stats = statOrThrow(path, 'corpus file not found');
    if (stats.isDirectory()) {
      const before = files.length;
      for (const file of filesUnder(path)) add(scanFile(file, docs, chunkBytes, true));
      if (files.length === before) throw new CorpusError(`corpus folder has no text files: ${path}`);
    } else if (stats.isFile()) {
      add(scanFile(path, docs, chunkBytes, false));
    } else {
      throw new CorpusError(`corpus path is neither a file nor a folder: ${path}`);
    }
  }
  if (documents === 0) throw new CorpusError(`corpus is empty: no text in ${paths.join(', ')}`);
  return {
    files, docs, documents,
    totalTokens: 1 + chars + documents,
    *pieces() {
      for (const file of files) yield* filePieces(file.path, docs, chunkBytes);
    },
  };
}

interface FileScan {
  file: CorpusFile;
  documents: number;
  /** Code points in the file's documents. */
  chars: number;
}

/**
 * One file's bytes, hash, documents and characters. A NUL byte refuses the file (null in a
 * folder: not a text file, skipped), before any invalid UTF-8 is reported, as `readCorpus` does.
 */
function scanFile(path: string, docs: DocsMode, chunkBytes: number, inFolder: boolean): FileScan | null {
  const hash = createHash('sha256');
  const decoder = new Utf8ChunkDecoder(path);
  const cutter = new DocumentCutter(docs);
  let bytes = 0;
  let nul = -1;
  let failure: unknown = null;
  let documents = 0;
  let chars = 0;
  const count = (pieces: readonly CorpusPiece[]): void => {
    for (const piece of pieces) {
      if (piece === DOCUMENT_END) documents++;
      else chars += codePointCount(piece);
    }
  };
  for (const chunk of fileChunks(path, chunkBytes)) {
    hash.update(chunk);
    if (nul < 0) {
      const at = chunk.indexOf(NUL);
      if (at >= 0) nul = bytes + at;
    }
    bytes += chunk.length;
    if (nul < 0 && failure === null) {
      try {
        count(cutter.push(decoder.push(chunk)));
      } catch (err) {
        // a string past V8's longest (2^29 − 24 characters): the text held while no cut came
        failure = err instanceof RangeError
          ? new CorpusError((name) => `${path}: more text than one string can hold before a place to cut it into documents ` +
            `(${docs === 'line' ? 'a line break' : 'a blank line'}); use ${name('docs')} file${docs === 'line' ? '' : ' or line'}`)
          : err;
      }
    }
  }
  if (nul >= 0) {
    if (inFolder) return null;
    throw new CorpusError(`${path}: not a text file (NUL byte at offset ${nul})`);
  }
  if (failure !== null) throw failure;
  count(cutter.push(decoder.end()));
  count(cutter.end());
  return { file: { path, bytes, sha256: hash.digest('hex') }, documents, chars };
}

/** One file's pieces, read again: its documents' text as it is decoded, each followed by its end. */
function* filePieces(path: string, docs: DocsMode, chunkBytes: number): Generator<CorpusPiece> {
  const decoder = new Utf8ChunkDecoder(path);
  const cutter = new DocumentCutter(docs);
  for (const chunk of fileChunks(path, chunkBytes)) yield* cutter.push(decoder.push(chunk));
  yield* cutter.push(decoder.end());
  yield* cutter.end();
}

/** The file's bytes, `chunkBytes` at a time, in one buffer reused from chunk to chunk. */
function* fileChunks(path: string, chunkBytes: number): Generator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CorpusError(`cannot read ${path}: ${errorCode(err)}`);
  }
  try {
    const buffer = new Uint8Array(chunkBytes);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, chunkBytes, null);
      } catch (err) {
        throw new CorpusError(`cannot read ${path}: ${errorCode(err)}`);
      }
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

const LF = 0x0a;

/**
 * A file's UTF-8 bytes → text, chunk by chunk, as `readCorpus` decodes a file whole: the BOM
 * stripped, CRLF read as LF, invalid UTF-8 refused naming the file, byte offset and line. A
 * character cut by a chunk's end, or a CR that ends one, waits for the next chunk.
 */
export class Utf8ChunkDecoder {
  // With ignoreBOM left false, a streaming decode() drops a BOM at the start of the stream only.
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  /** The first bytes of a character cut by the last chunk's end (at most three). */
  private held: Uint8Array = new Uint8Array(0);
  /** Bytes decoded so far, and the line breaks among them. */
  private offset = 0;
  private lineBreaks = 0;
  private heldCR = false;

  constructor(private readonly path: string) {}

  /** The text of `chunk` (after what was held), short of a character or CR it cuts. */
  push(chunk: Uint8Array): string {
    const bytes = this.held.length === 0 ? chunk : concat(this.held, chunk);
    const whole = completeUtf8Length(bytes);
    this.held = bytes.slice(whole);
    return this.text(this.decode(bytes.subarray(0, whole), true));
  }

  /** What is left at the end of the file: a held CR, or the refusal of a character cut short. */
  end(): string {
    const rest = this.decode(this.held, false);
    this.held = new Uint8Array(0);
    return this.text(rest) + (this.heldCR ? '\r' : '');
  }

  private decode(bytes: Uint8Array, stream: boolean): string {
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream });
    } catch {
      const at = Math.max(0, firstInvalidUtf8Offset(bytes));
      throw invalidUtf8(this.path, this.offset + at, 1 + this.lineBreaks + countLineBreaks(bytes.subarray(0, at)), bytes[at] ?? 0);
    }
    this.offset += bytes.length;
    this.lineBreaks += countLineBreaks(bytes);
    return text;
  }

  /** CRLF as LF, a CR at the end held back until the next text shows what follows it. */
  private text(decoded: string): string {
    let text = this.heldCR ? `\r${decoded}` : decoded;
    this.heldCR = text.endsWith('\r');
    if (this.heldCR) text = text.slice(0, -1);
    return text.replace(/\r\n/g, '\n');
  }
}

function countLineBreaks(bytes: Uint8Array): number {
  let n = 0;
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) n++;
  return n;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/**
 * The length of `bytes` short of a character its end cuts: a lead byte among the last three
 * whose sequence (two, three or four bytes, by the lead) runs past the end.
 */
function completeUtf8Length(bytes: Uint8Array): number {
  for (let i = bytes.length - 1; i >= Math.max(0, bytes.length - 3); i--) {
    const b = bytes[i]!;
    if (b < 0x80) return bytes.length;
    if (b >= 0xc0) return i + (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/**
 * Cuts a file's text, arriving in pieces, into the documents `splitDocuments` cuts from the whole
 * of it. At the 'file' level each piece is the next part of the one document. Else the text is
 * held up to the last place where a cut leaves the documents as they are — a line break for
 * 'line', the start of a blank line for 'blank' and 'sentence' (a paragraph never spans one) —
 * and `splitDocuments` cuts what comes before it. (A file with no such place is held whole.)
 */
export class DocumentCutter {
  private rest = '';
  private any = false;

  constructor(private readonly docs: DocsMode) {}

  push(text: string): CorpusPiece[] {
    if (this.docs === 'file') {
      if (text.length === 0) return [];
      this.any = true;
      return [text];
    }
    const scanFrom = Math.max(0, this.rest.lastIndexOf('\n'));
    this.rest += text;
    const cut = this.lastCut(scanFrom);
    if (cut < 0) return [];
    const before = this.rest.slice(0, cut);
    this.rest = this.rest.slice(this.docs === 'line' ? cut + 1 : cut);
    return documentPieces(splitDocuments(before, this.docs));
  }

  end(): CorpusPiece[] {
    if (this.docs === 'file') return this.any ? [DOCUMENT_END] : [];
    const rest = this.rest;
    this.rest = '';
    return documentPieces(splitDocuments(rest, this.docs));
  }

  /**
   * Where the held text may be cut, looking no earlier than `scanFrom`: 'line', at its last line
   * break (which is dropped); else after the line break that starts its last blank line
   * (followed by a line break of its own). -1 when there is no such place.
   */
  private lastCut(scanFrom: number): number {
    if (this.docs === 'line') return this.rest.lastIndexOf('\n');
    let cut = -1;
    for (let at = this.rest.indexOf('\n', scanFrom); at >= 0; at = this.rest.indexOf('\n', at + 1)) {
      const next = this.rest.indexOf('\n', at + 1);
      if (next < 0) break;
      if (isBlank(this.rest.slice(at + 1, next))) cut = at + 1;
    }
    return cut;
  }
}

function documentPieces(documents: readonly string[]): CorpusPiece[] {
  return documents.flatMap((doc) => [doc, DOCUMENT_END]);
}
