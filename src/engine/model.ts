import { type ModelConfig, gateCount } from './config.js';
import { type LayerOptions, type LayerTensors, RecurrentLayer } from './cells/layer.js';
import { GruLayer } from './cells/gru.js';
import { LstmLayer } from './cells/lstm.js';
import { RnnLayer } from './cells/rnn.js';
import type { Allocator } from './kernels/arena.js';
import type { Kernels } from './kernels/kernels.js';
import { nextTokenDistribution, softmaxCrossEntropy } from './loss.js';
import { type ParamLayout, paramLayout, tensorViews } from './params.js';
import { Rng } from './random.js';

/** Floats of layer 0's input table (V · gateCount · H) up to which generation builds it: 16 MB. */
const INPUT_TABLE_LIMIT = 4 << 20;
/**
 * A window reads layer 0's input through the table where it has at least this many rows a
 * token: the table's products cost V rows against the window's T·B (char level: 65 against
 * 2,500), and the gather and scatter cost what the bias rows they replace did.
 */
const ROWS_PER_TOKEN_FOR_TABLE = 2;

/** Whether a window of `rows` rows reads layer 0's input through the token table by default. */
export function readsTokenTable(rows: number, vocabSize: number): boolean {
  return rows >= ROWS_PER_TOKEN_FOR_TABLE * vocabSize;
}

/** What a model is built over. */
export interface ModelOptions {
  config: ModelConfig;
  kernels: Kernels;
  /** The flat parameters (params.ts's layout), allocated from the kernels' arena. */
  params: Float32Array;
  /** Where backward accumulates the gradients (same layout), or null for a forward-only model. */
  grads: Float32Array | null;
  batchSize: number;
  seqLen: number;
  /** Index of this window's first sequence in the whole batch (a worker's share starts there). */
  firstRow?: number;
  /** Where the activations are allocated; by default the kernels' arena. */
  allocator?: Allocator;
  /**
   * Whether layer 0 reads its input through the table of every token's projection
   * (RecurrentLayer.readTokens) or multiplies each row's embedding; by default the table
   * where the window has ROWS_PER_TOKEN_FOR_TABLE rows a token. The two give the same
   * numbers but for float rounding.
   */
  inputTable?: boolean;
}

/**
 * The language model over one [B, T] window of tokens:
 *
 *   tokens [B,T] → embed (V×E lookup) → L recurrent layers (hidden H)
 *                → dropout between layers (training only) → head (H→V) → logits
 *
 * It computes over the flat `params` buffer and accumulates into the flat `grads` buffer (the
 * layout of params.ts), through `kernels`. Every activation is allocated here, once, for this
 * batch shape: forward and backward allocate nothing.
 *
 * Callers fill `tokens` and `targets` batch-major (b·T + t). Activations are time-major
 * (row t·B + b), so each step's rows are contiguous for the matrix products.
 *
 * Generation runs the same layers one token at a time (B = T = 1, see stepper.ts), a step
 * cut by hidden unit so that threads can share it: stepLayer, carryLayer, stepLogits.
 */
export class LanguageModel {
  readonly config: ModelConfig;
  readonly kernels: Kernels;
  readonly params: Float32Array;
  readonly grads: Float32Array | null;
  readonly batchSize: number;
  readonly seqLen: number;
  readonly firstRow: number;
  readonly layout: ParamLayout;
  readonly layers: RecurrentLayer[];
  readonly tokens: Int32Array;
  readonly targets: Int32Array;
  /** [T·B, V], time-major. */
  readonly logits: Float32Array;

  private readonly embedWeight: Float32Array;
  private readonly headWeight: Float32Array;
  private readonly headBias: Float32Array;
  /** The head's weight packed for a batch of one's matrix-vector product (packMatvec), by prepareGeneration; else null. */
  private headMatvec: Float32Array | null = null;
  /** One token's next-token distribution (nextTokenProbabilities), taken at its first call. */
  private nextTokenProbs: Float32Array | null = null;
  /** Where the activations are allocated (and, for generation, the packed weights). */
  private readonly allocator: Allocator;
  private readonly embedGrad: Float32Array | null;
  private readonly headWeightGrad: Float32Array | null;
  private readonly headBiasGrad: Float32Array | null;
  /** Whether layer 0 reads its input through its table (ModelOptions.inputTable). */
  readonly readsTokens: boolean;
  /** With the table: the window's tokens time-major (row t·B + b), which layer 0 reads. */
  private readonly rowTokens: Int32Array;
  /** Without it: the embedded input [T·B, E] and d loss / d embedded [T·B, E]. */
  private readonly embedded: Float32Array;
  private readonly dEmbedded: Float32Array;
  private readonly dLogits: Float32Array;
  /** Per boundary between layers k and k+1: keep-mask (0 or 1/(1−p)) and the dropped output. */
  private readonly dropMasks: Float32Array[];
  private readonly dropped: Float32Array[];
  private dropoutActive = false;
  private readonly dropoutRng = new Rng(0);

  constructor(options: ModelOptions) {
    const { config, kernels, params, grads, batchSize, seqLen } = options;
    this.config = config;
    this.kernels = kernels;
    this.params = params;
    this.grads = grads;
    this.batchSize = batchSize;
    this.seqLen = seqLen;
    this.firstRow = options.firstRow ?? 0;
    const allocator = (this.allocator = options.allocator ?? kernels.arena);
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
      const layerOptions: LayerOptions = {
        kernels, allocator, weights: layerTensors(p, k), grads: g && layerTensors(g, k),
        inputSize: k === 0 ? E : H, hiddenSize: H, batchSize, seqLen,
      };
      this.layers.push(new Layer(layerOptions));
    }
    this.tokens = allocator.ints(rows);
    this.targets = allocator.ints(rows);
    this.logits = allocator.floats(rows * V);
    const readsTokens = (this.readsTokens = options.inputTable ?? readsTokenTable(rows, V));
    this.rowTokens = allocator.ints(readsTokens ? rows : 0);
    this.embedded = allocator.floats(readsTokens ? 0 : rows * E);
    this.dEmbedded = allocator.floats(grads && !readsTokens ? rows * E : 0);
    if (readsTokens) {
      this.layers[0]!.readTokens({ tokens: this.rowTokens, embed: this.embedWeight, embedGrad: this.embedGrad, vocabSize: V });
    }
    this.dLogits = allocator.floats(grads ? rows * V : 0);
    const withDropout = config.dropout > 0 && grads !== null;
    this.dropMasks = [];
    this.dropped = [];
    for (let k = 0; k + 1 < L && withDropout; k++) {
      this.dropMasks.push(allocator.floats(rows * H));
      this.dropped.push(allocator.floats(rows * H));
    }
  }

  /**
   * Forward pass from the current initial state. Given a dropout seed (training), draws the
   * masks between layers; without one dropout is the identity. Each sequence's masks come
   * from (seed, layer, its index in the whole batch), so they do not depend on how the batch
   * is shared among workers.
   */
  forward(dropoutSeed: number | null = null): void {
    const { vocabSize: V, hiddenSize: H } = this.config;
    const B = this.batchSize, T = this.seqLen, rows = B * T;
    // row t·B + b reads tokens[b·T + t]: as x = E[token], or as the token where layer 0 reads the table
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const token = this.tokens[b * T + t]!, row = t * B + b;
        if (this.readsTokens) this.rowTokens[row] = token;
        else this.embed(token, row);
      }
    }
    this.dropoutActive = dropoutSeed !== null && this.dropMasks.length > 0;
    let x = this.embedded, xOff = 0;
    for (let k = 0; k < this.layers.length; k++) {
      const layer = this.layers[k];
      layer.forward(k === 0 && this.readsTokens ? null : x, xOff);
      x = layer.h; xOff = B * H;
      if (this.dropoutActive && k + 1 < this.layers.length) {
        this.dropOut(k, x, xOff, dropoutSeed!);
        x = this.dropped[k]; xOff = 0;
      }
    }
    // logits = h_L W_headᵀ + b_head
    this.kernels.broadcastRows(this.logits, 0, this.headBias, 0, rows, V);
    this.kernels.matmulNT(x, xOff, this.headWeight, 0, this.logits, 0, rows, V, H);
  }

  /** Row `row` of the embedded input: x[row] = E[token]. */
  private embed(token: number, row: number): void {
    const E = this.config.embedDim;
    for (let e = 0, src = token * E, dst = row * E; e < E; e++) this.embedded[dst + e] = this.embedWeight[src + e]!;
  }

  /**
   * Inverted dropout of layer k's output h (from hOff) into dropped[k]:
   *   y = h ⊙ m / (1 − p),  m ~ Bernoulli(1 − p)
   * each sequence's mask drawn from (seed, k, its row in the whole batch).
   */
  private dropOut(k: number, h: Float32Array, hOff: number, seed: number): void {
    const B = this.batchSize, T = this.seqLen, H = this.config.hiddenSize;
    const mask = this.dropMasks[k]!, out = this.dropped[k]!, p = this.config.dropout, keep = 1 / (1 - p);
    for (let b = 0; b < B; b++) {
      this.dropoutRng.reseed(seed, k, this.firstRow + b);
      for (let t = 0; t < T; t++) {
        for (let j = 0, i = (t * B + b) * H; j < H; j++, i++) mask[i] = this.dropoutRng.uniform() < p ? 0 : keep;
      }
    }
    for (let i = 0; i < B * T * H; i++) out[i] = h[hOff + i] * mask[i];
  }

  /**
   * One token (B = T = 1): layer k's hidden units [j0, j1) for the token in tokens[0], from the
   * whole state below and before. The initial state h[0] (c[0]) is the previous token's.
   */
  stepLayer(k: number, j0: number, j1: number): void {
    const layer = this.layers[k]!, H = this.config.hiddenSize;
    if (k > 0) {
      layer.projectInput(this.layers[k - 1]!.h, H, j0, j1);
    } else if (layer.hasInputTable) {
      layer.projectToken(this.tokens[0]!, j0, j1);
    } else {
      this.embed(this.tokens[0]!, 0);
      layer.projectInput(this.embedded, 0, j0, j1);
    }
    layer.advance(0, j0, j1);
  }

  /** After every unit of layer k has stepped: its new state becomes the next token's initial state. */
  carryLayer(k: number, j0: number, j1: number): void {
    this.layers[k]!.carryState(1, j0, j1);
  }

  /** One token: logits [v0, v1) = W_head h_L + b_head from the top layer's new state. */
  stepLogits(v0: number, v1: number): void {
    const H = this.config.hiddenSize;
    const top = this.layers[this.layers.length - 1]!.h;
    for (let v = v0; v < v1; v++) this.logits[v] = this.headBias[v]!;
    if (this.headMatvec) this.kernels.matvecPacked(top, H, this.headMatvec, 0, this.logits, 0, this.config.vocabSize, H, v0, v1);
    else this.kernels.matmulNT(top, H, this.headWeight, v0 * H, this.logits, v0, 1, v1 - v0, H);
  }

  /** One token: the distribution of the next (nextTokenDistribution), token `excluded` (when ≥ 0) given none. */
  nextTokenProbabilities(temperature: number, excluded: number): Float32Array {
    const V = this.config.vocabSize;
    this.nextTokenProbs ??= this.allocator.floats(V);
    return nextTokenDistribution(this.kernels, this.logits, this.nextTokenProbs, V, temperature, excluded);
  }

  /**
   * For generation (a batch of one), after the parameters change: layer 0's input projection
   * of every token, computed once (the step then skips that product) where the table is small
   * enough to pay, and every other weight packed for the matrix-vector products. Given
   * `prepared`, a replay of the buffers that a model of the same config and parameters
   * prepared (Arena.replay), it takes those and computes nothing: the threads of one step
   * (parallel/inference.ts) and the steppers of one set of weights (GenerationWeights) read them there.
   */
  prepareGeneration(prepared?: Allocator): void {
    // every buffer is taken before any is filled: a product may take its scratch from the
    // arena on its first call, where a replaying model takes none
    this.generationBuffers(prepared ?? this.allocator, false);
    if (!prepared) this.generationBuffers(this.allocator, true);
  }

  private generationBuffers(allocator: Allocator, fill: boolean): void {
    const { vocabSize: V, hiddenSize: H, cell } = this.config;
    if (V * gateCount(cell) * H <= INPUT_TABLE_LIMIT) this.layers[0]!.buildInputTable(this.embedWeight, V, fill, allocator);
    for (const layer of this.layers) layer.packForGeneration(fill, allocator);
    const head = (this.headMatvec ??= allocator.floats(this.kernels.matvecFloats(V, H)));
    if (fill) this.kernels.packMatvec(this.headWeight, 0, head, 0, V, H);
  }

  /** Σ of the cross-entropy over the first `steps` columns (nats), from the last forward's logits. */
  lossSum(steps = this.seqLen): number {
    return softmaxCrossEntropy(this.kernels, this.logits, this.targets, this.batchSize, this.seqLen, steps, this.config.vocabSize, null, 1);
  }

  /**
   * Loss and backward pass after forward(). The gradient of `scale · Σ loss` is added to grads
   * (scale = 1 / (all B·T positions of the step) gives the mean); returns Σ loss.
   * Afterwards each layer's dh (and an LSTM's dc) holds d loss / d initial state.
   */
  backward(scale: number): number {
    const { vocabSize: V, hiddenSize: H } = this.config;
    const B = this.batchSize, T = this.seqLen, rows = B * T, L = this.layers.length;
    const loss = softmaxCrossEntropy(this.kernels, this.logits, this.targets, B, T, T, V, this.dLogits, scale);
    const top = this.layers[L - 1];
    // dW_head += dLogitsᵀ · h_L ;  db_head += Σ dLogits ;  dh_L = dLogits · W_head
    const kernels = this.kernels;
    kernels.matmulTN(this.dLogits, 0, top.h, B * H, this.headWeightGrad!, 0, V, H, rows);
    kernels.addColumnSums(this.dLogits, 0, this.headBiasGrad!, 0, rows, V);
    top.dOut.fill(0);
    kernels.matmulNN(this.dLogits, 0, this.headWeight, 0, top.dOut, 0, rows, H, V);
    for (let k = L - 1; k >= 0; k--) {
      const layer = this.layers[k]!;
      const below = k > 0 ? this.layers[k - 1]! : null;
      const x = k > 0 ? (this.dropoutActive ? this.dropped[k - 1]! : below!.h) : this.readsTokens ? null : this.embedded;
      const xOff = k > 0 && !this.dropoutActive ? B * H : 0;
      const dx = below ? below.dOut : this.readsTokens ? null : this.dEmbedded;
      dx?.fill(0);
      layer.backward(x, xOff, dx, 0);
      if (below && this.dropoutActive) {
        // through the dropout between the two layers: d loss / d h = d loss / d y ⊙ m / (1 − p)
        const mask = this.dropMasks[k - 1]!;
        for (let i = 0; i < rows * H; i++) below.dOut[i] *= mask[i]!;
      }
    }
    if (!this.readsTokens) this.accumulateEmbedGrad(); // else layer 0 added dE through its table
    return loss;
  }

  /** dE[tokens[b·T + t]] += dEmbedded[t·B + b]: the embedding's gradient, each row to its token's. */
  private accumulateEmbedGrad(): void {
    const B = this.batchSize, T = this.seqLen, E = this.config.embedDim, dE = this.embedGrad!;
    for (let t = 0; t < T; t++) {
      for (let b = 0; b < B; b++) {
        const id = this.tokens[b * T + t]!, src = (t * B + b) * E, dst = id * E;
        for (let e = 0; e < E; e++) dE[dst + e] += this.dEmbedded[src + e]!;
      }
    }
  }

  /** Truncated BPTT: the final state becomes the next window's initial state, no gradient through it. */
  carryState(steps = this.seqLen): void {
    for (const layer of this.layers) layer.carryState(steps);
  }

  resetState(): void {
    for (const layer of this.layers) layer.resetState();
  }

  /**
   * Row b of the initial state becomes row `from[b]`'s, for every layer (h, and c for an
   * LSTM): beam search keeping the hypotheses it extends. `scratch` holds B·H floats.
   */
  gatherState(from: Int32Array, scratch: Float32Array): void {
    const B = this.batchSize, H = this.config.hiddenSize;
    for (const layer of this.layers) {
      for (const state of layer.carried) {
        for (let b = 0; b < B; b++) {
          for (let j = 0, src = from[b]! * H, dst = b * H; j < H; j++) scratch[dst + j] = state[src + j]!;
        }
        for (let i = 0; i < B * H; i++) state[i] = scratch[i]!;
      }
    }
  }

  /**
   * Every row becomes the one row of `source`, a batch of one (T = 1) of the same model: its
   * initial state (h, and c for an LSTM) and its logits, as if each row had read what `source`
   * read. Beam search reads the prime once so and starts every hypothesis from it.
   */
  spreadFrom(source: LanguageModel): void {
    const B = this.batchSize, H = this.config.hiddenSize, V = this.config.vocabSize;
    if (this.seqLen !== 1 || source.seqLen !== 1 || source.batchSize !== 1 || source.config !== this.config) {
      throw new Error('spreadFrom needs two models of one config at T = 1, the source a batch of one');
    }
    const spread = (to: Float32Array, from: Float32Array, n: number) => {
      for (let b = 0; b < B; b++) for (let j = 0; j < n; j++) to[b * n + j] = from[j]!;
    };
    this.layers.forEach((layer, k) => layer.carried.forEach((state, i) => spread(state, source.layers[k]!.carried[i]!, H)));
    spread(this.logits, source.logits, V);
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
    const t = this.seqLen, n = this.batchSize * this.config.hiddenSize;
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
