import { describe, expect, it } from 'vitest';
import { peakLoop, simdPeakGflops } from '../bench/simd-peak.js';

describe('the bench\'s SIMD peak', () => {
  it('is a loop of twelve multiply-adds into independent sums, all of them live', () => {
    const peak = peakLoop()!;
    expect(peak(0, 0.5)).toBe(0);
    // each of the 12 sums adds 0.5 · 0.5 a round
    expect(peak(10, 0.5)).toBe(30);
    expect(peak(1000, 2)).toBe(48_000);
  });

  it('measures a rate where the runtime runs relaxed SIMD (Node 20 with the flag the engine turns on, Node 22 as it is)', () => {
    const gflops = simdPeakGflops(0.002, 3)!;
    expect(gflops).toBeGreaterThan(0);
    expect(Number.isFinite(gflops)).toBe(true);
  });
});
