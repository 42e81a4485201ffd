import { gateCount } from '../config.js';
import { type LayerOptions, RecurrentLayer } from './layer.js';

/** Elman RNN with tanh:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
export class RnnLayer extends RecurrentLayer {
  /** b_ih + b_hh: both biases enter the pre-activation alike. */
  private readonly biasSum: Float32Array;

  constructor(options: LayerOptions) {
    super(options, gateCount('rnn'));
    this.biasSum = options.allocator.floats(options.hiddenSize);
  }

  protected inputBias(): Float32Array {
    return this.summedBiases(this.biasSum);
  }

  advance(t: number, j0: number, j1: number): void {
    const { batchSize: B, hiddenSize: H, gates, h } = this;
    // h[t+1] = tanh(gates[t] + h[t] W_hhᵀ)
    const row = t * B * H;
    this.projectHidden(t, null, gates, row, j0, j1);
    for (let b = 0; b < B; b++) {
      const at = row + b * H;
      for (let j = j0; j < j1; j++) h[at + B * H + j] = gates[at + j]!;
      this.kernels.tanh(h, at + B * H + j0, j1 - j0);
    }
  }

  backward(x: Float32Array | null, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, dGates, h, dOut, dh } = this;
    dh.fill(0);
    this.packForBackward();
    for (let t = T - 1; t >= 0; t--) {
      // d(pre-activation) = (dh + dOut) ⊙ (1 − h'²)
      const row = t * B * H;
      for (let i = 0; i < B * H; i++) {
        const hNext = h[row + B * H + i]!;
        dGates[row + i] = (dh[i]! + dOut[row + i]!) * (1 - hNext * hNext);
      }
      // dh_prev = dGates[t] · W_hh
      dh.fill(0);
      this.backHidden(dGates, t);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dGates);
  }
}
