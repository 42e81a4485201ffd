/**
 * The bench's yardstick: what plain JavaScript reaches on this machine today, a float32 matrix
 * product C[n,n] += A[n,n] · B[n,n] with a 4×4 tile of C held in sixteen locals (n a multiple
 * of 4). It stands apart from the engine's kernels on purpose, so that a faster kernel never
 * moves the yardstick it is compared with.
 *
 * As a worker thread (workerData: { n, seconds }) it posts its GFLOP/s and exits.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

function product(A: Float32Array, B: Float32Array, C: Float32Array, n: number): void {
  for (let i = 0; i < n; i += 4) {
    const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
    for (let j = 0; j < n; j += 4) {
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0;
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0;
      for (let k = 0, b = j; k < n; k++, b += n) {
        const a0 = A[r0 + k]!, a1 = A[r1 + k]!, a2 = A[r2 + k]!, a3 = A[r3 + k]!;
        const b0 = B[b]!, b1 = B[b + 1]!, b2 = B[b + 2]!, b3 = B[b + 3]!;
        s00 += a0 * b0; s01 += a0 * b1; s02 += a0 * b2; s03 += a0 * b3;
        s10 += a1 * b0; s11 += a1 * b1; s12 += a1 * b2; s13 += a1 * b3;
        s20 += a2 * b0; s21 += a2 * b1; s22 += a2 * b2; s23 += a2 * b3;
        s30 += a3 * b0; s31 += a3 * b1; s32 += a3 * b2; s33 += a3 * b3;
      }
      C[r0 + j] += s00; C[r0 + j + 1] += s01; C[r0 + j + 2] += s02; C[r0 + j + 3] += s03;
      C[r1 + j] += s10; C[r1 + j + 1] += s11; C[r1 + j + 2] += s12; C[r1 + j + 3] += s13;
      C[r2 + j] += s20; C[r2 + j + 1] += s21; C[r2 + j + 2] += s22; C[r2 + j + 3] += s23;
      C[r3 + j] += s30; C[r3 + j + 1] += s31; C[r3 + j + 2] += s32; C[r3 + j + 3] += s33;
    }
  }
}

/** GFLOP/s (2n³ per product) over `seconds` of repeated products, after three to settle the JIT. */
function yardstickGflops(n: number, seconds: number): number {
  const A = new Float32Array(n * n), B = new Float32Array(n * n), C = new Float32Array(n * n);
  for (let i = 0; i < A.length; i++) { A[i] = Math.sin(i) / 2; B[i] = Math.cos(i) / 2; }
  for (let i = 0; i < 3; i++) product(A, B, C, n);
  let products = 0;
  const start = performance.now();
  let now = start;
  while (now - start < seconds * 1000) { product(A, B, C, n); products++; now = performance.now(); }
  return (2 * n ** 3 * products) / ((now - start) / 1000) / 1e9;
}

if (!isMainThread && parentPort) {
  const { n, seconds } = workerData as { n: number; seconds: number };
  parentPort.postMessage(yardstickGflops(n, seconds));
}
