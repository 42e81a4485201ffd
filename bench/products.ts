import { Arena } from '../src/engine/kernels/arena.js';
import { createKernels } from '../src/engine/kernels/index.js';
import type { Kernels, KernelsKind } from '../src/engine/kernels/kernels.js';

/**
 * The matrix products of one training step of LSTM 2×128 (E = 64, B = T = 50, so 2,500 rows
 * and 4·128 = 512 gate rows), as the engine calls them.
 */
const SHAPES: { name: string; product: 'matmulNT' | 'matmulNN' | 'matmulTN'; M: number; N: number; K: number }[] = [
  { name: 'input projection x·Wᵀ 2500×512×64', product: 'matmulNT', M: 2500, N: 512, K: 64 },
  { name: 'recurrent h·Wᵀ 50×512×128', product: 'matmulNT', M: 50, N: 512, K: 128 },
  { name: 'gradient to x dG·W 2500×64×512', product: 'matmulNN', M: 2500, N: 64, K: 512 },
  { name: 'gradient to h dG·W 50×128×512', product: 'matmulNN', M: 50, N: 128, K: 512 },
  { name: 'weight gradient dGᵀ·x 512×64×2500', product: 'matmulTN', M: 512, N: 64, K: 2500 },
  { name: 'weight gradient dGᵀ·h 512×128×2500', product: 'matmulTN', M: 512, N: 128, K: 2500 },
  { name: 'sampling W·h (batch 1) 1×512×128', product: 'matmulNT', M: 1, N: 512, K: 128 },
];

/** GFLOP/s (2 per multiply-add) of each product for each implementation, the best of three windows. */
export function productSpeeds(kinds: KernelsKind[], seconds: number): { kernels: KernelsKind; name: string; gflops: number }[] {
  const rows: { kernels: KernelsKind; name: string; gflops: number }[] = [];
  const window = Math.max(0.05, seconds / 40);
  for (const shape of SHAPES) {
    for (const kind of kinds) {
      const kernels = createKernels(kind, new Arena());
      const { M, N, K } = shape;
      const [A, B, C] = [kernels.arena.floats(M * K), kernels.arena.floats(N * K), kernels.arena.floats(M * N)];
      for (let i = 0; i < A.length; i++) A[i] = Math.sin(i);
      for (let i = 0; i < B.length; i++) B[i] = Math.cos(i);
      const run = (k: Kernels) => k[shape.product](A, 0, B, 0, C, 0, M, N, K);
      let best = 0;
      for (let round = 0; round < 3; round++) {
        let calls = 0;
        const t0 = performance.now();
        let t = t0;
        while (calls === 0 || t - t0 < window * 1000) { run(kernels); calls++; t = performance.now(); }
        best = Math.max(best, (2 * M * N * K * calls) / ((t - t0) / 1000) / 1e9);
      }
      rows.push({ kernels: kind, name: shape.name, gflops: best });
    }
  }
  return rows;
}
