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
// The 4×8 tile of C then lives in eight f32x4 registers while k runs over the block. Columns
// that do not fill a panel are packed with zeros and only their part of the tile is added to
// C; the last M mod 4 rows take tiles of their own (lastRows), each element summed in the same
// order, so any M, N, K work and a row's bits never depend on the rows beside it.
// ---------------------------------------------------------------------------------------

/**
 * c + a·b lane by lane, the step of every sum of products below but matvecPacked's: one
 * fused multiply-add in the relaxed build (simd-relaxed.wasm, built with relaxed SIMD, where
 * the runtime fuses f32x4.relaxed_madd wherever the processor has FMA), a multiply then an
 * add in the plain one (simd.wasm). Either way a build sums each element's products in one
 * order.
 */
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/** c + a·b for one float, rounded as a lane of madd is, for the columns past the last whole vector. */
// @ts-ignore: decorator
@inline function maddScalar(a: f32, b: f32, c: f32): f32 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.extract_lane(f32x4.relaxed_madd(f32x4.splat(a), f32x4.splat(b), f32x4.splat(c)), 0);
  return c + a * b;
}

/** n rounded up to a multiple of `multiple`, a power of two. */
// @ts-ignore: decorator
@inline function roundUp(n: i32, multiple: i32): i32 {
  return (n + multiple - 1) & ~(multiple - 1);
}

const KIND_NT: i32 = 0;
const KIND_NN: i32 = 1;
const KIND_TN: i32 = 2;
/** B̃ packed beforehand by packWeights: block k0 at k0·N8 floats (N8 = N rounded up to 8), its panel p at + 8p·kc. */
const KIND_PACKED: i32 = 3;

/** Bytes of a row of a packed B̃ panel and of a row of the 4×8 tile: 8 floats. */
const PANEL_ROW_BYTES: usize = 32;
/** Bytes of a column of a packed Ã panel: 4 floats. */
const A_COLUMN_BYTES: usize = 16;

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

/** Floats packWeights writes for a B̃ of K rows and N columns: N rounded up to a panel's 8, times K. */
export function packedFloats(N: i32, K: i32): i32 {
  return roundUp(N, 8) * K;
}

/**
 * B̃ of an NT product (kind 0: B[N,K]) or an NN one (kind 1: B[K,N]) packed whole into
 * `packed`, block by block of KC rows as `product` packs it, for matmulPacked: a weight matrix
 * that several products of a step share is packed once.
 */
export function packWeights(kind: i32, b: usize, packed: usize, N: i32, K: i32): void {
  const N8 = <usize>roundUp(N, 8);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0), out = packed + ((<usize>k0 * N8) << 2);
    if (kind == KIND_NT) packBRowsOfB(b, K, k0, kc, 0, N, out);
    else packBRowsOfK(b, N, k0, kc, 0, N, out);
  }
}

/** C[M,N] += A[M,K] · B̃ with B̃ as packWeights left it: the sums of matmulNT / matmulNN, in the same order, for M > 1. */
export function matmulPacked(a: usize, packed: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  product(KIND_PACKED, a, packed, c, M, N, K, scratch);
}

/**
 * Rows of B in a matrix-vector panel: four f32x4 sums, each of two values of k a loop, which
 * with their eight operands and two broadcasts of x fit the fifteen vector registers V8 allocates on x64 (six
 * sums of one k a loop ran 3–4 % slower; eight sums, or six of two k, spill).
 */
const MV_PANEL: i32 = 16;
/** Bytes of a row k of a matrix-vector panel: one cache line. */
const MV_ROW_BYTES: usize = 64;

/** Floats packMatvec writes for a B [N, K]: N rounded up to a panel's 16, times K. */
export function matvecFloats(N: i32, K: i32): i32 {
  return roundUp(N, MV_PANEL) * K;
}

/**
 * B [N, K] packed for matvecPacked: block by block of KC values of k (block k0 at k0·N16
 * floats, N16 = N rounded up to 16), panels of 16 consecutive rows j of B side by side (panel
 * p at + 16p·kc), row k of a panel the 16 floats B[(16p + 0..15)·K + k0 + k], zero past N.
 */
export function packMatvec(b: usize, packed: usize, N: i32, K: i32): void {
  const N16 = roundUp(N, MV_PANEL), ldb = <usize>K << 2;
  let out = packed;
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    for (let p = 0; p < N16; p += MV_PANEL) {
      for (let k = 0; k < kc; k++) {
        const src = b + (<usize>(k0 + k) << 2);
        for (let jj = 0; jj < MV_PANEL; jj++) {
          const j = p + jj;
          store<f32>(out, j < N ? load<f32>(src + <usize>j * ldb) : 0);
          out += 4;
        }
      }
    }
  }
}

/**
 * c[j] += Σ_k x[k] · B[j·K + k] for the rows j ∈ [j0, j1) of a B [N, K] as packMatvec packed
 * it: a batch of one's matrix-vector product, summed as matvecRows sums it (one f32 sum along
 * k from zero per block of KC, then added to c), so to the same bits in the plain build. A
 * panel's row k holds 16 consecutive j, so the lanes run along j with no shuffle. A panel that
 * [j0, j1) or N cuts is summed whole and only its rows in range are added.
 *
 * The relaxed build fuses its multiply-adds into eight sums, the even k's and the odd k's
 * apart (panels): a fused multiply-add waits four cycles for the one before it into its sum,
 * and a panel's four sums alone would leave the FMA units idle half the time.
 * So there it agrees with matvecRows to float rounding, not to the bit.
 */
export function matvecPacked(x: usize, packed: usize, c: usize, N: i32, K: i32, j0: i32, j1: i32, scratch: usize): void {
  const N16 = <usize>roundUp(N, MV_PANEL);
  const whole0 = roundUp(j0, MV_PANEL), whole1 = max(whole0, j1 & ~(MV_PANEL - 1));
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const panelBytes = <usize>kc * MV_ROW_BYTES, block = packed + ((<usize>k0 * N16) << 2), xk = x + (<usize>k0 << 2);
    if (j0 < whole0) {
      const first = j0 & ~(MV_PANEL - 1);
      panelPart(xk, block + <usize>(first / MV_PANEL) * panelBytes, kc, c, first, j0, min(j1, whole0), scratch);
    }
    panels(xk, block + <usize>(whole0 / MV_PANEL) * panelBytes, panelBytes, kc, c + (<usize>whole0 << 2), (whole1 - whole0) / MV_PANEL);
    if (whole1 < j1) panelPart(xk, block + <usize>(whole1 / MV_PANEL) * panelBytes, kc, c, whole1, max(j0, whole1), j1, scratch);
  }
}

/** c[j] += the sum of row j − first of the panel that holds rows first … first + 15, for j ∈ [from, to). */
function panelPart(x: usize, panel: usize, kc: i32, c: usize, first: i32, from: i32, to: i32, scratch: usize): void {
  memory.fill(scratch, 0, MV_ROW_BYTES);
  panels(x, panel, 0, kc, scratch, 1);
  for (let j = from; j < to; j++) {
    const at = c + (<usize>j << 2);
    store<f32>(at, load<f32>(at) + load<f32>(scratch + (<usize>(j - first) << 2)));
  }
}

/** c[16p + 0..15] += Σ_k x[k] · (row k of panel p) for `count` panels from `panel`, over kc rows. */
function panels(x: usize, panel: usize, panelBytes: usize, kc: i32, c: usize, count: i32): void {
  if (ASC_FEATURE_RELAXED_SIMD) fusedPanels(x, panel, panelBytes, kc, c, count);
  else plainPanels(x, panel, panelBytes, kc, c, count);
}

/** panels in the plain build: one sum a lane, its products added in the order of k, two k a loop. */
// @ts-ignore: decorator
@inline function plainPanels(x: usize, panel: usize, panelBytes: usize, kc: i32, c: usize, count: i32): void {
  for (let p = 0; p < count; p++, panel += panelBytes, c += MV_ROW_BYTES) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let xp = x, row = panel;
    for (const end = panel + <usize>(kc & ~1) * MV_ROW_BYTES; row < end; row += 2 * MV_ROW_BYTES) {
      let xv = v128.load32_splat(xp);
      s0 = f32x4.add(s0, f32x4.mul(xv, v128.load(row)));
      s1 = f32x4.add(s1, f32x4.mul(xv, v128.load(row, 16)));
      s2 = f32x4.add(s2, f32x4.mul(xv, v128.load(row, 32)));
      s3 = f32x4.add(s3, f32x4.mul(xv, v128.load(row, 48)));
      xv = v128.load32_splat(xp, 4);
      s0 = f32x4.add(s0, f32x4.mul(xv, v128.load(row, 64)));
      s1 = f32x4.add(s1, f32x4.mul(xv, v128.load(row, 80)));
      s2 = f32x4.add(s2, f32x4.mul(xv, v128.load(row, 96)));
      s3 = f32x4.add(s3, f32x4.mul(xv, v128.load(row, 112)));
      xp += 8;
    }
    if (kc & 1) {
      const xv = v128.load32_splat(xp);
      s0 = f32x4.add(s0, f32x4.mul(xv, v128.load(row)));
      s1 = f32x4.add(s1, f32x4.mul(xv, v128.load(row, 16)));
      s2 = f32x4.add(s2, f32x4.mul(xv, v128.load(row, 32)));
      s3 = f32x4.add(s3, f32x4.mul(xv, v128.load(row, 48)));
    }
    v128.store(c, f32x4.add(v128.load(c), s0)); v128.store(c, f32x4.add(v128.load(c, 16), s1), 16);
    v128.store(c, f32x4.add(v128.load(c, 32), s2), 32); v128.store(c, f32x4.add(v128.load(c, 48), s3), 48);
  }
}

/**
 * panels in the relaxed build: fused multiply-adds into eight sums, the even k's and the odd k's apart, x read two k at a
 * time and each k's value spread across the lanes by a shuffle (9 loads for 8 multiply-adds, not 10). The branch between
 * the two k's is never taken (the loop runs whole pairs): it keeps the odd k's loads after the even k's multiply-adds,
 * where V8 would load all eight rows first and spill the sums.
 */
// @ts-ignore: decorator
@inline function fusedPanels(x: usize, panel: usize, panelBytes: usize, kc: i32, c: usize, count: i32): void {
  for (let p = 0; p < count; p++, panel += panelBytes, c += MV_ROW_BYTES) {
    let s0 = f32x4.splat(0), s1 = f32x4.splat(0), s2 = f32x4.splat(0), s3 = f32x4.splat(0);
    let t0 = f32x4.splat(0), t1 = f32x4.splat(0), t2 = f32x4.splat(0), t3 = f32x4.splat(0);
    let xp = x, row = panel;
    for (const end = panel + <usize>(kc & ~1) * MV_ROW_BYTES; row < end; xp += 8) {
      const x2 = v128.load64_zero(xp);
      let xv = i32x4.shuffle(x2, x2, 0, 0, 0, 0);
      s0 = f32x4.relaxed_madd(xv, v128.load(row), s0);
      s1 = f32x4.relaxed_madd(xv, v128.load(row, 16), s1);
      s2 = f32x4.relaxed_madd(xv, v128.load(row, 32), s2);
      s3 = f32x4.relaxed_madd(xv, v128.load(row, 48), s3);
      row += MV_ROW_BYTES;
      if (row >= end) break;
      xv = i32x4.shuffle(x2, x2, 1, 1, 1, 1);
      t0 = f32x4.relaxed_madd(xv, v128.load(row), t0);
      t1 = f32x4.relaxed_madd(xv, v128.load(row, 16), t1);
      t2 = f32x4.relaxed_madd(xv, v128.load(row, 32), t2);
      t3 = f32x4.relaxed_madd(xv, v128.load(row, 48), t3);
      row += MV_ROW_BYTES;
    }
    for (const end = panel + <usize>kc * MV_ROW_BYTES; row < end; row += MV_ROW_BYTES) {
      const xv = v128.load32_splat(xp);
      s0 = f32x4.relaxed_madd(xv, v128.load(row), s0);
      s1 = f32x4.relaxed_madd(xv, v128.load(row, 16), s1);
      s2 = f32x4.relaxed_madd(xv, v128.load(row, 32), s2);
      s3 = f32x4.relaxed_madd(xv, v128.load(row, 48), s3);
      xp += 4;
    }
    v128.store(c, f32x4.add(v128.load(c), f32x4.add(s0, t0))); v128.store(c, f32x4.add(v128.load(c, 16), f32x4.add(s1, t1)), 16);
    v128.store(c, f32x4.add(v128.load(c, 32), f32x4.add(s2, t2)), 32); v128.store(c, f32x4.add(v128.load(c, 48), f32x4.add(s3, t3)), 48);
  }
}

/**
 * C[M,N] += Ã · B̃ in `kind`'s layout, the loop this file's header draws: for each block of KC
 * values of k and as many columns as B_BLOCK_FLOATS hold, B̃'s block packed into scratch (or read
 * where packWeights left it); then for each 4 rows of C, their Ã panel packed and the block's
 * 4×8 tiles summed (lastRows for the last M mod 4). Scratch: the edge tile (TILE_FLOATS), the Ã
 * panel (A_PANEL_FLOATS), the block of B̃ (B_BLOCK_FLOATS).
 */
function product(kind: i32, a: usize, b: usize, c: usize, M: i32, N: i32, K: i32, scratch: usize): void {
  const tile = scratch;
  const aPanel = tile + (<usize>TILE_FLOATS << 2);
  const packedHere = aPanel + (<usize>A_PANEL_FLOATS << 2);
  const ldc = <usize>N << 2, N8 = <usize>roundUp(N, 8);
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const blockColumns = max(8, (B_BLOCK_FLOATS / kc) & ~7);
    for (let j0 = 0; j0 < N; j0 += blockColumns) {
      const nc = min(blockColumns, N - j0);
      let bBlock = packedHere;
      if (kind == KIND_PACKED) bBlock = b + ((<usize>k0 * N8 + <usize>j0 * <usize>kc) << 2);
      else if (kind == KIND_NT) packBRowsOfB(b, K, k0, kc, j0, nc, bBlock);
      else packBRowsOfK(b, N, k0, kc, j0, nc, bBlock);
      const panelBytes = <usize>kc * PANEL_ROW_BYTES;
      for (let i0 = 0; i0 < M; i0 += 4) {
        const mr = min(4, M - i0);
        if (kind == KIND_TN) packAColumnsOfK(a, M, k0, kc, i0, mr, aPanel);
        else packARowsOfA(a, K, k0, kc, i0, mr, aPanel);
        let bPanel = bBlock;
        let cTile = c + ((<usize>i0 * <usize>N + <usize>j0) << 2);
        if (mr < 4) {
          lastRows(aPanel, bBlock, panelBytes, kc, cTile, ldc, mr, nc, tile);
          continue;
        }
        for (let j = 0; j < nc; j += 8) {
          tile4x8(aPanel, bPanel, kc, cTile, ldc, min(8, nc - j), tile);
          bPanel += panelBytes;
          cTile += PANEL_ROW_BYTES;
        }
      }
    }
  }
}

/**
 * C[0..4, 0..nr] += Σ_k Ã(:, k) ⊗ B̃(k, :) over the kc columns of a packed Ã panel (4 floats
 * each) and the kc rows of a packed B̃ panel (8 floats each).
 */
function tile4x8(aPanel: usize, bPanel: usize, kc: i32, cTile: usize, ldc: usize, nr: i32, tile: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  let ap = aPanel, bp = bPanel;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp), b1 = v128.load(bp, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11);
    x = v128.load32_splat(ap, 8);
    c20 = madd(x, b0, c20); c21 = madd(x, b1, c21);
    x = v128.load32_splat(ap, 12);
    c30 = madd(x, b0, c30); c31 = madd(x, b1, c31);
    ap += A_COLUMN_BYTES;
    bp += PANEL_ROW_BYTES;
  }
  if (nr == 8) {
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
  addTile(cTile, ldc, 4, nr, tile);
}

/**
 * The last mr < 4 rows of C across the block's nc columns: each element sums its products in
 * tile4x8's order, so a row's result does not depend on the rows beside it. Two rows go
 * together across two panels at a time (tile2x16: eight sums, as many as tile4x8 keeps in
 * flight); a row alone has only two sums in a panel, each waiting for its previous
 * multiply-add, so it takes three panels side by side (six sums); what is left of the columns
 * goes one row of one panel at a time.
 */
function lastRows(aPanel: usize, bBlock: usize, panelBytes: usize, kc: i32, cTile: usize, ldc: usize, mr: i32, nc: i32, tile: usize): void {
  const paired = mr >= 2 ? nc & ~15 : 0;
  for (let j = 0; j < paired; j += 16) {
    tile2x16(aPanel, bBlock + <usize>(j >> 3) * panelBytes, panelBytes, kc, cTile + (<usize>j << 2), ldc);
  }
  for (let r = 0; r < mr; r++) {
    const from = r < 2 ? paired : 0;
    rowFrom(aPanel + (<usize>r << 2), bBlock + <usize>(from >> 3) * panelBytes, panelBytes, kc, cTile + <usize>r * ldc + (<usize>from << 2), from, nc, tile);
  }
}

/** A row of C from column j0 of the block (a multiple of 8) to nc: `ap` its values in the Ã panel, `bPanel` column j0's panel, `row` its element of C there. */
function rowFrom(ap: usize, bPanel: usize, panelBytes: usize, kc: i32, row: usize, j0: i32, nc: i32, tile: usize): void {
  let j = j0;
  for (; j + 24 <= nc; j += 24, bPanel += 3 * panelBytes, row += 3 * PANEL_ROW_BYTES) threePanelsOfRow(ap, bPanel, panelBytes, kc, row);
  for (; j < nc; j += 8, bPanel += panelBytes, row += PANEL_ROW_BYTES) panelOfRow(ap, bPanel, kc, row, min(8, nc - j), tile);
}

/** C[0..2, 0..16] += Σ_k Ã(0..1, k) ⊗ B̃(k, 0..16) over two whole panels: rows 0 and 1 of the Ã panel. */
function tile2x16(aPanel: usize, bPanel: usize, panelBytes: usize, kc: i32, cTile: usize, ldc: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
  let ap = aPanel, first = bPanel, second = bPanel + panelBytes;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(first), b1 = v128.load(first, 16), b2 = v128.load(second), b3 = v128.load(second, 16);
    let x = v128.load32_splat(ap);
    c00 = madd(x, b0, c00); c01 = madd(x, b1, c01); c02 = madd(x, b2, c02); c03 = madd(x, b3, c03);
    x = v128.load32_splat(ap, 4);
    c10 = madd(x, b0, c10); c11 = madd(x, b1, c11); c12 = madd(x, b2, c12); c13 = madd(x, b3, c13);
    ap += A_COLUMN_BYTES;
    first += PANEL_ROW_BYTES;
    second += PANEL_ROW_BYTES;
  }
  let row = cTile;
  v128.store(row, f32x4.add(v128.load(row), c00)); v128.store(row, f32x4.add(v128.load(row, 16), c01), 16);
  v128.store(row, f32x4.add(v128.load(row, 32), c02), 32); v128.store(row, f32x4.add(v128.load(row, 48), c03), 48);
  row += ldc;
  v128.store(row, f32x4.add(v128.load(row), c10)); v128.store(row, f32x4.add(v128.load(row, 16), c11), 16);
  v128.store(row, f32x4.add(v128.load(row, 32), c12), 32); v128.store(row, f32x4.add(v128.load(row, 48), c13), 48);
}

/** row[0..24] += Σ_k Ã(r, k) · B̃(k, 0..24) over three whole panels, from `ap` (row r's first value in the Ã panel). */
function threePanelsOfRow(ap: usize, bPanel: usize, panelBytes: usize, kc: i32, row: usize): void {
  let a0 = f32x4.splat(0), a1 = f32x4.splat(0), b0 = f32x4.splat(0), b1 = f32x4.splat(0), c0 = f32x4.splat(0), c1 = f32x4.splat(0);
  let first = bPanel, second = bPanel + panelBytes, third = bPanel + 2 * panelBytes;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(ap);
    a0 = madd(x, v128.load(first), a0); a1 = madd(x, v128.load(first, 16), a1);
    b0 = madd(x, v128.load(second), b0); b1 = madd(x, v128.load(second, 16), b1);
    c0 = madd(x, v128.load(third), c0); c1 = madd(x, v128.load(third, 16), c1);
    ap += A_COLUMN_BYTES;
    first += PANEL_ROW_BYTES;
    second += PANEL_ROW_BYTES;
    third += PANEL_ROW_BYTES;
  }
  v128.store(row, f32x4.add(v128.load(row), a0)); v128.store(row, f32x4.add(v128.load(row, 16), a1), 16);
  v128.store(row, f32x4.add(v128.load(row, 32), b0), 32); v128.store(row, f32x4.add(v128.load(row, 48), b1), 48);
  v128.store(row, f32x4.add(v128.load(row, 64), c0), 64); v128.store(row, f32x4.add(v128.load(row, 80), c1), 80);
}

/** row[0..nr] += Σ_k Ã(r, k) · B̃(k, 0..nr) over one panel. */
function panelOfRow(ap: usize, bPanel: usize, kc: i32, row: usize, nr: i32, tile: usize): void {
  let lo = f32x4.splat(0), hi = f32x4.splat(0);
  let bp = bPanel;
  for (let k = 0; k < kc; k++) {
    const x = v128.load32_splat(ap);
    lo = madd(x, v128.load(bp), lo);
    hi = madd(x, v128.load(bp, 16), hi);
    ap += A_COLUMN_BYTES;
    bp += PANEL_ROW_BYTES;
  }
  if (nr == 8) {
    v128.store(row, f32x4.add(v128.load(row), lo));
    v128.store(row, f32x4.add(v128.load(row, 16), hi), 16);
  } else {
    v128.store(tile, lo);
    v128.store(tile, hi, 16);
    addTile(row, 0, 1, nr, tile);
  }
}

/** C[0..mr, 0..nr] += the tile's sums, stored row by row (8 floats a row) at `tile`. */
function addTile(cTile: usize, ldc: usize, mr: i32, nr: i32, tile: usize): void {
  for (let r = 0; r < mr; r++) {
    const row = cTile + <usize>r * ldc, sums = tile + <usize>r * PANEL_ROW_BYTES;
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
        const dst = out + <usize>k * PANEL_ROW_BYTES;
        transposeStore4x4(s, ldb, dst, PANEL_ROW_BYTES);
        transposeStore4x4(s + (ldb << 2), ldb, dst + 16, PANEL_ROW_BYTES);
      }
      for (let k = kc4; k < kc; k++) {
        const s = src + (<usize>k << 2), dst = out + <usize>k * PANEL_ROW_BYTES;
        for (let jj: usize = 0; jj < 8; jj++) store<f32>(dst + (jj << 2), load<f32>(s + jj * ldb));
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const s = src + (<usize>k << 2), dst = out + <usize>k * PANEL_ROW_BYTES;
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(dst + (<usize>jj << 2), jj < columns ? load<f32>(s + <usize>jj * ldb) : 0);
        }
      }
    }
    out += <usize>kc * PANEL_ROW_BYTES;
  }
}

/**
 * The 4×4 block X whose row r starts at src + r·stride, stored transposed: column k of X as 4
 * floats at out + k·outStride (the rows of a B̃ panel, or the columns of an Ã panel).
 */
// @ts-ignore: decorator
@inline
function transposeStore4x4(src: usize, stride: usize, out: usize, outStride: usize): void {
  const x0 = v128.load(src), x1 = v128.load(src + stride);
  const x2 = v128.load(src + stride * 2), x3 = v128.load(src + stride * 3);
  const t0 = interleaveLow(x0, x1), t1 = interleaveHigh(x0, x1), t2 = interleaveLow(x2, x3), t3 = interleaveHigh(x2, x3);
  v128.store(out, lowHalves(t0, t2));
  v128.store(out + outStride, highHalves(t0, t2));
  v128.store(out + outStride * 2, lowHalves(t1, t3));
  v128.store(out + outStride * 3, highHalves(t1, t3));
}

// A 4×4 transpose in two rounds of shuffles: rows interleaved in pairs (x0 x1 → a0 b0 a1 b1,
// a2 b2 a3 b3), then the halves of those pairs joined (column k of the block).

/** (a0, b0, a1, b1) */
// @ts-ignore: decorator
@inline function interleaveLow(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 4, 1, 5);
}

/** (a2, b2, a3, b3) */
// @ts-ignore: decorator
@inline function interleaveHigh(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 2, 6, 3, 7);
}

/** (a0, a1, b0, b1) */
// @ts-ignore: decorator
@inline function lowHalves(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}

/** (a2, a3, b2, b3) */
// @ts-ignore: decorator
@inline function highHalves(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 2, 3, 6, 7);
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
        dst += PANEL_ROW_BYTES;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < 8; jj++) store<f32>(dst + (<usize>jj << 2), jj < columns ? load<f32>(src + (<usize>jj << 2)) : 0);
        src += ldb;
        dst += PANEL_ROW_BYTES;
      }
    }
    out += <usize>kc * PANEL_ROW_BYTES;
  }
}

/** Column k of the panel: Ã(i0 + 0..3, k0 + k) = A[(i0 + 0..3)·K + k0 + k], zero past M. */
function packARowsOfA(a: usize, K: i32, k0: i32, kc: i32, i0: i32, mr: i32, out: usize): void {
  const lda = <usize>K << 2;
  const src = a + ((<usize>i0 * <usize>K + <usize>k0) << 2);
  if (mr == 4) {
    const kc4 = kc & ~3;
    for (let k = 0; k < kc4; k += 4) {
      transposeStore4x4(src + (<usize>k << 2), lda, out + <usize>k * A_COLUMN_BYTES, A_COLUMN_BYTES);
    }
    for (let k = kc4; k < kc; k++) {
      const s = src + (<usize>k << 2), dst = out + <usize>k * A_COLUMN_BYTES;
      for (let r: usize = 0; r < 4; r++) store<f32>(dst + (r << 2), load<f32>(s + r * lda));
    }
  } else {
    for (let k = 0; k < kc; k++) {
      const s = src + (<usize>k << 2), dst = out + <usize>k * A_COLUMN_BYTES;
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
      dst += A_COLUMN_BYTES;
    }
  } else {
    for (let k = 0; k < kc; k++) {
      for (let r = 0; r < 4; r++) store<f32>(dst + (<usize>r << 2), r < mr ? load<f32>(src + (<usize>r << 2)) : 0);
      src += lda;
      dst += A_COLUMN_BYTES;
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
        lo = madd(xk, column4(at, ldb), lo);
        hi = madd(xk, column4(at + ldb * 4, ldb), hi);
      }
      const cj = c + (<usize>j << 2);
      v128.store(cj, f32x4.add(v128.load(cj), lo));
      v128.store(cj, f32x4.add(v128.load(cj, 16), hi), 16);
    }
    for (; j < N4; j += 4) {
      const row = b + <usize>j * ldb;
      let acc = f32x4.splat(0);
      for (let k = k0; k < k4; k += 4) acc = accumulateBlock(acc, v128.load(x + (<usize>k << 2)), row + (<usize>k << 2), ldb);
      for (let k = k4; k < k1; k++) acc = madd(v128.load32_splat(x + (<usize>k << 2)), column4(row + (<usize>k << 2), ldb), acc);
      const cj = c + (<usize>j << 2);
      v128.store(cj, f32x4.add(v128.load(cj), acc));
    }
    for (; j < N; j++) {
      const row = b + <usize>j * ldb;
      let sum: f32 = 0;
      for (let k = k0; k < k1; k++) sum = maddScalar(load<f32>(x + (<usize>k << 2)), load<f32>(row + (<usize>k << 2)), sum);
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
  const t0 = interleaveLow(r0, r1), t1 = interleaveHigh(r0, r1), t2 = interleaveLow(r2, r3), t3 = interleaveHigh(r2, r3);
  acc = madd(v128.shuffle<f32>(x, x, 0, 0, 0, 0), lowHalves(t0, t2), acc);
  acc = madd(v128.shuffle<f32>(x, x, 1, 1, 1, 1), highHalves(t0, t2), acc);
  acc = madd(v128.shuffle<f32>(x, x, 2, 2, 2, 2), lowHalves(t1, t3), acc);
  return madd(v128.shuffle<f32>(x, x, 3, 3, 3, 3), highHalves(t1, t3), acc);
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
      s0 = madd(xk, v128.load(row), s0);
      s1 = madd(xk, v128.load(row, 16), s1);
      s2 = madd(xk, v128.load(row, 32), s2);
      s3 = madd(xk, v128.load(row, 48), s3);
      s4 = madd(xk, v128.load(row, 64), s4);
      s5 = madd(xk, v128.load(row, 80), s5);
      s6 = madd(xk, v128.load(row, 96), s6);
      s7 = madd(xk, v128.load(row, 112), s7);
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
      s = madd(v128.load32_splat(xp), v128.load(row), s);
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
      s = maddScalar(load<f32>(xp), load<f32>(row), s);
      row += ldb;
      xp += 4;
    }
    const cj = c + (<usize>j << 2);
    store<f32>(cj, load<f32>(cj) + s);
  }
}
