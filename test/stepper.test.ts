import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { GenerationWeights, Stepper } from '../src/engine/stepper.js';
import { createStepper } from '../src/parallel/inference.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';

for (const kind of kernelKinds()) {
  /** The one-token stepper runs the model's own layers: the same logits as a whole window, to float32 rounding. */
  describe(`Stepper, ${kind} kernels`, () => {
    for (const cell of CELL_KINDS) {
      it(`${cell}: matches the model over the whole sequence, token by token`, () => {
        const config: ModelConfig = { cell, vocabSize: 9, embedDim: 5, hiddenSize: 7, numLayers: 3, dropout: 0 };
        const params = initParams(config, new Rng(4));
        const seq = [0, 3, 8, 1, 2, 2, 7, 5, 0, 4];
        const model = modelOn(kind, config, params, { grads: false, batchSize: 1, seqLen: seq.length });
        model.tokens.set(seq);
        model.forward();
        const stepper = new Stepper(config, params, kind);
        for (let t = 0; t < seq.length; t++) {
          const logits = stepper.advance(seq[t]!);
          for (let v = 0; v < config.vocabSize; v++) expect(logits[v]).toBeCloseTo(model.logits[t * 9 + v]!, 5);
        }
        stepper.reset();
        expect(Array.from(stepper.advance(seq[0]!))).toEqual(Array.from(new Stepper(config, params, kind).advance(seq[0]!)));
      });
    }

    it.each(CELL_KINDS)('%s: restore comes back, to the bit, to the state and logits that save kept', (cell) => {
      const config: ModelConfig = { cell, vocabSize: 9, embedDim: 5, hiddenSize: 7, numLayers: 3, dropout: 0 };
      const params = initParams(config, new Rng(6));
      const [stepper, fresh] = [new Stepper(config, params, kind), new Stepper(config, params, kind)];
      for (const token of [0, 4, 4, 8]) {
        stepper.advance(token);
        fresh.advance(token);
      }
      stepper.save();
      for (const token of [1, 2, 3, 5, 6]) stepper.advance(token);
      stepper.restore();
      expect(Array.from(stepper.logits)).toEqual(Array.from(fresh.logits));
      expect(Array.from(stepper.advance(2))).toEqual(Array.from(fresh.advance(2)));
      expect(Array.from(stepper.advance(7))).toEqual(Array.from(fresh.advance(7)));
    });

    it.each([
      ...CELL_KINDS.map((cell): ModelConfig => ({ cell, vocabSize: 9, embedDim: 5, hiddenSize: 7, numLayers: 3, dropout: 0 })),
      // V·G·H over the input table's limit: layer 0 multiplies its packed W_ih
      { cell: 'gru', vocabSize: 2731, embedDim: 4, hiddenSize: 512, numLayers: 1, dropout: 0 } satisfies ModelConfig,
    ])('$cell V $vocabSize: steppers that share weights step on states of their own, bit for bit as with weights of their own', (config) => {
      const params = initParams(config, new Rng(9));
      const weights = new GenerationWeights(config, params, kind);
      const reads = [[0, 3, 8, 1, 2], [4, 4], [2, 7, 5, 0, 6, 1]];
      const shared = reads.map(() => new Stepper(weights)), own = reads.map(() => new Stepper(config, params, kind));
      expect(shared.every((stepper) => stepper.model.params === weights.params)).toBe(true);
      for (let t = 0; t < 6; t++) {
        reads.forEach((tokens, i) => {
          if (t < tokens.length) expect(Array.from(shared[i]!.advance(tokens[t]!)), `${i} at ${t}`).toEqual(Array.from(own[i]!.advance(tokens[t]!)));
        });
      }
      shared[1]!.save();
      shared[1]!.advance(3);
      shared[1]!.restore();
      expect(Array.from(shared[1]!.advance(5))).toEqual(Array.from(own[1]!.advance(5)));

      const other = initParams(config, new Rng(10));
      shared[0]!.setParams(other);
      shared[2]!.reset();
      expect(Array.from(shared[2]!.advance(2))).toEqual(Array.from(new Stepper(config, other, kind).advance(2)));
    });

    it('takes new parameters and starts again from the zero state', () => {
      const config: ModelConfig = { cell: 'gru', vocabSize: 6, embedDim: 3, hiddenSize: 5, numLayers: 2, dropout: 0 };
      const [a, b] = [initParams(config, new Rng(1)), initParams(config, new Rng(2))];
      const stepper = new Stepper(config, a, kind);
      stepper.advance(3);
      stepper.setParams(b);
      expect(Array.from(stepper.advance(2))).toEqual(Array.from(new Stepper(config, b, kind).advance(2)));
    });
  });

  describe(`InferencePool, ${kind} kernels`, () => {
    it('splits a step over threads by hidden unit and gives the same logits bit for bit', async () => {
      for (const cell of CELL_KINDS) {
        const config: ModelConfig = { cell, vocabSize: 13, embedDim: 5, hiddenSize: 10, numLayers: 2, dropout: 0 };
        const params = initParams(config, new Rng(8));
        const [one, three] = [await createStepper(config, params, 1, kind), await createStepper(config, params, 3, kind)];
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
}
