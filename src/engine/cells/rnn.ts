import { broadcastRows, matmulNN, matmulNT } from '../kernels.js';
import { type LayerTensors, RecurrentLayer } from './layer.js';

/** Elman RNN with tanh:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh) */
export class RnnLayer extends RecurrentLayer {
  constructor(weights: LayerTensors, grads: LayerTensors | null, inputSize: number, hiddenSize: number, batchSize: number, seqLen: number) {
    super(weights, grads, inputSize, hiddenSize, hiddenSize, batchSize, seqLen);
  }

  forward(x: Float32Array, xOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gates, h } = this;
    // pre-activations of every step at once: gates = x W_ihᵀ + b_ih + b_hh
    this.sumBiases();
    broadcastRows(gates, 0, this.biasSum, T * B, H);
    matmulNT(x, xOff, this.weights.weightIh, 0, gates, 0, T * B, H, this.inputSize);
    for (let t = 0; t < T; t++) {
      // h[t+1] = tanh(gates[t] + h[t] W_hhᵀ)
      const row = t * B * H;
      matmulNT(h, row, this.weights.weightHh, 0, gates, row, B, H, H);
      for (let k = 0; k < B * H; k++) h[row + B * H + k] = Math.tanh(gates[row + k]);
    }
  }

  backward(x: Float32Array, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, dGates, h, dOut, dh } = this;
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      // d(pre-activation) = (dh + dOut) ⊙ (1 − h'²)
      const row = t * B * H;
      for (let k = 0; k < B * H; k++) {
        const hNext = h[row + B * H + k];
        dGates[row + k] = (dh[k] + dOut[row + k]) * (1 - hNext * hNext);
      }
      // dh_prev = dGates[t] · W_hh
      dh.fill(0);
      matmulNN(dGates, row, this.weights.weightHh, 0, dh, 0, B, H, H);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dGates);
  }
}
