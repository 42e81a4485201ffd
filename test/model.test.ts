import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { Arena } from '../src/engine/kernels/arena.js';
import { referenceKernels } from '../src/engine/kernels/reference.js';
import { nextTokenDistribution } from '../src/engine/loss.js';
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

describe('nextTokenDistribution', () => {
  it('gives the excluded token nothing, token 0 too (an id ≥ 0 is excluded), and the rest e^{z/T} over their own sum', () => {
    const kernels = referenceKernels(new Arena()), V = 6, temperature = 0.7;
    const logits = Float32Array.from([3, 0.5, -1, 2, 0, 1]);
    const p = nextTokenDistribution(kernels, logits, new Float32Array(V), V, temperature, 0);
    const weights = Array.from(logits, (z, v) => (v === 0 ? 0 : Math.exp(z / temperature)));
    const sum = weights.reduce((a, b) => a + b, 0);
    weights.forEach((w, v) => expect(p[v], `token ${v}`).toBeCloseTo(w / sum, 6));
  });
});

describe('dropout between layers', () => {
  const config: ModelConfig = { cell: 'lstm', vocabSize: 7, embedDim: 4, hiddenSize: 16, numLayers: 2, dropout: 0.25 };
  const params = initParams(config, new Rng(2)), shape = { grads: true, batchSize: 4, seqLen: 8 };
  const tokens = Array.from({ length: 32 }, (_, i) => (i * 5) % 7);

  it('keeps each of layer 0\'s outputs with probability 1 − p, scaled by 1/(1 − p), and drops the rest to 0', () => {
    const model = modelOn('js', config, params, shape), H = config.hiddenSize, n = 4 * 8 * H;
    model.tokens.set(tokens);
    model.forward(7);
    const dropped = model['dropped'][0]!, h = model.layers[0]!.h;
    let zeros = 0;
    for (let i = 0; i < n; i++) {
      if (dropped[i] === 0) zeros++;
      else expect(dropped[i], `output ${i}`).toBeCloseTo(h[H * 4 + i]! / (1 - config.dropout), 6);
    }
    // 512 outputs: the dropped fraction's standard error is 0.019
    expect(zeros / n).toBeGreaterThan(0.15);
    expect(zeros / n).toBeLessThan(0.35);
  });

  it('draws each boundary\'s mask apart from the others\': with 3 layers an output is dropped at both boundaries about p² of the time, not p', () => {
    const deep: ModelConfig = { ...config, numLayers: 3 }, n = 4 * 8 * config.hiddenSize;
    const model = modelOn('js', deep, initParams(deep, new Rng(2)), shape);
    model.tokens.set(tokens);
    model.forward(7);
    const [below, above] = [model['dropped'][0]!, model['dropped'][1]!];
    let both = 0;
    for (let i = 0; i < n; i++) if (below[i] === 0 && above[i] === 0) both++;
    // independent masks drop both 1/16 of 512 outputs (standard error 0.011); one mask twice, 1/4
    expect(both / n).toBeGreaterThan(0.02);
    expect(both / n).toBeLessThan(0.15);
  });

  it('is the identity without a seed: the same logits as the model with no dropout', () => {
    const [model, plain] = [modelOn('js', config, params, shape), modelOn('js', { ...config, dropout: 0 }, params, shape)];
    model.tokens.set(tokens);
    plain.tokens.set(tokens);
    model.forward();
    plain.forward();
    expect(Array.from(model.logits)).toEqual(Array.from(plain.logits));
  });
});
