import { broadcastRows, matmulNN, matmulNT, sigmoid } from '../kernels.js';
import { type LayerTensors, RecurrentLayer } from './layer.js';

/**
 * GRU, PyTorch's (cuDNN's) form, gates r, z, n stacked in rows of W:
 *
 *   r = σ(W_ir x + b_ir + W_hr h + b_hr)          reset gate
 *   z = σ(W_iz x + b_iz + W_hz h + b_hz)          update gate
 *   n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))  candidate
 *   h' = (1 − z) ⊙ n + z ⊙ h
 *
 * Because r multiplies W_hn h + b_hn, the input and hidden projections are kept apart.
 */
export class GruLayer extends RecurrentLayer {
  /** W_hn h + b_hn of every step [T·B, H], which the backward pass needs for dr. */
  private readonly hiddenCandidate: Float32Array;
  /** This step's hidden projection h W_hhᵀ + b_hh [B, 3H]. */
  private readonly hiddenProj: Float32Array;
  /** d loss / d (hidden pre-activations) [T·B, 3H]: dGates with the candidate's part times r. */
  private readonly dHidden: Float32Array;

  constructor(weights: LayerTensors, grads: LayerTensors | null, inputSize: number, hiddenSize: number, batchSize: number, seqLen: number) {
    super(weights, grads, inputSize, hiddenSize, 3 * hiddenSize, batchSize, seqLen);
    this.hiddenCandidate = new Float32Array(seqLen * batchSize * hiddenSize);
    this.hiddenProj = new Float32Array(batchSize * 3 * hiddenSize);
    this.dHidden = new Float32Array(grads ? seqLen * batchSize * 3 * hiddenSize : 0);
  }

  forward(x: Float32Array, xOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, h, hiddenProj, hiddenCandidate } = this;
    const { weightIh, weightHh, biasIh, biasHh } = this.weights;
    // input projections of every step at once: gates = x W_ihᵀ + b_ih
    broadcastRows(gates, 0, biasIh, T * B, G);
    matmulNT(x, xOff, weightIh, 0, gates, 0, T * B, G, this.inputSize);
    for (let t = 0; t < T; t++) {
      // hiddenProj = h[t] W_hhᵀ + b_hh
      broadcastRows(hiddenProj, 0, biasHh, B, G);
      matmulNT(h, t * B * H, weightHh, 0, hiddenProj, 0, B, G, H);
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G, hp = b * G, prev = (t * B + b) * H, next = prev + B * H;
        for (let j = 0; j < H; j++) {
          const r = sigmoid(gates[row + j] + hiddenProj[hp + j]);
          const z = sigmoid(gates[row + H + j] + hiddenProj[hp + H + j]);
          const hn = hiddenProj[hp + 2 * H + j];
          const n = Math.tanh(gates[row + 2 * H + j] + r * hn);
          gates[row + j] = r; gates[row + H + j] = z; gates[row + 2 * H + j] = n;
          hiddenCandidate[prev + j] = hn;
          // h' = (1 − z) ⊙ n + z ⊙ h
          h[next + j] = (1 - z) * n + z * h[prev + j];
        }
      }
    }
  }

  backward(x: Float32Array, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, dGates, dHidden, h, hiddenCandidate, dOut, dh } = this;
    dh.fill(0);
    for (let t = T - 1; t >= 0; t--) {
      for (let b = 0; b < B; b++) {
        const row = (t * B + b) * G, prev = (t * B + b) * H, s = b * H;
        for (let j = 0; j < H; j++) {
          const r = gates[row + j], z = gates[row + H + j], n = gates[row + 2 * H + j];
          const dhj = dh[s + j] + dOut[prev + j];
          // dn = dh ⊙ (1 − z) ;  dz = dh ⊙ (h − n) ;  the direct path dh_prev = dh ⊙ z
          const dN = dhj * (1 - z);
          const dZ = dhj * (h[prev + j] - n);
          dh[s + j] = dhj * z;
          // d(n's pre-activation) = dn ⊙ (1 − n²) ;  dr = that ⊙ (W_hn h + b_hn)
          const dnPre = dN * (1 - n * n);
          const dR = dnPre * hiddenCandidate[prev + j];
          const drPre = dR * r * (1 - r), dzPre = dZ * z * (1 - z);
          dGates[row + j] = drPre; dGates[row + H + j] = dzPre; dGates[row + 2 * H + j] = dnPre;
          dHidden[row + j] = drPre; dHidden[row + H + j] = dzPre; dHidden[row + 2 * H + j] = dnPre * r;
        }
      }
      // dh_prev += dHidden[t] · W_hh
      matmulNN(dHidden, t * B * G, this.weights.weightHh, 0, dh, 0, B, H, G);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dHidden);
  }
}
