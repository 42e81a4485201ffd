import { z } from 'zod';
import type { ModelConfig } from '../engine/config.js';
import { type ParamLayout, paramLayout } from '../engine/params.js';
import { fieldPath, likelyNames, zodErrorMessage } from '../input/issues.js';
import { orList } from '../input/settings.js';
import { type DocumentRule, WHOLE_TEXTS } from '../text/documents.js';
import { SENTENCE_RULE_VERSION } from '../text/sentences.js';
import { NO_SPACING, type Spacing, spacesNone } from '../text/spacing.js';
import { grouped, plural } from '../input/counts.js';
import { TEXT_LEVELS, type TextLevel } from '../text/vocab.js';
import { WORD_RULE_VERSION, type WordRule } from '../text/words.js';
import { CheckpointError, checkFormat, formatShape, isJsonObject, sameShape } from './errors.js';
import { ruleVersion, spacingRecord, tensorShape } from './fields.js';
import { WEIGHT_RULE, vocabOrderFault, weightFault } from './integrity.js';
import { InteropModelConfigShape, fromInteropNames, toInteropNames } from './model-config.js';
import { MAX_CHECKPOINT_CHARS, checkpointChars, largestHidden, mib, parameterCount } from './size.js';
import { TRAIN_SETTINGS } from './settings.js';
import { checkVocab, checkWordRule, requiredSentenceRule } from './vocab.js';

export const INTEROP_FORMAT = 'rnn-state/1';

/**
 * The state a fixture wraps (test/fixtures/eval/*.json: an object with no format of its own, whose `state` has one), read
 * as the model file it holds; null for JSON that is no such wrapper.
 */
export function wrappedState(json: unknown): Record<string, unknown> | null {
  if (!isJsonObject(json) || json['format'] !== undefined) return null;
  const state = json['state'];
  return isJsonObject(state) && state['format'] !== undefined ? state : null;
}

const InteropConfigSchema = z.strictObject({
  ...InteropModelConfigShape,
  /** What a token is; absent (a file from before the word level): 'char'. */
  level: z.enum(TEXT_LEVELS).optional(),
  /** Word level: the version of the tokenizer rules the ids were made under (`Vocabulary.wordRule`). */
  word_rule: ruleVersion.optional(),
  /** How the model cuts a text it reads into documents (`--docs`, as its corpus was cut); absent (a file from before the field): 'file'. */
  docs: TRAIN_SETTINGS.docs.schema.optional(),
  /** With docs 'sentence': the version of the sentence rules that cut them (`DocumentRule.sentenceRule`). */
  sentence_rule: ruleVersion.optional(),
  /** Word level: the marks its corpus spaces (`Vocabulary.spacing`); absent, none. */
  spacing: spacingRecord.optional(),
});

const InteropStateSchema = z.object({
  format: z.literal(INTEROP_FORMAT),
  config: InteropConfigSchema,
  vocab: z.array(z.string()),
  tensors: z.record(
    z.string(),
    z.object({
      shape: tensorShape,
      data: z.array(z.number()),
    }),
  ),
});

export type InteropState = z.infer<typeof InteropStateSchema>;

export interface ModelState {
  config: ModelConfig;
  vocab: string[];
  level: TextLevel;
  /** Word level: the version of the tokenizer rules the ids were made under (loading checks that this code has it). */
  wordRule: WordRule;
  /** How the model cuts a text it reads into documents: as its corpus was cut. */
  documents: DocumentRule;
  /** Word level: the marks its corpus spaces, which its text is written back with; absent, none. */
  spacing?: Spacing;
  params: Float32Array;
}

/** The model as an `rnn-state/1` object, ready for JSON.stringify (float32 values print exactly). */
export function toInteropState(
  config: ModelConfig, vocab: string[], params: Float32Array, level: TextLevel = 'char', wordRule: WordRule = WORD_RULE_VERSION,
  documents: DocumentRule = WHOLE_TEXTS, spacing: Spacing = NO_SPACING,
): InteropState {
  const layout = paramLayout(config);
  if (params.length !== layout.total) {
    throw new RangeError(`parameter buffer has ${params.length} values, the model needs ${layout.total}`);
  }
  if (vocab.length !== config.vocabSize) {
    throw new RangeError(`the vocabulary has ${vocab.length} tokens, the model has vocabSize ${config.vocabSize}`);
  }
  const tensors: InteropState['tensors'] = {};
  for (const spec of layout.specs) {
    const data = Array.from(params.subarray(spec.offset, spec.offset + spec.size));
    const bad = data.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RangeError(`${spec.name}[${bad}] is ${data[bad]}: JSON cannot hold it`);
    tensors[spec.name] = { shape: [...spec.shape], data };
  }
  return { format: INTEROP_FORMAT, config: interopConfig(config, level, wordRule, documents, spacing), vocab: [...vocab], tensors };
}

/**
 * A model config as rnn-state/1 writes it (PyTorch's names), the fields of how the model reads text written only where
 * they differ from what a file without them means: a word-level model's level, tokenizer rules and spacing (where it
 * spaces a mark), docs other than 'file', and with 'sentence' the sentence rules.
 */
export function interopConfig(
  config: ModelConfig, level: TextLevel, wordRule: WordRule, documents: DocumentRule, spacing: Spacing = NO_SPACING,
): InteropState['config'] {
  const { docs, sentenceRule } = documents;
  return {
    ...toInteropNames(config),
    ...(level === 'word' && { level, word_rule: wordRule }),
    ...(docs !== WHOLE_TEXTS.docs && { docs }),
    ...(docs === 'sentence' && { sentence_rule: sentenceRule }),
    ...(level === 'word' && !spacesNone(spacing) && { spacing }),
  };
}

const CONFIG_FIELDS = Object.keys(InteropConfigSchema.shape);

/**
 * `source: PATH PHRASE` for the first issue of an rnn-state/1 file or config; a field the config does not have (a misspelled
 * `doc`) is named with the one it most likely meant and the fields there are.
 */
function interopErrorMessage(source: string, error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue?.code !== 'unrecognized_keys') return zodErrorMessage(source, error);
  const field = fieldPath([...issue.path, issue.keys[0]!]);
  const meant = likelyNames(issue.keys[0]!, CONFIG_FIELDS);
  return `${source}: ${field} is not a field of an ${INTEROP_FORMAT} config` +
    `${meant.length > 0 ? `: did you mean ${orList(meant)}?` : ''} (its fields: ${CONFIG_FIELDS.join(', ')})`;
}

/**
 * An rnn-state/1 config (e.g. safetensors metadata) validated and read as a model config, its
 * level and its document rule, the rules' versions it names checked against this code's;
 * messages name `source`.
 */
export function interopModelConfig(json: unknown, source: string): InteropModel {
  const parsed = InteropConfigSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(interopErrorMessage(source, parsed.error));
  return modelConfigOf(parsed.data, source, '');
}

/** What an rnn-state/1 config says of a model: its shape, and how it reads text. */
type InteropModel = Pick<ModelState, 'config' | 'level' | 'wordRule' | 'documents' | 'spacing'>;

/** `config` read, its rules' versions checked against this code's; messages name `source` and each field after `prefix`. */
function modelConfigOf(config: InteropState['config'], source: string, prefix: string): InteropModel {
  const level = config.level ?? TRAIN_SETTINGS.level.whenAbsent;
  const wordRule = level === 'word' ? checkWordRule(config.word_rule, source, `${prefix}word_rule`) : WORD_RULE_VERSION;
  const docs = config.docs ?? WHOLE_TEXTS.docs;
  const sentenceRule = docs === 'sentence' ? requiredSentenceRule(config.sentence_rule, source, `${prefix}sentence_rule`) : SENTENCE_RULE_VERSION;
  const spacing = level === 'word' ? config.spacing ?? NO_SPACING : NO_SPACING;
  return { config: fromInteropNames(config), level, wordRule, documents: { docs, sentenceRule }, spacing };
}

/** What sizes the checkpoint a model is imported into: its optimizer (Adam keeps two moments) and its batch (the carried state). */
export interface CheckpointShape {
  optimizer: string;
  batch: number;
}

/**
 * Validates an `rnn-state/1` object (e.g. a fixture's `state`) and converts its values to
 * float32; given the `checkpoint` it goes into, that it fits one.
 */
export function fromInteropState(json: unknown, source: string, checkpoint?: CheckpointShape): ModelState {
  checkFormat(json, source, INTEROP_FORMAT, (format) => (format === 'rnn-checkpoint/1' ? ' (a checkpoint already)' : ''));
  const parsed = InteropStateSchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(interopErrorMessage(source, parsed.error));
  const state = parsed.data;

  const { config, level, wordRule, documents, spacing } = modelConfigOf(state.config, source, 'config.');
  checkVocab(state.vocab, config.vocabSize, level, source, 'vocab', 'config.vocab_size');

  // the names as the file has them: a parsed record leaves out a "__proto__" one
  const names = Object.keys((json as { tensors: object }).tensors);
  const field = (name: string) => `tensors[${JSON.stringify(name)}]`;
  checkClaimedModel(config, names, source, 'config.num_layers', field, checkpoint);

  const layout = paramLayout(config);
  const foreign = names.find((name) => !layout.byName.has(name));
  if (foreign !== undefined) throw new CheckpointError(`${source}: ${field(foreign)} ${foreignTensor(foreign, config, layout)}`);
  for (const spec of layout.specs) {
    const tensor = state.tensors[spec.name];
    if (!tensor) throw new CheckpointError(`${source}: ${field(spec.name)} is missing`);
    if (!sameShape(tensor.shape, spec.shape)) {
      throw new CheckpointError(`${source}: ${field(spec.name)}.shape is ${formatShape(tensor.shape)}, expected ${formatShape(spec.shape)}`);
    }
    if (tensor.data.length !== spec.size) {
      throw new CheckpointError(`${source}: ${field(spec.name)}.data has ${tensor.data.length} values, expected ${spec.size}`);
    }
  }
  // every tensor is there with its size: the buffer holds no more values than the file
  const params = new Float32Array(layout.total);
  for (const spec of layout.specs) {
    const view = params.subarray(spec.offset, spec.offset + spec.size);
    state.tensors[spec.name]!.data.forEach((x, i) => {
      view[i] = Math.fround(x);
    });
  }
  return { config, vocab: state.vocab, level, wordRule, documents, spacing, params };
}

/** A JSON string, or a word Python's json.dump writes for a float that is not finite, which is no JSON. */
const STRING_OR_NON_FINITE = /"(?:[^"\\]|\\.)*"|-?Infinity|NaN/g;

/**
 * Where rnn-state/1 `text` that is not JSON holds a weight as Python's json.dump writes one that is not finite (NaN,
 * Infinity, -Infinity, outside every string), the first such tensor value and what is wrong with it; null where it holds none.
 */
export function nonFiniteWeight(text: string): string | null {
  const words = new Set<string>();
  const quoted = text.replace(STRING_OR_NON_FINITE, (match) => {
    if (match.startsWith('"')) return match;
    words.add(match);
    return `"${match}"`;
  });
  if (words.size === 0) return null;
  let json: unknown;
  try {
    json = JSON.parse(quoted);
  } catch {
    return null;
  }
  const tensors = isJsonObject(json) ? json['tensors'] : undefined;
  for (const [name, tensor] of Object.entries(isJsonObject(tensors) ? tensors : {})) {
    const data: unknown = isJsonObject(tensor) ? tensor['data'] : undefined;
    const index = Array.isArray(data) ? data.findIndex((x) => words.has(x as string)) : -1;
    if (index < 0) continue;
    return `tensors[${JSON.stringify(name)}].data[${index}] is ${(data as string[])[index]}, which is no JSON number ` +
      `(Python's json.dump writes a weight that is not finite so), ${WEIGHT_RULE}`;
  }
  return null;
}

/** What a DistributedDataParallel wrapper puts before each name of its model's `state_dict()`. */
const DDP_PREFIX = 'module.';

/**
 * What is said of a tensor `name` that a model of `config` (its tensors `layout`) does not have: the names it has, or,
 * for the name a DistributedDataParallel wrapper gives one of them, how to save the model's own names.
 */
export function foreignTensor(name: string, config: ModelConfig, layout: ParamLayout): string {
  const model = `is not a tensor of a ${config.numLayers}-layer ${config.cell}`;
  if (name.startsWith(DDP_PREFIX) && layout.byName.has(name.slice(DDP_PREFIX.length))) {
    return `${model}: a DistributedDataParallel wrapper names ${name.slice(DDP_PREFIX.length)} so; save model.module.state_dict(), the model's own names`;
  }
  return `${model}, whose tensors are ${layout.specs.map((spec) => spec.name).join(', ')}`;
}

/**
 * Checks a model config read from a file, in arithmetic alone, before anything of the model's
 * size is allocated: its layers no more than the file's tensors (`names`) describe (4 a layer, and 3
 * more), and, given the `checkpoint` it is to be saved in, that checkpoint within the longest
 * string Node.js can write. Where the file lacks a tensor of the layers it could describe (a model
 * saved without biases), that tensor is named, as `tensorField` names it, rather than the layer count.
 * Messages name `source` and `layersField`, the field of the layer count.
 */
export function checkClaimedModel(
  config: ModelConfig, names: readonly string[], source: string, layersField: string, tensorField: (name: string) => string,
  checkpoint: CheckpointShape | undefined,
): void {
  const layers = Math.max(0, Math.ceil((names.length - 3) / 4));
  if (config.numLayers > layers) {
    const held = new Set(names);
    const missing = paramLayout({ ...config, numLayers: layers }).specs.find((spec) => !held.has(spec.name));
    if (missing !== undefined) throw new CheckpointError(`${source}: ${tensorField(missing.name)} is missing`);
    throw new CheckpointError(`${source}: ${layersField} is ${config.numLayers}, but the file holds the tensors of at most ` +
      `${layers} ${plural(layers, 'layer')}`);
  }
  if (checkpoint === undefined) return;
  const { optimizer, batch } = checkpoint;
  const fits = (model: ModelConfig) => checkpointChars(model, { optimizer, batch }) <= MAX_CHECKPOINT_CHARS;
  if (fits(config)) return;
  const largest = largestHidden(config, fits);
  const count = (model: ModelConfig) => grouped(parameterCount(model));
  throw new CheckpointError(
    `${source}: a ${config.numLayers}-layer ${config.cell} of hidden size ${config.hiddenSize} (${count(config)} parameters) ` +
      `needs a checkpoint of about ${mib(checkpointChars(config, { optimizer, batch }))} of JSON, more than the ` +
      `${mib(MAX_CHECKPOINT_CHARS)} one file can hold (the longest string Node.js can write); ` +
      (largest > 0 ? `with its vocabulary, embedding and layers, hidden size ${largest} (${count({ ...config, hiddenSize: largest })} ` +
        'parameters) is the largest that fits' : 'its vocabulary and embedding alone are too large'),
  );
}

/**
 * Checks what a file's types cannot say: every weight one that training writes (finite, within
 * ±WEIGHT_LIMIT) and a character-level vocabulary in code-point order; messages name `source`,
 * the vocabulary's field and each value as `at` names it.
 */
export function checkModelValues(
  model: ModelState, source: string, vocabField: string, at: (tensor: string, index: number) => string,
): void {
  const fault = vocabOrderFault(model.vocab, model.level, vocabField) ?? weightFault(paramLayout(model.config), model.params, at);
  if (fault !== null) throw new CheckpointError(`${source}: ${fault}`);
}
