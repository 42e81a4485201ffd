import type { z } from 'zod';

/*
 * What went wrong with a value, in words: the phrases every one-line error about a file's
 * field or a setting is made of.
 */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `config.cell`, `tensors["rnn.weight_hh_l0"].shape`, `history[3].lr`. */
function fieldPath(path: readonly PropertyKey[]): string {
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
  if (typeof value === 'number') return String(value); // JSON writes Infinity and NaN as null
  const text = JSON.stringify(value) ?? String(value);
  if (text.length <= 40) return text;
  // cut between code points, never between the two halves of one (an emoji's, a rare CJK character's)
  const cut = /[\ud800-\udbff]/.test(text[36]!) ? 36 : 37;
  return `${text.slice(0, cut)}...`;
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
      if (issue.expected === 'number' && typeof issue.input === 'number') return `must be a finite number${got}`;
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
