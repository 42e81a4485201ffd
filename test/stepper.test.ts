import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { CharRnn, initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { Stepper } from '../src/engine/stepper.js';

/** The one-token stepper computes the same logits as the batched model, to float32 rounding. */
describe('Stepper', () => {
  for (const cell of CELL_KINDS) {
    it(`${cell}: matches CharRnn token by token`, () => {
      const config: ModelConfig = { cell, vocabSize: 9, embedDim: 5, hiddenSize: 7, numLayers: 3, dropout: 0 };
      const params = initParams(config, new Rng(4));
      const seq = [0, 3, 8, 1, 2, 2, 7, 5, 0, 4];
      const model = new CharRnn(config, params, null, 1, seq.length);
      model.tokens.set(seq);
      model.forward();
      const stepper = new Stepper(config, params);
      for (let t = 0; t < seq.length; t++) {
        const logits = stepper.advance(seq[t]);
        for (let v = 0; v < config.vocabSize; v++) expect(logits[v]).toBeCloseTo(model.logits[t * 9 + v], 5);
      }
      stepper.reset();
      expect(Array.from(stepper.advance(seq[0]))).toEqual(Array.from(new Stepper(config, params).advance(seq[0])));
    });
  }
});

describe('InferencePool', () => {
  it('splits a step over threads by hidden unit and gives the same logits bit for bit', async () => {
    const { createStepper } = await import('../src/parallel/inference.js');
    for (const cell of CELL_KINDS) {
      const config: ModelConfig = { cell, vocabSize: 13, embedDim: 5, hiddenSize: 10, numLayers: 2, dropout: 0 };
      const params = initParams(config, new Rng(8));
      const [one, three] = [await createStepper(config, params, 1), await createStepper(config, params, 3)];
      for (const token of [0, 5, 12, 3, 3, 1]) {
        expect(Array.from(three.advance(token)), cell).toEqual(Array.from(one.advance(token)));
      }
      three.reset();
      one.reset();
      expect(Array.from(three.advance(4))).toEqual(Array.from(one.advance(4)));
      await Promise.all([one.close(), three.close()]);
    }
  });
});
