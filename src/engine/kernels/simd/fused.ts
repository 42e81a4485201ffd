// ---------------------------------------------------------------------------------------
// Multiply-adds, fused in the relaxed build
// ---------------------------------------------------------------------------------------

/**
 * c + a·b lane by lane, the step of every sum of products (products.ts) but matvecPacked's and
 * of the activations' polynomials (activations.ts): one fused multiply-add in the relaxed build
 * (simd-relaxed.wasm, built with relaxed SIMD, where the runtime fuses f32x4.relaxed_madd
 * wherever the processor has FMA), a multiply then an add in the plain one (simd.wasm). Either
 * way a build sums each element's products in one order.
 */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** c + a·b for one float, rounded as a lane of madd is, for the columns past the last whole vector. */
// @ts-ignore: decorator
@inline export function maddScalar(a: f32, b: f32, c: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}
