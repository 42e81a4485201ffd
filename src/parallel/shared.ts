import type { ModelConfig } from '../engine/config.js';
import type { OptimizerKind } from '../engine/optim.js';

/**
 * The memory every thread of a pool sees: parameters, each worker's gradient slot, Adam's
 * moments, the input windows, the carried state for get/set, and a small control block.
 * Threads coordinate through Atomics on `control`; nothing is posted between them per step.
 */
export interface SharedBuffers {
  params: SharedArrayBuffer; // Float32 [P]
  grads: SharedArrayBuffer; // Float32 [W·P]; slot 0 receives the reduced gradient
  m: SharedArrayBuffer; // Float32 [P]
  v: SharedArrayBuffer; // Float32 [P]
  inputs: SharedArrayBuffer; // Int32 [B·T]
  targets: SharedArrayBuffer; // Int32 [B·T]
  evalInputs: SharedArrayBuffer; // Int32 [evalRows·T]
  evalTargets: SharedArrayBuffer; // Int32 [evalRows·T]
  state: SharedArrayBuffer; // Float32 [2·L·B·H]: h then c of the training window
  control: SharedArrayBuffer; // Int32 [CONTROL_SIZE]
  scalars: SharedArrayBuffer; // Float64 [SCALARS_SIZE + 2·W]
}

export interface PoolSetup {
  config: ModelConfig;
  optimizer: OptimizerKind;
  batchSize: number;
  seqLen: number;
  evalRows: number;
  workers: number;
  buffers: SharedBuffers;
}

/** Commands the calling thread posts to every worker. */
export const enum Command {
  Train = 1,
  Eval = 2,
  ResetTrain = 3,
  ResetEval = 4,
  GetState = 5,
  SetState = 6,
  Exit = 7,
  Advance = 8,
  Reset = 9,
}

/** Slots of the Int32 control block. */
export const enum Control {
  Command = 0,
  Generation = 1, // bumped once per posted command; workers wait on it
  BarrierCount = 2,
  BarrierGeneration = 3,
  Failed = 4,
}
export const CONTROL_SIZE = 8;

/** Slots of the Float64 scalar block; per-worker partial sums follow at SCALARS_SIZE. */
export const enum Scalar {
  Lr = 0,
  Clip = 1, // < 0: no clipping by norm
  ClipValue = 2, // < 0: no clipping by value
  DropoutSeed = 3, // < 0: no dropout
  Step = 4, // the optimizer's step number, this update included
  EvalLength = 5,
  GradNorm = 6,
}
export const SCALARS_SIZE = 8;

/** [start, end) of part `index` when `total` items are cut into `parts` nearly equal runs. */
export function share(total: number, parts: number, index: number, align = 1): [number, number] {
  const cut = (k: number) => Math.min(total, Math.round((k * total) / parts / align) * align);
  return [cut(index), index === parts - 1 ? total : cut(index + 1)];
}

/**
 * Waits until all `parties` threads have arrived. Spins briefly (the other threads are usually
 * a few microseconds behind), then sleeps on the generation word; throws if a worker failed.
 */
export function barrier(control: Int32Array, parties: number): void {
  const generation = Atomics.load(control, Control.BarrierGeneration);
  if (Atomics.add(control, Control.BarrierCount, 1) === parties - 1) {
    Atomics.store(control, Control.BarrierCount, 0);
    Atomics.add(control, Control.BarrierGeneration, 1);
    Atomics.notify(control, Control.BarrierGeneration);
    return;
  }
  for (let spin = 0; Atomics.load(control, Control.BarrierGeneration) === generation; spin++) {
    if (Atomics.load(control, Control.Failed) !== 0) throw new Error('a worker thread failed');
    if (spin > 20000) Atomics.wait(control, Control.BarrierGeneration, generation, 50);
  }
}
