import type { z } from 'zod';
import { plural } from './counts.js';

/*
 * What went wrong with a value, in words: the phrases every one-line error about a file's
 * field or a setting is made of.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `config.cell`, `tensors["rnn.weight_hh_l0"].shape`, `history[3].lr`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else if (typeof key === 'string' && IDENTIFIER.test(key)) out += out === '' ? key : `.${key}`;
    else out += `[${JSON.stringify(String(key))}]`;
  }
  return out;
}

/** The characters a terminal would act on: controls, and the bidirectional overrides that reorder what follows. */
const TERMINAL_CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** Every TERMINAL_CONTROL character, made once for each replace. */
const TERMINAL_CONTROLS = new RegExp(TERMINAL_CONTROL, 'gu');

/** `text` with each TERMINAL_CONTROL character written as `by` writes it: `visible`'s `\u001b`, a shell word's `\e`. */
function replaceTerminalControls(text: string, by: (character: string) => string): string {
  return text.replace(TERMINAL_CONTROLS, by);
}

/** Text a message quotes from a file or a request, with each TERMINAL_CONTROL character written as `\u001b`. */
export function visible(text: string): string {
  return replaceTerminalControls(text, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * A path as one shell word: as it is when safe; in single quotes; or, where it holds a character a
 * terminal would act on, in bash's `$'…'` with that character escaped (`\e`, `\n`, its UTF-8 bytes as
 * `\xHH`, which read back the same in any locale, where `\uHHHH` needs a UTF-8 one).
 */
export function shellWord(word: string): string {
  if (/^[\w@%+=:,./-]+$/.test(word)) return word;
  if (!TERMINAL_CONTROL.test(word)) return `'${word.replace(/'/g, `'\\''`)}'`;
  return `$'${replaceTerminalControls(word.replace(/[\\']/g, '\\$&'), ansiEscape)}'`;
}

/** The escapes of bash's `$'…'` that have a letter. */
const ANSI_C_LETTERS: Record<string, string> = { '\x07': 'a', '\b': 'b', '\x1b': 'e', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' };

/** One character as an escape of bash's `$'…'`. */
function ansiEscape(c: string): string {
  const letter = ANSI_C_LETTERS[c];
  if (letter !== undefined) return `\\${letter}`;
  return [...Buffer.from(c, 'utf8')].map((byte) => `\\x${byte.toString(16).padStart(2, '0')}`).join('');
}

/** A text quoted as JSON writes it, what JSON leaves of a terminal's controls escaped (`visible`), cut to `max` UTF-16 units. */
export function quoted(text: string, max = Infinity): string {
  return cutShort(visible(JSON.stringify(text)), max);
}

/** A byte as messages write it: two upper-case hexadecimal digits (`FF`, `0A`). */
export function hexByte(byte: number): string {
  return byte.toString(16).toUpperCase().padStart(2, '0');
}

/** A value as it appears in a message: short, on one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return isPlainObject(value) ? 'an object' : objectKind(value);
  if (typeof value === 'number') return String(value); // JSON writes Infinity and NaN as null
  if (typeof value === 'bigint') return `${value}n`; // as JavaScript writes one, told from the number
  if (typeof value === 'string') return quoted(value, 40);
  return cutShort(visible(String(value)), 40);
}

/** Whether `value` is an object made by `{ … }` (or with no prototype), whose own keys are all it holds. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const prototype = Object.getPrototypeOf(value) as object | null;
  return prototype === null || prototype === Object.prototype;
}

/** What an object that is no plain one is: `a Map`, `a Date`, by its class; `an object with inherited keys` (Object.create). */
function objectKind(value: object): string {
  const maker = (value as { constructor?: unknown }).constructor;
  const name = typeof maker === 'function' && maker !== Object ? maker.name : '';
  return name === '' ? 'an object with inherited keys' : withArticle(name);
}

/** `a checkpoint`, `an object`, `a Uint8Array`: a noun after the article its first sound takes, a vowel's but a "u" read as "you". */
export function withArticle(noun: string): string {
  return `${/^(?!u(?:int|ni|r[il]|s[aeu]))[aeiou]/i.test(noun) ? 'an' : 'a'} ${noun}`;
}

/**
 * `text` as it is if it has at most `max` UTF-16 units, else its first `max` − 3 or so and
 * "...", cut between code points, never between the two halves of one (an emoji's, a rare CJK
 * character's).
 */
export function cutShort(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\ud800-\udbff]/.test(text[max - 4]!) ? max - 4 : max - 3;
  return `${text.slice(0, cut)}...`;
}

/**
 * A value as the user gave it, in a message: a word as typed on the command line (`words`),
 * anything else (an empty or spaced string, an object, an array) as describeValue writes it,
 * and so is a string that would read unquoted as a number, a boolean or null (`"0.5"`, `"true"`),
 * as code and JSON give one where a number is taken.
 */
function describeGiven(value: unknown): string {
  return typeof value === 'string' && /^[^\s\p{C}]{1,40}$/u.test(value) && !looksTyped(value) ? value : describeValue(value);
}

/** Text that reads as a decimal number: `42`, `-0.5`, `.5`, `1e-3` (a flag's value `numeric` reads as one). */
export const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Text that a message would show as a number, a boolean or null were it not quoted. */
function looksTyped(text: string): boolean {
  return NUMBER.test(text) || /^(?:[+-]?Infinity|NaN|true|false|null)$/i.test(text);
}

/** `1 item`, `2 items`. */
function count(n: string, unit: string): string {
  return `${n} ${plural(Number(n), unit)}`;
}

/** What a value of each type zod names is, as `must be …` says it: `an integer`, `true or false`. */
const TYPE_PHRASES: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  tuple: 'an array',
  record: 'an object',
};

/** A too_small or too_big issue's predicate: how many items or characters, else how the value compares with `limit`. */
function bound(issue: { origin: string; inclusive?: boolean; exact?: boolean }, limit: number | bigint, side: 'min' | 'max'): string {
  const n = String(limit);
  if (issue.origin === 'array' || issue.origin === 'set') {
    if (issue.exact) return `must have exactly ${count(n, 'item')}`;
    return side === 'min' ? `must have at least ${count(n, 'item')}` : `must have at most ${count(n, 'item')}`;
  }
  if (issue.origin === 'string') {
    if (side === 'min' && n === '1') return 'must not be empty';
    return side === 'min' ? `must be at least ${count(n, 'character')}` : `must be at most ${count(n, 'character')}`;
  }
  const op = side === 'min' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  return `must be ${op} ${n}`;
}

/**
 * The predicate of one zod issue, e.g. `must be one of lstm, gru, rnn (got "gru2")` or `is
 * missing`, the value as `show` writes it.
 */
function issuePhrase(issue: z.core.$ZodIssue, show: (value: unknown) => string = describeValue): string {
  const got = 'input' in issue ? ` (got ${show(issue.input)})` : '';
  switch (issue.code) {
    case 'invalid_type':
      if ('input' in issue && issue.input === undefined) return 'is missing';
      if (issue.expected === 'number' && typeof issue.input === 'number') return `must be a finite number${got}`;
      return `must be ${TYPE_PHRASES[issue.expected] ?? issue.expected}${got}`;
    case 'invalid_value':
      if (issue.values.length === 1) return `must be ${JSON.stringify(issue.values[0])}${got}`;
      return `must be one of ${issue.values.map(String).join(', ')}${got}`;
    case 'too_small':
      return `${bound(issue, issue.minimum, 'min')}${got}`;
    case 'too_big':
      return `${bound(issue, issue.maximum, 'max')}${got}`;
    case 'invalid_format':
      return issue.format === 'regex' ? issue.message : `is not a valid ${issue.format}`;
    case 'unrecognized_keys':
      return `has unexpected ${plural(issue.keys.length, 'key')} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      const first = issue.errors[0]?.[0];
      return first ? issuePhrase(first, show) : issue.message;
    }
    default:
      return issue.message.replace(/\s+/g, ' ');
  }
}

/**
 * What a described setting takes as a message words it: its description, with the bound of the
 * counts a number holds exactly where a value broke only that one (`--epochs 1e99`: an integer,
 * but past 2^53 − 1); a setting with a bound of its own says it in its description.
 */
export function expectedOf(description: string, issues: readonly z.core.$ZodIssue[]): string {
  const maxima = issues.flatMap((issue) => (issue.code === 'too_big' ? [Number(issue.maximum)] : []));
  return maxima.length > 0 && Math.min(...maxima) === Number.MAX_SAFE_INTEGER ? `${description} up to ${Number.MAX_SAFE_INTEGER}` : description;
}

/**
 * What a flag, an option or a request's field was given that it does not take, in the one form
 * every such message has: `NAME: must be EXPECTED (got VALUE)`. `problem`: a zod issue, or the
 * words for what it takes and the value, as describeGiven writes it, or as it was `typed`.
 */
export function optionMessage(
  name: string, problem: z.core.$ZodIssue | { expected: string; value: unknown } | { expected: string; typed: string },
): string {
  if ('code' in problem) return `${name}: ${issuePhrase(problem, describeGiven)}`;
  const got = 'typed' in problem ? cutShort(visible(problem.typed), 40) : describeGiven(problem.value);
  return `${name}: must be ${problem.expected} (got ${got})`;
}

/** `source: path phrase` for the first issue of a zod error. */
export function zodErrorMessage(source: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${source}: invalid`;
  const path = fieldPath(issue.path);
  return path === '' ? `${source}: ${issuePhrase(issue)}` : `${source}: ${path} ${issuePhrase(issue)}`;
}

/**
 * The names (flags, commands, a server's routes) a mistyped `given` most likely meant: those it begins (`--temp`:
 * `--temperature`) and the longest that begins it (`--length`: `--len` and `--length-penalty`),
 * else those it ends as their last words (`--steps`: `--max-steps`), else the nearest within an
 * edit for every three letters of its name (at least one).
 */
export function likelyNames(given: string, names: readonly string[]): string[] {
  const typed = given.split('=')[0]!;
  const longer = typed.length > 3 ? names.filter((name) => name.startsWith(typed)) : [];
  const shorter = names.filter((name) => name.replace(/^-+/, '').length >= 3 && typed.startsWith(name) && typed !== name);
  const begins = shorter.reduce<string | undefined>((longest, name) => (name.length > (longest?.length ?? 0) ? name : longest), undefined);
  const begun = names.filter((name) => longer.includes(name) || name === begins);
  if (begun.length > 0) return begun;
  const words = typed.replace(/^-+/, '');
  const ended = words.length >= 3 ? names.filter((name) => name.endsWith(`-${words}`)) : [];
  if (ended.length > 0) return ended;
  let nearest: string[] = [], best = Math.max(1, Math.floor(typed.replace(/^-+/, '').length / 3));
  for (const name of names) {
    const edits = editDistance(typed, name);
    if (edits < best) [nearest, best] = [[name], edits];
    else if (edits === best) nearest.push(name);
  }
  return nearest;
}

/**
 * The fewest insertions, deletions, substitutions of a character and swaps of two side by side
 * that turn `a` into `b` (optimal string alignment: `--tpo-k` is one edit from `--top-k`, as commander counts).
 */
function editDistance(a: string, b: string): number {
  let before: number[] = [], previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, before[j - 2]! + 1);
    }
    [before, previous] = [previous, row];
  }
  return previous[b.length]!;
}
