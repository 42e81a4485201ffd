import { z } from 'zod';
import { CELL_KINDS, type ModelConfig } from '../engine/config.js';
import { paramLayout } from '../engine/params.js';
import { zodErrorMessage } from '../input/issues.js';
import { CheckpointError, checkFormat, formatShape, sameShape } from './errors.js';
import { checkVocab } from './vocab.js';

export const INTEROP_FORMAT = 'rnn-state/1';

const dimension = z.int().positive();

const InteropConfigSchema = z.object({
  cell: z.enum(CELL_KINDS),
  vocab_size: z.int().min(2),
  embed_dim: dimension,
  hidden_size: dimension,
  num_layers: dimension,
  dropout: z.number().min(0).lt(1).optional(),
});

const InteropStateSchema = z.object({
  format: z.literal(INTEROP_FORMAT),
  config: InteropConfigSchema,
  vocab: z.array(z.string()),
  tensors: z.record(
    z.string(),
    z.object({
      shape: z.array(z.int().nonnegative()),
      data: z.array(z.number()),
    }),
  ),
});

export type InteropState = z.infer<typeof InteropStateSchema>;

export interface ModelState {
  config: ModelConfig;
  vocab: string[];
  params: Float32Array;
}

/** The model as an `rnn-state/1` object, ready for JSON.stringify (float32 values print exactly). */
export function toInteropState(config: ModelConfig, vocab: string[], params: Float32Array): InteropState {
  const layout = paramLayout(config);
  if (params.length !== layout.total) {
    throw new RangeError(`parameter buffer has ${params.length} values, the model needs ${layout.total}`);
  }
  if (vocab.length !== config.vocabSize) {
    throw new RangeError(`vocabulary has ${vocab.length} tokens, the model has vocabSize ${config.vocabSize}`);
  }
  const tensors: InteropState['tensors'] = {};
  for (const spec of layout.specs) {
    const data = Array.from(params.subarray(spec.offset, spec.offset + spec.size));
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RangeError(`${spec.name}[${bad}] is ${data[bad]}: JSON cannot hold it`);
    tensors[spec.name] = { shape: [...spec.shape], data };
  }
  return { format: INTEROP_FORMAT, config: interopConfig(config), vocab: [...vocab], tensors };
}

/** A model config as rnn-state/1 writes it (PyTorch's names). */
export function interopConfig(config: ModelConfig): InteropState['config'] {
  return {
    cell: config.cell,
    vocab_size: config.vocabSize,
    embed_dim: config.embedDim,
    hidden_size: config.hiddenSize,
    num_layers: config.numLayers,
  };
}

/** An rnn-state/1 config (e.g. safetensors metadata) validated and read as a model config; messages name `source`. */
export function interopModelConfig(json: unknown, source: string): ModelConfig {
  const parsed = InteropConfigSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  return modelConfigOf(parsed.data);
}

function modelConfigOf(config: InteropState['config']): ModelConfig {
  return {
    cell: config.cell,
    vocabSize: config.vocab_size,
    embedDim: config.embed_dim,
    hiddenSize: config.hidden_size,
    numLayers: config.num_layers,
    dropout: config.dropout ?? 0,
  };
}

/** Validates an `rnn-state/1` object (e.g. a fixture's `state`) and converts its values to float32. */
export function fromInteropState(json: unknown, source: string): ModelState {
  checkFormat(json, source, INTEROP_FORMAT, (format) => (format === 'rnn-checkpoint/1' ? ' (a native checkpoint, not an interop file)' : ''));
  const parsed = InteropStateSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  const state = parsed.data;

  const config = modelConfigOf(state.config);
  checkVocab(state.vocab, config.vocabSize, source, 'vocab', 'config.vocab_size');

  const layout = paramLayout(config);
  for (const name of Object.keys(state.tensors)) {
    if (!layout.byName.has(name)) {
      throw new CheckpointError(
        `${source}: tensors[${JSON.stringify(name)}] is not a tensor of a ${config.numLayers}-layer ${config.cell}`,
      );
    }
  }
  const params = new Float32Array(layout.total);
  for (const spec of layout.specs) {
    const field = `tensors[${JSON.stringify(spec.name)}]`;
    const tensor = state.tensors[spec.name];
    if (!tensor) throw new CheckpointError(`${source}: ${field} is missing`);
    if (!sameShape(tensor.shape, spec.shape)) {
      throw new CheckpointError(`${source}: ${field}.shape is ${formatShape(tensor.shape)}, expected ${formatShape(spec.shape)}`);
    }
    if (tensor.data.length !== spec.size) {
      throw new CheckpointError(`${source}: ${field}.data has ${tensor.data.length} values, expected ${spec.size}`);
    }
    const view = params.subarray(spec.offset, spec.offset + spec.size);
    tensor.data.forEach((x, i) => {
      view[i] = Math.fround(x);
    });
  }
  return { config, vocab: state.vocab, params };
}
