import { z } from 'zod';
import { CELL_KINDS, type ModelConfig } from '../engine/config.js';
import { FRACTION, POSITIVE_INTEGER } from '../input/settings.js';

const dimension = POSITIVE_INTEGER.schema;

/**
 * The fields of a model config, each with its range and its name in `rnn-state/1` (PyTorch's
 * names): the one home of both, from which the checkpoint's and the interop format's schemas
 * and the conversions between them are made. What shapes only training (`trainingOnly`:
 * dropout) is written where it is not 0, for a run fine-tuned from the file (`--init-from`);
 * left out, it reads back as 0.
 */
const MODEL_FIELDS = {
  cell: { schema: z.enum(CELL_KINDS), interop: 'cell' },
  // <EOS> and <UNK> at least
  vocabSize: { schema: z.int().min(2), interop: 'vocab_size' },
  embedDim: { schema: dimension, interop: 'embed_dim' },
  hiddenSize: { schema: dimension, interop: 'hidden_size' },
  numLayers: { schema: dimension, interop: 'num_layers' },
  dropout: { schema: FRACTION.schema, interop: 'dropout', trainingOnly: true },
} as const satisfies Record<keyof ModelConfig, { schema: z.ZodType; interop: string; trainingOnly?: true }>;

type ModelField = keyof typeof MODEL_FIELDS;
type InteropName<K extends ModelField> = (typeof MODEL_FIELDS)[K]['interop'];

/** A model config as `rnn-state/1` names its fields. */
export type InteropModelConfig = { [K in ModelField as InteropName<K>]: ModelConfig[K] };

/** What `rnn-state/1` writes of a model config: dropout only where it is not 0. */
export type WrittenInteropModelConfig = Omit<InteropModelConfig, 'dropout'> & Partial<Pick<InteropModelConfig, 'dropout'>>;

/** The range of each model config field, as a checkpoint's `config.model` and a setting that sets it take it. */
export const MODEL_SCHEMAS: { readonly [K in ModelField]: (typeof MODEL_FIELDS)[K]['schema'] } = Object.fromEntries(
  Object.entries(MODEL_FIELDS).map(([key, field]) => [key, field.schema]),
) as never;

/** A checkpoint's `config.model`. */
export const ModelConfigSchema = z.object(MODEL_SCHEMAS);

const trainingOnly = (field: (typeof MODEL_FIELDS)[ModelField]): boolean => 'trainingOnly' in field;

/** The model fields of an `rnn-state/1` config; a training-only one may be left out. */
export const InteropModelConfigShape = Object.fromEntries(
  Object.values(MODEL_FIELDS).map((field) => [field.interop, trainingOnly(field) ? field.schema.optional() : field.schema]),
) as { [K in ModelField as InteropName<K>]: K extends 'dropout' ? z.ZodOptional<(typeof MODEL_FIELDS)[K]['schema']> : (typeof MODEL_FIELDS)[K]['schema'] };

/** A model config as `rnn-state/1` writes it: PyTorch's names, a training-only field left out where it is 0. */
export function toInteropNames(config: ModelConfig): WrittenInteropModelConfig {
  const fields = Object.entries(MODEL_FIELDS).filter(([key, field]) => !trainingOnly(field) || config[key as ModelField] !== 0);
  return Object.fromEntries(fields.map(([key, field]) => [field.interop, config[key as ModelField]])) as WrittenInteropModelConfig;
}

/** A model config from `rnn-state/1`'s names (validated); a training-only field left out reads as 0. */
export function fromInteropNames(config: WrittenInteropModelConfig): ModelConfig {
  const named = config as Record<string, unknown>;
  return Object.fromEntries(
    Object.entries(MODEL_FIELDS).map(([key, field]) => [key, named[field.interop] ?? (trainingOnly(field) ? 0 : undefined)]),
  ) as unknown as ModelConfig;
}
