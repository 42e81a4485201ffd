import { Worker } from 'node:worker_threads';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { Arena } from '../src/engine/kernels/arena.js';
import { availableKernels, createKernels } from '../src/engine/kernels/index.js';
import type { Kernels } from '../src/engine/kernels/kernels.js';
import { referenceKernels } from '../src/engine/kernels/reference.js';
import { relaxedSimdSupported, wasmSimdSupported } from '../src/engine/kernels/wasm.js';
import { Rng } from '../src/engine/random.js';

/**
 * Every implementation of the kernels against the naive reference, on awkward shapes: sizes
 * that fill no SIMD vector or register tile, non-zero element offsets into larger arrays, and
 * products that accumulate into a C that is not zero.
 *
 * Tolerances: a product's element may differ from the reference by 1e-5 of the magnitude of
 * the terms it sums, |got − want| ≤ 1e-5 · max(1, |C₀| + Σ_k |a_k·b_k|) (float32 sums in
 * another order cancel differently); every other kernel by 1e-5 · max(1, |want|).
 */
const arena = new Arena();
const reference = referenceKernels(arena);

const SIZES = [1, 3, 5, 17, 130];
const GUARD = 7;
const rng = new Rng(12345);

/** n floats uniform in [−1, 1) after `offset` leading and GUARD trailing ones, from the arena. */
function randomTensor(offset: number, n: number): Float32Array {
  const x = arena.floats(offset + n + GUARD);
  for (let i = 0; i < x.length; i++) x[i] = 2 * rng.uniform() - 1;
  return x;
}

function copyOf(x: Float32Array): Float32Array {
  const y = arena.floats(x.length);
  y.set(x);
  return y;
}

function absolute(x: Float32Array): Float32Array {
  const y = copyOf(x);
  for (let i = 0; i < y.length; i++) y[i] = Math.abs(y[i]!);
  return y;
}

/** The index and size of the worst violation of |got − want| ≤ tol · max(1, scale), or undefined. */
function worst(got: Float32Array, want: Float32Array, scale: ArrayLike<number>, tol = 1e-5): string | undefined {
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue; // equal infinities too
    const bound = tol * Math.max(1, Math.abs(scale[i]!));
    const diff = Math.abs(got[i]! - want[i]!);
    if (!(diff <= bound) && !(Number.isNaN(got[i]!) && Number.isNaN(want[i]!))) return `[${i}] got ${got[i]} want ${want[i]} (|Δ| ${diff} > ${bound})`;
  }
  return undefined;
}

/** got is want when want is NaN or ±∞, and within 1e-5 of it (relative, from 1) when finite. */
function expectSame(got: number, want: number, what: string): void {
  if (Number.isFinite(want)) expect(Math.abs(got - want), `${what}: got ${got}, want ${want}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want)));
  else expect(got, what).toBe(want);
}

type Product = 'matmulNT' | 'matmulNN' | 'matmulTN';
const PRODUCTS: Product[] = ['matmulNT', 'matmulNN', 'matmulTN'];

/** [M, N, K]: every combination of SIZES, and shapes that cross the wasm kernel's blocks of K and of B's columns. */
const SHAPES: [number, number, number][] = [
  ...SIZES.flatMap((M) => SIZES.flatMap((N) => SIZES.map((K): [number, number, number] => [M, N, K]))),
  [7, 300, 600], [9, 520, 257], [1, 517, 131], [1, 512, 128], [6, 2049, 33],
];

describe.each(availableKernels())('%s kernels', (kind) => {
  let kernels: Kernels;
  beforeAll(() => {
    kernels = createKernels(kind, arena);
  });

  it.each(PRODUCTS)('%s matches the reference on awkward shapes', (product) => {
    let checked = 0;
    for (const [M, N, K] of SHAPES) {
      const aOff = 1 + (checked % 3), bOff = 2 + (checked % 5), cOff = 3 + (checked % 4);
      checked++;
      const A = randomTensor(aOff, M * K), B = randomTensor(bOff, K * N), C = randomTensor(cOff, M * N);
      const want = copyOf(C), magnitude = absolute(C);
      reference[product](A, aOff, B, bOff, want, cOff, M, N, K);
      reference[product](absolute(A), aOff, absolute(B), bOff, magnitude, cOff, M, N, K);
      kernels[product](A, aOff, B, bOff, C, cOff, M, N, K);
      // the guards before and after C are compared too (magnitude 1 there)
      const failure = worst(C, want, magnitude);
      expect(failure, `${product} M=${M} N=${N} K=${K}`).toBeUndefined();
    }
  });

  it('matmulNT gives a row the same bits whether it runs alone, among the last rows, or in a whole tile', () => {
    // K past a block, N past a group of three panels and a panel's width
    for (const [N, K] of [[37, 19], [130, 300], [520, 257]]) {
      const M = 11, A = randomTensor(1, M * K), B = randomTensor(2, N * K);
      const together = arena.floats(M * N);
      kernels.matmulNT(A, 0, B, 0, together, 0, M, N, K);
      for (const [i0, rows] of [[0, 1], [3, 1], [8, 3], [9, 2], [4, 5], [2, 9]]) {
        const part = arena.floats(rows * N);
        kernels.matmulNT(A, i0 * K, B, 0, part, 0, rows, N, K);
        expect(Array.from(part), `N=${N} K=${K} rows [${i0}, ${i0 + rows})`).toEqual(Array.from(together.subarray(i0 * N, (i0 + rows) * N)));
      }
    }
  });

  it('matmulPacked gives matmulNT\'s bits (any M) and matmulNN\'s (M > 1) over the weights packWeights packed', () => {
    for (const [M, N, K] of [[2, 3, 5], [7, 300, 600], [9, 520, 257], [6, 2049, 33], [1, 517, 131], [50, 576, 192], [25, 192, 576]]) {
      for (const layout of ['NT', 'NN'] as const) {
        if (layout === 'NN' && M === 1) continue;
        const A = randomTensor(1, M * K), B = randomTensor(2, K * N), C = randomTensor(3, M * N);
        const packed = arena.floats(kernels.packedFloats(N, K) + 5);
        kernels.packWeights(layout, B, 2, packed, 5, N, K);
        const want = copyOf(C);
        kernels[layout === 'NT' ? 'matmulNT' : 'matmulNN'](A, 1, B, 2, want, 3, M, N, K);
        kernels.matmulPacked(A, 1, packed, 5, C, 3, M, N, K);
        expect(Array.from(C), `${layout} M=${M} N=${N} K=${K}`).toEqual(Array.from(want));
      }
    }
  });

  it('matvecPacked matches the reference on any range of rows of the weights packMatvec packed, with matmulNT\'s bits where neither fuses', () => {
    // [N, K, j0, j1]: whole products, ranges that start and end inside a panel, a range inside one panel, K past a block
    const cases: [number, number, number, number][] = [
      [1, 1, 0, 1], [3, 5, 0, 3], [5, 17, 1, 4], [17, 3, 0, 17], [23, 130, 0, 23], [25, 7, 0, 25], [67, 192, 0, 67],
      [67, 192, 5, 61], [130, 17, 30, 31], [576, 192, 0, 576], [576, 192, 197, 293], [300, 600, 13, 290], [517, 257, 24, 48],
    ];
    for (const [N, K, j0, j1] of cases) {
      const what = `N=${N} K=${K} rows [${j0}, ${j1})`;
      const x = randomTensor(1, K), B = randomTensor(2, N * K), y = randomTensor(3, N);
      const packed = arena.floats(kernels.matvecFloats(N, K) + 5);
      kernels.packMatvec(B, 2, packed, 5, N, K);
      const want = copyOf(y), magnitude = absolute(y), bits = copyOf(y);
      reference.matmulNT(x, 1, B, 2 + j0 * K, want, 3 + j0, 1, j1 - j0, K);
      reference.matmulNT(absolute(x), 1, absolute(B), 2 + j0 * K, magnitude, 3 + j0, 1, j1 - j0, K);
      kernels.matmulNT(x, 1, B, 2 + j0 * K, bits, 3 + j0, 1, j1 - j0, K);
      kernels.matvecPacked(x, 1, packed, 5, y, 3, N, K, j0, j1);
      // the rows outside the range, and the guards, are compared too
      expect(worst(y, want, magnitude), what).toBeUndefined();
      // the relaxed kernels fuse matmulNT's multiply-adds and matvecPacked's in sums of their own (docs/kernels.md)
      if (kernels.kind !== 'relaxed') expect(Array.from(y), what).toEqual(Array.from(bits));
    }
  });

  it('broadcastRows and addColumnSums match the reference', () => {
    for (const M of SIZES) {
      for (const N of SIZES) {
        const xOff = 1 + (M % 4), bOff = 2 + (N % 3);
        const bias = randomTensor(bOff, N), X = randomTensor(xOff, M * N), want = copyOf(X);
        reference.broadcastRows(want, xOff, bias, bOff, M, N);
        kernels.broadcastRows(X, xOff, bias, bOff, M, N);
        expect(worst(X, want, want), `broadcastRows M=${M} N=${N}`).toBeUndefined();

        const dY = randomTensor(xOff, M * N), db = randomTensor(bOff, N), wantDb = copyOf(db);
        reference.addColumnSums(dY, xOff, wantDb, bOff, M, N);
        kernels.addColumnSums(dY, xOff, db, bOff, M, N);
        expect(worst(db, wantDb, wantDb), `addColumnSums M=${M} N=${N}`).toBeUndefined();
      }
    }
  });

  it('gatherRows and scatterAddRows match the reference, tokens repeated and in any order', () => {
    for (const V of [1, 3, 17]) {
      for (const M of SIZES) {
        for (const N of SIZES) {
          const idsOff = 1 + (M % 3), tOff = 2 + (N % 4), xOff = 3 + (M % 2);
          const ids = arena.ints(idsOff + M + GUARD);
          for (let i = 0; i < M; i++) ids[idsOff + i] = rng.nextUint32() % V;
          const table = randomTensor(tOff, V * N), X = randomTensor(xOff, M * N), want = copyOf(X);
          reference.gatherRows(table, tOff, ids, idsOff, want, xOff, M, N);
          kernels.gatherRows(table, tOff, ids, idsOff, X, xOff, M, N);
          expect(Array.from(X), `gatherRows V=${V} M=${M} N=${N}`).toEqual(Array.from(want));

          const dY = randomTensor(xOff, M * N), S = randomTensor(tOff, V * N), wantS = copyOf(S);
          reference.scatterAddRows(dY, xOff, ids, idsOff, wantS, tOff, M, N);
          kernels.scatterAddRows(dY, xOff, ids, idsOff, S, tOff, M, N);
          expect(worst(S, wantS, wantS), `scatterAddRows V=${V} M=${M} N=${N}`).toBeUndefined();
        }
      }
    }
  });

  /** A gated cell's step, forward on a range of units and backward, on rows of odd sizes. */
  it.each([['gru', 3], ['lstm', 4]] as const)('%s forward and backward through the gates match the reference', (cell, gateCount) => {
    for (const [B, H, j0, j1] of [[1, 1, 0, 1], [3, 5, 0, 5], [2, 17, 3, 14], [4, 130, 0, 130], [1, 130, 64, 129]] as const) {
      const G = gateCount * H, what = `${cell} B=${B} H=${H} units [${j0}, ${j1})`;
      const gates = randomTensor(1, B * G), hidden = randomTensor(2, B * G);
      const state = randomTensor(3, 2 * B * H), other = randomTensor(4, B * H);
      for (let i = 0; i < gates.length; i++) gates[i] = 6 * gates[i]!;
      const wantGates = copyOf(gates), wantState = copyOf(state), wantOther = copyOf(other), wantHidden = copyOf(hidden);
      if (cell === 'gru') {
        reference.gruForward(wantGates, 1, wantHidden, 2, wantOther, 4, wantState, 3, 3 + B * H, B, H, j0, j1);
        kernels.gruForward(gates, 1, hidden, 2, other, 4, state, 3, 3 + B * H, B, H, j0, j1);
      } else {
        reference.lstmForward(wantGates, 1, wantState, 3, 3 + B * H, wantOther, 4, wantHidden, 2, B, H, j0, j1);
        kernels.lstmForward(gates, 1, state, 3, 3 + B * H, other, 4, hidden, 2, B, H, j0, j1);
      }
      const outputs = [
        [gates, wantGates, 'gates'], [state, wantState, 'state'], [other, wantOther, 'kept'], [hidden, wantHidden, 'h'],
      ] as const;
      for (const [got, want, name] of outputs) {
        expect(worst(got, want, want), `${what} forward: ${name}`).toBeUndefined();
      }

      const dOut = randomTensor(5, B * H), dh = randomTensor(0, B * H), dc = randomTensor(0, B * H);
      const dGates = randomTensor(6, B * G), dHidden = randomTensor(6, B * G);
      const want = [dh, dc, dGates, dHidden].map(copyOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
      if (cell === 'gru') {
        reference.gruBackward(wantGates, 1, wantState, 3, wantOther, 4, dOut, 5, want[0], want[2], want[3], 6, B, H);
        kernels.gruBackward(wantGates, 1, wantState, 3, wantOther, 4, dOut, 5, dh, dGates, dHidden, 6, B, H);
      } else {
        reference.lstmBackward(wantGates, 1, wantState, 3, wantOther, 4, dOut, 5, want[0], want[1], want[2], 6, B, H);
        kernels.lstmBackward(wantGates, 1, wantState, 3, wantOther, 4, dOut, 5, dh, dc, dGates, 6, B, H);
      }
      for (const [got, i, name] of [[dh, 0, 'dh'], [dc, 1, 'dc'], [dGates, 2, 'dGates'], [dHidden, 3, 'dHidden']] as const) {
        expect(worst(got, want[i], want[i]), `${what} backward: ${name}`).toBeUndefined();
      }
    }
  });

  /**
   * The update itself, not the parameter it moves: from θ = 0 the new θ is −Δθ, so Δθ is held
   * to the reference's within 1e-6 of its size, a few float32 roundings of its five operations
   * (1 − β₂ formed from float32 β₂ is 1.3e-5 off, and its update 6.7e-6). At step 1 from zero
   * moments, Adam moves each parameter by lr · sign(g).
   */
  it('adam\'s update matches the reference to float32 rounding of the update', () => {
    const n = 37, lr = 0.002;
    for (const step of [1, 2, 1000]) {
      const params = arena.floats(n), grads = randomTensor(0, n), m = arena.floats(n), v = arena.floats(n);
      for (let i = 0; i < n; i++) grads[i] = 1 + grads[i]!; // away from 0, where ε would decide the update
      if (step > 1) for (let i = 0; i < n; i++) { m[i] = 0.3 * grads[i]!; v[i] = 0.7 * grads[i]! ** 2; }
      const want = [params, grads, m, v].map(copyOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
      const stepSize = lr / (1 - 0.9 ** step), sqrtCorrection2 = Math.sqrt(1 - 0.999 ** step);
      reference.adam(...want, 0, n, stepSize, 0.9, 0.999, sqrtCorrection2, 1e-8);
      kernels.adam(params, grads, m, v, 0, n, stepSize, 0.9, 0.999, sqrtCorrection2, 1e-8);
      if (step === 1) for (let i = 0; i < n; i++) expect(Math.abs(want[0][i]! + lr * Math.sign(grads[i]!))).toBeLessThanOrEqual(1e-6 * lr);
      expect(worst(params, want[0], want[0], 1e-6 * lr), `adam Δθ at step ${step}`).toBeUndefined();
    }
  });

  it('adam forms (1 − β₂)·g·g, as torch\'s addcmul, so v stays finite where g² overflows float32 and (1 − β₂)·g² does not', () => {
    const n = 9, params = arena.floats(n), grads = arena.floats(n), m = arena.floats(n), v = arena.floats(n);
    for (let i = 0; i < n; i++) grads[i] = (i % 2 === 0 ? 1 : -1) * 3e19 * (1 + i); // g² > 3.4e38, in every lane and the tail
    const want = [params, grads, m, v].map(copyOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
    reference.adam(...want, 0, n, 0.002 / 0.1, 0.9, 0.999, Math.sqrt(0.001), 1e-8);
    kernels.adam(params, grads, m, v, 0, n, 0.002 / 0.1, 0.9, 0.999, Math.sqrt(0.001), 1e-8);
    expect(worst(v, want[3], want[3]), 'v').toBeUndefined();
    expect(worst(params, want[0], want[0], 1e-6 * 0.002), 'θ').toBeUndefined();
  });

  const LENGTHS = [1, 3, 5, 17, 130, 1031];

  it('the element-wise kernels match the reference', () => {
    for (const n of LENGTHS) {
      const off = 1 + (n % 5);
      for (const activation of ['sigmoid', 'tanh'] as const) {
        const X = randomTensor(off, n);
        for (let i = 0; i < X.length; i++) X[i] = 12 * X[i]!;
        const want = copyOf(X);
        reference[activation](want, off, n);
        kernels[activation](X, off, n);
        expect(worst(X, want, want), `${activation} n=${n}`).toBeUndefined();
      }

      const Z = randomTensor(off, n);
      for (let i = 0; i < Z.length; i++) Z[i] = 30 * Z[i]! + 60; // logits far from 0: the shift by the largest matters
      const lse = kernels.logSumExp(Z, off, n), wantLse = reference.logSumExp(Z, off, n);
      expect(Math.abs(lse - wantLse), `logSumExp n=${n}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(wantLse)));
      const P = randomTensor(off + 1, n), wantP = copyOf(P);
      reference.softmax(Z, off, wantP, off + 1, n, 0.25);
      const softmaxLse = kernels.softmax(Z, off, P, off + 1, n, 0.25);
      expect(worst(P, wantP, wantP), `softmax n=${n}`).toBeUndefined();
      expect(Math.abs(softmaxLse - wantLse), `softmax's logSumExp n=${n}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(wantLse)));

      const dst = randomTensor(off, n), src = randomTensor(off + 2, n), wantDst = copyOf(dst);
      reference.addInto(wantDst, off, src, off + 2, n);
      kernels.addInto(dst, off, src, off + 2, n);
      expect(worst(dst, wantDst, wantDst), `addInto n=${n}`).toBeUndefined();

      const S = randomTensor(off, n);
      const wantSum = reference.sumOfSquares(S, off, n);
      expect(Math.abs(kernels.sumOfSquares(S, off, n) - wantSum), `sumOfSquares n=${n}`).toBeLessThanOrEqual(1e-12 * Math.max(1, wantSum));

      const Y = randomTensor(off, n), wantY = copyOf(Y);
      reference.scale(wantY, off, n, -1.75);
      kernels.scale(Y, off, n, -1.75);
      expect(worst(Y, wantY, wantY), `scale n=${n}`).toBeUndefined();

      reference.clamp(wantY, off, n, 0.5);
      kernels.clamp(Y, off, n, 0.5);
      expect(worst(Y, wantY, wantY), `clamp n=${n}`).toBeUndefined();

      const params = randomTensor(off, n), grads = randomTensor(off, n), m = randomTensor(off, n), v = absolute(randomTensor(off, n));
      const want = [params, grads, m, v].map(copyOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
      reference.adam(...want, off, n, 0.002 / (1 - 0.9 ** 3), 0.9, 0.999, Math.sqrt(1 - 0.999 ** 3), 1e-8);
      kernels.adam(params, grads, m, v, off, n, 0.002 / (1 - 0.9 ** 3), 0.9, 0.999, Math.sqrt(1 - 0.999 ** 3), 1e-8);
      expect(worst(params, want[0], want[0]), `adam θ n=${n}`).toBeUndefined();
      expect(worst(m, want[2], want[2]), `adam m n=${n}`).toBeUndefined();
      expect(worst(v, want[3], want[3]), `adam v n=${n}`).toBeUndefined();

      reference.sgd(want[0], grads, off, n, 0.1);
      kernels.sgd(params, grads, off, n, 0.1);
      expect(worst(params, want[0], want[0]), `sgd n=${n}`).toBeUndefined();
    }
  });

  /**
   * The rule for NaN and ±∞ (docs/kernels.md): each row of logits below, at the start of a
   * vector, in its tail and alone, gives the reference's result exactly (NaN where it is NaN).
   */
  it('treats NaN and ±∞ as the reference does (the rule in docs/kernels.md)', () => {
    const rows: number[][] = [
      [-Infinity, -Infinity], [Infinity, 0, 1], [Infinity, Infinity], [NaN, 0], [NaN, Infinity], [Infinity, -Infinity],
      [-Infinity, 0, 1], [1, 2, -Infinity, 3, 4, 5, 6, -Infinity, 7], [0, 1, 2, 3, 4, 5, 6, 7, Infinity],
      [0, 1, 2, 3, 4, 5, 6, NaN, -Infinity],
      [-Infinity], [NaN], [Infinity], [],
    ];
    for (const row of rows) {
      const n = row.length, X = arena.floats(n + 2);
      X.set(row, 1);
      const want = reference.logSumExp(X, 1, n);
      expectSame(kernels.logSumExp(X, 1, n), want, `logSumExp [${row}]`);
      const Y = arena.floats(n + 2), wantY = arena.floats(n + 2);
      const wantLse = reference.softmax(X, 1, wantY, 1, n, 0.5);
      expectSame(kernels.softmax(X, 1, Y, 1, n, 0.5), wantLse, `softmax's logSumExp [${row}]`);
      expect(worst(Y, wantY, wantY), `softmax [${row}]`).toBeUndefined();
      for (let i = 1; i <= n; i++) {
        if (row[i - 1] === -Infinity && Number.isFinite(want)) expect(Y[i], `softmax [${row}] at ${i - 1}`).toBe(0);
      }
    }
    expect([[-Infinity, -Infinity], [Infinity, 0], [NaN, 0], []].map((row) => reference.logSumExp(Float32Array.from(row), 0, row.length)))
      .toEqual([-Infinity, Infinity, NaN, -Infinity]);

    // the arithmetic kernels: float arithmetic's NaN and ∞, the same in every implementation
    const special = [NaN, Infinity, -Infinity];
    const withSpecials = (x: Float32Array, off: number, n: number) => special.forEach((v, i) => { x[off + ((i * 7) % n)] = v; });
    for (const product of PRODUCTS) {
      const [M, N, K] = [9, 13, 11];
      const A = randomTensor(1, M * K), B = randomTensor(2, K * N), C = randomTensor(3, M * N);
      withSpecials(A, 1, M * K);
      const want = copyOf(C), magnitude = absolute(C);
      reference[product](A, 1, B, 2, want, 3, M, N, K);
      reference[product](absolute(A), 1, absolute(B), 2, magnitude, 3, M, N, K);
      kernels[product](A, 1, B, 2, C, 3, M, N, K);
      expect(worst(C, want, magnitude), product).toBeUndefined();
    }
    {
      const [V, M, N] = [4, 9, 13], ids = arena.ints(M);
      for (let i = 0; i < M; i++) ids[i] = (i * 3) % V;
      const table = randomTensor(0, V * N), dY = randomTensor(0, M * N);
      withSpecials(table, 0, V * N);
      withSpecials(dY, 0, M * N);
      const X = randomTensor(0, M * N), wantX = copyOf(X), S = randomTensor(0, V * N), wantS = copyOf(S);
      reference.gatherRows(table, 0, ids, 0, wantX, 0, M, N);
      kernels.gatherRows(table, 0, ids, 0, X, 0, M, N);
      reference.scatterAddRows(dY, 0, ids, 0, wantS, 0, M, N);
      kernels.scatterAddRows(dY, 0, ids, 0, S, 0, M, N);
      expect(worst(X, wantX, wantX), 'gatherRows').toBeUndefined();
      expect(worst(S, wantS, wantS), 'scatterAddRows').toBeUndefined();
    }
    const n = 37;
    for (const activation of ['sigmoid', 'tanh', 'scale', 'clamp'] as const) {
      const X = randomTensor(1, n);
      withSpecials(X, 1, n);
      const want = copyOf(X);
      if (activation === 'scale' || activation === 'clamp') {
        reference[activation](want, 1, n, 0.5);
        kernels[activation](X, 1, n, 0.5);
      } else {
        reference[activation](want, 1, n);
        kernels[activation](X, 1, n);
      }
      expect(worst(X, want, want), activation).toBeUndefined();
    }
    for (const value of special) {
      const S = randomTensor(1, n);
      S[5] = value;
      expectSame(kernels.sumOfSquares(S, 1, n), reference.sumOfSquares(S, 1, n), `sumOfSquares with ${value}`);
      const dst = randomTensor(1, n), src = randomTensor(1, n), wantDst = copyOf(dst);
      src[9] = value;
      reference.addInto(wantDst, 1, src, 1, n);
      kernels.addInto(dst, 1, src, 1, n);
      expect(worst(dst, wantDst, wantDst), `addInto with ${value}`).toBeUndefined();
      const params = randomTensor(1, n), grads = randomTensor(1, n), m = randomTensor(1, n), v = absolute(randomTensor(1, n));
      grads[3] = value;
      const wantAdam = [params, grads, m, v].map(copyOf) as [Float32Array, Float32Array, Float32Array, Float32Array];
      reference.adam(...wantAdam, 1, n, 0.002, 0.9, 0.999, 0.5, 1e-8);
      kernels.adam(params, grads, m, v, 1, n, 0.002, 0.9, 0.999, 0.5, 1e-8);
      expect(worst(params, wantAdam[0], wantAdam[0]), `adam θ with ${value}`).toBeUndefined();
      expect(Number.isNaN(params[3]), `adam θ with ${value}`).toBe(true);
    }
  });

  it.each(['sigmoid', 'tanh'] as const)('%s is within a few float32 ulps over [−20, 20] and saturates without NaN', (activation) => {
    const exact = activation === 'sigmoid' ? (x: number) => 1 / (1 + Math.exp(-x)) : Math.tanh;
    const inputs: number[] = [];
    for (let x = -20; x <= 20; x += 1 / 4096) inputs.push(x);
    // tanh near 0, where e^2x − 1 cancels, and the tails
    for (let e = -149; e <= 7; e++) for (const mantissa of [1, 1.2345, 1.5, 1.999]) inputs.push(mantissa * 2 ** e, -mantissa * 2 ** e);
    inputs.push(0, -0, 87.5, -87.5, 88.8, -88.8, 100, -100, 103.9, -103.9, 1e30, -1e30, 3.4e38, -3.4e38);
    const X = arena.floats(inputs.length);
    X.set(inputs);
    const x32 = Float32Array.from(X);
    kernels[activation](X, 0, X.length);
    let maxUlps = 0, at = 0;
    for (let i = 0; i < X.length; i++) {
      const want = exact(x32[i]!);
      const ulps = Math.abs(X[i]! - want) / ulpOf(want);
      if (ulps > maxUlps) [maxUlps, at] = [ulps, x32[i]!];
    }
    expect(maxUlps, `max error ${maxUlps.toFixed(2)} ulp at x = ${at}, over ${X.length} inputs`).toBeLessThanOrEqual(4);

    const special = arena.floats(4);
    special.set([Infinity, -Infinity, 3.4e38, -3.4e38]);
    kernels[activation](special, 0, 4);
    const low = activation === 'sigmoid' ? 0 : -1;
    expect(Array.from(special)).toEqual([1, low, 1, low]);
    const nan = arena.floats(1);
    nan[0] = NaN;
    kernels[activation](nan, 0, 1);
    expect(nan[0]).toBeNaN();
  });
});

/** The spacing of float32s at |y|: 2^(e − 23) for normal y, 2^−149 below. */
function ulpOf(y: number): number {
  const a = Math.abs(y);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

describe('the runtime and the arena', () => {
  it('runs WebAssembly SIMD (Node 20 does): the probe module validates', () => {
    expect(wasmSimdSupported()).toBe(true);
  });

  it('runs WebAssembly relaxed SIMD (Node 22 does, Node 20 once its V8 flag is on): the probe module validates', () => {
    expect(relaxedSimdSupported()).toBe(true);
  });

  it('hands out memory that is usable when the allocation grows it', () => {
    const small = new Arena();
    const x = small.floats(300_000);
    x[x.length - 1] = 1;
    expect(small.memory.buffer.byteLength).toBeGreaterThanOrEqual(small.used);
    expect(x.length).toBe(300_000);
  });
});

const BUILDS = [
  { file: 'simd.wasm', kernels: 'wasmKernels', runsHere: wasmSimdSupported },
  { file: 'simd-relaxed.wasm', kernels: 'relaxedKernels', runsHere: relaxedSimdSupported },
];

describe.each(BUILDS)('the WebAssembly module $file', ({ file, kernels: create, runsHere }) => {
  let bytes: Buffer<ArrayBuffer>;
  let module: WebAssembly.Module;
  beforeAll(() => {
    expect(runsHere()).toBe(true);
    bytes = readFileSync(fileURLToPath(new URL(`../dist/src/engine/kernels/${file}`, import.meta.url)));
    module = new WebAssembly.Module(bytes);
  });

  it('imports one shared memory and exports only functions', () => {
    expect(WebAssembly.Module.imports(module)).toEqual([{ module: 'env', name: 'memory', kind: 'memory' }]);
    expect(WebAssembly.Module.exports(module).every((e) => e.kind === 'function')).toBe(true);
  });

  it('has no data, no globals, no start function, and the memory it imports is shared', () => {
    const sections = new Map<number, Uint8Array>();
    let at = 8;
    const leb = (): number => {
      let value = 0, shift = 0, byte: number;
      do {
        byte = bytes[at++]!;
        value += (byte & 0x7f) * 2 ** shift;
        shift += 7;
      } while (byte & 0x80);
      return value;
    };
    while (at < bytes.length) {
      const id = bytes[at++]!;
      const size = leb();
      if (id !== 0) sections.set(id, bytes.subarray(at, at + size));
      at += size;
    }
    // 6 global, 8 start, 11 data, 12 data count
    for (const id of [6, 8, 11, 12]) expect(sections.has(id), `section ${id}`).toBe(false);
    // the import section: one entry, "env" "memory", kind 2 (memory), limits flag 3 (shared, with a maximum)
    const imports = sections.get(2)!;
    expect(Array.from(imports.subarray(0, 14))).toEqual([1, 3, ...Buffer.from('env'), 6, ...Buffer.from('memory'), 2, 3]);
  });

  it('runs in a worker thread over the same memory, reading and writing the same tensors', async () => {
    const M = 6, N = 37, K = 19;
    const A = randomTensor(0, M * K), B = randomTensor(0, N * K), C = randomTensor(0, M * N);
    const want = copyOf(C);
    reference.matmulNT(A, 0, B, 0, want, 0, M, N, K);
    reference.tanh(want, 0, M * N);
    const dist = (path: string) => new URL(`../dist/src/engine/kernels/${path}`, import.meta.url).href;
    const worker = new Worker(
      `const { parentPort, workerData: w } = require('node:worker_threads');
      (async () => {
        const { Arena } = await import(w.arena);
        const arena = new Arena(w.memory);
        const kernels = (await import(w.wasm))[w.create](arena);
        const view = (byteOffset, n) => arena.view(Float32Array, byteOffset, n);
        const C = view(w.c, w.M * w.N);
        kernels.matmulNT(view(w.a, w.M * w.K), 0, view(w.b, w.N * w.K), 0, C, 0, w.M, w.N, w.K);
        kernels.tanh(C, 0, w.M * w.N);
        parentPort.postMessage('done');
      })().catch((e) => parentPort.postMessage(String(e)));`,
      {
        eval: true,
        workerData: { memory: arena.memory, arena: dist('arena.js'), wasm: dist('wasm.js'), create, a: A.byteOffset, b: B.byteOffset, c: C.byteOffset, M, N, K },
      },
    );
    const message = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(message).toBe('done');
    expect(worst(C, want, want)).toBeUndefined();
  });
});
