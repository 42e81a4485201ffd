import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { TrainEvent } from '../src/train/events.js';
import type { TrainOptions } from '../src/train/options.js';
import { DIVERGED_AFTER, train } from '../src/train/trainer.js';
import { fileHashes, scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

/** The trainer's side of divergence, in process: a signal can be sent between two exact steps. */
const TINY: TrainOptions = { cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 4, seqLen: 8, workers: 1, evalEvery: 20 };

const { dir } = scratchFolder('rnn-divergence-');
let corpus: string;

beforeAll(() => {
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, speeches(4000));
});

describe('divergence', () => {
  it('a signal once steps are being skipped keeps the last good checkpoints, byte for byte', async () => {
    const out = join(dir, 'run');
    await train({ ...TINY, maxSteps: 40, out }, [corpus]);
    const before = fileHashes(out);
    const controller = new AbortController();
    const events: TrainEvent[] = [];
    const result = await train({ resume: out, lr: 1e38, clip: 0, maxSteps: 400 }, [], {
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'step' && event.skipped > 0) controller.abort('SIGINT');
      },
    });
    expect(result.reason).toBe('interrupted');
    expect(result.skipped).toBeGreaterThan(0);
    expect(result.skipped).toBeLessThan(DIVERGED_AFTER);
    expect(result.savedStep).toBe(40);
    expect(events.some((event) => event.event === 'checkpoint')).toBe(false);
    expect(fileHashes(out)).toEqual(before);
  });

  it('a signal once the weights have grown past what a checkpoint holds saves nothing, the run ending as interrupted', async () => {
    // finite steps whose weights end far beyond ±1e6, stopped by the signal before any evaluation: the signal's save refuses them
    const out = join(dir, 'blown-up');
    const controller = new AbortController();
    const events: TrainEvent[] = [];
    const result = await train({ ...TINY, lr: 1e10, optimizer: 'sgd', clip: 0, evalEvery: 0, maxSteps: 400, out }, [corpus], {
      signal: controller.signal,
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'step' && event.step === 30) controller.abort('SIGINT');
      },
    });
    expect([result.reason, result.step, result.savedStep]).toEqual(['interrupted', 30, null]);
    expect(events.some((event) => event.event === 'checkpoint')).toBe(false);
    expect(fileHashes(out)).toEqual({});
  });

  it('counts skipped steps in the step and done events, and stops after DIVERGED_AFTER in a row', async () => {
    const events: TrainEvent[] = [];
    const result = await train({ ...TINY, lr: 1e38, clip: 0, maxSteps: 400, out: join(dir, 'fresh') }, [corpus], {
      onEvent: (event) => events.push(event),
    });
    expect(result.reason).toBe('diverged');
    expect(result.divergence).toBe('steps');
    const steps = events.filter((event) => event.event === 'step');
    const skippedSteps = steps.filter((event) => event.loss === null);
    expect(skippedSteps.length).toBe(DIVERGED_AFTER);
    expect(steps.at(-1)).toMatchObject({ skipped: DIVERGED_AFTER, loss: null, gradNorm: null });
    expect(events.at(-1)).toMatchObject({ event: 'done', reason: 'diverged', skipped: DIVERGED_AFTER });
  });
});
