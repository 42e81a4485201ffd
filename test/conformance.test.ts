import { describe, expect, it } from 'vitest';
import { Optimizer, clipGradNorm, clipScale } from '../src/engine/optim.js';
import { paramLayout } from '../src/engine/params.js';
import { trainStep } from '../src/engine/step.js';
import { fixtureConfig, loadTorchFixture, packParams, torchFixtureFiles } from './helpers/fixtures.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';

/**
 * Every fixture of test/fixtures/torch (and of $RNN_FIXTURES) against the float32 engine.
 * Bounds are those of the fixtures' README: the references are float64, the engine float32,
 * so |got − want| ≤ 1e-4 · max(1, |want|) for logits, losses, states and gradients, and
 * ≤ 2e-4 · max(1, |want|) for parameters after the four Adam steps. Each runs twice: layer 0's
 * input projection multiplied for every row of the window, and read from its table of every
 * token's (ModelOptions.inputTable).
 */
const VALUE_BOUND = 1e-4;
const PARAM_BOUND = 2e-4;

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, bound: number, what: string): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const excess = Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i]));
    if (!(excess <= worst)) { worst = excess; at = i; }
  }
  expect(worst, `${what}: worst at [${at}] got ${got[at]} want ${want[at]}`).toBeLessThanOrEqual(bound);
}

for (const kind of kernelKinds()) for (const file of torchFixtureFiles()) for (const inputTable of [false, true]) {
  const f = loadTorchFixture(file);
  const config = fixtureConfig(f);
  const layout = paramLayout(config);
  const B = f.input.tokens.length, T = f.input.tokens[0].length, V = config.vocabSize;

  const input = inputTable ? 'layer 0 from its token table' : 'layer 0 over every row';
  describe(`${kind} kernels: ${file.split('/').pop()} — ${f.description}, ${input}`, () => {
    const model = modelOn(kind, config, packParams(config, f.state.tensors), { grads: true, batchSize: B, seqLen: T, inputTable });
    const grads = model.grads!;
    model.tokens.set(f.input.tokens.flat());
    model.targets.set(f.input.targets.flat());
    model.setInitialState(f.input.h0, f.input.c0 ?? null);
    model.forward();
    const logits = new Float32Array(B * T * V);
    // the model's rows are time-major (t·B + b), the fixture's batch-major (b·T + t)
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) for (let v = 0; v < V; v++) logits[(b * T + t) * V + v] = model.logits[(t * B + b) * V + v];
    }
    const loss = model.backward(1 / (B * T)) / (B * T);

    it('gives PyTorch\'s logits and loss, reading layer 0 the way asked', () => {
      expect(model.readsTokens, 'the path it took').toBe(inputTable);
      expectClose(logits, f.expect.logits, VALUE_BOUND, 'logits');
      expectClose([loss], [f.expect.loss], VALUE_BOUND, 'loss');
    });

    it('ends in PyTorch\'s final state', () => {
      const final = model.finalState();
      expectClose(final.h, f.expect.h_n, VALUE_BOUND, 'h_n');
      if (f.expect.c_n) expectClose(final.c!, f.expect.c_n, VALUE_BOUND, 'c_n');
    });

    it('gives PyTorch\'s gradient of every parameter and of the initial state', () => {
      for (const spec of layout.specs) {
        expectClose(grads.subarray(spec.offset, spec.offset + spec.size), f.expect.grads[spec.name], VALUE_BOUND, `grad ${spec.name}`);
      }
      const d0 = model.initialStateGrad();
      expectClose(d0.h, f.expect.grad_h0, VALUE_BOUND, 'grad_h0');
      if (f.expect.grad_c0) expectClose(d0.c!, f.expect.grad_c0, VALUE_BOUND, 'grad_c0');
    });

    it('gives PyTorch\'s global gradient norm and clipped gradients', () => {
      const clipped = model.kernels.arena.floats(grads.length);
      clipped.set(grads);
      const norm = clipGradNorm(model.kernels, clipped, f.clip_max_norm);
      expectClose([norm], [f.expect.grad_norm], VALUE_BOUND, 'grad_norm');
      for (const spec of layout.specs) {
        expectClose(clipped.subarray(spec.offset, spec.offset + spec.size), f.expect.clipped_grads[spec.name], VALUE_BOUND, `clipped ${spec.name}`);
      }
    });

    it('takes four steps of truncated BPTT with Adam to PyTorch\'s losses, norms and weights', () => {
      const { stream, seq_len: Tt, optimizer: o } = f.train;
      expect(o.name).toBe('adam');
      expect(o.weight_decay).toBe(0);
      const shape = { grads: true, batchSize: stream.length, seqLen: Tt, inputTable };
      const net = modelOn(kind, config, packParams(config, f.state.tensors), shape);
      const p = net.params;
      const adam = new Optimizer('adam', net.kernels, layout.total, { beta1: o.betas[0], beta2: o.betas[1], eps: o.eps });
      f.train.steps.forEach((want, k) => {
        for (let b = 0; b < stream.length; b++) {
          for (let t = 0; t < Tt; t++) {
            net.tokens[b * Tt + t] = stream[b][k * Tt + t];
            net.targets[b * Tt + t] = stream[b][k * Tt + t + 1];
          }
        }
        const got = trainStep(net, adam, { lr: o.lr, clip: f.train.clip_max_norm, clipValue: null }, null);
        expectClose([got.loss], [want.loss], VALUE_BOUND, `step ${k} loss`);
        expectClose([got.gradNorm], [want.grad_norm_before_clip], VALUE_BOUND, `step ${k} grad_norm`);
      });
      for (const spec of layout.specs) {
        expectClose(p.subarray(spec.offset, spec.offset + spec.size), f.train.params_after[spec.name].data, PARAM_BOUND, `after ${spec.name}`);
      }
    });
  });
}

describe('clip_grad_norm_\'s factor', () => {
  /** torch.nn.utils.clip_grad_norm_ as it reads: clip_coef = max_norm / (total_norm + 1e-6), applied only below 1. */
  const torchFactor = (norm: number, maxNorm: number): number => Math.min(1, maxNorm / (norm + 1e-6));

  it('divides by the norm plus 1e-6, as torch does: a norm at the limit is clipped, and a tiny one by its 1e-6', () => {
    for (const [norm, maxNorm] of [[5, 5], [5.5, 5], [2e-6, 1e-6], [1e-7, 1e-6], [0, 1], [4, 5]]) {
      expect(clipScale(norm, maxNorm), `norm ${norm}, max ${maxNorm}`).toBe(torchFactor(norm, maxNorm));
    }
    expect(clipScale(5, 5)).toBeLessThan(1);
  });

  it('is 1 however large the norm where no limit is set (--clip 0)', () => {
    for (const norm of [0, 1, 1e30]) expect(clipScale(norm, null), `norm ${norm}`).toBe(1);
  });
});
