import { resolve } from 'node:path';
import { type InitFrom, trainedStep } from '../checkpoint/schema.js';
import { type ModelFile, readModelFile } from '../checkpoint/convert.js';
import type { PreparedFolder } from '../checkpoint/corpus.js';
import { resolveCheckpointPath } from '../checkpoint/find.js';
import { decodeTensors } from '../checkpoint/tensors.js';
import { FROM_BASE, TRAIN_DEFAULTS, type TrainSettings, baseSettings } from '../checkpoint/settings.js';
import type { ModelConfig } from '../engine/config.js';
import { logSumExp } from '../engine/loss.js';
import type { OptimizerKind } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { Rng } from '../engine/random.js';
import { Stepper } from '../engine/stepper.js';
import { InputError, SettingError, type SettingNamer } from '../input/settings.js';
import { type PreparedData, textTokens, withVocabulary } from '../text/corpus.js';
import { type CorpusSkip, absoluteCorpusPath } from '../text/corpus-files.js';
import { CHUNK_BYTES, loadCorpusData } from '../text/corpus-stream.js';
import type { DocumentRule } from '../text/documents.js';
import { counted, grouped, percentOf, plural } from '../input/counts.js';
import { TOKEN_UNITS, type TextLevel, UNK, Vocabulary, vocabularyText } from '../text/vocab.js';
import { DEFAULT_VOCAB_SIZE, vocabularyCoverage } from '../text/word-vocab.js';
import { WORD_RULE_VERSION } from '../text/words.js';
import { lockHolder, lockPath } from './lock.js';
import { INIT_FROM_READER, type ParsedOptions, freshSettings, refuseClashes, refuseWordLevelOnly } from './options.js';
import { outputPaths, resumedOut } from './output.js';
import { type Restored, freshMoments, startingProgress } from './state.js';

/*
 * Fine-tuning (`rnn train NEW_TEXT --init-from BASE`): a new run whose architecture, level,
 * vocabulary and weights come from a trained model. The new text is read with the base's
 * vocabulary by symbol, never by id; tokens it lacks read as <UNK>, or are added with
 * --extend-vocab. At the word level the new text is cut under the current tokenizer rules
 * (a prepared folder's ids under the folder's), which the new run records. The new text is cut
 * into documents by the base's rule (--docs), unless --docs (or a prepared folder) says otherwise;
 * for `sentence`, under the current sentence rules, which the new run records, as any new run does.
 * At the word level the run records the new text's spacing (spacing.ts), not the base's: it learns to write that text.
 */

/** The model a fine-tuned run starts from, and what its checkpoints record of it. */
export interface BaseModel {
  file: ModelFile;
  /** The base's tokens, read by this run under the current tokenizer rules. */
  vocab: Vocabulary;
  /** How the base cut its corpus into documents, as its checkpoint or exported file records it (`ModelState.documents`). */
  documents: DocumentRule;
  initFrom: InitFrom;
}

/**
 * The base model at `given`: a checkpoint, an rnn-state/1 or .safetensors file, or a run folder
 * (its best.json, else its latest.json); a folder of neither that holds a model file (a
 * train_ddp.py result) is refused naming the file (INIT_FROM_READER).
 */
export function loadBaseModel(given: string): BaseModel {
  const path = resolveCheckpointPath(given, undefined, INIT_FROM_READER);
  const file = readModelFile(path);
  const { model, checkpoint } = file;
  return {
    file,
    vocab: Vocabulary.fromTokens(model.vocab, model.level, WORD_RULE_VERSION),
    documents: model.documents,
    initFrom: { path: resolve(path), sha256: file.sha256, step: checkpoint === null ? null : trainedStep(checkpoint) },
  };
}

/** What a fine-tuned run records of where it started (`initFrom`): its base, and the tokens --extend-vocab added to its vocabulary. */
export function fineTunedFrom(base: BaseModel, data: PreparedData): InitFrom {
  const added = (data.added ?? []).map(([token]) => token);
  return { ...base.initFrom, ...(added.length > 0 && { added }) };
}

/**
 * The warning for a base checkpoint whose run is still being written (the lock on that run's
 * output held by a live process): the run starts from the checkpoint as it is saved now, which
 * that run goes on to replace.
 */
export function liveBaseWarning(base: BaseModel): InputError | null {
  if (base.file.checkpoint === null) return null;
  const holder = lockHolder(lockPath(outputPaths(resumedOut(base.file.path))), 'a training run');
  if (holder === null || holder.gone) return null;
  const { step } = base.initFrom;
  return new InputError((name) =>
    `${name('initFrom')} ${base.file.path} is still being written (${holder.who}): fine-tuning it as saved` +
      `${step === null ? '' : ` at step ${step}`}, which that run will replace as it goes on; to start from where it ends, wait for that run to end`);
}

/**
 * A fine-tuned run's settings: its level and architecture the base's (flags that say otherwise
 * are refused, all named in one line), its dropout and documents (--docs) the base's unless
 * given (`checkDocumentsForBase` checks them once the text is read), the rest from the flags or
 * a fresh run's defaults (measured for fine-tuning too: docs/finetune.md). The seed, unless
 * given, is drawn from the base's SHA-256: a stream of its own, the same each time.
 * --min-count, and at the word level --vocab-size, bound --extend-vocab (given without it, they are
 * refused; --vocab-size at the character level is refused naming them); --vocab-size defaults to
 * the larger of the base's vocabulary and the vocabulary size it was built with.
 */
export function fineTuneSettings(options: ParsedOptions, base: BaseModel): TrainSettings {
  const { config, level } = base.file.model;
  const from = base.file.path;
  const own = baseSettings(config, level);
  const clashes = FROM_BASE.filter((key) => options[key] !== undefined && options[key] !== own[key]);
  refuseClashes(clashes, options, own, `${from}, which has`, () => ', a fine-tuned model keeps its base\'s architecture and level');
  refuseWordLevelOnly(options, level, from, (name) =>
    `a fine-tuned run keeps its vocabulary, and ${name('extendVocab')} adds the text's characters it lacks (those seen ${name('minCount')} times or more)`);
  // the vocabulary is the base's: what shapes one (--vocab-size at the word level, --min-count) bounds only what --extend-vocab adds
  const shaping = (['vocabSize', 'minCount'] as const).find((key) => options[key] !== undefined);
  if (shaping !== undefined && options.extendVocab !== true) {
    throw new SettingError(shaping, options[shaping], (name) =>
      `${name(shaping)} bounds ${name('extendVocab')} when fine-tuning (the vocabulary is ${from}'s): add ${name('extendVocab')} or leave it out`);
  }
  if (options.vocabSize !== undefined && options.vocabSize < base.vocab.size) {
    throw new SettingError('vocabSize', options.vocabSize, (name) =>
      `${name('vocabSize')} ${options.vocabSize} is smaller than ${from}'s ${vocabularyText(base.vocab.size)}, ` +
        'which a fine-tuned model keeps whole: give a larger one, or leave it out');
  }
  if (options.keepOptimizer === true) checkKeptOptimizer(base, options.optimizer ?? TRAIN_DEFAULTS.optimizer);
  const settings = freshSettings({ ...options, ...own, docs: options.docs ?? base.documents.docs });
  settings.dropout = options.dropout ?? config.dropout;
  if (options.seed === undefined) settings.seed = Number.parseInt(base.initFrom.sha256.slice(0, 8), 16);
  const recorded = base.file.checkpoint?.config.training.vocabSize ?? DEFAULT_VOCAB_SIZE;
  if (level === 'word') settings.vocabSize = options.vocabSize ?? Math.max(base.vocab.size, recorded);
  return settings;
}

/**
 * A rule other than the base's (--docs, or a prepared folder's, `docsFrom`) is refused where the
 * documents it cut the new text into hold line breaks that read as <UNK> (the base's vocabulary
 * lacks the line break, as a `line` model's always does), unless --extend-vocab adds it (what
 * stays <UNK> the warning tells). Where the documents hold none (a text of one line, or any text
 * read by `line`), any rule reads the text.
 */
export function checkDocumentsForBase(
  data: PreparedData, settings: TrainSettings, base: BaseModel, extend: boolean, docsFrom: string | null,
): void {
  const own = base.documents.docs, { docs } = settings;
  const lineBreaks = data.unknown!.lineBreaks;
  if (docs === own || lineBreaks === 0 || extend) return;
  throw new SettingError('docs', docs, (name) => {
    const given = `${name('docs')} ${docs}`;
    const lineRule = own === 'line' ? `leave ${name('docs')} out to read each line as a document, as it does`
      : `give ${name('docs')} line to read each line as a document`;
    const byLines = docsFrom === null ? lineRule : `prepare the corpus again with ${name('docs')} line`;
    const held = counted(lineBreaks, 'line break');
    return `${docsFrom === null ? `${given}: the documents it cuts the text into` : `the prepared folder ${docsFrom} is cut by ${given}: its documents`} ` +
      `hold ${held}, and ${base.file.path} reads documents by ${name('docs')} ${own} and has no line break in its vocabulary, ` +
      `so each would be <UNK>: ${byLines}, or add ${name('extendVocab')} to add the line break`;
  });
}

/**
 * --keep-optimizer needs the base's moments, of the optimizer this run uses, as rnn trained them:
 * an exported model holds none, and a checkpoint `rnn import` made (no training by rnn) zeros.
 */
function checkKeptOptimizer(base: BaseModel, optimizer: OptimizerKind): void {
  const from = base.file.path;
  const checkpoint = base.file.checkpoint;
  if (checkpoint === null) {
    throw new SettingError('keepOptimizer', true, (name) =>
      `${name('keepOptimizer')}: ${from} is an exported model, which holds no optimizer state; leave ${name('keepOptimizer')} out`);
  }
  if (trainedStep(checkpoint) === null) {
    throw new SettingError('keepOptimizer', true, (name) =>
      `${name('keepOptimizer')}: ${from} is an imported model (rnn import), whose optimizer rnn never trained: ` +
        `its moments are zeros, as a fresh run's; leave ${name('keepOptimizer')} out`);
  }
  const kept = checkpoint.optimizer;
  if (kept.kind !== optimizer) {
    throw new SettingError('keepOptimizer', true, (name) =>
      `${name('keepOptimizer')}: ${from} was trained with ${name('optimizer')} ${kept.kind}, this run uses ${optimizer}: ` +
        `give ${name('optimizer')} ${kept.kind}, or leave ${name('keepOptimizer')} out`);
  }
}

/** The new text read with the base's vocabulary, by symbol; with `extend`, the tokens it lacks added first. */
export function loadFineTuneData(
  paths: readonly string[], settings: TrainSettings, base: BaseModel, extend: boolean, skip: CorpusSkip,
  onProgress?: (fraction: number) => void,
): PreparedData {
  const { valFrac, minCount, vocabSize } = settings;
  const options = { valFrac, minCount, vocab: base.vocab, unknownTokens: extend ? 'extend' : 'count', vocabSize, onProgress } as const;
  return loadCorpusData(paths.map(absoluteCorpusPath), settings.docs, options, CHUNK_BYTES, skip);
}

/** A prepared folder's data read with the base's vocabulary, by symbol, as `loadFineTuneData` reads a text. */
export function fineTunePreparedData(data: PreparedData, settings: TrainSettings, base: BaseModel, extend: boolean): PreparedData {
  const { minCount, vocabSize } = settings;
  // the run writes as the folder's text is spaced, as a run fine-tuned on its text does (`prepareData`)
  return withVocabulary(data, base.vocab.withSpacing(data.vocab.spacing), { unknownTokens: extend ? 'extend' : 'count', minCount, vocabSize });
}

/**
 * The one warning of the new text's tokens that read as <UNK> (none when every token is known):
 * how many, and the most frequent; where a line break is among them and the base reads documents
 * by a rule, the --docs that reads line breaks as ends of documents.
 */
export function fineTuneUnknownWarning(data: PreparedData, base: BaseModel, extend: boolean, settings: TrainSettings): InputError | null {
  const own = base.documents.docs;
  const lineBreaks = own !== 'file' && data.unknown!.lineBreaks > 0;
  return unknownShareWarning(data, base.vocab.level, base.file.path, (name) =>
    (lineBreaks ? `${name('docs')} line reads each line break as the end of a document (${base.file.path} reads documents by ${name('docs')} ${own}); ` : '') +
      extendAdvice(name, base, data, extend, settings));
}

/**
 * What --extend-vocab does, or would do, with the tokens the base lacks; where --vocab-size left
 * some of those it could add out (the word level), the size that has room for them all.
 */
function extendAdvice(name: SettingNamer, base: BaseModel, data: PreparedData, extend: boolean, settings: TrainSettings): string {
  if (!extend) return `${name('extendVocab')} adds them`;
  const word = base.vocab.level === 'word';
  const added = data.added!.length, addable = data.addable!;
  const seen = `${TOKEN_UNITS[base.vocab.level].many} of the training part seen ${name('minCount')} ${settings.minCount} times or more`;
  const roomy = `give ${name('vocabSize')} ${base.vocab.size + addable} to add`;
  if (added === 0 && addable > 0) {
    return `${name('extendVocab')} added none: the vocabulary is full at ${name('vocabSize')} ${settings.vocabSize}; ${roomy} the ${grouped(addable)} ${seen}`;
  }
  return `${name('extendVocab')} adds only ${seen}` + (word ? `, up to ${name('vocabSize')} ${settings.vocabSize} entries` : '') +
    (addable > added ? `; ${roomy} all ${grouped(addable)}` : '');
}

/**
 * The warning for --extend-vocab on a prepared folder that reads tokens as <UNK> itself (at the
 * word level, those its --vocab-size left out): they are gone from its ids, so none can be added.
 */
export function preparedUnknownWarning({ dir, meta }: PreparedFolder): SettingError | null {
  const coverage = meta.wordVocab === undefined ? null : vocabularyCoverage(meta.wordVocab, meta.vocabSize);
  if (coverage === null) return null;
  return new SettingError('extendVocab', true, (name) =>
    `${name('extendVocab')} cannot add what the prepared folder ${dir} reads as <UNK>: its ${vocabularyText(meta.vocabSize)} ` +
      `(${coverage}); prepare the corpus again with a larger ${name('vocabSize')} to add them`);
}

/**
 * The one warning of a text's tokens that read as <UNK> in the vocabulary of the model at
 * `modelPath` (none when `data.unknown` counts none): how many, the most frequent, and `advice`.
 */
export function unknownShareWarning(
  data: PreparedData, level: TextLevel, modelPath: string, advice: (name: SettingNamer) => string,
): InputError | null {
  const unknown = data.unknown!;
  if (unknown.occurrences === 0) return null;
  const unit = TOKEN_UNITS[level];
  const parts = textTokens(data);
  const total = parts.train + parts.val;
  const shown = unknown.top.map(([token, count]) => `${JSON.stringify(token)} ×${grouped(count)}`).join(', ');
  return new InputError((name) =>
    `${grouped(unknown.occurrences)} of the text's ${grouped(total)} ${unit.many} (${percentOf(unknown.occurrences, total)}%) read as <UNK>: ${grouped(unknown.distinct)} distinct ` +
      `${plural(unknown.distinct, unit.one, unit.many)} ${modelPath}'s vocabulary lacks, most often ${shown}; ${advice(name)}`);
}

/** Base tokens whose states measure the log-partition the new output rows' biases start from. */
const PARTITION_TOKENS = 2048;

/**
 * The run's first state: the base's weights with each token's rows (embedding, output weights
 * and bias) moved to its id in `vocab`; fresh Adam moments, or with `keepOptimizer` the base's
 * moved likewise and its step. A token added by --extend-vocab gets the mean embedding of the
 * base's tokens, zero output weights and the bias b_i = log(f_i / (1 − F)) + mean_t log Z_t, where
 * f_i is its frequency in the training text, F the sum over the added tokens and Z_t the base's
 * softmax sum on the first tokens of the text: the base's predictions then start nearly
 * unchanged (each position loses about −log(1 − F) nats on known tokens) while the added ones
 * start at their frequencies.
 */
export function fineTuneStart(
  base: BaseModel, data: PreparedData, model: ModelConfig, settings: TrainSettings, keepOptimizer: boolean,
): Restored {
  const baseConfig = base.file.model.config;
  const rows = rowMap(base.vocab, data.vocab);
  const added = data.added ?? [];
  const params = moveRows(baseConfig, model, base.file.model.params, rows);
  if (added.length > 0) initAddedRows(base, data, model, params, rows);
  const optimizer: Restored['optimizer'] = keepOptimizer
    ? { step: base.file.checkpoint!.optimizer.step, ...movedMoments(base, model, rows) }
    : freshMoments(model, settings.optimizer);
  return { params, optimizer, carried: null, progress: startingProgress(new Rng(settings.seed).state()) };
}

/** For each id of `vocab`, the base's id of the same token, or −1 for a token the base lacks. */
function rowMap(baseVocab: Vocabulary, vocab: Vocabulary): Int32Array {
  const rows = new Int32Array(vocab.size);
  vocab.tokens.forEach((token, id) => {
    rows[id] = id <= UNK ? id : baseVocab.idOf(token) === UNK ? -1 : baseVocab.idOf(token);
  });
  return rows;
}

/** Tensors with a row per token. */
const TOKEN_ROWS = new Set(['embed.weight', 'head.weight', 'head.bias']);

/** `values` in the base's layout, laid out for `model`: token rows by `rows` (zero where −1), every other tensor as it is. */
function moveRows(baseConfig: ModelConfig, model: ModelConfig, values: Float32Array, rows: Int32Array): Float32Array {
  const from = paramLayout(baseConfig), to = paramLayout(model);
  const out = new Float32Array(to.total);
  for (const spec of to.specs) {
    const source = from.byName.get(spec.name)!;
    if (!TOKEN_ROWS.has(spec.name)) {
      out.set(values.subarray(source.offset, source.offset + source.size), spec.offset);
      continue;
    }
    const width = spec.size / model.vocabSize;
    for (let id = 0; id < rows.length; id++) {
      const row = rows[id]!;
      if (row >= 0) out.set(values.subarray(source.offset + row * width, source.offset + (row + 1) * width), spec.offset + id * width);
    }
  }
  return out;
}

/** The base's optimizer moments (fineTuneSettings has checked there are some), moved as its weights are. */
function movedMoments(base: BaseModel, model: ModelConfig, rows: Int32Array): { m: Float32Array; v: Float32Array } {
  const checkpoint = base.file.checkpoint!;
  const layout = paramLayout(base.file.model.config);
  const decoded = (which: 'm' | 'v'): Float32Array => {
    const encoded = checkpoint.optimizer[which];
    return encoded === null ? new Float32Array(0) : moveRows(base.file.model.config, model, decodeTensors(layout, encoded, base.file.path, `optimizer.${which}`), rows);
  };
  return { m: decoded('m'), v: decoded('v') };
}

/** The added tokens' rows, as `fineTuneStart` says. */
function initAddedRows(base: BaseModel, data: PreparedData, model: ModelConfig, params: Float32Array, rows: Int32Array): void {
  const layout = paramLayout(model);
  const E = model.embedDim;
  const embed = layout.byName.get('embed.weight')!, bias = layout.byName.get('head.bias')!;
  const baseEmbedding = paramLayout(base.file.model.config).byName.get('embed.weight')!;
  const baseEmbed = base.file.model.params.subarray(baseEmbedding.offset, baseEmbedding.offset + baseEmbedding.size);
  const mean = new Float64Array(E);
  for (let id = UNK + 1; id < base.vocab.size; id++) for (let e = 0; e < E; e++) mean[e]! += baseEmbed[id * E + e]!;
  for (let e = 0; e < E; e++) mean[e]! /= Math.max(1, base.vocab.size - UNK - 1);

  const counts = new Map(data.added!);
  const trainTokens = data.train.length;
  let share = 0;
  for (const [, count] of data.added!) share += count / trainTokens;
  const logPartition = meanLogPartition(base, data, rows);
  for (let id = 0; id < rows.length; id++) {
    if (rows[id] !== -1) continue;
    for (let e = 0; e < E; e++) params[embed.offset + id * E + e] = mean[e]!;
    const frequency = counts.get(data.vocab.tokens[id]!)! / trainTokens;
    params[bias.offset + id] = Math.log(frequency / (1 - share)) + logPartition;
  }
}

/** The mean over the first `PARTITION_TOKENS` positions of the training text of the base's log Σ_v e^{z_v}. */
function meanLogPartition(base: BaseModel, data: PreparedData, rows: Int32Array): number {
  const { config, params } = base.file.model;
  const stepper = new Stepper(config, params);
  const n = Math.min(PARTITION_TOKENS, data.train.length);
  let sum = 0;
  for (let t = 0; t < n; t++) {
    const row = rows[data.train[t]!]!;
    sum += logSumExp(stepper.advance(row === -1 ? UNK : row), 0, config.vocabSize);
  }
  return sum / Math.max(1, n);
}
