/**
 * The processor a bench ran on. A cloud host's model name is often no more than "AMD EPYC", and
 * this project's 2-core machine has been lent under that name on a Zen 3 (x86 family 25, model
 * 1) and on Zen 5s (family 26); the family and model numbers tell such hosts apart, and the
 * flags say how wide native code's vectors are there. PyTorch's products run on those vectors,
 * WebAssembly's on four lanes everywhere, so the ratios of a run depend on them.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

export interface Processor {
  model: string;
  /** x86's CPU family and model numbers, where the system gives them. */
  family?: number;
  modelNumber?: number;
  /** The widest vector extension native code has: AVX-512, AVX2, AVX or SSE. */
  vectors?: Vectors;
}

type Vectors = 'AVX-512' | 'AVX2' | 'AVX' | 'SSE';

/** float32 lanes a vector holds under each extension; WebAssembly's hold 4. */
const LANES: Record<Vectors, number> = { 'AVX-512': 16, AVX2: 8, AVX: 8, SSE: 4 };

/** The first processor of a /proc/cpuinfo text; `fallbackModel` where it names none (not x86, say). */
export function describeProcessor(cpuinfo: string, fallbackModel: string): Processor {
  const first = cpuinfo.split(/\n\s*\n/)[0] ?? '';
  const field = (name: string): string | undefined =>
    new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(first)?.[1]?.trim();
  const number = (name: string): number | undefined => {
    const value = field(name);
    return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
  };
  const processor: Processor = { model: field('model name') || fallbackModel.trim() || 'unknown' };
  const family = number('cpu family'), modelNumber = number('model');
  if (family !== undefined) processor.family = family;
  if (modelNumber !== undefined) processor.modelNumber = modelNumber;
  const flags = field('flags')?.split(/\s+/);
  if (flags) {
    processor.vectors = flags.includes('avx512f') ? 'AVX-512' : flags.includes('avx2') ? 'AVX2' : flags.includes('avx') ? 'AVX' : 'SSE';
  }
  return processor;
}

/** This machine's processor: /proc/cpuinfo where there is one, else the model Node reports. */
export function thisProcessor(): Processor {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // not Linux: the model name alone
  }
  return describeProcessor(cpuinfo, cpus()[0]?.model ?? '');
}

/** "AMD EPYC, family 25 model 1, AVX2: 8 float32 lanes native". */
export function processorText({ model, family, modelNumber, vectors }: Processor): string {
  const parts = [model];
  if (family !== undefined) parts.push(`family ${family}${modelNumber === undefined ? '' : ` model ${modelNumber}`}`);
  if (vectors !== undefined) parts.push(`${vectors}: ${LANES[vectors]} float32 lanes native`);
  return parts.join(', ');
}
