/**
 * Matrix products over row-major Float32Arrays, the only place the engine spends real time.
 *
 * All three accumulate into C (C += ...), take offsets rather than subarray views (so the hot
 * path allocates nothing), and hold a 4×4 tile of C in sixteen locals while they stream along
 * the shared dimension — the register blocking that lets scalar JavaScript approach its
 * ceiling. Rows and columns that do not fill a tile are finished by the narrower loops below.
 * matmulTN packs its operands and reuses matmulNT. NT and NN stay two kernels although their
 * tiles are alike: one kernel with B's strides as arguments measured 7–20% slower on the NN
 * products (the four neighbouring loads lose their constant offsets), a third of training's work.
 *
 *   matmulNT:  C[M,N] += A[M,K] · B[N,K]ᵀ   (x·Wᵀ: a layer's forward projection)
 *   matmulNN:  C[M,N] += A[M,K] · B[K,N]    (dgates·W: the gradient flowing to the input)
 *   matmulTN:  C[M,N] += A[K,M]ᵀ · B[K,N]   (dgatesᵀ·x: the gradient of a weight matrix)
 */

export function matmulNT(
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

export function matmulNN(
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
let panelA = new Float32Array(0);
let panelB = new Float32Array(0);

/**
 * C += Aᵀ·B with A [K,M] and B [K,N]: the weight gradients, where K is every row of the
 * window. Walking down K with stride M and N would re-stream all of B for every tile of C, so
 * K is cut into blocks whose columns are first packed into contiguous panels
 * (Aᵀ block [M, kc], Bᵀ block [N, kc]) and multiplied by the cache-friendly matmulNT.
 * The panels grow once, to the largest shape seen; later calls allocate nothing.
 */
export function matmulTN(
  A: Float32Array, aOff: number, B: Float32Array, bOff: number,
  C: Float32Array, cOff: number, M: number, N: number, K: number,
): void {
  const kc = Math.min(K, TN_BLOCK);
  if (panelA.length < M * kc) panelA = new Float32Array(M * kc);
  if (panelB.length < N * kc) panelB = new Float32Array(N * kc);
  for (let k0 = 0; k0 < K; k0 += kc) {
    const rows = Math.min(kc, K - k0);
    transposeInto(A, aOff + k0 * M, panelA, rows, M);
    transposeInto(B, bOff + k0 * N, panelB, rows, N);
    matmulNT(panelA, 0, panelB, 0, C, cOff, M, N, rows);
  }
}

/** out[c, r] = X[r, c] for the [rows, cols] block of X at xOff (out has `rows` columns). */
function transposeInto(X: Float32Array, xOff: number, out: Float32Array, rows: number, cols: number): void {
  for (let r = 0; r < rows; r++) {
    for (let c = 0, x = xOff + r * cols, o = r; c < cols; c++, o += rows) out[o] = X[x + c];
  }
}

/** Each of the M rows of X[M,N] (from xOff) set to the bias b[N]: the start of X = b + A·Wᵀ. */
export function broadcastRows(X: Float32Array, xOff: number, bias: Float32Array, M: number, N: number): void {
  for (let i = 0, x = xOff; i < M; i++, x += N) X.set(bias, x);
}

/** db[N] += Σ_rows dY[M,N]: the gradient of a bias added to every row. */
export function accumulateColumnSums(dY: Float32Array, yOff: number, db: Float32Array, M: number, N: number): void {
  for (let i = 0, y = yOff; i < M; i++, y += N) {
    for (let j = 0; j < N; j++) db[j] += dY[y + j];
  }
}

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}
