/**
 * One time step of each gated cell after its products, in plain TypeScript: what js.ts and
 * reference.ts run for the Kernels' gruForward, gruBackward, lstmForward and lstmBackward
 * (simd/cells.ts is the WebAssembly one). The equations are the cells' (../cells/gru.ts,
 * ../cells/lstm.ts). A sum that an activation reads is rounded to float32 first (Math.fround),
 * as it would be had it been stored.
 *
 * B rows, hidden size H; gate rows hold G = 3H (GRU) or 4H (LSTM) floats, state rows H.
 */

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

export function gruForward(
  gates: Float32Array, gOff: number, hidden: Float32Array, hidOff: number, candidate: Float32Array, candOff: number,
  h: Float32Array, prevOff: number, nextOff: number, B: number, H: number, j0: number, j1: number,
): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const row = gOff + b * G, hp = hidOff + b * G, prev = prevOff + b * H, next = nextOff + b * H, cand = candOff + b * H;
    // r = σ(gates_r + hidden_r),  z = σ(gates_z + hidden_z)
    for (let j = j0; j < j1; j++) {
      gates[row + j] = sigmoid(Math.fround(gates[row + j]! + hidden[hp + j]!));
      gates[row + H + j] = sigmoid(Math.fround(gates[row + H + j]! + hidden[hp + H + j]!));
    }
    // n = tanh(gates_n + r ⊙ hidden_n), hidden_n kept in candidate for the backward pass
    for (let j = j0; j < j1; j++) {
      const hn = hidden[hp + 2 * H + j]!;
      gates[row + 2 * H + j] = Math.tanh(Math.fround(gates[row + 2 * H + j]! + gates[row + j]! * hn));
      candidate[cand + j] = hn;
    }
    // h[next] = (1 − z) ⊙ n + z ⊙ h[prev]
    for (let j = j0; j < j1; j++) {
      const z = gates[row + H + j]!;
      h[next + j] = (1 - z) * gates[row + 2 * H + j]! + z * h[prev + j]!;
    }
  }
}

export function gruBackward(
  gates: Float32Array, gOff: number, h: Float32Array, prevOff: number, candidate: Float32Array, candOff: number,
  dOut: Float32Array, dOutOff: number, dh: Float32Array, dGates: Float32Array, dHidden: Float32Array, dgOff: number, B: number, H: number,
): void {
  const G = 3 * H;
  for (let b = 0; b < B; b++) {
    const row = gOff + b * G, dRow = dgOff + b * G, prev = prevOff + b * H, out = dOutOff + b * H, cand = candOff + b * H, s = b * H;
    // with dh ← dh + dOut:  dn = dh ⊙ (1 − z),  dz = dh ⊙ (h[prev] − n),  dh[prev] (the direct path) = dh ⊙ z;
    // dnPre = dn ⊙ (1 − n²),  dr = dnPre ⊙ hidden_n,  drPre = dr ⊙ r(1 − r),  dzPre = dz ⊙ z(1 − z);
    // dGates = (drPre, dzPre, dnPre) and dHidden = (drPre, dzPre, dnPre ⊙ r)
    for (let j = 0; j < H; j++) {
      const r = gates[row + j]!, z = gates[row + H + j]!, n = gates[row + 2 * H + j]!;
      const dhj = dh[s + j]! + dOut[out + j]!;
      const dN = dhj * (1 - z);
      const dZ = dhj * (h[prev + j]! - n);
      dh[s + j] = dhj * z;
      const dnPre = dN * (1 - n * n);
      const dR = dnPre * candidate[cand + j]!;
      const drPre = dR * r * (1 - r), dzPre = dZ * z * (1 - z);
      dGates[dRow + j] = drPre; dGates[dRow + H + j] = dzPre; dGates[dRow + 2 * H + j] = dnPre;
      dHidden[dRow + j] = drPre; dHidden[dRow + H + j] = dzPre; dHidden[dRow + 2 * H + j] = dnPre * r;
    }
  }
}

export function lstmForward(
  gates: Float32Array, gOff: number, c: Float32Array, prevOff: number, nextOff: number, tanhC: Float32Array, tcOff: number,
  h: Float32Array, hNextOff: number, B: number, H: number, j0: number, j1: number,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const row = gOff + b * G, prev = prevOff + b * H, next = nextOff + b * H, tc = tcOff + b * H, hNext = hNextOff + b * H;
    // i = σ(·),  f = σ(·),  g = tanh(·),  o = σ(·)
    for (let j = j0; j < j1; j++) {
      gates[row + j] = sigmoid(gates[row + j]!);
      gates[row + H + j] = sigmoid(gates[row + H + j]!);
      gates[row + 2 * H + j] = Math.tanh(gates[row + 2 * H + j]!);
      gates[row + 3 * H + j] = sigmoid(gates[row + 3 * H + j]!);
    }
    // c[next] = f ⊙ c[prev] + i ⊙ g,  tanh(c[next]) kept in tanhC for the backward pass
    for (let j = j0; j < j1; j++) {
      const cNext = gates[row + H + j]! * c[prev + j]! + gates[row + j]! * gates[row + 2 * H + j]!;
      c[next + j] = cNext;
      tanhC[tc + j] = Math.tanh(Math.fround(cNext));
    }
    // h[next] = o ⊙ tanh(c[next])
    for (let j = j0; j < j1; j++) h[hNext + j] = gates[row + 3 * H + j]! * tanhC[tc + j]!;
  }
}

export function lstmBackward(
  gates: Float32Array, gOff: number, c: Float32Array, prevOff: number, tanhC: Float32Array, tcOff: number,
  dOut: Float32Array, dOutOff: number, dh: Float32Array, dc: Float32Array, dGates: Float32Array, dgOff: number, B: number, H: number,
): void {
  const G = 4 * H;
  for (let b = 0; b < B; b++) {
    const row = gOff + b * G, dRow = dgOff + b * G, prev = prevOff + b * H, tcRow = tcOff + b * H, out = dOutOff + b * H, s = b * H;
    // with dh ← dh + dOut:  dc ← dc + dh ⊙ o ⊙ (1 − tanh² c[next]),  do = dh ⊙ tanh c[next],
    // di = dc ⊙ g,  df = dc ⊙ c[prev],  dg = dc ⊙ i,  dc[prev] = dc ⊙ f;
    // each through its activation: σ' = σ(1 − σ) for i, f, o and tanh' = 1 − g² for g
    for (let j = 0; j < H; j++) {
      const i = gates[row + j]!, f = gates[row + H + j]!, g = gates[row + 2 * H + j]!, o = gates[row + 3 * H + j]!;
      const tc = tanhC[tcRow + j]!;
      const dhj = dh[s + j]! + dOut[out + j]!;
      const dcj = dc[s + j]! + dhj * o * (1 - tc * tc);
      const dO = dhj * tc;
      const dI = dcj * g, dF = dcj * c[prev + j]!, dG = dcj * i;
      dc[s + j] = dcj * f;
      dGates[dRow + j] = dI * i * (1 - i);
      dGates[dRow + H + j] = dF * f * (1 - f);
      dGates[dRow + 2 * H + j] = dG * (1 - g * g);
      dGates[dRow + 3 * H + j] = dO * o * (1 - o);
    }
  }
}
