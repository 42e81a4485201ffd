import {
  closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync, type Stats,
} from 'node:fs';
import { addAbortSignal } from 'node:stream';
import { join, parse, resolve } from 'node:path';
import { isatty } from 'node:tty';
import { hexByte, shellWord } from '../input/issues.js';
import { LINK_LOOP, STANDARD_STREAM, notFoundLine, specialKind, trailingSeparator, unexpandedHome } from '../input/paths.js';
import { type CorpusFile, CorpusError, whiteSpaceOnly } from './corpus.js';
import type { DocsMode } from './documents.js';
import { counted, firstNamed, grouped } from '../input/counts.js';

/*
 * Which files a corpus is read from: the paths given (`-`: standard input), a folder walked
 * recursively, and what a folder's walk leaves out. Reading a file, whole or in chunks.
 */

/** What names standard input where a command reads a text file or a corpus (and standard output, which none writes). */
export const STDIN_PATH = STANDARD_STREAM;
/** Standard input as messages and records name it (a corpus's recorded files are otherwise absolute paths). */
export const STDIN_NAME = 'standard input';

/** Recorded corpus files (standard input as STDIN_NAME) as a command line names them, `-` for standard input; each path `quote`d. */
export function corpusArguments(files: readonly string[], quote: (path: string) => string = (path) => path): string[] {
  return files.map((path) => (path === STDIN_NAME ? STDIN_PATH : quote(path)));
}

/** What every path to one file shares, through links hard or symbolic: its device and inode. */
export function fileIdentity(stats: Stats): string {
  return `${stats.dev}:${stats.ino}`;
}

/** How a message or a record names the file read at `path`. */
export function fileName(path: string): string {
  return path === STDIN_PATH ? STDIN_NAME : path;
}

/**
 * A corpus path made absolute, so that a checkpoint's recorded files can be found from any folder; `-` stays standard input.
 * An empty path is refused: resolved, it would be the current folder, read whole. So are, here, where the path as given is
 * known (notFoundLine), one that begins with a ~ no shell expanded and names nothing, and one that ends in a separator and
 * names no folder (`notes.txt/`), whose separator resolving drops.
 */
export function absoluteCorpusPath(path: string): string {
  refuseEmptyPath(path, 'corpus');
  if (path === STDIN_PATH) return path;
  const absolute = resolve(path);
  const separator = trailingSeparator(path);
  if ((unexpandedHome(path) !== null || separator !== undefined) && !existsSync(path)) {
    throw new CorpusError(notFoundLine('corpus file', absolute + (separator ?? ''), undefined, path));
  }
  return absolute;
}

/** An empty path names no file: one line, rather than "not found: " or the current folder. `what`: 'corpus' or 'text'. */
export function refuseEmptyPath(path: string, what: 'corpus' | 'text'): void {
  if (path === '') throw new CorpusError(`the ${what}'s path is empty: name a file, ${what === 'corpus' ? 'a folder, ' : ''}or - for standard input`);
}

let stdinBytes: Buffer | null = null;

/**
 * Standard input's bytes, read to its end at the first call and kept, so that every pass over a
 * corpus (and every `-` of one command) reads the same text. A terminal is refused rather than
 * waited on: a text is piped or redirected, never typed, and a wait would look like a hang.
 */
export function standardInput(): Buffer {
  if (stdinBytes === null) {
    if (isatty(0)) {
      throw new CorpusError(`${STDIN_NAME} is a terminal, not a text: pipe the text in (cat notes.txt | rnn …), or name its file instead of -`);
    }
    stdinBytes = readToEnd(0, STDIN_NAME);
  }
  return stdinBytes;
}

/**
 * Reads standard input for standardInput where it is a pipe or a socket, as a stream, so that the event loop turns while
 * it waits for the writer: `stop`, aborted, ends the read by throwing its reason. Any other standard input (a file
 * redirected, a terminal refused) standardInput reads itself.
 */
export async function readStandardInput(stop?: AbortSignal): Promise<void> {
  if (stdinBytes !== null || isatty(0)) return;
  let stats: Stats;
  try {
    stats = fstatSync(0);
  } catch {
    return; // closed: standardInput's read names why
  }
  if (!stats.isFIFO() && !stats.isSocket()) return;
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of stop ? addAbortSignal(stop, process.stdin) : process.stdin) chunks.push(chunk as Buffer);
  } catch (err) {
    stop?.throwIfAborted();
    throw new CorpusError(cannotRead(STDIN_NAME, errorCode(err)));
  }
  stdinBytes = Buffer.concat(chunks);
}

/** What readCorpusFiles yields before it reads a standard input not yet read: the moment for readStandardInput. */
export const STANDARD_INPUT_UNREAD = Symbol('standard input unread');

/** What readCorpusFiles yields: a turn between chunks, or STANDARD_INPUT_UNREAD. */
export type CorpusStep = void | typeof STANDARD_INPUT_UNREAD;

/**
 * How long a read that found standard input's pipe empty waits before it reads again: the
 * first wait, doubled at each empty read after it up to the longest.
 */
const EMPTY_PIPE_WAIT_MS = { first: 1, longest: 50 };
const waitCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * The bytes of the open file `fd` to its end (`name` names it in an error). A pipe may be
 * non-blocking — node:process opens standard input as a stream when a module imports it whole,
 * as chalk does — and its read then fails with EAGAIN whenever the writer has not yet refilled
 * it: that read waits a moment and reads again, as a blocking one would have waited, longer
 * while the pipe stays empty (a writer that pauses costs next to no CPU).
 */
function readToEnd(fd: number, name: string): Buffer {
  const chunks: Buffer[] = [];
  const buffer = Buffer.allocUnsafe(1 << 20);
  let waitMs = EMPTY_PIPE_WAIT_MS.first;
  for (;;) {
    let n: number;
    try {
      n = readSync(fd, buffer, 0, buffer.length, null);
    } catch (err) {
      const code = errorCode(err);
      if (code !== 'EAGAIN') throw new CorpusError(cannotRead(name, code));
      Atomics.wait(waitCell, 0, 0, waitMs);
      waitMs = Math.min(2 * waitMs, EMPTY_PIPE_WAIT_MS.longest);
      continue;
    }
    waitMs = EMPTY_PIPE_WAIT_MS.first;
    if (n === 0) return Buffer.concat(chunks);
    chunks.push(Buffer.from(buffer.subarray(0, n)));
  }
}

/** The byte no text holds: a file with one is binary. */
export const NUL = 0x00;

/**
 * What a corpus folder's walk leaves out besides dot-names, and who hears of it: `why` says why to leave out a file or
 * folder found inside one (null to keep it); `leftOut` is told of each path left out, `why`'s and what the walk leaves out
 * itself (a named pipe, a socket, a device: no text it can read more than once; a file that is not text: NOT_TEXT), for
 * the notice the caller gives (leftOutText).
 */
export interface CorpusSkip {
  why(path: string, isFolder: boolean): string | null;
  leftOut(path: string, why: string): void;
}

/** A path a corpus folder's walk left out, and why. */
export interface SkippedFile {
  path: string;
  why: string;
}

/** Why a corpus folder's walk left out a file that holds a NUL byte (an image, an archive). */
export const NOT_TEXT = 'not text';

/** Files that are not text a list of what was left out names; the rest are counted, so that a folder of images reads in one line. */
const NOT_TEXT_NAMED = 3;

/**
 * What a corpus folder's walk left out, in words: each path with why (`… (a named pipe)`), then the files that are not
 * text together, the first NOT_TEXT_NAMED named (`412 files that are not text (a.png, b.png, c.png and 409 more)`).
 */
export function leftOutText(left: readonly SkippedFile[]): string {
  const notText = left.filter(({ why }) => why === NOT_TEXT).map(({ path }) => path);
  const named = left.filter(({ why }) => why !== NOT_TEXT).map(({ path, why }) => `${path} (${why})`);
  if (notText.length > 0) {
    const files = notText.length === 1 ? 'a file that is' : `${grouped(notText.length)} files that are`;
    named.push(`${files} not text (${firstNamed(notText, NOT_TEXT_NAMED, String)})`);
  }
  return named.join(', ');
}

/** The paths of a corpus's files that hold nothing (0 bytes), which `corpusFilesText` counts apart. */
export function emptyFiles(files: readonly Pick<CorpusFile, 'path' | 'bytes'>[]): string[] {
  return files.filter((file) => file.bytes === 0).map((file) => file.path);
}

/**
 * `2 files`, `2 files and 1 empty file`: a corpus's files as a line counts them, those that hold nothing (0 bytes) counted
 * apart, which a corpus records (its fingerprint hashes each file) though they give no text. `named`: the one file that holds
 * text by its path (`notes.txt and 1 empty file`).
 */
export function corpusFilesText(paths: readonly string[], empty: readonly string[], named = false): string {
  const texts = paths.filter((path) => !empty.includes(path));
  const holding = named && texts.length === 1 ? texts[0]! : counted(texts.length, 'file');
  return empty.length === 0 ? holding : `${holding} and ${counted(empty.length, 'empty file')}`;
}

/** What reading one file of a corpus found: its documents, and whether it holds text (a character, a leading byte-order mark apart). */
export interface FileRead {
  documents: number;
  holdsText: boolean;
}

/**
 * The corpus at `paths` (files or folders), each file passed to `read` in order: a folder is walked recursively in
 * sorted path order (`filesUnder`). `read` returns null for a file in a folder that is not text (a NUL byte: `notText`),
 * which is left out as NOT_TEXT; a file named in `paths` it must refuse. Refuses a folder with no text file, a corpus
 * with no document (text that `docs` cut into none is white space: the line names it so), and a file reached twice
 * (named twice, named and in a folder named, or by a link, hard or symbolic). Yields where `read` yields (between the
 * chunks it reads), so that its caller may let the event loop turn there, and STANDARD_INPUT_UNREAD before it reads a
 * standard input not yet read, which a caller that awaits reads then (readStandardInput).
 */
export function* readCorpusFiles<F extends FileRead>(
  paths: readonly string[], docs: DocsMode, read: (path: string, inFolder: boolean) => Generator<void, F | null>, skip?: CorpusSkip,
): Generator<CorpusStep, F[]> {
  const files: F[] = [];
  // a file read twice would train twice
  const reached: ReachedFiles = new Map();
  const readOnce = (path: string, inFolder: boolean): Generator<void, F | null> => {
    reachOnce(reached, path, 'corpus file', { where: 'in the corpus', each: 'file' });
    return read(path, inFolder);
  };
  for (const path of paths) {
    if (path === STDIN_PATH) {
      if (stdinBytes === null) yield STANDARD_INPUT_UNREAD;
      files.push((yield* readOnce(path, false))!);
      continue;
    }
    const stats = statOrThrow(path, 'corpus file');
    if (stats.isDirectory()) {
      const before = files.length;
      const left: SkippedFile[] = [];
      for (const file of filesUnder(path, skip, left)) {
        const found = yield* readOnce(file, true);
        if (found !== null) {
          files.push(found);
        } else {
          left.push({ path: file, why: NOT_TEXT });
          skip?.leftOut(file, NOT_TEXT);
        }
      }
      if (files.length === before) {
        throw new CorpusError(`corpus folder has no text files: ${path}${left.length > 0 ? `; left out of it: ${leftOutText(left)}` : ''}`);
      }
    } else if (stats.isFile()) {
      files.push((yield* readOnce(ownPath(path), false))!);
    } else {
      // a named pipe, a socket, a device; standard input is read once and held (standardInput), so that every pass sees the same text
      throw new CorpusError(`${path} is ${specialKind(stats) ?? 'neither a file nor a folder'}: a corpus is files and folders, ` +
        `read more than once; give its text on ${STDIN_NAME} as ${STDIN_PATH} instead`);
    }
  }
  if (files.every((file) => file.documents === 0)) {
    const names = paths.map(fileName);
    throw new CorpusError(files.some((file) => file.holdsText)
      ? (name) => `corpus is empty: ${whiteSpaceOnly(names)}, which ${name('docs')} ${docs} makes no document of`
      : `corpus is empty: no text in ${names.join(', ')}`);
  }
  return files;
}

/** What `steps` (readCorpusFiles, or a reading made of it) returns, run to its end at once. */
export function ranToEnd<T>(steps: Generator<CorpusStep, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/** Each file or folder reached (its fileIdentity; standard input as `-`), and the path that first reached it. */
export type ReachedFiles = Map<string, string>;

/**
 * Notes the file or folder at `path` (`-`: standard input) in `reached`, refusing one reached already, named again or by a
 * link, hard or symbolic: `… is ${where} twice (also as …): name each ${each} once`. One not found is refused as `what`.
 */
export function reachOnce(reached: ReachedFiles, path: string, what: string, twice: { where: string; each: string }): void {
  const real = path === STDIN_PATH ? path : fileIdentity(statOrThrow(path, what));
  const first = reached.get(real);
  if (first !== undefined) {
    throw new CorpusError(`${fileName(path)} is ${twice.where} twice${first === path ? '' : ` (also as ${fileName(first)})`}: ` +
      `name each ${twice.each} once`);
  }
  reached.set(real, path);
}

/**
 * A file named through a file descriptor (`/dev/stdin` or `/dev/fd/0` redirected from a file,
 * `/proc/self/fd/N`) by its own path, which the checkpoint records and a resume reads again; any
 * other path as given.
 */
function ownPath(path: string): string {
  return DESCRIPTOR_PATH.test(resolve(path)) ? realpathSync(path) : path;
}
const DESCRIPTOR_PATH = /^\/(?:dev\/(?:stdin|fd\/)|proc\/[^/]+\/fd\/)/;

/** The byte-order marks of UTF-16 (FF FE little-endian, FE FF big-endian), whose text UTF-8 cannot read. */
const UTF16_MARKS = [[0xff, 0xfe], [0xfe, 0xff]] as const;

/**
 * The refusal of a text file read at `path` whose first bytes (`head`) are a UTF-16 byte-order
 * mark, with the iconv command that converts it to UTF-8; null for any other file.
 */
export function utf16Refusal(path: string, head: Uint8Array): CorpusError | null {
  const mark = UTF16_MARKS.find(([first, second]) => head[0] === first && head[1] === second);
  if (mark === undefined) return null;
  const hex = mark.map(hexByte).join(' ');
  const convert = path === STDIN_PATH ? `pipe it through ${iconvCommand('UTF-16', path)}` : `convert it with ${iconvCommand('UTF-16', path)}`;
  return new CorpusError(`${fileName(path)} is UTF-16 text (it begins with the byte-order mark ${hex}), and rnn reads UTF-8: ${convert}`);
}

/**
 * What a text file at `path` that is not valid UTF-8 may be, and how to convert it: a file of a
 * one-byte encoding, Windows-1252 the commonest (Latin-1 is its subset), which UTF-8 cannot read.
 */
export function otherEncodingAdvice(path: string): string {
  return `rnn reads UTF-8: convert a file of another encoding first, e.g. from Windows-1252 (Latin-1) with ${iconvCommand('WINDOWS-1252', path)}`;
}

/**
 * The iconv command that converts `path` from `encoding` to UTF-8, beside it as NAME-utf8.EXT
 * (standard input: the command to pipe it through).
 */
function iconvCommand(encoding: string, path: string): string {
  const iconv = `iconv -f ${encoding} -t UTF-8`;
  if (path === STDIN_PATH) return iconv;
  const { dir, name, ext } = parse(path);
  return `${iconv} ${shellWord(path)} > ${shellWord(join(dir, `${name}-utf8${ext}`))}`;
}

/** The refusal of a file named as a corpus that holds a NUL byte at `offset` (binary). */
export function notText(path: string, offset: number): CorpusError {
  return new CorpusError(`${path}: not a text file (NUL byte at offset ${offset})`);
}

/**
 * The files under `folder`, recursively in sorted path order, skipping dotfiles, dot-folders, named pipes, sockets, devices
 * and what `skip` leaves out, which `left` gets and `skip` is told of. A link to nothing stops the walk:
 * the text it stood for may have moved, and a corpus read without it would be one file short.
 */
function filesUnder(folder: string, skip: CorpusSkip | undefined, left: SkippedFile[]): string[] {
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
      throw new CorpusError(`cannot read folder ${dir}: ${unreadableBecause(errorCode(err))}`);
    }
    for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
      const path = join(dir, name);
      const stats = statOrThrow(path, 'corpus file', 'put back what it leads to, or remove the link to read the folder without it');
      const isFolder = stats.isDirectory();
      const why = specialKind(stats) ?? skip?.why(path, isFolder) ?? null;
      if (why !== null) {
        left.push({ path, why });
        skip?.leftOut(path, why);
      } else if (isFolder) {
        walk(path);
      } else {
        found.push(path);
      }
    }
  };
  walk(folder);
  return found;
}

/**
 * The file or folder `path` names; one that names nothing (`what`: `corpus file`, `file`) is refused (notFoundLine, with
 * `otherwise`: what to do instead).
 */
export function statOrThrow(path: string, what: string, otherwise?: string): Stats {
  try {
    return statSync(path);
  } catch (err) {
    const code = errorCode(err);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CorpusError(notFoundLine(what, path, otherwise));
    throw new CorpusError(cannotRead(path, code));
  }
}

/** The file's bytes, whole. */
export function readOrThrow(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new CorpusError(cannotRead(path, errorCode(err)));
  }
}

/** The file's bytes (`-`: standard input's), `chunkBytes` at a time, in one buffer reused from chunk to chunk. */
export function* fileChunks(path: string, chunkBytes: number): Generator<Uint8Array> {
  if (path === STDIN_PATH) {
    const bytes = standardInput();
    for (let at = 0; at < bytes.length; at += chunkBytes) yield bytes.subarray(at, at + chunkBytes);
    return;
  }
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new CorpusError(cannotRead(path, errorCode(err)));
  }
  try {
    const buffer = new Uint8Array(chunkBytes);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, chunkBytes, null);
      } catch (err) {
        throw new CorpusError(cannotRead(path, errorCode(err)));
      }
      if (n === 0) return;
      yield buffer.subarray(0, n);
    }
  } finally {
    closeSync(fd);
  }
}

/** Why a file could not be read, in words where its code has some. */
function cannotRead(path: string, code: string): string {
  return `cannot read ${path}: ${unreadableBecause(code)}`;
}

/**
 * A read's error code in words where it has some, else the code itself. A file is read once it is
 * found (`statOrThrow`), a corpus file pass after pass: one not found then was removed since.
 */
function unreadableBecause(code: string): string {
  switch (code) {
    case 'EISDIR':
      return 'it is a folder; give a text file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ENOENT':
      return 'it is no longer there (removed since it was found)';
    case 'ELOOP':
      return `${LINK_LOOP}; link it to the file itself`;
    default:
      return code;
  }
}

/** The file system's code of a failed call (`ENOENT`), or the error itself as text where it has none. */
function errorCode(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') return err.code;
  return String(err);
}
