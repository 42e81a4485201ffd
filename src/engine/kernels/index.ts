import { SettingError } from '../../input/settings.js';
import { Arena } from './arena.js';
import { jsKernels } from './js.js';
import type { Kernels, KernelsKind } from './kernels.js';
import { wasmKernels, wasmSimdSupported } from './wasm.js';

/** What `--kernels` and RNN_KERNELS accept: an implementation, or `auto` for the fastest this machine runs. */
export type KernelsChoice = KernelsKind | 'auto';

export const KERNELS_CHOICES: readonly KernelsChoice[] = ['auto', 'js', 'wasm'];

/** The implementation `choice` names; `auto` is wasm where WebAssembly SIMD runs, js otherwise. */
export function resolveKernels(choice: KernelsChoice = defaultKernelsChoice()): KernelsKind {
  if (choice !== 'auto') return choice;
  return wasmSimdSupported() ? 'wasm' : 'js';
}

/** RNN_KERNELS from the environment (for tests and the bench), else `auto`. */
export function defaultKernelsChoice(): KernelsChoice {
  const value = process.env['RNN_KERNELS'];
  if (value === undefined || value === '') return 'auto';
  if (!(KERNELS_CHOICES as readonly string[]).includes(value)) {
    throw new SettingError('kernels', value, () => `RNN_KERNELS must be one of ${KERNELS_CHOICES.join(', ')} (got ${JSON.stringify(value)})`);
  }
  return value as KernelsChoice;
}

/** An instance of the `kind` kernels over `arena` (each thread makes its own over the shared arena). */
export function createKernels(kind: KernelsKind = resolveKernels(), arena: Arena = new Arena()): Kernels {
  return kind === 'wasm' ? wasmKernels(arena) : jsKernels(arena);
}

/** The implementations this machine runs: js always, wasm where WebAssembly SIMD does. */
export function availableKernels(): KernelsKind[] {
  return wasmSimdSupported() ? ['js', 'wasm'] : ['js'];
}
