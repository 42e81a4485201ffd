import { cutShort, describeValue, visible } from '../input/issues.js';

/** A checkpoint or interop file that cannot be read, with a one-line message naming the file and field. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
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
 * Checks that `json` is an object whose `format` is `expected`; `hint` may add a word on a
 * format it recognises (e.g. the other format of this project).
 */
export function checkFormat(json: unknown, source: string, expected: string, hint: (format: unknown) => string = () => ''): void {
  if (!isJsonObject(json)) {
    throw new CheckpointError(`${source}: is ${describeValue(json)}, expected an object with format "${expected}"`);
  }
  const format = json['format'];
  if (format === expected) return;
  if (format === undefined) throw new CheckpointError(`${source}: format is missing, expected "${expected}"`);
  throw new CheckpointError(`${source}: format is ${describeValue(format)}, expected "${expected}"${hint(format)}`);
}
