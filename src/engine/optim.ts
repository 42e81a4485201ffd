/**
 * Gradient clipping and optimizers over the flat parameter / gradient buffers, with PyTorch's
 * semantics. Each works on a [start, end) slice so that worker threads can share one step.
 */

/** Σ g² over a slice: the piece of the global L2 norm that one thread contributes. */
export function sumOfSquares(grads: Float32Array, start = 0, end = grads.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s += grads[i] * grads[i];
  return s;
}

/**
 * torch.nn.utils.clip_grad_norm_: with norm = ‖g‖₂ over every parameter,
 *   g ← g · maxNorm / (norm + 1e-6)   when that factor is below 1.
 * Returns the factor (1 when nothing was clipped).
 */
export function clipScale(norm: number, maxNorm: number): number {
  const coef = maxNorm / (norm + 1e-6);
  return coef < 1 ? coef : 1;
}

export function clipGradNorm(grads: Float32Array, maxNorm: number): number {
  const norm = Math.sqrt(sumOfSquares(grads));
  scaleSlice(grads, clipScale(norm, maxNorm));
  return norm;
}

export function scaleSlice(grads: Float32Array, factor: number, start = 0, end = grads.length): void {
  if (factor === 1) return;
  for (let i = start; i < end; i++) grads[i] *= factor;
}

/** torch.nn.utils.clip_grad_value_: g ← min(max(g, −v), v). */
export function clipGradValue(grads: Float32Array, value: number, start = 0, end = grads.length): void {
  for (let i = start; i < end; i++) {
    const g = grads[i];
    grads[i] = g > value ? value : g < -value ? -value : g;
  }
}

export interface AdamSettings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
}

export const ADAM_DEFAULTS: Omit<AdamSettings, 'lr'> = { beta1: 0.9, beta2: 0.999, eps: 1e-8 };

/**
 * torch.optim.Adam, step number `step` (1 for the first), over a slice:
 *   m ← β₁ m + (1 − β₁) g          v ← β₂ v + (1 − β₂) g²
 *   θ ← θ − lr · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
 * (ε outside the square root, added after bias-correcting v, as PyTorch does.)
 */
export function adamStep(
  params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array,
  step: number, s: AdamSettings, start = 0, end = params.length,
): void {
  const { lr, beta1, beta2, eps } = s;
  const stepSize = lr / (1 - Math.pow(beta1, step));
  const sqrtCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
  for (let i = start; i < end; i++) {
    const g = grads[i];
    const mi = (m[i] = beta1 * m[i] + (1 - beta1) * g);
    const vi = (v[i] = beta2 * v[i] + (1 - beta2) * g * g);
    params[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + eps);
  }
}

/** Plain SGD: θ ← θ − lr · g. */
export function sgdStep(params: Float32Array, grads: Float32Array, lr: number, start = 0, end = params.length): void {
  for (let i = start; i < end; i++) params[i] -= lr * grads[i];
}

export type OptimizerKind = 'adam' | 'sgd';

export const OPTIMIZER_KINDS: readonly OptimizerKind[] = ['adam', 'sgd'];

/** An optimizer's state over the whole parameter buffer: Adam's moments and its step count. */
export class Optimizer {
  step = 0;
  readonly m: Float32Array;
  readonly v: Float32Array;

  constructor(
    readonly kind: OptimizerKind,
    size: number,
    readonly settings: Omit<AdamSettings, 'lr'> = ADAM_DEFAULTS,
    buffers?: { m: Float32Array; v: Float32Array },
  ) {
    const moments = kind === 'adam' ? size : 0;
    this.m = buffers?.m ?? new Float32Array(moments);
    this.v = buffers?.v ?? new Float32Array(moments);
  }

  /** Applies one update to params[start, end); `step` must already count this update. */
  apply(params: Float32Array, grads: Float32Array, lr: number, start = 0, end = params.length): void {
    if (this.kind === 'adam') adamStep(params, grads, this.m, this.v, this.step, { lr, ...this.settings }, start, end);
    else sgdStep(params, grads, lr, start, end);
  }
}
