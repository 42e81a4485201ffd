import { Worker } from 'node:worker_threads';
import type { StepResult, StepSettings } from '../engine/step.js';
import { paramLayout } from '../engine/params.js';
import type { EngineOptions, OptimizerState, RecurrentState, TrainingEngine } from './engine.js';
import { Shard } from './shard.js';
import { CONTROL_SIZE, Command, Control, SCALARS_SIZE, Scalar, type PoolSetup, type SharedBuffers } from './shared.js';

/**
 * A persistent pool of worker threads, started once per run. The calling thread is shard 0
 * and posts each command to the others through the shared control block (Atomics), so a
 * step posts no messages and allocates nothing.
 */
export class PoolEngine implements TrainingEngine {
  readonly params: Float32Array;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  readonly evalInputs: Int32Array;
  readonly evalTargets: Int32Array;
  readonly workers: number;
  private readonly control: Int32Array;
  private readonly scalars: Float64Array;
  private readonly state: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private readonly local: Shard;
  private step: number;
  private closed = false;

  private constructor(private readonly setup: PoolSetup, private readonly threads: Worker[], options: EngineOptions) {
    const b = setup.buffers;
    this.workers = setup.workers;
    this.params = new Float32Array(b.params);
    this.inputs = new Int32Array(b.inputs);
    this.targets = new Int32Array(b.targets);
    this.evalInputs = new Int32Array(b.evalInputs);
    this.evalTargets = new Int32Array(b.evalTargets);
    this.control = new Int32Array(b.control);
    this.scalars = new Float64Array(b.scalars);
    this.state = new Float32Array(b.state);
    this.m = new Float32Array(b.m);
    this.v = new Float32Array(b.v);
    this.local = new Shard(setup, 0);
    this.step = options.optimizerState?.step ?? 0;
  }

  static async start(options: EngineOptions): Promise<PoolEngine> {
    const { config, batchSize: B, seqLen: T, evalRows } = options;
    const workers = Math.max(1, Math.min(options.workers, B));
    const P = paramLayout(config).total, LBH = config.numLayers * B * config.hiddenSize;
    const shared = (bytes: number) => new SharedArrayBuffer(Math.max(bytes, 8));
    const buffers: SharedBuffers = {
      params: shared(P * 4), grads: shared(workers * P * 4), m: shared(P * 4), v: shared(P * 4),
      inputs: shared(B * T * 4), targets: shared(B * T * 4),
      evalInputs: shared(evalRows * T * 4), evalTargets: shared(evalRows * T * 4),
      state: shared(2 * LBH * 4), control: shared(CONTROL_SIZE * 4),
      scalars: shared((SCALARS_SIZE + 2 * workers) * 8),
    };
    new Float32Array(buffers.params).set(options.params);
    if (options.optimizerState && options.optimizer === 'adam') {
      new Float32Array(buffers.m).set(options.optimizerState.m);
      new Float32Array(buffers.v).set(options.optimizerState.v);
    }
    const setup: PoolSetup = { config, optimizer: options.optimizer, batchSize: B, seqLen: T, evalRows, workers, buffers };
    const threads = await Promise.all(Array.from({ length: workers - 1 }, (_, k) => spawn(setup, k + 1)));
    return new PoolEngine(setup, threads, options);
  }

  trainStep(settings: StepSettings, dropoutSeed: number | null): StepResult {
    const s = this.scalars;
    this.step++;
    s[Scalar.Lr] = settings.lr;
    s[Scalar.Clip] = settings.clip ?? -1;
    s[Scalar.ClipValue] = settings.clipValue ?? -1;
    s[Scalar.DropoutSeed] = dropoutSeed ?? -1;
    s[Scalar.Step] = this.step;
    this.post(Command.Train);
    let lossSum = 0;
    for (let w = 0; w < this.workers; w++) lossSum += s[SCALARS_SIZE + w];
    return { loss: lossSum / (this.setup.batchSize * this.setup.seqLen), gradNorm: s[Scalar.GradNorm] };
  }

  evalChunk(length: number): number {
    this.scalars[Scalar.EvalLength] = length;
    this.post(Command.Eval);
    let lossSum = 0;
    for (let w = 0; w < this.workers; w++) lossSum += this.scalars[SCALARS_SIZE + w];
    return lossSum;
  }

  resetTrainState(): void { this.post(Command.ResetTrain); }
  resetEvalState(): void { this.post(Command.ResetEval); }

  trainState(): RecurrentState {
    this.post(Command.GetState);
    const half = this.state.length / 2;
    return { h: this.state.slice(0, half), c: this.setup.config.cell === 'lstm' ? this.state.slice(half) : null };
  }

  setTrainState(state: RecurrentState): void {
    const half = this.state.length / 2;
    this.state.set(state.h);
    if (state.c) this.state.set(state.c, half);
    this.post(Command.SetState);
  }

  optimizerState(): OptimizerState {
    return { step: this.step, m: this.m.slice(), v: this.v.slice() };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (Atomics.load(this.control, Control.Failed) === 0) this.post(Command.Exit);
    this.closed = true;
    await Promise.all(this.threads.map((t) => t.terminate()));
  }

  /** Posts a command to every worker and runs shard 0's part of it here. */
  private post(command: Command): void {
    if (this.closed) throw new Error('the training engine is closed');
    Atomics.store(this.control, Control.Command, command);
    Atomics.add(this.control, Control.Generation, 1);
    Atomics.notify(this.control, Control.Generation);
    this.local.run(command);
  }
}

/** The compiled worker script: beside this file in dist/, or dist's copy when running from src/. */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts')
    ? new URL('../../dist/src/parallel/worker.js', here)
    : new URL('./worker.js', here);
}

function spawn(setup: PoolSetup, index: number): Promise<Worker> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: { setup, index } });
    worker.once('error', reject);
    worker.once('message', (message) => {
      if (message !== 'ready') return reject(new Error(`worker ${index} failed to start: ${(message as { error: string }).error}`));
      worker.unref(); // a run that forgets close() still exits
      resolve(worker);
    });
  });
}
