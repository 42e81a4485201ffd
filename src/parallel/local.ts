import { CharRnn } from '../engine/model.js';
import { Optimizer } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { type StepResult, type StepSettings, trainStep } from '../engine/step.js';
import type { EngineOptions, OptimizerState, RecurrentState, TrainingEngine } from './engine.js';

/** The whole window on the calling thread: what `--workers 1` runs. */
export class LocalEngine implements TrainingEngine {
  readonly params: Float32Array;
  readonly inputs: Int32Array;
  readonly targets: Int32Array;
  readonly evalInputs: Int32Array;
  readonly evalTargets: Int32Array;
  readonly workers = 1;
  private readonly model: CharRnn;
  private readonly evalModel: CharRnn | null;
  private readonly optimizer: Optimizer;

  constructor(options: EngineOptions) {
    const { config, batchSize: B, seqLen: T, evalRows } = options;
    const size = paramLayout(config).total;
    this.params = Float32Array.from(options.params);
    this.model = new CharRnn(config, this.params, new Float32Array(size), B, T);
    this.evalModel = evalRows > 0 ? new CharRnn(config, this.params, null, evalRows, T) : null;
    this.inputs = this.model.tokens;
    this.targets = this.model.targets;
    this.evalInputs = new Int32Array(evalRows * T);
    this.evalTargets = new Int32Array(evalRows * T);
    this.optimizer = new Optimizer(options.optimizer, size);
    if (options.optimizerState) restoreOptimizer(this.optimizer, options.optimizerState);
  }

  trainStep(settings: StepSettings, dropoutSeed: number | null): StepResult {
    return trainStep(this.model, this.optimizer, settings, dropoutSeed);
  }

  evalChunk(length: number): number {
    const model = this.evalModel!;
    spreadChunk(this.evalInputs, this.evalTargets, model, length);
    model.forward(null);
    const loss = model.lossSum(length);
    model.carryState(length);
    return loss;
  }

  resetTrainState(): void { this.model.resetState(); }
  resetEvalState(): void { this.evalModel?.resetState(); }
  trainState(): RecurrentState { return this.model.initialState(); }
  setTrainState(state: RecurrentState): void { this.model.setInitialState(state.h, state.c); }
  optimizerState(): OptimizerState {
    return { step: this.optimizer.step, m: this.optimizer.m.slice(), v: this.optimizer.v.slice() };
  }
  async close(): Promise<void> {}
}

export function restoreOptimizer(optimizer: Optimizer, state: OptimizerState): void {
  optimizer.step = state.step;
  if (optimizer.m.length) {
    optimizer.m.set(state.m);
    optimizer.v.set(state.v);
  }
}

/** Copies a compact [rows, length] chunk (b·length + t) into a model's [rows, T] window. */
export function spreadChunk(inputs: Int32Array, targets: Int32Array, model: CharRnn, length: number, firstRow = 0): void {
  const T = model.seqLen;
  for (let b = 0; b < model.batchSize; b++) {
    const src = (firstRow + b) * length, dst = b * T;
    for (let t = 0; t < T; t++) {
      model.tokens[dst + t] = t < length ? inputs[src + t] : 0;
      model.targets[dst + t] = t < length ? targets[src + t] : 0;
    }
  }
}
