import type { Allocator } from '../kernels/arena.js';
import type { Kernels } from '../kernels/kernels.js';

/** A layer's four tensors (or their gradients) as views into the flat buffers; G = gateCount · H gate rows. */
export interface LayerTensors {
  weightIh: Float32Array; // [G, in]
  weightHh: Float32Array; // [G, H]
  biasIh: Float32Array; // [G]
  biasHh: Float32Array; // [G]
}

/** Layer 0's input read as tokens (LanguageModel decides where it pays): see RecurrentLayer.readTokens. */
export interface TokenInput {
  /** The window's tokens, time-major (row t·B + b), from the allocator. */
  tokens: Int32Array;
  /** The embedding [V, in]; its gradient, or null for inference. */
  embed: Float32Array;
  embedGrad: Float32Array | null;
  vocabSize: number;
}

/** What a layer is built from: its tensors, its gradients (null: inference only), its sizes and its kernels. */
export interface LayerOptions {
  kernels: Kernels;
  /** Where its activations are allocated (by default the kernels' arena). */
  allocator: Allocator;
  weights: LayerTensors;
  grads: LayerTensors | null;
  inputSize: number;
  hiddenSize: number;
  batchSize: number;
  seqLen: number;
}

/**
 * What every recurrent layer shares: its activations for one [T, B] window, time-major so
 * that step t's rows are contiguous, and the gradient products that run once over all T·B
 * rows after the backward loop. Each cell writes its recurrence (`advance`, one step) and its
 * backward pass; `forward` is the same for all.
 *
 * Buffers (rows are t·B + b; G = gateCount · H, the gate rows):
 *   h      [(T+1)·B, H]  h[0] is the initial state, h[t+1] the output of step t
 *   gates  [T·B, G]      the gate activations each cell keeps for its backward pass
 *   dGates [T·B, G]      d loss / d (gate pre-activations)
 *   dOut   [T·B, H]      d loss / d h[t+1] arriving from above (the next layer or the head)
 *   dh     [B, H]        d loss / d h[t], carried backwards through time; after backward, d h0
 *
 * One token at a time (B = T = 1, generation), a step can be cut by hidden unit: advance(0,
 * j0, j1) computes units [j0, j1) from the whole previous state, so threads can each take a
 * range (parallel/inference.ts). The gate rows of unit j are j, H + j, 2H + j, … of W.
 */
export abstract class RecurrentLayer {
  readonly kernels: Kernels;
  readonly weights: LayerTensors;
  readonly grads: LayerTensors | null;
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly h: Float32Array;
  /** The states a step hands the next, [(T+1)·B, H] each: h, and an LSTM's c. */
  readonly carried: Float32Array[];
  readonly gates: Float32Array;
  readonly dGates: Float32Array;
  readonly dOut: Float32Array;
  readonly dh: Float32Array;
  private readonly allocator: Allocator;
  /**
   * Layer 0's input projection of every token (inputTable[v] = W_ih E[v] + bias), built by
   * buildInputTable: for generation, where a batch of one then skips that product, and for
   * each forward of a layer that reads tokens.
   */
  private inputTable: Float32Array | null = null;
  /** Set by readTokens: the tokens this layer reads, and d loss / d inputTable [V, G] (training). */
  private tokenInput: TokenInput | null = null;
  private tableGrad: Float32Array | null = null;
  /**
   * W_hh packed for the recurrent products of a training window (forward: h W_hhᵀ; backward:
   * dGates · W_hh), once a window for all its time steps; null for inference.
   */
  private readonly packedHh: Float32Array | null;
  private readonly packedHhBack: Float32Array | null;
  /** W_ih and W_hh packed for a batch of one's matrix-vector products (packMatvec) by packForGeneration; else null. */
  private matvecIh: Float32Array | null = null;
  private matvecHh: Float32Array | null = null;

  constructor(options: LayerOptions, readonly gateCount: number) {
    this.kernels = options.kernels;
    this.weights = options.weights;
    this.grads = options.grads;
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.batchSize = options.batchSize;
    this.seqLen = options.seqLen;
    this.allocator = options.allocator;
    const { allocator, batchSize: B, seqLen: T, hiddenSize: H } = options;
    const G = gateCount * H, rows = B * T, training = options.grads !== null;
    this.h = allocator.floats((T + 1) * B * H);
    this.carried = [this.h];
    this.gates = allocator.floats(rows * G);
    this.dGates = allocator.floats(training ? rows * G : 0);
    this.dOut = allocator.floats(training ? rows * H : 0);
    this.dh = allocator.floats(B * H);
    this.packedHh = training ? allocator.floats(this.kernels.packedFloats(G, H)) : null;
    this.packedHhBack = training ? allocator.floats(this.kernels.packedFloats(H, G)) : null;
  }

  /** G: the rows of the stacked gate matrices, gateCount · H. */
  get gateRows(): number {
    return this.gateCount * this.hiddenSize;
  }

  /** The bias added to the input projection: b_ih + b_hh, except where a cell keeps b_hh apart. */
  protected abstract inputBias(): Float32Array;

  /** `into` = b_ih + b_hh: the input bias of a cell whose two biases enter every pre-activation alike. */
  protected summedBiases(into: Float32Array): Float32Array {
    const { biasIh, biasHh } = this.weights;
    for (let r = 0; r < into.length; r++) into[r] = biasIh[r]! + biasHh[r]!;
    return into;
  }

  /** Step t of the recurrence for hidden units [j0, j1), after its input projection is in `gates`. */
  abstract advance(t: number, j0: number, j1: number): void;

  /**
   * Backpropagates dOut through time into dGates, dh (→ d h0) and the cell state, then
   * accumulates the weight gradients and, when dx is given, adds d loss / d x into it
   * (x and dx are null where the layer reads tokens: the embedding's gradient is its own).
   */
  abstract backward(x: Float32Array | null, xOff: number, dx: Float32Array | null, dxOff: number): void;

  /**
   * Runs the layer over x [T·B, in] (from xOff), or over its tokens (x null, after
   * readTokens), reading h[0] (and c[0]) as the initial state.
   */
  forward(x: Float32Array | null, xOff: number): void {
    if (this.packedHh) this.kernels.packWeights('NT', this.weights.weightHh, 0, this.packedHh, 0, this.gateRows, this.hiddenSize);
    if (x) this.projectInput(x, xOff, 0, this.hiddenSize);
    else this.projectTokens();
    for (let t = 0; t < this.seqLen; t++) this.advance(t, 0, this.hiddenSize);
  }

  /**
   * Makes this layer (layer 0) read its input as tokens: x = E[token] for every row, so its
   * input projection is a gather from inputTable (V rows of product instead of T·B), and in
   * backward, with S[v] = Σ of dGates over the rows of token v,
   *   dW_ih += Sᵀ · E     db_ih += Σ_v S[v]     dE += S · W_ih
   * Worth it where the vocabulary is small beside the window's rows.
   */
  readTokens(input: TokenInput): void {
    this.tokenInput = input;
    this.buildInputTable(input.embed, input.vocabSize, false);
    this.tableGrad = this.allocator.floats(this.grads ? input.vocabSize * this.gateRows : 0);
  }

  /** gates[r] = inputTable[tokens[r]] for every row of the window, the table built from the current weights. */
  private projectTokens(): void {
    const { tokens, embed, vocabSize } = this.tokenInput!;
    this.buildInputTable(embed, vocabSize, true);
    this.kernels.gatherRows(this.inputTable!, 0, tokens, 0, this.gates, 0, this.batchSize * this.seqLen, this.gateRows);
  }

  /**
   * gates = x W_ihᵀ + bias for units [j0, j1): every step of the window at once, the largest
   * product of the layer (a batch of one cuts it by unit, for threads that share a step).
   */
  projectInput(x: Float32Array, xOff: number, j0: number, j1: number): void {
    const bias = this.inputBias(), rows = this.batchSize * this.seqLen;
    this.project(x, xOff, this.weights.weightIh, this.matvecIh, bias, this.gates, 0, rows, this.inputSize, j0, j1);
  }

  /** The input projection of `token` for units [j0, j1), read from the table (layer 0 of a batch of one). */
  projectToken(token: number, j0: number, j1: number): void {
    const G = this.gateRows, H = this.hiddenSize, table = this.inputTable!;
    for (let q = 0; q < this.gateCount; q++) {
      this.kernels.broadcastRows(this.gates, q * H + j0, table, token * G + q * H + j0, 1, j1 - j0);
    }
  }

  get hasInputTable(): boolean {
    return this.inputTable !== null;
  }

  /**
   * inputTable[v] = W_ih E[v] + bias for every token v of the embedding E [V, in]; `fill`
   * false only takes its place (from `allocator`, by default the layer's).
   */
  buildInputTable(embed: Float32Array, vocabSize: number, fill: boolean, allocator = this.allocator): void {
    const G = this.gateRows;
    this.inputTable ??= allocator.floats(vocabSize * G);
    if (!fill) return;
    this.kernels.broadcastRows(this.inputTable, 0, this.inputBias(), 0, vocabSize, G);
    this.kernels.matmulNT(embed, 0, this.weights.weightIh, 0, this.inputTable, 0, vocabSize, G, this.inputSize);
  }

  /**
   * For generation (a batch of one): W_hh, and W_ih unless the input table replaces it, packed
   * for the matrix-vector products. `fill` false only takes their place, as buildInputTable's.
   */
  packForGeneration(fill: boolean, allocator = this.allocator): void {
    const kernels = this.kernels, G = this.gateRows, H = this.hiddenSize, inputSize = this.inputSize;
    if (!this.inputTable) this.matvecIh ??= allocator.floats(kernels.matvecFloats(G, inputSize));
    this.matvecHh ??= allocator.floats(kernels.matvecFloats(G, H));
    if (!fill) return;
    if (this.matvecIh) kernels.packMatvec(this.weights.weightIh, 0, this.matvecIh, 0, G, inputSize);
    kernels.packMatvec(this.weights.weightHh, 0, this.matvecHh, 0, G, H);
  }

  /** out[B, G] (from outOff) = bias + h[t] W_hhᵀ for units [j0, j1): step t's recurrent product. */
  protected projectHidden(t: number, bias: Float32Array | null, out: Float32Array, outOff: number, j0: number, j1: number): void {
    const B = this.batchSize, H = this.hiddenSize;
    if (this.packedHh && j0 === 0 && j1 === H) {
      if (bias) this.kernels.broadcastRows(out, outOff, bias, 0, B, this.gateRows);
      this.kernels.matmulPacked(this.h, t * B * H, this.packedHh, 0, out, outOff, B, this.gateRows, H);
      return;
    }
    this.project(this.h, t * B * H, this.weights.weightHh, this.matvecHh, bias, out, outOff, B, H, j0, j1);
  }

  /** Packs W_hh for backHidden: once, before a backward pass's time steps. */
  protected packForBackward(): void {
    this.kernels.packWeights('NN', this.weights.weightHh, 0, this.packedHhBack!, 0, this.hiddenSize, this.gateRows);
  }

  /** dh += d[t] · W_hh, with d [T·B, G] the gradient of step t's recurrent pre-activations. */
  protected backHidden(d: Float32Array, t: number): void {
    const B = this.batchSize, G = this.gateRows;
    this.kernels.matmulPacked(d, t * B * G, this.packedHhBack!, 0, this.dh, 0, B, this.hiddenSize, G);
  }

  /**
   * out[rows, G] (from outOff) = bias + x[rows, K] Wᵀ for the gate rows of units [j0, j1):
   * one product for all units, or (a single row) one per gate block.
   */
  protected project(
    x: Float32Array, xOff: number, W: Float32Array, packed: Float32Array | null, bias: Float32Array | null,
    out: Float32Array, outOff: number, rows: number, K: number, j0: number, j1: number,
  ): void {
    const H = this.hiddenSize, G = this.gateRows;
    if (j0 === 0 && j1 === H) {
      if (bias) this.kernels.broadcastRows(out, outOff, bias, 0, rows, G);
      this.multiply(x, xOff, W, packed, out, outOff, rows, K, 0, G);
      return;
    }
    if (rows !== 1) throw new RangeError('a step is cut by hidden unit only for a batch of one');
    for (let q = 0; q < this.gateCount; q++) {
      const r0 = q * H + j0, r1 = q * H + j1;
      if (bias) for (let r = r0; r < r1; r++) out[outOff + r] = bias[r]!;
      this.multiply(x, xOff, W, packed, out, outOff, 1, K, r0, r1);
    }
  }

  /** out[rows, r0..r1) += x[rows, K] · W[r0..r1)ᵀ; a single row reads W as packMatvec packed it, where `packed` holds it. */
  private multiply(
    x: Float32Array, xOff: number, W: Float32Array, packed: Float32Array | null, out: Float32Array, outOff: number,
    rows: number, K: number, r0: number, r1: number,
  ): void {
    if (packed && rows === 1) this.kernels.matvecPacked(x, xOff, packed, 0, out, outOff, this.gateRows, K, r0, r1);
    else this.kernels.matmulNT(x, xOff, W, r0 * K, out, outOff + r0, rows, r1 - r0, K);
  }

  /**
   * Copies each carried state after `steps` steps (the window's last by default) into the
   * initial one, for units [j0, j1) of every row: truncated BPTT's carry, with no gradient through it.
   */
  carryState(steps = this.seqLen, j0 = 0, j1 = this.hiddenSize): void {
    for (const state of this.carried) copyState(state, steps, this.batchSize, this.hiddenSize, j0, j1);
  }

  /** Every carried state's initial rows back to zero. */
  resetState(): void {
    for (const state of this.carried) state.fill(0, 0, this.batchSize * this.hiddenSize);
  }

  /**
   * The gradients that need no recurrence, over all T·B rows at once:
   *   dW_ih += dGatesᵀ · x        db_ih += Σ_rows dGates        dx += dGates · W_ih
   *   dW_hh += dHiddenᵀ · h[0..T-1]  db_hh += Σ_rows dHidden
   * dHidden is dGates except for the GRU, whose candidate gate reaches h through r. A layer
   * that reads tokens takes its input's share through the table (readTokens).
   */
  protected accumulateWeightGrads(
    x: Float32Array | null, xOff: number, dx: Float32Array | null, dxOff: number, dHidden: Float32Array,
  ): void {
    const g = this.grads!, k = this.kernels;
    const rows = this.batchSize * this.seqLen, G = this.gateRows, H = this.hiddenSize;
    if (this.tokenInput) {
      this.accumulateTableGrads();
    } else {
      k.matmulTN(this.dGates, 0, x!, xOff, g.weightIh, 0, G, this.inputSize, rows);
      k.addColumnSums(this.dGates, 0, g.biasIh, 0, rows, G);
      if (dx) k.matmulNN(this.dGates, 0, this.weights.weightIh, 0, dx, dxOff, rows, this.inputSize, G);
    }
    k.matmulTN(dHidden, 0, this.h, 0, g.weightHh, 0, G, H, rows);
    k.addColumnSums(dHidden, 0, g.biasHh, 0, rows, G);
  }

  /** S[v] = Σ dGates over the rows of token v;  dW_ih += Sᵀ · E;  db_ih += Σ_v S[v];  dE += S · W_ih. */
  private accumulateTableGrads(): void {
    const { tokens, embed, embedGrad, vocabSize: V } = this.tokenInput!;
    const g = this.grads!, k = this.kernels, S = this.tableGrad!, G = this.gateRows;
    S.fill(0);
    k.scatterAddRows(this.dGates, 0, tokens, 0, S, 0, this.batchSize * this.seqLen, G);
    k.matmulTN(S, 0, embed, 0, g.weightIh, 0, G, this.inputSize, V);
    k.addColumnSums(S, 0, g.biasIh, 0, V, G);
    if (embedGrad) k.matmulNN(S, 0, this.weights.weightIh, 0, embedGrad, 0, V, this.inputSize, G);
  }
}

/** state[0] ← state[steps] for units [j0, j1) of each of the B rows of a [(T+1)·B, H] buffer. */
function copyState(state: Float32Array, steps: number, B: number, H: number, j0: number, j1: number): void {
  const from = steps * B * H;
  if (j0 === 0 && j1 === H) {
    state.copyWithin(0, from, from + B * H);
    return;
  }
  for (let b = 0; b < B; b++) {
    for (let j = j0; j < j1; j++) state[b * H + j] = state[from + b * H + j]!;
  }
}
