import { z } from 'zod';
import { NUMBER, cutShort, expectedOf, optionMessage, quoted, visible } from './issues.js';
import { STANDARD_STREAM, standardStreamLine, unexpandedHome } from './paths.js';

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

/**
 * A setting given as text (a flag) to a number when it reads as one, the schema does not take
 * the text itself (`--prime 42`, `--out 2024` stay text) and it is no choice among names, which
 * refuses every number (`--cell 1e3` is refused as the text typed); anything else is left for the schema to reject.
 */
export function numeric<T extends z.ZodType>(schema: T) {
  if (isChoice(schema)) return schema;
  return z.preprocess((value) => (typeof value === 'string' && NUMBER.test(value.trim()) && !schema.safeParse(value).success ? Number(value) : value), schema);
}

/** Whether a schema is a choice among fixed values (z.enum, z.literal), which a number is never read for. */
function isChoice(schema: z.ZodType): boolean {
  return schema instanceof z.ZodEnum || schema instanceof z.ZodLiteral;
}

/**
 * What is said of an option that a table or a call does not take (its name as optionLabel writes it), with the ones it
 * does, and the calls whose option it is (`ownedBy`, as `beam()`) where it is another call's.
 */
export function unknownOption(option: string, valid: readonly string[], ownedBy: readonly string[] = []): string {
  const owners = ownedBy.length > 0 ? `: an option of ${orList(ownedBy)}` : '';
  return `unknown option ${optionLabel(option)}${owners}; the valid ones: ${valid.join(', ')}`;
}

/** The names of the `tables` (each a call's or an endpoint's options, by name) that take `option`, in the tables' order. */
export function tablesTaking(tables: Readonly<Record<string, object>>, option: string): string[] {
  return Object.keys(tables).filter((name) => Object.hasOwn(tables[name]!, option));
}

/**
 * An option's name as a message writes it: cut short, and quoted where it is empty or holds a
 * space or a control (`"len "`), which would not show unquoted.
 */
export function optionLabel(option: string): string {
  return /^[^\s\p{C}]+$/u.test(option) ? cutShort(option, 40) : quoted(option, 40);
}

/**
 * A library option's value checked by its schema; else a RangeError naming it, as
 * `parseSettings` words it: `n: must be a positive integer (got 0)` for a schema that carries
 * a description (`described`), zod's phrase for another: `tokens: must be true or false (got 1)`.
 */
export function checkedOption<S extends z.ZodType>(name: string, schema: S, value: unknown): z.output<S> {
  const checked = schema.safeParse(value, { reportInput: true });
  if (checked.success) return checked.data;
  const expected = schema.description, issues = checked.error.issues;
  if (expected === undefined) throw new RangeError(optionMessage(name, issues[0]!));
  const described = expectedOf(expected, issues);
  throw new RangeError(optionMessage(name, { expected: isInfinite(value) ? finite(described) : described, value }));
}

/** Whether `value` is a number past the largest float (±Infinity), which no number setting takes. */
function isInfinite(value: unknown): boolean {
  return value === Infinity || value === -Infinity;
}

/** What a number setting takes (`a number >= 0`), said of a value past the largest float: `a finite number >= 0`. */
function finite(described: string | null): string {
  return described?.replace(/^a number\b/, 'a finite number') ?? 'a finite number';
}

/**
 * A library option's value checked by its setting's schema (checkedOption); else a RangeError naming its values as the
 * setting's table entry does (settingExpected), in the words a flag or a request's field of it is refused with.
 */
export function checkedSetting<S extends Setting>(name: string, setting: S, value: unknown): z.output<S['schema']> {
  const expected = settingExpected(setting);
  return checkedOption(name, expected === undefined ? setting.schema : setting.schema.describe(expected), value) as z.output<S['schema']>;
}

/** A setting's values and how an error names them, the schema carrying that name as its description. */
export function described<S extends z.ZodType>(schema: S, expected: string) {
  return { schema: schema.describe(expected) as S, expected };
}

/**
 * Validates settings given as text (command-line flags) or as values (from code) against a
 * strict object schema; settings left undefined are left out. The first problem is a
 * SettingError naming the setting, as optionMessage words it: `NAME: PHRASE (got VALUE)`, where
 * PHRASE is `must be DESCRIPTION` for a setting whose schema carries a description; one the schema does not take, as
 * unknownOption words it, with what takes it elsewhere (`ownersOf`: the server's other endpoints).
 */
export function parseSettings<T extends z.ZodObject>(
  schema: T, input: Record<string, unknown>, ownersOf: (setting: string) => readonly string[] = () => [],
): z.output<T> {
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = schema.safeParse(given, { reportInput: true });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    throw new SettingError(key, given[key], (name) => unknownOption(name(key), Object.keys(schema.shape).map(name), ownersOf(key)));
  }
  const key = String(issue.path[0] ?? 'options');
  const value = given[key];
  const expected = schema.shape[key]?.description;
  // the value as the schema read it: a flag's number as a number
  const read = 'input' in issue ? issue.input : value;
  const described = expected === undefined ? null : expectedOf(expected, parsed.error.issues.filter((each) => each.path[0] === key));
  // a flag's number past the largest float (`1e400`) as typed, not as the Infinity it reads as
  if (typeof value === 'string' && typeof read === 'number' && !Number.isFinite(read)) {
    throw new SettingError(key, value, (name) => optionMessage(name(key), { expected: finite(described), typed: value }));
  }
  // an empty text is a mistake of its own, named as such (`must not be empty`), not as a value of another kind
  const empty = value === '' && issue.code === 'too_small';
  // a refusal that words its own reason (writtenPath's)
  const worded = issue.code === 'custom' && issue.params?.['worded'] === true;
  const problem = described === null || empty || worded ? issue : { expected: described, value: read };
  throw new SettingError(key, value, (name) => optionMessage(name(key), problem));
}

/**
 * A path a command writes to (`--out`), and how an error names it: one that begins with a ~ that nothing expanded
 * (unexpandedHome) is refused, since written there it would make a folder named ~ beside the others, which a later
 * `rm -rf ~` would take for the home folder; and `-`, which names standard output, not a file or folder named so.
 */
export function writtenPath(schema: z.ZodString, expected: string) {
  return described(schema.superRefine((path, context) => {
    if (path === STANDARD_STREAM) {
      context.addIssue({
        code: 'custom', params: { worded: true },
        message: standardStreamLine('output', 'write to', 'name a path'),
      });
      return;
    }
    const unexpanded = unexpandedHome(path);
    if (unexpanded === null) return;
    context.addIssue({
      code: 'custom', params: { worded: true },
      message: `${unexpanded.words}, or ./${visible(path)} for a folder named ${unexpanded.home}`,
    });
  }), expected);
}

/** A count (`--len`, `--workers`): a whole number of at least 1, and how an error names it. */
export const POSITIVE_INTEGER = described(z.int().min(1), 'a positive integer');
/** A whole number of at least `min`, and how an error names it. */
export function integerAtLeast(min: number) {
  return described(z.int().min(min), `an integer >= ${min}`);
}

/** A count that may be 0 (`--queue`, `--eval-every`), and how an error names it. */
export const NON_NEGATIVE_INTEGER = integerAtLeast(0);

/** A rate or size above 0 (`--lr`), and how an error names it. */
export const POSITIVE_NUMBER = described(z.number().gt(0), 'a number > 0');
/** A share that may be none but never all (`--val-frac`, `--dropout`), and how an error names it. */
export const FRACTION = described(z.number().min(0).lt(1), 'a number in [0, 1)');
/** A share that keeps some and at most all (`--top-p`, `--lr-decay`), and how an error names it. */
export const SHARE = described(z.number().gt(0).max(1), 'a number in (0, 1]');

/** A library count (`minCount`, `seqLen`, `workers`) checked; else a RangeError naming it: `seqLen: must be a positive integer (got 0)`. */
export function checkPositiveInteger(name: string, value: unknown): number {
  return checkedOption(name, POSITIVE_INTEGER.schema, value);
}

/** Values as a help line or a message offers them: `lstm, gru or rnn`. */
export function orList(values: readonly string[]): string {
  return values.length <= 1 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values.at(-1)}`;
}

/** A whole number from `min` to `max`, and how an error names it. */
export function integerFrom(min: number, max: number) {
  return described(z.int().min(min).max(max), `an integer from ${min} to ${max}`);
}

/** The largest random seed: seeds are uint32s, as the generator takes them. */
export const SEED_MAX = 0xffffffff;

/** A random seed: its values, and how help and errors state them (training's and sampling's alike). */
export const SEED = { ...integerFrom(0, SEED_MAX), help: `random seed, 0 … ${SEED_MAX}` } as const;

/** `seqLen` → `--seq-len`: how the command line names a setting. */
export function flagName(setting: string): string {
  return `--${setting.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * One setting of a table of settings: what it takes and what the command line says of it. A
 * table (an object of these, keyed by the setting's camelCase name) is the one home of its
 * settings' names, flags, ranges, defaults and help; schemas, flags and docs are made from it.
 */
export interface Setting<V = unknown> {
  /** The values it takes (a checkpoint that records it reads it with this schema too). */
  schema: z.ZodType<V>;
  /** How it reads from a flag or from code, when not as `schema` with numbers from text (e.g. 0 for off). */
  input?: z.ZodType<unknown>;
  /**
   * How an error names the valid values (`--level: must be char or word (got words)`, `--prime needs a value (the text
   * to start from)`); none: zod's phrase.
   */
  expected?: string;
  /** The placeholder of its flag's value, e.g. `<n>`; none: a switch (`--stop-at-eos`). */
  arg?: string;
  /** Its flag may be given more than once; the value is every one given, in order (`schema` takes an array). */
  repeatable?: true;
  /** Its flag must be given: the command line is refused without it. */
  required?: true;
  help: string;
  /** The heading its flag is listed under in help and docs, e.g. `Model`; none: the command's own options. */
  group?: string;
  /** Its value when not given: a value, or one worked out when needed (every core, the fastest kernels). */
  default?: V | (() => V);
  /** The default as its help line states it, after `default`, where it is not a value to print. */
  defaultText?: string;
}

export type SettingTable = Readonly<Record<string, Setting>>;

/** `--seq-len <n>`: the flag of a setting, as commander declares it. */
export function flagSpec(name: string, setting: Setting): string {
  return setting.arg === undefined ? flagName(name) : `${flagName(name)} ${setting.arg}`;
}

/** A setting's default as help and docs state it (null: off), or in words; undefined when it states none. */
export function defaultText(setting: Setting): string | undefined {
  if (setting.defaultText !== undefined) return setting.defaultText;
  const value = setting.default;
  if (value === undefined || typeof value === 'function') return undefined;
  return value === null ? 'off' : String(value);
}

/**
 * A setting's help line: its help, then `(required)` for one that must be given, else its
 * default when it states one (`(default 50)`, `(default: every core)`).
 */
export function flagHelp(setting: Setting): string {
  if (setting.required) return `${setting.help} (required)`;
  const text = defaultText(setting);
  if (text === undefined) return setting.help;
  return `${setting.help} (default${setting.defaultText === undefined ? '' : ':'} ${text})`;
}

/** How an error names a setting's values: its `expected`, else its schema's description (a count's: `a positive integer`). */
function settingExpected(setting: Setting): string | undefined {
  return setting.expected ?? setting.schema.description;
}

/**
 * What a setting takes, as a message offers it: as an error names it, else its choices (`lstm,
 * gru or rnn`); undefined where its table says nothing.
 */
export function settingValues(setting: Setting): string | undefined {
  const expected = settingExpected(setting);
  if (expected !== undefined || !(setting.schema instanceof z.ZodEnum)) return expected;
  return orList(setting.schema.options.map(String));
}

/**
 * Where settings come from: text (flags, a query string), whose numbers are read from their
 * digits, or JSON (a request's body), whose numbers must be JSON numbers.
 */
export type SettingSource = 'text' | 'json';

/**
 * How a setting reads from a flag, from code or from JSON: its input schema, optional, carrying
 * its `expected` description, else its schema's (settingExpected).
 */
function inputSchema<S extends Setting>(setting: S, from: SettingSource): z.ZodOptional<z.ZodType<SettingInput<S>>> {
  const schema = (setting.input ?? (from === 'text' ? numeric(setting.schema) : setting.schema)).optional();
  const expected = settingExpected(setting);
  return (expected === undefined ? schema : schema.describe(expected)) as z.ZodOptional<z.ZodType<SettingInput<S>>>;
}

/** What a setting reads as from a flag or from code: its input schema's output, else its values. */
export type SettingInput<S> =
  S extends { input: infer I extends z.ZodType } ? z.output<I> : S extends { schema: z.ZodType<infer V> } ? V : never;

/** The settings of a table as read from flags or code: each one given, or left out. */
export type SettingsInput<T> = { [K in keyof T]?: SettingInput<T[K]> };

/** The strict object schema of a table's settings, each optional, as they come `from` text (the default) or JSON. */
export function settingsSchema(table: SettingTable, from: SettingSource = 'text'): z.ZodObject {
  return z.strictObject(Object.fromEntries(Object.entries(table).map(([name, setting]) => [name, inputSchema(setting, from)])));
}

/** Validates flags or options against a table of settings (parseSettings' messages). */
export function parseSettingTable<T extends SettingTable>(table: T, input: Record<string, unknown>): SettingsInput<T> {
  return parseSettings(settingsSchema(table), input) as SettingsInput<T>;
}

/** The settings of a table with each one that has a default given: those left out take it. */
export type WithDefaults<T> = SettingsInput<T> & { [K in keyof T as T[K] extends { default: unknown } ? K : never]-?: SettingInput<T[K]> };

/** The settings given, each one left out that has a default taking it (one worked out when needed is worked out now). */
export function withDefaults<T extends SettingTable>(table: T, given: SettingsInput<T>): WithDefaults<T> {
  const settings: Record<string, unknown> = { ...given };
  for (const [name, { default: value }] of Object.entries(table)) {
    if (settings[name] === undefined && value !== undefined) settings[name] = typeof value === 'function' ? (value as () => unknown)() : value;
  }
  return settings as WithDefaults<T>;
}

/** The settings of `table` named in `names`, in that order: a subset another command can reuse. */
export function pickSettings<T extends SettingTable, K extends keyof T & string>(table: T, names: readonly K[]): Pick<T, K> {
  return Object.fromEntries(names.map((name) => [name, table[name]])) as Pick<T, K>;
}
