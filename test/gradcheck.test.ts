import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { type LanguageModel, initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';
import type { KernelsKind } from '../src/engine/kernels/kinds.js';

/**
 * Finite differences on a tiny model, independent of the fixtures. The engine is float32, so
 * each tensor is judged by the relative error of the whole gradient vector,
 *   ‖analytic − numeric‖ / ‖analytic + numeric‖ ≤ 1e-3,
 * with central differences of the summed loss at h = 5e-2 and 2.5e-2 (dividing by the float32
 * change actually made), Richardson-extrapolated so that the O(h²) truncation error cancels.
 */
function lossAt(model: LanguageModel, dropoutSeed: number | null): number {
  model.setInitialState(initialState.h, initialState.c);
  model.forward(dropoutSeed);
  return model.lossSum();
}

/** A random initial state, so that W_hh gets a gradient from the first step too. */
const initialState = { h: new Float32Array(3 * 2 * 4), c: new Float32Array(3 * 2 * 4) };
const stateRng = new Rng(3);
for (let i = 0; i < initialState.h.length; i++) {
  initialState.h[i] = 2 * stateRng.uniform() - 1;
  initialState.c[i] = 2 * stateRng.uniform() - 1;
}

/** d loss / d params[i] by central differences at h and h/2, combined as (4·D(h/2) − D(h)) / 3. */
function richardson(model: LanguageModel, params: Float32Array, i: number, dropoutSeed: number | null): number {
  const central = (h: number) => {
    const original = params[i];
    params[i] = original + h;
    const up = params[i], lossUp = lossAt(model, dropoutSeed);
    params[i] = original - h;
    const down = params[i], lossDown = lossAt(model, dropoutSeed);
    params[i] = original;
    return (lossUp - lossDown) / (up - down);
  };
  return (4 * central(2.5e-2) - central(5e-2)) / 3;
}

function check(kind: KernelsKind, config: ModelConfig, dropoutSeed: number | null): Map<string, number> {
  const rng = new Rng(7);
  const init = initParams(config, rng);
  for (let i = 0; i < init.length; i++) init[i] *= 2; // livelier gradients than the default init
  const model = modelOn(kind, config, init, { grads: true, batchSize: 2, seqLen: 4 });
  const params = model.params, grads = model.grads!;
  for (let i = 0; i < model.tokens.length; i++) {
    model.tokens[i] = rng.nextUint32() % config.vocabSize;
    model.targets[i] = rng.nextUint32() % config.vocabSize;
  }
  lossAt(model, dropoutSeed);
  model.backward(1);
  const errors = new Map<string, number>();
  for (const spec of model.layout.specs) {
    let diff = 0, sum = 0;
    for (let i = spec.offset; i < spec.offset + spec.size; i++) {
      const numeric = richardson(model, params, i, dropoutSeed);
      diff += (grads[i] - numeric) ** 2;
      sum += (grads[i] + numeric) ** 2;
    }
    errors.set(spec.name, Math.sqrt(diff) / Math.max(Math.sqrt(sum), 1e-12));
  }
  return errors;
}

for (const kind of kernelKinds()) describe(`finite-difference gradient check, ${kind} kernels`, () => {
  for (const cell of CELL_KINDS) {
    it(`${cell}: every parameter tensor's gradient is within 1e-3 relative error of the finite difference`, () => {
      const errors = check(kind, { cell, vocabSize: 5, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0 }, null);
      for (const [name, err] of errors) expect(err, name).toBeLessThanOrEqual(1e-3);
    });
  }

  it('lstm with dropout between its two layers: the same, with the same masks on every evaluation', () => {
    const errors = check(kind, { cell: 'lstm', vocabSize: 5, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0.3 }, 11);
    for (const [name, err] of errors) expect(err, name).toBeLessThanOrEqual(1e-3);
  });
});
