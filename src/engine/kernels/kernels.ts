import type { Arena } from './arena.js';
import type { KernelsKind } from './kinds.js';

/**
 * Everything the engine computes that costs time, behind one interface: the cells, the model,
 * the optimizer and the one-token stepper call these for their arithmetic over tensors, but
 * for copies and a few plain loops (the embedding's gradient, dropout, the tanh RNN's step
 * backwards). Each implementation (js.ts, wasm.ts, and the naive reference.ts the tests
 * hold them to) does the same thing to float32 rounding.
 *
 * Conventions: matrices are row-major Float32Arrays; every tensor argument is an array and
 * an element offset into it (never a subarray view, so the hot path allocates nothing);
 * products accumulate into C (C += …); element-wise kernels work in place on [off, off + n).
 * The arrays must come from `arena` (Arena.floats): the WebAssembly kernels address the
 * arena's memory directly, and read or write nothing else.
 *
 * Non-finite values (docs/kernels.md), alike in every implementation and as PyTorch has them:
 * the arithmetic kernels give what float arithmetic gives (a NaN input makes NaN of what it
 * reaches, ∞ stays ∞ or meets ∞ − ∞ = NaN); σ and tanh saturate at ±∞ and keep NaN; clamp
 * keeps NaN. logSumExp is NaN if any x is NaN, else +∞ if any is +∞, else −∞ if every x is −∞
 * (or n = 0); softmax returns that and, where it is not finite, writes NaN to every y.
 */
export interface Kernels {
  readonly kind: KernelsKind;
  /** Where every tensor these kernels touch is allocated. */
  readonly arena: Arena;

  /** C[M,N] += A[M,K] · B[N,K]ᵀ  (x·Wᵀ: a layer's input or recurrent projection, the head; M = 1 is a matrix-vector product) */
  matmulNT(
    A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, M: number, N: number, K: number,
  ): void;
  /** C[M,N] += A[M,K] · B[K,N]   (dGates·W: the gradient flowing to a layer's input or state) */
  matmulNN(
    A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, M: number, N: number, K: number,
  ): void;
  /** C[M,N] += A[K,M]ᵀ · B[K,N]  (dGatesᵀ·x: the gradient of a weight matrix over all rows of a window) */
  matmulTN(
    A: Float32Array, aOff: number, B: Float32Array, bOff: number, C: Float32Array, cOff: number, M: number, N: number, K: number,
  ): void;

  /** Floats packWeights writes for the B operand of an M×N×K product (the layout is each implementation's own). */
  packedFloats(N: number, K: number): number;
  /**
   * The B operand of matmulNT (`layout` 'NT': B[N,K]) or matmulNN ('NN': B[K,N]) packed for
   * matmulPacked: a weight matrix that every time step of a window multiplies is packed once.
   */
  packWeights(layout: 'NT' | 'NN', B: Float32Array, bOff: number, packed: Float32Array, pOff: number, N: number, K: number): void;
  /** C[M,N] += A[M,K] · B with B as packWeights packed it: the same sums, in the same order, as matmulNT / matmulNN for M > 1. */
  matmulPacked(
    A: Float32Array, aOff: number, packed: Float32Array, pOff: number, C: Float32Array, cOff: number, M: number, N: number, K: number,
  ): void;

  /** Floats packMatvec writes for a B [N, K] (the layout is each implementation's own). */
  matvecFloats(N: number, K: number): number;
  /** B [N, K], the weight of x·Bᵀ, packed for matvecPacked: a batch of one's weights, packed once when generation starts. */
  packMatvec(B: Float32Array, bOff: number, packed: Float32Array, pOff: number, N: number, K: number): void;
  /**
   * y[j] += Σ_k x[k] · B[j, k] for the rows j ∈ [j0, j1) of B [N, K] as packMatvec packed it (y
   * at yOff holds j = 0): a batch of one's product, with matmulNT's sums for M = 1 (to the bit
   * on js and wasm; relaxed fuses these multiply-adds into sums of its own, so to float
   * rounding: docs/kernels.md).
   */
  matvecPacked(
    x: Float32Array, xOff: number, packed: Float32Array, pOff: number, y: Float32Array, yOff: number,
    N: number, K: number, j0: number, j1: number,
  ): void;

  /** X[i, :] = bias for each of the M rows of X[M,N]: the start of X = b + A·Wᵀ. */
  broadcastRows(X: Float32Array, xOff: number, bias: Float32Array, biasOff: number, M: number, N: number): void;
  /** db[N] += Σ_i dY[i, :] over the M rows of dY[M,N]: the gradient of a bias added to every row. */
  addColumnSums(dY: Float32Array, yOff: number, db: Float32Array, dbOff: number, M: number, N: number): void;
  /**
   * X[i, :] = table[ids[i], :] for each of the M rows of X[M,N] (table rows of N from tableOff):
   * layer 0's input projection read from its table of every token's.
   */
  gatherRows(
    table: Float32Array, tableOff: number, ids: Int32Array, idsOff: number, X: Float32Array, xOff: number, M: number, N: number,
  ): void;
  /** S[ids[i], :] += dY[i, :] over the M rows of dY[M,N]: the gradient of that table, each token's rows summed. */
  scatterAddRows(
    dY: Float32Array, yOff: number, ids: Int32Array, idsOff: number, S: Float32Array, sOff: number, M: number, N: number,
  ): void;

  /** x ← σ(x) = 1 / (1 + e^−x), in place. */
  sigmoid(X: Float32Array, off: number, n: number): void;
  /** x ← tanh(x), in place. */
  tanh(X: Float32Array, off: number, n: number): void;

  /**
   * A GRU step's gates after its products (cells/gru.ts), for B rows and units [j0, j1): with
   * the input projection in `gates` and the hidden one (h W_hhᵀ + b_hh) in `hidden`, rows of 3H,
   *   r = σ(gates_r + hidden_r)   z = σ(gates_z + hidden_z)   n = tanh(gates_n + r ⊙ hidden_n)
   *   h[next] = (1 − z) ⊙ n + z ⊙ h[prev]
   * r, z, n replace the pre-activations in `gates`; hidden_n is kept in `candidate` (rows of H).
   */
  gruForward(
    gates: Float32Array, gatesOff: number, hidden: Float32Array, hiddenOff: number, candidate: Float32Array, candidateOff: number,
    h: Float32Array, prevOff: number, nextOff: number, B: number, H: number, j0: number, j1: number,
  ): void;
  /**
   * A GRU step backwards through its gates, for B rows: with dh [B, H] (d h[next], from the step
   * after) plus dOut, writes d(pre-activations) to dGates, and to dHidden the same with the
   * candidate's part times r; dh becomes the direct path dh ⊙ z, to which the caller adds
   * dHidden · W_hh.
   */
  gruBackward(
    gates: Float32Array, gatesOff: number, h: Float32Array, prevOff: number, candidate: Float32Array, candidateOff: number,
    dOut: Float32Array, dOutOff: number, dh: Float32Array, dGates: Float32Array, dHidden: Float32Array, dGatesOff: number,
    B: number, H: number,
  ): void;
  /**
   * An LSTM step's gates after its products (cells/lstm.ts), for B rows and units [j0, j1),
   * the pre-activations in `gates` (rows of 4H):
   *   i, f, o = σ(·)   g = tanh(·)   c[next] = f ⊙ c[prev] + i ⊙ g   h[next] = o ⊙ tanh(c[next])
   * i, f, g, o replace the pre-activations; tanh(c[next]) is kept in `tanhC`.
   */
  lstmForward(
    gates: Float32Array, gatesOff: number, c: Float32Array, prevOff: number, nextOff: number, tanhC: Float32Array, tanhCOff: number,
    h: Float32Array, hNextOff: number, B: number, H: number, j0: number, j1: number,
  ): void;
  /**
   * An LSTM step backwards through its gates, for B rows: from dh and dc [B, H] (d h[next],
   * d c[next]) plus dOut, writes d(pre-activations) to dGates and d c[prev] to dc; the caller
   * sets dh to dGates · W_hh.
   */
  lstmBackward(
    gates: Float32Array, gatesOff: number, c: Float32Array, prevOff: number, tanhC: Float32Array, tanhCOff: number,
    dOut: Float32Array, dOutOff: number, dh: Float32Array, dc: Float32Array, dGates: Float32Array, dGatesOff: number, B: number, H: number,
  ): void;

  /** log Σ_i e^{x_i} over n elements, from the largest so that nothing overflows (the softmax's normaliser). */
  logSumExp(X: Float32Array, off: number, n: number): number;
  /**
   * y = scale · softmax(x) over n elements, each exponential taken once (e^{x_i − max}, summed,
   * then scaled by scale / Σ); returns logSumExp(x), which the loss needs beside it.
   */
  softmax(X: Float32Array, xOff: number, Y: Float32Array, yOff: number, n: number, scale: number): number;

  /** dst += src over n elements (the reduction of the workers' gradients). */
  addInto(dst: Float32Array, dstOff: number, src: Float32Array, srcOff: number, n: number): void;
  /** Σ x² over n elements, accumulated in float64. */
  sumOfSquares(X: Float32Array, off: number, n: number): number;
  /** x ← x · factor. */
  scale(X: Float32Array, off: number, n: number, factor: number): void;
  /** x ← min(max(x, −limit), limit). */
  clamp(X: Float32Array, off: number, n: number, limit: number): void;
  /**
   * One Adam update (torch.optim.Adam) of n parameters, with the step's scalars precomputed:
   *   m ← β₁ m + (1 − β₁) g        v ← β₂ v + (1 − β₂) g²
   *   θ ← θ − stepSize · m / (√v / sqrtCorrection2 + ε)
   * where stepSize = lr / (1 − β₁ᵗ) and sqrtCorrection2 = √(1 − β₂ᵗ). (1 − β₂) g² is ((1 − β₂)·g)·g, as torch's
   * addcmul forms it: g·g alone overflows float32 where |g| > 1.8e19.
   */
  adam(
    params: Float32Array, grads: Float32Array, m: Float32Array, v: Float32Array, off: number, n: number,
    stepSize: number, beta1: number, beta2: number, sqrtCorrection2: number, eps: number,
  ): void;
  /** θ ← θ − lr · g. */
  sgd(params: Float32Array, grads: Float32Array, off: number, n: number, lr: number): void;
}
