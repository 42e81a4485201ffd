import { optionMessage } from '../../input/issues.js';
import { SettingError, type SettingNamer } from '../../input/settings.js';
import { Arena } from './arena.js';
import { jsKernels } from './js.js';
import type { Kernels } from './kernels.js';
import { KERNELS_KINDS, type KernelsChoice, type KernelsKind } from './kinds.js';
import { relaxedKernels, relaxedSimdSupported, wasmKernels, wasmSimdSupported } from './wasm.js';

/** How each implementation is made, and whether this runtime runs it. */
const IMPLEMENTATIONS: Record<KernelsKind, { create(arena: Arena): Kernels; runsHere(): boolean }> = {
  js: { create: jsKernels, runsHere: () => true },
  wasm: { create: wasmKernels, runsHere: wasmSimdSupported },
  relaxed: { create: relaxedKernels, runsHere: relaxedSimdSupported },
};

export const KERNELS_CHOICES: readonly KernelsChoice[] = ['auto', ...KERNELS_KINDS];

/** What a kernels choice must be, as a message says it: the flag's, the option's and RNN_KERNELS's alike. */
export const KERNELS_EXPECTED = `one of ${KERNELS_CHOICES.join(', ')}`;

/** The implementation `choice` names; `auto` is the fastest this machine runs (relaxed, else wasm, else js). */
export function resolveKernels(choice: KernelsChoice = defaultKernelsChoice()): KernelsKind {
  checkKernelsChoice(choice, (name) => name('kernels'));
  if (choice === 'auto') return availableKernels().at(-1)!;
  if (!IMPLEMENTATIONS[choice].runsHere()) {
    throw new SettingError('kernels', choice, (name) =>
      `${name('kernels')} ${choice} does not run on this runtime (Node ${process.version}); it runs ${availableKernels().join(', ')}`);
  }
  return choice;
}

/** RNN_KERNELS from the environment (for tests and the bench), else `auto`. */
function defaultKernelsChoice(): KernelsChoice {
  const value = process.env['RNN_KERNELS'];
  if (value === undefined || value === '') return 'auto';
  checkKernelsChoice(value, () => 'RNN_KERNELS');
  return value;
}

/** Refuses a value that is none of KERNELS_CHOICES, naming where it came from (`label`: the flag, or RNN_KERNELS). */
function checkKernelsChoice(value: unknown, label: (name: SettingNamer) => string): asserts value is KernelsChoice {
  if ((KERNELS_CHOICES as readonly unknown[]).includes(value)) return;
  throw new SettingError('kernels', value, (name) => optionMessage(label(name), { expected: KERNELS_EXPECTED, value }));
}

/** An instance of the `kind` kernels over `arena` (each thread makes its own over the shared arena). */
export function createKernels(kind: KernelsKind = resolveKernels(), arena: Arena = new Arena()): Kernels {
  return IMPLEMENTATIONS[kind].create(arena);
}

/** The implementations this machine runs, slowest first: js always, wasm where WebAssembly SIMD runs, relaxed where relaxed SIMD does. */
export function availableKernels(): KernelsKind[] {
  return KERNELS_KINDS.filter((kind) => IMPLEMENTATIONS[kind].runsHere());
}
