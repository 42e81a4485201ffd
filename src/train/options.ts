import { z } from 'zod';
import { RUN_FOLDER_FILES } from '../checkpoint/run-folder.js';
import { CHECKPOINT_FORMAT, type Checkpoint } from '../checkpoint/schema.js';
import { CHECKPOINT_DIR, type ModelPathReader, RUN_FOLDER_READS } from '../checkpoint/find.js';
import { INTEROP_FORMAT } from '../checkpoint/interop.js';
import {
  FIXED_ON_RESUME, type RunLimits, TRAIN_SETTINGS, type TrainSettingName, type TrainSettings, WORD_LEVEL_ONLY, checkAppliesWith,
  defaultSettings, settingsFromConfig,
} from '../checkpoint/settings.js';
import type { KernelsChoice } from '../engine/kernels/kinds.js';
import {
  POSITIVE_INTEGER, SettingError, type SettingNamer, type SettingTable, type SettingsInput, parseSettings, settingsSchema, writtenPath,
} from '../input/settings.js';
import { parseDuration } from '../input/duration.js';
import { NUMBER, optionMessage } from '../input/issues.js';
import type { TextLevel } from '../text/vocab.js';

/**
 * Steps between evaluations when --eval-every is not given: a validation pass is a forward
 * pass, about a third of a training step's work per token, so evaluating every
 *   10 · valTokens / (3 · B · T)
 * steps (rounded up to a hundred) keeps it near a tenth of the training time.
 */
export function defaultEvalEvery(valTokens: number, batch: number, seqLen: number): number {
  return Math.max(100, Math.ceil((10 * valTokens) / (3 * batch * seqLen) / 100) * 100);
}

/** How long a run trains when no --epochs, --max-steps or --time is given: one pass over the text. */
const DEFAULT_LIMITS: Readonly<RunLimits> = { epochs: 1, maxSteps: null, timeSeconds: null };

/**
 * What `train()` accepts: the settings (any left out takes its default or, resuming, the
 * checkpoint's), the run's options (RUN_OPTIONS) and fine-tuning's (FINE_TUNE_OPTIONS).
 */
export type TrainOptions = Partial<Omit<TrainSettings, 'kernels'>> & SettingsInput<typeof RUN_OPTIONS> & SettingsInput<typeof FINE_TUNE_OPTIONS> & {
  /** Which kernels run: `auto` (the default: relaxed, else wasm, else js), `js`, `wasm` or `relaxed`. */
  kernels?: KernelsChoice;
  /** The command line recorded in checkpoints. */
  command?: string[];
};

/** The parsed options: flags as given (undefined: not given), the time in seconds. */
export type ParsedOptions = Omit<TrainOptions, 'time'> & { timeSeconds?: number };

/** The longest --time, in hours: a year, past any run's patience and short of durations no clock shows (1e99 s). */
const LONGEST_TIME_HOURS = 8760;

/** What --time takes, as a message words it. */
const TIME_EXPECTED = `a positive duration up to ${LONGEST_TIME_HOURS}h (a year) such as 90s, 3m, 1h or 1h30m, or a number of seconds`;

/** How --resume names the checkpoint it goes on from, in the lines that refuse it. */
export const RESUME_READER: ModelPathReader = {
  setting: 'resume', what: 'checkpoint', formats: [CHECKPOINT_FORMAT], takes: `a checkpoint that rnn train wrote, or its run folder (its ${RUN_FOLDER_FILES.latest})`,
  modelFile: (file, name) => `a run goes on only from a checkpoint rnn train wrote; ${name('initFrom')} ${file} fine-tunes from it`,
};

/**
 * The options of a run besides its settings: how long it trains, where it writes, what it
 * resumes. Limits are totals over the run; none given, a run trains one epoch (resuming: until
 * the limits its checkpoint's run was started with).
 */
export const RUN_OPTIONS = {
  epochs: {
    group: 'Run', schema: POSITIVE_INTEGER.schema, arg: '<n>', help: 'train until this many epochs in all',
    defaultText: `${DEFAULT_LIMITS.epochs} when no limit is given`,
  },
  maxSteps: { group: 'Run', schema: POSITIVE_INTEGER.schema, arg: '<n>', help: 'train until this many steps in all' },
  time: {
    // seconds, or a duration such as 90s, 3m, 1h, 1h30m (parseDuration); a flag's number reads as the number (`numeric`)
    group: 'Run', schema: z.union([z.number(), z.string().refine((text) => !NUMBER.test(text.trim()))]), expected: TIME_EXPECTED, arg: '<duration>',
    help: `stop in time to finish within this much time in all (at most ${LONGEST_TIME_HOURS}h), the closing evaluation included, ` +
      'e.g. 90s, 3m, 1h30m (a number alone: seconds; after a unit, in the next smaller one: 2h30 is 2h30m)',
  },
  out: {
    group: 'Run', ...writtenPath(z.string().min(1), 'a folder, or a .json file, to write the checkpoints to'), arg: '<path>',
    help: 'output folder, or a .json file',
    defaultText: `${CHECKPOINT_DIR}/<corpus>-<cell>-<L>x<H>-<time>/; resuming: where the checkpoint was written (its folder, or its FILE.json)`,
  },
  resume: {
    group: 'Run', schema: z.string().min(1), expected: RESUME_READER.takes, arg: '<checkpoint>',
    help: `go on training this checkpoint (a folder: its ${RUN_FOLDER_FILES.latest}), exactly where it stopped`,
  },
} as const satisfies SettingTable;

/** How --init-from names the model it reads, in the lines that refuse it. */
export const INIT_FROM_READER: ModelPathReader = {
  setting: 'initFrom', what: 'model file', formats: [CHECKPOINT_FORMAT, INTEROP_FORMAT], takes: `a checkpoint, a run folder (${RUN_FOLDER_READS}), or an rnn-state/1 or .safetensors file`,
  modelFile: (file, name) => `give ${name('initFrom')} ${file}`,
};

/**
 * The options of a fine-tuned run (docs/finetune.md): a new run on the given text from a trained
 * model's architecture, level, vocabulary and weights, its vocabulary mapped by symbol.
 */
const FINE_TUNE_OPTIONS = {
  initFrom: {
    group: 'Fine-tuning',
    schema: z.string().min(1), expected: INIT_FROM_READER.takes, arg: '<model>',
    help: 'fine-tune: a new run on the given text from this model\'s architecture, vocabulary and weights; ' +
      INIT_FROM_READER.takes,
  },
  extendVocab: {
    group: 'Fine-tuning',
    schema: z.boolean(), help: 'add the text\'s tokens the model lacks to its vocabulary, instead of reading them as <UNK>',
  },
  keepOptimizer: {
    group: 'Fine-tuning',
    schema: z.boolean(), help: 'start from the model\'s Adam moments and step instead of fresh ones',
  },
} as const satisfies SettingTable;

/** Every option of `rnn train`, each a flag: the settings, the run's options and fine-tuning's. */
export const TRAIN_OPTIONS = { ...TRAIN_SETTINGS, ...RUN_OPTIONS, ...FINE_TUNE_OPTIONS } as const satisfies SettingTable;

/** Every option `train()` takes: TRAIN_OPTIONS, and the command line recorded in checkpoints. */
const OptionsSchema = settingsSchema(TRAIN_OPTIONS)
  .extend({ command: z.array(z.string()).optional() });

/**
 * Validates options (from the command line, as strings, or from code, as numbers); the first
 * problem is a SettingError naming the option, e.g. `--hidden: must be a positive integer (got 0)` on the
 * command line.
 */
export function parseOptions(input: Record<string, unknown>): ParsedOptions {
  const parsed = parseSettings(OptionsSchema, input) as ParsedOptions & { time?: number | string };
  const { time, ...rest } = parsed;
  const options: ParsedOptions = { ...rest };
  if (time !== undefined) {
    const seconds = typeof time === 'number' ? time : parseDuration(time);
    if (seconds === null || !(seconds > 0) || !(seconds <= LONGEST_TIME_HOURS * 3600)) {
      throw new SettingError('time', time, (name) => optionMessage(name('time'), {
        expected: TIME_EXPECTED, value: time,
      }));
    }
    options.timeSeconds = seconds;
  }
  return options;
}

const SETTING_NAMES = Object.keys(TRAIN_SETTINGS) as TrainSettingName[];

/** A fresh run's settings: each option given, else its default. */
export function freshSettings(options: ParsedOptions): TrainSettings {
  const settings = defaultSettings();
  for (const name of SETTING_NAMES) {
    if (options[name] !== undefined) (settings as Record<string, unknown>)[name] = options[name];
  }
  checkAppliesWith(options, settings);
  return settings;
}

/**
 * A resumed run's settings: the checkpoint's, with the changeable ones replaced where given.
 * Giving fixed ones with other values is an error naming each flag and both its values, all in
 * one line; giving one with the same value is fine. Workers default to the checkpoint's, for an identical result.
 */
export function resumedSettings(options: ParsedOptions, ckpt: Checkpoint, source: string): TrainSettings {
  const settings = settingsFromConfig(ckpt.config);
  refuseWordLevelOnly(options, settings.level, source, () => 'a resumed run keeps its vocabulary');
  const clashes = FIXED_ON_RESUME.filter((key) => options[key] !== undefined && options[key] !== settings[key]);
  refuseClashes(clashes, options, settings, `${source}, which was trained with`, (name) =>
    ` to resume, or start a new run without ${name('resume')}`);
  // the rest are the checkpoint's unless given: the same workers and kernels resume bit for bit
  for (const name of SETTING_NAMES) {
    if (FIXED_ON_RESUME.includes(name) || options[name] === undefined) continue;
    (settings as Record<string, unknown>)[name] = options[name];
  }
  checkAppliesWith(options, settings);
  return settings;
}

/**
 * Refuses the settings `clashes`, given in `options` with other values than `recorded` holds,
 * all named in one line: `--layers 3, --hidden 99 contradict SOURCE --layers 2, --hidden 128:
 * leave them out` and what `rather` adds (given the flags' names, and 'it' or 'them').
 */
export function refuseClashes(
  clashes: readonly TrainSettingName[], options: Partial<Record<TrainSettingName, unknown>>,
  recorded: Partial<Record<TrainSettingName, unknown>>, source: string, rather: (name: SettingNamer, them: string) => string,
): void {
  if (clashes.length === 0) return;
  const list = (name: SettingNamer, values: Partial<Record<TrainSettingName, unknown>>) =>
    clashes.map((key) => `${name(key)} ${String(values[key])}`).join(', ');
  const one = clashes.length === 1, them = one ? 'it' : 'them';
  throw new SettingError(clashes[0]!, options[clashes[0]!], (name) =>
    `${list(name, options)} contradict${one ? 's' : ''} ${source} ${list(name, recorded)}: leave ${them} out${rather(name, them)}`);
}

/**
 * Refuses a word-level setting (--vocab-size) given for a run that keeps the vocabulary of `source`, a
 * character-level model: `keeps` says what the run does with it, in place of checkAppliesWith's
 * advice for a fresh run, which such a run refuses in turn.
 */
export function refuseWordLevelOnly(
  options: Partial<Record<TrainSettingName, unknown>>, level: TextLevel, source: string, keeps: (name: SettingNamer) => string,
): void {
  const given = level === 'char' ? WORD_LEVEL_ONLY.find((key) => options[key] !== undefined) : undefined;
  if (given === undefined) return;
  throw new SettingError(given, options[given], (name) =>
    `${name(given)} applies to ${name('level')} word only, and ${source} is a character-level model: ${keeps(name)}: leave ${name(given)} out`);
}

/** Whether the options give limits of their own (else a resumed run keeps its checkpoint's). */
export function limitsGiven(options: ParsedOptions): boolean {
  return options.epochs !== undefined || options.maxSteps !== undefined || options.timeSeconds !== undefined;
}

/**
 * The limits: those given, if any; else, resuming, the ones the checkpoint's run was started
 * with (so an interrupted run finishes as planned); else DEFAULT_LIMITS.
 */
export function runLimits(options: ParsedOptions, ckpt: Checkpoint | null): RunLimits {
  if (limitsGiven(options)) return limitsOf(options);
  const recorded = ckpt?.config.training;
  if (recorded && (recorded.epochs || recorded.maxSteps || recorded.timeSeconds)) return limitsOf(recorded);
  return { ...DEFAULT_LIMITS };
}

/** The limits `given` names, null for each it leaves out. */
function limitsOf(given: Partial<RunLimits>): RunLimits {
  return { epochs: given.epochs ?? null, maxSteps: given.maxSteps ?? null, timeSeconds: given.timeSeconds ?? null };
}
