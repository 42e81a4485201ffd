import type { ModelConfig } from './config.js';
import { type LayerTensors, RecurrentLayer } from './cells/layer.js';
import { GruLayer } from './cells/gru.js';
import { LstmLayer } from './cells/lstm.js';
import { RnnLayer } from './cells/rnn.js';
import { broadcastRows, accumulateColumnSums, matmulNN, matmulNT, matmulTN } from './kernels.js';
import { softmaxCrossEntropy } from './loss.js';
import { type ParamLayout, paramLayout, tensorViews } from './params.js';
import { Rng } from './random.js';

/**
 * The character-level language model over one [B, T] window:
 *
 *   tokens [B,T] → embed (V×E lookup) → L recurrent layers (hidden H)
 *                → dropout between layers (training only) → head (H→V) → logits
 *
 * It computes over the flat `params` buffer and accumulates into the flat `grads` buffer (the
 * layout of params.ts; either may live in a SharedArrayBuffer). Every activation is allocated
 * here, once, for this batch shape: forward and backward allocate nothing.
 *
 * Callers fill `tokens` and `targets` batch-major (b·T + t). Activations are time-major
 * (row t·B + b), so each step's rows are contiguous for the matrix products.
 */
export class CharRnn {
  readonly layout: ParamLayout;
  readonly layers: RecurrentLayer[];
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V], time-major. */
  readonly logits: Float32Array;

  private readonly embedWeight: Float32Array;
  private readonly headWeight: Float32Array;
  private readonly headBias: Float32Array;
  private readonly embedGrad: Float32Array | null;
  private readonly headWeightGrad: Float32Array | null;
  private readonly headBiasGrad: Float32Array | null;
  /** The embedded input [T·B, E]. */
  private readonly embedded: Float32Array;
  /** d loss / d embedded [T·B, E]. */
  private readonly dEmbedded: Float32Array;
  private readonly dLogits: Float32Array;
  /** Per boundary between layers k and k+1: keep-mask (0 or 1/(1−p)) and the dropped output. */
  private readonly dropMasks: Float32Array[];
  private readonly dropped: Float32Array[];
  private dropoutActive = false;
  private readonly dropoutRng = new Rng(0);

  constructor(
    readonly config: ModelConfig,
    readonly params: Float32Array,
    readonly grads: Float32Array | null,
    readonly batchSize: number,
    readonly seqLen: number,
    /** Index of this window's first sequence in the whole batch (a worker's share starts there). */
    readonly firstRow = 0,
  ) {
    const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = config;
    this.layout = paramLayout(config);
    if (params.length !== this.layout.total) throw new Error(`params has ${params.length} values, the model needs ${this.layout.total}`);
    if (grads && grads.length !== this.layout.total) throw new Error(`grads has ${grads.length} values, the model needs ${this.layout.total}`);
    const p = tensorViews(this.layout, params), g = grads && tensorViews(this.layout, grads);
    const layerTensors = (views: Map<string, Float32Array>, k: number): LayerTensors => ({
      weightIh: views.get(`rnn.weight_ih_l${k}`)!, weightHh: views.get(`rnn.weight_hh_l${k}`)!,
      biasIh: views.get(`rnn.bias_ih_l${k}`)!, biasHh: views.get(`rnn.bias_hh_l${k}`)!,
    });
    const rows = batchSize * seqLen;
    this.embedWeight = p.get('embed.weight')!;
    this.headWeight = p.get('head.weight')!;
    this.headBias = p.get('head.bias')!;
    this.embedGrad = g && g.get('embed.weight')!;
    this.headWeightGrad = g && g.get('head.weight')!;
    this.headBiasGrad = g && g.get('head.bias')!;
    const Layer = config.cell === 'lstm' ? LstmLayer : config.cell === 'gru' ? GruLayer : RnnLayer;
    this.layers = [];
    for (let k = 0; k < L; k++) {
      this.layers.push(new Layer(layerTensors(p, k), g && layerTensors(g, k), k === 0 ? E : H, H, batchSize, seqLen));
    }
    this.tokens = new Int32Array(rows);
    this.targets = new Int32Array(rows);
    this.logits = new Float32Array(rows * V);
    this.embedded = new Float32Array(rows * E);
    this.dEmbedded = new Float32Array(grads ? rows * E : 0);
    this.dLogits = new Float32Array(grads ? rows * V : 0);
    const withDropout = config.dropout > 0 && grads !== null;
    this.dropMasks = [];
    this.dropped = [];
    for (let k = 0; k + 1 < L && withDropout; k++) {
      this.dropMasks.push(new Float32Array(rows * H));
      this.dropped.push(new Float32Array(rows * H));
    }
  }

  /**
   * Forward pass from the current initial state. Given a dropout seed (training), draws the
   * masks between layers; without one dropout is the identity. Each sequence's masks come
   * from (seed, layer, its index in the whole batch), so they do not depend on how the batch
   * is shared among workers.
   */
  forward(dropoutSeed: number | null = null): void {
    const { vocabSize: V, embedDim: E, hiddenSize: H } = this.config;
    const B = this.batchSize, T = this.seqLen, rows = B * T;
    // x[t·B + b] = E[tokens[b·T + t]]
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const src = this.tokens[b * T + t] * E, dst = (t * B + b) * E;
        for (let e = 0; e < E; e++) this.embedded[dst + e] = this.embedWeight[src + e];
      }
    }
    this.dropoutActive = dropoutSeed !== null && this.dropMasks.length > 0;
    let x = this.embedded, xOff = 0;
    for (let k = 0; k < this.layers.length; k++) {
      const layer = this.layers[k];
      layer.forward(x, xOff);
      x = layer.h; xOff = B * H;
      if (this.dropoutActive && k + 1 < this.layers.length) {
        // inverted dropout: y = h ⊙ m / (1 − p), m ~ Bernoulli(1 − p)
        const mask = this.dropMasks[k], out = this.dropped[k], p = this.config.dropout, keep = 1 / (1 - p);
        for (let b = 0; b < B; b++) {
          this.dropoutRng.reseed(dropoutSeed!, k, this.firstRow + b);
          for (let t = 0; t < T; t++) {
            for (let j = 0, i = (t * B + b) * H; j < H; j++, i++) mask[i] = this.dropoutRng.uniform() < p ? 0 : keep;
          }
        }
        for (let i = 0; i < rows * H; i++) out[i] = x[xOff + i] * mask[i];
        x = out; xOff = 0;
      }
    }
    // logits = h_L W_headᵀ + b_head
    broadcastRows(this.logits, 0, this.headBias, rows, V);
    matmulNT(x, xOff, this.headWeight, 0, this.logits, 0, rows, V, H);
  }

  /** Σ of the cross-entropy over the first `steps` columns (nats), from the last forward's logits. */
  lossSum(steps = this.seqLen): number {
    return softmaxCrossEntropy(this.logits, this.targets, this.batchSize, this.seqLen, steps, this.config.vocabSize, null, 1);
  }

  /**
   * Loss and backward pass after forward(). The gradient of `scale · Σ loss` is added to grads
   * (scale = 1 / (all B·T positions of the step) gives the mean); returns Σ loss.
   * Afterwards each layer's dh (and an LSTM's dc) holds d loss / d initial state.
   */
  backward(scale: number): number {
    const { vocabSize: V, embedDim: E, hiddenSize: H } = this.config;
    const B = this.batchSize, T = this.seqLen, rows = B * T, L = this.layers.length;
    const loss = softmaxCrossEntropy(this.logits, this.targets, B, T, T, V, this.dLogits, scale);
    const top = this.layers[L - 1];
    // dW_head += dLogitsᵀ · h_L ;  db_head += Σ dLogits ;  dh_L = dLogits · W_head
    matmulTN(this.dLogits, 0, top.h, B * H, this.headWeightGrad!, 0, V, H, rows);
    accumulateColumnSums(this.dLogits, 0, this.headBiasGrad!, rows, V);
    top.dOut.fill(0);
    matmulNN(this.dLogits, 0, this.headWeight, 0, top.dOut, 0, rows, H, V);
    for (let k = L - 1; k >= 0; k--) {
      const layer = this.layers[k];
      const below = k > 0 ? this.layers[k - 1] : null;
      const [x, xOff] = k === 0 ? [this.embedded, 0] : this.dropoutActive ? [this.dropped[k - 1], 0] : [below!.h, B * H];
      const dx = below ? below.dOut : this.dEmbedded;
      dx.fill(0);
      layer.backward(x, xOff, dx, 0);
      if (below && this.dropoutActive) {
        const mask = this.dropMasks[k - 1];
        for (let i = 0; i < rows * H; i++) dx[i] *= mask[i];
      }
    }
    // dE[tokens[b·T + t]] += dEmbedded[t·B + b]
    const dE = this.embedGrad!;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const id = this.tokens[b * T + t], src = (t * B + b) * E, dst = id * E;
        for (let e = 0; e < E; e++) dE[dst + e] += this.dEmbedded[src + e];
      }
    }
    return loss;
  }

  /** Truncated BPTT: the final state becomes the next window's initial state, no gradient through it. */
  carryState(steps = this.seqLen): void {
    for (const layer of this.layers) layer.carryState(steps);
  }

  resetState(): void {
    for (const layer of this.layers) layer.resetState();
  }

  /** Sets the initial state from [L, B, H] arrays (c only for an LSTM). */
  setInitialState(h0: ArrayLike<number>, c0: ArrayLike<number> | null = null): void {
    const n = this.batchSize * this.config.hiddenSize;
    this.layers.forEach((layer, k) => {
      for (let i = 0; i < n; i++) layer.h[i] = h0[k * n + i];
      if (layer instanceof LstmLayer && c0) for (let i = 0; i < n; i++) layer.c[i] = c0[k * n + i];
    });
  }

  /** The final state as [L, B, H] arrays (c is null unless the cell is an LSTM). */
  finalState(): { h: Float32Array; c: Float32Array | null } {
    return this.stateAt(this.seqLen);
  }

  /** The initial state (after carryState: the state the next window starts from). */
  initialState(): { h: Float32Array; c: Float32Array | null } {
    return this.stateAt(0);
  }

  private stateAt(t: number): { h: Float32Array; c: Float32Array | null } {
    const n = this.batchSize * this.config.hiddenSize;
    const h = new Float32Array(this.layers.length * n);
    const c = this.config.cell === 'lstm' ? new Float32Array(this.layers.length * n) : null;
    this.layers.forEach((layer, k) => {
      h.set(layer.h.subarray(t * n, (t + 1) * n), k * n);
      if (c && layer instanceof LstmLayer) c.set(layer.c.subarray(t * n, (t + 1) * n), k * n);
    });
    return { h, c };
  }

  /** d loss / d initial state as [L, B, H] arrays, after backward(). */
  initialStateGrad(): { h: Float32Array; c: Float32Array | null } {
    const n = this.batchSize * this.config.hiddenSize;
    const h = new Float32Array(this.layers.length * n);
    const c = this.config.cell === 'lstm' ? new Float32Array(this.layers.length * n) : null;
    this.layers.forEach((layer, k) => {
      h.set(layer.dh, k * n);
      if (c && layer instanceof LstmLayer) c.set(layer.dc, k * n);
    });
    return { h, c };
  }
}

/**
 * PyTorch's default initialisation: N(0, 1) for the embedding, U(−1/√H, 1/√H) for every
 * recurrent weight and bias and for the head (nn.Linear's bound 1/√fan_in with fan_in = H).
 */
export function initParams(config: ModelConfig, rng: Rng): Float32Array {
  const layout = paramLayout(config);
  const params = new Float32Array(layout.total);
  const bound = 1 / Math.sqrt(config.hiddenSize);
  for (const spec of layout.specs) {
    for (let i = spec.offset; i < spec.offset + spec.size; i++) {
      params[i] = spec.name === 'embed.weight' ? rng.normal() : (2 * rng.uniform() - 1) * bound;
    }
  }
  return params;
}
