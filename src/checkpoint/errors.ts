import { cutShort, describeValue, visible } from '../input/issues.js';

/** A checkpoint or interop file that cannot be read, with a one-line message naming the file and field. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** A checkpoint refused for a tensor's value that no training writes (integrity.ts's tensorValueFault): damage, or a run gone. */
export class TensorValueError extends CheckpointError {
  override name = 'TensorValueError';
}

/** `[64,16]`, as shapes are quoted in messages. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** An error's message, on one line and cut short, the control characters of a file it quotes escaped. */
export function shortMessage(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return cutShort(visible(text.replace(/\s+/g, ' ').trim()), 160);
}

/** Whether a parsed JSON value is an object: `{…}`, not null, an array or a scalar. */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Why `json` is not an object whose `format` is one of `expected` (`format is missing, expected "rnn-checkpoint/1"`), as
 * a line says it after the file; null where it is one.
 */
export function formatProblem(json: unknown, expected: readonly string[]): string | null {
  const formats = expected.map((format) => `"${format}"`).join(' or ');
  if (!isJsonObject(json)) return `is ${describeValue(json)}, expected an object with format ${formats}`;
  const format = json['format'];
  if (expected.some((name) => name === format)) return null;
  return `format is ${format === undefined ? 'missing' : describeValue(format)}, expected ${formats}`;
}

/**
 * Checks that `json` is an object whose `format` is `expected` (formatProblem); `hint` may add a word on a
 * format it recognises (e.g. the other format of this project).
 */
export function checkFormat(json: unknown, source: string, expected: string, hint: (format: unknown) => string = () => ''): void {
  const problem = formatProblem(json, [expected]);
  if (problem === null) return;
  const format = isJsonObject(json) ? json['format'] : undefined;
  throw new CheckpointError(`${source}: ${problem}${format === undefined ? '' : hint(format)}`);
}
