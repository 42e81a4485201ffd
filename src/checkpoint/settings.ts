import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { CELL_KINDS, type ModelConfig } from '../engine/config.js';
import { KERNELS_CHOICES, KERNELS_EXPECTED, resolveKernels } from '../engine/kernels/index.js';
import { KERNELS_KINDS, type KernelsKind } from '../engine/kernels/kinds.js';
import { LR_SCHEDULES, OPTIMIZER_KINDS } from '../engine/optim.js';
import { FRACTION, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER, POSITIVE_NUMBER, type Setting, SHARE, type SettingNamer, SEED, SettingError, numeric, orList, pickSettings, withDefaults } from '../input/settings.js';
import { VAL_FRAC } from '../text/corpus.js';
import { DOCS_MODES } from '../text/documents.js';
import { TEXT_LEVELS, type TextLevel } from '../text/vocab.js';
import { DEFAULT_VOCAB_SIZE, VOCAB_SIZE } from '../text/word-vocab.js';
import { knownWordRule, WORD_RULE_VERSION, type WordRule } from '../text/words.js';
import { NO_SPACING, type Spacing, spacesNone } from '../text/spacing.js';
import { ruleVersion, spacingRecord } from './fields.js';
import { MODEL_SCHEMAS } from './model-config.js';

/** A training setting: a Setting with its default, what resuming does with it, and where a checkpoint records it. */
export interface TrainSetting<V = unknown> extends Setting<V> {
  default: V | (() => V);
  /**
   * A resumed run keeps the checkpoint's value: it fixes the model's shape, the optimizer's
   * state, the data and its batching, or the random streams.
   */
  fixedOnResume: boolean;
  /** Where a checkpoint's `config` records it: `model.FIELD` or `training.FIELD`. */
  checkpoint: `model.${keyof ModelConfig}` | `training.${string}`;
  /** How a checkpoint written before it was recorded reads: this value (its record is then optional). */
  whenAbsent?: V;
  /**
   * It applies only where another setting has one value, and given otherwise is refused in one
   * line saying why (checkAppliesWith). One that applies with the word level only is not
   * recorded by a character-level run.
   */
  appliesWith?: AppliesWith;
  /** A fine-tuned run (`--init-from`) takes it from its base model, and refuses a flag that differs: the architecture and the level. */
  fromBase?: true;
}

/** The value of another setting that a setting applies with. */
export interface AppliesWith {
  setting: string;
  value: string;
  /** Why it does not apply where that setting is `actual`: the second half of the refusal. */
  otherwise: (name: SettingNamer, actual: unknown) => string;
}

const positiveInteger = POSITIVE_INTEGER.schema;
/** A gradient clip: positive, or null for none; given as a number, 0 turns it off. */
const clipSchema = z.number().positive().nullable();
const clipInput = numeric(z.number().min(0)).nullable().transform((v) => (v === 0 ? null : v));
const CLIP_EXPECTED = 'a number >= 0; 0: off';

/**
 * `--kernels auto|js|wasm|relaxed`: which implementation of the kernels runs; `auto` (and nothing given,
 * or RNN_KERNELS) resolves to the fastest this machine runs.
 */
export const KERNELS_SETTING = {
  schema: z.enum(KERNELS_KINDS),
  input: z.enum(KERNELS_CHOICES).transform((choice) => resolveKernels(choice)),
  expected: KERNELS_EXPECTED,
  arg: '<kind>',
  help: 'kernels: auto (the fastest the machine runs: relaxed, else wasm, else js), relaxed (WebAssembly relaxed SIMD: fused multiply-adds), wasm (WebAssembly SIMD) or js',
  defaultText: 'auto, or RNN_KERNELS',
} as const satisfies Setting<KernelsKind>;

/**
 * Every setting of a training run, in the order a checkpoint's `config` records them (its
 * checksum covers that order), in the groups `rnn train --help` lists them in: the one home
 * of each one's name (its flag is the name in kebab case), range, default, help, resume rule
 * and checkpoint field. The options schema, the flags, the checkpoint's `config.training`
 * schema, the resume rules and docs/usage.md are made from it: a new setting is one entry
 * here (a checkpoint written before it reads as `whenAbsent`), then `npm run docs`.
 *
 * The defaults are chosen for the best validation loss a user gets in a few minutes on two
 * cores with the WebAssembly kernels, which train about 40,000 characters a second per core at
 * this size (several epochs of tinyshakespeare in three minutes). Runs to 2,000 steps on
 * tinyshakespeare, one worker, compared at equal characters: a GRU 2×192 reached 1.548 after
 * 4 M characters where a GRU 2×128 reached 1.576, and lowering the rate by 0.8 each epoch took
 * the 2×192 to 1.520; a half cosine to 0 over the run was 0.033 lower again at equal steps. The
 * rest follow nanoGPT / char-rnn practice.
 */
export const TRAIN_SETTINGS = {
  cell: {
    group: 'Model',
    schema: MODEL_SCHEMAS.cell, arg: '<kind>', help: `recurrent cell: ${orList(CELL_KINDS)}`,
    // 3 gates to an LSTM's 4: 3/4 of its weights, and as good per character in a PyTorch sweep
    default: 'gru', fixedOnResume: true, fromBase: true, checkpoint: 'model.cell',
  },
  layers: {
    group: 'Model',
    schema: MODEL_SCHEMAS.numLayers, arg: '<n>', help: 'stacked recurrent layers',
    default: 2, fixedOnResume: true, fromBase: true, checkpoint: 'model.numLayers', // as deep as pays off in minutes
  },
  hidden: {
    group: 'Model',
    schema: MODEL_SCHEMAS.hiddenSize, arg: '<n>', help: 'hidden size H',
    // the widest that still sees several epochs of a few MB in three minutes on two cores
    default: 192, fixedOnResume: true, fromBase: true, checkpoint: 'model.hiddenSize',
  },
  embed: {
    group: 'Model',
    schema: MODEL_SCHEMAS.embedDim, arg: '<n>', help: 'embedding size E',
    default: 64, fixedOnResume: true, fromBase: true, checkpoint: 'model.embedDim', // the PyTorch sweep's best embedding size
  },
  dropout: {
    group: 'Model',
    schema: MODEL_SCHEMAS.dropout, expected: FRACTION.expected, arg: '<p>', help: `dropout between layers, ${FRACTION.expected}`,
    // a few epochs of a few MB do not overfit this model; dropout would only slow it down
    default: 0, fixedOnResume: true, checkpoint: 'model.dropout',
  },
  seqLen: {
    group: 'Training',
    schema: positiveInteger, arg: '<n>', help: 'BPTT window T in tokens',
    default: 50, fixedOnResume: true, checkpoint: 'training.seqLen', // char-rnn's
  },
  batch: {
    group: 'Training',
    schema: positiveInteger, arg: '<n>', help: 'rows B trained side by side',
    // measured against 16 and 50 at equal characters and against PyTorch's speed at each (docs/usage.md)
    default: 32, fixedOnResume: true, checkpoint: 'training.batchSize',
  },
  lr: {
    group: 'Training',
    ...POSITIVE_NUMBER, arg: '<rate>', help: 'learning rate',
    default: 3e-3, fixedOnResume: false, checkpoint: 'training.lr', // Adam's rate for this width
  },
  lrSchedule: {
    group: 'Training',
    schema: z.enum(LR_SCHEDULES), expected: orList(LR_SCHEDULES), arg: '<schedule>',
    help: 'cosine: the learning rate falls from --lr to 0 over the run (its steps, or its --time); epoch: times --lr-decay each epoch',
    // 0.03 lower than ×0.8 an epoch at equal steps (docs/usage.md); a checkpoint from before the choice decayed by epoch
    default: 'cosine', fixedOnResume: false, checkpoint: 'training.lrSchedule', whenAbsent: 'epoch',
  },
  lrDecay: {
    group: 'Training',
    // --lr-schedule epoch: epoch e trains at lr · lrDecay^e
    ...SHARE, arg: '<factor>',
    help: `with --lr-schedule epoch: learning rate factor per epoch, ${SHARE.expected}`,
    // three-minute runs see several epochs, and the decay gained 0.03 by the fourth
    default: 0.8, fixedOnResume: false, checkpoint: 'training.lrDecay',
    appliesWith: {
      setting: 'lrSchedule', value: 'epoch',
      otherwise: (name, schedule) => `the ${String(schedule)} schedule takes the learning rate from ${name('lr')} to 0 over the run ` +
        `(give ${name('lrSchedule')} epoch to decay by epoch)`,
    },
  },
  clip: {
    group: 'Training',
    schema: clipSchema, input: clipInput, expected: CLIP_EXPECTED, arg: '<norm>', help: 'clip the gradient\'s global L2 norm; 0: off',
    // global-norm clipping as char-rnn; keeps early recurrent updates from blowing up
    default: 5, fixedOnResume: false, checkpoint: 'training.clip',
  },
  clipValue: {
    group: 'Training',
    schema: clipSchema, input: clipInput, expected: CLIP_EXPECTED, arg: '<v>', help: 'clip each gradient element to ±v; 0: off',
    default: null, fixedOnResume: false, checkpoint: 'training.clipValue',
  },
  seed: {
    group: 'Training',
    ...SEED, arg: '<n>',
    default: 1337, fixedOnResume: true, checkpoint: 'training.seed', // any fixed value: runs are reproducible by default
  },
  workers: {
    group: 'Training',
    ...POSITIVE_INTEGER, arg: '<n>', help: 'threads',
    defaultText: 'every core; resuming: the checkpoint\'s, for an identical result',
    default: () => availableParallelism(), fixedOnResume: false, checkpoint: 'training.workers',
  },
  valFrac: {
    group: 'Text',
    ...VAL_FRAC, arg: '<f>', help: `fraction of the text, from its end, held out for validation; f is ${VAL_FRAC.expected}`,
    default: 0.1, fixedOnResume: true, checkpoint: 'training.valFrac', // the last 10% of the text, as char-rnn
  },
  minCount: {
    group: 'Text',
    ...POSITIVE_INTEGER, arg: '<n>', help: `tokens (characters or words) seen fewer than n times read as <UNK>; n is ${POSITIVE_INTEGER.expected}`,
    default: 1, fixedOnResume: true, checkpoint: 'training.minCount', // keep every token the training text has
  },
  docs: {
    group: 'Text',
    schema: z.enum(DOCS_MODES), arg: '<mode>', help: `documents: ${DOCS_MODES.join(', ')}`,
    default: 'file', fixedOnResume: true, checkpoint: 'training.docs', // each file one document (docs/text.md)
  },
  evalEvery: {
    group: 'Training',
    ...NON_NEGATIVE_INTEGER, arg: '<steps>', help: 'evaluate and save every this many steps; 0: only at the end',
    defaultText: 'as often as keeps validation to about a tenth of the time',
    // used only where the validation split is unknown (an imported model); a run's is defaultEvalEvery's
    default: 400, fixedOnResume: false, checkpoint: 'training.evalEvery',
  },
  optimizer: {
    group: 'Training',
    schema: z.enum(OPTIMIZER_KINDS), arg: '<name>', help: orList(OPTIMIZER_KINDS),
    default: 'adam', fixedOnResume: true, checkpoint: 'training.optimizer', // the sweep's optimizer
  },
  kernels: {
    group: 'Training',
    ...KERNELS_SETTING, defaultText: `${KERNELS_SETTING.defaultText}; resuming: the checkpoint's, for an identical result`,
    // a checkpoint from before there was a choice trained on js
    default: () => resolveKernels(), fixedOnResume: false, checkpoint: 'training.kernels', whenAbsent: 'js',
  },
  level: {
    group: 'Text',
    schema: z.enum(TEXT_LEVELS), expected: orList(TEXT_LEVELS), arg: '<level>',
    help: 'what a token is: char (a character) or word (a word or punctuation mark)',
    // a checkpoint from before the word level is a character-level one
    default: 'char', fixedOnResume: true, fromBase: true, checkpoint: 'training.level', whenAbsent: 'char',
  },
  vocabSize: {
    group: 'Text',
    ...VOCAB_SIZE, arg: '<n>',
    help: `word level: vocabulary entries in all, the most frequent tokens; n is ${VOCAB_SIZE.expected}`,
    // <EOS>, <UNK> and the 9,998 most frequent tokens
    default: DEFAULT_VOCAB_SIZE, fixedOnResume: true, checkpoint: 'training.vocabSize', whenAbsent: DEFAULT_VOCAB_SIZE,
    appliesWith: {
      setting: 'level', value: 'word',
      otherwise: (name) => `a character-level vocabulary holds every character the training text has (use ${name('minCount')} to leave rare ones out)`,
    },
  },
} as const satisfies Readonly<Record<string, TrainSetting>>;

type Table = typeof TRAIN_SETTINGS;
export type TrainSettingName = keyof Table;

/** Everything that shapes a training run, named as TRAIN_SETTINGS names it. */
export type TrainSettings = { -readonly [K in TrainSettingName]: z.output<Table[K]['schema']> };

/** The settings that say what the text's tokens are and how it is split: what a command that reads a corpus as `rnn train` does takes. */
export const TEXT_SETTING_NAMES = ['level', 'vocabSize', 'minCount', 'docs', 'valFrac'] as const satisfies readonly TrainSettingName[];

/** The text settings, as a table another command's flags can be made from. */
export const TEXT_SETTINGS = pickSettings(TRAIN_SETTINGS, TEXT_SETTING_NAMES);

const SETTING_NAMES = Object.keys(TRAIN_SETTINGS) as TrainSettingName[];
const setting = (name: TrainSettingName): TrainSetting => TRAIN_SETTINGS[name];

/** The settings a resumed run cannot change; anything else (lr schedule, clipping, eval interval, workers, kernels) may change. */
export const FIXED_ON_RESUME: readonly TrainSettingName[] = SETTING_NAMES.filter((name) => setting(name).fixedOnResume);

/** Settings that apply to the word level only. */
export const WORD_LEVEL_ONLY: readonly TrainSettingName[] = SETTING_NAMES.filter((name) => setting(name).appliesWith?.setting === 'level');

/** The settings a fine-tuned run takes from its base model. */
export const FROM_BASE: readonly TrainSettingName[] = SETTING_NAMES.filter((name) => setting(name).fromBase);

/**
 * A setting given where the one it applies with has another value (its appliesWith: the
 * vocabulary size at the character level, the decay per epoch with the cosine schedule) is an
 * error saying why.
 */
export function checkAppliesWith(given: Readonly<Partial<Record<TrainSettingName, unknown>>>, settings: TrainSettings): void {
  for (const key of SETTING_NAMES) {
    const rule = setting(key).appliesWith;
    if (rule === undefined || given[key] === undefined) continue;
    const actual = settings[rule.setting as TrainSettingName];
    if (actual === rule.value) continue;
    throw new SettingError(key, given[key], (name) =>
      `${name(key)} applies to ${name(rule.setting)} ${rule.value} only: ${rule.otherwise(name, actual)}`);
  }
}

type Static<K extends TrainSettingName> = Table[K]['default'] extends () => unknown ? never : K;

/** The defaults that are values (not worked out on this machine): every setting but workers and kernels. */
export const TRAIN_DEFAULTS = Object.fromEntries(
  SETTING_NAMES.filter((name) => typeof setting(name).default !== 'function').map((name) => [name, setting(name).default]),
) as { readonly [K in TrainSettingName as Static<K>]: TrainSettings[K] };

/** A fresh run's settings before any flag: the defaults, on every core, on the fastest kernels this machine runs (or RNN_KERNELS's). */
export function defaultSettings(): TrainSettings {
  return withDefaults(TRAIN_SETTINGS, {}) as TrainSettings;
}

/** When the run ends: the first limit reached. All are totals over the run, resumed parts included. */
export interface RunLimits {
  epochs: number | null;
  maxSteps: number | null;
  /** Training wall-clock seconds, summed over every part of a resumed run. */
  timeSeconds: number | null;
}

/** The field of a checkpoint's `config` a setting is recorded in: ['model', 'hiddenSize'], ['training', 'batchSize']. */
function recordedAt(name: TrainSettingName): ['model' | 'training', string] {
  const [part, field] = setting(name).checkpoint.split('.') as ['model' | 'training', string];
  return [part, field];
}

type RecordedField<K extends TrainSettingName> = Table[K]['checkpoint'] extends `training.${infer F}` ? F : never;
type Required<K extends TrainSettingName> = K extends unknown ? (Table[K] extends { whenAbsent: unknown } ? never : K) : never;
type Optional<K extends TrainSettingName> = K extends unknown ? (Table[K] extends { whenAbsent: unknown } ? K : never) : never;
type TrainingShape =
  & { [K in Required<TrainSettingName> as RecordedField<K>]: Table[K]['schema'] }
  & { [K in Optional<TrainSettingName> as RecordedField<K>]: z.ZodOptional<Table[K]['schema']> };

const recordedTrainingShape = Object.fromEntries(SETTING_NAMES.flatMap((name) => {
  const [part, field] = recordedAt(name);
  const { schema, whenAbsent } = setting(name);
  return part === 'training' ? [[field, whenAbsent === undefined && !WORD_LEVEL_ONLY.includes(name) ? schema : schema.optional()]] : [];
})) as TrainingShape;

/** A checkpoint's `config.training`: the training settings, the word rules' version, and the run's limits. */
export const TrainingConfigSchema = z.object({
  ...recordedTrainingShape,
  /** Word level: the version of the tokenizer rules the ids were made under (`Vocabulary.wordRule`). */
  wordRule: ruleVersion.optional(),
  /** Word level: the marks its corpus spaces (`Vocabulary.spacing`); absent, none (a checkpoint from before the record reads so too). */
  spacing: spacingRecord.optional(),
  /**
   * An imported model with docs 'sentence', which records no corpus: the version of the sentence
   * rules it reads text under, its file's (`recordedDocuments`); a corpus records its own.
   */
  sentenceRule: ruleVersion.optional(),
  /** How long the run was asked to train (totals over the whole run, null: no such limit); resume reuses them. */
  epochs: positiveInteger.nullable().optional(),
  maxSteps: positiveInteger.nullable().optional(),
  timeSeconds: z.number().positive().nullable().optional(),
});

export type TrainingConfig = z.infer<typeof TrainingConfigSchema>;

/** A checkpoint's level: a checkpoint from before the word level records none, and is 'char'. */
export function recordedLevel(training: Pick<TrainingConfig, 'level'>): TextLevel {
  return training.level ?? TRAIN_SETTINGS.level.whenAbsent;
}

/**
 * The tokenizer rules' version a word-level checkpoint's ids were made under (loading has checked
 * that this code has it); a character-level one records none and has no use for it: the current one.
 */
export function recordedWordRule(training: Pick<TrainingConfig, 'wordRule'>): WordRule {
  const rule = knownWordRule(training.wordRule ?? WORD_RULE_VERSION);
  if (rule === null) throw new RangeError(`tokenizer rules version ${training.wordRule} is not one this rnn has`);
  return rule;
}

/** The model the settings describe, for a vocabulary of `vocabSize` tokens. */
export function modelConfig(settings: TrainSettings, vocabSize: number): ModelConfig {
  const model: Record<string, unknown> = { vocabSize };
  for (const name of SETTING_NAMES) {
    const [part, field] = recordedAt(name);
    if (part === 'model') model[field] = settings[name];
  }
  return model as unknown as ModelConfig;
}

/**
 * The settings as a checkpoint's `config.training` records them, with the run's limits when it
 * has any. A word-level run also records its word-level settings and `wordRule`, the version of
 * the tokenizer rules its ids were made under, and the marks its corpus spaces where it spaces any.
 */
export function trainingConfig(
  settings: TrainSettings, wordRule: WordRule, limits?: RunLimits, spacing: Spacing = NO_SPACING,
): TrainingConfig {
  const training: Record<string, unknown> = {};
  for (const name of SETTING_NAMES) {
    const [part, field] = recordedAt(name);
    if (part === 'training' && (settings.level === 'word' || !WORD_LEVEL_ONLY.includes(name))) training[field] = settings[name];
  }
  if (settings.level === 'word') training['wordRule'] = wordRule;
  if (settings.level === 'word' && !spacesNone(spacing)) training['spacing'] = spacing;
  if (limits) Object.assign(training, { epochs: limits.epochs, maxSteps: limits.maxSteps, timeSeconds: limits.timeSeconds });
  return training as TrainingConfig;
}

/** The settings a checkpoint's `config` records: the inverse of `modelConfig` and `trainingConfig`. */
export function settingsFromConfig(config: { model: ModelConfig; training: TrainingConfig }): TrainSettings {
  return readSettings(config, SETTING_NAMES) as TrainSettings;
}

/** The FROM_BASE settings of a model: what its config and level say (an exported model records nothing else). */
export function baseSettings(model: ModelConfig, level: TextLevel): Partial<TrainSettings> {
  return readSettings({ model, training: { level } }, FROM_BASE);
}

function readSettings(
  config: { model: ModelConfig; training: Partial<TrainingConfig> }, names: readonly TrainSettingName[],
): Partial<TrainSettings> {
  const recorded = config as unknown as Record<'model' | 'training', Record<string, unknown>>;
  return Object.fromEntries(names.map((name) => {
    const [part, field] = recordedAt(name);
    const value = recorded[part][field];
    return [name, value === undefined ? setting(name).whenAbsent : value];
  })) as Partial<TrainSettings>;
}
