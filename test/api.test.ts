import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { CheckpointError, Model, StoppedError, loadModel } from '../src/api/index.js';
import { exportState } from '../src/checkpoint/convert.js';
import { beamSearch } from '../src/generate/beam.js';
import { sampleText } from '../src/generate/sample.js';
import { scoreTokens } from '../src/generate/score.js';
import { SCORE_FIELDS } from '../src/serve/requests.js';
import { Stepper } from '../src/engine/stepper.js';
import { InferenceShard } from '../src/parallel/inference.js';
import { threadsRunning } from '../src/parallel/threads.js';
import { createProgram } from '../src/cli/main.js';
import { EOS, UNK, Vocabulary } from '../src/text/vocab.js';
import type { ModelConfig } from '../src/engine/config.js';
import type { HistoryEntry } from '../src/checkpoint/schema.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { stepsPerEpoch } from '../src/text/batches.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { collect } from './helpers/generation.js';
import { EVAL_GRU } from './helpers/fixtures.js';
import { modelOf } from './helpers/model.js';
import { thrownBy } from './helpers/thrown.js';

/**
 * The library API (`import { loadModel } from 'rnn'`) on the GRU 2×128 fixture: each call
 * against the functions it wraps, overlapping calls, and a signal that stops them.
 */
/** Worker threads this file's calls have started, each a Worker of node:worker_threads counted; one past `most` is refused. */
const threads = vi.hoisted(() => ({ started: 0, most: Infinity }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:worker_threads')>();
  class CountedWorker extends actual.Worker {
    constructor(...args: ConstructorParameters<typeof actual.Worker>) {
      if (threads.started === threads.most) throw new Error(`more than ${threads.most} worker threads started`);
      super(...args);
      threads.started++;
    }
  }
  return { ...actual, Worker: CountedWorker };
});

/**
 * At least two cores, so that calls start, keep and close worker threads on any machine (on one
 * core as many as asked take turns): the machine's own count where it has more.
 */
vi.mock('node:os', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:os')>();
  return { ...actual, availableParallelism: () => Math.max(2, actual.availableParallelism()) };
});

/** A full garbage collection, now (V8's `gc`, exposed to a fresh context). */
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const scratch = scratchFolder('rnn-api-');
let model: Model;

beforeAll(async () => {
  const path = join(scratch.dir, 'gru.json');
  const imported = await rnnIn(scratch.dir, ['import', EVAL_GRU, '--out', path]);
  expect(imported.status).toBe(0);
  model = loadModel(path, { kernels: 'js' });
});

/** A signal that fires at its `at`-th read, counting them, for `reason` where one is given. */
const firesAt = (at: number, reason?: unknown) => ({ reads: 0, reason, get aborted() { return ++this.reads >= at; } });

describe('loadModel', () => {
  it('loads a run folder as the command line does: its best.json, else its latest.json', () => {
    const run = join(scratch.dir, 'run');
    mkdirSync(run);
    copyFileSync(join(scratch.dir, 'gru.json'), join(run, 'latest.json'));
    expect(loadModel(run, { kernels: 'js' }).scoreSync('To be').logProb).toBe(model.scoreSync('To be').logProb);
    // a folder that holds the run folder, not a run of its own
    expect(() => loadModel(scratch.dir)).toThrow(`${scratch.dir} is a folder of runs, not a run (${run}/`);
  });

  it('what is no checkpoint is a CheckpointError of one line naming the path: missing, empty, cut short, a prepared folder, an export', () => {
    const at = (name: string) => join(scratch.dir, 'not-models', name);
    mkdirSync(at('prepared'), { recursive: true });
    writeFileSync(at('empty.json'), '');
    writeFileSync(at('cut.json'), readFileSync(join(scratch.dir, 'gru.json')).subarray(0, 1000));
    writeFileSync(at('prepared/meta.json'), '{}');
    writeFileSync(at('prepared/train.bin'), '');
    exportState(join(scratch.dir, 'gru.json'), at('gru.safetensors'));
    for (const [name, says] of [
      ['missing.json', /^checkpoint not found: \S+missing\.json; name a checkpoint or a run folder/],
      ['empty.json', /^\S+empty\.json is empty \(0 bytes\), not JSON/],
      ['cut.json', /^\S+cut\.json is not JSON: .*it ends mid-way/],
      ['prepared', /^\S+prepared is a folder with no checkpoint in it, .*\(a prepared folder: data to train on, not a model\)/],
      ['gru.safetensors', /^\S+gru\.safetensors is a model file, not a checkpoint: convert it with `rnn import /],
    ] as const) {
      const { message } = thrownBy(() => loadModel(at(name)), CheckpointError);
      expect(message, name).toMatch(says);
      expect(message, name).not.toContain('\n');
    }
  });

  it('a checkpoint file named with a / after it, as a folder, is refused saying it is a file, not as a checkpoint not there', () => {
    const file = join(scratch.dir, 'gru.json');
    const { message } = thrownBy(() => loadModel(`${file}/`), CheckpointError);
    expect(message).toBe(`checkpoint not found: ${file}/; ${file} is a file, not a folder: name it without the / after it`);
  });

  it('new Model given a path, or anything but a loaded checkpoint, is a TypeError saying to call loadModel, not a failure at its first use', () => {
    for (const given of ['run/best.json', undefined, {}, { path: 'run/best.json' }]) {
      const { message } = thrownBy(() => new Model(given as never), TypeError);
      expect(message).toMatch(/^loaded: must be a loaded checkpoint: make a Model with loadModel\(path\), not new Model \(got .+\)$/);
    }
  });

  it('generate: the pieces sampleText draws, one token each; overlapping generations do not disturb each other', async () => {
    const options = { prime: 'ROMEO:', len: 80, temperature: 0.9, topK: 20, seed: 11 };
    const stepper = new Stepper(model.config, model.loaded.params, 'js');
    const expected = sampleText({ config: model.config, params: model.loaded.params, vocab: model.vocab, ...options, length: 80, stepper });
    const [a, b] = await Promise.all([collect(model.generate(options)), collect(model.generate({ ...options, seed: 12 }))]);
    expect(a).toHaveLength(80);
    expect(a.join('')).toBe(expected);
    expect(b.join('')).not.toBe(expected);
    expect((await collect(model.generate({ ...options, workers: 2 }))).join('')).toBe(expected);
  });

  it('workers far beyond the cores: threads for the cores alone (more would only take turns), the text and score as one thread\'s', async () => {
    const options = { prime: 'ROMEO:', len: 5, seed: 3 };
    const alone = (await collect(model.generate(options))).join(''), scored = model.scoreSync('To be').lossSum;
    await model.closeThreads();
    // the calling thread runs the first share of each step; the score takes the threads the generation kept
    const before = threads.started, expected = availableParallelism() - 1;
    threads.most = before + expected;
    try {
      expect((await collect(model.generate({ ...options, workers: 10_000 }))).join('')).toBe(alone);
      expect((await model.score('To be', { workers: 10_000 })).lossSum).toBe(scored);
    } finally {
      threads.most = Infinity;
    }
    expect(threads.started - before).toBe(expected);
  });

  it('overlapping calls with workers share the cores: one whose threads would find every core taken runs on its own thread', async () => {
    const options = { prime: 'ROMEO:', len: 5 };
    const alone = await Promise.all([1, 2, 3, 4].map(async (seed) => (await collect(model.generate({ ...options, seed }))).join('')));
    await model.closeThreads();
    const spare = availableParallelism() - 1, before = threads.started;
    const together = await Promise.all([1, 2, 3, 4].map(async (seed) => (await collect(model.generate({ ...options, seed, workers: 10_000 }))).join('')));
    expect(together).toEqual(alone);
    expect(threads.started - before).toBe(spare);
    // their threads kept asleep once they end, not counted as running: the next call has the cores again, on them
    await model.score('To be', { workers: 10_000 });
    expect(threads.started - before).toBe(spare);
  });

  it('a generation dropped unfinished (no break, no return()) ends its threads once it is collected: the next call has the cores again', async () => {
    await model.closeThreads();
    const spare = availableParallelism() - 1, before = threads.started;
    /** Takes two pieces of a generation on every core and forgets it. */
    const dropAfterTwo = async () => {
      const pieces = model.generate({ prime: 'ROMEO:', len: 50, seed: 1, workers: 10_000 });
      await pieces.next();
      await pieces.next();
      expect(threadsRunning()).toBe(spare);
    };
    await dropAfterTwo();
    for (let collections = 0; collections < 10 && threadsRunning() > 0; collections++) {
      collectGarbage();
      await new Promise(setImmediate); // finalizers run as tasks of their own
    }
    expect(threadsRunning()).toBe(0);
    await model.score('To be', { workers: 10_000 });
    expect(threads.started - before).toBe(2 * spare);
  });

  it('a call with workers keeps its threads for the next call on as many: started once, asleep between calls, each call\'s text and score one thread\'s', async () => {
    const kept = loadModel(join(scratch.dir, 'gru.json'), { kernels: 'js' });
    const options = { prime: 'ROMEO:', len: 20, seed: 5 };
    const alone = (await collect(kept.generate(options))).join(''), scored = kept.scoreSync('To be, or not').lossSum;
    const spare = availableParallelism() - 1, before = threads.started;
    for (let call = 0; call < 2; call++) {
      expect((await collect(kept.generate({ ...options, workers: 10_000 }))).join('')).toBe(alone);
      expect((await kept.score('To be, or not', { workers: 10_000 })).lossSum).toBe(scored);
      // a generation left by return() (as by break) gives its threads back too
      const left = kept.generate({ ...options, workers: 10_000 });
      expect((await left.next()).value).toBe(alone[0]);
      await left.return();
    }
    expect(threads.started - before).toBe(spare);
    expect(threadsRunning()).toBe(0);
    // closed now: the next call starts threads again
    await kept.closeThreads();
    expect((await kept.score('To be, or not', { workers: 10_000 })).lossSum).toBe(scored);
    expect(threads.started - before).toBe(2 * spare);
  });

  it('kept threads asleep take no core: two models\' of them leave a third model every core, and are there for their own next calls', async () => {
    const [a, b, c] = [1, 2, 3].map(() => loadModel(join(scratch.dir, 'gru.json'), { kernels: 'js' }));
    const spare = availableParallelism() - 1, before = threads.started;
    await a!.score('To be', { workers: 10_000 });
    await b!.score('To be', { workers: 10_000 });
    expect(threadsRunning()).toBe(0);
    const pieces = c!.generate({ prime: 'ROMEO:', len: 5, seed: 1, workers: 10_000 });
    await pieces.next();
    expect(threadsRunning()).toBe(spare);
    expect(threads.started - before).toBe(3 * spare);
    await pieces.return();
    await a!.score('To be', { workers: 10_000 });
    await b!.score('To be', { workers: 10_000 });
    expect(threads.started - before).toBe(3 * spare);
  });

  it('kept threads after a call stopped by its signal, or ended by its callback\'s error, serve the next call from the zero state; failed ones are closed', async () => {
    const kept = loadModel(join(scratch.dir, 'gru.json'), { kernels: 'js' });
    const text = 'To be, or not to be', scored = kept.scoreSync(text).lossSum;
    const spare = availableParallelism() - 1, before = threads.started;
    await expect(kept.score(text, { workers: 10_000, signal: firesAt(5) })).rejects.toThrow(StoppedError);
    await expect(kept.score(text, { workers: 10_000, onProgress: (f) => { if (f > 0.5) throw new Error('enough'); } })).rejects.toThrow('enough');
    expect((await kept.score(text, { workers: 10_000 })).lossSum).toBe(scored);
    expect(threads.started - before).toBe(spare);
    // shard 0, on this thread, fails at the call's first step: its threads give up, closed, not kept
    vi.spyOn(InferenceShard.prototype, 'run').mockImplementationOnce(() => { throw new Error('shard 0 failed'); });
    await expect(kept.score(text, { workers: 10_000 })).rejects.toThrow('shard 0 failed');
    expect(threadsRunning()).toBe(0);
    expect((await kept.score(text, { workers: 10_000 })).lossSum).toBe(scored);
    expect(threads.started - before).toBe(2 * spare);
  });

  it('a program whose model keeps threads asleep still exits, with status 0', () => {
    const api = new URL('../dist/src/api/index.js', import.meta.url).href;
    const program = `import { loadModel } from ${JSON.stringify(api)};
      const model = loadModel(${JSON.stringify(join(scratch.dir, 'gru.json'))}, { kernels: 'js' });
      let text = '';
      for await (const piece of model.generate({ prime: 'ROMEO:', len: 5, seed: 1, workers: 2 })) text += piece;
      console.log((await model.score(text, { workers: 2 })).predictions);`;
    const script = join(scratch.dir, 'kept-threads.mjs');
    writeFileSync(script, program);
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^\d+\n$/);
    expect(run.status).toBe(0);
  });

  it('generatePieces: generate\'s pieces, each drawn <EOS>\'s marked, its text what parts two of the model\'s documents', async () => {
    // a model over "abcd" that draws <EOS> often: a piece of a line break or a space is one
    const config: ModelConfig = { cell: 'lstm', vocabSize: 6, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
    const params = initParams(config, new Rng(3));
    params[paramLayout(config).byName.get('head.bias')!.offset + EOS] = 1.5;
    for (const [docs, separator] of [['file', '\n'], ['blank', '\n\n'], ['sentence', ' ']] as const) {
      const vocab = Vocabulary.fromTokens(['<EOS>', '<UNK>', 'a', 'b', 'c', 'd'], 'char', WORD_RULE_VERSION, { docs, sentenceRule: SENTENCE_RULE_VERSION });
      const toy = modelOf(config, params, vocab, 'js', 'toy.json');
      const options = { prime: 'ab', len: 60, seed: 5 };
      const pieces = await collect(toy.generatePieces(options));
      expect(pieces.map((p) => p.text)).toEqual(await collect(toy.generate(options)));
      expect(pieces.filter((p) => p.eos).length, docs).toBeGreaterThan(3);
      for (const piece of pieces) expect(piece, docs).toEqual({ text: piece.eos ? separator : expect.stringMatching(/^[abcd]$/), eos: piece.eos });
    }
  });

  it('overlapping calls share one copy of the weights: the model keeps a stepper a call at the peak, each beyond the first only a state', async () => {
    const fresh = loadModel(join(scratch.dir, 'gru.json'), { kernels: 'js' });
    const overlapping = (calls: number) => Promise.all(Array.from({ length: calls }, (_, seed) => collect(fresh.generate({ prime: 'To', len: 3, seed }))));
    expect(fresh.stepperMemory).toEqual({ steppers: 0, bytes: 0 });
    await overlapping(1);
    const one = fresh.stepperMemory.bytes;
    await overlapping(2);
    const state = fresh.stepperMemory.bytes - one;
    expect(state * 20).toBeLessThan(fresh.loaded.params.byteLength);
    await overlapping(40);
    expect(fresh.stepperMemory).toEqual({ steppers: 40, bytes: one + 39 * state });
    await Promise.all([overlapping(30), fresh.score('To be'), fresh.activations('To be', 1), fresh.complete({ prime: 'To', len: 3, n: 2 })]);
    expect(fresh.stepperMemory.steppers).toBe(40);
  });

  it('complete: n samples of one prime, each the one generate draws with seed, seed + 1, …', async () => {
    const options = { prime: 'ROMEO:\nWhat say you?', len: 40, temperature: 0.9, topP: 0.95, stopAtEos: true, seed: 0xffffffff };
    const expected = [];
    for (const seed of [0xffffffff, 0, 1, 2]) expected.push((await collect(model.generate({ ...options, seed }))).join(''));
    expect(await model.complete({ ...options, n: 4 })).toEqual(expected);
    expect(new Set(expected).size).toBe(4);
    expect(() => model.completeSync({ ...options, n: 4, signal: firesAt(30) })).toThrow(StoppedError);
    expect(() => model.completeSync({ ...options } as never)).toThrow('n: is missing: give the number of samples');
    await expect(model.complete({ ...options, n: 0 })).rejects.toThrow(/^n: must be a positive integer \(got 0\)$/);
    expect(() => model.completeSync({ ...options, n: 2.5 })).toThrow(/^n: must be a positive integer \(got 2\.5\)$/);
    expect(() => model.completeSync({ ...options, n: 2, workers: 2 } as never)).toThrow(/^unknown option workers: an option of generate\(\) or score\(\); the valid ones: prime, /);
  });

  it('complete: an n past the samples one call returns (one array) is a RangeError naming n, not an end of the process', async () => {
    // aborted, so that a call that took the n would stop before its first step rather than draw them
    const options = { prime: 'To', len: 1, signal: AbortSignal.abort() };
    const message = /^n: must be at most 67108864, the most samples one call returns \(got 1000000000\)$/;
    await expect(model.complete({ ...options, n: 1e9 })).rejects.toThrow(expect.objectContaining({ name: 'RangeError', message: expect.stringMatching(message) }));
    expect(() => model.completeSync({ ...options, n: 1e9 })).toThrow(RangeError);
    expect(() => model.completeSync({ ...options, n: 1e9 })).toThrow(message);
    await expect(model.complete({ ...options, n: 2 ** 26 })).rejects.toThrow(StoppedError);
  });

  it('generate: a signal stops it before its next token', async () => {
    const signal = { aborted: false };
    const pieces: string[] = [];
    for await (const piece of model.generate({ len: 1000, seed: 1, signal })) {
      pieces.push(piece);
      if (pieces.length === 5) signal.aborted = true;
    }
    expect(pieces).toHaveLength(5);
  });

  it('a signal stops a generation and a beam search while they read the prime, and a beam search between tokens', async () => {
    const prime = 'ROMEO: '.repeat(200);
    const generation = firesAt(10);
    expect(await collect(model.generate({ prime, len: 50, seed: 1, signal: generation }))).toEqual([]);
    expect(generation.reads).toBe(10);
    for (const at of [10, prime.length + 5]) {
      const search = firesAt(at);
      await expect(model.beam({ prime, beam: 4, len: 50, signal: search })).rejects.toThrow(StoppedError);
      expect(search.reads).toBe(at);
    }
  });

  it('StoppedError\'s cause is the signal\'s reason (a timeout told from a cancel), aborted before the call, in the prime or between tokens', async () => {
    const cancelled = new Error('the user cancelled'), prime = 'ROMEO:', len = 5;
    const stopped = [
      await model.complete({ prime, n: 2, len: 5, signal: AbortSignal.abort(cancelled) }).catch((err: unknown) => err),
      await model.score(prime, { signal: AbortSignal.abort(cancelled) }).catch((err: unknown) => err),
      // in the prime, and between drawn tokens
      ...[3, prime.length + 5].map((at) => thrownBy(() => model.completeSync({ prime, n: 2, len, signal: firesAt(at, cancelled) }), Error)),
      thrownBy(() => model.beamSync({ prime, beam: 2, len: 5, signal: firesAt(prime.length + 3, cancelled) }), Error),
      thrownBy(() => model.activationsSync(prime, 0, { signal: firesAt(3, cancelled) }), Error),
    ];
    expect(stopped.map((err) => [err instanceof StoppedError, (err as Error).cause])).toEqual(Array(6).fill([true, cancelled]));
    // a signal with no reason: a StoppedError with no cause
    expect(thrownBy(() => model.scoreSync(prime, { signal: { aborted: true } }), StoppedError)).not.toHaveProperty('cause');
  });

  it('score and activations: each token\'s text as the text writes it, one the model lacks (<UNK>) included', async () => {
    const text = 'ROMEO: héllo 😀 ☃ world';
    const scored = await model.score(text);
    expect(scored.tokens.map((t) => t.text).join('')).toBe(text);
    expect(scored.tokens.filter((t) => t.token === '<UNK>').map((t) => t.text)).toEqual(['é', '😀', '☃']);
    const units = await model.activations(text, 0);
    expect(units.tokens.join('')).toBe(text);
    // each named as the score names it: the tokens the model lacks as <UNK>
    expect(units.names).toEqual(scored.tokens.slice(0, -1).map((t) => t.token));
    expect(units.names.filter((name) => name === '<UNK>')).toHaveLength(3);
  });

  it('bad options: a RangeError that names the option as the library spells it', async () => {
    await expect(collect(model.generate({ len: 0 }))).rejects.toThrow(/^len: must be a positive integer \(got 0\)$/);
    await expect(model.beam({ beam: 2, len: 0 })).rejects.toThrow(/^len: must be a positive integer \(got 0\)$/);
    await expect(collect(model.generate({ topK: 0 }))).rejects.toThrow(/^topK: must be a positive integer \(got 0\)$/);
    await expect(collect(model.generate({ unk: 'bogus' as 'show' }))).rejects.toThrow(/^unk: .*resample.*show/);
    await expect(collect(model.generate({ stopAtEos: 'yes' as unknown as boolean }))).rejects.toThrow(/^stopAtEos: /);
    // a string where a number is taken is shown quoted, never as the number it reads like
    await expect(collect(model.generate({ topP: '0.5' as unknown as number }))).rejects.toThrow('topP: must be a number in (0, 1] (got "0.5")');
    await expect(collect(model.generate({ temperature: 'hot' as unknown as number }))).rejects.toThrow('temperature: must be a number >= 0 (got hot)');
    // a score's alternatives capped as the server's /v1/score caps them, never every token at every prediction
    await expect(model.score('ab', { top: 1e9 })).rejects.toThrow(new RangeError('top: must be an integer from 0 to 10 (got 1000000000)'));
    expect(() => model.scoreSync('ab', { top: 11 })).toThrow(new RangeError('top: must be an integer from 0 to 10 (got 11)'));
    expect(SCORE_FIELDS.top.expected).toBe('an integer from 0 to 10');
    expect(model.scoreSync('ab', { top: 10 }).tokens.map((t) => t.top.length)).toEqual([10, 10, 10]);
    // a beam that no memory holds is a bad value too
    const tooLong = model.beam({ beam: 2, len: 1e12 });
    await expect(tooLong).rejects.toBeInstanceOf(RangeError);
    await expect(tooLong).rejects.toThrow(/^len 1000000000000 with beam 2: it needs about .*; len \d+ is the longest that fits with this model and beam$/);
  });

  it('a JavaScript caller\'s wrong types: options that are not an object, a flag not a boolean, onText not a function, each named', async () => {
    const untyped = model as unknown as Record<string, (...args: unknown[]) => unknown>;
    const notAnObject = /^options: must be a plain object of options by name: .* \(got (missing|null)\)$/;
    await expect(untyped.complete!.call(model)).rejects.toThrow(notAnObject);
    await expect(untyped.complete!.call(model, null)).rejects.toThrow(notAnObject);
    expect(() => untyped.completeSync!.call(model)).toThrow(notAnObject);
    await expect(untyped.activations!.call(model, 'ab', 0, null)).rejects.toThrow(notAnObject);
    expect(() => untyped.activationsSync!.call(model, 'ab', 0, null)).toThrow(notAnObject);
    await expect(model.score('ab', { tokens: 'no' as unknown as boolean })).rejects.toThrow('tokens: must be true or false (got no)');
    await expect(model.beam({ beam: 2, len: 2, stopAtEos: 'yes' as unknown as boolean })).rejects.toThrow('stopAtEos: must be true or false (got yes)');
    await expect(model.beam({ beam: 2, len: 2, onText: 5 as unknown as () => void })).rejects.toThrow('onText: must be a function (got 5)');
    await expect(model.beam({ beam: 2, len: 2, onWarning: 5 as unknown as () => void })).rejects.toThrow('onWarning: must be a function (got 5)');
    await expect(model.generate({ len: 2, onWarning: 'warn' as unknown as () => void }).next()).rejects.toThrow('onWarning: must be a function (got warn)');
    expect(() => model.completeSync({ n: 2, len: 2, onWarning: {} as unknown as () => void })).toThrow(new TypeError('onWarning: must be a function (got an object)'));
    await expect(model.score('ab', { onProgress: 5 as unknown as () => void })).rejects.toThrow('onProgress: must be a function (got 5)');
    expect(() => model.scoreSync('ab', { onProgress: 'x' as unknown as () => void })).toThrow(new TypeError('onProgress: must be a function (got x)'));
    // a text's tokens built by hand: each <UNK>'s text a string, else it would be a scored token's text or a unit's
    const notTexts = new TypeError('text.unknown: must be an array of strings, as tokenize makes it (got an array of 1)');
    await expect(model.score({ text: 'a', ids: Int32Array.of(UNK), unknown: [5] as never })).rejects.toThrow(notTexts);
    await expect(model.activations({ text: 'a', ids: Int32Array.of(UNK), unknown: [5] as never }, 0)).rejects.toThrow(notTexts);
    expect(() => model.scoreSync({ text: 'a', ids: Int32Array.of(UNK), unknown: 'x' as never })).toThrow(
      new TypeError('text.unknown: must be an array of strings, as tokenize makes it (got x)'));
  });

  it('an option given as null is refused naming it, as /v1/generate refuses it, never read as the option left out', async () => {
    const given = <T>(value: null): T => value as T;
    await expect(collect(model.generate({ len: given(null) }))).rejects.toThrow(new RangeError('len: must be a positive integer (got null)'));
    await expect(collect(model.generate({ temperature: given(null) }))).rejects.toThrow(new RangeError('temperature: must be a number >= 0 (got null)'));
    await expect(collect(model.generate({ seed: given(null) }))).rejects.toThrow(/^seed: must be an integer from 0 to 4294967295 \(got null\)$/);
    await expect(collect(model.generate({ workers: given(null) }))).rejects.toThrow(/^workers: must be a positive integer \(got null\)$/);
    await expect(collect(model.generate({ prime: given(null) }))).rejects.toThrow(new TypeError('prime: must be a string, or what tokenize made of one (got null)'));
    await expect(model.complete({ n: 1, len: given(null) })).rejects.toThrow(/^len: must be a positive integer \(got null\)$/);
    await expect(model.beam({ beam: 2, len: given(null) })).rejects.toThrow(/^len: must be a positive integer \(got null\)$/);
    await expect(model.beam({ beam: 2, len: 2, stopAtEos: true, lengthPenalty: given(null) })).rejects.toThrow(/^lengthPenalty: must be a number >= 0 \(got null\)$/);
    await expect(model.score('ab', { workers: given(null) })).rejects.toThrow(/^workers: must be a positive integer \(got null\)$/);
  });

  it('score tells onProgress the fraction of its predictions made after each, ending at 1; scoreSync alike', async () => {
    const text = 'Now is the winter';
    const fractions: number[] = [];
    const score = await model.score(text, { tokens: false, onProgress: (fraction) => fractions.push(fraction) });
    expect(fractions).toEqual(Array.from({ length: score.predictions }, (_, i) => (i + 1) / score.predictions));
    const synced: number[] = [];
    expect(model.scoreSync(text, { onProgress: (fraction) => synced.push(fraction) }).lossSum).toBe(score.lossSum);
    expect(synced).toEqual(fractions);
  });

  it('score: the loss scoreTokens gives, and each prediction ln p with the top alternatives', async () => {
    const text = 'Now is the winter of our discontent';
    const score = await model.score(text, { top: 3 });
    const expected = scoreTokens(model.config, model.loaded.params, model.vocab.encode(text), new Stepper(model.config, model.loaded.params, 'js'));
    expect(score.lossSum).toBeCloseTo(expected.lossSum, 9);
    expect(score.predictions).toBe(text.length + 1);
    expect(score.logProb).toBeCloseTo(-expected.lossSum, 9);
    expect(score.tokens.map((t) => t.token).join('')).toBe(`${text}<EOS>`);
    // the first prediction by hand: ln softmax(z)[target] after reading <EOS>
    const stepper = new Stepper(model.config, model.loaded.params, 'js');
    const z = stepper.advance(EOS), max = Math.max(...z), lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    expect(score.tokens[0]!.logProb).toBeCloseTo(z[model.vocab.idOf('N')]! - lse, 5);
    const ranked = [...z].map((v, id) => ({ v, id })).sort((a, b) => b.v - a.v).slice(0, 3);
    expect(score.tokens[0]!.top.map((a) => a.token)).toEqual(ranked.map((r) => model.vocab.tokens[r.id]));
    const totals = await model.score(text, { tokens: false, workers: 2 });
    expect(totals.tokens).toEqual([]);
    expect(totals.lossSum).toBeCloseTo(expected.lossSum, 4);
    expect(thrownBy(() => model.scoreSync(text, { signal: { aborted: true } }), StoppedError).name).toBe('StoppedError');
    // top 0, the default, given: no alternatives
    expect(model.scoreSync(text, { top: 0 })).toEqual(model.scoreSync(text));
  });

  it('score: a top past a small vocabulary (DNA\'s A C G T) lists its every token once, largest first, their probabilities summing to 1', () => {
    const bases = ['<EOS>', '<UNK>', 'A', 'C', 'G', 'T'];
    const config: ModelConfig = { cell: 'gru', vocabSize: bases.length, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
    const vocab = Vocabulary.fromTokens(bases, 'char');
    const dna = modelOf(config, initParams(config, new Rng(7)), vocab, 'js', 'dna.json');
    const text = 'GATTACA';
    for (const top of [bases.length - 1, bases.length, 10]) {
      const { tokens } = dna.scoreSync(text, { top });
      expect(tokens).toHaveLength(text.length + 1);
      for (const { token, logProb, top: alternatives } of tokens) {
        expect(alternatives, String(top)).toHaveLength(Math.min(top, bases.length));
        const logProbs = alternatives.map((a) => a.logProb);
        expect(logProbs).toEqual([...logProbs].sort((a, b) => b - a));
        if (top < bases.length) continue;
        expect(alternatives.map((a) => a.token).sort()).toEqual([...bases].sort());
        expect(alternatives.find((a) => a.token === token)!.logProb).toBe(logProb);
        expect(logProbs.reduce((sum, lp) => sum + Math.exp(lp), 0)).toBeCloseTo(1, 6);
      }
    }
    // every logit alike (weights zero): tied alternatives go to the lower id, as a sample's top-k does
    const even = modelOf(config, new Float32Array(dna.loaded.params.length), vocab, 'js', 'even.json');
    for (const top of [3, 10]) {
      for (const { top: alternatives } of even.scoreSync(text, { top }).tokens) {
        expect(alternatives.map((a) => a.token)).toEqual(bases.slice(0, top));
      }
    }
  });

  it('score and activations write each <UNK> as the text it stands for, from the one tokenization `tokenize` gives', () => {
    const text = 'snow ☃ and é, 😀!';
    const tokens = model.tokenize(text);
    expect(tokens.unknown).toEqual(['☃', 'é', '😀']);
    expect(Array.from(tokens.ids)).toEqual(Array.from(model.vocab.encode(text)));
    const score = model.scoreSync(text, { top: 2 });
    expect(score.tokens.map((t) => t.text).join('')).toBe(text);
    expect(score.tokens.filter((t) => t.token === '<UNK>').map((t) => t.text)).toEqual(['☃', 'é', '😀']);
    expect(model.scoreSync(tokens, { top: 2 })).toEqual(score);
    expect(model.activationsSync(text, 0).tokens.join('')).toBe(text);
  });

  it('activations: each unit after each token, in [−1, 1] for a GRU, the state the stepper carries', async () => {
    const text = 'To be';
    const seen = await model.activations(text, 1);
    expect(seen).toMatchObject({ layer: 1, hiddenSize: 128, tokens: ['T', 'o', ' ', 'b', 'e'] });
    expect(seen.values).toHaveLength(5);
    const stepper = new Stepper(model.config, model.loaded.params, 'js');
    stepper.advance(EOS);
    // each row the state after its own token, never a view of the state the next token overwrites
    model.vocab.encode(text).forEach((id, t) => {
      stepper.advance(id);
      expect(Array.from(seen.values[t]!), String(t)).toEqual(Array.from(stepper.model.layers[1]!.h.subarray(0, 128)));
    });
    for (const row of seen.values) for (const v of row) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    await expect(model.activations(text, 2)).rejects.toThrow('layer: must be an integer from 0 to 1 (got 2)');
    // its tokens, cut once, read as the text is
    expect(await model.activations(model.tokenize(text), 1)).toEqual(seen);
    // the arguments in their order: no text is named before the layer
    await expect((model.activations as () => Promise<unknown>)()).rejects.toThrow(/^text: /);
  });

  it('beam and info: beamSearch\'s result; the checkpoint\'s shape and progress', async () => {
    const options = { prime: 'KING', beam: 3, len: 20 };
    expect(await model.beam(options)).toEqual(beamSearch({
      config: model.config, params: model.loaded.params, vocab: model.vocab, kernels: 'js', ...options, length: 20,
    }));
    // onText is told the text in pieces, with --stop-at-eos and a length penalty too, and changes nothing of the result
    for (const more of [{}, { stopAtEos: true }, { stopAtEos: true, lengthPenalty: 1 }]) {
      const pieces: string[] = [];
      const streamed = await model.beam({ ...options, ...more, onText: (piece) => pieces.push(piece) });
      expect(streamed).toEqual(model.beamSync({ ...options, ...more }));
      expect(pieces.join('')).toBe(streamed.text);
    }
    expect(model.info).toMatchObject({ level: 'char', vocabSize: 67, parameters: model.loaded.params.length, step: 0, corpus: null });
    expect(model.history).toEqual([]);
  });

  it('info: epochs counts the part of the current epoch done, its cursor of the epoch\'s steps; epoch the whole ones', () => {
    const { checkpoint } = model.loaded;
    const { batchSize, seqLen } = checkpoint.config.training;
    // a run's checkpoint 3 steps into its third epoch of 10 steps (+ 1 token: the targets run one past the inputs)
    const trainTokens = 10 * batchSize * seqLen + 1;
    const partway = new Model({
      ...model.loaded,
      checkpoint: { ...checkpoint, corpus: { trainTokens } as never, training: { ...checkpoint.training, epoch: 2, cursor: 3 } },
    }, { kernels: 'js' });
    const steps = stepsPerEpoch(trainTokens, batchSize, seqLen);
    expect(steps).toBeGreaterThan(3);
    expect(partway.info).toMatchObject({ epoch: 2, epochs: 2 + 3 / steps });
  });

  it('onWarning is told each option given that changes nothing, as `rnn sample` warns of its flag, before the first token; the result is the one without it', async () => {
    const noEffect = (option: string) => `${option} has no effect with temperature 0: it takes the most probable token, drawing nothing at random`;
    const greedy = { prime: 'ROMEO:', len: 20, temperature: 0 };
    const told: string[] = [];
    const onWarning = (message: string) => told.push(message);
    // told before the first piece: a warning is told first among what the caller is given
    for await (const piece of model.generate({ ...greedy, topK: 5, topP: 0.5, seed: 3, onWarning })) told.push(`piece ${piece}`);
    expect(told.slice(0, 3)).toEqual([noEffect('topK'), noEffect('topP'), noEffect('seed')]);
    expect(told.slice(3).map((piece) => piece.slice('piece '.length)).join('')).toBe((await collect(model.generate(greedy))).join(''));

    told.length = 0;
    const completions = await model.complete({ ...greedy, n: 2, seed: 3, onWarning });
    expect(completions).toEqual(model.completeSync({ ...greedy, n: 2 }));
    expect(model.completeSync({ ...greedy, n: 2, topP: 0.5, onWarning })).toEqual(completions);
    expect(told).toEqual([noEffect('seed'), noEffect('topP')]);

    told.length = 0;
    const lengthPenalty = 'lengthPenalty has no effect without stopAtEos: every hypothesis then has the same length';
    const beam = { prime: 'KING', beam: 2, len: 8 };
    expect(await model.beam({ ...beam, lengthPenalty: 0.5, onWarning })).toEqual(model.beamSync(beam));
    expect(model.beamSync({ ...beam, lengthPenalty: 0.5, onWarning })).toEqual(model.beamSync(beam));
    expect(told).toEqual([lengthPenalty, lengthPenalty]);

    // options that each change the result: nothing told
    told.length = 0;
    await collect(model.generate({ ...greedy, temperature: 0.8, topK: 5, topP: 0.5, seed: 3, onWarning }));
    await collect(model.generate({ ...greedy, onWarning }));
    model.completeSync({ ...greedy, temperature: 0.8, n: 2, seed: 3, onWarning });
    model.beamSync({ ...beam, stopAtEos: true, lengthPenalty: 0.5, onWarning });
    expect(told).toEqual([]);

    // a bad value is refused, not warned of
    await expect(model.generate({ ...greedy, topK: 0, onWarning }).next()).rejects.toThrow(/^topK: must be a positive integer/);
    expect(told).toEqual([]);
  });

  it('info and history are the caller\'s to edit: a vocabulary sorted for display, a config changed, an entry added change neither the model nor the next info', () => {
    const before = structuredClone(model.info);
    const info = model.info;
    info.vocab.sort();
    info.config.training.batchSize = 1;
    info.command.push('--edited');
    info.documents.docs = 'line';
    (model.history as HistoryEntry[]).push({ step: 1, epoch: 0, tokensSeen: 1, trainLoss: 1, valLoss: null, lr: 0.002, seconds: 1 });
    expect(model.info).toEqual(before);
    expect(model.history).toEqual([]);
    expect(model.scoreSync('To be').logProb).toBe(loadModel(model.path, { kernels: 'js' }).scoreSync('To be').logProb);
  });

  it('generate, complete and beam read a prime as `tokenize` cut it, not cutting it again', async () => {
    const text = 'KING ☃:', options = { len: 30, seed: 5 };
    const byText = await collect(model.generate({ ...options, prime: text }));
    const beamByText = model.beamSync({ prime: text, beam: 3, len: 10 });
    const completedByText = model.completeSync({ ...options, prime: text, n: 2 });
    const prime = model.tokenize(text);
    expect(prime).toMatchObject({ text, unknown: ['☃'] });
    const encode = vi.spyOn(Vocabulary.prototype, 'encode');
    try {
      expect(await collect(model.generate({ ...options, prime }))).toEqual(byText);
      expect(model.beamSync({ prime, beam: 3, len: 10 })).toEqual(beamByText);
      expect(model.completeSync({ ...options, prime, n: 2 })).toEqual(completedByText);
      expect(encode).not.toHaveBeenCalled();
    } finally {
      encode.mockRestore();
    }
    await expect(model.generate({ prime: { ids: prime.ids } as never }).next()).rejects.toThrow('prime.text: must be a string, as tokenize makes it (got missing)');
  });

  it('rnn sample cuts its prime into tokens once, for the warning about unknown ones and for the sampling', async () => {
    for (const beam of [[], ['--beam', '2']]) {
      const written: string[] = [];
      const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
        written.push(String(chunk));
        const done = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
        done?.();
        return true;
      });
      const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
      const encode = vi.spyOn(Vocabulary.prototype, 'encode');
      try {
        await (await createProgram()).parseAsync(['sample', '--checkpoint', model.path, '--prime', 'KING ☃:', '--len', '10', ...beam], { from: 'user' });
        expect(encode).toHaveBeenCalledTimes(1);
        expect(stderr.mock.calls.join('')).toMatch(/☃/);
        expect(written.join('')).toMatch(/^KING ☃:/);
      } finally {
        encode.mockRestore();
        stderr.mockRestore();
        stdout.mockRestore();
      }
    }
  });
});
