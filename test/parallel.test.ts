import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import type { OptimizerMoments, TrainingEngine } from '../src/parallel/engine.js';
import { type StepSettings, stepIsFinite } from '../src/engine/step.js';
import { createStepper, inferenceSetup } from '../src/parallel/inference.js';
import { createEngine } from '../src/parallel/pool.js';
import type { KernelsKind } from '../src/engine/kernels/kinds.js';
import { paramLayout } from '../src/engine/params.js';
import { CONTENDED_CORE_WAIT, CONTROL_SIZE, Command, Control, SPINS_LONG, SPINS_SHORT, spinsBeforeSleep } from '../src/parallel/shared.js';
import { CORE_WAIT_INTERVAL_MS, CoreWaitPolls, schedstatReader, waitedNanoseconds } from '../src/parallel/contention.js';
import { ThreadGroup } from '../src/parallel/threads.js';
import { Arena } from '../src/engine/kernels/arena.js';
import { kernelKinds } from './helpers/kernels.js';

/**
 * The worker pool against the single-thread engine. Workers share the batch by sequences and
 * reduce gradients in a fixed order, so a given --workers is bit-for-bit repeatable; across
 * worker counts only the float32 rounding of the reduction differs (docs/design.md: |Δloss| ≤ 1e-5
 * after 100 steps).
 */
const config: ModelConfig = { cell: 'lstm', vocabSize: 11, embedDim: 6, hiddenSize: 12, numLayers: 2, dropout: 0.2 };
const B = 6, T = 9;
const engines: TrainingEngine[] = [];
afterAll(async () => { await Promise.all(engines.map((e) => e.close())); });

let kernels: KernelsKind = 'js';

async function engine(workers: number, cfg = config, params = initParams(cfg, new Rng(5))): Promise<TrainingEngine> {
  const e = await createEngine({ config: cfg, params, optimizer: 'adam', batchSize: B, seqLen: T, evalRows: 5, workers, kernels });
  engines.push(e);
  return e;
}

/** A fixed pseudo-random token stream, so every engine sees the same windows. */
function fillWindow(e: TrainingEngine, step: number): void {
  const rng = new Rng(1000 + step);
  for (let i = 0; i < B * T; i++) {
    e.inputs[i] = rng.nextUint32() % config.vocabSize;
    e.targets[i] = (e.inputs[i] * 3 + 1) % config.vocabSize; // learnable
  }
}

function run(e: TrainingEngine, steps: number): number[] {
  return steadily(e, steps, { lr: 1e-2, clip: 1, clipValue: null }).map((step) => step.loss);
}

/** `steps` steps over the fixed windows with `settings`: each step's loss and gradient norm. */
function steadily(e: TrainingEngine, steps: number, settings: StepSettings): { loss: number; gradNorm: number }[] {
  const results: { loss: number; gradNorm: number }[] = [];
  for (let s = 0; s < steps; s++) {
    fillWindow(e, s);
    const { loss, gradNorm } = e.trainStep(settings, 77 + s);
    results.push({ loss, gradNorm });
  }
  return results;
}

for (const kind of kernelKinds()) describe(`worker pool, ${kind} kernels`, () => {
  beforeAll(() => { kernels = kind; });

  it('is bit-for-bit repeatable for the same number of workers', async () => {
    const [a, b] = [await engine(2), await engine(2)];
    expect(run(a, 20)).toEqual(run(b, 20));
    const bits = (x: Float32Array) => new Uint32Array(x.slice().buffer);
    expect(bits(a.params)).toEqual(bits(b.params));
  });

  it('matches one thread within float rounding after 100 steps, for 2 and 3 workers', async () => {
    const one = run(await engine(1), 100);
    for (const workers of [2, 3]) {
      const many = run(await engine(workers), 100);
      expect(one[99]).toBeLessThan(one[0] - 0.5); // it learned something
      let worst = 0;
      for (let s = 0; s < 100; s++) worst = Math.max(worst, Math.abs(many[s] - one[s]));
      expect(worst, `${workers} workers`).toBeLessThanOrEqual(1e-5);
    }
  });

  it('clips by value, then by the global norm of what is left, as one thread does', async () => {
    const size = paramLayout(config).total;
    // raw gradients far beyond both limits, so each clip acts on every step
    const raw = steadily(await engine(1), 10, { lr: 1e-2, clip: null, clipValue: null });
    const clipValue = 1e-4, clip = 1e-3;
    const valueBound = clipValue * Math.sqrt(size);
    for (const step of raw) expect(step.gradNorm).toBeGreaterThan(4 * valueBound);
    const one = steadily(await engine(1), 10, { lr: 1e-2, clip, clipValue });
    for (const step of one) {
      // the norm reported (and clipped by) is that of the gradient already clipped by value
      expect(step.gradNorm).toBeLessThanOrEqual(valueBound);
      expect(step.gradNorm).toBeGreaterThan(clip);
    }
    for (const workers of [2, 3]) {
      const many = steadily(await engine(workers), 10, { lr: 1e-2, clip, clipValue });
      many.forEach((step, s) => {
        expect(Math.abs(step.gradNorm - one[s]!.gradNorm), `${workers} workers, step ${s}: norm`).toBeLessThanOrEqual(1e-5 * one[s]!.gradNorm);
        expect(Math.abs(step.loss - one[s]!.loss), `${workers} workers, step ${s}: loss`).toBeLessThanOrEqual(1e-5);
      });
    }
  });

  it('resumes an odd batch on 3 workers, with dropout, to the uninterrupted run\'s bits', async () => {
    // B = 5 rows of a GRU of 3 layers of 5 units: shares of 2, 1 and 2 rows; no size fills a SIMD vector
    const odd: ModelConfig = { cell: 'gru', vocabSize: 11, embedDim: 3, hiddenSize: 5, numLayers: 3, dropout: 0.3 };
    const rows = 5, settings = { lr: 1e-2, clip: 1, clipValue: null };
    const start = async (from?: { params: Float32Array; moments: OptimizerMoments }) => {
      const e = await createEngine({
        config: odd, params: from?.params ?? initParams(odd, new Rng(5)), moments: from?.moments, optimizer: 'adam',
        batchSize: rows, seqLen: T, evalRows: 0, workers: 3, kernels,
      });
      engines.push(e);
      return e;
    };
    const steps = (e: TrainingEngine, from: number, to: number) => {
      for (let s = from; s < to; s++) {
        const rng = new Rng(1000 + s);
        for (let i = 0; i < rows * T; i++) { e.inputs[i] = rng.nextUint32() % 11; e.targets[i] = (e.inputs[i] * 3 + 1) % 11; }
        e.trainStep(settings, 77 + s);
      }
    };
    const bits = (x: Float32Array) => new Uint32Array(x.slice().buffer);
    const [whole, half] = [await start(), await start()];
    steps(whole, 0, 8);
    steps(half, 0, 4);
    const resumed = await start({ params: half.params.slice(), moments: half.optimizerMoments() });
    resumed.setTrainState(half.trainState());
    steps(resumed, 4, 8);
    expect(bits(resumed.params)).toEqual(bits(whole.params));
    expect(bits(resumed.optimizerMoments().v)).toEqual(bits(whole.optimizerMoments().v));
    expect(bits(resumed.trainState().h)).toEqual(bits(whole.trainState().h));
  });

  it('evaluates with carried state and moves the training state in and out', async () => {
    const [one, two] = [await engine(1), await engine(2)];
    for (const e of [one, two]) {
      const rng = new Rng(9);
      for (let i = 0; i < 5 * 4; i++) { e.evalInputs[i] = rng.nextUint32() % 11; e.evalTargets[i] = rng.nextUint32() % 11; }
    }
    const chunks = [one, two].map((e) => [e.evalChunk(4), e.evalChunk(4)]);
    // a row scores alike however many share a product (docs/design.md), so the two differ only
    // by the float64 sum of the 5 · 4 losses (each ≥ 0) in other groups: ≤ N · ε · Σ
    for (const c of [0, 1]) {
      const [alone, shared] = [chunks[0]![c]!, chunks[1]![c]!];
      expect(Math.abs(shared - alone), `chunk ${c}: 1 worker ${alone}, 2 workers ${shared}`).toBeLessThanOrEqual(5 * 4 * Number.EPSILON * alone);
    }
    expect(chunks[0][1]).not.toBe(chunks[0][0]); // the second chunk started from the carried state
    run(two, 3);
    const state = two.trainState();
    expect(state.h.some((x) => x !== 0)).toBe(true);
    expect(state.c!.length).toBe(config.numLayers * B * config.hiddenSize);
    two.resetTrainState();
    expect(two.trainState().h.every((x) => x === 0)).toBe(true);
    two.setTrainState(state);
    expect(two.trainState()).toEqual(state);
  });

  it('skips a step whose loss is not finite: the weights, moments and step count stay as they were', async () => {
    const params = initParams(config, new Rng(5));
    const headBias = paramLayout(config).byName.get('head.bias')!;
    params[headBias.offset + 3] = NaN; // every row's logits, and so the loss, are NaN
    for (const workers of [1, 2]) {
      const e = await engine(workers, config, params);
      fillWindow(e, 0);
      const before = e.params.slice();
      const result = e.trainStep({ lr: 1e-2, clip: 1, clipValue: null }, 1);
      expect(result.skipped, `${workers} workers`).toBe(true);
      expect(Number.isFinite(result.loss)).toBe(false);
      expect(new Uint32Array(e.params.slice().buffer)).toEqual(new Uint32Array(before.buffer));
      expect(new Uint32Array(before.buffer)).toEqual(new Uint32Array(Float32Array.from(params).buffer));
      const moments = e.optimizerMoments();
      expect(moments.step).toBe(0);
      expect(moments.m.every((x) => x === 0)).toBe(true);
      expect(e.trainState().h.every((x) => x === 0)).toBe(true);
    }
  });

  it('restarts the carried state from zero at a skipped step, where good steps had carried one', async () => {
    const headBias = paramLayout(config).byName.get('head.bias')!;
    for (const workers of [1, 2]) {
      const e = await engine(workers);
      run(e, 2);
      expect(e.trainState().h.some((x) => x !== 0), `${workers} workers: a state to restart`).toBe(true);
      e.params[headBias.offset + 3] = NaN;
      fillWindow(e, 2);
      expect(e.trainStep({ lr: 1e-2, clip: 1, clipValue: null }, 1).skipped, `${workers} workers`).toBe(true);
      const state = e.trainState();
      expect(state.h.every((x) => x === 0), `${workers} workers: h`).toBe(true);
      expect(state.c!.every((x) => x === 0), `${workers} workers: c`).toBe(true);
    }
  });

  it('scores a chunk cut in two, the state carried from the first part\'s end, as it scores the whole', async () => {
    const rows = 5, length = 8, half = length / 2;
    expect(half).toBeLessThan(T); // each part leaves steps of the window unused after it
    const rng = new Rng(9), inputs: number[] = [], targets: number[] = [];
    for (let i = 0; i < rows * length; i++) { inputs.push(rng.nextUint32() % 11); targets.push(rng.nextUint32() % 11); }
    const e = await engine(1);
    e.evalInputs.set(inputs);
    e.evalTargets.set(targets);
    const whole = e.evalChunk(length);
    e.resetEvalState();
    let parts = 0;
    for (const from of [0, half]) {
      for (let b = 0; b < rows; b++) {
        for (let t = 0; t < half; t++) {
          e.evalInputs[b * half + t] = inputs[b * length + from + t]!;
          e.evalTargets[b * half + t] = targets[b * length + from + t]!;
        }
      }
      parts += e.evalChunk(half);
    }
    // the same float32 losses, summed in float64 in another order
    expect(Math.abs(parts - whole), `whole ${whole}, in two parts ${parts}`).toBeLessThanOrEqual(rows * length * Number.EPSILON * whole);
  });
});

describe('stepIsFinite', () => {
  it('lets a step reach the weights only where both its loss and its gradient norm are finite', () => {
    const cases: [number, number][] = [[2.3, 1.5], [2.3, Infinity], [2.3, NaN], [NaN, 1.5], [Infinity, 1.5]];
    expect(cases.map(([loss, norm]) => stepIsFinite(loss, norm))).toEqual([true, false, false, false, false]);
  });
});

describe('a worker count that is not a positive integer', () => {
  it('is refused where the threads start, for training and for inference, not left waiting at the first barrier', async () => {
    const params = initParams(config, new Rng(5));
    await expect(createStepper(config, params, Number.NaN)).rejects.toThrow('workers: must be a positive integer (got NaN)');
    await expect(createEngine({ config, params, optimizer: 'adam', batchSize: B, seqLen: T, evalRows: 5, workers: 2.5 }))
      .rejects.toThrow('workers: must be a positive integer (got 2.5)');
  });
});

describe('how long a waiting thread polls before it sleeps', () => {
  it('is long only for a training group with a core for each thread', () => {
    expect(spinsBeforeSleep('train', 2, 2)).toBe(SPINS_LONG);
    expect(spinsBeforeSleep('train', 3, 2)).toBe(SPINS_SHORT);
    expect(spinsBeforeSleep('infer', 2, 16)).toBe(SPINS_SHORT);
    expect(SPINS_LONG).toBeGreaterThan(SPINS_SHORT);
  });

  it('is short for a training group whose posting thread waits for a core more than CONTENDED_CORE_WAIT of the time', () => {
    expect(spinsBeforeSleep('train', 2, 2, null)).toBe(SPINS_LONG);
    expect(spinsBeforeSleep('train', 2, 2, 0.02)).toBe(SPINS_LONG);
    expect(spinsBeforeSleep('train', 2, 2, CONTENDED_CORE_WAIT)).toBe(SPINS_LONG);
    expect(spinsBeforeSleep('train', 2, 2, 0.3)).toBe(SPINS_SHORT);
    expect(spinsBeforeSleep('train', 3, 2, 0)).toBe(SPINS_SHORT);
  });

  it('reads the nanoseconds a thread waited for a core from the second number of its schedstat line', () => {
    expect(waitedNanoseconds('2933422 1307608 17\n')).toBe(1307608);
    expect(waitedNanoseconds('123456789012345 987654321098765 5\n')).toBe(987654321098765);
    expect(waitedNanoseconds('2933422 1307608\n')).toBe(1307608); // the count of time slices left out
    expect(waitedNanoseconds('2933422')).toBeNull(); // the first number alone
    expect(waitedNanoseconds('2933422 13076x8 17\n')).toBeNull();
    expect(waitedNanoseconds('')).toBeNull();
    // Linux keeps the count (CI's system); elsewhere there is none, and training keeps the polls it started with
    const read = schedstatReader();
    if (process.platform !== 'linux') {
      expect(read).toBeNull();
      return;
    }
    const first = read!();
    expect(first).toEqual(expect.any(Number));
    expect(read!()!).toBeGreaterThanOrEqual(first!);
  });

  it('follows what the posting thread waited over each interval: short while other work holds the cores, long again once it has gone', () => {
    const control = new Int32Array(CONTROL_SIZE);
    control[Control.Spins] = SPINS_LONG;
    let now = 0, waitedNs = 5e9;
    const polls = new CoreWaitPolls(control, 2, () => waitedNs, () => now);
    const after = (ms: number, waitedMs: number) => {
      now += ms;
      waitedNs += waitedMs * 1e6;
      polls.update();
      return control[Control.Spins];
    };
    expect(after(CORE_WAIT_INTERVAL_MS / 2, CORE_WAIT_INTERVAL_MS / 2)).toBe(SPINS_LONG); // too soon to read
    expect(after(CORE_WAIT_INTERVAL_MS / 2, 0)).toBe(SPINS_SHORT); // half the interval waited
    expect(after(CORE_WAIT_INTERVAL_MS, CORE_WAIT_INTERVAL_MS * 0.3)).toBe(SPINS_SHORT);
    expect(after(CORE_WAIT_INTERVAL_MS, CORE_WAIT_INTERVAL_MS * 0.01)).toBe(SPINS_LONG);
    // a count that cannot be read leaves the polls as they are, and the next interval starts at the next reading
    const counts: (number | null)[] = [0, null, 1e6, 1e6 + 0.5 * 400e6];
    now = 0;
    const flaky = new CoreWaitPolls(control, 2, () => counts.shift() ?? null, () => now);
    control[Control.Spins] = SPINS_LONG;
    for (const expected of [SPINS_LONG, SPINS_LONG, SPINS_SHORT]) {
      now += 400;
      flaky.update();
      expect(control[Control.Spins]).toBe(expected);
    }
    // no count at all: nothing is read
    const none = new CoreWaitPolls(control, 2, null, () => { throw new Error('the clock was read'); });
    none.update();
    expect(control[Control.Spins]).toBe(SPINS_SHORT);
  });
});

describe('a thread that fails during a step', () => {
  /** A token whose row of layer 0's input table lies past the arena, so the wasm gather traps. */
  const pastTheArena = Math.floor(2 ** 31 / (4 * 4 * config.hiddenSize));

  async function wasmEngine(): Promise<TrainingEngine> {
    const params = initParams(config, new Rng(5));
    const e = await createEngine({ config, params, optimizer: 'adam', batchSize: B, seqLen: T, evalRows: 5, workers: 2, kernels: 'wasm' });
    engines.push(e);
    fillWindow(e, 0);
    return e;
  }

  it('is reported with the worker\'s own message and number', async () => {
    const e = await wasmEngine();
    e.inputs[B * T - 1] = pastTheArena; // the last sequence: worker 1's
    expect(() => e.trainStep({ lr: 1e-2, clip: 1, clipValue: null }, 1)).toThrow(/^worker thread 1 failed: memory access out of bounds$/);
    await e.close();
  });

  it('on the calling thread is reported as its own error, not a worker\'s', async () => {
    const e = await wasmEngine();
    e.inputs[0] = pastTheArena; // the first sequence: shard 0's, on this thread
    expect(() => e.trainStep({ lr: 1e-2, clip: 1, clipValue: null }, 1)).toThrow(/^memory access out of bounds$/);
    await e.close();
  });
});

describe('a group whose calling thread fails in its shard', () => {
  it('is reported with that error, and is no longer usable', async () => {
    const { setup, control } = inferenceSetup(config, initParams(config, new Rng(5)), 2, 'js');
    const failing = { run: () => { throw new Error('shard 0 failed'); } };
    const group = await ThreadGroup.start(setup, control, 'infer', failing);
    expect(group.usable).toBe(true);
    expect(() => group.post(Command.Advance)).toThrow(/^shard 0 failed$/);
    expect(group.usable).toBe(false);
    await group.close();
  });
});

describe('a worker thread that fails to start', () => {
  it('is reported with its own message and number, and the group does not start', async () => {
    const arena = new Arena(), control = arena.ints(CONTROL_SIZE);
    const noModel = { workers: 2, memory: arena.memory }; // the worker's shard throws as it is built
    await expect(ThreadGroup.start(noModel, control, 'infer', { run: () => {} }))
      .rejects.toThrow(/^worker thread 1 failed to start: .*'config'/); // the worker's own TypeError
  });
});

describe('the pool at its edges', () => {
  beforeAll(() => { kernels = kernelKinds()[0]!; });
  /** The 20 steps' losses on one thread, which a pool of any size matches: run once for the tests that compare with them. */
  let losses: Promise<number[]> | null = null;
  const oneThread = (): Promise<number[]> => (losses ??= engine(1).then((e) => run(e, 20)));

  it('takes a dropout seed of 0 as a seed, not as no dropout, on one thread and on several', async () => {
    for (const workers of [1, 2]) {
      const [seeded, none] = [await engine(workers), await engine(workers)];
      fillWindow(seeded, 0);
      fillWindow(none, 0);
      const settings = { lr: 1e-2, clip: 1, clipValue: null };
      expect(seeded.trainStep(settings, 0).loss, `${workers} workers`).not.toBe(none.trainStep(settings, null).loss);
    }
  });

  it('hands out an LSTM\'s h and c as the cells left them: h = o ⊙ tanh(c), so |h| ≤ |tanh c|', async () => {
    for (const workers of [1, 2, 3]) {
      const e = await engine(workers);
      run(e, 3);
      const { h, c } = e.trainState();
      expect(c!.some((x) => x !== 0), `${workers} workers: c`).toBe(true);
      const worst = Math.max(...Array.from(h, (x, i) => Math.abs(x) - Math.abs(Math.tanh(c![i]!))));
      expect(worst, `${workers} workers`).toBeLessThanOrEqual(1e-6);
    }
  });

  it('weights each shard by its sequences where the batch does not divide: 4 workers over 6 match one thread', async () => {
    const one = await oneThread();
    const many = run(await engine(4), 20); // shares of 2, 1, 2 and 1 sequences
    for (let s = 0; s < 20; s++) expect(Math.abs(many[s]! - one[s]!), `step ${s}`).toBeLessThanOrEqual(1e-5);
  });

  it('runs no more threads than the batch has sequences, and trains as one thread does', async () => {
    const one = await oneThread();
    const e = await engine(B + 2);
    expect(e.workers).toBe(B);
    const many = run(e, 20);
    for (let s = 0; s < 20; s++) expect(Math.abs(many[s]! - one[s]!), `step ${s}`).toBeLessThanOrEqual(1e-5);
  });
});
