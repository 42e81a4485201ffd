import { broadcastRows, matmulNN, matmulNT, sigmoid } from '../kernels.js';
import { type LayerTensors, RecurrentLayer } from './layer.js';

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

  constructor(weights: LayerTensors, grads: LayerTensors | null, inputSize: number, hiddenSize: number, batchSize: number, seqLen: number) {
    super(weights, grads, inputSize, hiddenSize, 4 * hiddenSize, batchSize, seqLen);
    this.c = new Float32Array((seqLen + 1) * batchSize * hiddenSize);
    this.tanhC = new Float32Array(seqLen * batchSize * hiddenSize);
    this.dc = new Float32Array(batchSize * hiddenSize);
  }

  forward(x: Float32Array, xOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, h, c, tanhC } = this;
    // pre-activations of every step at once: gates = x W_ihᵀ + b_ih + b_hh
    this.sumBiases();
    broadcastRows(gates, 0, this.biasSum, T * B, G);
    matmulNT(x, xOff, this.weights.weightIh, 0, gates, 0, T * B, G, this.inputSize);
    for (let t = 0; t < T; t++) {
      // gates[t] += h[t] W_hhᵀ
      matmulNT(h, t * B * H, this.weights.weightHh, 0, gates, t * B * G, B, G, H);
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G, prev = (t * B + b) * H, next = prev + B * H, cell = (t * B + b) * H;
        for (let j = 0; j < H; j++) {
          const i = sigmoid(gates[row + j]);
          const f = sigmoid(gates[row + H + j]);
          const g = Math.tanh(gates[row + 2 * H + j]);
          const o = sigmoid(gates[row + 3 * H + j]);
          gates[row + j] = i; gates[row + H + j] = f; gates[row + 2 * H + j] = g; gates[row + 3 * H + j] = o;
          // c' = f ⊙ c + i ⊙ g ;  h' = o ⊙ tanh(c')
          const cNext = f * c[prev + j] + i * g;
          const tc = Math.tanh(cNext);
          c[next + j] = cNext;
          tanhC[cell + j] = tc;
          h[next + j] = o * tc;
        }
      }
    }
  }

  backward(x: Float32Array, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, dGates, c, tanhC, dOut, dh, dc } = this;
    dh.fill(0);
    dc.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G, prev = (t * B + b) * H, s = b * H;
        for (let j = 0; j < H; j++) {
          const i = gates[row + j], f = gates[row + H + j], g = gates[row + 2 * H + j], o = gates[row + 3 * H + j];
          const tc = tanhC[prev + j];
          const dhj = dh[s + j] + dOut[prev + j];
          // dc = dc' + dh ⊙ o ⊙ (1 − tanh²c') ;  do = dh ⊙ tanh c'
          const dcj = dc[s + j] + dhj * o * (1 - tc * tc);
          const dO = dhj * tc;
          // di = dc ⊙ g ; df = dc ⊙ c ; dg = dc ⊙ i ;  dc_prev = dc ⊙ f
          const dI = dcj * g, dF = dcj * c[prev + j], dG = dcj * i;
          dc[s + j] = dcj * f;
          // through the nonlinearities: σ' = σ(1 − σ), tanh' = 1 − tanh²
          dGates[row + j] = dI * i * (1 - i);
          dGates[row + H + j] = dF * f * (1 - f);
          dGates[row + 2 * H + j] = dG * (1 - g * g);
          dGates[row + 3 * H + j] = dO * o * (1 - o);
        }
      }
      // dh_prev = dGates[t] · W_hh
      dh.fill(0);
      matmulNN(dGates, t * B * G, this.weights.weightHh, 0, dh, 0, B, H, G);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dGates);
  }

  override carryState(steps = this.seqLen): void {
    super.carryState(steps);
    const n = this.batchSize * this.hiddenSize;
    this.c.copyWithin(0, steps * n, (steps + 1) * n);
  }

  override resetState(): void {
    super.resetState();
    this.c.fill(0, 0, this.batchSize * this.hiddenSize);
  }
}
