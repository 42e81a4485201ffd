import type { Kernels } from './kernels/kernels.js';

/**
 * Gradient clipping and optimizers over the flat parameter / gradient buffers, with PyTorch's
 * semantics, through the kernels. Each works on a [start, end) slice so that worker threads
 * can share one step.
 */

export const OPTIMIZER_KINDS = ['adam', 'sgd'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/** How the learning rate moves over a run: `cosine` to 0 at its end, or down by a factor each `epoch`. */
export const LR_SCHEDULES = ['cosine', 'epoch'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/**
 * The learning rate of a step, `done` the fraction of the run behind it (held to [0, 1]: a run
 * that overruns its time stays at its end's rate):
 *   cosine:  lr · ½ (1 + cos(π · done))     lr at the start, lr/2 halfway, 0 at the end
 *   epoch:   lr · decay^epoch
 */
export function scheduledLr(schedule: LrSchedule, lr: number, decay: number, epoch: number, done: number): number {
  if (schedule === 'epoch') return lr * Math.pow(decay, epoch);
  return lr * 0.5 * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, done))));
}

/** What clip_grad_norm_ adds to the norm it divides by, so that a zero gradient divides by no zero. */
const CLIP_NORM_EPS = 1e-6;

/**
 * torch.nn.utils.clip_grad_norm_: with norm = ‖g‖₂ over every parameter,
 *   g ← g · maxNorm / (norm + CLIP_NORM_EPS)   when that factor is below 1.
 * Returns the factor (1 when nothing is clipped, or maxNorm is null).
 */
export function clipScale(norm: number, maxNorm: number | null): number {
  if (maxNorm === null) return 1;
  const coef = maxNorm / (norm + CLIP_NORM_EPS);
  return coef < 1 ? coef : 1;
}

/** clip_grad_norm_ over a whole buffer on one thread; returns the norm before clipping. */
export function clipGradNorm(kernels: Kernels, grads: Float32Array, maxNorm: number | null): number {
  const norm = Math.sqrt(kernels.sumOfSquares(grads, 0, grads.length));
  const factor = clipScale(norm, maxNorm);
  if (factor !== 1) kernels.scale(grads, 0, grads.length, factor);
  return norm;
}

export interface AdamSettings {
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: Readonly<AdamSettings> = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/**
 * An optimizer over the whole parameter buffer: Adam's moments (allocated from the kernels'
 * arena, or shared ones a pool passes in) and its step count.
 */
export class Optimizer {
  step = 0;
  readonly m: Float32Array;
  readonly v: Float32Array;

  constructor(
    readonly kind: OptimizerKind,
    readonly kernels: Kernels,
    size: number,
    readonly settings: AdamSettings = ADAM_DEFAULTS,
    moments?: { m: Float32Array; v: Float32Array },
  ) {
    const n = kind === 'adam' ? size : 0;
    this.m = moments?.m ?? kernels.arena.floats(n);
    this.v = moments?.v ?? kernels.arena.floats(n);
  }

  /**
   * Applies one update to params[start, end); `step` must already count this update.
   * Adam (torch.optim.Adam, step t ≥ 1, ε outside the square root, after bias-correcting v):
   *   m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
   *   θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
   * SGD: θ ← θ − lr · g.
   */
  apply(params: Float32Array, grads: Float32Array, lr: number, start = 0, end = params.length): void {
    if (this.kind === 'sgd') {
      this.kernels.sgd(params, grads, start, end - start, lr);
      return;
    }
    const { beta1, beta2, eps } = this.settings;
    const stepSize = lr / (1 - Math.pow(beta1, this.step));
    const sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, this.step));
    this.kernels.adam(params, grads, this.m, this.v, start, end - start, stepSize, beta1, beta2, sqrtCorrection2, eps);
  }
}
