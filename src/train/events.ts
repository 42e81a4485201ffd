import type { InitFrom } from '../checkpoint/schema.js';
import type { ModelConfig } from '../engine/config.js';
import type { RunLimits, TrainSettings } from '../checkpoint/settings.js';
import type { WordVocabularyBuild } from '../text/word-vocab.js';
import type { OutputPaths } from './output.js';

/**
 * Why a run ended: a limit reached, a signal (the abort reason, e.g. 'SIGINT'), or divergence
 * (a `Divergence` of trainer.ts: steps not finite, a validation loss not finite, or weights no
 * checkpoint may hold).
 */
export type StopReason = 'epochs' | 'max-steps' | 'time' | 'interrupted' | 'diverged';

export interface StartEvent {
  event: 'start';
  /** The checkpoint this run continues, or null for a fresh run. */
  resumedFrom: string | null;
  step: number;
  model: ModelConfig;
  parameters: number;
  settings: TrainSettings;
  limits: RunLimits;
  /** The corpus files the tokens come from (a prepared folder's: the files it was made from). */
  corpus: string[];
  /** Those of `corpus` that hold nothing (0 bytes), and give no text. */
  emptyFiles: string[];
  /** A run on a prepared folder (`rnn prepare`): the folder its ids were read from, absolute. */
  prepared?: string;
  /** The text's tokens (characters, or word tokens at the word level) in the training and validation parts, its document ends apart. */
  trainTokens: number;
  valTokens: number;
  stepsPerEpoch: number;
  /** The step the run ends at by --epochs / --max-steps, or null when only --time bounds it. */
  totalSteps: number | null;
  out: OutputPaths;
  /**
   * A fresh word-level run: what the training text offered its vocabulary. A `shortfall` above 0
   * means the text has fewer tokens than `settings.vocabSize` asks for, and the vocabulary is smaller.
   */
  wordVocab?: Omit<WordVocabularyBuild, 'vocab'>;
  /** Steps skipped so far in this run (always 0 at the start). */
  skipped: number;
  /** A fine-tuned run (or one resumed from it): the model it started from. */
  initFrom?: InitFrom;
  /** A fine-tuned run with --extend-vocab: the tokens it added to its base's vocabulary. */
  vocabAdded?: string[];
}

export interface StepEvent {
  event: 'step';
  step: number;
  /** Epochs done, fractional: epoch + (step within the epoch) / steps per epoch. */
  epoch: number;
  /** The step's loss; null when the step was skipped (its loss or gradient was not finite). */
  loss: number | null;
  /** Exponential moving average of the finite step losses (α: engine/loss.ts's SMOOTHING); null before the first. */
  smoothedLoss: number | null;
  /** The last validation loss, or null before the first evaluation. */
  valLoss: number | null;
  lr: number;
  /** The gradient's global L2 norm before clipping; null when the step was skipped. */
  gradNorm: number | null;
  tokensPerSecond: number;
  elapsedSeconds: number;
  /** Seconds to the nearest limit at the current speed (evaluations not counted); null if unknown. */
  etaSeconds: number | null;
  totalSteps: number | null;
  /** Steps skipped so far in this run: a skipped step changes no weight, moment or step count of the optimizer. */
  skipped: number;
}

export interface EvalEvent {
  event: 'eval';
  step: number;
  epoch: number;
  trainLoss: number | null;
  /** Mean cross-entropy (nats) over the whole validation split, or null without one. */
  valLoss: number | null;
  bestValLoss: number | null;
  improved: boolean;
  /** A few tokens drawn from the model (trainer.ts's SAMPLE_LENGTH, at SAMPLE_TEMPERATURE). */
  sample: string;
  seconds: number;
}

export interface CheckpointEvent {
  event: 'checkpoint';
  step: number;
  kind: 'latest' | 'best';
  path: string;
}

export interface DoneEvent {
  event: 'done';
  reason: StopReason;
  /** The abort reason when interrupted (e.g. 'SIGINT'), else null. */
  signal: string | null;
  step: number;
  epoch: number;
  trainLoss: number | null;
  valLoss: number | null;
  bestValLoss: number | null;
  latest: string;
  best: string | null;
  elapsedSeconds: number;
  /** Steps skipped in this run: their loss or gradient was not finite. */
  skipped: number;
  /** The step of the newest checkpoint written (by this run or the one it resumes); null when there is none. */
  savedStep: number | null;
}

export type TrainEvent = StartEvent | StepEvent | EvalEvent | CheckpointEvent | DoneEvent;
