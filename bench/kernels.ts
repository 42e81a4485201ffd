/**
 * The speed of each implementation of the kernels (plain TypeScript, WebAssembly SIMD and
 * relaxed SIMD) at the shapes training and sampling an LSTM 2×128 with B = T = 50 run: GFLOP/s
 * of the matrix products (2·M·N·K per call), elements per nanosecond of the activations. One
 * thread; each figure is the best of many short timed rounds. `npm run bench` prints them first.
 */
import { Arena } from '../src/engine/kernels/arena.js';
import { createKernels } from '../src/engine/kernels/index.js';
import type { KernelsKind } from '../src/engine/kernels/kinds.js';

type Product = 'matmulNT' | 'matmulNN' | 'matmulTN' | 'matmulPacked' | 'matvecPacked';
/** A product at one shape; `layout` is the packed weight's, as packWeights takes it (NT where not given). */
interface Case { what: string; product: Product; M: number; N: number; K: number; layout?: 'NT' | 'NN' }

const PRODUCTS: Case[] = [
  { what: 'input projection x·Wᵀ', product: 'matmulNT', M: 2500, N: 512, K: 64 },
  { what: 'recurrent h·Uᵀ', product: 'matmulNT', M: 50, N: 512, K: 128 },
  // U packed once a window, as training runs it; 25 rows: a worker's share of B = 50 on two
  { what: 'recurrent, U packed', product: 'matmulPacked', M: 25, N: 512, K: 128 },
  // 2 rows: a worker's share of B = 32 on sixteen
  { what: 'recurrent, 2 rows', product: 'matmulPacked', M: 2, N: 512, K: 128 },
  { what: 'dGates·W (to input)', product: 'matmulNN', M: 2500, N: 64, K: 512 },
  // U packed once a window for the backward as well, the same 25 rows
  { what: 'dGates·U (to state)', product: 'matmulPacked', M: 25, N: 128, K: 512, layout: 'NN' },
  { what: 'dW = dGatesᵀ·x', product: 'matmulTN', M: 512, N: 64, K: 2500 },
  { what: 'dU = dGatesᵀ·h', product: 'matmulTN', M: 512, N: 128, K: 2500 },
  { what: 'h·Uᵀ with M = 1', product: 'matmulNT', M: 1, N: 512, K: 128 },
  // U packed for a batch of one when generation starts, as sampling runs it
  { what: 'sampling, U packed', product: 'matvecPacked', M: 1, N: 512, K: 128 },
];
const ACTIVATION_LENGTH = 50 * 512;

const arena = new Arena();

function random(n: number): Float32Array {
  const x = arena.floats(n);
  for (let i = 0; i < n; i++) x[i] = Math.random() * 2 - 1;
  return x;
}

/** Seconds a timed round lasts, at least: short, so that some rounds run while no other process does. */
const ROUND_SECONDS = 0.01;
/** Seconds of calls before any is timed: long enough for V8 to tier the code up to its optimizing compiler. */
const WARM_UP_SECONDS = 0.1;
/** Timed rounds, at the least, whatever the time given. */
const MIN_ROUNDS = 10;

/**
 * The fastest seconds per call of `run` over the rounds that fit in `seconds` (MIN_ROUNDS at
 * least), after a warm-up. The best round, because this machine is shared: slower rounds
 * measure the other processes.
 */
function secondsPerCall(run: () => void, seconds: number): number {
  const elapsed = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
  let calls = 0;
  for (const start = process.hrtime.bigint(); calls < 3 || elapsed(start) < WARM_UP_SECONDS; calls++) run();
  calls = 1;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) run();
    if (elapsed(start) >= ROUND_SECONDS) break;
    calls *= 2;
  }
  let best = Infinity;
  for (let round = 0, start = process.hrtime.bigint(); round < MIN_ROUNDS || elapsed(start) < seconds; round++) {
    const roundStart = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) run();
    best = Math.min(best, elapsed(roundStart) / calls);
  }
  return best;
}

/** One measured kernel: what it computes, at which shape, and its speed per implementation. */
export interface KernelSpeed { what: string; shape: string; unit: string; figures: Partial<Record<KernelsKind, number>> }

/** The speed of every product and activation above, on each implementation in `kinds`. */
export function kernelSpeeds(kinds: KernelsKind[], seconds: number): KernelSpeed[] {
  const implementations = kinds.map((kind) => createKernels(kind, arena));
  const rows: KernelSpeed[] = [];
  for (const c of PRODUCTS) {
    const { product, M, N, K, layout = 'NT' } = c;
    const A = random(M * K), B = random(K * N), C = random(M * N);
    const figures: KernelSpeed['figures'] = {};
    for (const kernels of implementations) {
      let operand = B, run = () => kernels[product as Exclude<Product, 'matvecPacked'>](A, 0, operand, 0, C, 0, M, N, K);
      if (product === 'matmulPacked') {
        operand = arena.floats(kernels.packedFloats(N, K));
        kernels.packWeights(layout, B, 0, operand, 0, N, K);
      } else if (product === 'matvecPacked') {
        operand = arena.floats(kernels.matvecFloats(N, K));
        kernels.packMatvec(B, 0, operand, 0, N, K);
        run = () => kernels.matvecPacked(A, 0, operand, 0, C, 0, N, K, 0, N);
      }
      const s = secondsPerCall(run, seconds);
      figures[kernels.kind] = (2 * M * N * K) / s / 1e9;
    }
    rows.push({ what: c.what, shape: `${product.endsWith('Packed') ? layout : product.slice(6)} ${M}×${N}×${K}`, unit: 'GFLOP/s', figures });
  }
  for (const activation of ['sigmoid', 'tanh'] as const) {
    const X = random(ACTIVATION_LENGTH);
    const figures: KernelSpeed['figures'] = {};
    for (const kernels of implementations) {
      // σ and tanh map [−1, 1] into itself: repeated calls stay in range
      const s = secondsPerCall(() => kernels[activation](X, 0, ACTIVATION_LENGTH), seconds);
      figures[kernels.kind] = ACTIVATION_LENGTH / s / 1e9;
    }
    rows.push({ what: activation, shape: `n = ${ACTIVATION_LENGTH}`, unit: 'elements/ns', figures });
  }
  return rows;
}
