import { describe, expect, it } from 'vitest';
import { describeProcessor, processorText, thisProcessor } from '../bench/processor.js';

/** The first processor's lines of a /proc/cpuinfo, with the flags that matter here among others. */
const cpuinfo = (family: number, model: number, flags: string): string =>
  `processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: ${family}\nmodel\t\t: ${model}\n` +
  `model name\t: AMD EPYC\nstepping\t: 1\nflags\t\t: fpu sse sse2 ${flags} aes\n\n` +
  'processor\t: 1\nvendor_id\t: AuthenticAMD\ncpu family\t: 99\nmodel\t\t: 99\nmodel name\t: another\n';

describe('the bench\'s processor line', () => {
  it('tells the hosts this machine is lent on apart by family, model and vector width', () => {
    const zen3 = describeProcessor(cpuinfo(25, 1, 'avx fma avx2 vaes'), 'ignored');
    expect(zen3).toEqual({ model: 'AMD EPYC', family: 25, modelNumber: 1, vectors: 'AVX2' });
    expect(processorText(zen3)).toBe('AMD EPYC, family 25 model 1, AVX2: 8 float32 lanes native');

    const zen5 = describeProcessor(cpuinfo(26, 2, 'avx fma avx2 avx512f avx512bw avx512_bf16'), '');
    expect(zen5.vectors).toBe('AVX-512');
    expect(processorText(zen5)).toBe('AMD EPYC, family 26 model 2, AVX-512: 16 float32 lanes native');
  });

  it('names AVX without AVX2, and SSE alone, at their widths', () => {
    expect(processorText(describeProcessor(cpuinfo(6, 42, 'ssse3 sse4_2 avx'), ''))).toMatch(/AVX: 8 float32 lanes/);
    expect(processorText(describeProcessor(cpuinfo(6, 23, 'ssse3 sse4_1'), ''))).toMatch(/SSE: 4 float32 lanes/);
    // avx512bw alone is not the foundation the others build on
    expect(describeProcessor(cpuinfo(6, 85, 'avx avx2 avx512bw'), '').vectors).toBe('AVX2');
  });

  it('falls back to the model Node reports where /proc/cpuinfo names none, and gives no numbers it lacks', () => {
    const arm = 'processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\nCPU implementer\t: 0x41\n';
    expect(describeProcessor(arm, 'Neoverse-V1 ')).toEqual({ model: 'Neoverse-V1' });
    expect(processorText(describeProcessor('', ''))).toBe('unknown');
  });

  it('reads this machine\'s', () => {
    const here = thisProcessor();
    expect(here.model.length).toBeGreaterThan(0);
    if (process.platform === 'linux' && process.arch === 'x64') {
      expect(here.family).toBeGreaterThan(0);
      expect(here.vectors).toBeDefined();
    }
  });
});
