import { gateCount } from '../config.js';
import { type LayerOptions, RecurrentLayer } from './layer.js';

/**
 * LSTM, PyTorch's equations and gate order (i, f, g, o stacked in rows of W):
 *
 *   i = σ(W_ii x + b_ii + W_hi h + b_hi)      input gate
 *   f = σ(W_if x + b_if + W_hf h + b_hf)      forget gate
 *   g = tanh(W_ig x + b_ig + W_hg h + b_hg)   candidate cell
 *   o = σ(W_io x + b_io + W_ho h + b_ho)      output gate
 *   c' = f ⊙ c + i ⊙ g
 *   h' = o ⊙ tanh(c')
 */
export class LstmLayer extends RecurrentLayer {
  /** Cell states [(T+1)·B, H]; c[0] is the initial state. */
  readonly c: Float32Array;
  /** tanh(c[t+1]) for every step, kept for the backward pass. */
  private readonly tanhC: Float32Array;
  /** d loss / d c[t], carried backwards; after backward, d c0. */
  readonly dc: Float32Array;
  /** b_ih + b_hh: both biases enter every gate's pre-activation alike. */
  private readonly biasSum: Float32Array;

  constructor(options: LayerOptions) {
    super(options, gateCount('lstm'));
    const { allocator, batchSize: B, seqLen: T, hiddenSize: H } = options;
    this.c = allocator.floats((T + 1) * B * H);
    this.carried.push(this.c);
    this.tanhC = allocator.floats(T * B * H);
    this.dc = allocator.floats(B * H);
    this.biasSum = allocator.floats(this.gateRows);
  }

  protected inputBias(): Float32Array {
    return this.summedBiases(this.biasSum);
  }

  advance(t: number, j0: number, j1: number): void {
    const { batchSize: B, hiddenSize: H, gateRows: G, gates, h, c, tanhC } = this;
    // gates[t] += h[t] W_hhᵀ, then i, f, g, o, c[t+1] = f ⊙ c + i ⊙ g and h[t+1] = o ⊙ tanh(c[t+1])
    this.projectHidden(t, null, gates, t * B * G, j0, j1);
    this.kernels.lstmForward(gates, t * B * G, c, t * B * H, (t + 1) * B * H, tanhC, t * B * H, h, (t + 1) * B * H, B, H, j0, j1);
  }

  backward(x: Float32Array | null, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, dGates, c, tanhC, dOut, dh, dc } = this;
    dh.fill(0);
    dc.fill(0);
    this.packForBackward();
    for (let t = T - 1; t >= 0; t--) {
      // dh = dh' + dOut:  dc = dc' + dh ⊙ o ⊙ (1 − tanh²c'),  do = dh ⊙ tanh c',  di = dc ⊙ g,
      // df = dc ⊙ c,  dg = dc ⊙ i,  dc_prev = dc ⊙ f;  through σ' = σ(1 − σ) and tanh' = 1 − tanh²
      this.kernels.lstmBackward(gates, t * B * G, c, t * B * H, tanhC, t * B * H, dOut, t * B * H, dh, dc, dGates, t * B * G, B, H);
      // dh_prev = dGates[t] · W_hh
      dh.fill(0);
      this.backHidden(dGates, t);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dGates);
  }
}
