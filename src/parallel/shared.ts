import { availableParallelism } from 'node:os';
import type { ModelConfig } from '../engine/config.js';
import type { Arena } from '../engine/kernels/arena.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import type { OptimizerKind } from '../engine/optim.js';
import { STEP_PHASES } from '../engine/kernels/timed.js';

/**
 * What every thread of a training pool needs to find the tensors they share, all in one
 * arena (a shared WebAssembly.Memory): the byte offset of each. Threads coordinate through
 * Atomics on `control`; nothing is posted between them per step.
 */
export interface PoolSetup {
  config: ModelConfig;
  optimizer: OptimizerKind;
  kernels: KernelsKind;
  batchSize: number;
  seqLen: number;
  evalRows: number;
  workers: number;
  /** Whether each thread times its kernels, barriers and steps into `profile`. */
  profile: boolean;
  memory: WebAssembly.Memory;
  at: {
    params: number; // Float32 [P]
    grads: number; // Float32 [W·P]: worker w's gradient at w·P; slot 0 receives the reduced gradient
    m: number; // Float32 [P] (Adam)
    v: number; // Float32 [P] (Adam)
    inputs: number; // Int32 [B·T]
    targets: number; // Int32 [B·T]
    evalInputs: number; // Int32 [evalRows·T]
    evalTargets: number; // Int32 [evalRows·T]
    state: number; // Float32 [2·L·B·H]: h then c of the training window, for get/set
    control: number; // Int32 [CONTROL_SIZE]
    scalars: number; // Float64 [SCALARS_SIZE + 2·W]: Scalar's slots, then each worker's lossSlot and sumOfSquaresSlot
    profile: number; // Float64 [W · STEP_PHASES.length] seconds (profile only)
  };
}

/** Typed views of a pool's shared tensors, the same on every thread. */
export interface PoolViews {
  params: Float32Array;
  grads: Float32Array[];
  m: Float32Array;
  v: Float32Array;
  inputs: Int32Array;
  targets: Int32Array;
  evalInputs: Int32Array;
  evalTargets: Int32Array;
  state: Float32Array;
  control: Int32Array;
  scalars: Float64Array;
  profile: Float64Array;
}

/** Sizes of the shared tensors, in elements. */
function poolSizes(s: Omit<PoolSetup, 'memory' | 'at'>, paramCount: number) {
  const { batchSize: B, seqLen: T, evalRows, workers: W, config } = s;
  const moments = s.optimizer === 'adam' ? paramCount : 0;
  return {
    params: paramCount, grads: W * paramCount, m: moments, v: moments, inputs: B * T, targets: B * T,
    evalInputs: evalRows * T, evalTargets: evalRows * T, state: 2 * config.numLayers * B * config.hiddenSize,
    control: CONTROL_SIZE, scalars: SCALARS_SIZE + 2 * W, profile: s.profile ? W * STEP_PHASES.length : 0,
  };
}

/** Allocates a pool's shared tensors from `arena` and returns where each lives. */
export function allocatePool(arena: Arena, s: Omit<PoolSetup, 'memory' | 'at'>, paramCount: number): PoolSetup {
  const n = poolSizes(s, paramCount);
  const at = {
    params: arena.floats(n.params).byteOffset, grads: arena.floats(n.grads).byteOffset,
    m: arena.floats(n.m).byteOffset, v: arena.floats(n.v).byteOffset,
    inputs: arena.ints(n.inputs).byteOffset, targets: arena.ints(n.targets).byteOffset,
    evalInputs: arena.ints(n.evalInputs).byteOffset, evalTargets: arena.ints(n.evalTargets).byteOffset,
    state: arena.floats(n.state).byteOffset, control: arena.ints(n.control).byteOffset,
    scalars: arena.doubles(n.scalars).byteOffset, profile: arena.doubles(n.profile).byteOffset,
  };
  return { ...s, memory: arena.memory, at };
}

/** Views of the tensors `setup` locates, over `arena` (this thread's Arena of setup.memory). */
export function poolViews(setup: PoolSetup, arena: Arena, paramCount: number): PoolViews {
  const n = poolSizes(setup, paramCount), at = setup.at;
  const f32 = (offset: number, length: number) => arena.view(Float32Array, offset, length);
  const i32 = (offset: number, length: number) => arena.view(Int32Array, offset, length);
  return {
    params: f32(at.params, n.params),
    grads: Array.from({ length: setup.workers }, (_, w) => f32(at.grads + 4 * w * paramCount, paramCount)),
    m: f32(at.m, n.m), v: f32(at.v, n.v),
    inputs: i32(at.inputs, n.inputs), targets: i32(at.targets, n.targets),
    evalInputs: i32(at.evalInputs, n.evalInputs), evalTargets: i32(at.evalTargets, n.evalTargets),
    state: f32(at.state, n.state), control: i32(at.control, n.control),
    scalars: arena.view(Float64Array, at.scalars, n.scalars),
    profile: arena.view(Float64Array, at.profile, n.profile),
  };
}

/** Which shards a group's workers run: a training pool's (shard.ts) or a batch-1 step's (inference.ts). */
export type ThreadKind = 'train' | 'infer';

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
  Spins = 5, // polls before a waiting thread sleeps (spinsBeforeSleep), set by the group's holder
}
export const CONTROL_SIZE = 8;

/** Slots of the Float64 scalar block; the workers' partial sums follow (lossSlot, sumOfSquaresSlot). */
export const enum Scalar {
  Lr = 0,
  Clip = 1, // null (nullAsScalar): no clipping by norm
  ClipValue = 2, // null: no clipping by value
  DropoutSeed = 3, // null: no dropout
  Step = 4, // the optimizer's updates done before this step
  EvalLength = 5,
  GradNorm = 6,
  Skipped = 7, // 1: the step's loss or gradient norm was not finite, and nothing was updated
}
const SCALARS_SIZE = 8;

/** The scalar slot of worker w's Σ loss, of a training step or a validation chunk. */
export function lossSlot(worker: number): number {
  return SCALARS_SIZE + worker;
}

/** The scalar slot of worker w's Σ g² over its slice of the parameters, in a step of `workers` threads. */
export function sumOfSquaresSlot(workers: number, worker: number): number {
  return SCALARS_SIZE + workers + worker;
}

/** A setting that may be null as a scalar slot holds it: null as −1 (every such setting is otherwise ≥ 0). */
export function nullAsScalar(value: number | null): number {
  return value ?? -1;
}

/** What nullAsScalar wrote, read back: a negative slot is null. */
export function scalarOrNull(value: number): number | null {
  return value >= 0 ? value : null;
}

/** [start, end) of part `index` when `total` items are cut into `parts` nearly equal runs. */
export function share(total: number, parts: number, index: number, align = 1): [number, number] {
  const cut = (k: number) => Math.min(total, Math.round((k * total) / parts / align) * align);
  return [cut(index), index === parts - 1 ? total : cut(index + 1)];
}

/**
 * Polls of a shared word before a thread sleeps on it (one poll is about 20 ns). A waiting
 * thread that sleeps costs the step its wake-up, and a training step's threads wait on each
 * other, and on the next step's command, for up to milliseconds: a training group that has a
 * core for each thread polls for about 20 ms. Threads that share cores poll for about 0.4 ms:
 * a thread that spins long while the one it waits for has no core holds that core from it.
 * They share cores where a group has more threads than the machine has cores, where a batch-1
 * stepper may run beside a server's other models, and where other processes keep the cores
 * busy: the group's threads then wait for a core (coreWait, a share of the time) more than
 * CONTENDED_CORE_WAIT.
 */
export const SPINS_SHORT = 20_000;
export const SPINS_LONG = 1_000_000;
/** The share of the time a quiet group's posting thread waits for a core: 0–5 %; beside one busy process on two cores, 25–46 %. */
export const CONTENDED_CORE_WAIT = 0.1;

/**
 * The polls before sleeping for a group of `threads` of `kind` on a machine of `cores`, whose
 * posting thread waited for a core `coreWait` of the time lately (null: not known).
 */
export function spinsBeforeSleep(
  kind: ThreadKind, threads: number, cores = availableParallelism(), coreWait: number | null = null,
): number {
  const contended = threads > cores || (coreWait !== null && coreWait > CONTENDED_CORE_WAIT);
  return kind === 'train' && !contended ? SPINS_LONG : SPINS_SHORT;
}

/** How long a thread asleep at a barrier waits before it looks again whether a worker failed. */
const FAILURE_CHECK_MS = 50;

/** Marks the group failed and wakes the threads asleep at a barrier, which then throw PeerFailure. */
export function raiseFailure(control: Int32Array): void {
  Atomics.store(control, Control.Failed, 1);
  Atomics.notify(control, Control.BarrierGeneration);
}

/** What a barrier throws when another thread of the group failed: that thread reports why. */
export class PeerFailure extends Error {
  constructor() {
    super('a worker thread failed');
  }
}

/**
 * Waits until all `parties` threads have arrived. Polls as often as the control block's Spins
 * says (spinsBeforeSleep: the other threads are usually a little behind), then sleeps on the
 * generation word; throws PeerFailure if a thread failed.
 */
export function barrier(control: Int32Array, parties: number): void {
  const generation = Atomics.load(control, Control.BarrierGeneration), spins = Atomics.load(control, Control.Spins);
  if (Atomics.add(control, Control.BarrierCount, 1) === parties - 1) {
    Atomics.store(control, Control.BarrierCount, 0);
    Atomics.add(control, Control.BarrierGeneration, 1);
    Atomics.notify(control, Control.BarrierGeneration);
    return;
  }
  for (let spin = 0; Atomics.load(control, Control.BarrierGeneration) === generation; spin++) {
    if (Atomics.load(control, Control.Failed) !== 0) throw new PeerFailure();
    if (spin > spins) Atomics.wait(control, Control.BarrierGeneration, generation, FAILURE_CHECK_MS);
  }
}
