// ---------------------------------------------------------------------------------------
// Rows and columns
// ---------------------------------------------------------------------------------------

/** X[i, :] = bias for each of the M rows of X[M,N]. */
export function broadcastRows(x: usize, bias: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2, vectorBytes = <usize>(N & ~3) << 2;
  for (let i = 0; i < M; i++) {
    let at: usize = 0;
    for (; at < vectorBytes; at += 16) v128.store(x + at, v128.load(bias + at));
    for (; at < rowBytes; at += 4) store<f32>(x + at, load<f32>(bias + at));
    x += rowBytes;
  }
}

/** db[j] += Σ_i dY[i, j] over the M rows of dY[M,N], four rows summed per pass over db. */
export function addColumnSums(dy: usize, db: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2, vectorBytes = <usize>(N & ~3) << 2;
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    let at: usize = 0;
    for (; at < vectorBytes; at += 16) {
      const r = dy + at;
      const sum = f32x4.add(
        f32x4.add(v128.load(r), v128.load(r + rowBytes)),
        f32x4.add(v128.load(r + rowBytes * 2), v128.load(r + rowBytes * 3)),
      );
      v128.store(db + at, f32x4.add(v128.load(db + at), sum));
    }
    for (; at < rowBytes; at += 4) {
      const r = dy + at;
      const sum = (load<f32>(r) + load<f32>(r + rowBytes)) + (load<f32>(r + rowBytes * 2) + load<f32>(r + rowBytes * 3));
      store<f32>(db + at, load<f32>(db + at) + sum);
    }
    dy += rowBytes << 2;
  }
  for (; i < M; i++) {
    addInto(db, dy, N);
    dy += rowBytes;
  }
}

/** X[i, :] = table[ids[i], :] for each of the M rows of X[M,N]. */
export function gatherRows(table: usize, ids: usize, x: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    memory.copy(x, table + <usize>load<i32>(ids) * rowBytes, rowBytes);
    ids += 4;
    x += rowBytes;
  }
}

/** S[ids[i], :] += dY[i, :] over the M rows of dY[M,N]. */
export function scatterAddRows(dy: usize, ids: usize, s: usize, M: i32, N: i32): void {
  const rowBytes = <usize>N << 2;
  for (let i = 0; i < M; i++) {
    addInto(s + <usize>load<i32>(ids) * rowBytes, dy, N);
    ids += 4;
    dy += rowBytes;
  }
}

// ---------------------------------------------------------------------------------------
// Element-wise kernels and the optimizers
// ---------------------------------------------------------------------------------------

/** dst += src over n floats. */
export function addInto(dst: usize, src: usize, n: i32): void {
  const end = dst + (<usize>n << 2), vectorEnd = dst + (<usize>(n & ~3) << 2);
  for (; dst < vectorEnd; dst += 16, src += 16) v128.store(dst, f32x4.add(v128.load(dst), v128.load(src)));
  for (; dst < end; dst += 4, src += 4) store<f32>(dst, load<f32>(dst) + load<f32>(src));
}

/** Σ x² over n floats, each squared and summed in float64 (two f64x2 accumulators). */
export function sumOfSquares(x: usize, n: i32): f64 {
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  let low = f64x2.splat(0), high = f64x2.splat(0);
  for (; x < vectorEnd; x += 16) {
    const v = v128.load(x);
    const l = f64x2.promote_low_f32x4(v), h = f64x2.promote_low_f32x4(f32x4.shuffle(v, v, 2, 3, 0, 1));
    low = f64x2.add(low, f64x2.mul(l, l));
    high = f64x2.add(high, f64x2.mul(h, h));
  }
  const both = f64x2.add(low, high);
  let sum = f64x2.extract_lane(both, 0) + f64x2.extract_lane(both, 1);
  for (; x < end; x += 4) {
    const v = <f64>load<f32>(x);
    sum += v * v;
  }
  return sum;
}

/** x ← x · factor over n floats. */
export function scale(x: usize, n: i32, factor: f32): void {
  const f = f32x4.splat(factor);
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  for (; x < vectorEnd; x += 16) v128.store(x, f32x4.mul(v128.load(x), f));
  for (; x < end; x += 4) store<f32>(x, load<f32>(x) * factor);
}

/** x ← min(max(x, −limit), limit) over n floats. */
export function clamp(x: usize, n: i32, limit: f32): void {
  const hi = f32x4.splat(limit), lo = f32x4.splat(-limit);
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  for (; x < vectorEnd; x += 16) v128.store(x, f32x4.min(f32x4.max(v128.load(x), lo), hi));
  for (; x < end; x += 4) store<f32>(x, f32x4.extract_lane(f32x4.min(f32x4.max(v128.load32_zero(x), lo), hi), 0));
}

/**
 * Adam over n parameters:
 *   m ← β₁ m + (1 − β₁) g        v ← β₂ v + (1 − β₂) g²
 *   θ ← θ − stepSize · m / (√v / sqrtCorrection2 + ε)
 */
export function adam(
  params: usize, grads: usize, m: usize, v: usize, n: i32,
  stepSize: f32, beta1: f64, beta2: f64, sqrtCorrection2: f32, eps: f32,
): void {
  // 1 − β taken from β itself, not from its float32: 1 − f32(0.999) is 1.3e-5 off 0.001
  const beta1f = <f32>beta1, beta2f = <f32>beta2, oneMinusBeta1 = <f32>(1 - beta1), oneMinusBeta2 = <f32>(1 - beta2);
  const b1 = f32x4.splat(beta1f), b2 = f32x4.splat(beta2f);
  const c1 = f32x4.splat(oneMinusBeta1), c2 = f32x4.splat(oneMinusBeta2);
  const step = f32x4.splat(stepSize), correction = f32x4.splat(sqrtCorrection2), epsilon = f32x4.splat(eps);
  const vectorBytes = <usize>(n & ~3) << 2, bytes = <usize>n << 2;
  let at: usize = 0;
  for (; at < vectorBytes; at += 16) {
    const g = v128.load(grads + at);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + at)), f32x4.mul(c1, g));
    // ((1 − β₂)·g)·g as torch's addcmul: g·g first overflows float32 from |g| = 1.8e19, and v would stay ∞
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + at)), f32x4.mul(f32x4.mul(c2, g), g));
    v128.store(m + at, mi);
    v128.store(v + at, vi);
    const denominator = f32x4.add(f32x4.div(f32x4.sqrt(vi), correction), epsilon);
    v128.store(params + at, f32x4.sub(v128.load(params + at), f32x4.div(f32x4.mul(step, mi), denominator)));
  }
  for (; at < bytes; at += 4) {
    const g = load<f32>(grads + at);
    const mi = beta1f * load<f32>(m + at) + oneMinusBeta1 * g;
    const vi = beta2f * load<f32>(v + at) + oneMinusBeta2 * g * g;
    store<f32>(m + at, mi);
    store<f32>(v + at, vi);
    store<f32>(params + at, load<f32>(params + at) - (stepSize * mi) / (Mathf.sqrt(vi) / sqrtCorrection2 + eps));
  }
}

/** θ ← θ − lr · g over n parameters. */
export function sgd(params: usize, grads: usize, n: i32, lr: f32): void {
  const rate = f32x4.splat(lr);
  const vectorBytes = <usize>(n & ~3) << 2, bytes = <usize>n << 2;
  let at: usize = 0;
  for (; at < vectorBytes; at += 16) {
    v128.store(params + at, f32x4.sub(v128.load(params + at), f32x4.mul(rate, v128.load(grads + at))));
  }
  for (; at < bytes; at += 4) store<f32>(params + at, load<f32>(params + at) - lr * load<f32>(grads + at));
}
