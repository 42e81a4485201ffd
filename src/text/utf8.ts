import type { Stats } from 'node:fs';
import { CorpusError } from './corpus.js';
import {
  NUL, STDIN_NAME, STDIN_PATH, fileName, notText, otherEncodingAdvice, readOrThrow, refuseEmptyPath, standardInput, statOrThrow,
  utf16Refusal,
} from './corpus-files.js';
import { lfLineEnds } from './documents.js';
import { grouped } from '../input/counts.js';
import { hexByte } from '../input/issues.js';

/*
 * UTF-8 bytes → text, whole or chunk by chunk, the same way: a leading BOM dropped, and invalid
 * UTF-8 refused naming the file, the byte offset, the line and the byte. A corpus file's CRLF
 * line ends read as LF as it is decoded; any other text's, where a model reads it (`textAsRead`).
 */

/**
 * A whole text file (e.g. `--prime-file`), or standard input for `-`, as written: its leading BOM
 * is dropped where a model reads the text (`textAsRead`), once, as from a string. UTF-16 (its
 * byte-order mark) and a NUL byte (a binary file) are refused, as in a corpus file; so is a device (`/dev/zero`), which
 * may have no end to read to. A named pipe is read, once.
 */
export function readTextFile(path: string): string {
  const name = fileName(path);
  let bytes: Uint8Array;
  if (path === STDIN_PATH) {
    bytes = standardInput();
  } else {
    textFileStats(path);
    bytes = readOrThrow(path);
  }
  const utf16 = utf16Refusal(path, bytes);
  if (utf16 !== null) throw utf16;
  const nul = bytes.indexOf(NUL);
  if (nul >= 0) throw notText(name, nul);
  return decodeUtf8(name, bytes, UTF8_AS_WRITTEN, otherEncodingAdvice(path));
}

/** What `readTextFile` finds of a path (not `-`) before it reads the file: refused where empty, missing or a device. */
export function textFileStats(path: string): Stats {
  refuseEmptyPath(path, 'text');
  const stats = statOrThrow(path, 'file');
  if (stats.isCharacterDevice() || stats.isBlockDevice()) {
    throw new CorpusError(`${path} is a device, not a text file: give a file, or its text on ${STDIN_NAME} as ${STDIN_PATH}`);
  }
  return stats;
}

/**
 * The decoder of a whole file's bytes: invalid UTF-8 throws (never read as U+FFFD), and with
 * ignoreBOM left false a leading BOM (an editor's) is dropped.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The decoder of a text a model reads whole: its BOM kept for `textAsRead`. */
const UTF8_AS_WRITTEN = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Whether `head`, a file's first bytes, begins a UTF-8 text: no NUL byte (a binary file's), and no invalid UTF-8 but
 * a character left unfinished where `head` ends (streamed, the decoder waits for the rest).
 */
export function beginsAsText(head: Uint8Array): boolean {
  if (head.includes(NUL)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return true;
  } catch {
    return false;
  }
}

/**
 * UTF-8 bytes → text by `decoder`: `UTF8`, which drops a leading BOM, unless given another
 * (`readTextFile`'s keeps it). Invalid UTF-8 is refused naming the file, the byte offset, its line
 * and the byte (`utf8Fault`), then `advice` where given (a text file's: `otherEncodingAdvice`);
 * so is more text than one string holds.
 */
export function decodeUtf8(path: string, bytes: Uint8Array, decoder = UTF8, advice?: string): string {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    const fault = utf8Fault(bytes);
    if (fault === null) {
      // valid UTF-8 that decodes to more than V8's longest string (2^29 − 24 characters)
      throw new CorpusError(`${path}: ${grouped(bytes.length)} bytes is more text than one file can be read as ` +
        '(at most 2^29 characters, about 512 MB of ASCII)');
    }
    throw new CorpusError(`${path}: ${fault}${advice === undefined ? '' : `; ${advice}`}`);
  }
  return text;
}

/**
 * A corpus file's UTF-8 bytes → text, chunk by chunk, as `decodeUtf8` decodes a file whole, its
 * CRLF line ends as LF (`lfLineEnds`). A character cut by a chunk's end, or a CR that ends one,
 * waits for the next chunk.
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

  /** `path`: the file's, or `STDIN_PATH`. */
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
    return lfLineEnds(text);
  }
}

/**
 * The one-line error for a text file's invalid UTF-8: the file, the byte offset, its line
 * (1-based) and the byte, and how to convert a file of another encoding.
 */
function invalidUtf8(path: string, offset: number, line: number, byte: number): CorpusError {
  return new CorpusError(`${fileName(path)}: ${invalidUtf8Phrase(offset, line, byte)}; ${otherEncodingAdvice(path)}`);
}

function invalidUtf8Phrase(offset: number, line: number, byte: number): string {
  return `not valid UTF-8 at byte offset ${offset} (line ${line}, byte 0x${hexByte(byte)})`;
}

/**
 * Where `bytes` from `from` on stop being UTF-8, as invalidUtf8 says it (for a reader whose errors
 * are its own), the offset counted from the start of `bytes` and the lines from `from`; null where they do not.
 */
export function utf8Fault(bytes: Uint8Array, from = 0): string | null {
  const text = bytes.subarray(from);
  const offset = firstInvalidUtf8Offset(text);
  return offset < 0 ? null : invalidUtf8Phrase(from + offset, 1 + countLineBreaks(text.subarray(0, offset)), text[offset]!);
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

const LF = 0x0a;

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
