import { z } from 'zod';
import { OPTIMIZER_KINDS } from '../engine/optim.js';
import { VAL_FRAC } from '../text/corpus.js';
import { DOCS_MODES } from '../text/documents.js';
import { isJsonObject } from './errors.js';
import { corpusFiles, count, ruleVersion, sha256 } from './fields.js';
import { formatWrittenFirst } from './files.js';
import { ModelConfigSchema } from './model-config.js';
import { TrainingConfigSchema } from './settings.js';
import { EncodedTensorsSchema } from './tensors.js';

export const CHECKPOINT_FORMAT = 'rnn-checkpoint/1';

const uint32 = z.int().min(0).max(0xffffffff);

const DocsModeSchema = z.enum(DOCS_MODES);
const OptimizerKindSchema = z.enum(OPTIMIZER_KINDS);

const OptimizerStateSchema = z.object({
  kind: OptimizerKindSchema,
  step: count,
  beta1: z.number().min(0).lt(1),
  beta2: z.number().min(0).lt(1),
  eps: z.number().nonnegative(),
  m: EncodedTensorsSchema.nullable(),
  v: EncodedTensorsSchema.nullable(),
});

/**
 * An object schema that also reads fields under the names checkpoints written before them used
 * (`{ tokensSeen: 'charsSeen' }`), each in its place.
 */
function readingOldNames<T extends z.ZodObject>(schema: T, oldNames: Readonly<Record<string, string>>) {
  const renamed = new Map(Object.entries(oldNames).map(([name, old]) => [old, name]));
  const olds = Object.values(oldNames);
  return z.preprocess((value) => {
    // an object under today's names (every history entry a run writes) is read as it is, not copied
    if (!isJsonObject(value) || !olds.some((old) => Object.hasOwn(value, old))) return value;
    const nameOf = (key: string): string => {
      const name = renamed.get(key);
      return name !== undefined && !(name in value) ? name : key;
    };
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [nameOf(key), v]));
  }, schema);
}

/** A checkpoint from before the word level names `tokensSeen` `charsSeen`. */
const OLD_NAMES = { tokensSeen: 'charsSeen' };

const TrainingStateSchema = readingOldNames(z.object({
  step: count,
  epoch: count,
  cursor: count,
  lr: z.number().nonnegative(),
  rng: z.tuple([uint32, uint32, uint32, uint32]),
  bestValLoss: z.number().nonnegative().nullable(),
  tokensSeen: count,
  elapsedSeconds: z.number().nonnegative(),
  /**
   * The recurrent state the next training window starts from (truncated BPTT carries it from
   * step to step): tensors `h` and, for an LSTM, `c`, each [L, B, H]. Exact resume needs it.
   */
  carried: EncodedTensorsSchema.nullable().optional(),
  /** The exponential moving average of the step losses that progress reports. */
  smoothedLoss: z.number().nonnegative().nullable().optional(),
  /** The run stopped because its --time was spent: resumed with the same limits, it has nothing left to do. */
  timeSpent: z.boolean().optional(),
}), OLD_NAMES);

/** One evaluation of a run, in the order the run made them. */
const HistoryEntrySchema = readingOldNames(z.object({
  /** The steps trained when it was made. */
  step: count,
  /** The whole epochs done then. */
  epoch: count,
  /** The tokens trained on by then. */
  tokensSeen: count,
  /** The training loss then, nats a token: the moving average of the step losses that progress reports. */
  trainLoss: z.number().nonnegative(),
  /** The validation split's mean loss, nats a token; null where the run holds out no split. */
  valLoss: z.number().nonnegative().nullable(),
  /** The learning rate of that step. */
  lr: z.number().nonnegative(),
  /** The seconds trained by then, over every resume of the run. */
  seconds: z.number().nonnegative(),
}), OLD_NAMES);

const CorpusInfoSchema = z.object({
  files: corpusFiles,
  docs: DocsModeSchema,
  /** With docs 'sentence': the version of the sentence rules that cut the documents; absent, version 1 (`recordedSentenceRule`). */
  sentenceRule: ruleVersion.optional(),
  valFrac: VAL_FRAC.schema,
  totalTokens: count,
  trainTokens: count,
  valTokens: count,
  sha256,
  /** The prepared folder the run read its ids from (DataFingerprint.prepared). */
  prepared: z.string().optional(),
});

/** Where a fine-tuned run started: the model file it was initialised from (`rnn train --init-from`). */
const InitFromSchema = z.object({
  /** The file read, absolute. */
  path: z.string(),
  /** SHA-256 of its bytes. */
  sha256,
  /** Its training step (`trainedStep`); null for a model that records none: an exported one, or one imported into a checkpoint. */
  step: count.nullable(),
  /**
   * The tokens `--extend-vocab` added to its vocabulary, most frequent first (`rnn train --json`'s `vocabAdded`); absent
   * where it added none. Added characters take their places in code-point order, so the vocabulary alone cannot tell them.
   */
  added: z.array(z.string()).optional(),
});

export const CheckpointSchema = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  createdAt: z.iso.datetime({ offset: true }),
  command: z.array(z.string()),
  config: z.object({ model: ModelConfigSchema, training: TrainingConfigSchema }),
  vocab: z.array(z.string()),
  weights: EncodedTensorsSchema,
  optimizer: OptimizerStateSchema,
  training: TrainingStateSchema,
  history: z.array(HistoryEntrySchema),
  corpus: CorpusInfoSchema.nullable(),
  /** Absent unless the run was started from another model's weights. */
  initFrom: InitFromSchema.optional(),
  /** SHA-256 of everything else (integrity.ts), checked where present: a checkpoint from before the field has none. */
  sha256: sha256.optional(),
});

export type Checkpoint = z.infer<typeof CheckpointSchema>;
/**
 * What a checkpoint says of itself, its tensors left out (the weights, Adam's moments, the carried state): what a loaded
 * model keeps beside its decoded weights.
 */
export type CheckpointRecord = Omit<Checkpoint, 'weights' | 'optimizer' | 'training'> & { training: Omit<Checkpoint['training'], 'carried'> };
export type HistoryEntry = z.infer<typeof HistoryEntrySchema>;
export type InitFrom = z.infer<typeof InitFromSchema>;

/**
 * The step a checkpoint's training reached, or null for an imported model (`rnn import`: no
 * corpus recorded), trained elsewhere for steps no rnn-state/1 or .safetensors file records: its
 * step 0 only means that rnn has not trained it yet.
 */
export function trainedStep(ckpt: Checkpoint): number | null {
  return ckpt.corpus === null ? null : ckpt.training.step;
}

/** Whether the file at `path` begins as a checkpoint does (`format` is written first); false for none, or one unreadable. */
export function startsLikeCheckpoint(path: string): boolean {
  return formatWrittenFirst(path) === CHECKPOINT_FORMAT;
}
