import { z } from 'zod';
import { issuePhrase } from './issues.js';

/**
 * How a message names a setting: this library writes the setting's own name (`seqLen`), the
 * command line its flag (`--seq-len`).
 */
export type SettingNamer = (setting: string) => string;

/**
 * A problem with what the user gave, in one line. Its message may name settings through
 * `describe`: `message` names them plainly, and `messageNaming` as the caller spells them
 * (the command line: as its flags).
 */
export class InputError extends Error {
  constructor(private readonly describe: string | ((name: SettingNamer) => string)) {
    super(typeof describe === 'string' ? describe : describe((setting) => setting));
  }

  /** The message with every setting it mentions named by `name`. */
  messageNaming(name: SettingNamer): string {
    return typeof this.describe === 'string' ? this.describe : this.describe(name);
  }
}

/**
 * A setting the user gave that cannot work: out of range, contradicting a checkpoint, too
 * large for the text. It carries the setting (as a run's options name it, camelCase: `batch`,
 * `seqLen`) and the value it was given.
 */
export class SettingError extends InputError {
  override name = 'SettingError';

  constructor(
    readonly setting: string,
    readonly value: unknown,
    describe: (name: SettingNamer) => string,
  ) {
    super(describe);
  }
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** A setting given as text (a flag) to a number when it reads as one; anything else is left for the schema to reject. */
export const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value) : value), schema);

export const PositiveIntegerSchema = numeric(z.int().min(1));

/** A random seed: a uint32, as the generator takes it. */
export const SeedSchema = numeric(z.int().min(0).max(0xffffffff));

/**
 * Validates settings given as text (command-line flags) or as values (from code) against a
 * strict object schema; settings left undefined are left out. The first problem is a
 * SettingError naming the setting: `NAME: PHRASE (got VALUE)`, or, for a setting whose schema
 * carries a description, `NAME must be DESCRIPTION (got TEXT)`.
 */
export function parseSettings<T extends z.ZodObject>(schema: T, input: Record<string, unknown>): z.output<T> {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(given, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new SettingError(key, given[key], (name) => `unknown option ${name(key)}`);
  }
  const key = String(issue.path[0] ?? 'options');
  const value = given[key];
  const expected = schema.shape[key]?.description;
  if (expected !== undefined) throw new SettingError(key, value, (name) => `${name(key)} must be ${expected} (got ${String(value)})`);
  throw new SettingError(key, value, (name) => `${name(key)}: ${issuePhrase(issue)}`);
}
