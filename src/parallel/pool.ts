import type { StepResult, StepSettings } from '../engine/step.js';
import { paramLayout } from '../engine/params.js';
import type { EngineOptions, OptimizerState, RecurrentState, TrainingEngine } from './engine.js';
import { Shard } from './shard.js';
import { ThreadGroup } from './threads.js';
import { CONTROL_SIZE, Command, SCALARS_SIZE, Scalar, type PoolSetup, type SharedBuffers } from './shared.js';

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
  private readonly scalars: Float64Array;
  private readonly state: Float32Array;
  private readonly m: Float32Array;
  private readonly v: Float32Array;
  private step: number;

  private constructor(private readonly setup: PoolSetup, private readonly threads: ThreadGroup, options: EngineOptions) {
    const b = setup.buffers;
    this.workers = setup.workers;
    this.params = new Float32Array(b.params);
    this.inputs = new Int32Array(b.inputs);
    this.targets = new Int32Array(b.targets);
    this.evalInputs = new Int32Array(b.evalInputs);
    this.evalTargets = new Int32Array(b.evalTargets);
    this.scalars = new Float64Array(b.scalars);
    this.state = new Float32Array(b.state);
    this.m = new Float32Array(b.m);
    this.v = new Float32Array(b.v);
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
    return new PoolEngine(setup, await ThreadGroup.start(setup, 'train', new Shard(setup, 0)), options);
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
    await this.threads.close();
  }

  private post(command: Command): void {
    this.threads.post(command);
  }
}
