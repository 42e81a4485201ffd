import type { ModelConfig } from '../engine/config.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import type { StepPhase } from '../engine/kernels/timed.js';
import type { OptimizerKind } from '../engine/optim.js';
import type { StepResult, StepSettings } from '../engine/step.js';

/** The recurrent state of every sequence of a window: [L, B, H] each (c only for an LSTM). */
export interface RecurrentState {
  h: Float32Array;
  c: Float32Array | null;
}

/** Adam's moments and step count, as an engine hands them out and takes them back. */
export interface OptimizerMoments {
  step: number;
  m: Float32Array;
  v: Float32Array;
}

export interface EngineOptions {
  config: ModelConfig;
  /** Initial parameters (copied into the engine's own, shared, buffer). */
  params: Float32Array;
  optimizer: OptimizerKind;
  /** Adam's moments and step count when resuming; fresh when absent. */
  moments?: OptimizerMoments;
  batchSize: number;
  seqLen: number;
  /** Rows of the validation window (≤ batchSize), or 0 for no validation. */
  evalRows: number;
  /** Threads taking part, the calling one included; 1 runs everything here and spawns nothing. */
  workers: number;
  /** Which kernels every thread runs (default: RNN_KERNELS, else the fastest this machine runs). */
  kernels?: KernelsKind;
  /** Time every kernel call, barrier and step by phase (the bench's profile; slower). */
  profile?: boolean;
}

/**
 * What the trainer drives: truncated-BPTT training steps over a [B, T] window and
 * forward-only validation over an [evalRows, T] window, each with its own carried state.
 * Fill `inputs`/`targets` (batch-major, b·T + t), then call trainStep; fill
 * `evalInputs`/`evalTargets` compactly for a chunk of `length` columns (b·length + t), then
 * call evalChunk(length).
 */
export interface TrainingEngine {
  readonly params: Float32Array;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  readonly evalInputs: Int32Array;
  readonly evalTargets: Int32Array;
  readonly workers: number;
  readonly kernels: KernelsKind;
  trainStep(settings: StepSettings, dropoutSeed: number | null): StepResult;
  /** Σ loss (nats) over evalRows · length predictions; the eval state carries to the next chunk. */
  evalChunk(length: number): number;
  resetTrainState(): void;
  resetEvalState(): void;
  trainState(): RecurrentState;
  setTrainState(state: RecurrentState): void;
  optimizerMoments(): OptimizerMoments;
  /** With `profile`: each worker's seconds so far by phase (STEP_PHASES); else null. */
  profile(): Array<Record<StepPhase, number>> | null;
  close(): Promise<void>;
}
