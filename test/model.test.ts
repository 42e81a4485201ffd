import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';

describe('initParams', () => {
  /** embedDim ≠ hiddenSize, so a bound taken from the wrong size shows. */
  const config: ModelConfig = { cell: 'lstm', vocabSize: 60, embedDim: 3, hiddenSize: 16, numLayers: 2, dropout: 0 };
  const layout = paramLayout(config), params = initParams(config, new Rng(5));
  const bound = 1 / Math.sqrt(config.hiddenSize);

  it('draws every recurrent weight and bias and the head from U(−1/√H, 1/√H), filling both halves of the range', () => {
    for (const spec of layout.specs.filter((s) => s.name !== 'embed.weight')) {
      const values = Array.from(params.subarray(spec.offset, spec.offset + spec.size));
      expect(Math.max(...values.map(Math.abs)), spec.name).toBeLessThanOrEqual(bound);
      expect(Math.min(...values), spec.name).toBeLessThan(-bound / 2);
      expect(Math.max(...values), spec.name).toBeGreaterThan(bound / 2);
    }
  });

  it('draws the embedding from N(0, 1): mean near 0, variance near 1', () => {
    const spec = layout.byName.get('embed.weight')!, values = Array.from(params.subarray(spec.offset, spec.offset + spec.size));
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length;
    // 180 draws: the mean's standard error is 0.075, the variance's 0.105
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(variance).toBeGreaterThan(0.6);
    expect(variance).toBeLessThan(1.4);
  });
});

for (const kind of kernelKinds()) {
  describe(`LanguageModel state, ${kind} kernels`, () => {
    it.each(CELL_KINDS)('%s: resetState zeroes the initial state of every row, not the first alone', (cell) => {
      const config: ModelConfig = { cell, vocabSize: 7, embedDim: 4, hiddenSize: 5, numLayers: 2, dropout: 0 };
      const params = initParams(config, new Rng(3));
      const shape = { grads: false, batchSize: 3, seqLen: 4 };
      const [model, fresh] = [modelOn(kind, config, params, shape), modelOn(kind, config, params, shape)];
      const tokens = [1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4, 5];
      model.tokens.set(tokens);
      model.forward();
      model.carryState();
      model.resetState();
      model.forward();
      fresh.tokens.set(tokens);
      fresh.forward();
      expect(Array.from(model.logits)).toEqual(Array.from(fresh.logits));
    });
  });
}
