import { CharRnn } from '../engine/model.js';
import { Optimizer, clipGradValue, clipScale, scaleSlice, sumOfSquares } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import { spreadChunk } from './local.js';
import { Command, SCALARS_SIZE, Scalar, type PoolSetup, barrier, share } from './shared.js';

/**
 * One thread's part of a pool: a model over its share of the batch's sequences (and of the
 * validation rows), and its slice of the parameter vector for the reduction and the update.
 * The calling thread runs shard 0; worker threads run the others.
 */
export class Shard {
  private readonly control: Int32Array;
  private readonly scalars: Float64Array;
  private readonly params: Float32Array;
  private readonly grads: Float32Array[];
  private readonly inputs: Int32Array;
  private readonly targets: Int32Array;
  private readonly evalInputs: Int32Array;
  private readonly evalTargets: Int32Array;
  private readonly state: Float32Array;
  private readonly model: CharRnn;
  private readonly evalModel: CharRnn | null;
  private readonly optimizer: Optimizer;
  private readonly rows: [number, number];
  private readonly sliceStart: number;
  private readonly sliceEnd: number;

  constructor(private readonly setup: PoolSetup, private readonly index: number) {
    const { config, batchSize, seqLen, evalRows, workers, buffers } = setup;
    const size = paramLayout(config).total;
    this.control = new Int32Array(buffers.control);
    this.scalars = new Float64Array(buffers.scalars);
    this.params = new Float32Array(buffers.params);
    this.grads = Array.from({ length: workers }, (_, w) => new Float32Array(buffers.grads, w * size * 4, size));
    this.inputs = new Int32Array(buffers.inputs);
    this.targets = new Int32Array(buffers.targets);
    this.evalInputs = new Int32Array(buffers.evalInputs);
    this.evalTargets = new Int32Array(buffers.evalTargets);
    this.state = new Float32Array(buffers.state);
    this.rows = share(batchSize, workers, index);
    this.model = new CharRnn(config, this.params, this.grads[index], this.rows[1] - this.rows[0], seqLen, this.rows[0]);
    const [e0, e1] = share(evalRows, workers, index);
    this.evalModel = e1 > e0 ? new CharRnn(config, this.params, null, e1 - e0, seqLen, e0) : null;
    this.optimizer = new Optimizer(setup.optimizer, size, undefined, {
      m: new Float32Array(buffers.m), v: new Float32Array(buffers.v),
    });
    // slices of 16 floats (64-byte cache lines) so no two threads write the same line
    [this.sliceStart, this.sliceEnd] = share(size, workers, index, 16);
  }

  /** Runs the command now posted in the control block; every shard ends at the same barrier. */
  run(command: Command): void {
    switch (command) {
      case Command.Train: this.trainStep(); break;
      case Command.Eval: this.evalChunk(); break;
      case Command.ResetTrain: this.model.resetState(); break;
      case Command.ResetEval: this.evalModel?.resetState(); break;
      case Command.GetState: this.copyState(true); break;
      case Command.SetState: this.copyState(false); break;
      case Command.Exit: break;
    }
    barrier(this.control, this.setup.workers);
  }

  /**
   * Data parallelism over the batch, then the reduction and the update split over parameters:
   *   1. each shard: forward + backward of its sequences into its own gradient slot
   *   2. each shard, on its slice: g = Σ_w g_w (workers in order), clip by value, Σ g²
   *   3. each shard, on its slice: g ← g · clipScale(‖g‖), then the optimizer's update
   */
  private trainStep(): void {
    const { workers, batchSize: B, seqLen: T } = this.setup;
    const model = this.model, s = this.scalars, W = workers;
    const first = this.rows[0] * T, count = model.batchSize * T;
    for (let i = 0; i < count; i++) {
      model.tokens[i] = this.inputs[first + i];
      model.targets[i] = this.targets[first + i];
    }
    model.grads!.fill(0);
    const seed = s[Scalar.DropoutSeed];
    model.forward(seed < 0 ? null : seed);
    s[SCALARS_SIZE + this.index] = model.backward(1 / (B * T));
    barrier(this.control, W);

    const reduced = this.grads[0], start = this.sliceStart, end = this.sliceEnd;
    for (let w = 1; w < W; w++) {
      const g = this.grads[w];
      for (let i = start; i < end; i++) reduced[i] += g[i];
    }
    if (s[Scalar.ClipValue] >= 0) clipGradValue(reduced, s[Scalar.ClipValue], start, end);
    s[SCALARS_SIZE + W + this.index] = sumOfSquares(reduced, start, end);
    barrier(this.control, W);

    let sumSq = 0;
    for (let w = 0; w < W; w++) sumSq += s[SCALARS_SIZE + W + w];
    const norm = Math.sqrt(sumSq);
    if (this.index === 0) s[Scalar.GradNorm] = norm;
    if (s[Scalar.Clip] >= 0) scaleSlice(reduced, clipScale(norm, s[Scalar.Clip]), start, end);
    this.optimizer.step = s[Scalar.Step];
    this.optimizer.apply(this.params, reduced, s[Scalar.Lr], start, end);
    model.carryState();
  }

  private evalChunk(): void {
    const model = this.evalModel, length = this.scalars[Scalar.EvalLength];
    if (!model) {
      this.scalars[SCALARS_SIZE + this.index] = 0;
      return;
    }
    spreadChunk(this.evalInputs, this.evalTargets, model, length, model.firstRow);
    model.forward(null);
    this.scalars[SCALARS_SIZE + this.index] = model.lossSum(length);
    model.carryState(length);
  }

  /** Gathers (or scatters) this shard's rows of the training window's initial state [L, B, H]. */
  private copyState(gather: boolean): void {
    const { config, batchSize: B } = this.setup;
    const H = config.hiddenSize, L = config.numLayers, half = L * B * H;
    const rowsHere = this.model.batchSize, first = this.rows[0];
    this.model.layers.forEach((layer, k) => {
      const cells = 'c' in layer ? (layer.c as Float32Array) : null;
      for (let b = 0; b < rowsHere; b++) {
        for (let j = 0; j < H; j++) {
          const local = b * H + j, global = (k * B + first + b) * H + j;
          if (gather) {
            this.state[global] = layer.h[local];
            if (cells) this.state[half + global] = cells[local];
          } else {
            layer.h[local] = this.state[global];
            if (cells) cells[local] = this.state[half + global];
          }
        }
      }
    });
  }
}

