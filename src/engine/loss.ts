import type { Kernels } from './kernels/kernels.js';

/**
 * log Σ_v e^{x[off + v]} over n values, computed from the largest so that nothing overflows:
 * NaN if any value is NaN, else +∞ if any is +∞, else −∞ if all are −∞ (the kernels' rule).
 */
export function logSumExp(x: ArrayLike<number>, off: number, n: number): number {
  const max = largest(x, off, n);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (let v = 0; v < n; v++) sum += Math.exp(x[off + v]! - max);
  return Math.log(sum) + max;
}

/** The largest of n values, NaN if any is NaN, −∞ when n is 0. */
export function largest(x: ArrayLike<number>, off: number, n: number): number {
  let max = -Infinity;
  for (let v = off, end = off + n; v < end; v++) {
    const value = x[v]!;
    if (value > max) max = value;
    else if (value !== value) return NaN;
  }
  return max;
}

/**
 * Softmax cross-entropy over the rows of logits [rows, V], row r = t·B + b (time-major),
 * target of row r = targets[b·T + t] (the batch-major layout callers fill).
 *
 *   loss_r = logsumexp(z_r) − z_r[y_r]
 *   d loss_r / d z_r = softmax(z_r) − onehot(y_r)
 *
 * Returns Σ_r loss_r over the first `steps` time steps (a window's last chunk may be shorter
 * than T). When dLogits is given it receives scale · (softmax − onehot).
 */
export function softmaxCrossEntropy(
  kernels: Kernels, logits: Float32Array, targets: Int32Array, batchSize: number, seqLen: number, steps: number, vocabSize: number,
  dLogits: Float32Array | null, scale: number,
): number {
  const V = vocabSize;
  let total = 0;
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batchSize; b++) {
      const row = (t * batchSize + b) * V;
      const y = targets[b * seqLen + t]!;
      if (!dLogits) {
        total += kernels.logSumExp(logits, row, V) - logits[row + y]!;
        continue;
      }
      // dLogits = scale · softmax(z), then − scale at the target; the kernel returns logsumexp(z)
      total += kernels.softmax(logits, row, dLogits, row, V, scale) - logits[row + y]!;
      dLogits[row + y] -= scale;
    }
  }
  return total;
}

/**
 * The distribution of the next token at temperature T from logits z [V] (which stay as they
 * are), into p [V] by the kernels' softmax, with token `excluded` (when ≥ 0) given none:
 *   p_v = e^{z_v / T} / Σ_u e^{z_u / T},   z_excluded = −∞
 * What sampling draws from (LanguageModel.nextTokenProbabilities).
 */
export function nextTokenDistribution(
  kernels: Kernels, logits: Float32Array, p: Float32Array, V: number, temperature: number, excluded: number,
): Float32Array {
  kernels.broadcastRows(p, 0, logits, 0, 1, V);
  if (temperature !== 1) kernels.scale(p, 0, V, 1 / temperature);
  if (excluded >= 0) p[excluded] = -Infinity;
  kernels.softmax(p, 0, p, 0, V, 1);
  if (excluded >= 0) p[excluded] = 0;
  return p;
}

/** Weight of the newest step in the smoothed training loss. */
export const SMOOTHING = 0.05;

/** The smoothed training loss once a step of `loss` is taken: an exponential moving average of the step losses, the first its own. */
export function smoothedLoss(smoothed: number | null, loss: number): number {
  return smoothed === null ? loss : (1 - SMOOTHING) * smoothed + SMOOTHING * loss;
}
