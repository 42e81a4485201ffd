import type { CharRnn } from './model.js';
import { type Optimizer, clipGradNorm, clipGradValue } from './optim.js';

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
}

/**
 * One step of truncated BPTT on a single thread: forward and backward over the window already
 * in model.tokens / model.targets, clip, update, then carry the final state into the next
 * window with no gradient flowing back through it.
 */
export function trainStep(model: CharRnn, optimizer: Optimizer, settings: StepSettings, dropoutSeed: number | null): StepResult {
  const grads = model.grads!;
  grads.fill(0);
  model.forward(dropoutSeed);
  const positions = model.batchSize * model.seqLen;
  const loss = model.backward(1 / positions) / positions;
  if (settings.clipValue !== null) clipGradValue(grads, settings.clipValue);
  const gradNorm = settings.clip !== null ? clipGradNorm(grads, settings.clip) : clipGradNorm(grads, Infinity);
  optimizer.step++;
  optimizer.apply(model.params, grads, settings.lr);
  model.carryState();
  return { loss, gradNorm };
}
