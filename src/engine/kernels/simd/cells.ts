// ---------------------------------------------------------------------------------------
// One time step of each gated cell after its products (the equations are the Kernels
// interface's, ../kernels.ts, and the cells', ../../cells/): four units of a row per vector,
// the last few of a range one lane at a time. Tensors are byte addresses; B rows, hidden
// size H; gate rows hold 3H (GRU) or 4H (LSTM) floats, state rows H.
// ---------------------------------------------------------------------------------------

import { sigmoidLanes, tanhLanes } from './activations';

/** Four floats at `at`, or (a lane) one float and three zeros. */
// @ts-ignore: decorator
@inline function lanes(at: usize, full: bool): v128 {
  return full ? v128.load(at) : v128.load32_zero(at);
}

/** Stores four floats at `at`, or (a lane) the first. */
// @ts-ignore: decorator
@inline function put(at: usize, x: v128, full: bool): void {
  if (full) v128.store(at, x);
  else store<f32>(at, f32x4.extract_lane(x, 0));
}

// @ts-ignore: decorator
@inline function one(): v128 {
  return f32x4.splat(1);
}

/**
 * r = σ(gates_r + hidden_r) and z = σ(gates_z + hidden_z) of four units (or one), in place in
 * `g`; the gate blocks are `gh` bytes apart in `g` and `hid`.
 */
// @ts-ignore: decorator
@inline function gruResetUpdate(g: usize, hid: usize, gh: usize, full: bool): void {
  put(g, sigmoidLanes(f32x4.add(lanes(g, full), lanes(hid, full))), full);
  put(g + gh, sigmoidLanes(f32x4.add(lanes(g + gh, full), lanes(hid + gh, full))), full);
}

/** n = tanh(gates_n + r ⊙ hidden_n) and h[next] = (1 − z) ⊙ n + z ⊙ h[prev] of the same units; hidden_n kept in `cand`. */
// @ts-ignore: decorator
@inline function gruCandidate(g: usize, hid: usize, cand: usize, prev: usize, next: usize, gh: usize, full: bool): void {
  const r = lanes(g, full), z = lanes(g + gh, full), hn = lanes(hid + 2 * gh, full);
  const n = tanhLanes(f32x4.add(lanes(g + 2 * gh, full), f32x4.mul(r, hn)));
  put(g + 2 * gh, n, full);
  put(cand, hn, full);
  put(next, f32x4.add(f32x4.mul(f32x4.sub(one(), z), n), f32x4.mul(z, lanes(prev, full))), full);
}

/**
 * r and z of every unit of a row first, then n and h[next]: n waits on r, and two passes give
 * the core independent σ and tanh to overlap where one would chain each unit's three.
 */
export function gruForward(
  gates: usize, hidden: usize, candidate: usize, prev: usize, next: usize, B: i32, H: i32, j0: i32, j1: i32,
): void {
  const stateRow = <usize>H << 2, gateRow = stateRow * 3;
  const from = <usize>j0 << 2, vectorEnd = from + (<usize>((j1 - j0) & ~3) << 2), end = <usize>j1 << 2;
  for (let b = 0; b < B; b++) {
    let at = from;
    for (; at < vectorEnd; at += 16) gruResetUpdate(gates + at, hidden + at, stateRow, true);
    for (; at < end; at += 4) gruResetUpdate(gates + at, hidden + at, stateRow, false);
    for (at = from; at < vectorEnd; at += 16) gruCandidate(gates + at, hidden + at, candidate + at, prev + at, next + at, stateRow, true);
    for (; at < end; at += 4) gruCandidate(gates + at, hidden + at, candidate + at, prev + at, next + at, stateRow, false);
    gates += gateRow; hidden += gateRow; candidate += stateRow; prev += stateRow; next += stateRow;
  }
}

/**
 * A GRU step backwards for four units (or one), with dh ← dh + dOut:
 *   dn = dh ⊙ (1 − z)   dz = dh ⊙ (h[prev] − n)   dh[prev] (the direct path) = dh ⊙ z
 *   dnPre = dn ⊙ (1 − n²)   drPre = dnPre ⊙ hidden_n ⊙ r(1 − r)   dzPre = dz ⊙ z(1 − z)
 * into dGates (drPre, dzPre, dnPre) and dHidden (drPre, dzPre, dnPre ⊙ r).
 */
// @ts-ignore: decorator
@inline function gruUnitsBack(
  g: usize, prev: usize, cand: usize, out: usize, dh: usize, dG: usize, dHid: usize, gh: usize, full: bool,
): void {
  const r = lanes(g, full), z = lanes(g + gh, full), n = lanes(g + 2 * gh, full);
  const dhj = f32x4.add(lanes(dh, full), lanes(out, full));
  const dN = f32x4.mul(dhj, f32x4.sub(one(), z));
  const dZ = f32x4.mul(dhj, f32x4.sub(lanes(prev, full), n));
  put(dh, f32x4.mul(dhj, z), full);
  const dnPre = f32x4.mul(dN, f32x4.sub(one(), f32x4.mul(n, n)));
  const dR = f32x4.mul(dnPre, lanes(cand, full));
  const drPre = f32x4.mul(f32x4.mul(dR, r), f32x4.sub(one(), r));
  const dzPre = f32x4.mul(f32x4.mul(dZ, z), f32x4.sub(one(), z));
  put(dG, drPre, full); put(dG + gh, dzPre, full); put(dG + 2 * gh, dnPre, full);
  put(dHid, drPre, full); put(dHid + gh, dzPre, full); put(dHid + 2 * gh, f32x4.mul(dnPre, r), full);
}

export function gruBackward(
  gates: usize, prev: usize, candidate: usize, dOut: usize, dh: usize, dGates: usize, dHidden: usize, B: i32, H: i32,
): void {
  const stateRow = <usize>H << 2, gateRow = stateRow * 3, vectorEnd = <usize>(H & ~3) << 2;
  for (let b = 0; b < B; b++) {
    let at: usize = 0;
    for (; at < vectorEnd; at += 16) {
      gruUnitsBack(gates + at, prev + at, candidate + at, dOut + at, dh + at, dGates + at, dHidden + at, stateRow, true);
    }
    for (; at < stateRow; at += 4) {
      gruUnitsBack(gates + at, prev + at, candidate + at, dOut + at, dh + at, dGates + at, dHidden + at, stateRow, false);
    }
    gates += gateRow; dGates += gateRow; dHidden += gateRow; prev += stateRow; candidate += stateRow; dOut += stateRow; dh += stateRow;
  }
}

/**
 * An LSTM step for four units (or one): i, f, o = σ(·), g = tanh(·) in place in `g`,
 * c[next] = f ⊙ c[prev] + i ⊙ g, tanh(c[next]) kept in `tc`, h[next] = o ⊙ tanh(c[next]).
 */
// @ts-ignore: decorator
@inline function lstmUnits(g: usize, prev: usize, next: usize, tc: usize, hNext: usize, gh: usize, full: bool): void {
  const i = sigmoidLanes(lanes(g, full)), f = sigmoidLanes(lanes(g + gh, full));
  const cg = tanhLanes(lanes(g + 2 * gh, full)), o = sigmoidLanes(lanes(g + 3 * gh, full));
  put(g, i, full); put(g + gh, f, full); put(g + 2 * gh, cg, full); put(g + 3 * gh, o, full);
  const c = f32x4.add(f32x4.mul(f, lanes(prev, full)), f32x4.mul(i, cg));
  put(next, c, full);
  const t = tanhLanes(c);
  put(tc, t, full);
  put(hNext, f32x4.mul(o, t), full);
}

export function lstmForward(
  gates: usize, prev: usize, next: usize, tanhC: usize, hNext: usize, B: i32, H: i32, j0: i32, j1: i32,
): void {
  const stateRow = <usize>H << 2, gateRow = stateRow * 4;
  const from = <usize>j0 << 2, vectorEnd = from + (<usize>((j1 - j0) & ~3) << 2), end = <usize>j1 << 2;
  for (let b = 0; b < B; b++) {
    let at = from;
    for (; at < vectorEnd; at += 16) lstmUnits(gates + at, prev + at, next + at, tanhC + at, hNext + at, stateRow, true);
    for (; at < end; at += 4) lstmUnits(gates + at, prev + at, next + at, tanhC + at, hNext + at, stateRow, false);
    gates += gateRow; prev += stateRow; next += stateRow; tanhC += stateRow; hNext += stateRow;
  }
}

/**
 * An LSTM step backwards for four units (or one), with dh ← dh + dOut:
 *   dc ← dc + dh ⊙ o ⊙ (1 − tanh² c[next])   do = dh ⊙ tanh c[next]
 *   di = dc ⊙ g   df = dc ⊙ c[prev]   dg = dc ⊙ i   dc[prev] = dc ⊙ f
 * each through its activation (σ' = σ(1 − σ), tanh' = 1 − g²) into dGates.
 */
// @ts-ignore: decorator
@inline function lstmUnitsBack(
  g: usize, prev: usize, tc: usize, out: usize, dh: usize, dc: usize, dG: usize, gh: usize, full: bool,
): void {
  const i = lanes(g, full), f = lanes(g + gh, full), cg = lanes(g + 2 * gh, full), o = lanes(g + 3 * gh, full);
  const t = lanes(tc, full);
  const dhj = f32x4.add(lanes(dh, full), lanes(out, full));
  const dcj = f32x4.add(lanes(dc, full), f32x4.mul(f32x4.mul(dhj, o), f32x4.sub(one(), f32x4.mul(t, t))));
  const dO = f32x4.mul(dhj, t);
  const dI = f32x4.mul(dcj, cg), dF = f32x4.mul(dcj, lanes(prev, full)), dCg = f32x4.mul(dcj, i);
  put(dc, f32x4.mul(dcj, f), full);
  put(dG, f32x4.mul(f32x4.mul(dI, i), f32x4.sub(one(), i)), full);
  put(dG + gh, f32x4.mul(f32x4.mul(dF, f), f32x4.sub(one(), f)), full);
  put(dG + 2 * gh, f32x4.mul(dCg, f32x4.sub(one(), f32x4.mul(cg, cg))), full);
  put(dG + 3 * gh, f32x4.mul(f32x4.mul(dO, o), f32x4.sub(one(), o)), full);
}

export function lstmBackward(
  gates: usize, prev: usize, tanhC: usize, dOut: usize, dh: usize, dc: usize, dGates: usize, B: i32, H: i32,
): void {
  const stateRow = <usize>H << 2, gateRow = stateRow * 4, vectorEnd = <usize>(H & ~3) << 2;
  for (let b = 0; b < B; b++) {
    let at: usize = 0;
    for (; at < vectorEnd; at += 16) lstmUnitsBack(gates + at, prev + at, tanhC + at, dOut + at, dh + at, dc + at, dGates + at, stateRow, true);
    for (; at < stateRow; at += 4) lstmUnitsBack(gates + at, prev + at, tanhC + at, dOut + at, dh + at, dc + at, dGates + at, stateRow, false);
    gates += gateRow; dGates += gateRow; prev += stateRow; tanhC += stateRow; dOut += stateRow; dh += stateRow; dc += stateRow;
  }
}
