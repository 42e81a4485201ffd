import type { Arena } from './arena.js';
import { gruBackward, gruForward, lstmBackward, lstmForward } from './cells.js';
import type { Kernels } from './kernels.js';

/**
 * The kernels as their definitions read: plain loops, no blocking, float64 accumulators. Slow,
 * and kept only as the yardstick the tests hold every real implementation to.
 */
export function referenceKernels(arena: Arena): Kernels {
  return {
    kind: 'js',
    arena,
    matmulNT(A, aOff, B, bOff, C, cOff, M, N, K) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[aOff + i * K + k]! * B[bOff + j * K + k]!;
          C[cOff + i * N + j] += s;
        }
      }
    },
    matmulNN(A, aOff, B, bOff, C, cOff, M, N, K) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[aOff + i * K + k]! * B[bOff + k * N + j]!;
          C[cOff + i * N + j] += s;
        }
      }
    },
    matmulTN(A, aOff, B, bOff, C, cOff, M, N, K) {
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += A[aOff + k * M + i]! * B[bOff + k * N + j]!;
          C[cOff + i * N + j] += s;
        }
      }
    },
    packedFloats: (N, K) => N * K,
    packWeights(layout, B, bOff, packed, pOff, N, K) {
      // packed = B[N,K] whichever product it came from
      for (let j = 0; j < N; j++) {
        for (let k = 0; k < K; k++) packed[pOff + j * K + k] = layout === 'NT' ? B[bOff + j * K + k]! : B[bOff + k * N + j]!;
      }
    },
    matmulPacked(A, aOff, packed, pOff, C, cOff, M, N, K) {
      this.matmulNT(A, aOff, packed, pOff, C, cOff, M, N, K);
    },
    matvecFloats: (N, K) => N * K,
    packMatvec(B, bOff, packed, pOff, N, K) {
      for (let i = 0; i < N * K; i++) packed[pOff + i] = B[bOff + i]!;
    },
    matvecPacked(x, xOff, packed, pOff, y, yOff, _N, K, j0, j1) {
      for (let j = j0; j < j1; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += x[xOff + k]! * packed[pOff + j * K + k]!;
        y[yOff + j] += s;
      }
    },
    broadcastRows(X, xOff, bias, biasOff, M, N) {
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) X[xOff + i * N + j] = bias[biasOff + j]!;
    },
    addColumnSums(dY, yOff, db, dbOff, M, N) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let i = 0; i < M; i++) s += dY[yOff + i * N + j]!;
        db[dbOff + j] += s;
      }
    },
    gatherRows(table, tableOff, ids, idsOff, X, xOff, M, N) {
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) X[xOff + i * N + j] = table[tableOff + ids[idsOff + i]! * N + j]!;
    },
    scatterAddRows(dY, yOff, ids, idsOff, S, sOff, M, N) {
      for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) S[sOff + ids[idsOff + i]! * N + j] += dY[yOff + i * N + j]!;
    },
    sigmoid(X, off, n) {
      for (let i = off; i < off + n; i++) X[i] = 1 / (1 + Math.exp(-X[i]!));
    },
    tanh(X, off, n) {
      for (let i = off; i < off + n; i++) X[i] = Math.tanh(X[i]!);
    },
    // a cell's step is its equations written out already (cells.ts)
    gruForward, gruBackward, lstmForward, lstmBackward,
    logSumExp(X, off, n) {
      // log Σ e^x = m + log Σ e^(x − m) with m the largest; NaN, +∞ and all −∞ are their own answer
      let m = -Infinity;
      for (let i = off; i < off + n; i++) m = Math.max(m, X[i]!);
      if (!Number.isFinite(m)) return m;
      let sum = 0;
      for (let i = off; i < off + n; i++) sum += Math.exp(X[i]! - m);
      return m + Math.log(sum);
    },
    softmax(X, xOff, Y, yOff, n, scale) {
      const lse = this.logSumExp(X, xOff, n);
      // where the log-sum-exp is not finite, neither is any probability
      if (!Number.isFinite(lse)) {
        for (let i = 0; i < n; i++) Y[yOff + i] = NaN;
        return lse;
      }
      for (let i = 0; i < n; i++) Y[yOff + i] = scale * Math.exp(X[xOff + i]! - lse);
      return lse;
    },
    addInto(dst, dstOff, src, srcOff, n) {
      for (let i = 0; i < n; i++) dst[dstOff + i] += src[srcOff + i]!;
    },
    sumOfSquares(X, off, n) {
      let s = 0;
      for (let i = off; i < off + n; i++) s += X[i]! * X[i]!;
      return s;
    },
    scale(X, off, n, factor) {
      for (let i = off; i < off + n; i++) X[i] *= factor;
    },
    clamp(X, off, n, limit) {
      for (let i = off; i < off + n; i++) X[i] = Math.min(Math.max(X[i]!, -limit), limit);
    },
    adam(params, grads, m, v, off, n, stepSize, beta1, beta2, sqrtCorrection2, eps) {
      for (let i = off; i < off + n; i++) {
        const g = grads[i]!;
        m[i] = beta1 * m[i]! + (1 - beta1) * g;
        v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
        params[i] -= (stepSize * m[i]!) / (Math.sqrt(v[i]!) / sqrtCorrection2 + eps);
      }
    },
    sgd(params, grads, off, n, lr) {
      for (let i = off; i < off + n; i++) params[i] -= lr * grads[i]!;
    },
  };
}
