import { type LayerShape, RecurrentLayer } from './layer.js';

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

  constructor(shape: LayerShape) {
    super(shape, 3);
    const { allocator, batchSize: B, seqLen: T, hiddenSize: H } = shape;
    this.hiddenCandidate = allocator.floats(T * B * H);
    this.hiddenProj = allocator.floats(B * 3 * H);
    this.dHidden = allocator.floats(shape.grads ? T * B * 3 * H : 0);
  }

  protected inputBias(): Float32Array {
    return this.weights.biasIh;
  }

  advance(t: number, j0: number, j1: number): void {
    const { batchSize: B, hiddenSize: H, gateRows: G, gates, h, hiddenProj, hiddenCandidate, kernels: k } = this;
    const n = j1 - j0;
    // hiddenProj = h[t] W_hhᵀ + b_hh
    this.project(h, t * B * H, this.weights.weightHh, this.weights.biasHh, hiddenProj, 0, B, H, j0, j1);
    for (let b = 0; b < B; b++) {
      const row = (t * B + b) * G, hp = b * G, prev = (t * B + b) * H, next = prev + B * H;
      // r, z = σ(input pre-activation + hidden pre-activation)
      for (let j = j0; j < j1; j++) {
        gates[row + j] += hiddenProj[hp + j]!;
        gates[row + H + j] += hiddenProj[hp + H + j]!;
      }
      if (n === H) k.sigmoid(gates, row, 2 * H);
      else { k.sigmoid(gates, row + j0, n); k.sigmoid(gates, row + H + j0, n); }
      // n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
      for (let j = j0; j < j1; j++) {
        const hn = hiddenProj[hp + 2 * H + j]!;
        gates[row + 2 * H + j] += gates[row + j]! * hn;
        hiddenCandidate[prev + j] = hn;
      }
      k.tanh(gates, row + 2 * H + j0, n);
      // h' = (1 − z) ⊙ n + z ⊙ h
      for (let j = j0; j < j1; j++) {
        const z = gates[row + H + j]!;
        h[next + j] = (1 - z) * gates[row + 2 * H + j]! + z * h[prev + j]!;
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
          const r = gates[row + j]!, z = gates[row + H + j]!, n = gates[row + 2 * H + j]!;
          const dhj = dh[s + j]! + dOut[prev + j]!;
          // dn = dh ⊙ (1 − z) ;  dz = dh ⊙ (h − n) ;  the direct path dh_prev = dh ⊙ z
          const dN = dhj * (1 - z);
          const dZ = dhj * (h[prev + j]! - n);
          dh[s + j] = dhj * z;
          // d(n's pre-activation) = dn ⊙ (1 − n²) ;  dr = that ⊙ (W_hn h + b_hn)
          const dnPre = dN * (1 - n * n);
          const dR = dnPre * hiddenCandidate[prev + j]!;
          const drPre = dR * r * (1 - r), dzPre = dZ * z * (1 - z);
          dGates[row + j] = drPre; dGates[row + H + j] = dzPre; dGates[row + 2 * H + j] = dnPre;
          dHidden[row + j] = drPre; dHidden[row + H + j] = dzPre; dHidden[row + 2 * H + j] = dnPre * r;
        }
      }
      // dh_prev += dHidden[t] · W_hh
      this.kernels.matmulNN(dHidden, t * B * G, this.weights.weightHh, 0, dh, 0, B, H, G);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dHidden);
  }
}
