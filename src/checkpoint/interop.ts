import { z } from 'zod';
import type { ModelConfig } from '../engine/config.js';
import { paramLayout } from '../engine/params.js';
import { zodErrorMessage } from '../input/issues.js';
import { TEXT_LEVELS, type TextLevel } from '../text/vocab.js';
import { WORD_RULE_VERSION } from '../text/words.js';
import { CheckpointError, checkFormat, formatShape, sameShape } from './errors.js';
import { InteropModelConfigShape, fromInteropNames, toInteropNames } from './model-config.js';
import { checkVocab, checkWordRule } from './vocab.js';

export const INTEROP_FORMAT = 'rnn-state/1';

const InteropConfigSchema = z.object({
  ...InteropModelConfigShape,
  /** What a token is; absent (a file from before the word level): 'char'. */
  level: z.enum(TEXT_LEVELS).optional(),
  /** Word level: the tokenizer rules' version (`WORD_RULE_VERSION`) the ids were made under. */
  word_rule: z.int().positive().optional(),
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
  /** The vocabulary's level; a word-level one was made under this code's `WORD_RULE_VERSION` (loading checks it). */
  level: TextLevel;
  params: Float32Array;
}

/** The model as an `rnn-state/1` object, ready for JSON.stringify (float32 values print exactly). */
export function toInteropState(config: ModelConfig, vocab: string[], params: Float32Array, level: TextLevel = 'char'): InteropState {
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
  return { format: INTEROP_FORMAT, config: interopConfig(config, level), vocab: [...vocab], tensors };
}

/** A model config as rnn-state/1 writes it (PyTorch's names); a character-level one as before the word level. */
export function interopConfig(config: ModelConfig, level: TextLevel = 'char'): InteropState['config'] {
  return { ...toInteropNames(config), ...(level === 'word' && { level, word_rule: WORD_RULE_VERSION }) };
}

/**
 * An rnn-state/1 config (e.g. safetensors metadata) validated and read as a model config and
 * its level, a word level's rules checked against this code's; messages name `source`.
 */
export function interopModelConfig(json: unknown, source: string): { config: ModelConfig; level: TextLevel } {
  const parsed = InteropConfigSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  return modelConfigOf(parsed.data, source, 'word_rule');
}

function modelConfigOf(config: InteropState['config'], source: string, ruleField: string): { config: ModelConfig; level: TextLevel } {
  const level = config.level ?? 'char';
  if (level === 'word') checkWordRule(config.word_rule, source, ruleField);
  return { config: fromInteropNames(config), level };
}

/** Validates an `rnn-state/1` object (e.g. a fixture's `state`) and converts its values to float32. */
export function fromInteropState(json: unknown, source: string): ModelState {
  checkFormat(json, source, INTEROP_FORMAT, (format) => (format === 'rnn-checkpoint/1' ? ' (a native checkpoint, not an interop file)' : ''));
  const parsed = InteropStateSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(source, parsed.error));
  const state = parsed.data;

  const { config, level } = modelConfigOf(state.config, source, 'config.word_rule');
  checkVocab(state.vocab, config.vocabSize, level, source, 'vocab', 'config.vocab_size');

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
  return { config, vocab: state.vocab, level, params };
}
