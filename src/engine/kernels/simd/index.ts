/**
 * The kernels in WebAssembly with 128-bit SIMD (AssemblyScript, compiled by `npm run build`
 * into dist/src/engine/kernels/simd.wasm; the wrapper is ../wasm.ts).
 *
 * The module imports the arena's shared memory and owns nothing in it: no globals that change,
 * no data, no allocation. Every argument that names a tensor is a byte address into that
 * memory; a kernel reads and writes only the tensors it is handed, and the matrix products
 * also a scratch area the wrapper allocated from the arena for them (SCRATCH_FLOATS floats).
 * Each call is therefore free to run on any thread over the same memory at once, given its
 * own scratch.
 */

// ---------------------------------------------------------------------------------------
// Matrix products
//
// All three products are one blocked loop, C[M,N] += Ã[M,K] · B̃[K,N], where Ã and B̃ read A
// and B in the layout each product has:
//   NT  Ã(i,k) = A[i·K + k]  B̃(k,j) = B[j·K + k]
//   NN  Ã(i,k) = A[i·K + k]  B̃(k,j) = B[k·N + j]
//   TN  Ã(i,k) = A[k·M + i]  B̃(k,j) = B[k·N + j]
// K is cut into blocks of KC; for each, a block of B̃ (KC rows, up to B_BLOCK_FLOATS in all)
// is packed into panels of 8 columns (row k of a panel: 8 contiguous floats), and for each
// group of 4 rows of C, Ã's 4 rows are packed side by side (column k: 4 contiguous floats).
// The 4×8 tile of C then lives in eight f32x4 registers while k runs over the block. Rows and
// columns that do not fill a tile are packed with zeros and only their part of the tile is
// added to C, so any M, N, K work with one inner loop.
// ---------------------------------------------------------------------------------------

const KIND_NT: i32 = 0;
const KIND_NN: i32 = 1;
const KIND_TN: i32 = 2;

/** Rows of the shared dimension per block: a packed Ã panel is KC·16 bytes (4 KB), in L1. */
const KC: i32 = 256;
/** Floats in a packed block of B̃ (256 KB), which stays in L2 while every row of C passes. */
const B_BLOCK_FLOATS: i32 = 65536;
/** Scratch layout: the 4×8 tile of an edge (32 floats), the Ã panel, the block of B̃. */
const TILE_FLOATS: i32 = 32;
const A_PANEL_FLOATS: i32 = KC * 4;
const SCRATCH_FLOATS: i32 = TILE_FLOATS + A_PANEL_FLOATS + B_BLOCK_FLOATS;

/** Floats of scratch every product needs, whatever its shape. */
export function scratchFloats(): i32 {
  return SCRATCH_FLOATS;
}

/** C[M,N] += A[M,K] · B[N,K]ᵀ */
export function matmulNT(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  if (M == 1) matvecRows(a, b, c, N, K);
  else product(KIND_NT, a, b, c, M, N, K, scratch);
}

/** C[M,N] += A[M,K] · B[K,N] */
export function matmulNN(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  if (M == 1) vecmatRows(a, b, c, N, K);
  else product(KIND_NN, a, b, c, M, N, K, scratch);
}

/** C[M,N] += A[K,M]ᵀ · B[K,N] */
export function matmulTN(a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  // with M = 1, A[K,1] is a contiguous vector, as in NN
  if (M == 1) vecmatRows(a, b, c, N, K);
  else product(KIND_TN, a, b, c, M, N, K, scratch);
}

function product(kind: i32, a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  const tile = scratch;
  const aPanel = tile + (<usize>TILE_FLOATS << 2);
  const bBlock = aPanel + (<usize>A_PANEL_FLOATS << 2);
  const ldc = <usize>N << 2;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const blockColumns = max(8, (B_BLOCK_FLOATS / kc) & ~7);
    for (let j0 = 0; j0 < N; j0 += blockColumns) {
      const nc = min(blockColumns, N - j0);
      if (kind == KIND_NT) packBRowsOfB(b, K, k0, kc, j0, nc, bBlock);
      else packBRowsOfK(b, N, k0, kc, j0, nc, bBlock);
      const panelBytes = <usize>kc << 5;
      for (let i0 = 0; i0 < M; i0 += 4) {
        const mr = min(4, M - i0);
        if (kind == KIND_TN) packAColumnsOfK(a, M, k0, kc, i0, mr, aPanel);
        else packARowsOfA(a, K, k0, kc, i0, mr, aPanel);
        let bPanel = bBlock;
        let cTile = c + ((<usize>i0 * <usize>N + <usize>j0) << 2);
        for (let j = 0; j < nc; j += 8) {
          tile4x8(aPanel, bPanel, kc, cTile, ldc, mr, min(8, nc - j), tile);
          bPanel += panelBytes;
          cTile += 32;
        }
      }
    }
  }
}

/**
 * C[0..mr, 0..nr] += Σ_k Ã(:, k) ⊗ B̃(k, :) over the kc columns of a packed Ã panel (4 floats
 * each) and the kc rows of a packed B̃ panel (8 floats each).
 */
function tile4x8(aPanel: usize, bPanel: usize, kc: i32, cTile: usize, ldc: usize, mr: i32, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let ap = aPanel, bp = bPanel;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = f32x4.add(c00, f32x4.mul(x, b0)); c01 = f32x4.add(c01, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 4);
    c10 = f32x4.add(c10, f32x4.mul(x, b0)); c11 = f32x4.add(c11, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 8);
    c20 = f32x4.add(c20, f32x4.mul(x, b0)); c21 = f32x4.add(c21, f32x4.mul(x, b1));
    x = v128.load32_splat(ap, 12);
    c30 = f32x4.add(c30, f32x4.mul(x, b0)); c31 = f32x4.add(c31, f32x4.mul(x, b1));
    ap += 16;
    bp += 32;
  }
  if (mr == 4 && nr == 8) {
    let row = cTile;
    v128.store(row, f32x4.add(v128.load(row), c00)); v128.store(row, f32x4.add(v128.load(row, 16), c01), 16);
    row += ldc;
    v128.store(row, f32x4.add(v128.load(row), c10)); v128.store(row, f32x4.add(v128.load(row, 16), c11), 16);
    row += ldc;
    v128.store(row, f32x4.add(v128.load(row), c20)); v128.store(row, f32x4.add(v128.load(row, 16), c21), 16);
    row += ldc;
    v128.store(row, f32x4.add(v128.load(row), c30)); v128.store(row, f32x4.add(v128.load(row, 16), c31), 16);
    return;
  }
  v128.store(tile, c00); v128.store(tile, c01, 16);
  v128.store(tile, c10, 32); v128.store(tile, c11, 48);
  v128.store(tile, c20, 64); v128.store(tile, c21, 80);
  v128.store(tile, c30, 96); v128.store(tile, c31, 112);
  for (let r = 0; r < mr; r++) {
    const row = cTile + <usize>r * ldc, sums = tile + (<usize>r << 5);
    for (let j = 0; j < nr; j++) {
      const at = row + (<usize>j << 2);
      store<f32>(at, load<f32>(at) + load<f32>(sums + (<usize>j << 2)));
    }
  }
}

/** Panel p of the block, row k: B̃(k0 + k, j0 + 8p + 0..7) = B[(j0 + 8p + 0..7)·K + k0 + k], zero past N. */
function packBRowsOfB(b: usize, K: i32, k0: i32, kc: i32, j0: i32, nc: i32, out: usize): void {
  const ldb = <usize>K << 2;
  const kc4 = kc & ~3;
  for (let j = 0; j < nc; j += 8) {
    const columns = min(8, nc - j);
    const src = b + ((<usize>(j0 + j) * <usize>K + <usize>k0) << 2);
    if (columns == 8) {
      // four k at a time from each of the 8 rows of B, transposed in registers
      for (let k = 0; k < kc4; k += 4) {
        const s = src + (<usize>k << 2);
        const dst = out + (<usize>k << 5);
        transposeStore4x4(s, ldb, dst);
        transposeStore4x4(s + (ldb << 2), ldb, dst + 16);
      }
      for (let k = kc4; k < kc; k++) {
        const s = src + (<usize>k << 2), dst = out + (<usize>k << 5);
        for (let jj: usize = 0; jj < 8; jj++) store<f32>(dst + (jj << 2), load<f32>(s + jj * ldb));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = src + (<usize>k << 2), dst = out + (<usize>k << 5);
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(dst + (<usize>jj << 2), jj < columns ? load<f32>(s + <usize>jj * ldb) : 0);
        }
      }
    }
    out += <usize>kc << 5;
  }
}

/**
 * out[k·8 + r] (k, r < 4) = X[r][k], where row r of the 4×4 block X starts at src + r·stride:
 * four columns of X, each stored as 4 floats 32 bytes apart (the rows of a B̃ panel).
 */
// @ts-ignore: decorator
@inline
function transposeStore4x4(src: usize, stride: usize, out: usize): void {
  const x0 = v128.load(src), x1 = v128.load(src + stride);
  const x2 = v128.load(src + stride * 2), x3 = v128.load(src + stride * 3);
  const lo01 = f32x4.shuffle(x0, x1, 0, 4, 1, 5), lo23 = f32x4.shuffle(x2, x3, 0, 4, 1, 5);
  const hi01 = f32x4.shuffle(x0, x1, 2, 6, 3, 7), hi23 = f32x4.shuffle(x2, x3, 2, 6, 3, 7);
  v128.store(out, f32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
  v128.store(out, f32x4.shuffle(lo01, lo23, 2, 3, 6, 7), 32);
  v128.store(out, f32x4.shuffle(hi01, hi23, 0, 1, 4, 5), 64);
  v128.store(out, f32x4.shuffle(hi01, hi23, 2, 3, 6, 7), 96);
}

/** Panel p of the block, row k: B̃(k0 + k, j0 + 8p + 0..7) = B[(k0 + k)·N + j0 + 8p + 0..7], zero past N. */
function packBRowsOfK(b: usize, N: i32, k0: i32, kc: i32, j0: i32, nc: i32, out: usize): void {
  const ldb = <usize>N << 2;
  for (let j = 0; j < nc; j += 8) {
    const columns = min(8, nc - j);
    let src = b + ((<usize>k0 * <usize>N + <usize>(j0 + j)) << 2);
    let dst = out;
    if (columns == 8) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += ldb;
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < 8; jj++) store<f32>(dst + (<usize>jj << 2), jj < columns ? load<f32>(src + (<usize>jj << 2)) : 0);
        src += ldb;
        dst += 32;
      }
    }
    out += <usize>kc << 5;
  }
}

/** Column k of the panel: Ã(i0 + 0..3, k0 + k) = A[(i0 + 0..3)·K + k0 + k], zero past M. */
function packARowsOfA(a: usize, K: i32, k0: i32, kc: i32, i0: i32, mr: i32, out: usize): void {
  const lda = <usize>K << 2;
  const src = a + ((<usize>i0 * <usize>K + <usize>k0) << 2);
  if (mr == 4) {
    const kc4 = kc & ~3;
    for (let k = 0; k < kc4; k += 4) {
      const s = src + (<usize>k << 2), dst = out + (<usize>k << 4);
      const x0 = v128.load(s), x1 = v128.load(s + lda), x2 = v128.load(s + lda * 2), x3 = v128.load(s + lda * 3);
      const lo01 = f32x4.shuffle(x0, x1, 0, 4, 1, 5), lo23 = f32x4.shuffle(x2, x3, 0, 4, 1, 5);
      const hi01 = f32x4.shuffle(x0, x1, 2, 6, 3, 7), hi23 = f32x4.shuffle(x2, x3, 2, 6, 3, 7);
      v128.store(dst, f32x4.shuffle(lo01, lo23, 0, 1, 4, 5));
      v128.store(dst, f32x4.shuffle(lo01, lo23, 2, 3, 6, 7), 16);
      v128.store(dst, f32x4.shuffle(hi01, hi23, 0, 1, 4, 5), 32);
      v128.store(dst, f32x4.shuffle(hi01, hi23, 2, 3, 6, 7), 48);
    }
    for (let k = kc4; k < kc; k++) {
      const s = src + (<usize>k << 2), dst = out + (<usize>k << 4);
      for (let r: usize = 0; r < 4; r++) store<f32>(dst + (r << 2), load<f32>(s + r * lda));
    }
  } else {
    for (let k = 0; k < kc; k++) {
      const s = src + (<usize>k << 2), dst = out + (<usize>k << 4);
      for (let r = 0; r < 4; r++) store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(s + <usize>r * lda) : 0);
    }
  }
}

/** Column k of the panel: Ã(i0 + 0..3, k0 + k) = A[(k0 + k)·M + i0 + 0..3], zero past M. */
function packAColumnsOfK(a: usize, M: i32, k0: i32, kc: i32, i0: i32, mr: i32, out: usize): void {
  const lda = <usize>M << 2;
  let src = a + ((<usize>k0 * <usize>M + <usize>i0) << 2);
  let dst = out;
  if (mr == 4) {
    for (let k = 0; k < kc; k++) {
      v128.store(dst, v128.load(src));
      src += lda;
      dst += 16;
    }
  } else {
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < 4; r++) store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
      src += lda;
      dst += 16;
    }
  }
}

/**
 * c[j] += Σ_k x[k] · B[j·K + k] for j < N: a matrix-vector product with B's rows (NT, M = 1).
 * Each c[j] sums its products in the order the tiles of `product` do — one f32 sum along k
 * from zero per block of KC, then added to c — so a row's result does not depend on how many
 * rows share the product (a validation row scores alike on one worker or several, and
 * threads that split a step by unit agree bit for bit). Eight rows of B at a time: each 4×4
 * block of B is transposed in registers so that the lanes run along j.
 */
function matvecRows(x: usize, b: usize, c: usize, N: i32, K: i32): void {
  const ldb = <usize>K << 2;
  const N8 = N & ~7, N4 = N & ~3;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const k1 = min(K, k0 + KC), k4 = k0 + ((k1 - k0) & ~3);
    let j = 0;
    for (; j < N8; j += 8) {
      const row = b + <usize>j * ldb;
      let lo = f32x4.splat(0), hi = f32x4.splat(0);
      for (let k = k0; k < k4; k += 4) {
        const at = row + (<usize>k << 2), xk = v128.load(x + (<usize>k << 2));
        lo = accumulateBlock(lo, xk, at, ldb);
        hi = accumulateBlock(hi, xk, at + ldb * 4, ldb);
      }
      for (let k = k4; k < k1; k++) {
        const at = row + (<usize>k << 2), xk = v128.load32_splat(x + (<usize>k << 2));
        lo = f32x4.add(lo, f32x4.mul(xk, column4(at, ldb)));
        hi = f32x4.add(hi, f32x4.mul(xk, column4(at + ldb * 4, ldb)));
      }
      const cj = c + (<usize>j << 2);
      v128.store(cj, f32x4.add(v128.load(cj), lo));
      v128.store(cj, f32x4.add(v128.load(cj, 16), hi), 16);
    }
    for (; j < N4; j += 4) {
      const row = b + <usize>j * ldb;
      let acc = f32x4.splat(0);
      for (let k = k0; k < k4; k += 4) acc = accumulateBlock(acc, v128.load(x + (<usize>k << 2)), row + (<usize>k << 2), ldb);
      for (let k = k4; k < k1; k++) acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(x + (<usize>k << 2)), column4(row + (<usize>k << 2), ldb)));
      const cj = c + (<usize>j << 2);
      v128.store(cj, f32x4.add(v128.load(cj), acc));
    }
    for (; j < N; j++) {
      const row = b + <usize>j * ldb;
      let sum: f32 = 0;
      for (let k = k0; k < k1; k++) sum += load<f32>(x + (<usize>k << 2)) * load<f32>(row + (<usize>k << 2));
      const cj = c + (<usize>j << 2);
      store<f32>(cj, load<f32>(cj) + sum);
    }
  }
}

/**
 * acc[r] + x[0]·B[r][0] + x[1]·B[r][1] + x[2]·B[r][2] + x[3]·B[r][3], added in that order, for
 * the four rows r of the 4×4 block of B at `at` (row stride ldb): the block is transposed so
 * that each of its columns is one vector.
 */
// @ts-ignore: decorator
@inline function accumulateBlock(acc: v128, x: v128, at: usize, ldb: usize): v128 {
  const r0 = v128.load(at), r1 = v128.load(at + ldb), r2 = v128.load(at + ldb * 2), r3 = v128.load(at + ldb * 3);
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5), t1 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7);
  const t2 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5), t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  acc = f32x4.add(acc, f32x4.mul(v128.shuffle<f32>(x, x, 0, 0, 0, 0), v128.shuffle<f32>(t0, t2, 0, 1, 4, 5)));
  acc = f32x4.add(acc, f32x4.mul(v128.shuffle<f32>(x, x, 1, 1, 1, 1), v128.shuffle<f32>(t0, t2, 2, 3, 6, 7)));
  acc = f32x4.add(acc, f32x4.mul(v128.shuffle<f32>(x, x, 2, 2, 2, 2), v128.shuffle<f32>(t1, t3, 0, 1, 4, 5)));
  return f32x4.add(acc, f32x4.mul(v128.shuffle<f32>(x, x, 3, 3, 3, 3), v128.shuffle<f32>(t1, t3, 2, 3, 6, 7)));
}

/** B[r][0] for the four rows r at `at` (row stride ldb), as one vector. */
// @ts-ignore: decorator
@inline function column4(at: usize, ldb: usize): v128 {
  return f32x4(load<f32>(at), load<f32>(at + ldb), load<f32>(at + ldb * 2), load<f32>(at + ldb * 3));
}

/**
 * c[j] += Σ_k x[k] · B[k·N + j] for j < N: a vector-matrix product down B's rows (NN and TN
 * with M = 1), 32 columns of c held in registers while k runs, then 4, then one.
 */
function vecmatRows(x: usize, b: usize, c: usize, N: i32, K: i32): void {
  const ldb = <usize>N << 2;
  let j = 0;
  for (; j + 32 <= N; j += 32) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let s4 = f32x4.splat(0), s5 = f32x4.splat(0), s6 = f32x4.splat(0), s7 = f32x4.splat(0);
    let row = b + (<usize>j << 2), xp = x;
    for (let k = 0; k < K; k++) {
      const xk = v128.load32_splat(xp);
      s0 = f32x4.add(s0, f32x4.mul(xk, v128.load(row)));
      s1 = f32x4.add(s1, f32x4.mul(xk, v128.load(row, 16)));
      s2 = f32x4.add(s2, f32x4.mul(xk, v128.load(row, 32)));
      s3 = f32x4.add(s3, f32x4.mul(xk, v128.load(row, 48)));
      s4 = f32x4.add(s4, f32x4.mul(xk, v128.load(row, 64)));
      s5 = f32x4.add(s5, f32x4.mul(xk, v128.load(row, 80)));
      s6 = f32x4.add(s6, f32x4.mul(xk, v128.load(row, 96)));
      s7 = f32x4.add(s7, f32x4.mul(xk, v128.load(row, 112)));
      row += ldb;
      xp += 4;
    }
    const cj = c + (<usize>j << 2);
    v128.store(cj, f32x4.add(v128.load(cj), s0)); v128.store(cj, f32x4.add(v128.load(cj, 16), s1), 16);
    v128.store(cj, f32x4.add(v128.load(cj, 32), s2), 32); v128.store(cj, f32x4.add(v128.load(cj, 48), s3), 48);
    v128.store(cj, f32x4.add(v128.load(cj, 64), s4), 64); v128.store(cj, f32x4.add(v128.load(cj, 80), s5), 80);
    v128.store(cj, f32x4.add(v128.load(cj, 96), s6), 96); v128.store(cj, f32x4.add(v128.load(cj, 112), s7), 112);
  }
  for (; j + 4 <= N; j += 4) {
    let s = f32x4.splat(0);
    let row = b + (<usize>j << 2), xp = x;
    for (let k = 0; k < K; k++) {
      s = f32x4.add(s, f32x4.mul(v128.load32_splat(xp), v128.load(row)));
      row += ldb;
      xp += 4;
    }
    const cj = c + (<usize>j << 2);
    v128.store(cj, f32x4.add(v128.load(cj), s));
  }
  for (; j < N; j++) {
    let s: f32 = 0;
    let row = b + (<usize>j << 2), xp = x;
    for (let k = 0; k < K; k++) {
      s += load<f32>(xp) * load<f32>(row);
      row += ldb;
      xp += 4;
    }
    const cj = c + (<usize>j << 2);
    store<f32>(cj, load<f32>(cj) + s);
  }
}

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
  let p = f32x4.splat(<f32>(1.0 / 5040));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 720)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 120)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 24)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(1.0 / 6)));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(<f32>(0.5)));
  return f32x4.add(r, f32x4.mul(f32x4.mul(r, r), p));
}

/** 2^k for integral float lanes −126 ≤ k ≤ 127. */
// @ts-ignore: decorator
@inline
function powerOfTwo(k: v128): v128 {
  return i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(127)), 23);
}

/** e^y for y ≤ 0, down into the subnormals (2^k applied in two halves so each is normal). */
// @ts-ignore: decorator
@inline
function expNonPositive(y: v128): v128 {
  // below −104, e^y is under half the smallest subnormal
  y = f32x4.max(y, f32x4.splat(-104));
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
  y = f32x4.max(y, f32x4.splat(-40));
  const k = exponentOf(y);
  const scale = powerOfTwo(k);
  return f32x4.add(f32x4.mul(scale, expm1Reduced(y, k)), f32x4.sub(scale, f32x4.splat(1)));
}

/** σ(x) = 1 / (1 + e^−x): with t = e^−|x|, σ = 1/(1 + t) for x ≥ 0 and t/(1 + t) for x < 0. */
// @ts-ignore: decorator
@inline
function sigmoidLanes(x: v128): v128 {
  const t = expNonPositive(f32x4.neg(f32x4.abs(x)));
  const one = f32x4.splat(1);
  const numerator = v128.bitselect(t, one, f32x4.lt(x, f32x4.splat(0)));
  return f32x4.div(numerator, f32x4.add(one, t));
}

/** tanh(x) = sign(x) · −u/(2 + u) with u = e^(−2|x|) − 1. */
// @ts-ignore: decorator
@inline
function tanhLanes(x: v128): v128 {
  const u = expm1NonPositive(f32x4.mul(f32x4.abs(x), f32x4.splat(-2)));
  const magnitude = f32x4.div(f32x4.neg(u), f32x4.add(u, f32x4.splat(2)));
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
  stepSize: f32, beta1: f32, beta2: f32, sqrtCorrection2: f32, eps: f32,
): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2);
  const c1 = f32x4.splat(1 - beta1), c2 = f32x4.splat(1 - beta2);
  const step = f32x4.splat(stepSize), correction = f32x4.splat(sqrtCorrection2), epsilon = f32x4.splat(eps);
  const vectorBytes = <usize>(n & ~3) << 2, bytes = <usize>n << 2;
  let at: usize = 0;
  for (; at < vectorBytes; at += 16) {
    const g = v128.load(grads + at);
    const mi = f32x4.add(f32x4.mul(b1, v128.load(m + at)), f32x4.mul(c1, g));
    const vi = f32x4.add(f32x4.mul(b2, v128.load(v + at)), f32x4.mul(c2, f32x4.mul(g, g)));
    v128.store(m + at, mi);
    v128.store(v + at, vi);
    const denominator = f32x4.add(f32x4.div(f32x4.sqrt(vi), correction), epsilon);
    v128.store(params + at, f32x4.sub(v128.load(params + at), f32x4.div(f32x4.mul(step, mi), denominator)));
  }
  for (; at < bytes; at += 4) {
    const g = load<f32>(grads + at);
    const mi = beta1 * load<f32>(m + at) + (1 - beta1) * g;
    const vi = beta2 * load<f32>(v + at) + (1 - beta2) * g * g;
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
