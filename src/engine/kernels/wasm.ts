import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import type { Arena } from './arena.js';
import type { Kernels } from './kernels.js';
import { oneFunctionModule, simdOp } from './wasm-bytes.js';

/** The exports of simd.wasm (built from ./simd/index.ts): byte addresses, sizes, scalars. */
interface SimdExports {
  scratchFloats(): number;
  matmulNT(a: number, b: number, c: number, M: number, N: number, K: number, scratch: number): void;
  matmulNN(a: number, b: number, c: number, M: number, N: number, K: number, scratch: number): void;
  matmulTN(a: number, b: number, c: number, M: number, N: number, K: number, scratch: number): void;
  packedFloats(N: number, K: number): number;
  packWeights(kind: number, b: number, packed: number, N: number, K: number): void;
  matmulPacked(a: number, packed: number, c: number, M: number, N: number, K: number, scratch: number): void;
  matvecFloats(N: number, K: number): number;
  packMatvec(b: number, packed: number, N: number, K: number): void;
  matvecPacked(x: number, packed: number, y: number, N: number, K: number, j0: number, j1: number, scratch: number): void;
  broadcastRows(x: number, bias: number, M: number, N: number): void;
  addColumnSums(dy: number, db: number, M: number, N: number): void;
  gatherRows(table: number, ids: number, x: number, M: number, N: number): void;
  scatterAddRows(dy: number, ids: number, s: number, M: number, N: number): void;
  gruForward(
    gates: number, hidden: number, candidate: number, prev: number, next: number, B: number, H: number, j0: number, j1: number,
  ): void;
  gruBackward(
    gates: number, prev: number, candidate: number, dOut: number, dh: number, dGates: number, dHidden: number, B: number, H: number,
  ): void;
  lstmForward(gates: number, prev: number, next: number, tanhC: number, hNext: number, B: number, H: number, j0: number, j1: number): void;
  lstmBackward(
    gates: number, prev: number, tanhC: number, dOut: number, dh: number, dc: number, dGates: number, B: number, H: number,
  ): void;
  sigmoid(x: number, n: number): void;
  tanh(x: number, n: number): void;
  maxOf(x: number, n: number): number;
  sumExpShifted(x: number, n: number, shift: number): number;
  expShiftedInto(x: number, y: number, n: number, shift: number): number;
  addInto(dst: number, src: number, n: number): void;
  sumOfSquares(x: number, n: number): number;
  scale(x: number, n: number, factor: number): void;
  clamp(x: number, n: number, limit: number): void;
  adam(
    params: number, grads: number, m: number, v: number, n: number,
    stepSize: number, beta1: number, beta2: number, sqrtCorrection2: number, eps: number,
  ): void;
  sgd(params: number, grads: number, n: number, lr: number): void;
}

/**
 * A module of one function, () → (), whose body is `code` (it leaves the stack empty): it
 * validates exactly where the runtime runs the instructions in `code`.
 */
function probe(...code: number[]): Uint8Array<ArrayBuffer> {
  return oneFunctionModule({ code });
}

/** i32.const 0, i8x16.splat: a v128 on the stack. */
const ZERO_VECTOR = [0x41, 0x00, ...simdOp(0x0f)];
const DROP = 0x1a;
/** i8x16.splat of zero, dropped: 128-bit SIMD. */
const SIMD_PROBE = probe(...ZERO_VECTOR, DROP);
/** f32x4.relaxed_madd (0x105) of three zero vectors, dropped: relaxed SIMD. */
const RELAXED_PROBE = probe(...ZERO_VECTOR, ...ZERO_VECTOR, ...ZERO_VECTOR, ...simdOp(0x105), DROP);

/** Whether this runtime runs WebAssembly SIMD, which wasmKernels needs. */
export function wasmSimdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(SIMD_PROBE);
}

/**
 * Whether this runtime runs WebAssembly relaxed SIMD, which relaxedKernels needs. V8 runs it
 * from 11.4 (Node 22); Node 20 and 21 have the final instruction set behind V8's
 * --experimental-wasm-relaxed-simd, which this turns on for the process when it is off.
 */
export function relaxedSimdSupported(): boolean {
  if (!wasmSimdSupported()) return false;
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  if (!/^v2[01]\./.test(process.version)) return false;
  setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(RELAXED_PROBE);
}

/**
 * The two builds of ./simd/index.ts: `wasm` adds each product after its multiply, `relaxed`
 * fuses the two in every matrix product (simd/products.ts says how).
 */
const BUILDS = { wasm: 'simd.wasm', relaxed: 'simd-relaxed.wasm' } as const;
type SimdKind = keyof typeof BUILDS;

const compiled: Partial<Record<SimdKind, WebAssembly.Module>> = {};

/** The build's file beside this module in dist/, or in dist/ when the TypeScript sources run (vitest). */
function wasmPath(kind: SimdKind): string {
  const here = new URL(import.meta.url);
  const file = BUILDS[kind];
  const url = here.pathname.endsWith('.ts') ? new URL(`../../../dist/src/engine/kernels/${file}`, here) : new URL(`./${file}`, here);
  return fileURLToPath(url);
}

/** The kernel module of `kind`, compiled once per process (each thread compiles its own). */
function kernelModule(kind: SimdKind): WebAssembly.Module {
  const done = compiled[kind];
  if (done) return done;
  const path = wasmPath(kind);
  if (!existsSync(path)) throw new Error(`the WebAssembly kernels are not built (${path} is missing): run npm run build`);
  if (kind === 'relaxed' && !relaxedSimdSupported()) throw new Error(`this runtime does not run WebAssembly relaxed SIMD (${process.version}): use --kernels wasm`);
  return (compiled[kind] = new WebAssembly.Module(readFileSync(path)));
}

/** The kernels in WebAssembly SIMD (simd.wasm) over `arena`'s memory. */
export function wasmKernels(arena: Arena): Kernels {
  return simdKernels('wasm', arena);
}

/**
 * The kernels in WebAssembly relaxed SIMD (simd-relaxed.wasm) over `arena`'s memory: the same
 * as wasmKernels but for the matrix products, whose multiply-adds are fused (one rounding, not
 * two) where the processor has FMA.
 */
export function relaxedKernels(arena: Arena): Kernels {
  return simdKernels('relaxed', arena);
}

/** packWeights' `kind` for each layout, as simd/products.ts numbers them (KIND_NT, KIND_NN). */
const PACK_LAYOUT = { NT: 0, NN: 1 } as const;

/** The byte address in the arena's memory of element `offset` of `array` (4 bytes an element). */
function address(array: Float32Array | Int32Array, offset: number): number {
  return array.byteOffset + 4 * offset;
}

/**
 * The `kind` build's kernels over `arena`'s memory: each call passes the byte addresses of its
 * tensors (`address`) to an instance of the module that imports that memory. The matrix
 * products share one scratch area, allocated from the arena on the first product; a Kernels
 * object belongs to one thread, as every other one does.
 */
function simdKernels(kind: SimdKind, arena: Arena): Kernels {
  const simd = new WebAssembly.Instance(kernelModule(kind), { env: { memory: arena.memory } }).exports as unknown as SimdExports;
  let scratch = -1;
  const scratchAddress = (): number => {
    if (scratch < 0) scratch = arena.floats(simd.scratchFloats()).byteOffset;
    return scratch;
  };
  return {
    kind,
    arena,
    matmulNT(A, aOff, B, bOff, C, cOff, M, N, K) {
      simd.matmulNT(address(A, aOff), address(B, bOff), address(C, cOff), M, N, K, scratchAddress());
    },
    matmulNN(A, aOff, B, bOff, C, cOff, M, N, K) {
      simd.matmulNN(address(A, aOff), address(B, bOff), address(C, cOff), M, N, K, scratchAddress());
    },
    matmulTN(A, aOff, B, bOff, C, cOff, M, N, K) {
      simd.matmulTN(address(A, aOff), address(B, bOff), address(C, cOff), M, N, K, scratchAddress());
    },
    packedFloats: (N, K) => simd.packedFloats(N, K),
    packWeights(layout, B, bOff, packed, pOff, N, K) {
      simd.packWeights(PACK_LAYOUT[layout], address(B, bOff), address(packed, pOff), N, K);
    },
    matmulPacked(A, aOff, packed, pOff, C, cOff, M, N, K) {
      simd.matmulPacked(address(A, aOff), address(packed, pOff), address(C, cOff), M, N, K, scratchAddress());
    },
    matvecFloats: (N, K) => simd.matvecFloats(N, K),
    packMatvec(B, bOff, packed, pOff, N, K) {
      simd.packMatvec(address(B, bOff), address(packed, pOff), N, K);
    },
    matvecPacked(x, xOff, packed, pOff, y, yOff, N, K, j0, j1) {
      simd.matvecPacked(address(x, xOff), address(packed, pOff), address(y, yOff), N, K, j0, j1, scratchAddress());
    },
    broadcastRows(X, xOff, bias, biasOff, M, N) {
      simd.broadcastRows(address(X, xOff), address(bias, biasOff), M, N);
    },
    addColumnSums(dY, yOff, db, dbOff, M, N) {
      simd.addColumnSums(address(dY, yOff), address(db, dbOff), M, N);
    },
    gatherRows(table, tableOff, ids, idsOff, X, xOff, M, N) {
      simd.gatherRows(address(table, tableOff), address(ids, idsOff), address(X, xOff), M, N);
    },
    scatterAddRows(dY, yOff, ids, idsOff, S, sOff, M, N) {
      simd.scatterAddRows(address(dY, yOff), address(ids, idsOff), address(S, sOff), M, N);
    },
    sigmoid(X, off, n) {
      simd.sigmoid(address(X, off), n);
    },
    tanh(X, off, n) {
      simd.tanh(address(X, off), n);
    },
    gruForward(gates, gOff, hidden, hidOff, candidate, candOff, h, prevOff, nextOff, B, H, j0, j1) {
      simd.gruForward(
        address(gates, gOff), address(hidden, hidOff), address(candidate, candOff),
        address(h, prevOff), address(h, nextOff), B, H, j0, j1,
      );
    },
    gruBackward(gates, gOff, h, prevOff, candidate, candOff, dOut, dOutOff, dh, dGates, dHidden, dgOff, B, H) {
      simd.gruBackward(
        address(gates, gOff), address(h, prevOff), address(candidate, candOff), address(dOut, dOutOff),
        address(dh, 0), address(dGates, dgOff), address(dHidden, dgOff), B, H,
      );
    },
    lstmForward(gates, gOff, c, prevOff, nextOff, tanhC, tcOff, h, hNextOff, B, H, j0, j1) {
      simd.lstmForward(
        address(gates, gOff), address(c, prevOff), address(c, nextOff), address(tanhC, tcOff),
        address(h, hNextOff), B, H, j0, j1,
      );
    },
    lstmBackward(gates, gOff, c, prevOff, tanhC, tcOff, dOut, dOutOff, dh, dc, dGates, dgOff, B, H) {
      simd.lstmBackward(
        address(gates, gOff), address(c, prevOff), address(tanhC, tcOff), address(dOut, dOutOff),
        address(dh, 0), address(dc, 0), address(dGates, dgOff), B, H,
      );
    },
    logSumExp(X, off, n) {
      const at = address(X, off), max = simd.maxOf(at, n);
      // NaN, +∞, or all −∞: nothing to shift by, and the result is the largest
      if (!Number.isFinite(max)) return max;
      return Math.log(simd.sumExpShifted(at, n, max)) + max;
    },
    softmax(X, xOff, Y, yOff, n, scale) {
      const x = address(X, xOff), y = address(Y, yOff), max = simd.maxOf(x, n);
      if (!Number.isFinite(max)) {
        Y.fill(NaN, yOff, yOff + n);
        return max;
      }
      const sum = simd.expShiftedInto(x, y, n, max);
      simd.scale(y, n, scale / sum);
      return Math.log(sum) + max;
    },
    addInto(dst, dstOff, src, srcOff, n) {
      simd.addInto(address(dst, dstOff), address(src, srcOff), n);
    },
    sumOfSquares(X, off, n) {
      return simd.sumOfSquares(address(X, off), n);
    },
    scale(X, off, n, factor) {
      simd.scale(address(X, off), n, factor);
    },
    clamp(X, off, n, limit) {
      simd.clamp(address(X, off), n, limit);
    },
    adam(params, grads, m, v, off, n, stepSize, beta1, beta2, sqrtCorrection2, eps) {
      // the four arrays are the same length and share the element offset
      simd.adam(
        address(params, off), address(grads, off), address(m, off), address(v, off), n,
        stepSize, beta1, beta2, sqrtCorrection2, eps,
      );
    },
    sgd(params, grads, off, n, lr) {
      simd.sgd(address(params, off), address(grads, off), n, lr);
    },
  };
}
