import { describe, expect, it, vi } from 'vitest';
import { StoppedError } from '../src/api/index.js';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { LanguageModel, initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { Stepper } from '../src/engine/stepper.js';
import { YIELD_MS } from '../src/generate/turns.js';
import { EOS_TOKEN, UNK_TOKEN, Vocabulary } from '../src/text/vocab.js';
import { onReadingClock, turnCounter } from './helpers/clock.js';
import { collect } from './helpers/generation.js';
import { kernelKinds } from './helpers/kernels.js';
import { modelOf } from './helpers/model.js';
import { evalGruState } from './helpers/fixtures.js';

/**
 * The library's async calls on this thread (complete, beam, score, activations) let the event
 * loop run as they compute: a timer's abort stops them partway, other work runs meanwhile, and
 * their results are the *Sync calls', to the bit.
 */

const trained = evalGruState();
/** The GRU 2×128 fixture on the plain TypeScript kernels: a token takes a tenth of a millisecond or more. */
const gru = modelOf(trained.config, trained.params, Vocabulary.fromTokens(trained.vocab), 'js');

/** `signal` as a call reads it, counting the reads: a call reads its signal once a token (a beam step), so the count is the work it did. */
const counted = (signal: AbortSignal) => ({ reads: 0, get aborted() { this.reads++; return signal.aborted; } });

/** A signal that a timer aborts after `ms`. */
function abortedAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

const LONG_TEXT = 'Now is the winter of our discontent made glorious summer by this sun of York. '.repeat(250);

describe('an abort from a timer stops an async call partway, with StoppedError', () => {
  // each job would take seconds: a hundred times the abort's delay or more
  it('complete stops having read the signal fewer times than a tenth of its draws', async () => {
    const n = 20, len = 500, signal = counted(AbortSignal.timeout(20));
    await expect(gru.complete({ prime: 'ROMEO:', n, len, seed: 1, signal })).rejects.toThrow(StoppedError);
    expect(signal.reads).toBeGreaterThan(1);
    expect(signal.reads).toBeLessThan((n * len) / 10);
  });

  it('beam stops having read the signal fewer times, and streamed fewer characters, than a tenth of its len', async () => {
    const len = 2000, signal = counted(abortedAfter(20)), pieces: string[] = [];
    await expect(gru.beam({ prime: 'ROMEO:', beam: 8, len, signal, onText: (piece) => pieces.push(piece) })).rejects.toThrow(StoppedError);
    expect(signal.reads).toBeGreaterThan(1);
    expect(signal.reads).toBeLessThan(len / 10);
    expect(pieces.join('').length).toBeLessThan(len / 10);
  });

  it('score and activations stop having read the signal fewer times than a tenth of the text\'s characters', async () => {
    const scoring = counted(AbortSignal.timeout(20));
    await expect(gru.score(LONG_TEXT, { top: 5, signal: scoring })).rejects.toThrow(StoppedError);
    expect(scoring.reads).toBeGreaterThan(1);
    expect(scoring.reads).toBeLessThan(LONG_TEXT.length / 10);
    const reading = counted(abortedAfter(20));
    await expect(gru.activations(LONG_TEXT, 1, { signal: reading })).rejects.toThrow(StoppedError);
    expect(reading.reads).toBeGreaterThan(1);
    expect(reading.reads).toBeLessThan(LONG_TEXT.length / 10);
  });

  it('a signal already aborted: each call rejects at once, having run no step of the model', async () => {
    const advance = vi.spyOn(Stepper.prototype, 'advance'), forward = vi.spyOn(LanguageModel.prototype, 'forward');
    try {
      const signal = AbortSignal.abort();
      await expect(gru.complete({ prime: 'ROMEO:', n: 2, len: 10, signal })).rejects.toThrow(StoppedError);
      await expect(gru.beam({ prime: 'ROMEO:', beam: 2, len: 10, signal })).rejects.toThrow(StoppedError);
      await expect(gru.score('ROMEO:', { signal })).rejects.toThrow(StoppedError);
      await expect(gru.activations('ROMEO:', 0, { signal })).rejects.toThrow(StoppedError);
      expect(advance).not.toHaveBeenCalled();
      expect(forward).not.toHaveBeenCalled();
    } finally {
      advance.mockRestore();
      forward.mockRestore();
    }
  });

  it('a signal already aborted: a bad option is still named first, by every call', async () => {
    const signal = AbortSignal.abort();
    await expect(gru.complete({ prime: 'ROMEO:', n: 0, signal })).rejects.toThrow('n: must be a positive integer (got 0)');
    await expect(gru.beam({ prime: 'ROMEO:', beam: 0, signal })).rejects.toThrow(/^beam: /);
    await expect(gru.score('ROMEO:', { top: -1, signal })).rejects.toThrow('top: must be an integer from 0 to 10 (got -1)');
    await expect(gru.score('ROMEO:', { workers: 0, signal })).rejects.toThrow('workers: must be a positive integer (got 0)');
    await expect(gru.activations('ROMEO:', 5, { signal })).rejects.toThrow(/^layer: must be an integer from 0 to 1/);
  });
});

describe('the event loop runs while an async call computes', () => {
  it('the event loop turns all through generate, complete, beam, score and activations', async () => {
    const calls = {
      'generate reading its prime': () => collect(gru.generate({ prime: LONG_TEXT.slice(0, 1000), len: 1 })),
      complete: () => gru.complete({ prime: 'ROMEO:', n: 2, len: 100, seed: 1 }),
      beam: () => gru.beam({ prime: 'ROMEO:', beam: 2, len: 60 }),
      score: () => gru.score(LONG_TEXT.slice(0, 300)),
      activations: () => gru.activations(LONG_TEXT.slice(0, 300), 0),
    };
    // a clock that reads a millisecond later each time: a turn is due every YIELD_MS reads, however fast this machine runs
    const counter = turnCounter();
    try {
      await onReadingClock(async () => {
        for (const [name, call] of Object.entries(calls)) {
          const before = counter.turns;
          await call();
          expect(counter.turns - before, name).toBeGreaterThanOrEqual(3);
        }
      });
    } finally {
      counter.stop();
    }
  });
});

const CHAR_VOCAB = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, '\n', ' ', 'a', 'b', 'c', 'd', 'e']);
const WORD_VOCAB = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'the', 'cat', 'sat', 'on', 'mat', '.', ',', '\n'], 'word');
const LEVELS = [
  { vocab: CHAR_VOCAB, prime: 'abc?de', text: 'a bad cab, deed\nace bead\n' },
  { vocab: WORD_VOCAB, prime: 'the cat sat on the dog', text: 'the cat sat on the mat.\nthe mat, the dog sat on the cat.\n' },
];

describe('an async call gives the *Sync call\'s result, to the bit, letting the event loop run after every piece of its work', () => {

  for (const kernels of kernelKinds()) {
    it.each(CELL_KINDS)(`%s, ${kernels} kernels, char and word level`, async (cell) => {
      for (const { vocab, prime, text } of LEVELS) {
        const config: ModelConfig = { cell, vocabSize: vocab.size, embedDim: 5, hiddenSize: 9, numLayers: 2, dropout: 0 };
        // weights 4× PyTorch's initial ones: the draws then hang on the state, so a state one call disturbed in another shows
        const model = modelOf(config, initParams(config, new Rng(7)).map((w) => 4 * w), vocab, kernels);
        const sampling = { prime, len: 40, temperature: 1, topK: 6, seed: 0xfffffffe, n: 3 };
        const search = { prime, beam: 3, len: 30 };
        const expected = [
          model.completeSync(sampling), model.beamSync(search), model.scoreSync(text, { top: 2 }), model.activationsSync(text, 1),
        ];

        // the calls side by side on one model, each a stepper of its own, while the event loop counts its turns,
        // on a clock on which YIELD_MS passes between any two readings: a turn after every piece of work
        const counter = turnCounter();
        const results = await onReadingClock(() => Promise.all([
          model.complete(sampling), model.beam(search), model.score(text, { top: 2 }), model.activations(text, 1),
        ]), YIELD_MS).finally(() => counter.stop());
        expect(results, vocab.level).toEqual(expected);
        // at least a turn a token that complete draws
        expect(counter.turns, vocab.level).toBeGreaterThanOrEqual(sampling.n * sampling.len);
      }
    });
  }
});
