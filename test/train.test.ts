import { execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { SMOOTHING } from '../src/engine/loss.js';
import { exportState } from '../src/checkpoint/convert.js';
import * as integrity from '../src/checkpoint/integrity.js';
import { LanguageModel } from '../src/engine/model.js';
import { userMessage } from '../src/cli/errors.js';
import { SettingError } from '../src/input/settings.js';
import { CorpusError } from '../src/text/corpus.js';
import type { DoneEvent, StepEvent, TrainEvent } from '../src/train/events.js';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';
import { parseDuration } from '../src/input/duration.js';
import { RUN_OPTIONS, defaultEvalEvery, freshSettings, parseOptions } from '../src/train/options.js';
import { resumedOut } from '../src/train/output.js';
import { checkpointFileBytes, checkpointWriteSeconds } from '../src/checkpoint/size.js';
import { scheduledLr } from '../src/engine/optim.js';
import { type TrainResult, periodicEvalIsRedundant, train } from '../src/train/trainer.js';
import type { TrainOptions } from '../src/train/options.js';
import { onReadingClock } from './helpers/clock.js';
import { scratchFolder, sha256Of } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';
import { trainUntilStep } from './helpers/train.js';

const { dir } = scratchFolder('rnn-train-');
let corpus: string;

beforeAll(() => {
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, speeches(3000));
});

let outCount = 0;
const freshOut = (): string => join(dir, `run-${++outCount}`);

const TINY: TrainOptions = { cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 4, seqLen: 8, workers: 1, evalEvery: 20 };

/** A TINY run with `options` on the corpus, to a fresh output, and the warnings it gave as their lines read. */
async function trainWarned(options: TrainOptions): Promise<{ result: TrainResult; warnings: string[] }> {
  const warnings: string[] = [];
  const result = await train({ ...TINY, ...options, out: freshOut() }, [corpus], {
    onWarning: (warning) => warnings.push(userMessage(warning)!),
  });
  return { result, warnings };
}

/** Runs `train`, collecting its events. */
async function run(options: TrainOptions, paths: string[] = [corpus], abortAtStep?: number) {
  const events: TrainEvent[] = [];
  const result: TrainResult = await trainUntilStep(options, paths, abortAtStep, (event) => events.push(event));
  const steps = events.filter((e): e is StepEvent => e.event === 'step');
  return { result, events, steps, losses: steps.map((e) => e.loss) };
}

const bits = (values: Float32Array): Uint32Array => new Uint32Array(values.buffer, values.byteOffset, values.length);
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
/** The losses of the steps that were not skipped (a skipped step's is null). */
const finiteLosses = (steps: StepEvent[]): number[] => steps.flatMap((e) => (e.loss === null ? [] : [e.loss]));

describe('train', () => {
  it('lowers the loss over 60 steps', async () => {
    // a rate that moves this tiny model within 60 steps, its schedule falling to 0 over them
    const { result, steps } = await run({ ...TINY, lr: 1e-2, maxSteps: 60, out: freshOut() });
    expect(result.reason).toBe('max-steps');
    const losses = finiteLosses(steps);
    expect(losses).toHaveLength(60);
    expect(mean(losses.slice(-10))).toBeLessThan(mean(losses.slice(0, 10)) - 0.5);
    // uniform guessing over the vocabulary scores ln V
    expect(result.valLoss!).toBeLessThan(Math.log(result.config.vocabSize) - 0.5);
  });

  it('smooths the step losses it reports: an exponential moving average, the newest step weighing SMOOTHING', async () => {
    const { steps } = await run({ ...TINY, maxSteps: 12, evalEvery: 0, out: freshOut() });
    const losses = finiteLosses(steps);
    let smoothed = losses[0]!;
    const expected = losses.map((loss, i) => (smoothed = i === 0 ? loss : (1 - SMOOTHING) * smoothed + SMOOTHING * loss));
    expect(steps.map((e) => e.smoothedLoss)).toEqual(expected);
    expect(new Set(losses).size).toBe(12); // steps that differ, so the weighting shows
  });

  // The corpus gives 2,700-odd training characters, 80-odd steps per epoch at B = 4, T = 8, so
  // both runs cross an epoch boundary (state reset, lr decay) after the resume point.
  // Interrupted between evaluations, or at step 60 (evalEvery 20), where the validation is
  // abandoned: the checkpoint then records no evaluation at 60.
  const RESUME_CASES: [string, number, TrainOptions][] = [
    ['lstm 2x16 with dropout, adam', 57, { ...TINY, cell: 'lstm', layers: 2, dropout: 0.25 }],
    ['gru 2x12, sgd with lr decay and element clipping', 60, {
      ...TINY, layers: 2, hidden: 12, optimizer: 'sgd', lr: 0.5, lrSchedule: 'epoch', lrDecay: 0.5, clipValue: 0.5,
    }],
  ];

  it.each(RESUME_CASES)('resumes exactly: %s, interrupted at step %i', async (_name, stopAt, options) => {
    const whole = await run({ ...options, maxSteps: 120, out: freshOut() });
    const out = freshOut();
    const first = await run({ ...options, maxSteps: 120, out }, [corpus], stopAt);
    expect(first.result.reason).toBe('interrupted');
    expect(first.result.step).toBe(stopAt);
    expect(loadCheckpoint(first.result.latest).history.map((h) => h.step)).toEqual([20, 40]);
    const second = await run({ resume: out }, []); // a folder resumes its latest.json
    expect(second.result.reason).toBe('max-steps'); // the limit recorded by the first part
    expect(second.result.step).toBe(120);

    expect([...first.losses, ...second.losses]).toEqual(whole.losses);
    expect(bits(second.result.params)).toEqual(bits(whole.result.params));
    const a = loadCheckpoint(whole.result.latest), b = loadCheckpoint(second.result.latest);
    expect(b.weights).toEqual(a.weights);
    expect(b.optimizer).toEqual(a.optimizer);
    // all that the trainer records of where it stands, the generator's state included; only the time spent differs
    expect({ ...b.training, elapsedSeconds: 0 }).toEqual({ ...a.training, elapsedSeconds: 0 });
    const start = whole.events.find((e) => e.event === 'start')!;
    const perEpoch = start.event === 'start' ? start.stepsPerEpoch : 0;
    expect(perEpoch).toBeGreaterThan(stopAt);
    expect(perEpoch).toBeLessThan(120);
    // epoch: lr · lrDecay^epoch, epoch 0 for the first perEpoch steps, 1 after; cosine: lr · ½(1 + cos(π·done)), step
    // s (from 1) with s − 1 of the 120 behind it
    const lr = options.lr ?? TRAIN_DEFAULTS.lr, decay = options.lrDecay ?? TRAIN_DEFAULTS.lrDecay;
    const expected = (step: number): number => (options.lrSchedule ?? TRAIN_DEFAULTS.lrSchedule) === 'epoch'
      ? (step <= perEpoch ? lr : lr * decay)
      : lr * 0.5 * (1 + Math.cos(Math.PI * ((step - 1) / 120)));
    expect(whole.steps.map((e) => e.lr)).toEqual(whole.steps.map((e) => expected(e.step)));
  });

  it('draws new dropout masks at every step: each step\'s forward pass gets a seed of its own', async () => {
    const forward = vi.spyOn(LanguageModel.prototype, 'forward');
    try {
      await run({ ...TINY, cell: 'lstm', layers: 2, dropout: 0.25, maxSteps: 6, evalEvery: 0, out: freshOut() });
      const seeds = forward.mock.calls.map(([seed]) => seed).filter((seed) => seed !== null && seed !== undefined);
      expect(seeds).toHaveLength(6);
      expect(new Set(seeds).size).toBe(6);
    } finally {
      forward.mockRestore();
    }
  });

  it('records the history of every evaluation, the corpus fingerprint and the carried state', async () => {
    const { result, events } = await run({ ...TINY, cell: 'lstm', layers: 2, maxSteps: 50, out: freshOut() });
    const ckpt = loadCheckpoint(result.latest);
    expect(ckpt.history.map((h) => h.step)).toEqual([20, 40, 50]);
    const evals = events.filter((e) => e.event === 'eval');
    expect(ckpt.history.map((h) => h.valLoss)).toEqual(evals.map((e) => e.valLoss));
    expect(ckpt.training.bestValLoss).toBe(Math.min(...evals.map((e) => e.valLoss!)));
    expect(ckpt.corpus!.files).toEqual([
      { path: corpus, bytes: readFileSync(corpus).length, sha256: sha256Of(corpus) },
    ]);
    expect(ckpt.corpus!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(ckpt.training.carried!.tensors['h']!.shape).toEqual([2, 4, 16]);
    expect(ckpt.training.carried!.tensors['c']!.shape).toEqual([2, 4, 16]);
    expect(ckpt.config.training).toMatchObject({ batchSize: 4, seqLen: 8, maxSteps: 50, epochs: null });
    expect(result.best).not.toBeNull();
    expect(loadCheckpoint(result.best!).training.bestValLoss).toBe(ckpt.training.bestValLoss);
  });

  it('keeps as best the first evaluation to reach the lowest loss: a later one that only ties it is no improvement', async () => {
    // a rate too small to move a float32 weight: every evaluation scores the same weights, to the same loss
    const { result, events } = await run({ ...TINY, optimizer: 'sgd', lr: 1e-30, maxSteps: 40, out: freshOut() });
    const evals = events.flatMap((e) => (e.event === 'eval' ? [e] : []));
    expect(evals.map((e) => e.step)).toEqual([20, 40]);
    expect(evals[1]!.valLoss).toBe(evals[0]!.valLoss);
    expect(evals.map((e) => e.improved)).toEqual([true, false]);
    expect(loadCheckpoint(result.best!).training.step).toBe(20);
  });

  it('refuses to resume a checkpoint whose cursor is at or past the end of an epoch of this corpus, naming the fields', async () => {
    const out = freshOut();
    const { events } = await run({ ...TINY, maxSteps: 4, evalEvery: 0, out });
    const start = events.find((e) => e.event === 'start')!;
    const perEpoch = start.event === 'start' ? start.stepsPerEpoch : 0;
    const latest = join(out, 'latest.json');
    const { sha256: _, ...ckpt } = loadCheckpoint(latest);
    // step, epoch and cursor agree (step = epoch · perEpoch + cursor), but the cursor names no step of an epoch
    saveCheckpoint(latest, { ...ckpt, training: { ...ckpt.training, step: perEpoch, epoch: 0, cursor: perEpoch } });
    await expect(train({ resume: latest, maxSteps: 2 * perEpoch }, [])).rejects.toThrow(
      `${latest}: training.step ${perEpoch}, epoch 0, cursor ${perEpoch} do not fit ${perEpoch} steps per epoch of this corpus`);
  });

  it('refuses to resume on a changed corpus, or with a contradicting model flag', async () => {
    const own = join(dir, 'changing.txt');
    writeFileSync(own, speeches(2500));
    const out = freshOut();
    await run({ ...TINY, maxSteps: 10, out }, [own]);
    const latest = join(out, 'latest.json');
    const before = readFileSync(latest);

    const contradiction = await train({ resume: latest, hidden: 32, maxSteps: 20 }).catch((err: unknown) => err);
    expect(contradiction).toBeInstanceOf(SettingError);
    expect(contradiction).toMatchObject({ setting: 'hidden', value: 32 });
    expect(userMessage(contradiction)).toBe(
      `--hidden 32 contradicts ${latest}, which was trained with --hidden 16: leave it out to resume, or start a new run without --resume`,
    );
    const both = await train({ resume: latest, hidden: 32, seqLen: 4, maxSteps: 20 }).catch((err: unknown) => err);
    expect(userMessage(both)).toBe(`--hidden 32, --seq-len 4 contradict ${latest}, which was trained with --hidden 16, --seq-len 8: ` +
      'leave them out to resume, or start a new run without --resume');
    // a character-level run's vocabulary is its own on resume: --vocab-size is refused saying so, not pointed at --min-count
    const wordOnly = await train({ resume: latest, vocabSize: 100, maxSteps: 20 }).catch((err: unknown) => err);
    expect(userMessage(wordOnly)).toBe(`--vocab-size applies to --level word only, and ${latest} is a character-level model: ` +
      'a resumed run keeps its vocabulary: leave --vocab-size out');
    await expect(train({ resume: latest, maxSteps: 20 }, [corpus])).rejects.toThrow(CorpusError);
    const trained = { bytes: readFileSync(own).length, sha256: sha256Of(own) };
    appendFileSync(own, 'one more line\n');
    // the file's size and hash as `wc -c` and `sha256sum` print them, now and when it was trained on
    const edited = await train({ resume: latest, maxSteps: 20 }).catch((err: unknown) => err);
    expect(edited).toBeInstanceOf(CorpusError);
    const file = (f: { bytes: number; sha256: string }): string => `${f.bytes.toLocaleString('en-US')} bytes, sha256 ${f.sha256.slice(0, 12)}…`;
    expect(userMessage(edited)).toBe(`the corpus (${own}) differs from the one ${latest} was trained on: ` +
      `${own} is ${file({ bytes: readFileSync(own).length, sha256: sha256Of(own) })}, where it was ${file(trained)}: ` +
      `resume with that text; or, to start a new run on this one, fine-tune the model with --init-from ${latest} in place of --resume, ` +
        'or train from scratch without --resume');
    expect(readFileSync(latest)).toEqual(before);
  });

  it('leaves the checkpoints in a corpus folder and its own output out of the corpus, with a notice, and resumes on the same files', async () => {
    const folder = join(dir, 'with-runs');
    mkdirSync(folder);
    const text = join(folder, 'text.txt');
    writeFileSync(text, speeches(3000));
    const first = join(folder, 'run1');
    await run({ ...TINY, maxSteps: 5, out: first }, [folder]);
    copyFileSync(join(first, 'latest.json'), join(folder, 'old.json'));
    const second = join(folder, 'run2');
    const warnings: string[] = [];
    await train({ ...TINY, maxSteps: 5, out: second }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(loadCheckpoint(join(second, 'latest.json')).corpus!.files.map((f) => f.path)).toEqual([text]);
    const models = [join(folder, 'old.json'), join(first, 'best.json'), join(first, 'latest.json')];
    expect(warnings).toEqual([`left out of the corpus: ${models.map((path) => `${path} (an rnn model)`).join(', ')}`]);

    warnings.length = 0;
    const resumed = await train({ resume: second, maxSteps: 8 }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(resumed.step).toBe(8);
    expect(warnings).toEqual([
      `left out of the corpus: ${models.map((path) => `${path} (an rnn model)`).join(', ')}, ${second} (the run's output)`,
    ]);
  });

  it('leaves a train_ddp.py result in a corpus folder (model.safetensors, summary.json) out of the corpus, with a notice', async () => {
    const folder = join(dir, 'with-ddp');
    mkdirSync(join(folder, 'torch'), { recursive: true });
    const text = join(folder, 'text.txt');
    writeFileSync(text, speeches(3000));
    const first = join(dir, 'ddp-start');
    await run({ ...TINY, maxSteps: 1, out: first }, [text]);
    const model = join(folder, 'torch', 'model.safetensors'), summary = join(folder, 'torch', 'summary.json');
    exportState(join(first, 'latest.json'), model);
    writeFileSync(summary, '{\n "ranks": 2,\n "steps": 16,\n "train_losses": [4.17, 4.02]\n}');
    const warnings: string[] = [];
    const out = join(dir, 'ddp-run');
    await train({ ...TINY, maxSteps: 1, out }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(loadCheckpoint(join(out, 'latest.json')).corpus!.files.map((f) => f.path)).toEqual([text]);
    expect(warnings).toEqual([`left out of the corpus: ${model} (an rnn model), ${summary} (train_ddp.py's summary of its run)`]);
  });

  it('leaves a named pipe in a corpus folder out of the corpus, with a notice, where it was left out unnamed', async () => {
    const folder = join(dir, 'with-pipe');
    mkdirSync(folder);
    const text = join(folder, 'text.txt'), pipe = join(folder, 'feed.fifo');
    writeFileSync(text, speeches(3000));
    execFileSync('mkfifo', [pipe]);
    const warnings: string[] = [];
    const out = join(dir, 'pipe-run');
    await train({ ...TINY, maxSteps: 1, out }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(loadCheckpoint(join(out, 'latest.json')).corpus!.files.map((f) => f.path)).toEqual([text]);
    expect(warnings).toEqual([`left out of the corpus: ${pipe} (a named pipe)`]);
  });

  it('resumes a run a signal stopped during an evaluation with that evaluation, as the run went on without it: mid-run and at its end', async () => {
    const entries = (r: TrainResult) => r.history.map((h) => [h.step, h.trainLoss, h.valLoss]);
    const options = { ...TINY, maxSteps: 30, evalEvery: 10, seed: 5 };
    const whole = await train({ ...options, out: freshOut() }, [corpus]);
    const out = freshOut();
    // the signal comes as step 10 ends, so step 10's evaluation sees it at once
    const stopped = await trainUntilStep({ ...options, out }, [corpus], 10);
    expect([stopped.reason, stopped.step, stopped.history.length]).toEqual(['interrupted', 10, 0]);
    const resumed = await train({ resume: out }, []);
    expect(entries(resumed)).toEqual(entries(whole));
    expect(bits(resumed.params)).toEqual(bits(whole.params));

    const ending = { ...TINY, maxSteps: 12, evalEvery: 0, seed: 5 };
    const ended = await train({ ...ending, out: freshOut() }, [corpus]);
    const cut = freshOut();
    await trainUntilStep({ ...ending, out: cut }, [corpus], 12);
    const closed = await train({ resume: cut }, []);
    expect([closed.reason, closed.step]).toEqual(['max-steps', 12]);
    expect(entries(closed)).toEqual(entries(ended));
    await expect(train({ resume: cut }, [])).rejects.toThrow(/has already trained to its end/);
  });

  it('refuses to resume a run at its end naming the step, the epoch and the time it reached, which a larger limit must pass', async () => {
    const ended = await train({ ...TINY, epochs: 1, out: freshOut() }, [corpus]);
    expect(ended.reason).toBe('epochs');
    await expect(train({ resume: ended.latest, epochs: 1 }, [])).rejects.toThrow(
      new RegExp(`has already trained to its end \\(step ${ended.step}, epoch 1\\.00, \\d+s\\): give a larger maxSteps, epochs or time to go on$`));
  });

  it('keeps best and latest agreeing on the best checkpoint when a save fails between them, and resumes from there as the run went on', async () => {
    const options = { ...TINY, maxSteps: 30, evalEvery: 10, seed: 5 };
    const whole = await train({ ...options, out: freshOut() }, [corpus]);
    // step 20's evaluation improves on step 10's, so it writes both checkpoints
    expect(whole.history[1]!.valLoss!).toBeLessThan(whole.history[0]!.valLoss!);
    const out = freshOut();
    // a folder where the save of best.json puts its temp file: every save of best.json after step 10's fails
    const blocker = join(out, `best.json.tmp-${process.pid}`);
    const onEvent = (event: TrainEvent) => {
      if (event.event === 'checkpoint' && event.kind === 'best') mkdirSync(blocker, { recursive: true });
    };
    await expect(train({ ...options, out }, [corpus], { onEvent })).rejects.toThrow(/cannot write checkpoint .*best\.json/);
    const latest = loadCheckpoint(join(out, 'latest.json')), best = loadCheckpoint(join(out, 'best.json'));
    expect(latest.training.bestValLoss).toBe(best.history.at(-1)!.valLoss);
    rmSync(blocker, { recursive: true });
    const resumed = await train({ resume: out }, []);
    expect(bits(resumed.params)).toEqual(bits(whole.params));
    expect(loadCheckpoint(join(out, 'best.json')).weights).toEqual(loadCheckpoint(whole.best!).weights);
  });

  describe('a resumed run whose output holds no best checkpoint', () => {
    const options = { ...TINY, maxSteps: 40, evalEvery: 20 };
    /** A run of 40 steps, evaluated at 20 and 40, and a copy of its folder with best.json kept: both folders. */
    const ranBefore = async () => {
      const out = freshOut(), kept = freshOut();
      await train({ ...options, out }, [corpus]);
      mkdirSync(kept);
      for (const name of ['latest.json', 'best.json']) copyFileSync(join(out, name), join(kept, name));
      return { out, kept };
    };
    // a rate high enough that no evaluation of the resumed run beats the first part's best, while they improve among themselves
    const goOn: TrainOptions = { maxSteps: 120, lr: 1 };

    it.each([
      ['resumed in place, its best.json moved away', (out: string) => {
        rmSync(join(out, 'best.json'));
        return {};
      }],
      ['resumed into a new folder (--out)', () => ({ out: freshOut() })],
    ])('%s: writes the best of its own evaluations, and names that loss as the best, the weights and history as ever', async (_name, where) => {
      const { out, kept } = await ranBefore();
      const record = loadCheckpoint(join(out, 'latest.json')).training.bestValLoss!;
      const { result, events } = await run({ resume: join(out, 'latest.json'), ...goOn, ...where(out) }, []);
      const evals = events.flatMap((e) => (e.event === 'eval' ? [e] : []));
      const lowest = evals.reduce((a, b) => (b.valLoss! < a.valLoss! ? b : a));
      // the case at issue: nothing beats the first part's best, and the best of the resumed run is not its first evaluation
      expect(lowest.valLoss!).toBeGreaterThan(record);
      expect(lowest.step).toBeGreaterThan(evals[0]!.step);
      expect(evals.map((e) => e.improved)).toEqual(evals.map((e, i) => evals.slice(0, i).every((b) => e.valLoss! < b.valLoss!)));

      const best = loadCheckpoint(result.best!), latest = loadCheckpoint(result.latest);
      expect(best.training.step).toBe(lowest.step);
      expect(best.training.bestValLoss).toBe(lowest.valLoss);
      expect(latest.training.bestValLoss).toBe(lowest.valLoss);
      expect(result.bestValLoss).toBe(lowest.valLoss);
      const done = events.find((e): e is DoneEvent => e.event === 'done')!;
      expect([done.best, done.bestValLoss]).toEqual([result.best, lowest.valLoss]);

      // the run that kept its best.json: the same steps, evaluations and generator; only the time taken differs
      const whole = await run({ resume: kept, ...goOn }, []), wholeLatest = loadCheckpoint(whole.result.latest);
      const untimed = (history: typeof latest.history) => history.map((entry) => ({ ...entry, seconds: 0 }));
      expect(bits(result.params)).toEqual(bits(whole.result.params));
      expect(untimed(latest.history)).toEqual(untimed(wholeLatest.history));
      expect(latest.training.rng).toEqual(wholeLatest.training.rng);
    });

    it('stopped before its first evaluation: names no best, and its latest.json records none', async () => {
      const { out } = await ranBefore();
      rmSync(join(out, 'best.json'));
      const { result, events } = await run({ resume: out, ...goOn }, [], 45);
      expect([result.reason, result.step]).toEqual(['interrupted', 45]);
      const done = events.find((e): e is DoneEvent => e.event === 'done')!;
      expect([done.best, done.bestValLoss]).toEqual([null, null]);
      const latest = loadCheckpoint(result.latest);
      expect(latest.training.bestValLoss).toBeNull();
      expect(latest.history.map((h) => h.step)).toEqual([20, 40]);
    });
  });

  it('asks the disk before the first step for no less than its checkpoint file then takes: tensors, vocabulary, corpus and history', async () => {
    // a word-level vocabulary of thousands of words, which the file holds beside the tensors
    const text = join(dir, 'many-words.txt');
    writeFileSync(text, speeches(700_000));
    // 1 % of the text for validation: the history holds its two entries all the same, each evaluation a tenth of the work
    const result = await train({ ...TINY, level: 'word', vocabSize: 12_000, valFrac: 0.01, maxSteps: 4, evalEvery: 2, out: freshOut() }, [text]);
    const ckpt = loadCheckpoint(result.latest);
    expect(ckpt.history).toHaveLength(2);
    const settings = { optimizer: ckpt.optimizer.kind, batch: ckpt.config.training.batchSize };
    // as the run asked before its first step: no history yet
    const asked = checkpointFileBytes(ckpt.config.model, settings, { vocab: ckpt.vocab, corpus: ckpt.corpus, history: [] });
    expect(asked).toBeGreaterThanOrEqual(statSync(result.latest).size);
  });

  it('refuses to overwrite the checkpoints of another run', async () => {
    const out = freshOut();
    const { result } = await run({ ...TINY, maxSteps: 5, out });
    const before = readFileSync(result.latest);
    await expect(run({ ...TINY, maxSteps: 5, out })).rejects.toThrow(/already exists and this run would overwrite it/);
    expect(readFileSync(result.latest)).toEqual(before);
  });

  it('writes a .json --out as a file with a .best.json beside it', async () => {
    const out = join(dir, 'model.json');
    const { result } = await run({ ...TINY, maxSteps: 5, out });
    expect(result.latest).toBe(out);
    expect(result.best).toBe(join(dir, 'model.best.json'));
    expect(loadCheckpoint(result.best!).training.step).toBe(5);
  });

  it('resumes a .json --out into the same file and its .best.json, again and again', async () => {
    const folder = freshOut();
    mkdirSync(folder);
    const out = join(folder, 'model.json');
    await run({ ...TINY, maxSteps: 2, evalEvery: 1, out });
    const second = await run({ resume: out, maxSteps: 4 }, []);
    expect(second.result).toMatchObject({ reason: 'max-steps', latest: out, best: join(folder, 'model.best.json') });
    expect(loadCheckpoint(out).training.step).toBe(4);
    const third = await run({ resume: out, maxSteps: 6 }, []);
    expect(third.result.step).toBe(6);
    expect(readdirSync(folder).filter((name) => name.endsWith('.json')).sort()).toEqual(['model.best.json', 'model.json']);
  });

  it('resumes into the output that wrote the checkpoint: a folder, or a FILE.json whose best is FILE.best.json', () => {
    expect(resumedOut(join('runs', 'a', 'latest.json'))).toBe(join('runs', 'a'));
    expect(resumedOut(join('runs', 'a', 'best.json'))).toBe(join('runs', 'a'));
    expect(resumedOut(join('runs', 'model.json'))).toBe(join('runs', 'model.json'));
    expect(resumedOut(join('runs', 'model.best.json'))).toBe(join('runs', 'model.json'));
    expect(resumedOut(join('runs', 'Model.BEST.json'))).toBe(join('runs', 'Model.json'));
  });

  it('skips a periodic evaluation only when --time ends the run within half an interval after it', () => {
    // 100 s left, evaluations of 10 s, steps of 0.2 s: 400 steps would follow one
    expect(periodicEvalIsRedundant(100, 10, 0.2, 300)).toBe(false);
    expect(periodicEvalIsRedundant(100, 10, 0.2, 800)).toBe(false);
    expect(periodicEvalIsRedundant(100, 10, 0.2, 801)).toBe(true);
    expect(periodicEvalIsRedundant(15, 10, 0.2, 300)).toBe(true);
  });

  it('warns that --dropout does nothing with one layer, and not where it is 0 or has a layer to drop out between', async () => {
    const warned = async (options: TrainOptions): Promise<string[]> => (await trainWarned({ maxSteps: 1, ...options })).warnings;
    expect(await warned({ layers: 1, dropout: 0.2 })).toEqual([
      '--dropout 0.2 does nothing with --layers 1: dropout applies between layers; give --layers 2 or more to use it',
    ]);
    expect(await warned({ layers: 1, dropout: 0 })).toEqual([]);
    expect(await warned({ layers: 2, dropout: 0.2 })).toEqual([]);
  });

  it('warns when a --val-frac given leaves a split that scores fewer tokens than one training step, and not where it scores more, is 0 or is the default', async () => {
    const warned = async (options: TrainOptions): Promise<string[]> => (await trainWarned({ maxSteps: 1, ...options })).warnings;
    const [small] = await warned({ valFrac: 0.005 });
    expect(small).toMatch(/^--val-frac 0\.005 leaves \d+ validation characters, fewer than the 32 a training step scores \(--batch 4 × --seq-len 8\): its loss, and so which checkpoint is best, is mostly noise; raise --val-frac, or give 0 for none$/);
    expect(await warned({ valFrac: 0.1 })).toEqual([]);
    expect(await warned({ valFrac: 0 })).toEqual([]);
    expect(await warned({ batch: 16, seqLen: 32 })).toEqual([]);
  });

  it('evaluates a run with --val-frac 0 at each interval as any other: a sample, and a history entry with no validation loss', async () => {
    const { result, events } = await run({ ...TINY, valFrac: 0, maxSteps: 4, evalEvery: 2, out: freshOut() });
    const evals = events.filter((e) => e.event === 'eval');
    expect(evals.map((e) => [e.step, e.valLoss, e.sample.length > 0])).toEqual([[2, null, true], [4, null, true]]);
    const ckpt = loadCheckpoint(result.latest);
    expect(ckpt.history.map((entry) => [entry.step, entry.valLoss])).toEqual([[2, null], [4, null]]);
  });

  it('tells onEvalProgress how far each evaluation has scored the validation split, rising to 1 before its eval event', async () => {
    const told: Array<number | 'eval'> = [];
    await train({ ...TINY, maxSteps: 40, out: freshOut() }, [corpus], {
      onEvalProgress: (fraction) => told.push(fraction),
      onEvent: (event) => { if (event.event === 'eval') told.push('eval'); },
    });
    const evaluations = told.join(' ').split('eval').slice(0, -1).map((part) => part.trim().split(' ').map(Number));
    expect(evaluations).toHaveLength(2);
    for (const fractions of evaluations) {
      expect(fractions.length).toBeGreaterThan(1);
      expect(fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f > fractions[i - 1]!))).toBe(true);
      expect(fractions.at(-1)).toBe(1);
    }
  });

  it('tells onTokenizingProgress how far the corpus is tokenized, rising to 1 before the start event, at either level', async () => {
    for (const level of ['char', 'word'] as const) {
      const told: Array<number | 'start'> = [];
      await train({ ...TINY, level, maxSteps: 1, out: freshOut() }, [corpus], {
        onTokenizingProgress: (fraction) => told.push(fraction),
        onEvent: (event) => { if (event.event === 'start') told.push('start'); },
      });
      expect(told.at(-1)).toBe('start');
      const fractions = told.slice(0, -1).map(Number);
      expect(fractions.length).toBeGreaterThan(1);
      expect(fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f > fractions[i - 1]!))).toBe(true);
      expect(fractions.at(-1)).toBe(1);
    }
  });

  it('trains on no more workers than the batch has rows, and says so where --workers asked for more', async () => {
    const warnings: string[] = [];
    const events: TrainEvent[] = [];
    const result = await train({ ...TINY, batch: 1, workers: 2, maxSteps: 2, out: freshOut() }, [corpus], {
      onWarning: (warning) => warnings.push(userMessage(warning)!), onEvent: (event) => events.push(event),
    });
    expect(warnings.at(-1)).toBe('--workers 2 is more than --batch 1: each worker trains whole rows of the batch; using 1');
    const start = events.find((event) => event.event === 'start');
    expect(start?.event === 'start' && start.settings.workers).toBe(1);
    expect(loadCheckpoint(result.latest).config.training.workers).toBe(1);
  });

  it('warns once, naming --time, when the closing evaluation cannot end within it', async () => {
    // a microsecond: spent by the two steps that run before the speed is known, so the closing evaluation overruns it
    const { result, warnings } = await trainWarned({ time: 1e-6 });
    expect(result.reason).toBe('time');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(
      '^--time of 0.000001s leaves no room for another step and the closing evaluation, estimated at [\\d.]+s for the validation ' +
        "split's \\d+ characters and two checkpoints of \\d+ KiB: the run stops at step 2 and is likely to end past its --time; give a larger --time or a smaller --val-frac$"));
    expect(loadCheckpoint(result.latest).history.at(-1)?.step).toBe(2);
  });

  it('warns of the closing checkpoint alone where the run has no validation split', async () => {
    const { result, warnings } = await trainWarned({ valFrac: 0, time: 1e-6 });
    expect(result.reason).toBe('time');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(new RegExp(
      '^--time of 0.000001s leaves no room for another step and the closing checkpoint, estimated at [\\d.]+s for a checkpoint of ' +
        '\\d+ KiB: the run stops at step 2 and is likely to end past its --time; give a larger --time$'));
  });

  it('does not warn of an overrun that only a long last step makes: the closing evaluation fitted where that step began', async () => {
    // the clock moves 1 ms each time it is read, and 40 ms more after each step (a pause the step's timing does not see,
    // as a display's or a collector's), so the last step ends up to 40 ms past where the run expected
    const warnings: string[] = [];
    const result = await onReadingClock((advance) => train({ ...TINY, time: 1, evalEvery: 0, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'step') advance(40);
      },
      onWarning: (warning) => warnings.push(userMessage(warning)!),
    }));
    expect(result.reason).toBe('time');
    expect(result.step).toBeGreaterThan(2);
    expect(warnings).toEqual([]);
  });

  it('warns of an overrun when the last step began too late for the closing evaluation, though the run began in time', async () => {
    // the clock moves 1 ms each time it is read, and 1.2 s more after step 1 (a pause): step 2 begins past the 1 s --time
    const warnings: string[] = [];
    const result = await onReadingClock((advance) => train({ ...TINY, time: 1, evalEvery: 0, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'step' && event.step === 1) advance(1200);
      },
      onWarning: (warning) => warnings.push(userMessage(warning)!),
    }));
    expect([result.reason, result.step]).toEqual(['time', 2]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^--time of 1s leaves no room for another step and the closing evaluation, .* the run stops at step 2 /);
  });

  it('keeps within --time the time the closing evaluation takes to write its checkpoints, as the last one took', async () => {
    // the clock moves 1 ms each time it is read, and 100 ms more as each checkpoint is written (a slow disk, a large model)
    let done: TrainEvent | undefined;
    await onReadingClock((advance) => train({ ...TINY, time: 2, evalEvery: 5, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'checkpoint') advance(100);
        if (event.event === 'done') done = event;
      },
    }));
    expect(done).toMatchObject({ reason: 'time' });
    // within --time but for the clock's own reads (a millisecond each), well short of one write: a run that kept no time
    // for the writes ends at 2.256 s
    expect((done as { elapsedSeconds: number }).elapsedSeconds).toBeLessThan(2.01);
  });

  it('keeps within --time the closing checkpoints\' writes of a run too short to have timed one, from their size', async () => {
    // no periodic evaluation; each checkpoint's write moves the clock on by what a file of its size is estimated to take
    // (about 0.25 s for this model), the speed of the steps themselves near nothing: a run that kept no time for the writes
    // ends past its --time by two of them
    const model = { cell: 'gru', layers: 2, hidden: 256, embed: 8, batch: 1, seqLen: 4, workers: 1 } as const;
    let done: TrainEvent | undefined;
    let written = 0;
    await onReadingClock((advance) => train({ ...model, time: 1, evalEvery: 0, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'checkpoint') {
          written = statSync(event.path).size;
          advance(1000 * checkpointWriteSeconds(written));
        }
        if (event.event === 'done') done = event;
      },
    }));
    expect(checkpointWriteSeconds(written)).toBeGreaterThan(0.1);
    expect(done).toMatchObject({ reason: 'time' });
    expect((done as { elapsedSeconds: number }).elapsedSeconds).toBeLessThan(1.01);
  });

  it('keeps within --time the closing checkpoints\' writes on a machine slower than the estimate, from a save it timed early', async () => {
    // as above, but each checkpoint's write takes four times what its size is estimated to take (a loaded machine, a slow
    // disk), about 1 s for this model: a run that budgeted by the estimate ends past its --time by 1.5 s; 3.5 s of --time leave
    // some 80 steps, each a few reads of the clock, between the timed save and the closing ones
    const model = { cell: 'gru', layers: 2, hidden: 256, embed: 8, batch: 1, seqLen: 4, workers: 1 } as const;
    const events: TrainEvent[] = [];
    await onReadingClock((advance) => train({ ...model, time: 3.5, evalEvery: 0, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'checkpoint') advance(4000 * checkpointWriteSeconds(statSync(event.path).size));
        events.push(event);
      },
    }));
    const done = events.at(-1) as DoneEvent;
    expect(done).toMatchObject({ reason: 'time' });
    expect(done.elapsedSeconds).toBeLessThan(3.51);
    // the save after the first step was timed; the closing evaluation still ran and was saved
    const saves = events.filter((event) => event.event === 'checkpoint');
    expect(saves[0]).toMatchObject({ step: 1, kind: 'latest' });
    expect(saves.slice(1).map((event) => event.kind)).toEqual(['best', 'latest']);
    expect(loadCheckpoint(done.latest).history.at(-1)?.step).toBe(done.step);
  });

  it('builds a save\'s checkpoint file once, for best.json and latest.json alike', async () => {
    const checksums = vi.spyOn(integrity, 'checksummedFile');
    try {
      const result = await train({ ...TINY, maxSteps: 1, evalEvery: 0, out: freshOut() }, [corpus]);
      expect(checksums).toHaveBeenCalledTimes(1);
      expect(readFileSync(result.best!, 'utf8')).toBe(readFileSync(result.latest, 'utf8'));
    } finally {
      checksums.mockRestore();
    }
  });

  it('times no early save where its closing writes are a small share of its --time', async () => {
    const events: TrainEvent[] = [];
    await train({ ...TINY, maxSteps: 3, time: 3600, evalEvery: 0, out: freshOut() }, [corpus], { onEvent: (event) => events.push(event) });
    expect(events.filter((event) => event.event === 'checkpoint').map((event) => event.step)).toEqual([3, 3]);
  });

  it('stops at --time, keeping time for the closing evaluation', async () => {
    // the run's clock moves 1 ms each time it is read, so how many steps fit is the same on any machine
    const { result, steps } = await onReadingClock(() => run({ ...TINY, time: 0.3, out: freshOut() }));
    expect(result.reason).toBe('time');
    expect(steps.length).toBeGreaterThan(0);
    const ckpt = loadCheckpoint(result.latest);
    expect(ckpt.training.step).toBe(steps.length);
    expect(ckpt.history.at(-1)?.step).toBe(steps.length); // the closing evaluation ran
    expect(ckpt.training.elapsedSeconds).toBeGreaterThan(0);
    // the cosine schedule follows the clock over the 0.3 s
    const rates = steps.map((e) => e.lr);
    expect(rates.every((lr, i) => lr <= (i === 0 ? TRAIN_DEFAULTS.lr : rates[i - 1]!))).toBe(true);
    expect(rates.at(-1)!).toBeLessThan(rates[0]!);
    expect(ckpt.training.lr).toBeLessThanOrEqual(rates.at(-1)!);
    // its time spent, resumed with the same limits it has nothing left to do; with a longer --time it goes on
    expect(ckpt.training.timeSpent).toBe(true);
    await expect(train({ resume: result.latest }, [])).rejects.toThrow(/has already trained to its end/);
    // the same --time given again is no new limit, though the run stopped short of it to fit its closing evaluation
    expect(ckpt.training.elapsedSeconds).toBeLessThan(0.3);
    // its time written as the progress lines write one
    await expect(train({ resume: result.latest, time: 0.3 }, [])).rejects.toThrow(/has already trained to its end \(step \d+, epoch \d+\.\d\d, 0s\): /);
    const longer = await train({ resume: result.latest, time: 60, maxSteps: steps.length + 2 }, []);
    expect([longer.reason, longer.step]).toEqual(['max-steps', steps.length + 2]);
    expect(loadCheckpoint(longer.latest).training.timeSpent).toBeUndefined();
  });

  it('resumed with a --time it has spent already, gives the closing evaluation it owes and takes no step', async () => {
    const first = await run({ ...TINY, maxSteps: 100, out: freshOut() }, [corpus], 3);
    expect([first.result.reason, first.result.step]).toEqual(['interrupted', 3]);
    const spent = loadCheckpoint(first.result.latest).training.elapsedSeconds;
    const resumed = await run({ resume: first.result.latest, time: spent / 2 }, []);
    expect(resumed.steps).toEqual([]);
    expect([resumed.result.reason, resumed.result.step]).toEqual(['time', 3]);
    const ckpt = loadCheckpoint(resumed.result.latest);
    expect([ckpt.training.step, ckpt.history.at(-1)?.step, ckpt.training.timeSpent]).toEqual([3, 3, true]);
  });

  it('records a --time spent at a periodic evaluation in the one checkpoint that evaluation writes', async () => {
    // the clock moves 1 ms each time it is read, and 100 s more while step 4 is evaluated: the run's time is spent there
    const events: TrainEvent[] = [];
    const result = await onReadingClock((advance) => train({ ...TINY, time: 100, evalEvery: 2, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'eval' && event.step === 4) advance(100_000);
      },
    }));
    expect([result.reason, result.step]).toEqual(['time', 4]);
    const saved = events.filter((e) => e.event === 'checkpoint' && e.kind === 'latest').map((e) => (e as { step: number }).step);
    expect(saved).toEqual([2, 4]);
    const ckpt = loadCheckpoint(result.latest);
    expect([ckpt.training.step, ckpt.history.at(-1)?.step, ckpt.training.timeSpent]).toEqual([4, 4, true]);
    await expect(train({ resume: result.latest }, [])).rejects.toThrow(/has already trained to its end/);
  });

  it('records a --time spent while the checkpoint of an evaluation was written, in a checkpoint saved again as it stops', async () => {
    // the clock moves 1 ms each time it is read, and 100 s more as step 4's checkpoint is written: its evaluation found time
    // left, and the run stops for its --time before step 5
    const events: TrainEvent[] = [];
    const result = await onReadingClock((advance) => train({ ...TINY, time: 100, evalEvery: 2, out: freshOut() }, [corpus], {
      onEvent: (event) => {
        events.push(event);
        if (event.event === 'checkpoint' && event.kind === 'latest' && event.step === 4) advance(100_000);
      },
    }));
    expect([result.reason, result.step]).toEqual(['time', 4]);
    const saved = events.filter((e) => e.event === 'checkpoint' && e.kind === 'latest').map((e) => (e as { step: number }).step);
    expect(saved).toEqual([2, 4, 4]);
    const ckpt = loadCheckpoint(result.latest);
    expect([ckpt.training.step, ckpt.history.at(-1)?.step, ckpt.training.timeSpent]).toEqual([4, 4, true]);
    await expect(train({ resume: result.latest }, [])).rejects.toThrow(/has already trained to its end/);
  });

  it('records no --time spent for a run that reached its --max-steps at an evaluation that found the time run out', async () => {
    // the clock moves 1 ms each time it is read, and 100 s more while step 4, the last, is evaluated
    const result = await onReadingClock((advance) => train({ ...TINY, time: 100, maxSteps: 4, evalEvery: 2, out: freshOut() }, [corpus], {
      onEvent: (event) => void (event.event === 'eval' && event.step === 4 && advance(100_000)),
    }));
    expect([result.reason, result.step]).toEqual(['max-steps', 4]);
    const ckpt = loadCheckpoint(result.latest);
    expect([ckpt.training.step, ckpt.history.at(-1)?.step, ckpt.training.timeSpent]).toEqual([4, 4, undefined]);
  });
});

describe('the learning rate schedule', () => {
  it('falls along a half cosine from lr to 0 over the run, held at either end, or by a factor each epoch', () => {
    expect([-0.5, 0, 0.5, 1, 1.5].map((done) => scheduledLr('cosine', 0.004, 0.8, 3, done))).toEqual([0.004, 0.004, 0.002, 0, 0]);
    expect(scheduledLr('cosine', 0.004, 0.8, 0, 0.25)).toBeCloseTo(0.004 * (0.5 + Math.SQRT1_2 / 2), 15);
    expect([0, 1, 2].map((epoch) => scheduledLr('epoch', 0.004, 0.5, epoch, 0.9))).toEqual([0.004, 0.002, 0.001]);
  });

  it('takes --lr-decay only with the epoch schedule, in one line naming both flags', () => {
    expect(() => freshSettings(parseOptions({ lrDecay: '0.5' }))).toThrow(
      'lrDecay applies to lrSchedule epoch only: the cosine schedule takes the learning rate from lr to 0 over the run ' +
        '(give lrSchedule epoch to decay by epoch)');
    expect(freshSettings(parseOptions({ lrDecay: '0.5', lrSchedule: 'epoch' }))).toMatchObject({ lrDecay: 0.5, lrSchedule: 'epoch' });
  });
});

describe('training options as flags give them', () => {
  it('reads a --time duration in s, m and h, or a bare number as seconds, and nothing else', () => {
    expect([parseDuration('90s'), parseDuration('3m'), parseDuration('1h'), parseDuration('1h30m'), parseDuration('45')]).toEqual([
      90, 180, 3600, 5400, 45,
    ]);
    expect([parseDuration('5x'), parseDuration(''), parseDuration('m')]).toEqual([null, null, null]);
  });

  it('reads each unit of a --time duration as a decimal, and 0 as no time', () => {
    expect([parseDuration('1.5h'), parseDuration('0.5m'), parseDuration('1.5h30m'), parseDuration('2.5s')]).toEqual([
      1.5 * 3600, 0.5 * 60, 1.5 * 3600 + 30 * 60, 2.5,
    ]);
    expect([parseDuration('0'), parseDuration('0s'), parseDuration('0h0m')]).toEqual([0, 0, 0]);
  });

  it('reads a number after a unit, with none of its own, in the next smaller unit', () => {
    expect([parseDuration('1m30'), parseDuration('2h30'), parseDuration('2h30s'), parseDuration('1h2m3')]).toEqual([
      90, 9000, 7230, 3723,
    ]);
  });

  it('refuses a bad value in one message naming the flag and what is valid', () => {
    const message = (input: Record<string, unknown>) => {
      try {
        parseOptions(input);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(SettingError);
        return userMessage(err);
      }
    };
    expect(message({ cell: 'foo' })).toBe('--cell: must be one of lstm, gru, rnn (got foo)');
    // a choice's flag given a number: the text as typed, never as the number it reads as, nor asked to be finite
    expect(message({ cell: '1e999' })).toBe('--cell: must be one of lstm, gru, rnn (got "1e999")');
    expect(message({ cell: '1e3' })).toBe('--cell: must be one of lstm, gru, rnn (got "1e3")');
    expect(message({ hidden: '0' })).toBe('--hidden: must be a positive integer (got 0)');
    // the range rnn sample states for its --seed too
    expect(message({ seed: '-1' })).toBe('--seed: must be an integer from 0 to 4294967295 (got -1)');
    expect(message({ lr: '-1' })).toBe('--lr: must be a number > 0 (got -1)');
    expect(message({ dropout: '1' })).toBe('--dropout: must be a number in [0, 1) (got 1)');
    expect(message({ lrDecay: '0' })).toBe('--lr-decay: must be a number in (0, 1] (got 0)');
    expect(message({ clip: '-1' })).toBe('--clip: must be a number >= 0; 0: off (got -1)');
    expect(message({ evalEvery: '1.5' })).toBe('--eval-every: must be an integer >= 0 (got 1.5)');
    expect(message({ seqLen: '2.5' })).toBe('--seq-len: must be a positive integer (got 2.5)');
    expect(message({ batch: 'many' })).toBe('--batch: must be a positive integer (got many)');
    expect(message({ epochs: '1e99', maxSteps: '1e99' })).toBe('--epochs: must be a positive integer up to 9007199254740991 (got 1e+99)');
    expect(message({ seed: '1e99' })).toBe('--seed: must be an integer from 0 to 4294967295 (got 1e+99)');
    const duration = 'a positive duration up to 8760h (a year) such as 90s, 3m, 1h or 1h30m, or a number of seconds';
    expect(message({ time: '5x' })).toBe(`--time: must be ${duration} (got 5x)`);
    expect(message({ time: '0' })).toBe(`--time: must be ${duration} (got 0)`);
    expect(message({ time: '1e99' })).toBe(`--time: must be ${duration} (got 1e+99)`);
    expect(message({ time: '8760h1s' })).toBe(`--time: must be ${duration} (got 8760h1s)`);
    expect(parseOptions({ time: '8760h' })).toEqual({ timeSeconds: 8760 * 3600 });
    // `--time 3` is three seconds, not minutes: the help says what a bare number means
    expect(RUN_OPTIONS.time.help).toMatch(/a number alone: seconds/);
    expect(parseOptions({ clip: '0', hidden: '32', time: '2m' })).toEqual({ clip: null, hidden: 32, timeSeconds: 120 });
  });
});

describe('defaultEvalEvery', () => {
  it('keeps validation near a tenth of the training time, in hundreds of steps', () => {
    // tinyshakespeare's 111,540 validation characters at B = 25, T = 50: 297.4 → 300
    expect(defaultEvalEvery(111_540, 25, 50)).toBe(300);
    // the bundled corpus's 284,575: 759 → 800
    expect(defaultEvalEvery(284_575, 25, 50)).toBe(800);
    expect(defaultEvalEvery(1_000, 4, 8)).toBe(200); // 104.2 → 200
    expect(defaultEvalEvery(200, 4, 8)).toBe(100); // at least a hundred
  });
});
