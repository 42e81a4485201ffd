import type { ModelConfig } from './config.js';
import { gateCount } from './config.js';
import { paramLayout, tensorViews } from './params.js';
import { sigmoid } from './kernels.js';

/**
 * One sequence, one token at a time: what generation needs. The same equations as the
 * cells (cells/*.ts), arranged so that a step can be cut by hidden unit: computeUnits(k, j0, j1)
 * produces units [j0, j1) of layer k from the whole previous state, and computeLogits(v0, v1)
 * rows [v0, v1) of the head, so worker threads can each take a range (parallel/inference.ts).
 *
 * A batch of one makes every product a matrix-vector product, which reads each weight once:
 * bound by loads, not arithmetic. So the stepper keeps float64 copies of the weights (a load
 * with no conversion) and state, and layer 0's input projection, which depends only on the
 * token, is a table computed once:
 *   inputTable[v] = W_ih⁰ E[v] + b_ih⁰      [V, G·H]
 *
 * State is double-buffered: step s reads half (s mod 2) of `h`/`c` and writes the other, so
 * threads computing different units never overwrite what another is still reading.
 */
export class Stepper {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly vocabSize: number;
  /** [L][2·H]: the two halves of each layer's hidden state. */
  readonly h: Float64Array[];
  /** [L][2·H] for an LSTM's cell state (empty otherwise). */
  readonly c: Float64Array[];
  readonly logits: Float64Array;
  /** control[0]: the token this step reads; control[1]: which half holds the current state. */
  readonly control: Int32Array;
  readonly table: Float64Array;
  private readonly weightIh: Float64Array[];
  private readonly weightHh: Float64Array[];
  private readonly biasIh: Float64Array[];
  private readonly biasHh: Float64Array[];
  private readonly headWeight: Float64Array;
  private readonly headBias: Float64Array;
  /** This thread's pre-activations: W_hh h + b_hh and W_ih x + b_ih, [G·H] each. */
  private readonly hiddenPre: Float64Array;
  private readonly inputPre: Float64Array;

  /**
   * `weights` is the float64 copy of the parameters (Stepper.weightsOf), `memory` the state,
   * logits and control words (Stepper.memorySize floats), `table` layer 0's input table: pass
   * shared ones to let threads split a step; by default all are made here.
   */
  constructor(
    readonly config: ModelConfig,
    params: Float32Array,
    shared?: { weights: Float64Array; floats: Float64Array; control: Int32Array; table: Float64Array },
  ) {
    const { hiddenSize: H, numLayers: L, vocabSize: V } = config;
    const G = gateCount(config.cell) * H;
    this.hiddenSize = H;
    this.numLayers = L;
    this.vocabSize = V;
    const weights = shared?.weights ?? Float64Array.from(params);
    const views = tensorViews(paramLayout(config), weights);
    const view = (name: string) => views.get(name)!;
    this.weightIh = []; this.weightHh = []; this.biasIh = []; this.biasHh = [];
    for (let k = 0; k < L; k++) {
      this.weightIh.push(view(`rnn.weight_ih_l${k}`));
      this.weightHh.push(view(`rnn.weight_hh_l${k}`));
      this.biasIh.push(view(`rnn.bias_ih_l${k}`));
      this.biasHh.push(view(`rnn.bias_hh_l${k}`));
    }
    this.headWeight = view('head.weight');
    this.headBias = view('head.bias');
    const floats = shared?.floats ?? new Float64Array(Stepper.memorySize(config));
    this.control = shared?.control ?? new Int32Array(2);
    const lstm = config.cell === 'lstm';
    this.h = []; this.c = [];
    for (let k = 0; k < L; k++) {
      this.h.push(floats.subarray(k * 4 * H, k * 4 * H + 2 * H));
      this.c.push(lstm ? floats.subarray(k * 4 * H + 2 * H, (k + 1) * 4 * H) : new Float64Array(0));
    }
    this.logits = floats.subarray(L * 4 * H, L * 4 * H + V);
    this.hiddenPre = new Float64Array(G);
    this.inputPre = new Float64Array(G);
    this.table = shared?.table ?? Stepper.inputTable(config, view('embed.weight'), this.weightIh[0], this.biasIh[0]);
  }

  /** Floats of state, logits: per layer 4·H (h halves, c halves), then V. */
  static memorySize(config: ModelConfig): number {
    return config.numLayers * 4 * config.hiddenSize + config.vocabSize;
  }

  /** inputTable[v] = W_ih⁰ E[v] + b_ih⁰ for every token v. */
  static inputTable(config: ModelConfig, embed: Float64Array, W: Float64Array, b: Float64Array): Float64Array {
    const { vocabSize: V, embedDim: E } = config, G = gateCount(config.cell) * config.hiddenSize;
    const table = new Float64Array(V * G);
    for (let v = 0; v < V; v++) {
      table.set(b, v * G);
      matvec(W, 0, G, E, embed, v * E, table, v * G);
    }
    return table;
  }

  /** Zero state (both halves), parity 0. */
  reset(): void {
    for (const h of this.h) h.fill(0);
    for (const c of this.c) c.fill(0);
    this.control[1] = 0;
  }

  /** Nothing to release: the TokenStepper interface's close, for a stepper on one thread. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** One whole step on this thread: read `token`, advance the state, fill the logits. */
  advance(token: number): Float64Array {
    this.control[0] = token;
    for (let k = 0; k < this.numLayers; k++) this.computeUnits(k, 0, this.hiddenSize);
    this.computeLogits(0, this.vocabSize);
    this.control[1] ^= 1;
    return this.logits;
  }

  /** Units [j0, j1) of layer k for the current step (reads the old half, writes the new). */
  computeUnits(k: number, j0: number, j1: number): void {
    const H = this.hiddenSize, cell = this.config.cell, gates = gateCount(cell);
    const old = this.control[1] * H, neu = H - old;
    const h = this.h[k], hp = this.hiddenPre, xp = this.inputPre;
    // hiddenPre = W_hh h + b_hh ;  inputPre = W_ih x + b_ih (layer 0: the token's table row;
    // layer k > 0: x is the new state of layer k − 1), for the gate rows q·H + [j0, j1)
    const table = this.table, tableRow = this.control[0] * gates * H;
    for (let q = 0; q < gates; q++) {
      const r0 = q * H + j0, r1 = q * H + j1;
      for (let r = r0; r < r1; r++) hp[r] = this.biasHh[k][r];
      matvec(this.weightHh[k], r0, r1, H, h, old, hp, 0);
      if (k === 0) {
        for (let r = r0; r < r1; r++) xp[r] = table[tableRow + r];
      } else {
        for (let r = r0; r < r1; r++) xp[r] = this.biasIh[k][r];
        matvec(this.weightIh[k], r0, r1, H, this.h[k - 1], neu, xp, 0);
      }
    }
    if (cell === 'lstm') {
      const c = this.c[k];
      for (let j = j0; j < j1; j++) {
        // i, f, o = σ(…), g = tanh(…) of inputPre + hiddenPre, gates stacked i, f, g, o
        const i = sigmoid(xp[j] + hp[j]);
        const f = sigmoid(xp[H + j] + hp[H + j]);
        const g = Math.tanh(xp[2 * H + j] + hp[2 * H + j]);
        const o = sigmoid(xp[3 * H + j] + hp[3 * H + j]);
        // c' = f ⊙ c + i ⊙ g ;  h' = o ⊙ tanh(c')
        const cNext = f * c[old + j] + i * g;
        c[neu + j] = cNext;
        h[neu + j] = o * Math.tanh(cNext);
      }
    } else if (cell === 'gru') {
      for (let j = j0; j < j1; j++) {
        // r = σ(W_ir x + b_ir + W_hr h + b_hr) ; z likewise ; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        const r = sigmoid(xp[j] + hp[j]);
        const z = sigmoid(xp[H + j] + hp[H + j]);
        const n = Math.tanh(xp[2 * H + j] + r * hp[2 * H + j]);
        // h' = (1 − z) ⊙ n + z ⊙ h
        h[neu + j] = (1 - z) * n + z * h[old + j];
      }
    } else {
      // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
      for (let j = j0; j < j1; j++) h[neu + j] = Math.tanh(xp[j] + hp[j]);
    }
  }

  /** Rows [v0, v1) of logits = W_head h_L + b_head, from the top layer's new state. */
  computeLogits(v0: number, v1: number): void {
    const H = this.hiddenSize, neu = H - this.control[1] * H;
    for (let v = v0; v < v1; v++) this.logits[v] = this.headBias[v];
    matvec(this.headWeight, v0, v1, H, this.h[this.numLayers - 1], neu, this.logits, 0);
  }
}

/**
 * y[r] += W[r, :] · x[xOff .. xOff + K) for rows [r0, r1) of W [·, K], four rows at a time so
 * each x[k] is loaded once for four multiply-adds.
 */
function matvec(W: Float64Array, r0: number, r1: number, K: number, x: Float64Array, xOff: number, y: Float64Array, yOff: number): void {
  let r = r0;
  for (; r + 3 < r1; r += 4) {
    const a0 = r * K, a1 = a0 + K, a2 = a1 + K, a3 = a2 + K;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let k = 0; k < K; k++) {
      const xk = x[xOff + k];
      s0 += W[a0 + k] * xk; s1 += W[a1 + k] * xk; s2 += W[a2 + k] * xk; s3 += W[a3 + k] * xk;
    }
    y[yOff + r] += s0; y[yOff + r + 1] += s1; y[yOff + r + 2] += s2; y[yOff + r + 3] += s3;
  }
  for (; r < r1; r++) {
    let s = 0;
    for (let k = 0, a = r * K; k < K; k++) s += W[a + k] * x[xOff + k];
    y[yOff + r] += s;
  }
}
