import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import { issuePhrase } from '../checkpoint/errors.js';
import { UserError } from '../cli/errors.js';
import { CELL_KINDS, type CellKind } from '../engine/config.js';
import type { OptimizerKind } from '../engine/optim.js';
import { DOCS_MODES, type DocsMode } from '../text/corpus.js';

/** Everything that shapes a training run, as `rnn train`'s flags name it (camelCase). */
export interface TrainSettings {
  cell: CellKind;
  layers: number;
  hidden: number;
  embed: number;
  dropout: number;
  seqLen: number;
  batch: number;
  lr: number;
  /** Per-epoch factor: epoch e trains at lr · lrDecay^e. */
  lrDecay: number;
  /** Max global L2 norm of the gradient; null: no clipping. */
  clip: number | null;
  /** Max |g| per element; null: no clipping. */
  clipValue: number | null;
  optimizer: OptimizerKind;
  seed: number;
  workers: number;
  valFrac: number;
  minCount: number;
  docs: DocsMode;
  /** Evaluate (and checkpoint) every this many steps; 0: only at the end. */
  evalEvery: number;
}

/** When the run ends: the first limit reached. All are totals over the run, resumed parts included. */
export interface RunLimits {
  epochs: number | null;
  maxSteps: number | null;
  /** Training wall-clock seconds, summed over every part of a resumed run. */
  timeSeconds: number | null;
}

/**
 * The defaults, in one place. A PyTorch sweep on tinyshakespeare found a 2-layer GRU with
 * H = 96, E = 64, Adam 4e-3, B = 25, T = 50 gives the best loss per character on a small CPU
 * budget; the rest follow nanoGPT / char-rnn practice.
 */
export const TRAIN_DEFAULTS: Readonly<Omit<TrainSettings, 'workers'>> = {
  cell: 'gru', // the sweep's best cell; 3 gates to an LSTM's 4, so 3/4 of its recurrent weights
  layers: 2, // the sweep's best depth
  hidden: 96, // the sweep's best width for a small CPU budget
  embed: 64, // the sweep's best embedding size
  dropout: 0, // a model this small underfits a few MB of text; dropout would only slow it down
  seqLen: 50, // BPTT window T, the sweep's best (and char-rnn's)
  batch: 25, // the sweep's best B: more updates per character read than B = 50
  lr: 4e-3, // Adam's rate in the sweep's best run
  lrDecay: 1, // no decay: default runs are one epoch; e.g. 0.95 suits long runs
  clip: 5, // global-norm clipping as char-rnn; keeps early recurrent updates from blowing up
  clipValue: null, // element-wise clipping off
  optimizer: 'adam', // the sweep's optimizer
  seed: 1337, // any fixed value: runs are reproducible by default
  valFrac: 0.1, // the last 10% of the text, as char-rnn
  minCount: 1, // keep every character the training text has
  docs: 'file', // each file one document (spec/text.md)
  evalEvery: 400, // only where the validation split is unknown (an imported model); see defaultEvalEvery
};

/**
 * Steps between evaluations when --eval-every is not given: a validation pass is a forward
 * pass, about a third of a training step's work per character, so evaluating every
 *   10 · valChars / (3 · B · T)
 * steps (rounded up to a hundred) keeps it near a tenth of the training time.
 */
export function defaultEvalEvery(valChars: number, batch: number, seqLen: number): number {
  return Math.max(100, Math.ceil((10 * valChars) / (3 * batch * seqLen) / 100) * 100);
}

/** Threads by default: every core the OS offers this process. */
export function defaultWorkers(): number {
  return availableParallelism();
}

/** How long a run trains when no --epochs, --max-steps or --time is given: one pass over the text. */
export const DEFAULT_LIMITS: Readonly<RunLimits> = { epochs: 1, maxSteps: null, timeSeconds: null };

/** What `train()` accepts: any setting left out takes its default (or, resuming, the checkpoint's). */
export interface TrainOptions extends Partial<TrainSettings> {
  epochs?: number;
  maxSteps?: number;
  /** Seconds, or a duration such as `90s`, `3m`, `1h`, `1h30m`. */
  time?: number | string;
  /** Output folder (writes `latest.json` and `best.json`) or a `.json` file path. */
  out?: string;
  /** Checkpoint to continue from. */
  resume?: string;
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

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/** Flag text to a number when it reads as one; anything else is left for the schema to reject. */
const numeric = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && NUMBER.test(value.trim()) ? Number(value) : value), schema);

const positiveInt = numeric(z.int().min(1));

const OptionsSchema = z.strictObject({
  cell: z.enum(CELL_KINDS).optional(),
  layers: positiveInt.optional(),
  hidden: positiveInt.optional(),
  embed: positiveInt.optional(),
  dropout: numeric(z.number().min(0).lt(1)).optional(),
  seqLen: positiveInt.optional(),
  batch: positiveInt.optional(),
  lr: numeric(z.number().positive()).optional(),
  lrDecay: numeric(z.number().positive().max(1)).optional(),
  // 0 turns clipping off
  clip: numeric(z.number().min(0)).nullable().optional(),
  clipValue: numeric(z.number().min(0)).nullable().optional(),
  optimizer: z.enum(['adam', 'sgd']).optional(),
  seed: numeric(z.int().min(0).max(0xffffffff)).optional(),
  workers: positiveInt.optional(),
  valFrac: numeric(z.number().min(0).lt(1)).optional(),
  minCount: positiveInt.optional(),
  docs: z.enum(DOCS_MODES).optional(),
  evalEvery: numeric(z.int().min(0)).optional(),
  epochs: positiveInt.optional(),
  maxSteps: positiveInt.optional(),
  time: z.union([z.number(), z.string()]).optional(),
  out: z.string().min(1).optional(),
  resume: z.string().min(1).optional(),
  command: z.array(z.string()).optional(),
});

/** `seqLen` → `--seq-len`. */
export function flagName(key: PropertyKey): string {
  return `--${String(key).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/**
 * Validates options (from the command line, as strings, or from code, as numbers); the first
 * problem becomes a one-line UserError naming the flag, e.g. `--hidden: must be >= 1 (got 0)`.
 */
export function parseOptions(input: Record<string, unknown>): ParsedOptions {
  const defined = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const parsed = OptionsSchema.safeParse(defined, { reportInput: true });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new UserError(`unknown option ${flagName(issue.keys[0]!)}`);
    throw new UserError(`${flagName(issue.path[0] ?? 'options')}: ${issuePhrase(issue)}`);
  }
  const { time, ...rest } = parsed.data;
  const options: ParsedOptions = { ...rest };
  if (rest.clip === 0) options.clip = null;
  if (rest.clipValue === 0) options.clipValue = null;
  if (time !== undefined) {
    const seconds = typeof time === 'number' ? time : parseDuration(time);
    if (seconds === null || !(seconds > 0) || !Number.isFinite(seconds)) {
      throw new UserError(`--time: must be a positive duration such as 90s, 3m, 1h or 1h30m (got ${JSON.stringify(time)})`);
    }
    options.timeSeconds = seconds;
  }
  return options;
}

const SETTING_KEYS = [
  'cell', 'layers', 'hidden', 'embed', 'dropout', 'seqLen', 'batch', 'lr', 'lrDecay', 'clip', 'clipValue',
  'optimizer', 'seed', 'workers', 'valFrac', 'minCount', 'docs', 'evalEvery',
] as const satisfies readonly (keyof TrainSettings)[];

/**
 * Settings a resumed run cannot change: they fix the model's shape, the optimizer's state, the
 * data and its batching, or the random streams; anything else (lr schedule, clipping, eval
 * interval, workers, limits) may change on resume.
 */
export const FIXED_ON_RESUME = [
  'cell', 'layers', 'hidden', 'embed', 'dropout', 'seqLen', 'batch', 'optimizer', 'seed', 'valFrac', 'minCount', 'docs',
] as const satisfies readonly (keyof TrainSettings)[];

/** A fresh run's settings: each option given, else its default. */
export function freshSettings(options: ParsedOptions): TrainSettings {
  const settings: TrainSettings = { ...TRAIN_DEFAULTS, workers: options.workers ?? defaultWorkers() };
  for (const key of SETTING_KEYS) {
    if (options[key] !== undefined) (settings as unknown as Record<string, unknown>)[key] = options[key];
  }
  return settings;
}

/** The settings a checkpoint was trained with. */
export function checkpointSettings(ckpt: Checkpoint): TrainSettings {
  const { model, training } = ckpt.config;
  return {
    cell: model.cell, layers: model.numLayers, hidden: model.hiddenSize, embed: model.embedDim, dropout: model.dropout,
    seqLen: training.seqLen, batch: training.batchSize, lr: training.lr, lrDecay: training.lrDecay,
    clip: training.clip, clipValue: training.clipValue, optimizer: training.optimizer, seed: training.seed,
    workers: training.workers, valFrac: training.valFrac, minCount: training.minCount, docs: training.docs,
    evalEvery: training.evalEvery,
  };
}

/**
 * A resumed run's settings: the checkpoint's, with the changeable ones replaced where given.
 * Giving a fixed one with another value is an error naming the flag and both values; giving
 * it with the same value is fine. Workers default to the checkpoint's, for an identical result.
 */
export function resumedSettings(options: ParsedOptions, ckpt: Checkpoint, source: string): TrainSettings {
  const settings = checkpointSettings(ckpt);
  for (const key of FIXED_ON_RESUME) {
    const given = options[key];
    if (given !== undefined && given !== settings[key]) {
      throw new UserError(
        `${flagName(key)} ${given} contradicts ${source}, which was trained with ${flagName(key)} ${settings[key]}: ` +
          `leave it out to resume, or start a new run without --resume`,
      );
    }
  }
  for (const key of SETTING_KEYS) {
    if ((FIXED_ON_RESUME as readonly string[]).includes(key) || options[key] === undefined) continue;
    (settings as unknown as Record<string, unknown>)[key] = options[key];
  }
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
