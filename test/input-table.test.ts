import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type CellKind, type ModelConfig } from '../src/engine/config.js';
import { type LanguageModel, initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';
import type { KernelsKind } from '../src/engine/kernels/kinds.js';

/**
 * Layer 0's input projection read from its table of every token's (ModelOptions.inputTable)
 * against the same projection multiplied for every row: the same logits, loss and gradients,
 * on every kernel set. The two sum in another order (the table path sums each token's rows
 * before its products), so a value may differ by float32 rounding:
 *   |table − rows| ≤ 1e-5 · max over the tensor of |rows|.
 * A token left out of the window, dropout between the layers and a random initial state
 * exercise what the table path must leave as the row path has it.
 */
const B = 4, T = 6;

function config(cell: CellKind): ModelConfig {
  return { cell, vocabSize: 7, embedDim: 5, hiddenSize: 6, numLayers: 2, dropout: 0.25 };
}

function trained(kind: KernelsKind, cell: CellKind, inputTable: boolean): { model: LanguageModel; loss: number } {
  const c = config(cell), rng = new Rng(21);
  const model = modelOn(kind, c, initParams(c, rng), { grads: true, batchSize: B, seqLen: T, inputTable });
  for (let i = 0; i < B * T; i++) {
    model.tokens[i] = rng.nextUint32() % (c.vocabSize - 1); // the last token never occurs
    model.targets[i] = rng.nextUint32() % c.vocabSize;
  }
  const n = c.numLayers * B * c.hiddenSize, h0 = new Float32Array(n), c0 = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    h0[i] = 2 * rng.uniform() - 1;
    c0[i] = 2 * rng.uniform() - 1;
  }
  model.setInitialState(h0, c0);
  model.forward(5);
  return { model, loss: model.backward(1 / (B * T)) };
}

function expectNear(got: ArrayLike<number>, want: ArrayLike<number>, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let largest = 0;
  for (let i = 0; i < want.length; i++) largest = Math.max(largest, Math.abs(want[i]!));
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i]! - want[i]!);
    if (!(diff <= 1e-5 * largest)) expect.fail(`${what}[${i}]: table ${got[i]}, rows ${want[i]} (|Δ| ${diff} > ${1e-5 * largest})`);
  }
}

for (const kind of kernelKinds()) describe(`layer 0 from its token table, ${kind} kernels`, () => {
  it.each(CELL_KINDS)('%s: the same logits, loss and gradients as over every row', (cell) => {
    const table = trained(kind, cell, true), rows = trained(kind, cell, false);
    expect([table.model.readsTokens, rows.model.readsTokens]).toEqual([true, false]);
    expectNear(table.model.logits, rows.model.logits, 'logits');
    expectNear([table.loss], [rows.loss], 'loss');
    for (const spec of rows.model.layout.specs) {
      const at = (m: LanguageModel) => m.grads!.subarray(spec.offset, spec.offset + spec.size);
      expect(at(rows.model).some((g) => g !== 0), `${spec.name} has a gradient`).toBe(true);
      expectNear(at(table.model), at(rows.model), `grad ${spec.name}`);
    }
    const d0 = table.model.initialStateGrad(), want = rows.model.initialStateGrad();
    expectNear(d0.h, want.h, 'grad h0');
    if (want.c) expectNear(d0.c!, want.c, 'grad c0');
  });
});

describe('where a window reads layer 0 from its table', () => {
  it('by default where it has two rows a token or more', () => {
    const c = config('gru'), params = initParams(c, new Rng(1));
    const reads = (batchSize: number, seqLen: number, grads = true) =>
      modelOn('js', c, params, { grads, batchSize, seqLen }).readsTokens;
    expect(reads(2, 7)).toBe(true); // 14 rows, V = 7
    expect(reads(13, 1)).toBe(false);
    expect(reads(1, 1)).toBe(false); // a batch of one (generation)
    expect(reads(50, 50, false)).toBe(true); // evaluation
  });
});
