import { accumulateColumnSums, matmulNN, matmulTN } from '../kernels.js';

/** A layer's four tensors (or their gradients) as views into the flat buffers. */
export interface LayerTensors {
  weightIh: Float32Array; // [G·H, in]
  weightHh: Float32Array; // [G·H, H]
  biasIh: Float32Array; // [G·H]
  biasHh: Float32Array; // [G·H]
}

/**
 * What every recurrent layer shares: its activations for one [T, B] window, time-major so
 * that step t's rows are contiguous, and the gradient products that run once over all T·B
 * rows after the backward loop. Subclasses write the per-step recurrence.
 *
 * Buffers (rows are t·B + b):
 *   h      [(T+1)·B, H]  h[0] is the initial state, h[t+1] the output of step t
 *   gates  [T·B, G·H]    the gate activations each cell keeps for its backward pass
 *   dGates [T·B, G·H]    d loss / d (gate pre-activations)
 *   dOut   [T·B, H]      d loss / d h[t+1] arriving from above (the next layer or the head)
 *   dh     [B, H]        d loss / d h[t], carried backwards through time; after backward, d h0
 */
export abstract class RecurrentLayer {
  readonly h: Float32Array;
  readonly gates: Float32Array;
  readonly dGates: Float32Array;
  readonly dOut: Float32Array;
  readonly dh: Float32Array;
  /** Σ of both biases, added to every row before the products: b_ih + b_hh. */
  protected readonly biasSum: Float32Array;

  constructor(
    readonly weights: LayerTensors,
    readonly grads: LayerTensors | null,
    readonly inputSize: number,
    readonly hiddenSize: number,
    readonly gateRows: number,
    readonly batchSize: number,
    readonly seqLen: number,
  ) {
    const rows = batchSize * seqLen;
    this.h = new Float32Array((seqLen + 1) * batchSize * hiddenSize);
    this.gates = new Float32Array(rows * gateRows);
    this.dGates = new Float32Array(grads ? rows * gateRows : 0);
    this.dOut = new Float32Array(grads ? rows * hiddenSize : 0);
    this.dh = new Float32Array(batchSize * hiddenSize);
    this.biasSum = new Float32Array(gateRows);
  }

  /** Runs the layer over x [T·B, in] (from xOff), reading h[0] (and c[0]) as the initial state. */
  abstract forward(x: Float32Array, xOff: number): void;

  /**
   * Backpropagates dOut through time into dGates, dh (→ d h0) and the cell state, then
   * accumulates the weight gradients and, when dx is given, adds d loss / d x into it.
   */
  abstract backward(x: Float32Array, xOff: number, dx: Float32Array | null, dxOff: number): void;

  /**
   * Copies the state after `steps` steps (the window's last by default) into the initial one:
   * truncated BPTT's carry, with no gradient through it.
   */
  carryState(steps = this.seqLen): void {
    const n = this.batchSize * this.hiddenSize;
    this.h.copyWithin(0, steps * n, (steps + 1) * n);
  }

  resetState(): void {
    this.h.fill(0, 0, this.batchSize * this.hiddenSize);
  }

  protected sumBiases(): void {
    const { biasIh, biasHh } = this.weights;
    for (let j = 0; j < this.gateRows; j++) this.biasSum[j] = biasIh[j] + biasHh[j];
  }

  /**
   * The gradients that need no recurrence, over all T·B rows at once:
   *   dW_ih += dGatesᵀ · x        db_ih += Σ_rows dGates        dx += dGates · W_ih
   *   dW_hh += dHiddenᵀ · h[0..T-1]  db_hh += Σ_rows dHidden
   * dHidden is dGates except for the GRU, whose candidate gate reaches h through r.
   */
  protected accumulateWeightGrads(
    x: Float32Array, xOff: number, dx: Float32Array | null, dxOff: number, dHidden: Float32Array,
  ): void {
    const g = this.grads!;
    const rows = this.batchSize * this.seqLen, G = this.gateRows, H = this.hiddenSize;
    matmulTN(this.dGates, 0, x, xOff, g.weightIh, 0, G, this.inputSize, rows);
    accumulateColumnSums(this.dGates, 0, g.biasIh, rows, G);
    matmulTN(dHidden, 0, this.h, 0, g.weightHh, 0, G, H, rows);
    accumulateColumnSums(dHidden, 0, g.biasHh, rows, G);
    if (dx) matmulNN(this.dGates, 0, this.weights.weightIh, 0, dx, dxOff, rows, this.inputSize, G);
  }
}
