import {
  type Stats, closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, readdirSync,
  readlinkSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { withArticle } from '../input/issues.js';
import { LINK_LOOP, NAMED_PIPE, STANDARD_STREAM, notFoundLine, specialKind, standardStreamLine } from '../input/paths.js';
import { decodeUtf8 } from '../text/utf8.js';
import { CheckpointError, shortMessage } from './errors.js';

/**
 * The parsed JSON of the file at `path`; a missing file, a folder or text that is not JSON is
 * a one-line CheckpointError (`what` names the kind of file, e.g. "checkpoint").
 */
export function readJsonFile(path: string, what: string): unknown {
  return parseJsonBytes(readFileBytes(path, what), path);
}

/** The refusal of `path`, read as a `what` (`checkpoint`, `model file`), where it is `kind` (`a folder`, `a device`). */
function notAFile(path: string, kind: string, what: string): CheckpointError {
  return new CheckpointError(`${path} is ${kind}, not ${withArticle(what)}`);
}

/**
 * The bytes of the file at `path`; a missing file, a folder or a device (`/dev/zero`, which may have no end to read to) is a
 * one-line CheckpointError (`what` names the kind of file; a missing one's line ends with `otherwise`, what to name instead,
 * where notFoundLine knows no likelier cause; `-`, which names no file here, is named standard input). A named pipe is read, once.
 */
export function readFileBytes(path: string, what: string, otherwise?: string): Buffer {
  if (path === '') throw new CheckpointError(`the ${what}'s path is empty: name a file`);
  const kind = specialFileKind(path);
  if (kind !== null && kind !== NAMED_PIPE) throw notAFile(path, kind, what);
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && path === STANDARD_STREAM) throw new CheckpointError(standardStreamLine('input', `read a ${what} from`, otherwise ?? `name a ${what}`));
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new CheckpointError(notFoundLine(what, path, otherwise));
    if (code === 'EISDIR') throw notAFile(path, 'a folder', what);
    throw new CheckpointError(`cannot read ${what} ${path}: ${shortMessage(error)}`);
  }
}

/**
 * `length` bytes of the file at `path` from byte `from` (fewer where it ends first), read alone; null for no file, one
 * unreadable, and anything but a file: a named pipe's bytes, once read, are gone, and one with no writer would be waited on.
 */
export function readFilePart(path: string, length: number, from = 0): Buffer | null {
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      if (!fstatSync(fd).isFile()) return null;
      const head = Buffer.alloc(length);
      return head.subarray(0, readSync(fd, head, 0, length, from));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** A JSON file of rnn's that names its `format` first, as rnn writes each: `{"format":"rnn-checkpoint/1", …`. */
const FORMAT_FIRST = /^\s*\{\s*"format"\s*:\s*"([^"\\]{1,64})"/;

/**
 * The `format` the file at `path` names where it begins as rnn's JSON files do (`rnn-checkpoint/1`,
 * `rnn-state/1`, `rnn-prepared/1`), its first bytes alone read; null for one that begins otherwise, or none.
 */
export function formatWrittenFirst(path: string): string | null {
  return FORMAT_FIRST.exec(readFilePart(path, 128)?.toString('utf8') ?? '')?.[1] ?? null;
}

/**
 * UTF-8 JSON bytes (of the file at `path`) parsed, a leading BOM skipped; bytes that are not
 * UTF-8 (never read with U+FFFD in their place), more text than a string holds, no text (an empty file), or text
 * that is not JSON are a one-line CheckpointError.
 */
export function parseJsonBytes(bytes: Uint8Array, path: string): unknown {
  let text: string;
  try {
    text = decodeUtf8(path, bytes);
  } catch (error) {
    throw new CheckpointError((error as Error).message); // one line naming the file (and the byte that is not UTF-8)
  }
  if (text.trim() === '') {
    // nothing to parse: no value begun, so none cut short
    const what = bytes.length === 0 ? 'is empty (0 bytes)' : `holds only white space (${bytes.length} bytes)`;
    throw new CheckpointError(`${path} ${what}, not JSON: name another file, or copy this one again`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const cutShort = endsMidValue(text, (error as Error).message) ? '; it ends mid-way: the file is cut short' : '';
    throw new NotJsonError(path, `not JSON: ${shortMessage(error)}${cutShort}`);
  }
}

/**
 * A file whose text is not JSON; `reason` says why without naming the file: JSON.parse's reason, and where it ends
 * mid-value, that it is cut short.
 */
export class NotJsonError extends CheckpointError {
  constructor(path: string, readonly reason: string) {
    super(`${path} is ${reason}`);
  }
}

/** Whether JSON.parse's `message` about `text` places the fault at its end: text cut short (an interrupted copy), not text mistyped. */
function endsMidValue(text: string, message: string): boolean {
  const position = / at position (\d+)/.exec(message);
  return message.includes('end of JSON input') || (position !== null && Number(position[1]) >= text.trimEnd().length);
}

/**
 * Writes `text` (or bytes) to a temp file beside `path`, flushes it to disk and renames it over `path`,
 * so readers (and a crash) see either the previous file or the new one. A `path` that is a link is
 * written where it leads (`writeTarget`), and stays a link. `what` names the file in the one-line error.
 */
export function writeFileAtomic(path: string, text: string | Uint8Array, what = ''): void {
  if (path === '') throw new CheckpointError(`cannot write ${what}to an empty path: name a file`);
  const target = writeTarget(path, what);
  if (isFolder(target)) throw new CheckpointError(`cannot write ${what}${path}: it is a folder; name a file`);
  // renamed over, a device or a pipe (`/dev/null`) would be replaced by a file
  const kind = specialFileKind(target);
  if (kind !== null) throw new CheckpointError(`cannot write ${what}${path}: it is ${kind}, not a file; name a file`);
  const dir = dirname(target);
  const temp = `${target}${TEMP_SUFFIX}${process.pid}`;
  let fd: number | null = null;
  try {
    makeFolders(dir);
    removeAbandonedTemps(dir, (entry) => tempFileWriter(entry, [basename(target)]));
    fd = openSync(temp, 'w', 0o644);
    writeFileSync(fd, text);
    fsyncSync(fd);
    closeSync(fd);
    fd = null;
    renameSync(temp, target);
  } catch (error) {
    if (fd !== null) {
      try {
        closeSync(fd);
      } catch {
        /* already failing */
      }
    }
    try {
      if (statSync(temp).isFile()) unlinkSync(temp);
    } catch {
      /* nothing to clean up */
    }
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'EEXIST' || code === 'ENOTDIR' ? `${dir} is not a folder (a file is in its way)` : writeFailure(error);
    throw new CheckpointError(`cannot write ${what}${linkedPath(path, target)}: ${why}`);
  }
  syncFolder(dir);
}

/**
 * The file a write to `path` replaces: `path` itself, or where the link at `path` leads, followed through further links
 * (a link to nothing: the file it names, to be made), as `cp` and a shell's `>` write; a writer renames its temp file over
 * this, so that the link stays a link. A loop of links is a one-line CheckpointError (`what` names the file's kind).
 */
export function writeTarget(path: string, what = ''): string {
  const seen = new Set<string>();
  let current = path;
  for (;;) {
    let target: string;
    try {
      if (!lstatSync(current).isSymbolicLink()) return current;
      target = readlinkSync(current);
      // a relative link is read from the folder it is in, as the kernel reads it (`..` past a linked folder)
      current = isAbsolute(target) ? target : join(realpathSync(dirname(current)), target);
    } catch {
      return current; // nothing there, or nothing reachable: the write says why
    }
    if (seen.has(current)) {
      throw new CheckpointError(`cannot write ${what}${path}: ELOOP: ${WRITE_REMEDY.ELOOP}`);
    }
    seen.add(current);
  }
}

/** `path` as a message names the file written through it: with where it leads (`writeTarget`), where it is a link. */
function linkedPath(path: string, target: string): string {
  return target === path ? path : `${path} (a link to ${target})`;
}

/** What to do about an error writing a file or making a folder, by its code. */
export const WRITE_REMEDY: Record<string, string> = {
  EROFS: 'it is on a read-only file system; choose a folder on a writable disk',
  EACCES: 'permission denied; choose a folder you can write to',
  EPERM: 'permission denied; choose a folder you can write to',
  ENOSPC: 'the disk is full; free some space or choose another disk',
  EDQUOT: 'the disk quota is used up; free some space or choose another disk',
  ENOTDIR: 'a part of the path is a file, not a folder; choose another path',
  EEXIST: 'a part of the path is a file (or a link to nothing), not a folder; choose another path',
  ENOENT: 'no folder can be made there; choose another path',
  ELOOP: `${LINK_LOOP}; link it to a file, or remove the link`,
  ENAMETOOLONG: 'the path is too long for its file system (on most, a name of at most 255 bytes and a path of at most 4,096), ' +
    "counting what rnn adds to a file's name while it writes it (.tmp-PID, .lock); choose a shorter one",
};

/** Why writing failed, in words where the error's code has some (`WRITE_REMEDY`): `CODE: what to do`. */
export function writeFailure(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const remedy = code === undefined ? undefined : WRITE_REMEDY[code];
  return remedy === undefined ? shortMessage(error) : `${code}: ${remedy}`;
}

/**
 * Creates the folder `dir` and those above it that are missing (`mkdir -p`), one at a time, so
 * that what stops it fails with its own code (a recursive mkdirSync says ENOENT for a read-only
 * file system, and never returns where a folder cannot be made under one that exists, as under
 * /proc). Throws the error of the first folder that cannot be made.
 */
export function makeFolders(dir: string): void {
  const missing: string[] = [];
  for (let folder = resolve(dir); !existsSync(folder) && dirname(folder) !== folder; folder = dirname(folder)) missing.unshift(folder);
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      // made meanwhile by another process
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || !isFolder(folder)) throw error;
    }
  }
}

/** What `path` is where it is neither a file nor a folder (through links): a device, a named pipe or a socket (specialKind); else null. */
export function specialFileKind(path: string): string | null {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch {
    return null;
  }
  return specialKind(stats);
}

/** What the existing `path`, no folder, is as a refusal names it: a device, a named pipe or a socket (specialFileKind), else a file. */
export function notFolderKind(path: string): string {
  return specialFileKind(path) ?? 'a file';
}

/** Whether `path` is a file (not: none there, a folder, or none reachable). */
export function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Whether `path` is a folder (not: none there, or none reachable, which reading or writing it then reports). */
export function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether two paths name one file or folder, through links too (a path to nothing: by its absolute form). */
export function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  return real(a) === real(b);
}

/** `writeFileAtomic` writes `path` first to `path` + TEMP_SUFFIX + its pid; so do the other writers of a file that must appear whole. */
export const TEMP_SUFFIX = '.tmp-';
/** A pid as wide as any in a name a writer gives its file (2^22, the highest pid_max Linux allows): a probe's name counts it. */
export const WIDEST_PID = String(2 ** 22);
const TEMP_NAME = /^(.*)\.tmp-(\d+)$/;

/** The pid that wrote the file named `entry` if it is `writeFileAtomic`'s temp file of one of the files named `of`; else null. */
export function tempFileWriter(entry: string, of: readonly string[]): number | null {
  const match = TEMP_NAME.exec(entry);
  return match !== null && of.includes(match[1]!) ? Number(match[2]) : null;
}

/** Whether a file name is one of `writeFileAtomic`'s temp files, which no reader should take for the file itself. */
export function isTempFile(name: string): boolean {
  return TEMP_NAME.test(name);
}

/**
 * Removes the temp files in `dir` that a writer killed mid-save left: each file `writerOf` names
 * the writing process of (its pid; null for a file that is no temp file) whose process no longer
 * runs here. A live writer's temp file is left alone.
 */
export function removeAbandonedTemps(dir: string, writerOf: (name: string) => number | null): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    const pid = writerOf(entry);
    if (pid === null || pid === process.pid || processIsRunning(pid)) continue;
    try {
      unlinkSync(join(dir, entry));
    } catch {
      /* removed by someone else */
    }
  }
}

/** Whether a process with this id exists here (`kill(pid, 0)`: ESRCH means none; EPERM, one we may not signal). */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported everywhere (e.g. Windows); the rename itself is already atomic */
  }
}
