// ---------------------------------------------------------------------------------------
// Activations
//
// Both are built on e^y − 1 for y ≤ 0: y = k·ln2 + r with |r| ≤ ln2/2 (ln2 split in two so
// that k·ln2hi is exact), e^r − 1 = r + r²·(1/2 + r/6 + … + r⁵/5040) (the Taylor series
// truncated where the next term is below 2⁻²⁶ relative), and 2^k assembled in the exponent
// bits. Working only with y = −|x| keeps every intermediate finite, so ±Inf and large inputs
// saturate without NaN.
// ---------------------------------------------------------------------------------------

const LOG2E: f32 = 1.4426950408889634;
/** A float32's exponent field: 8 bits above the 23 of the mantissa, biased by 127. */
const F32_MANTISSA_BITS = 23;
const F32_EXPONENT_BIAS = 127;
const LN2_HI: f32 = 0.693145751953125;
const LN2_LO: f32 = 1.4286067653302226e-6;

/** k = round(y / ln2) for y ≤ 0 (as float lanes). */
// @ts-ignore: decorator
@inline
function exponentOf(y: v128): v128 {
  return f32x4.nearest(f32x4.mul(y, f32x4.splat(LOG2E)));
}

/** e^r − 1 for the reduced argument r = y − k·ln2, |r| ≤ ln2/2. */
// @ts-ignore: decorator
@inline
function expm1Reduced(y: v128, k: v128): v128 {
  const r = f32x4.sub(f32x4.sub(y, f32x4.mul(k, f32x4.splat(LN2_HI))), f32x4.mul(k, f32x4.splat(LN2_LO)));
  // Estrin's scheme: (1/2 + r/6) + r²·((1/24 + r/120) + r²·(1/720 + r/5040)), three short chains side by side
  const r2 = f32x4.mul(r, r);
  const a = f32x4.add(f32x4.splat(<f32>(0.5)), f32x4.mul(r, f32x4.splat(<f32>(1.0 / 6))));
  const b = f32x4.add(f32x4.splat(<f32>(1.0 / 24)), f32x4.mul(r, f32x4.splat(<f32>(1.0 / 120))));
  const c = f32x4.add(f32x4.splat(<f32>(1.0 / 720)), f32x4.mul(r, f32x4.splat(<f32>(1.0 / 5040))));
  const p = f32x4.add(a, f32x4.mul(r2, f32x4.add(b, f32x4.mul(r2, c))));
  return f32x4.add(r, f32x4.mul(r2, p));
}

/** 1.5 · 2²³: an integral float k + ROUNDING_SHIFT holds k + 0x4B400000 in its bits, for |k| < 2²². */
const ROUNDING_SHIFT: f32 = 12582912;
const ROUNDING_SHIFT_BITS: i32 = 0x4b400000;

/** 2^k for integral float lanes −126 ≤ k ≤ 127 (k read from the bits of k + ROUNDING_SHIFT: cheaper than a conversion). */
// @ts-ignore: decorator
@inline
function powerOfTwo(k: v128): v128 {
  const shifted = f32x4.add(k, f32x4.splat(ROUNDING_SHIFT));
  return i32x4.shl(i32x4.add(shifted, i32x4.splat(F32_EXPONENT_BIAS - ROUNDING_SHIFT_BITS)), F32_MANTISSA_BITS);
}

/** e^y for y ≤ 0, down into the subnormals (2^k applied in two halves so each is normal). */
// @ts-ignore: decorator
@inline
function expNonPositive(y: v128): v128 {
  // below −104, e^y is under half the smallest subnormal (pmax, y < −104 ? −104 : y, keeps a NaN
  // as max does, in one instruction where max takes seven on x64)
  y = f32x4.pmax(y, f32x4.splat(-104));
  const k = exponentOf(y);
  const half = f32x4.trunc(f32x4.mul(k, f32x4.splat(0.5)));
  const er = f32x4.add(expm1Reduced(y, k), f32x4.splat(1));
  return f32x4.mul(f32x4.mul(er, powerOfTwo(half)), powerOfTwo(f32x4.sub(k, half)));
}

/** e^y − 1 for y ≤ 0: 2^k·(e^r − 1) + (2^k − 1), exact at k = 0 where cancellation would hurt. */
// @ts-ignore: decorator
@inline
function expm1NonPositive(y: v128): v128 {
  // below −40, e^y − 1 rounds to −1
  y = f32x4.pmax(y, f32x4.splat(-40));
  const k = exponentOf(y);
  const scale = powerOfTwo(k);
  return f32x4.add(f32x4.mul(scale, expm1Reduced(y, k)), f32x4.sub(scale, f32x4.splat(1)));
}

/** −|x|: x with its sign bit set, one instruction where neg(abs(x)) takes six on x64. */
// @ts-ignore: decorator
@inline
function negativeMagnitude(x: v128): v128 {
  return v128.or(x, i32x4.splat(0x80000000));
}

/** σ(x) = 1 / (1 + e^−x): with t = e^−|x|, σ = 1/(1 + t) for x ≥ 0 and t/(1 + t) for x < 0. */
// @ts-ignore: decorator
@inline
export function sigmoidLanes(x: v128): v128 {
  const t = expNonPositive(negativeMagnitude(x));
  const one = f32x4.splat(1);
  const numerator = v128.bitselect(t, one, f32x4.lt(x, f32x4.splat(0)));
  return f32x4.div(numerator, f32x4.add(one, t));
}

/** tanh(x) = sign(x) · −u/(2 + u) with u = e^(−2|x|) − 1. */
// @ts-ignore: decorator
@inline
export function tanhLanes(x: v128): v128 {
  const u = expm1NonPositive(f32x4.mul(negativeMagnitude(x), f32x4.splat(2)));
  // −u/(u + 2) as u/(−2 − u): the same bits, with no negation (three instructions on x64)
  const magnitude = f32x4.div(u, f32x4.sub(f32x4.splat(-2), u));
  return v128.or(magnitude, v128.and(x, i32x4.splat(0x80000000)));
}

/** The largest of n floats at x (NaN if any is NaN; −∞ when n is 0). */
export function maxOf(x: usize, n: i32): f32 {
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  let lanes = f32x4.splat(-Infinity);
  for (; x < vectorEnd; x += 16) lanes = f32x4.max(lanes, v128.load(x));
  let largest = max<f32>(max<f32>(f32x4.extract_lane(lanes, 0), f32x4.extract_lane(lanes, 1)),
    max<f32>(f32x4.extract_lane(lanes, 2), f32x4.extract_lane(lanes, 3)));
  for (; x < end; x += 4) largest = max<f32>(largest, load<f32>(x));
  return largest;
}

/** Σ e^{x_i − shift} over n floats at x, for shift ≥ every x_i (the largest), summed in f64. */
export function sumExpShifted(x: usize, n: i32, shift: f32): f64 {
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2), s = f32x4.splat(shift);
  let low = f64x2.splat(0), high = f64x2.splat(0);
  for (; x < vectorEnd; x += 16) {
    const e = expNonPositive(f32x4.sub(v128.load(x), s));
    low = f64x2.add(low, f64x2.promote_low_f32x4(e));
    high = f64x2.add(high, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1)));
  }
  let sum = (f64x2.extract_lane(low, 0) + f64x2.extract_lane(low, 1)) + (f64x2.extract_lane(high, 0) + f64x2.extract_lane(high, 1));
  for (; x < end; x += 4) sum += <f64>f32x4.extract_lane(expNonPositive(f32x4.sub(v128.load32_zero(x), s)), 0);
  return sum;
}

/** y_i = e^{x_i − shift} over n floats, for shift ≥ every x_i (the largest); returns Σ y_i, summed in f64. */
export function expShiftedInto(x: usize, y: usize, n: i32, shift: f32): f64 {
  const vectors = n & ~3, s = f32x4.splat(shift);
  let low = f64x2.splat(0), high = f64x2.splat(0), i = 0;
  for (; i < vectors; i += 4) {
    const at = <usize>i << 2;
    const e = expNonPositive(f32x4.sub(v128.load(x + at), s));
    v128.store(y + at, e);
    low = f64x2.add(low, f64x2.promote_low_f32x4(e));
    high = f64x2.add(high, f64x2.promote_low_f32x4(v128.shuffle<f32>(e, e, 2, 3, 0, 1)));
  }
  let sum = (f64x2.extract_lane(low, 0) + f64x2.extract_lane(low, 1)) + (f64x2.extract_lane(high, 0) + f64x2.extract_lane(high, 1));
  for (; i < n; i++) {
    const at = <usize>i << 2;
    const e = f32x4.extract_lane(expNonPositive(f32x4.sub(v128.load32_zero(x + at), s)), 0);
    store<f32>(y + at, e);
    sum += <f64>e;
  }
  return sum;
}

/** x ← σ(x) over n floats at x. */
export function sigmoid(x: usize, n: i32): void {
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  for (; x < vectorEnd; x += 16) v128.store(x, sigmoidLanes(v128.load(x)));
  for (; x < end; x += 4) store<f32>(x, f32x4.extract_lane(sigmoidLanes(v128.load32_zero(x)), 0));
}

/** x ← tanh(x) over n floats at x. */
export function tanh(x: usize, n: i32): void {
  const end = x + (<usize>n << 2), vectorEnd = x + (<usize>(n & ~3) << 2);
  for (; x < vectorEnd; x += 16) v128.store(x, tanhLanes(v128.load(x)));
  for (; x < end; x += 4) store<f32>(x, f32x4.extract_lane(tanhLanes(v128.load32_zero(x)), 0));
}
