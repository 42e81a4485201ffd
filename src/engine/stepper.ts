import type { ModelConfig } from './config.js';
import { gateCount } from './config.js';
import { paramLayout } from './params.js';
import { sigmoid } from './kernels.js';

/**
 * One sequence, one token at a time: what generation needs. The same equations as the
 * cells (cells/*.ts), arranged so that a step can be cut by hidden unit: computeUnits(k, j0, j1)
 * produces units [j0, j1) of layer k from the whole previous state, and computeLogits(v0, v1)
 * rows [v0, v1) of the head, so worker threads can each take a range (parallel/inference.ts).
 *
 * Layer 0's input projection depends only on the token, so it is a table computed once:
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
  readonly h: Float32Array[];
  /** [L][2·H] for an LSTM's cell state (empty otherwise). */
  readonly c: Float32Array[];
  readonly logits: Float32Array;
  private readonly inputTable: Float32Array;
  private readonly weightIh: Float32Array[];
  private readonly weightHh: Float32Array[];
  private readonly biasIh: Float32Array[];
  private readonly biasHh: Float32Array[];
  private readonly headWeight: Float32Array;
  private readonly headBias: Float32Array;
  /** Four running dot products, the only scratch a unit needs. */
  private readonly acc = new Float64Array(8);

  /**
   * `memory` (optional) supplies the state, logits and control words from shared memory:
   * lay it out with Stepper.memoryLayout. `token` and `parity` live in its control words.
   */
  constructor(
    readonly config: ModelConfig,
    params: Float32Array,
    memory?: { floats: Float32Array; control: Int32Array },
    inputTable?: Float32Array,
  ) {
    const { hiddenSize: H, numLayers: L, vocabSize: V, embedDim: E } = config;
    const G = gateCount(config.cell) * H;
    this.hiddenSize = H;
    this.numLayers = L;
    this.vocabSize = V;
    const layout = paramLayout(config);
    const view = (name: string) => {
      const s = layout.byName.get(name)!;
      return params.subarray(s.offset, s.offset + s.size);
    };
    this.weightIh = []; this.weightHh = []; this.biasIh = []; this.biasHh = [];
    for (let k = 0; k < L; k++) {
      this.weightIh.push(view(`rnn.weight_ih_l${k}`));
      this.weightHh.push(view(`rnn.weight_hh_l${k}`));
      this.biasIh.push(view(`rnn.bias_ih_l${k}`));
      this.biasHh.push(view(`rnn.bias_hh_l${k}`));
    }
    this.headWeight = view('head.weight');
    this.headBias = view('head.bias');
    const floats = memory?.floats ?? new Float32Array(Stepper.memoryLayout(config).floats);
    this.control = memory?.control ?? new Int32Array(2);
    const lstm = config.cell === 'lstm';
    this.h = []; this.c = [];
    for (let k = 0; k < L; k++) {
      this.h.push(floats.subarray(k * 4 * H, k * 4 * H + 2 * H));
      this.c.push(lstm ? floats.subarray(k * 4 * H + 2 * H, (k + 1) * 4 * H) : new Float32Array(0));
    }
    this.logits = floats.subarray(L * 4 * H, L * 4 * H + V);

    if (inputTable) {
      this.inputTable = inputTable;
    } else {
      // inputTable[v] = W_ih⁰ E[v] + b_ih⁰
      this.inputTable = new Float32Array(V * G);
      const embed = view('embed.weight'), W = this.weightIh[0], b = this.biasIh[0];
      for (let v = 0; v < V; v++) {
        for (let r = 0; r < G; r++) {
          let s = b[r];
          for (let e = 0; e < E; e++) s += W[r * E + e] * embed[v * E + e];
          this.inputTable[v * G + r] = s;
        }
      }
    }
  }

  /** Shared-memory sizes: per layer 4·H floats (h halves, c halves), then V logits; 2 control words. */
  static memoryLayout(config: ModelConfig): { floats: number } {
    return { floats: config.numLayers * 4 * config.hiddenSize + config.vocabSize };
  }

  /** control[0]: the token this step reads; control[1]: which half holds the current state. */
  readonly control: Int32Array;

  get table(): Float32Array {
    return this.inputTable;
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
  advance(token: number): Float32Array {
    this.control[0] = token;
    for (let k = 0; k < this.numLayers; k++) this.computeUnits(k, 0, this.hiddenSize);
    this.computeLogits(0, this.vocabSize);
    this.control[1] ^= 1;
    return this.logits;
  }

  /** Units [j0, j1) of layer k for the current step (reads the old half, writes the new). */
  computeUnits(k: number, j0: number, j1: number): void {
    const H = this.hiddenSize, cell = this.config.cell;
    const old = this.control[1] * H, neu = H - old;
    const h = this.h[k], Whh = this.weightHh[k], bhh = this.biasHh[k];
    // the input x: layer 0 reads the table; layer k > 0 the new state of layer k−1
    const x = k === 0 ? null : this.h[k - 1], xOff = neu, Wih = this.weightIh[k], bih = this.biasIh[k];
    const tableRow = this.control[0] * gateCount(cell) * H, acc = this.acc;
    if (cell === 'lstm') {
      const c = this.c[k];
      for (let j = j0; j < j1; j++) {
        // a_q = W_iq x + b_iq + W_hq h + b_hq  for q = i, f, g, o
        this.project(Whh, j, H, 4, H, h, old, 0);
        this.projectInput(x, xOff, Wih, bih, tableRow, j, H, 4);
        const i = sigmoid(acc[4] + acc[0] + bhh[j]);
        const f = sigmoid(acc[5] + acc[1] + bhh[H + j]);
        const g = Math.tanh(acc[6] + acc[2] + bhh[2 * H + j]);
        const o = sigmoid(acc[7] + acc[3] + bhh[3 * H + j]);
        // c' = f ⊙ c + i ⊙ g ;  h' = o ⊙ tanh(c')
        const cNext = f * c[old + j] + i * g;
        c[neu + j] = cNext;
        h[neu + j] = o * Math.tanh(cNext);
      }
    } else if (cell === 'gru') {
      for (let j = j0; j < j1; j++) {
        this.project(Whh, j, H, 3, H, h, old, 0);
        this.projectInput(x, xOff, Wih, bih, tableRow, j, H, 3);
        // r = σ(W_ir x + b_ir + W_hr h + b_hr) ; z likewise ; n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
        const r = sigmoid(acc[4] + acc[0] + bhh[j]);
        const z = sigmoid(acc[5] + acc[1] + bhh[H + j]);
        const n = Math.tanh(acc[6] + r * (acc[2] + bhh[2 * H + j]));
        // h' = (1 − z) ⊙ n + z ⊙ h
        h[neu + j] = (1 - z) * n + z * h[old + j];
      }
    } else {
      for (let j = j0; j < j1; j++) {
        this.project(Whh, j, H, 1, H, h, old, 0);
        this.projectInput(x, xOff, Wih, bih, tableRow, j, H, 1);
        // h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
        h[neu + j] = Math.tanh(acc[4] + acc[0] + bhh[j]);
      }
    }
  }

  /** acc[4 + q] = W_ih x + b_ih for the rows q·H + j (layer 0: from the token's table row). */
  private projectInput(
    x: Float32Array | null, xOff: number, Wih: Float32Array, bih: Float32Array, tableRow: number, j: number, H: number, gates: number,
  ): void {
    const acc = this.acc;
    if (x === null) {
      for (let q = 0; q < gates; q++) acc[4 + q] = this.inputTable[tableRow + q * H + j];
      return;
    }
    this.project(Wih, j, H, gates, H, x, xOff, 4);
    for (let q = 0; q < gates; q++) acc[4 + q] += bih[q * H + j];
  }

  /** Rows [v0, v1) of logits = W_head h_L + b_head, from the layer below's new state. */
  computeLogits(v0: number, v1: number): void {
    const H = this.hiddenSize, top = this.h[this.numLayers - 1], neu = H - this.control[1] * H;
    const W = this.headWeight;
    let v = v0;
    for (; v + 3 < v1; v += 4) {
      this.project(W, v, 1, 4, H, top, neu, 0);
      const a = this.acc;
      this.logits[v] = a[0] + this.headBias[v]; this.logits[v + 1] = a[1] + this.headBias[v + 1];
      this.logits[v + 2] = a[2] + this.headBias[v + 2]; this.logits[v + 3] = a[3] + this.headBias[v + 3];
    }
    for (; v < v1; v++) {
      let s = 0;
      for (let e = 0; e < H; e++) s += W[v * H + e] * top[neu + e];
      this.logits[v] = s + this.headBias[v];
    }
  }

  /**
   * acc[at + q] = W[row + q·stride] · x[xOff .. xOff + K) for q < rows ≤ 4: the gates of one
   * unit (stride H) or four head rows (stride 1), reading x once for all of them.
   */
  private project(W: Float32Array, row: number, stride: number, rows: number, K: number, x: Float32Array, xOff: number, at: number): void {
    const a0 = row * K, a1 = a0 + stride * K, a2 = a1 + stride * K, a3 = a2 + stride * K;
    const acc = this.acc;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    if (rows === 4) {
      for (let e = 0; e < K; e++) {
        const xe = x[xOff + e];
        s0 += W[a0 + e] * xe; s1 += W[a1 + e] * xe; s2 += W[a2 + e] * xe; s3 += W[a3 + e] * xe;
      }
      acc[at + 3] = s3;
    } else if (rows === 3) {
      for (let e = 0; e < K; e++) {
        const xe = x[xOff + e];
        s0 += W[a0 + e] * xe; s1 += W[a1 + e] * xe; s2 += W[a2 + e] * xe;
      }
    } else {
      for (let e = 0; e < K; e++) s0 += W[a0 + e] * x[xOff + e];
    }
    acc[at] = s0; acc[at + 1] = s1; acc[at + 2] = s2;
  }
}
