import { readFileSync } from 'node:fs';
import type { z } from 'zod';

/** A checkpoint or interop file that cannot be read, with a one-line message naming the file and field. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

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

/** A value as it appears in a message: short, on one line. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

const ARTICLE: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  tuple: 'an array',
  record: 'an object',
};

function bound(issue: { origin: string; inclusive?: boolean; exact?: boolean }, limit: number | bigint, side: 'min' | 'max'): string {
  const n = String(limit);
  if (issue.origin === 'array' || issue.origin === 'set') {
    if (issue.exact) return `must have exactly ${n} items`;
    return side === 'min' ? `must have at least ${n} items` : `must have at most ${n} items`;
  }
  if (issue.origin === 'string') {
    return side === 'min' ? `must be at least ${n} characters` : `must be at most ${n} characters`;
  }
  const op = side === 'min' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  return `must be ${op} ${n}`;
}

/** The predicate of one zod issue, e.g. `must be one of lstm, gru, rnn` or `is missing`. */
export function issuePhrase(issue: z.core.$ZodIssue): string {
  const got = 'input' in issue ? ` (got ${describeValue(issue.input)})` : '';
  switch (issue.code) {
    case 'invalid_type':
      if ('input' in issue && issue.input === undefined) return 'is missing';
      return `must be ${ARTICLE[issue.expected] ?? issue.expected}${got}`;
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
      return `has unexpected ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    case 'invalid_union': {
      const first = issue.errors[0]?.[0];
      return first ? issuePhrase(first) : issue.message;
    }
    default:
      return issue.message.replace(/\s+/g, ' ');
  }
}

/** `source: path phrase` for the first issue of a zod error. */
export function zodErrorMessage(source: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return `${source}: invalid`;
  const path = fieldPath(issue.path);
  return path === '' ? `${source}: ${issuePhrase(issue)}` : `${source}: ${path} ${issuePhrase(issue)}`;
}

/** `[64,16]`, as shapes are quoted in messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** An error's message, on one line and cut short. */
export function shortMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/**
 * The parsed JSON of the file at `path`; a missing file, a folder or text that is not JSON is
 * a one-line CheckpointError (`what` names the kind of file, e.g. "checkpoint").
 */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new CheckpointError(`${what} not found: ${path}`);
    if (code === 'EISDIR') throw new CheckpointError(`${path} is a folder, not a ${what}`);
    throw new CheckpointError(`cannot read ${what} ${path}: ${shortMessage(error)}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new CheckpointError(`${path} is not JSON: ${shortMessage(error)}`);
  }
}

/**
 * Checks that `json` is an object whose `format` is `expected`; `hint` may add a word on a
 * format it recognises (e.g. the other format of this project).
 */
export function checkFormat(json: unknown, source: string, expected: string, hint: (format: unknown) => string = () => ''): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new CheckpointError(`${source}: is ${describeValue(json)}, expected an object with format "${expected}"`);
  }
  const format: unknown = (json as Record<string, unknown>)['format'];
  if (format === expected) return;
  if (format === undefined) throw new CheckpointError(`${source}: format is missing, expected "${expected}"`);
  throw new CheckpointError(`${source}: format is ${describeValue(format)}, expected "${expected}"${hint(format)}`);
}
