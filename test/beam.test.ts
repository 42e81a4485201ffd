import { describe, expect, it, vi } from 'vitest';
import { parameterCount } from '../src/checkpoint/size.js';
import { createProgram } from '../src/cli/main.js';
import { Arena } from '../src/engine/kernels/arena.js';
import type { ModelConfig } from '../src/engine/config.js';
import { createKernels } from '../src/engine/kernels/index.js';
import { logSumExp } from '../src/engine/loss.js';
import { LanguageModel, initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { Stepper } from '../src/engine/stepper.js';
import { type BeamOptions, type BeamResult, beamBytes, beamSearch, beamSteps, beamWarnings, checkBeamFits } from '../src/generate/beam.js';
import { sampleText } from '../src/generate/sample.js';
import { SettingError } from '../src/input/settings.js';
import type { DocsMode } from '../src/text/documents.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { EOS, UNK, Vocabulary } from '../src/text/vocab.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import type { KernelsKind } from '../src/engine/kernels/kinds.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';
import { evalGruState } from './helpers/fixtures.js';
import { thrownBy } from './helpers/thrown.js';

const trained = evalGruState();
const smallVocab = Vocabulary.build(['the cat sat on the mat.\n']);

/**
 * A streamed search's pieces, each with the count of pieces of work (a token of the prime read, a
 * step) done when it came; that count at the end; and its result.
 */
function streamedSearch(opts: Omit<BeamOptions, 'onText'>): { pieces: { text: string; step: number }[]; steps: number; result: BeamResult } {
  const pieces: { text: string; step: number }[] = [];
  let steps = 0;
  const work = beamSteps({ ...opts, onText: (text) => pieces.push({ text, step: steps }) });
  for (let done = work.next(); ; done = work.next()) {
    if (done.done === true) return { pieces, steps, result: done.value };
    steps++;
  }
}
const vocab = Vocabulary.fromTokens(trained.vocab);
const { config, params } = trained;

/** Σ ln p of `ids` after `<EOS> prime`, scored one token at a time by the stepper (another code path) on `kernels`. */
function logProbOf(prime: string, ids: number[], kernels: KernelsKind = 'js'): number {
  const stepper = new Stepper(config, params, kernels);
  let logits = stepper.advance(EOS);
  for (const id of vocab.encode(prime)) logits = stepper.advance(id);
  let total = 0;
  for (const id of ids) {
    total += logits[id]! - logSumExp(logits, 0, config.vocabSize);
    logits = stepper.advance(id);
  }
  return total;
}

for (const kernels of kernelKinds()) {
  describe(`beam search, ${kernels} kernels`, () => {
    const prime = 'ROMEO:\n';
    const greedy = sampleText({ config, params, vocab, length: 40, temperature: 0, seed: 1, prime });

    it('a beam of 1 is greedy decoding', () => {
      expect(beamSearch({ config, params, vocab, beam: 1, length: 40, prime, kernels }).text).toBe(greedy);
      const untilEos = sampleText({ config, params, vocab, length: 400, temperature: 0, seed: 1, prime: 'KING', stopAtEos: true });
      expect(beamSearch({ config, params, vocab, beam: 1, length: 400, prime: 'KING', stopAtEos: true, kernels }).text).toBe(untilEos);
    });

    it('returns a log-probability at least the greedy one\'s, the true log-probability of its text', () => {
      const greedyLogProb = logProbOf(prime, [...vocab.encode(greedy)]);
      let previous = -Infinity;
      for (const beam of [1, 2, 3, 5, 8]) {
        const result = beamSearch({ config, params, vocab, beam, length: 40, prime, kernels });
        expect(result.logProb, `beam ${beam}`).toBeGreaterThanOrEqual(greedyLogProb - 1e-4);
        // The stepper on the same kernels reads the same logits (a batch of one is matmulNT's at M = 1, to
        // the bit), so the sums of the N log-probabilities (each ≤ 0) differ only in float64 grouping,
        // ≤ N · ε · |Σ|. The relaxed build's batch of one fuses its multiply-adds into sums of its own
        // (docs/kernels.md), so each logit differs by float32 rounding: ≤ N · ε₃₂ · |Σ|.
        const stepped = logProbOf(prime, [...vocab.encode(result.text)], kernels);
        const eps = kernels === 'relaxed' ? 2 ** -23 : Number.EPSILON;
        expect(Math.abs(result.logProb - stepped), `beam ${beam}: ${result.logProb}, stepped ${stepped}`)
          .toBeLessThanOrEqual(result.tokens * eps * Math.abs(stepped));
        expect(result.tokens).toBe(40);
        if (beam === 8) expect(result.logProb).toBeGreaterThan(previous - 1e-4);
        previous = Math.max(previous, result.logProb);
      }
    });

    it('keeps no hypothesis twice, the greedy path included: a beam of 1 is the greedy path alone', () => {
      const { hypotheses } = beamSearch({ config, params, vocab, beam: 6, length: 25, prime, kernels });
      expect(new Set(hypotheses.map((h) => h.text)).size).toBe(hypotheses.length);
      expect(hypotheses.length).toBeGreaterThanOrEqual(6);
      expect(hypotheses.length).toBeLessThanOrEqual(7);
      const one = beamSearch({ config, params, vocab, beam: 1, length: 25, prime, kernels });
      expect(one.hypotheses).toEqual([{ text: one.text, logProb: one.logProb, tokens: one.tokens }]);
    });

    // (length normalisation is tested on a model whose hypotheses do end at <EOS>: this one's run to --len)
    it('with --stop-at-eos finds a hypothesis at least as likely as greedy decoding\'s', () => {
      const raw = beamSearch({ config, params, vocab, beam: 4, length: 60, prime: 'KING', stopAtEos: true, kernels });
      const greedyEos = sampleText({ config, params, vocab, length: 60, temperature: 0, seed: 1, prime: 'KING', stopAtEos: true });
      const greedyIds = [...vocab.encode(greedyEos)];
      if (greedyIds.length < 60) greedyIds.push(EOS);
      expect(raw.logProb).toBeGreaterThanOrEqual(logProbOf('KING', greedyIds) - 1e-4);
      expect(raw.logProb).toBeLessThan(0);
    });
  });
}

/** A model over <EOS> <UNK> a b whose logits are `bias` whatever it reads: its head's weights zero. */
function fixedLogits(bias: number[]): { toyVocab: Vocabulary; toy: ModelConfig; toyParams: Float32Array } {
  const toyVocab = Vocabulary.fromTokens(['<EOS>', '<UNK>', 'a', 'b']);
  const toy: ModelConfig = { cell: 'rnn', vocabSize: 4, embedDim: 2, hiddenSize: 3, numLayers: 1, dropout: 0 };
  const toyParams = initParams(toy, new Rng(3));
  const weight = paramLayout(toy).byName.get('head.weight')!;
  toyParams.fill(0, weight.offset, weight.offset + weight.size);
  toyParams.set(bias, paramLayout(toy).byName.get('head.bias')!.offset);
  return { toyVocab, toy, toyParams };
}

describe('beam search: length normalisation', () => {
  // a model whose logits are its head's bias whatever it reads: ln p of each token is fixed, "a" the likeliest, <EOS> next
  const toyVocab = Vocabulary.fromTokens(['<EOS>', '<UNK>', 'a', 'b']);
  const toy: ModelConfig = { cell: 'rnn', vocabSize: 4, embedDim: 2, hiddenSize: 3, numLayers: 1, dropout: 0 };
  const toyParams = initParams(toy, new Rng(3));
  const weight = paramLayout(toy).byName.get('head.weight')!, bias = [1, 0, 2, 0];
  toyParams.fill(0, weight.offset, weight.offset + weight.size);
  toyParams.set(bias, paramLayout(toy).byName.get('head.bias')!.offset);
  const lnP = (id: number) => bias[id]! - logSumExp(Float64Array.from(bias), 0, bias.length);

  it('ranks by the log-probability itself without it (ending at once wins), and by the log-probability per token with α = 1', () => {
    const search = (lengthPenalty: number) =>
      beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 3, length: 10, stopAtEos: true, lengthPenalty });
    const raw = search(0);
    expect([raw.text, raw.tokens]).toEqual(['', 1]);
    expect(raw.logProb).toBeCloseTo(lnP(EOS), 5);
    // every "a" costs less than <EOS> does, so per token the longest run of them ranks first
    const normalised = search(1);
    expect([normalised.text, normalised.tokens]).toEqual(['a'.repeat(10), 10]);
    expect(normalised.logProb).toBeCloseTo(10 * lnP(2), 5);
  });

  it('ranks by log-probability / tokens^α at any α, however large: where tokens^α overflows, the longer hypothesis still ranks higher', () => {
    for (const lengthPenalty of [400, 1e30, Number.MAX_VALUE]) {
      const { text, tokens, hypotheses } = beamSearch({
        config: toy, params: toyParams, vocab: toyVocab, beam: 3, length: 10, stopAtEos: true, lengthPenalty,
      });
      expect([text, tokens], String(lengthPenalty)).toEqual(['a'.repeat(10), 10]);
      // at these α the ratio of two lengths' tokens^α outweighs any ratio of log-probabilities: longest first, then most probable
      const ranked = [...hypotheses].sort((a, b) => b.tokens - a.tokens || b.logProb - a.logProb);
      expect(hypotheses, String(lengthPenalty)).toEqual(ranked);
    }
  });
});

describe('beam search: --stop-at-eos streams what has settled', () => {
  // logits fixed: "a" the likeliest token, <EOS> next; ranked per token (α = 1), each step's "a…a<EOS>" leads the finished ones
  const { toyVocab, toy, toyParams } = fixedLogits([1, 0, 2, 0]);
  const search = { config: toy, params: toyParams, vocab: toyVocab, beam: 2, length: 10, stopAtEos: true, kernels: 'js' as const };

  it('writes each token as soon as every hypothesis that could still be the result has it: the finished ones outranked drop out', () => {
    const { pieces, steps, result } = streamedSearch({ ...search, lengthPenalty: 1 });
    expect(result.text).toBe('a'.repeat(10));
    // after <EOS> is read, step s ends "a…a<EOS>" (s − 1 "a"s) above every finished one before it,
    // and the live "a…a" shares all but its <EOS>
    expect(pieces).toEqual([...Array.from({ length: 9 }, (_, i) => ({ text: 'a', step: i + 2 })), { text: 'a', step: steps }]);
  });

  it('without a length penalty, writes the best finished hypothesis once every live one and the greedy path rank no higher', () => {
    // an untrained model: "e.." ends early, and by the 8th piece of work every other hypothesis is less probable, as they only grow less
    const small: ModelConfig = { cell: 'gru', vocabSize: smallVocab.size, embedDim: 6, hiddenSize: 10, numLayers: 1, dropout: 0 };
    const ended = { config: small, params: initParams(small, new Rng(1)), vocab: smallVocab, beam: 2, length: 60, prime: 'the ', stopAtEos: true };
    const { pieces, steps, result } = streamedSearch({ ...ended, kernels: 'js' });
    expect([result.text, result.tokens, steps]).toEqual(['e..', 4, 65]);
    expect(pieces).toEqual(['e', '.', '.'].map((text) => ({ text, step: 8 })));
  });
});

describe('beam search: the greedy row', () => {
  // "a" above <EOS> and "b" by 2^-60, far below a float64's step at ln p: in ln p they tie, in the logits they do not
  const { toyVocab, toy, toyParams } = fixedLogits([0, 0, 2 ** -60, 0]);

  it('follows the path --temperature 0 draws, the logits ranking the tokens where their log-probabilities tie', () => {
    const greedy = sampleText({ config: toy, params: toyParams, vocab: toyVocab, length: 5, temperature: 0, seed: 1 });
    expect(greedy).toBe('aaaaa');
    const result = beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 1, length: 5, kernels: 'js' });
    expect(result.hypotheses.map((h) => h.text)).toContain(greedy);
  });

  it('is the path a beam of 1 takes: where log-probabilities tie, the larger logit ranks first, with and without --stop-at-eos', () => {
    for (const stopAtEos of [false, true]) {
      const greedy = sampleText({ config: toy, params: toyParams, vocab: toyVocab, length: 5, temperature: 0, seed: 1, stopAtEos });
      const result = beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 1, length: 5, stopAtEos, kernels: 'js' });
      expect([result.text, result.hypotheses.length], `--stop-at-eos ${stopAtEos}`).toEqual(['aaaaa', 1]);
      expect(result.text).toBe(greedy);
    }
  });
});

describe('beam search: tokens whose logits tie', () => {
  // "a" and "b" tie exactly, in the logits and in ln p, above <EOS>
  const { toyVocab, toy, toyParams } = fixedLogits([0, 0, 1, 1]);

  it('rank the lower token first: a beam of 1 takes the path --temperature 0 draws, and a wider one lists "a" before "b"', () => {
    const greedy = sampleText({ config: toy, params: toyParams, vocab: toyVocab, length: 3, temperature: 0, seed: 1 });
    expect(greedy).toBe('aaa');
    expect(beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 1, length: 3, kernels: 'js' }).text).toBe(greedy);
    const wide = beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 3, length: 1, kernels: 'js' });
    expect(wide.hypotheses.map((h) => h.text)).toEqual(['a', 'b', '\n']);
  });
});

describe('beam search: <UNK> the likeliest token', () => {
  const { toyVocab, toy, toyParams } = fixedLogits([0, 5, 1, 0]);

  it('never takes it, on the greedy row either: the result is the path --temperature 0 draws', () => {
    const greedy = sampleText({ config: toy, params: toyParams, vocab: toyVocab, length: 3, temperature: 0, seed: 1 });
    expect(greedy).toBe('aaa');
    const result = beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 1, length: 3, kernels: 'js' });
    expect(result.hypotheses.map((h) => h.text)).toEqual([greedy]);
  });
});

describe('beam search: a step allocates nothing', () => {
  const typedArray = Object.getPrototypeOf(Int32Array.prototype) as Record<string, unknown>;

  it('makes no typed array and sorts none between its first step and its last', () => {
    const work = beamSteps({ config, params, vocab, beam: 4, length: 12, prime: 'ROMEO:', kernels: 'js' });
    // the prime's <EOS> and 6 characters, then the first step
    for (let i = 0; i < 8; i++) work.next();
    const spies = ['subarray', 'slice', 'sort', 'map', 'filter'].map((method) => vi.spyOn(typedArray as never, method as never));
    try {
      for (let i = 0; i < 10; i++) work.next();
      for (const spy of spies) expect(spy, spy.getMockName()).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe('beam search: --stop-at-eos where <EOS> is the likeliest token', () => {
  // logits fixed as above, <EOS> the likeliest and "a" next: every step ends a hypothesis, and from the third a finished one is
  // dropped for a better, the one just ended among them, whose prefix the same step still extends
  const { toyVocab, toy, toyParams } = fixedLogits([2, 0, 1, 0]);

  it("writes each <EOS> of a hypothesis that goes on past it as the model's documents are parted: a blank line for --docs blank", () => {
    const cutting = (docs: DocsMode) => Vocabulary.fromTokens(toyVocab.tokens, 'char', WORD_RULE_VERSION, { docs, sentenceRule: SENTENCE_RULE_VERSION });
    const search = (docs: DocsMode) => beamSearch({ config: toy, params: toyParams, vocab: cutting(docs), beam: 2, length: 3, kernels: 'js' });
    expect(search('blank').text).toBe('\n\n'.repeat(3));
    expect(search('line').text).toBe('\n'.repeat(3));
    expect(search('sentence').text).toBe(' '.repeat(3));
  });

  it('keeps the prefix of a live hypothesis when a finished one that shares it is dropped', () => {
    const result = beamSearch({ config: toy, params: toyParams, vocab: toyVocab, beam: 2, length: 4, stopAtEos: true, kernels: 'js' });
    expect([result.text, result.tokens]).toEqual(['', 1]);
    expect(result.hypotheses.map((h) => h.text)).toEqual(['', 'a', 'aaaa']);
  });
});

/**
 * A naive beam search (no --stop-at-eos): each hypothesis's next-token logits and log-probabilities
 * from a batch of one that reads `<EOS>`, the prime and the hypothesis from a zero state, every
 * extension of every hypothesis sorted (ties: the earlier hypothesis, then the larger logit, then
 * the lower token), the N best kept; then the greedy path (the largest logit, the lowest token of
 * equals) where none of them is it, and all of them ranked as
 * beamSearch ranks them.
 */
function naiveBeam(
  kind: KernelsKind, config: ModelConfig, params: Float32Array, primeIds: Int32Array, N: number, length: number,
): { text: string; logProb: number; tokens: number }[] {
  const model = modelOn(kind, config, params, { grads: false, batchSize: 1, seqLen: 1 });
  const V = config.vocabSize;
  const logProbsAfter = (ids: number[]): { logits: Float32Array; logProbs: Float64Array } => {
    model.resetState();
    for (const id of [EOS, ...primeIds, ...ids]) {
      model.tokens[0] = id;
      model.forward(null);
      model.carryState(1);
    }
    const lse = logSumExp(model.logits, 0, V);
    return { logits: model.logits.slice(0, V), logProbs: Float64Array.from(model.logits, (z) => z - lse) };
  };
  let live = [{ ids: [] as number[], logProb: 0 }];
  const greedy = { ids: [] as number[], logProb: 0 };
  for (let step = 0; step < length; step++) {
    const extensions: { ids: number[]; logProb: number; parent: number; logit: number; token: number }[] = [];
    live.forEach((h, parent) => {
      const { logits, logProbs } = logProbsAfter(h.ids);
      for (let token = 0; token < V; token++) {
        if (token === UNK) continue;
        extensions.push({ ids: [...h.ids, token], logProb: h.logProb + logProbs[token]!, parent, logit: logits[token]!, token });
      }
    });
    extensions.sort((a, b) => b.logProb - a.logProb || a.parent - b.parent || b.logit - a.logit || a.token - b.token);
    live = extensions.slice(0, N);
    const { logits, logProbs } = logProbsAfter(greedy.ids);
    let best = EOS;
    for (let v = 0; v < V; v++) if (v !== UNK && logits[v]! > logits[best]!) best = v;
    greedy.ids.push(best);
    greedy.logProb += logProbs[best]!;
  }
  const greedyKept = live.some((h) => h.ids.join() === greedy.ids.join()) ? [] : [greedy];
  return [...live, ...greedyKept].sort((a, b) => b.logProb - a.logProb)
    .map((h) => ({ text: smallVocab.decode(h.ids, { eos: '\n' }), logProb: h.logProb, tokens: h.ids.length }));
}

for (const kernels of kernelKinds()) {
  describe(`beam search reads the prime once, ${kernels} kernels`, () => {
    // the prime's '?' reads as <UNK>; a beam of 30 has 31 rows, at least two a token, so its layer 0 reads its input table
    const prime = 'the mat sat? on the cat', primeIds = smallVocab.encode(prime);
    it.each(['lstm', 'gru', 'rnn'] as const)('every %s hypothesis scores, to the bit, as a batch of one that read the prime and it', (cell) => {
      const small: ModelConfig = { cell, vocabSize: smallVocab.size, embedDim: 6, hiddenSize: 10, numLayers: 2, dropout: 0 };
      const weights = initParams(small, new Rng(3));
      for (const [beam, length] of [[1, 6], [4, 6], [30, 2]] as const) {
        const result = beamSearch({ config: small, params: weights, vocab: smallVocab, beam, length, prime, kernels });
        expect(result.hypotheses, `beam ${beam}`).toEqual(naiveBeam(kernels, small, weights, primeIds, beam, length));
      }
    });
  });
}

describe('beam search: streaming and limits', () => {
  const prime = 'ROMEO:\n';

  it('streams what every hypothesis shares as it settles: a beam of 1 settles each token as it is drawn', () => {
    const pieces: string[] = [];
    const result = beamSearch({ config, params, vocab, beam: 1, length: 50, prime, onText: (piece) => pieces.push(piece) });
    expect(pieces.length).toBe(50);
    expect(pieces.join('')).toBe(result.text);
  });

  it('streams pieces that make the text a search without streaming returns', () => {
    const whole = beamSearch({ config, params, vocab, beam: 4, length: 300, prime });
    const pieces: string[] = [];
    const streamed = beamSearch({ config, params, vocab, beam: 4, length: 300, prime, onText: (piece) => pieces.push(piece) });
    expect(pieces.join('')).toBe(whole.text);
    expect(streamed).toEqual(whole);
    expect(pieces.length).toBeGreaterThan(1);
  });

  // 96 searches, each run whole and streamed, on the js kernels: 3–5 s on the 2-core machine, past vitest's default 5 s when CI is busy
  it('streams, byte for byte, the text and result of a search that does not stream, at each beam, with and without --stop-at-eos and a length penalty', () => {
    const small: ModelConfig = { cell: 'gru', vocabSize: smallVocab.size, embedDim: 6, hiddenSize: 10, numLayers: 1, dropout: 0 };
    // the trained model, and untrained ones whose near-even odds end hypotheses at <EOS> often
    const models = [
      ...['ROMEO:\n', 'KING', ''].map((text) => ({ config, params, vocab, text })),
      ...[1, 2, 3].map((seed) => ({ config: small, params: initParams(small, new Rng(seed)), vocab: smallVocab, text: 'the ' })),
    ];
    let streamedEarly = 0;
    for (const { config: shape, params: weights, vocab: words, text } of models) {
      for (const beam of [1, 2, 4, 8]) {
        for (const [stopAtEos, lengthPenalty] of [[false, 0], [true, 0], [true, 0.6], [true, 1]] as const) {
          const search = { config: shape, params: weights, vocab: words, beam, length: 60, prime: text, stopAtEos, lengthPenalty, kernels: 'js' as const };
          const whole = beamSearch(search);
          const { pieces, steps, result } = streamedSearch(search);
          const name = JSON.stringify({ text, beam, stopAtEos, lengthPenalty });
          expect(pieces.map((p) => p.text).join(''), name).toBe(whole.text);
          expect(result, name).toEqual(whole);
          if (stopAtEos && pieces.some((p) => p.step < steps)) streamedEarly++;
        }
      }
    }
    expect(streamedEarly).toBeGreaterThan(0);
  });

  it('keeps the N best extensions in order, ties to the lower token: one step of a beam wider than the vocabulary keeps every token', () => {
    const { hypotheses: beams } = beamSearch({ config, params, vocab, beam: 500, length: 1, prime });
    // the greedy path is the best of them, kept once
    expect(beams.length).toBe(config.vocabSize - 1); // every token but <UNK>
    const stepper = new Stepper(config, params, 'js');
    let logits = stepper.advance(EOS);
    for (const id of vocab.encode(prime)) logits = stepper.advance(id);
    const expected = [...Array(config.vocabSize).keys()].filter((id) => id !== 1)
      .map((id) => ({ id, logProb: logits[id]! - logSumExp(logits, 0, config.vocabSize) }))
      .sort((a, b) => b.logProb - a.logProb || a.id - b.id);
    expect(beams.map((h) => h.text)).toEqual(expected.map((e) => vocab.decode([e.id], { eos: '\n' })));
    beams.forEach((h, i) => expect(h.logProb).toBeCloseTo(expected[i]!.logProb, 4));
  });

  it('refuses a beam too large for an engine, naming the largest that fits', () => {
    const error = thrownBy(() => beamSearch({ config, params, vocab, beam: 1e9, length: 10, prime }), SettingError);
    const message = error.messageNaming((name) => `--${name}`);
    const largest = Number(/--beam (\d+) is the largest that fits with this model and --len$/.exec(message)![1]);
    expect(message).toMatch(/^--beam 1000000000: /);
    expect(() => checkBeamFits(config, largest, 10)).not.toThrow();
    expect(() => checkBeamFits(config, largest + 1, 10)).toThrow(SettingError);
  });

  it('refuses a --len too long for any beam, naming --len and the longest that fits with the beam asked', () => {
    const error = thrownBy(() => checkBeamFits(config, 2, 1e9), SettingError);
    expect(error.setting).toBe('len');
    const message = error.messageNaming((name) => `--${name}`);
    expect(message).toMatch(/^--len 1000000000 with --beam 2: /);
    const longest = Number(/--len (\d+) is the longest that fits with this model and --beam$/.exec(message)![1]);
    expect(() => checkBeamFits(config, 2, longest)).not.toThrow();
    expect(() => checkBeamFits(config, 2, longest + 1)).toThrow(SettingError);
  });

  it.each(['lstm', 'gru', 'rnn'] as const)('estimates no less than a %s beam\'s engine takes', (cell) => {
    const small = { cell, vocabSize: 30, embedDim: 5, hiddenSize: 12, numLayers: 2, dropout: 0 };
    for (const beam of [1, 7, 50]) {
      const arena = new Arena();
      const kernels = createKernels('js', arena);
      const weights = kernels.arena.floats(parameterCount(small));
      new LanguageModel({ config: small, kernels, params: weights, grads: null, batchSize: beam + 1, seqLen: 1 });
      new LanguageModel({ config: small, kernels, params: weights, grads: null, batchSize: 1, seqLen: 1 });
      kernels.arena.floats((beam + 1) * small.hiddenSize);
      const estimate = beamBytes(small, beam, 10).arena;
      expect(estimate).toBeGreaterThanOrEqual(arena.used);
      expect(estimate).toBeLessThan(1.5 * arena.used);
    }
  });

  it('says that a length penalty does nothing without --stop-at-eos', () => {
    const [warning, ...more] = beamWarnings({ lengthPenalty: 0.7 });
    expect(more).toEqual([]);
    expect(warning!.messageNaming((name) => `--${name}`)).toBe(
      '--lengthPenalty has no effect without --stopAtEos: every hypothesis then has the same length');
    expect(beamWarnings({ lengthPenalty: 0.7, stopAtEos: true })).toEqual([]);
    expect(beamWarnings({ lengthPenalty: 0 })).toEqual([]);
  });
});

describe('rnn sample --beam and --workers', () => {
  it('says in --workers\' help that a beam search, on one thread, does not use it', async () => {
    const sample = (await createProgram()).commands.find((command) => command.name() === 'sample')!;
    const help = sample.options.find((option) => option.long === '--workers')!.description;
    expect(help).toMatch(/^threads that share each step \(not with --beam: a beam search runs on one thread, and gives the same result at any --workers\)/);
  });
});
