import { z } from 'zod';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { type RunLimits, type TrainSettings, defaultSettings, settingsFromConfig } from '../checkpoint/settings.js';
import { CELL_KINDS } from '../engine/config.js';
import { KERNELS_CHOICES, type KernelsChoice, resolveKernels } from '../engine/kernels/index.js';
import { OPTIMIZER_KINDS } from '../engine/optim.js';
import { PositiveIntegerSchema, SeedSchema, SettingError, numeric, parseSettings } from '../input/settings.js';
import { DOCS_MODES } from '../text/corpus.js';
import { TEXT_LEVELS } from '../text/vocab.js';

/**
 * Steps between evaluations when --eval-every is not given: a validation pass is a forward
 * pass, about a third of a training step's work per character, so evaluating every
 *   10 · valChars / (3 · B · T)
 * steps (rounded up to a hundred) keeps it near a tenth of the training time.
 */
export function defaultEvalEvery(valChars: number, batch: number, seqLen: number): number {
  return Math.max(100, Math.ceil((10 * valChars) / (3 * batch * seqLen) / 100) * 100);
}

/** How long a run trains when no --epochs, --max-steps or --time is given: one pass over the text. */
const DEFAULT_LIMITS: Readonly<RunLimits> = { epochs: 1, maxSteps: null, timeSeconds: null };

/** What `train()` accepts: any setting left out takes its default (or, resuming, the checkpoint's). */
export interface TrainOptions extends Partial<Omit<TrainSettings, 'kernels'>> {
  /** Which kernels run: `auto` (the default: wasm where SIMD runs), `js` or `wasm`. */
  kernels?: KernelsChoice;
  epochs?: number;
  maxSteps?: number;
  /** Seconds, or a duration such as `90s`, `3m`, `1h`, `1h30m`. */
  time?: number | string;
  /** Output folder (writes `latest.json` and `best.json`) or a `.json` file path. */
  out?: string;
  /** Checkpoint to continue from. */
  resume?: string;
  /** A model to start a new run from (fine-tuning): a checkpoint, a run folder, an rnn-state/1 or .safetensors file. */
  initFrom?: string;
  /** With `initFrom`: add the new text's tokens the model lacks, instead of reading them as <UNK>. */
  extendVocab?: boolean;
  /** With `initFrom`: start from the model's Adam moments and step instead of fresh ones. */
  keepOptimizer?: boolean;
  /** The command line recorded in checkpoints. */
  command?: string[];
}

/** The parsed options: flags as given (undefined: not given), the time in seconds. */
export type ParsedOptions = Omit<TrainOptions, 'time'> & { timeSeconds?: number };

const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s?)?$/;

/** `90s`, `3m`, `1h`, `1h30m`, `45` (seconds) → seconds; null when it is not a duration. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '' || !match.slice(1).some((part) => part !== undefined)) return null;
  const [h, m, s] = match.slice(1).map((part) => (part === undefined ? 0 : Number(part)));
  return h! * 3600 + m! * 60 + s!;
}

const OptionsSchema = z.strictObject({
  cell: z.enum(CELL_KINDS).optional(),
  layers: PositiveIntegerSchema.optional(),
  hidden: PositiveIntegerSchema.optional(),
  embed: PositiveIntegerSchema.optional(),
  dropout: numeric(z.number().min(0).lt(1)).optional(),
  seqLen: PositiveIntegerSchema.optional(),
  batch: PositiveIntegerSchema.optional(),
  lr: numeric(z.number().positive()).optional(),
  lrDecay: numeric(z.number().positive().max(1)).optional(),
  // 0 turns clipping off
  clip: numeric(z.number().min(0)).nullable().optional(),
  clipValue: numeric(z.number().min(0)).nullable().optional(),
  optimizer: z.enum(OPTIMIZER_KINDS).optional(),
  seed: SeedSchema.optional(),
  workers: PositiveIntegerSchema.optional(),
  valFrac: numeric(z.number().min(0).lt(1)).optional(),
  minCount: PositiveIntegerSchema.optional(),
  docs: z.enum(DOCS_MODES).optional(),
  level: z.enum(TEXT_LEVELS).optional().describe(TEXT_LEVELS.join(' or ')),
  // <EOS>, <UNK> and at least one token
  vocabSize: numeric(z.int().min(3)).optional().describe('an integer of at least 3 (<EOS>, <UNK> and one token)'),
  evalEvery: numeric(z.int().min(0)).optional(),
  kernels: z.enum(KERNELS_CHOICES).optional(),
  epochs: PositiveIntegerSchema.optional(),
  maxSteps: PositiveIntegerSchema.optional(),
  time: z.union([z.number(), z.string()]).optional(),
  out: z.string().min(1).optional(),
  resume: z.string().min(1).optional(),
  initFrom: z.string().min(1).optional(),
  extendVocab: z.boolean().optional(),
  keepOptimizer: z.boolean().optional(),
  command: z.array(z.string()).optional(),
});

/**
 * Validates options (from the command line, as strings, or from code, as numbers); the first
 * problem is a SettingError naming the option, e.g. `--hidden: must be >= 1 (got 0)` on the
 * command line.
 */
export function parseOptions(input: Record<string, unknown>): ParsedOptions {
  const parsed = parseSettings(OptionsSchema, input);
  const { time, ...rest } = parsed;
  const options: ParsedOptions = { ...rest };
  if (rest.clip === 0) options.clip = null;
  if (rest.clipValue === 0) options.clipValue = null;
  if (time !== undefined) {
    const seconds = typeof time === 'number' ? time : parseDuration(time);
    if (seconds === null || !(seconds > 0) || !Number.isFinite(seconds)) {
      throw new SettingError('time', time, (name) =>
        `${name('time')}: must be a positive duration such as 90s, 3m, 1h or 1h30m (got ${JSON.stringify(time)})`);
    }
    options.timeSeconds = seconds;
  }
  return options;
}

const SETTING_KEYS = [
  'cell', 'layers', 'hidden', 'embed', 'dropout', 'seqLen', 'batch', 'lr', 'lrDecay', 'clip', 'clipValue',
  'optimizer', 'seed', 'workers', 'valFrac', 'minCount', 'docs', 'level', 'vocabSize', 'evalEvery',
] as const satisfies readonly (keyof TrainSettings)[];

/**
 * Settings a resumed run cannot change: they fix the model's shape, the optimizer's state, the
 * data and its batching, or the random streams; anything else (lr schedule, clipping, eval
 * interval, workers, limits) may change on resume.
 */
const FIXED_ON_RESUME = [
  'cell', 'layers', 'hidden', 'embed', 'dropout', 'seqLen', 'batch', 'optimizer', 'seed', 'valFrac', 'minCount', 'docs',
  'level', 'vocabSize',
] as const satisfies readonly (keyof TrainSettings)[];

/** A fresh run's settings: each option given, else its default. */
export function freshSettings(options: ParsedOptions): TrainSettings {
  const settings = defaultSettings();
  for (const key of SETTING_KEYS) {
    if (options[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = options[key];
  }
  if (options.kernels !== undefined) settings.kernels = resolveKernels(options.kernels);
  checkVocabSizeLevel(options, settings);
  return settings;
}

/** A vocabulary size is the word level's: asked of a character-level run (whose vocabulary is every character it sees), it is an error. */
function checkVocabSizeLevel(options: ParsedOptions, settings: TrainSettings): void {
  if (options.vocabSize !== undefined && settings.level !== 'word') {
    throw new SettingError('vocabSize', options.vocabSize, (name) =>
      `${name('vocabSize')} applies to ${name('level')} word only: a character-level vocabulary holds every character ` +
        `the training text has (use ${name('minCount')} to leave rare ones out)`);
  }
}

/**
 * A resumed run's settings: the checkpoint's, with the changeable ones replaced where given.
 * Giving a fixed one with another value is an error naming the flag and both values; giving
 * it with the same value is fine. Workers default to the checkpoint's, for an identical result.
 */
export function resumedSettings(options: ParsedOptions, ckpt: Checkpoint, source: string): TrainSettings {
  const settings = settingsFromConfig(ckpt.config);
  for (const key of FIXED_ON_RESUME) {
    // a character-level checkpoint has no vocabulary size to contradict: checkVocabSizeLevel says why
    if (key === 'vocabSize' && settings.level !== 'word') continue;
    const given = options[key];
    const recorded = settings[key];
    if (given !== undefined && given !== recorded) {
      throw new SettingError(key, given, (name) =>
        `${name(key)} ${given} contradicts ${source}, which was trained with ${name(key)} ${recorded}: ` +
          `leave it out to resume, or start a new run without ${name('resume')}`);
    }
  }
  checkVocabSizeLevel(options, settings);
  for (const key of SETTING_KEYS) {
    if ((FIXED_ON_RESUME as readonly string[]).includes(key) || options[key] === undefined) continue;
    (settings as unknown as Record<string, unknown>)[key] = options[key];
  }
  // the checkpoint's kernels unless others are asked for: the same kernels resume bit for bit
  if (options.kernels !== undefined) settings.kernels = resolveKernels(options.kernels);
  return settings;
}

/**
 * The limits: those given, if any; else, resuming, the ones the checkpoint's run was started
 * with (so an interrupted run finishes as planned); else DEFAULT_LIMITS.
 */
export function runLimits(options: ParsedOptions, ckpt: Checkpoint | null): RunLimits {
  if (options.epochs !== undefined || options.maxSteps !== undefined || options.timeSeconds !== undefined) {
    return { epochs: options.epochs ?? null, maxSteps: options.maxSteps ?? null, timeSeconds: options.timeSeconds ?? null };
  }
  const recorded = ckpt?.config.training;
  if (recorded && (recorded.epochs || recorded.maxSteps || recorded.timeSeconds)) {
    return { epochs: recorded.epochs ?? null, maxSteps: recorded.maxSteps ?? null, timeSeconds: recorded.timeSeconds ?? null };
  }
  return { ...DEFAULT_LIMITS };
}
