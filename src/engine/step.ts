import type { LanguageModel } from './model.js';
import { type Optimizer, clipGradNorm, clipScale } from './optim.js';

export interface StepSettings {
  lr: number;
  /** Clip by global L2 norm (null: no clipping). */
  clip: number | null;
  /** Clip each gradient element to ±clipValue (null: no clipping). */
  clipValue: number | null;
}

export interface StepResult {
  /** Mean cross-entropy over the B·T positions, nats. */
  loss: number;
  /** Global L2 norm of the gradient before clipping. */
  gradNorm: number;
  /**
   * The loss or the gradient norm was not finite (the run diverged): the weights and the
   * optimizer were left as they were, and the carried state restarts from zero.
   */
  skipped: boolean;
}

/** Whether a step's loss and gradient norm may reach the weights: both finite. */
export function stepIsFinite(loss: number, gradNorm: number): boolean {
  return Number.isFinite(loss) && Number.isFinite(gradNorm);
}

/**
 * One step of truncated BPTT is three phases; a pool of threads runs each on its share
 * (parallel/shard.ts), one thread runs them in turn (trainStep):
 *   1. forward and backward of the window into the model's gradient (accumulateGradients);
 *   2. the gradients of all rows summed, clipped by value, and ‖g‖₂ taken;
 *   3. g clipped by that norm and the optimizer's update applied (updateSlice);
 * then the final state carries into the next window with no gradient through it. A step whose
 * loss or gradient norm is not finite changes nothing: no NaN or infinity reaches the weights.
 */

/** Phase 1: d(Σ loss / positions) into model.grads (zeroed first); returns the window's Σ loss. */
export function accumulateGradients(model: LanguageModel, positions: number, dropoutSeed: number | null): number {
  model.grads!.fill(0);
  model.forward(dropoutSeed);
  return model.backward(1 / positions);
}

/** Phase 3 over grads[start, end): g ← g · clipScale(‖g‖), then the optimizer's update. */
export function updateSlice(
  optimizer: Optimizer, params: Float32Array, grads: Float32Array, settings: StepSettings, norm: number, start: number, end: number,
): void {
  const factor = clipScale(norm, settings.clip);
  if (factor !== 1) optimizer.kernels.scale(grads, start, end - start, factor);
  optimizer.apply(params, grads, settings.lr, start, end);
}

/** One whole step on the calling thread over the window already in model.tokens / model.targets. */
export function trainStep(model: LanguageModel, optimizer: Optimizer, settings: StepSettings, dropoutSeed: number | null): StepResult {
  const positions = model.batchSize * model.seqLen, grads = model.grads!, k = model.kernels;
  const loss = accumulateGradients(model, positions, dropoutSeed) / positions;
  if (settings.clipValue !== null) k.clamp(grads, 0, grads.length, settings.clipValue);
  const gradNorm = clipGradNorm(k, grads, settings.clip);
  if (!stepIsFinite(loss, gradNorm)) {
    model.resetState();
    return { loss, gradNorm, skipped: true };
  }
  optimizer.step++;
  optimizer.apply(model.params, grads, settings.lr);
  model.carryState();
  return { loss, gradNorm, skipped: false };
}

/**
 * Σ loss of one chunk of a validation split, forward only, from the state the last chunk
 * left: the compact [rows, length] inputs (row b at (firstRow + b)·length) spread into the
 * model's [rows, T] window, the state then carried `length` steps on.
 */
export function evaluateChunk(model: LanguageModel, inputs: Int32Array, targets: Int32Array, length: number): number {
  const T = model.seqLen;
  for (let b = 0; b < model.batchSize; b++) {
    const src = (model.firstRow + b) * length, dst = b * T;
    for (let t = 0; t < T; t++) {
      model.tokens[dst + t] = t < length ? inputs[src + t]! : 0;
      model.targets[dst + t] = t < length ? targets[src + t]! : 0;
    }
  }
  model.forward(null);
  const loss = model.lossSum(length);
  model.carryState(length);
  return loss;
}
