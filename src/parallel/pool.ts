import { Arena } from '../engine/kernels/arena.js';
import { resolveKernels } from '../engine/kernels/index.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import { STEP_PHASES, type StepPhase, phaseSlot } from '../engine/kernels/timed.js';
import { paramLayout } from '../engine/params.js';
import type { StepResult, StepSettings } from '../engine/step.js';
import type { EngineOptions, OptimizerMoments, RecurrentState, TrainingEngine } from './engine.js';
import { CoreWaitPolls } from './contention.js';
import { Shard } from './shard.js';
import { Command, Scalar, type PoolSetup, type PoolViews, allocatePool, lossSlot, nullAsScalar, poolViews } from './shared.js';
import { ThreadGroup } from './threads.js';

/**
 * A training engine on `options.workers` threads: a persistent pool started once per run.
 * The calling thread is shard 0 and posts each command to the others through the shared
 * control block (Atomics), so a step posts no messages and allocates nothing. With one
 * worker it spawns no thread and runs every phase here.
 */
export async function createEngine(options: EngineOptions): Promise<TrainingEngine> {
  return PoolEngine.start(options);
}

/** The threads a pool runs for the `workers` asked: each trains whole sequences of the batch, so batchSize at most. */
export function poolWorkers(workers: number, batchSize: number): number {
  return Math.max(1, Math.min(workers, batchSize));
}

class PoolEngine implements TrainingEngine {
  readonly params: Float32Array;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  readonly evalInputs: Int32Array;
  readonly evalTargets: Int32Array;
  readonly workers: number;
  readonly kernels: KernelsKind;
  /** The optimizer's updates so far: a step whose loss or gradient was not finite adds none. */
  private step: number;
  /** How long the threads poll before sleeping, from how long this thread waits for a core (with more than one worker). */
  private readonly polls: CoreWaitPolls | null;

  private constructor(
    private readonly setup: PoolSetup, private readonly shared: PoolViews, private readonly threads: ThreadGroup, step: number,
  ) {
    this.params = shared.params;
    this.inputs = shared.inputs;
    this.targets = shared.targets;
    this.evalInputs = shared.evalInputs;
    this.evalTargets = shared.evalTargets;
    this.workers = setup.workers;
    this.kernels = setup.kernels;
    this.step = step;
    this.polls = setup.workers > 1 ? new CoreWaitPolls(shared.control, setup.workers) : null;
  }

  static async start(options: EngineOptions): Promise<PoolEngine> {
    const { config, batchSize, seqLen, evalRows, optimizer } = options;
    const kernels = options.kernels ?? resolveKernels();
    const workers = poolWorkers(options.workers, batchSize);
    const size = paramLayout(config).total;
    const arena = new Arena();
    const profile = options.profile ?? false;
    const setup = allocatePool(arena, { config, optimizer, kernels, batchSize, seqLen, evalRows, workers, profile }, size);
    const shared = poolViews(setup, arena, size);
    shared.params.set(options.params);
    if (options.moments && optimizer === 'adam') {
      shared.m.set(options.moments.m);
      shared.v.set(options.moments.v);
    }
    const threads = await ThreadGroup.start(setup, shared.control, 'train', new Shard(setup, 0));
    return new PoolEngine(setup, shared, threads, options.moments?.step ?? 0);
  }

  trainStep(settings: StepSettings, dropoutSeed: number | null): StepResult {
    const s = this.shared.scalars;
    s[Scalar.Lr] = settings.lr;
    s[Scalar.Clip] = nullAsScalar(settings.clip);
    s[Scalar.ClipValue] = nullAsScalar(settings.clipValue);
    s[Scalar.DropoutSeed] = nullAsScalar(dropoutSeed);
    s[Scalar.Step] = this.step;
    this.polls?.update();
    this.threads.post(Command.Train);
    const skipped = s[Scalar.Skipped] === 1;
    if (!skipped) this.step++;
    return { loss: this.workerSum() / (this.setup.batchSize * this.setup.seqLen), gradNorm: s[Scalar.GradNorm]!, skipped };
  }

  evalChunk(length: number): number {
    this.shared.scalars[Scalar.EvalLength] = length;
    this.threads.post(Command.Eval);
    return this.workerSum();
  }

  resetTrainState(): void { this.threads.post(Command.ResetTrain); }
  resetEvalState(): void { this.threads.post(Command.ResetEval); }

  trainState(): RecurrentState {
    this.threads.post(Command.GetState);
    const state = this.shared.state, half = state.length / 2;
    return { h: state.slice(0, half), c: this.setup.config.cell === 'lstm' ? state.slice(half) : null };
  }

  setTrainState(state: RecurrentState): void {
    const shared = this.shared.state, half = shared.length / 2;
    shared.set(state.h);
    if (state.c) shared.set(state.c, half);
    this.threads.post(Command.SetState);
  }

  optimizerMoments(): OptimizerMoments {
    return { step: this.step, m: this.shared.m.slice(), v: this.shared.v.slice() };
  }

  profile(): Array<Record<StepPhase, number>> | null {
    if (!this.setup.profile) return null;
    const seconds = this.shared.profile;
    return Array.from({ length: this.workers }, (_, w) =>
      Object.fromEntries(STEP_PHASES.map((phase) => [phase, seconds[phaseSlot(w, phase)]!])) as Record<StepPhase, number>);
  }

  async close(): Promise<void> {
    await this.threads.close();
  }

  /** Σ of the per-worker partial sums the last command left (in worker order: deterministic). */
  private workerSum(): number {
    const s = this.shared.scalars;
    let sum = 0;
    for (let w = 0; w < this.workers; w++) sum += s[lossSlot(w)]!;
    return sum;
  }
}
