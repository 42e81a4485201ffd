import { Arena, CACHE_LINE_BYTES } from '../engine/kernels/arena.js';
import { createKernels } from '../engine/kernels/index.js';
import type { Kernels } from '../engine/kernels/kernels.js';
import { type StepPhase, phaseSlot, timedKernels } from '../engine/kernels/timed.js';
import { LanguageModel } from '../engine/model.js';
import { Optimizer } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { type StepSettings, accumulateGradients, evaluateChunk, stepIsFinite, trainStep, updateSlice } from '../engine/step.js';
import {
  Command, Scalar, type PoolSetup, type PoolViews, barrier, lossSlot, poolViews, scalarOrNull, share, sumOfSquaresSlot,
} from './shared.js';

/**
 * One thread's part of a pool: a model over its share of the batch's sequences (and of the
 * validation rows), and its slice of the parameter vector for the reduction and the update.
 * The calling thread runs shard 0; worker threads run the others. Each thread makes its own
 * kernels over the pool's arena, and its model's activations there.
 */
export class Shard {
  private readonly kernels: Kernels;
  private readonly shared: PoolViews;
  private readonly model: LanguageModel;
  private readonly evalModel: LanguageModel | null;
  private readonly optimizer: Optimizer;
  private readonly rows: [number, number];
  private readonly sliceStart: number;
  private readonly sliceEnd: number;
  /** This step's settings, read from the scalar block (one object, reused). */
  private readonly settings: StepSettings = { lr: 0, clip: null, clipValue: null };

  constructor(private readonly setup: PoolSetup, private readonly index: number) {
    const { config, batchSize, seqLen, evalRows, workers } = setup;
    const size = paramLayout(config).total;
    const arena = new Arena(setup.memory);
    this.shared = poolViews(setup, arena, size);
    const kernels = createKernels(setup.kernels, arena);
    this.kernels = setup.profile ? timedKernels(kernels, this.shared.profile, index) : kernels;
    const { params, grads, m, v } = this.shared;
    this.rows = share(batchSize, workers, index);
    this.model = new LanguageModel({
      config, kernels: this.kernels, params, grads: grads[index]!, batchSize: this.rows[1] - this.rows[0], seqLen, firstRow: this.rows[0],
    });
    const [e0, e1] = share(evalRows, workers, index);
    this.evalModel = e1 > e0
      ? new LanguageModel({ config, kernels: this.kernels, params, grads: null, batchSize: e1 - e0, seqLen, firstRow: e0 })
      : null;
    this.optimizer = new Optimizer(setup.optimizer, this.kernels, size, undefined, { m, v });
    // slices of whole cache lines, so that no two threads write the same line
    [this.sliceStart, this.sliceEnd] = share(size, workers, index, CACHE_LINE_BYTES / Float32Array.BYTES_PER_ELEMENT);
  }

  /** Runs the command now posted in the control block; every shard ends at the same barrier. */
  run(command: Command): void {
    switch (command) {
      case Command.Train: {
        const start = this.clock();
        this.trainStep();
        this.record('step', start);
        break;
      }
      case Command.Eval: this.evalChunk(); break;
      case Command.ResetTrain: this.model.resetState(); break;
      case Command.ResetEval: this.evalModel?.resetState(); break;
      case Command.GetState: this.copyState(true); break;
      case Command.SetState: this.copyState(false); break;
      case Command.Exit: break;
    }
    barrier(this.shared.control, this.setup.workers);
  }

  /**
   * One thread alone runs engine/step.ts's trainStep. Several run its three phases,
   * data-parallel over the batch, then split over parameters:
   *   1. each shard w: forward + backward of its sequences into g_w, their Σ loss into lossSlot(w)
   *   2. each shard w, on its slice of the parameters: g = Σ_v g_v (shards in order, into g_0),
   *      clipped by value, and n_w = Σ g² over the slice into sumOfSquaresSlot(W, w)
   *   3. each shard: ‖g‖ = √(Σ_w n_w) and the window's Σ loss = Σ_w loss_w, both in shard order, so
   *      every shard finds the same and skips the step alike where either is not finite; else, on
   *      its slice: g ← g · clipScale(‖g‖), then the optimizer's update
   */
  private trainStep(): void {
    const { workers: W, batchSize: B, seqLen: T } = this.setup;
    const { scalars: s, grads, params } = this.shared;
    const model = this.model, kernels = this.kernels;
    this.readWindow();
    const dropoutSeed = this.readSettings();
    if (W === 1) {
      const { loss, gradNorm, skipped } = trainStep(model, this.optimizer, this.settings, dropoutSeed);
      s[lossSlot(0)] = loss * B * T;
      s[Scalar.GradNorm] = gradNorm;
      s[Scalar.Skipped] = skipped ? 1 : 0;
      return;
    }
    s[lossSlot(this.index)] = accumulateGradients(model, B * T, dropoutSeed);
    this.timedBarrier();

    const reduced = grads[0]!, start = this.sliceStart, n = this.sliceEnd - start;
    for (let w = 1; w < W; w++) kernels.addInto(reduced, start, grads[w]!, start, n);
    if (this.settings.clipValue !== null) kernels.clamp(reduced, start, n, this.settings.clipValue);
    s[sumOfSquaresSlot(W, this.index)] = kernels.sumOfSquares(reduced, start, n);
    this.timedBarrier();

    let sumSq = 0, lossSum = 0;
    for (let w = 0; w < W; w++) {
      sumSq += s[sumOfSquaresSlot(W, w)]!;
      lossSum += s[lossSlot(w)]!;
    }
    const norm = Math.sqrt(sumSq), finite = stepIsFinite(lossSum, norm);
    if (this.index === 0) {
      s[Scalar.GradNorm] = norm;
      s[Scalar.Skipped] = finite ? 0 : 1;
    }
    if (!finite) {
      model.resetState();
      return;
    }
    this.optimizer.step++;
    updateSlice(this.optimizer, params, reduced, this.settings, norm, start, this.sliceEnd);
    model.carryState();
  }

  /** This shard's sequences of the window the calling thread filled, into its model. */
  private readWindow(): void {
    const { inputs, targets } = this.shared, model = this.model;
    const first = this.rows[0] * this.setup.seqLen, count = model.batchSize * this.setup.seqLen;
    for (let i = 0; i < count; i++) {
      model.tokens[i] = inputs[first + i]!;
      model.targets[i] = targets[first + i]!;
    }
  }

  /** The step's settings and the optimizer's step count from the scalar block; returns the dropout seed. */
  private readSettings(): number | null {
    const s = this.shared.scalars;
    this.settings.lr = s[Scalar.Lr]!;
    this.settings.clip = scalarOrNull(s[Scalar.Clip]!);
    this.settings.clipValue = scalarOrNull(s[Scalar.ClipValue]!);
    this.optimizer.step = s[Scalar.Step]!;
    return scalarOrNull(s[Scalar.DropoutSeed]!);
  }

  /** The barrier between two phases of a step, its wait counted to `barriers` when profiled. */
  private timedBarrier(): void {
    const start = this.clock();
    barrier(this.shared.control, this.setup.workers);
    this.record('barriers', start);
  }

  /** Now in milliseconds when the pool is profiled, else 0 (no clock read). */
  private clock(): number {
    return this.setup.profile ? performance.now() : 0;
  }

  /** Adds the seconds since `start` to this shard's `phase` when the pool is profiled. */
  private record(phase: StepPhase, start: number): void {
    if (!this.setup.profile) return;
    this.shared.profile[phaseSlot(this.index, phase)] += (performance.now() - start) / 1000;
  }

  private evalChunk(): void {
    const { scalars, evalInputs, evalTargets } = this.shared;
    const model = this.evalModel;
    scalars[lossSlot(this.index)] = model ? evaluateChunk(model, evalInputs, evalTargets, scalars[Scalar.EvalLength]!) : 0;
  }

  /**
   * Gathers (or scatters) this shard's rows of the training window's initial state: h [L, B, H],
   * then an LSTM's c [L, B, H] after it.
   */
  private copyState(gather: boolean): void {
    const { config, batchSize: B } = this.setup;
    const state = this.shared.state;
    const H = config.hiddenSize, perState = config.numLayers * B * H;
    const rowsHere = this.model.batchSize, first = this.rows[0];
    this.model.layers.forEach((layer, k) => layer.carried.forEach((carried, i) => {
      for (let b = 0; b < rowsHere; b++) {
        const local = b * H, global = i * perState + (k * B + first + b) * H;
        if (gather) state.set(carried.subarray(local, local + H), global);
        else carried.set(state.subarray(global, global + H), local);
      }
    }));
  }
}
