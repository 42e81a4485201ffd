import { availableParallelism } from 'node:os';
import type { CellKind, ModelConfig } from '../engine/config.js';
import { resolveKernels } from '../engine/kernels/index.js';
import type { KernelsKind } from '../engine/kernels/kernels.js';
import type { OptimizerKind } from '../engine/optim.js';
import type { DocsMode } from '../text/corpus.js';
import type { TextLevel } from '../text/vocab.js';
import { DEFAULT_VOCAB_SIZE } from '../text/word-vocab.js';
import { WORD_RULE_VERSION } from '../text/words.js';
import { type TrainingConfig, recordedLevel } from './checkpoint.js';

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
  /** What a token is: one character, or one word or punctuation mark (docs/words.md). */
  level: TextLevel;
  /** Word level: entries of the vocabulary, `<EOS>` and `<UNK>` included (fewer when the text has fewer tokens). */
  vocabSize: number;
  /** Evaluate (and checkpoint) every this many steps; 0: only at the end. */
  evalEvery: number;
  /** The implementation of the kernels every thread runs. */
  kernels: KernelsKind;
}

/** When the run ends: the first limit reached. All are totals over the run, resumed parts included. */
export interface RunLimits {
  epochs: number | null;
  maxSteps: number | null;
  /** Training wall-clock seconds, summed over every part of a resumed run. */
  timeSeconds: number | null;
}

/**
 * The defaults, in one place: chosen for the best validation loss a user gets in a few
 * minutes on two cores with the WebAssembly kernels, which train about 40,000 characters a
 * second per core at this size (several epochs of tinyshakespeare in three minutes). Runs
 * to 2,000 steps on tinyshakespeare, one worker, compared at equal characters: a GRU 2×192
 * reached 1.548 after 4 M characters where a GRU 2×128 reached 1.576, and lowering the rate
 * by 0.8 each epoch took the 2×192 to 1.520. The rest follow nanoGPT / char-rnn practice.
 */
export const TRAIN_DEFAULTS: Readonly<Omit<TrainSettings, 'workers' | 'kernels'>> = {
  cell: 'gru', // 3 gates to an LSTM's 4: 3/4 of its weights, and as good per character in a PyTorch sweep
  layers: 2, // as deep as pays off in minutes
  hidden: 192, // the widest that still sees several epochs of a few MB in three minutes on two cores
  embed: 64, // the PyTorch sweep's best embedding size
  dropout: 0, // a few epochs of a few MB do not overfit this model; dropout would only slow it down
  seqLen: 50, // BPTT window T (char-rnn's)
  batch: 50, // 25 rows per worker on two cores: wide enough products for the SIMD kernels
  lr: 3e-3, // Adam's rate for this width
  lrDecay: 0.8, // per epoch: three-minute runs now see several epochs, and the decay gained 0.03 by the fourth
  clip: 5, // global-norm clipping as char-rnn; keeps early recurrent updates from blowing up
  clipValue: null, // element-wise clipping off
  optimizer: 'adam', // the sweep's optimizer
  seed: 1337, // any fixed value: runs are reproducible by default
  valFrac: 0.1, // the last 10% of the text, as char-rnn
  minCount: 1, // keep every character the training text has
  docs: 'file', // each file one document (docs/text.md)
  level: 'char', // the character level stays the default; --level word is issue 11's
  vocabSize: DEFAULT_VOCAB_SIZE, // the notes' 10,000: <EOS>, <UNK> and the 9,998 most frequent tokens
  evalEvery: 400, // only where the validation split is unknown (an imported model); see defaultEvalEvery
};

/** Threads by default: every core the OS offers this process. */
function defaultWorkers(): number {
  return availableParallelism();
}

/** A fresh run's settings before any flag: the defaults, on every core, on the fastest kernels this machine runs (or RNN_KERNELS's). */
export function defaultSettings(): TrainSettings {
  return { ...TRAIN_DEFAULTS, workers: defaultWorkers(), kernels: resolveKernels() };
}

/** The model the settings describe, for a vocabulary of `vocabSize` tokens. */
export function modelConfig(settings: TrainSettings, vocabSize: number): ModelConfig {
  const { cell, embed: embedDim, hidden: hiddenSize, layers: numLayers, dropout } = settings;
  return { cell, vocabSize, embedDim, hiddenSize, numLayers, dropout };
}

/**
 * The settings as a checkpoint's `config.training` records them, with the run's limits when it
 * has any. The level is always written; a word-level run also records its `vocabSize` and the
 * tokenizer's `WORD_RULE_VERSION`, which its ids depend on.
 */
export function trainingConfig(settings: TrainSettings, limits?: RunLimits): TrainingConfig {
  const s = settings;
  return {
    seqLen: s.seqLen, batchSize: s.batch, lr: s.lr, lrDecay: s.lrDecay, clip: s.clip, clipValue: s.clipValue, seed: s.seed,
    workers: s.workers, valFrac: s.valFrac, minCount: s.minCount, docs: s.docs, evalEvery: s.evalEvery, optimizer: s.optimizer,
    kernels: s.kernels,
    level: s.level,
    ...(s.level === 'word' && { vocabSize: s.vocabSize, wordRule: WORD_RULE_VERSION }),
    ...(limits && { epochs: limits.epochs, maxSteps: limits.maxSteps, timeSeconds: limits.timeSeconds }),
  };
}

/** The settings a checkpoint's `config` records: the inverse of `modelConfig` and `trainingConfig`. */
export function settingsFromConfig(config: { model: ModelConfig; training: TrainingConfig }): TrainSettings {
  const { model, training } = config;
  return {
    cell: model.cell, layers: model.numLayers, hidden: model.hiddenSize, embed: model.embedDim, dropout: model.dropout,
    seqLen: training.seqLen, batch: training.batchSize, lr: training.lr, lrDecay: training.lrDecay,
    clip: training.clip, clipValue: training.clipValue, optimizer: training.optimizer, seed: training.seed,
    workers: training.workers, valFrac: training.valFrac, minCount: training.minCount, docs: training.docs,
    evalEvery: training.evalEvery, kernels: training.kernels ?? 'js', level: recordedLevel(training),
    vocabSize: training.vocabSize ?? DEFAULT_VOCAB_SIZE,
  };
}
