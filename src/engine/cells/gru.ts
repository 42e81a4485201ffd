import { gateCount } from '../config.js';
import { type LayerOptions, RecurrentLayer } from './layer.js';

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

  constructor(options: LayerOptions) {
    super(options, gateCount('gru'));
    const { allocator, batchSize: B, seqLen: T, hiddenSize: H } = options;
    this.hiddenCandidate = allocator.floats(T * B * H);
    this.hiddenProj = allocator.floats(B * this.gateRows);
    this.dHidden = allocator.floats(options.grads ? T * B * this.gateRows : 0);
  }

  protected inputBias(): Float32Array {
    return this.weights.biasIh;
  }

  advance(t: number, j0: number, j1: number): void {
    const { batchSize: B, hiddenSize: H, gateRows: G, gates, h, hiddenProj, hiddenCandidate } = this;
    // hiddenProj = h[t] W_hhᵀ + b_hh, then r, z, n and h[t+1] from it and the input projection
    this.projectHidden(t, this.weights.biasHh, hiddenProj, 0, j0, j1);
    this.kernels.gruForward(gates, t * B * G, hiddenProj, 0, hiddenCandidate, t * B * H, h, t * B * H, (t + 1) * B * H, B, H, j0, j1);
  }

  backward(x: Float32Array | null, xOff: number, dx: Float32Array | null, dxOff: number): void {
    const { batchSize: B, seqLen: T, hiddenSize: H, gateRows: G, gates, dGates, dHidden, h, hiddenCandidate, dOut, dh } = this;
    dh.fill(0);
    this.packForBackward();
    for (let t = T - 1; t >= 0; t--) {
      // dh = dh' + dOut:  dn = dh ⊙ (1 − z),  dz = dh ⊙ (h − n),  the direct path dh_prev = dh ⊙ z;
      // d(n's pre-activation) = dn ⊙ (1 − n²),  dr = that ⊙ (W_hn h + b_hn);  σ' = σ(1 − σ)
      const row = t * B * H;
      this.kernels.gruBackward(gates, t * B * G, h, row, hiddenCandidate, row, dOut, row, dh, dGates, dHidden, t * B * G, B, H);
      // dh_prev += dHidden[t] · W_hh
      this.backHidden(dHidden, t);
    }
    this.accumulateWeightGrads(x, xOff, dx, dxOff, dHidden);
  }
}
