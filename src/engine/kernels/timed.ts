import type { Kernels } from './kernels.js';

/**
 * Where a training step's time goes, as the bench's profile reports it: the kernels' time by
 * what they do (the recurrent products of each time step apart from the window-wide ones),
 * the barriers' waits, and the whole step (whatever is left is the embedding, the loss's
 * bookkeeping and the copies, in plain TypeScript).
 */
export const STEP_PHASES = [
  'products', 'recurrent', 'biases', 'table', 'gates', 'softmax', 'reduction', 'clipAdam', 'barriers', 'step',
] as const;
export type StepPhase = (typeof STEP_PHASES)[number];

/** Where worker `worker`'s seconds of `phase` lie in a profile's seconds: a row of STEP_PHASES a worker. */
export function phaseSlot(worker: number, phase: StepPhase): number {
  return worker * STEP_PHASES.length + STEP_PHASES.indexOf(phase);
}

/** The phase each kernel's time counts to. */
const PHASE_OF: Record<Exclude<keyof Kernels, 'kind' | 'arena'>, StepPhase> = {
  matmulNT: 'products', matmulNN: 'products', matmulTN: 'products', matmulPacked: 'recurrent', packWeights: 'recurrent',
  packedFloats: 'recurrent', matvecFloats: 'products', packMatvec: 'products', matvecPacked: 'products',
  broadcastRows: 'biases', addColumnSums: 'biases',
  gatherRows: 'table', scatterAddRows: 'table',
  sigmoid: 'gates', tanh: 'gates', gruForward: 'gates', gruBackward: 'gates', lstmForward: 'gates', lstmBackward: 'gates',
  logSumExp: 'softmax', softmax: 'softmax',
  addInto: 'reduction',
  sumOfSquares: 'clipAdam', scale: 'clipAdam', clamp: 'clipAdam', adam: 'clipAdam', sgd: 'clipAdam',
};

/**
 * `inner` with each call's seconds added to seconds[phaseSlot(worker, its phase)]: for the
 * bench's profile only (each call reads the clock twice).
 */
export function timedKernels(inner: Kernels, seconds: Float64Array, worker: number): Kernels {
  const timed: Record<string, unknown> = { kind: inner.kind, arena: inner.arena };
  for (const [name, phase] of Object.entries(PHASE_OF)) {
    const kernel = (inner[name as keyof typeof PHASE_OF] as (...args: unknown[]) => unknown).bind(inner);
    const slot = phaseSlot(worker, phase);
    timed[name] = (...args: unknown[]) => {
      const start = performance.now();
      const result = kernel(...args);
      seconds[slot] += (performance.now() - start) / 1000;
      return result;
    };
  }
  return timed as unknown as Kernels;
}
