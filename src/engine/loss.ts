/** log Σ_v e^{x[off + v]} over n values, computed from the largest so that nothing overflows. */
export function logSumExp(x: ArrayLike<number>, off: number, n: number): number {
  let max = -Infinity;
  for (let v = 0; v < n; v++) if (x[off + v]! > max) max = x[off + v]!;
  let sum = 0;
  for (let v = 0; v < n; v++) sum += Math.exp(x[off + v]! - max);
  return Math.log(sum) + max;
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
  logits: Float32Array, targets: Int32Array, batchSize: number, seqLen: number, steps: number, vocabSize: number,
  dLogits: Float32Array | null, scale: number,
): number {
  const V = vocabSize;
  let total = 0;
  for (let t = 0; t < steps; t++) {
    for (let b = 0; b < batchSize; b++) {
      const row = (t * batchSize + b) * V;
      const y = targets[b * seqLen + t]!;
      if (!dLogits) {
        total += logSumExp(logits, row, V) - logits[row + y]!;
        continue;
      }
      // softmax(z) = e^{z − max} / Σ e^{z − max}: each exponential is taken once, kept in dLogits, then scaled
      let max = -Infinity;
      for (let v = 0; v < V; v++) if (logits[row + v]! > max) max = logits[row + v]!;
      let sum = 0;
      for (let v = 0; v < V; v++) {
        const e = Math.exp(logits[row + v]! - max);
        dLogits[row + v] = e;
        sum += e;
      }
      total += Math.log(sum) + max - logits[row + y]!;
      const factor = scale / sum;
      for (let v = 0; v < V; v++) dLogits[row + v] *= factor;
      dLogits[row + y] -= scale;
    }
  }
  return total;
}
