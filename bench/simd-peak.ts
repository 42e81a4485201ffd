/**
 * The SIMD peak: the most four-lane multiply-adds one thread of this machine does in
 * WebAssembly, the ceiling every product kernel of the wasm and relaxed sets works under.
 *
 * A loop of independent sums s_i ← x·y + s_i (f32x4.relaxed_madd: one fused instruction where
 * the processor has FMA), with no memory, as the products' inner step adds into its tile. Each
 * sum waits for its previous multiply-add (4 cycles on current x64 cores), so a core with two
 * FMA units needs 8 sums in flight to keep both busy; 12 leave slack, and with x and y they
 * fill 14 of the 15 vector registers V8 allocates on x64 (more would spill to the stack).
 *
 * The module is written byte by byte, as the engine's probes are (src/engine/kernels/
 * wasm-bytes.ts), so that the bench measures it without a build step of its own.
 */
import { F32, I32, V128, oneFunctionModule, simdOp } from '../src/engine/kernels/wasm-bytes.js';
import { relaxedSimdSupported } from '../src/engine/kernels/wasm.js';

/** Independent sums in flight. */
export const SUMS = 12;

const localGet = (i: number) => [0x20, i], localSet = (i: number) => [0x21, i];
const F32X4_SPLAT = 0x13, F32X4_EXTRACT_LANE = 0x1f, F32X4_ADD = 0xe4, F32X4_RELAXED_MADD = 0x105;

/**
 * peak(n: i32, value: f32): f32 runs n rounds of SUMS multiply-adds and returns a lane of the
 * sums' total (so that no sum is dead code). Locals: 0 = n, 1 = value, 2 … SUMS + 1 the sums
 * (zero to start), then x and y, both value broadcast.
 */
function peakModule(): Uint8Array<ArrayBuffer> {
  const first = 2, x = first + SUMS, y = x + 1;
  const sums = Array.from({ length: SUMS }, (_, i) => first + i);
  const code = [
    ...localGet(1), ...simdOp(F32X4_SPLAT), ...localSet(x),
    ...localGet(1), ...simdOp(F32X4_SPLAT), ...localSet(y),
    0x02, 0x40, 0x03, 0x40, // block, loop
    ...localGet(0), 0x45, 0x0d, 0x01, // br_if out when n == 0
    ...sums.flatMap((s) => [...localGet(x), ...localGet(y), ...localGet(s), ...simdOp(F32X4_RELAXED_MADD), ...localSet(s)]),
    ...localGet(0), 0x41, 0x01, 0x6b, ...localSet(0), // n -= 1
    0x0c, 0x00, 0x0b, 0x0b, // br to the loop; end loop, block
    ...localGet(first), ...sums.slice(1).flatMap((s) => [...localGet(s), ...simdOp(F32X4_ADD)]),
    ...simdOp(F32X4_EXTRACT_LANE), 0x00,
  ];
  return oneFunctionModule({ params: [I32, F32], results: [F32], locals: [[SUMS + 2, V128]], code, exportAs: 'peak' });
}

/**
 * The peak loop, compiled and instantiated: peak(n, value) returns SUMS·n·value² (each sum's lane
 * is n·value²); undefined where the runtime does not run relaxed SIMD.
 */
export function peakLoop(): ((n: number, value: number) => number) | undefined {
  if (!relaxedSimdSupported()) return undefined;
  return (new WebAssembly.Instance(new WebAssembly.Module(peakModule())).exports as { peak: (n: number, value: number) => number }).peak;
}

/**
 * This thread's SIMD peak in GFLOP/s (2 flops a lane of a multiply-add), the best of `rounds`
 * calls of about `seconds` each after one to let V8 tier the loop up; undefined where the
 * runtime does not run relaxed SIMD.
 */
export function simdPeakGflops(seconds = 0.05, rounds = 10): number | undefined {
  const peak = peakLoop();
  if (!peak) return undefined;
  // a round of the loop: SUMS multiply-adds of 4 lanes, 2 FLOPs a lane;  GFLOP/s = n · flopsPerRound / seconds / 10⁹
  const flopsPerRound = SUMS * 4 * 2;
  let n = 1 << 16;
  for (;;) {
    const start = process.hrtime.bigint();
    peak(n, 0.5);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    if (elapsed >= seconds / 4) { n = Math.ceil((n * seconds) / elapsed); break; }
    n *= 4;
  }
  let best = 0;
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint();
    peak(n, 0.5);
    best = Math.max(best, (n * flopsPerRound) / (Number(process.hrtime.bigint() - start) / 1e9) / 1e9);
  }
  return best;
}
