import type { Arena } from './arena.js';
import type { Kernels } from './kernels.js';
import { largest, logSumExp } from '../loss.js';
import { gruBackward, gruForward, lstmBackward, lstmForward } from './cells.js';

/**
 * The kernels in plain TypeScript: the fallback where WebAssembly SIMD is missing, and what
 * `--kernels js` runs. The three matrix products hold a 4×4 tile of C in sixteen locals while
 * they stream along the shared dimension — the register blocking that lets scalar JavaScript
 * approach its ceiling; rows and columns that do not fill a tile are finished by the narrower
 * loops after it. matmulTN packs its operands and reuses matmulNT. NT and NN stay two kernels
 * although their tiles are alike: one kernel with B's strides as arguments measured 7–20%
 * slower on the NN products (the four neighbouring loads lose their constant offsets), a
 * third of training's work.
 */
export function jsKernels(arena: Arena): Kernels {
  // matmulTN's packed panels, grown once to the largest shape seen
  const panels = { a: new Float32Array(0), b: new Float32Array(0) };
  return {
    kind: 'js',
    arena,
    matmulNT,
    matmulNN,
    matmulTN: (A, aOff, B, bOff, C, cOff, M, N, K) => matmulTN(panels, A, aOff, B, bOff, C, cOff, M, N, K),
    // packed is B[N,K], which matmulNT multiplies as matmulNN does B[K,N]: each sum in the same order
    packedFloats: (N, K) => N * K,
    packWeights(layout, B, bOff, packed, pOff, N, K) {
      if (layout === 'NT') packed.set(B.subarray(bOff, bOff + N * K), pOff);
      else transposeInto(B, bOff, packed, pOff, K, N);
    },
    matmulPacked: matmulNT,
    // packed is B[N,K]: rows j0 … j1 − 1 are a matmulNT with M = 1 from row j0
    matvecFloats: (N, K) => N * K,
    packMatvec(B, bOff, packed, pOff, N, K) {
      packed.set(B.subarray(bOff, bOff + N * K), pOff);
    },
    matvecPacked(x, xOff, packed, pOff, y, yOff, _N, K, j0, j1) {
      matmulNT(x, xOff, packed, pOff + j0 * K, y, yOff + j0, 1, j1 - j0, K);
    },
    broadcastRows(X, xOff, bias, biasOff, M, N) {
      for (let i = 0, x = xOff; i < M; i++, x += N) {
        for (let j = 0; j < N; j++) X[x + j] = bias[biasOff + j]!;
      }
    },
    addColumnSums(dY, yOff, db, dbOff, M, N) {
      for (let i = 0, y = yOff; i < M; i++, y += N) {
        for (let j = 0; j < N; j++) db[dbOff + j] += dY[y + j]!;
      }
    },
    gatherRows(table, tableOff, ids, idsOff, X, xOff, M, N) {
      for (let i = 0, x = xOff; i < M; i++, x += N) {
        const from = tableOff + ids[idsOff + i]! * N;
        for (let j = 0; j < N; j++) X[x + j] = table[from + j]!;
      }
    },
    scatterAddRows(dY, yOff, ids, idsOff, S, sOff, M, N) {
      for (let i = 0, y = yOff; i < M; i++, y += N) {
        const to = sOff + ids[idsOff + i]! * N;
        for (let j = 0; j < N; j++) S[to + j] += dY[y + j]!;
      }
    },
    sigmoid(X, off, n) {
      for (let i = off, end = off + n; i < end; i++) X[i] = 1 / (1 + Math.exp(-X[i]!));
    },
    tanh(X, off, n) {
      for (let i = off, end = off + n; i < end; i++) X[i] = Math.tanh(X[i]!);
    },
    gruForward, gruBackward, lstmForward, lstmBackward,
    logSumExp,
    softmax(X, xOff, Y, yOff, n, scale) {
      const max = largest(X, xOff, n);
      if (!Number.isFinite(max)) {
        Y.fill(NaN, yOff, yOff + n);
        return max;
      }
      let sum = 0;
      for (let i = 0; i < n; i++) sum += Y[yOff + i] = Math.exp(X[xOff + i]! - max);
      const factor = scale / sum;
      for (let i = 0; i < n; i++) Y[yOff + i] *= factor;
      return Math.log(sum) + max;
    },
    addInto(dst, dstOff, src, srcOff, n) {
      for (let i = 0; i < n; i++) dst[dstOff + i] += src[srcOff + i]!;
    },
    sumOfSquares(X, off, n) {
      let s = 0;
      for (let i = off, end = off + n; i < end; i++) s += X[i]! * X[i]!;
      return s;
    },
    scale(X, off, n, factor) {
      for (let i = off, end = off + n; i < end; i++) X[i] *= factor;
    },
    clamp(X, off, n, limit) {
      for (let i = off, end = off + n; i < end; i++) {
        const x = X[i]!;
        X[i] = x > limit ? limit : x < -limit ? -limit : x;
      }
    },
    adam(params, grads, m, v, off, n, stepSize, beta1, beta2, sqrtCorrection2, eps) {
      for (let i = off, end = off + n; i < end; i++) {
        const g = grads[i]!;
        const mi = (m[i] = beta1 * m[i]! + (1 - beta1) * g);
        const vi = (v[i] = beta2 * v[i]! + (1 - beta2) * g * g);
        params[i] -= (stepSize * mi) / (Math.sqrt(vi) / sqrtCorrection2 + eps);
      }
    },
    sgd(params, grads, off, n, lr) {
      for (let i = off, end = off + n; i < end; i++) params[i] -= lr * grads[i]!;
    },
  };
}

/** C[M,N] += A[M,K] · B[N,K]ᵀ: 4×4 tiles of C, then the rows and columns that do not fill one. */
function matmulNT(
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, M: number, N: number, K: number,
): void {
  const M4 = M & ~3, N4 = N & ~3;
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0; k < K; k++) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k], y3 = B[b3 + k];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      let c = cOff + i * N + j;
      C[c] += c00; C[c + 1] += c01; C[c + 2] += c02; C[c + 3] += c03; c += N;
      C[c] += c10; C[c + 1] += c11; C[c + 2] += c12; C[c + 3] += c13; c += N;
      C[c] += c20; C[c + 1] += c21; C[c + 2] += c22; C[c + 3] += c23; c += N;
      C[c] += c30; C[c + 1] += c31; C[c + 2] += c32; C[c + 3] += c33;
    }
    for (let j = N4; j < N; j++) {
      const b0 = bOff + j * K;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0; k < K; k++) {
        const y = B[b0 + k];
        c0 += A[a0 + k] * y; c1 += A[a1 + k] * y; c2 += A[a2 + k] * y; c3 += A[a3 + k] * y;
      }
      const c = cOff + i * N + j;
      C[c] += c0; C[c + N] += c1; C[c + 2 * N] += c2; C[c + 3 * N] += c3;
    }
  }
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * K;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * K, b1 = b0 + K, b2 = b1 + K, b3 = b2 + K;
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0; k < K; k++) {
        const x = A[a0 + k];
        c0 += x * B[b0 + k]; c1 += x * B[b1 + k]; c2 += x * B[b2 + k]; c3 += x * B[b3 + k];
      }
      const c = cOff + i * N + j;
      C[c] += c0; C[c + 1] += c1; C[c + 2] += c2; C[c + 3] += c3;
    }
    for (let j = N4; j < N; j++) {
      const b0 = bOff + j * K;
      let s = 0;
      for (let k = 0; k < K; k++) s += A[a0 + k] * B[b0 + k];
      C[cOff + i * N + j] += s;
    }
  }
}

/** C[M,N] += A[M,K] · B[K,N]: 4×4 tiles of C, then the rows and columns that do not fill one. */
function matmulNN(
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, M: number, N: number, K: number,
): void {
  const M4 = M & ~3, N4 = N & ~3;
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    for (let j = 0; j < N4; j += 4) {
      let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
      let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
      for (let k = 0, b = bOff + j; k < K; k++, b += N) {
        const x0 = A[a0 + k], x1 = A[a1 + k], x2 = A[a2 + k], x3 = A[a3 + k];
        const y0 = B[b], y1 = B[b + 1], y2 = B[b + 2], y3 = B[b + 3];
        c00 += x0 * y0; c01 += x0 * y1; c02 += x0 * y2; c03 += x0 * y3;
        c10 += x1 * y0; c11 += x1 * y1; c12 += x1 * y2; c13 += x1 * y3;
        c20 += x2 * y0; c21 += x2 * y1; c22 += x2 * y2; c23 += x2 * y3;
        c30 += x3 * y0; c31 += x3 * y1; c32 += x3 * y2; c33 += x3 * y3;
      }
      let c = cOff + i * N + j;
      C[c] += c00; C[c + 1] += c01; C[c + 2] += c02; C[c + 3] += c03; c += N;
      C[c] += c10; C[c + 1] += c11; C[c + 2] += c12; C[c + 3] += c13; c += N;
      C[c] += c20; C[c + 1] += c21; C[c + 2] += c22; C[c + 3] += c23; c += N;
      C[c] += c30; C[c + 1] += c31; C[c + 2] += c32; C[c + 3] += c33;
    }
    for (let j = N4; j < N; j++) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0, b = bOff + j; k < K; k++, b += N) {
        const y = B[b];
        c0 += A[a0 + k] * y; c1 += A[a1 + k] * y; c2 += A[a2 + k] * y; c3 += A[a3 + k] * y;
      }
      const c = cOff + i * N + j;
      C[c] += c0; C[c + N] += c1; C[c + 2 * N] += c2; C[c + 3 * N] += c3;
    }
  }
  for (let i = M4; i < M; i++) {
    const a0 = aOff + i * K;
    for (let j = 0; j < N4; j += 4) {
      let c0 = 0, c1 = 0, c2 = 0, c3 = 0;
      for (let k = 0, b = bOff + j; k < K; k++, b += N) {
        const x = A[a0 + k];
        c0 += x * B[b]; c1 += x * B[b + 1]; c2 += x * B[b + 2]; c3 += x * B[b + 3];
      }
      const c = cOff + i * N + j;
      C[c] += c0; C[c + 1] += c1; C[c + 2] += c2; C[c + 3] += c3;
    }
    for (let j = N4; j < N; j++) {
      let s = 0;
      for (let k = 0, b = bOff + j; k < K; k++, b += N) s += A[a0 + k] * B[b];
      C[cOff + i * N + j] += s;
    }
  }
}

/** Rows of the shared dimension packed per block by matmulTN: panels of about 64 KB for N = 64. */
const TN_BLOCK = 256;

/**
 * C += Aᵀ·B with A [K,M] and B [K,N]: the weight gradients, where K is every row of the
 * window. Walking down K with stride M and N would re-stream all of B for every tile of C, so
 * K is cut into blocks whose columns are first packed into contiguous panels
 * (Aᵀ block [M, kc], Bᵀ block [N, kc]) and multiplied by the cache-friendly matmulNT.
 */
function matmulTN(
  panels: { a: Float32Array; b: Float32Array },
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, M: number, N: number, K: number,
): void {
  const kc = Math.min(K, TN_BLOCK);
  if (panels.a.length < M * kc) panels.a = new Float32Array(M * kc);
  if (panels.b.length < N * kc) panels.b = new Float32Array(N * kc);
  for (let k0 = 0; k0 < K; k0 += kc) {
    const rows = Math.min(kc, K - k0);
    transposeInto(A, aOff + k0 * M, panels.a, 0, rows, M);
    transposeInto(B, bOff + k0 * N, panels.b, 0, rows, N);
    matmulNT(panels.a, 0, panels.b, 0, C, cOff, M, N, rows);
  }
}

/** out[c, r] = X[r, c] for the [rows, cols] block of X at xOff (out, at outOff, has `rows` columns). */
function transposeInto(X: Float32Array, xOff: number, out: Float32Array, outOff: number, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0, x = xOff + r * cols, o = outOff + r; c < cols; c++, o += rows) out[o] = X[x + c]!;
  }
}
