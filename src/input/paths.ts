import { type Stats, existsSync, lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { quoted, visible } from './issues.js';

/*
 * A path a user gave that names nothing, or would name what they did not mean: the likely cause, in words.
 */

/** What a link in a loop of links is, where it is read or written through (ELOOP). */
export const LINK_LOOP = 'it is a link in a loop of links, which leads to no file';

/** What `specialKind` calls a FIFO, which a reader may read once. */
export const NAMED_PIPE = 'a named pipe';

/** What `stats` are of where neither a file nor a folder: a device, a named pipe or a socket; else null. */
export function specialKind(stats: Stats): string | null {
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isFIFO()) return NAMED_PIPE;
  if (stats.isSocket()) return 'a socket';
  return null;
}

/** What a command line names standard input, or output, with: `-`. */
export const STANDARD_STREAM = '-';

/**
 * The line refusing `-` where rnn reads or writes a path but no standard stream: `stream` what `-` names there,
 * `does` what rnn does not do with it (`write to`), `instead` what to name.
 */
export function standardStreamLine(stream: 'input' | 'output', does: string, instead: string): string {
  return `${STANDARD_STREAM} names standard ${stream}, which rnn does not ${does}: ${instead}, ` +
    `or ./${STANDARD_STREAM} for a file or folder named ${STANDARD_STREAM}`;
}

/** The start of a path that a shell would have read as a home folder (`~/runs`, `~bob/runs`), left as it is. */
const UNEXPANDED_HOME = /^~[\w.-]*(?=\/|$)/;

/** A path that begins with a ~ no shell expanded, and what it says of that: the ~ and its refusal's words. */
export interface UnexpandedHome {
  /** `~` or `~bob`. */
  home: string;
  /** `~/runs begins with ~, which no shell expanded (…): give the home folder's path ($HOME/runs)`; for `~bob/runs`, bob's. */
  words: string;
}

/**
 * Where `path` begins with a ~ that nothing expanded (a shell expands it unquoted at a word's start alone: not in
 * `--out=~/runs` nor `"~/runs"`), that ~ and why it names no home folder, with the path meant where the ~ is the user's own;
 * else null.
 */
export function unexpandedHome(path: string): UnexpandedHome | null {
  const home = UNEXPANDED_HOME.exec(path)?.[0];
  if (home === undefined) return null;
  const own = home === '~';
  const shown = visible(path), meant = own ? ` ($HOME${shown.slice(1)})` : '';
  return {
    home,
    words: `${shown} begins with ${home}, which no shell expanded (one expands it unquoted, at a word's start alone): ` +
      `give ${own ? 'the' : `${home.slice(1)}'s`} home folder's path${meant}`,
  };
}

/**
 * The line refusing `path`, which names nothing (`what`: `checkpoint`, `corpus file`): where it is a link, to what; why it
 * likely names nothing where that is known (whyNotFound), else `otherwise` (what to give instead) where there is one.
 * `given`: the path as the user gave it, where `path` was made from it (a corpus path made absolute).
 */
export function notFoundLine(what: string, path: string, otherwise?: string, given = path): string {
  const link = linkTarget(path);
  const why = link === null ? whyNotFound(path, given) : null;
  const then = why ?? otherwise;
  return `${what} not found: ${path}${link === null ? '' : ` (a link to ${link}, which is not there)`}${then === undefined ? '' : `; ${then}`}`;
}

/** What the link `path` names; null where it is no link. */
export function linkTarget(path: string): string | null {
  try {
    return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
  } catch {
    return null;
  }
}

/**
 * Why `path`, which names nothing, likely names nothing: it was `given` beginning with a ~ no shell expanded, or it
 * differs only in its Unicode form from a file or folder there (otherUnicodeForm); null where neither.
 */
function whyNotFound(path: string, given: string): string | null {
  return unexpandedHome(given)?.words ?? fileAsFolder(path) ?? otherUnicodeForm(path);
}

/** The separators `path` ends in (`/` of `runs/`), which name it a folder; undefined where none. */
export function trailingSeparator(path: string): string | undefined {
  return /[\\/]+$/.exec(path)?.[0];
}

/** Where `path` ends in a separator and names a file without it (`best.json/`, read as a folder): that said; else null. */
function fileAsFolder(path: string): string | null {
  const separator = trailingSeparator(path);
  if (separator === undefined) return null;
  const file = path.slice(0, -separator.length);
  return file !== '' && statSync(file, { throwIfNoEntry: false })?.isFile() === true
    ? `${file} is a file, not a folder: name it without the ${separator} after it` : null;
}

/** The Unicode normal forms a file name may be written in: macOS writes NFD, most else NFC. */
const NORMAL_FORMS = ['NFC', 'NFD'] as const;

/** The normal form `text` is written in: NFC, NFD (both where it has nothing they write otherwise), or neither. */
function normalForm(text: string): string {
  const forms = NORMAL_FORMS.filter((form) => text === text.normalize(form));
  return forms.length === 0 ? 'neither NFC nor NFD' : forms.join(' and ');
}

/**
 * Where `path`, which names nothing, names a file or folder in its other Unicode normal form (the whole path), or where its
 * folder holds a name the same as its last part but for its Unicode form: that one, named; else null.
 */
function otherUnicodeForm(path: string): string | null {
  const whole = NORMAL_FORMS.map((form) => path.normalize(form)).find((other) => other !== path && existsSync(other));
  const there = whole ?? sameNameInFolder(path);
  if (there === null) return null;
  return `${quoted(there)} is there, the same but for its Unicode form (${normalForm(there)}, where the path given is ` +
    `${normalForm(path)}): name it as it is written there (as a shell's Tab completes it)`;
}

/** The path of the entry in `path`'s folder whose name is `path`'s last part but for its Unicode form; null for none. */
function sameNameInFolder(path: string): string | null {
  const name = basename(path), composed = name.normalize('NFC');
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return null;
  }
  const there = names.find((each) => each !== name && each.normalize('NFC') === composed);
  return there === undefined ? null : join(dirname(path), there);
}
