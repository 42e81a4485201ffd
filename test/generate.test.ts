import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CELL_KINDS, type ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Stepper } from '../src/engine/stepper.js';
import { kernelKinds, modelOn } from './helpers/kernels.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { importedCheckpoint } from '../src/checkpoint/convert.js';
import { validationSplit } from '../src/checkpoint/corpus.js';
import type { LoadedModel } from '../src/checkpoint/load.js';
import { type CompletionOptions, type NextToken, TokenSampler, sampleCompletions, sampleParts, sampleText } from '../src/generate/sample.js';
import { finish } from '../src/generate/turns.js';
import { Arena } from '../src/engine/kernels/arena.js';
import { createKernels } from '../src/engine/kernels/index.js';
import { nextTokenDistribution } from '../src/engine/loss.js';
import { scoreStream, scoreTokens } from '../src/generate/score.js';
import { StoppedError } from '../src/generate/stop.js';
import { CorpusError, prepareData } from '../src/text/corpus.js';
import { streamCorpus } from '../src/text/corpus-stream.js';
import { DOCS_MODES, type DocsMode } from '../src/text/documents.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { EOS, EOS_TOKEN, UNK, UNK_TOKEN, Vocabulary } from '../src/text/vocab.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { scratchFolder } from './helpers/files.js';
import { thrownBy } from './helpers/thrown.js';
import { userMessage } from '../src/cli/errors.js';
import { evalGruState, readEvalFixture } from './helpers/fixtures.js';

const fixture = readEvalFixture();
const trained = evalGruState();
const trainedVocab = Vocabulary.fromTokens(trained.vocab);

/** A small random model over "abcd" (no line break, so a printed `<EOS>` is the only "\n"). */
const TOY_VOCAB = Vocabulary.fromTokens(['<EOS>', '<UNK>', 'a', 'b', 'c', 'd']);
const TOY: ModelConfig = { cell: 'lstm', vocabSize: 6, embedDim: 4, hiddenSize: 8, numLayers: 2, dropout: 0 };

function toyParams(headBias: Record<number, number> = {}): Float32Array {
  const params = initParams(TOY, new Rng(11));
  const bias = paramLayout(TOY).byName.get('head.bias')!;
  for (const [id, value] of Object.entries(headBias)) params[bias.offset + Number(id)] = value;
  return params;
}

const sample = (over: Partial<Parameters<typeof sampleText>[0]>) =>
  sampleText({ config: trained.config, params: trained.params, vocab: trainedVocab, length: 80, temperature: 1, seed: 1, ...over });

/**
 * The ids a sample of `length` tokens at temperature 1 draws after `<EOS>` and `primeIds`, drawn here by hand as
 * sampleText draws them; with `stopAtEos` up to the first `<EOS>`.
 */
function drawnIds(
  config: ModelConfig, params: Float32Array, primeIds: ArrayLike<number>, length: number, seed: number, stopAtEos = false,
): number[] {
  const stepper = new Stepper(config, params);
  stepper.reset();
  stepper.advance(EOS);
  for (const id of Array.from(primeIds)) stepper.advance(id);
  const sampler = new TokenSampler(config.vocabSize, 1, null, null, false), rng = new Rng(seed);
  const ids: number[] = [];
  while (ids.length < length) {
    const id = sampler.draw(stepper, rng);
    if (id === EOS && stopAtEos) break;
    ids.push(id);
    stepper.advance(id);
  }
  return ids;
}

describe('scoreTokens', () => {
  // The fixture was computed by PyTorch in float64; the engine runs in float32, so the losses
  // agree to about 1e-7 here, and 1e-4 (the fixtures README's bound) leaves room for summation order.
  it.each(fixture.cases.map((c, i) => [i, c] as const))('reproduces the PyTorch loss of case %i', (_, c) => {
    const score = scoreTokens(trained.config, trained.params, trainedVocab.encode(c.text));
    expect(score.tokens).toBe([...c.text].length + 1);
    expect(Math.abs(score.lossSum / score.tokens - c.loss)).toBeLessThanOrEqual(1e-4);
  });

  it('the batched model over chunks of 7 (state carried), on one thread or two, agrees with the token-by-token stepper', async () => {
    const text = fixture.cases[2]!.text;
    const stream = new Int32Array([EOS, ...trainedVocab.encode(text), EOS]);
    const whole = scoreTokens(trained.config, trained.params, trainedVocab.encode(text));
    const chunked = await scoreStream(trained.config, trained.params, stream, 1, 7, 1);
    expect(chunked.tokens).toBe(whole.tokens);
    expect(chunked.lossSum / chunked.tokens).toBeCloseTo(whole.lossSum / whole.tokens, 5);
    // three rows of the same stream shared by two workers: each row is scored as on one thread
    const oneThread = await scoreStream(trained.config, trained.params, stream, 3, 7, 1);
    const twoThreads = await scoreStream(trained.config, trained.params, stream, 3, 7, 2);
    expect(twoThreads.tokens).toBe(oneThread.tokens);
    expect(twoThreads.lossSum).toBeCloseTo(oneThread.lossSum, 9);
  });

  it('gives the same score with the step split over three threads', async () => {
    const { createStepper } = await import('../src/parallel/inference.js');
    const stepper = await createStepper(trained.config, trained.params, 3);
    const text = fixture.cases[1]!.text;
    try {
      const here = scoreTokens(trained.config, trained.params, trainedVocab.encode(text));
      expect(scoreTokens(trained.config, trained.params, trainedVocab.encode(text), stepper)).toEqual(here);
    } finally {
      await stepper.close();
    }
  });

  it('reads characters outside the vocabulary as <UNK>', () => {
    const a = scoreTokens(trained.config, trained.params, trainedVocab.encode('snow ☃ and é'));
    const b = scoreTokens(trained.config, trained.params, trainedVocab.encode('snow \u{1F600} and \u00FF'));
    expect(a.tokens).toBe(13);
    expect(b).toEqual(a);
  });
});

describe('validationSplit', () => {
  const { dir } = scratchFolder('rnn-generate-');

  function trainedOn(file: string): LoadedModel {
    const prepared = prepareData(streamCorpus([file], 'line'), { valFrac: 0.25, minCount: 1 });
    const config = { ...TOY, vocabSize: prepared.vocab.size };
    const params = initParams(config, new Rng(3));
    const checkpoint = importedCheckpoint({ config, vocab: prepared.vocab.tokens, level: prepared.vocab.level, wordRule: prepared.vocab.wordRule, documents: prepared.vocab.documents, params }, ['test']);
    const { files, docs, valFrac, totalTokens, trainTokens, valTokens, sha256 } = prepared.fingerprint;
    checkpoint.corpus = { files, docs, valFrac, totalTokens, trainTokens, valTokens, sha256 };
    return { path: 'model.json', checkpoint, config, params, vocab: prepared.vocab };
  }

  it('rebuilds the split the checkpoint was trained with, and refuses once the corpus changed', () => {
    const file = join(dir, 'corpus.txt');
    writeFileSync(file, 'abc\nbad\ncab\ndab\nbcd\n');
    const model = trainedOn(file);
    const val = validationSplit(model);
    expect(val.length).toBe(model.checkpoint.corpus!.valTokens);
    expect(model.vocab.decode(val, { eos: '|' })).toBe('b|bcd|');
    writeFileSync(file, 'abc\nbad\ncab\ndab\nbcc\n');
    expect(() => validationSplit(model)).toThrow(/corpus .* changed since training/);
  });

  it('refuses a corpus file that is gone saying what to score instead, as its other refusals do', () => {
    const file = join(dir, 'gone.txt');
    writeFileSync(file, 'abc\nbad\ncab\ndab\nbcd\n');
    const model = trainedOn(file);
    rmSync(file);
    expect(userMessage(thrownBy(() => validationSplit(model), CorpusError))).toBe(
      `cannot rebuild the validation split of model.json: corpus file not found: ${file}; name files to score, or use --text`);
  });

  it('refuses an imported model, which records no corpus', () => {
    const file = join(dir, 'other.txt');
    writeFileSync(file, 'abcd\n');
    const model = trainedOn(file);
    model.checkpoint.corpus = null;
    expect(() => validationSplit(model)).toThrow(CorpusError);
    expect(() => validationSplit(model)).toThrow(/records no training corpus/);
  });
});

describe('sampleText', () => {
  it('is reproducible from the seed, and the seed matters', () => {
    const a = sample({ seed: 5, topP: 0.95, prime: 'ROMEO:\n' });
    expect(sample({ seed: 5, topP: 0.95, prime: 'ROMEO:\n' })).toBe(a);
    expect([...a]).toHaveLength(80);
    expect(sample({ seed: 6, topP: 0.95, prime: 'ROMEO:\n' })).not.toBe(a);
  });

  it('streams exactly the text it returns, without the prime', () => {
    const chunks: string[] = [];
    const text = sample({ prime: 'KING:', onText: (c) => chunks.push(c) });
    expect(chunks).toHaveLength(80);
    expect(chunks.join('')).toBe(text);
  });

  it('at temperature 0 draws the argmax of a full-sequence forward pass at every step', () => {
    const prime = 'First Citizen:\n';
    const text = sample({ temperature: 0, prime, seed: 1, length: 60 });
    expect(sample({ temperature: 0, prime, seed: 99, length: 60 })).toBe(text);
    // Check it against the model run once over the whole sequence (a different code path from the one-token loop).
    const ids = [EOS, ...trainedVocab.encode(prime + text)];
    const model = modelOn('js', trained.config, trained.params, { grads: false, batchSize: 1, seqLen: ids.length - 1 });
    model.tokens.set(ids.slice(0, -1));
    model.forward(null);
    const V = trained.config.vocabSize;
    for (let t = ids.length - 1 - 60; t < ids.length - 1; t++) {
      const row = model.logits.subarray(t * V, (t + 1) * V);
      let best = EOS;
      for (let v = 0; v < V; v++) if (v !== UNK && row[v]! > row[best]!) best = v;
      expect(ids[t + 1]).toBe(best);
    }
  });

  it('top-k 1 and a tiny top-p both equal the argmax', () => {
    const argmax = sample({ temperature: 0, prime: 'The ' });
    for (const seed of [1, 2, 3]) {
      expect(sample({ topK: 1, seed, prime: 'The ' })).toBe(argmax);
      expect(sample({ topP: 1e-9, seed, prime: 'The ' })).toBe(argmax);
    }
  });

  it('top-p 1 and a top-k of the whole vocabulary keep every token: they draw what no filter draws, seed for seed', () => {
    for (const seed of [1, 2, 3]) {
      const unfiltered = sample({ seed, prime: 'The ' });
      expect(sample({ topP: 1, seed, prime: 'The ' })).toBe(unfiltered);
      // every token but <UNK>, which is never drawn, is every token that may be
      expect(sample({ topK: trained.config.vocabSize - 1, seed, prime: 'The ' })).toBe(unfiltered);
      expect(sample({ topK: trained.config.vocabSize, seed, prime: 'The ' })).toBe(unfiltered);
      expect(sample({ topK: trained.config.vocabSize + 1, topP: 1, seed, prime: 'The ' })).toBe(unfiltered);
    }
  });

  it('never emits <UNK>, even when the model all but insists on it', () => {
    const params = toyParams({ [UNK]: 30 }); // e^30: near-certain, yet finite in float64
    for (const over of [{ temperature: 1 }, { temperature: 0 }, { temperature: 5, topK: 1 }, { temperature: 2, topP: 0.5 }]) {
      const chunks: string[] = [];
      const text = sampleText({ config: TOY, params, vocab: TOY_VOCAB, length: 200, seed: 4, prime: '?', onText: (c) => chunks.push(c), ...over });
      expect(chunks).toHaveLength(200);
      for (const c of chunks) expect(['a', 'b', 'c', 'd', '\n']).toContain(c);
      expect(text).not.toContain('\uFFFD');
    }
  });

  it('with stopAtEos stops where <EOS> is drawn, which otherwise prints as a line break', () => {
    const params = toyParams({ [EOS]: 1.5 });
    let stoppedEarly = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const base = { config: TOY, params, vocab: TOY_VOCAB, length: 50, temperature: 1, seed };
      const stopped = sampleText({ ...base, stopAtEos: true });
      const full = sampleText(base);
      expect(stopped).not.toContain('\n');
      expect(full.startsWith(stopped)).toBe(true);
      if (stopped.length < 50) {
        stoppedEarly++;
        expect(full[stopped.length]).toBe('\n');
      }
    }
    expect(stoppedEarly).toBe(20);
  });

  it('rejects a negative length and an out-of-range top-p', () => {
    expect(() => sample({ length: -1 })).toThrow(RangeError);
    expect(() => sample({ topP: 2 })).toThrow(RangeError);
    expect(() => sample({ temperature: -1 })).toThrow(RangeError);
  });
});

/** The reference of sampleCompletions: each sample a sampleText call of its own, which reads the prime again. */
function eachSampleReadingThePrime(opts: CompletionOptions & { stepper: Stepper }): string[] {
  const { n, ...one } = opts;
  return Array.from({ length: n }, (_, i) => sampleText({ ...one, seed: (opts.seed + i) >>> 0 }));
}

const WORD_VOCAB = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'the', 'cat', 'sat', 'on', 'mat', '.', ',', '\n'], 'word');

describe('sampleText at the word level', () => {
  const vocab = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'he', 'said', 'cats', 'no', 'tis', "'", '!', '=', '.', '\n'], 'word');
  const config: ModelConfig = { cell: 'gru', vocabSize: vocab.size, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
  const params = initParams(config, new Rng(5));
  const held = new Set([vocab.idOf("'"), vocab.idOf('!')]);

  it("streams one piece per token drawn, which make the detokeniser's text of them, a ' or ! last included", () => {
    let endsHeld = 0, stopsHeld = 0;
    for (let seed = 0; seed < 40; seed++) {
      for (const stopAtEos of [false, true]) {
        const prime = "he said '", length = 12, chunks: string[] = [];
        const text = sampleText({ config, params, vocab, prime, length, temperature: 1, seed, stopAtEos, onText: (c) => chunks.push(c) });
        const primeIds = vocab.encode(prime), ids = drawnIds(config, params, primeIds, length, seed, stopAtEos);
        expect(chunks).toHaveLength(ids.length);
        expect(chunks.join('')).toBe(text);
        expect(text).toBe(vocab.tokenTexts([...primeIds, ...ids], { eos: '\n' }).slice(primeIds.length).join(''));
        if (held.has(ids[ids.length - 1]!)) {
          if (ids.length === length) endsHeld++;
          else stopsHeld++;
        }
      }
    }
    expect(endsHeld, 'samples whose last token is held').toBeGreaterThan(0);
    expect(stopsHeld, 'samples stopped by <EOS> after a held token').toBeGreaterThan(0);
  });
});

describe("a drawn <EOS>'s piece", () => {
  const vocab = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'he', 'said', 'cats', 'no', 'tis', "'", '!', '=', '.', '\n'], 'word', WORD_RULE_VERSION, {
    docs: 'blank', sentenceRule: SENTENCE_RULE_VERSION,
  });
  const config: ModelConfig = { cell: 'gru', vocabSize: vocab.size, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
  const params = initParams(config, new Rng(5));
  params[paramLayout(config).byName.get('head.bias')!.offset + EOS] = 1;
  const held = new Set([vocab.idOf("'"), vocab.idOf('!')]);

  it('is marked, and is what parts the documents alone: a token held for the one after it keeps its text in its own piece', () => {
    let heldBeforeEos = 0;
    for (let seed = 0; seed < 40; seed++) {
      const opts = { config, params, vocab, prime: 'he said', length: 30, temperature: 1, seed };
      const { readPrime, pieces } = sampleParts(opts);
      expect(finish(readPrime)).toBe(true);
      const drawn = [...pieces], ids = drawnIds(config, params, vocab.tokenize(opts.prime).ids, opts.length, seed);
      expect(drawn.map((p) => p.eos)).toEqual(ids.map((id) => id === EOS));
      expect(drawn.map((p) => p.text).join('')).toBe(sampleText(opts));
      for (const [i, id] of ids.entries()) {
        if (id !== EOS) continue;
        expect(drawn[i]!.text, `seed ${seed}, token ${i}`).toBe('\n\n');
        if (i > 0 && held.has(ids[i - 1]!)) {
          heldBeforeEos++;
          expect(drawn[i - 1]!.text).toContain(vocab.tokens[ids[i - 1]!]);
        }
      }
    }
    expect(heldBeforeEos, 'samples that draw <EOS> after a held token').toBeGreaterThan(0);
  });
});

describe("a drawn <EOS> is written as the model's documents are parted", () => {
  /** `vocab` cutting the texts it reads by `docs`. */
  const cutting = (vocab: Vocabulary, docs: DocsMode) =>
    Vocabulary.fromTokens(vocab.tokens, vocab.level, WORD_RULE_VERSION, { docs, sentenceRule: SENTENCE_RULE_VERSION });

  it('at the character level: a blank line for --docs blank, a line break for line and file, a space between sentences', () => {
    const params = toyParams({ [EOS]: 1.5 });
    const separators: Record<DocsMode, string> = { file: '\n', line: '\n', blank: '\n\n', sentence: ' ' };
    for (const docs of DOCS_MODES) {
      const vocab = cutting(TOY_VOCAB, docs);
      for (const seed of [1, 2, 3]) {
        const opts = { config: TOY, params, vocab, length: 40, temperature: 1, seed, prime: 'ab' };
        const ids = drawnIds(TOY, params, vocab.tokenize('ab').ids, 40, seed);
        expect(ids, 'the sample draws <EOS>').toContain(EOS);
        const written = ids.map((id) => (id === EOS ? separators[docs] : vocab.tokens[id])).join('');
        expect(sampleText(opts), docs).toBe(written);
        expect(sampleCompletions({ ...opts, n: 2 })[0], docs).toBe(written);
      }
    }
  });

  it('at the character level, no space between sentences after a CJK or fullwidth mark, as Chinese and Japanese write them', () => {
    const cjk = Vocabulary.fromTokens(['<EOS>', '<UNK>', '本', '当', '。', '？'], 'char', WORD_RULE_VERSION,
      { docs: 'sentence', sentenceRule: SENTENCE_RULE_VERSION });
    const params = toyParams({ [EOS]: 1.5 });
    let eosAfterMark = 0;
    for (const [seed, prime] of [[1, '本当'], [2, '本当。'], [3, '当？'], [4, '本']] as const) {
      const read = cjk.tokenize(prime);
      const ids = drawnIds(TOY, params, [...read.ids, ...(read.primeTail ?? [])], 40, seed);
      let before = prime.at(-1)!;
      const written = ids.map((id) => {
        const text = id === EOS ? (/[。？]/.test(before) ? '' : ' ') : cjk.tokens[id]!;
        if (id === EOS && text === '') eosAfterMark++;
        if (text !== '') before = text;
        return text;
      }).join('');
      expect(sampleText({ config: TOY, params, vocab: cjk, length: 40, temperature: 1, seed, prime }), prime).toBe(written);
    }
    expect(eosAfterMark, '<EOS> drawn after a mark').toBeGreaterThan(0);
  });

  it('at the word level: a blank line for --docs blank; between sentences the space the detokeniser puts between words', () => {
    const words = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'the', 'cat', 'sat', 'on', 'mat', '.'], 'word');
    const config: ModelConfig = { cell: 'gru', vocabSize: words.size, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
    const params = initParams(config, new Rng(5));
    params[paramLayout(config).byName.get('head.bias')!.offset + EOS] = 1.5;
    const primeIds = Array.from(words.encode('the cat'));
    for (const seed of [1, 2, 3]) {
      const ids = drawnIds(config, params, primeIds, 30, seed);
      expect(ids, 'the sample draws <EOS>').toContain(EOS);
      const sample = (docs: DocsMode) => sampleText({ config, params, vocab: cutting(words, docs), length: 30, temperature: 1, seed, prime: 'the cat' });
      /** The text of `drawn` after the prime, each <EOS> written as `eos`. */
      const written = (drawn: number[], eos?: string) => words.tokenTexts([...primeIds, ...drawn], { eos }).slice(primeIds.length).join('');
      expect(sample('blank')).toBe(written(ids, '\n\n'));
      expect(sample('blank')).toContain('\n\n');
      expect(sample('line')).toBe(written(ids, '\n'));
      expect(sample('sentence')).toBe(written(ids.filter((id) => id !== EOS)));
    }
  });
});

for (const kernels of kernelKinds()) {
  describe(`sampleCompletions reads the prime once, ${kernels} kernels`, () => {
    // '?' and 'dog' read as <UNK>; with <EOS> likelier, samples that stop at it end at different lengths
    const cases = [
      { vocab: TOY_VOCAB, prime: 'abca?dd', draws: [{}, { topK: 3, stopAtEos: true }, { topP: 0.8, temperature: 1.4, unk: 'show' as const }] },
      { vocab: WORD_VOCAB, prime: 'the cat sat on the dog', draws: [{}, { stopAtEos: true, temperature: 0.7 }] },
    ];
    it.each(CELL_KINDS)('every %s sample is, to the bit, the one a call of its own draws from the prime', (cell) => {
      for (const { vocab, prime, draws } of cases) {
        const config: ModelConfig = { cell, vocabSize: vocab.size, embedDim: 5, hiddenSize: 9, numLayers: 2, dropout: 0 };
        // weights 4× PyTorch's initial ones: the draws then hang on the state, so a state or logits not restored shows
        const params = initParams(config, new Rng(7)).map((w) => 4 * w);
        params[paramLayout(config).byName.get('head.bias')!.offset + EOS] = 1;
        for (const draw of draws) {
          const opts = { config, params, vocab, prime, length: 30, temperature: 1, seed: 0xfffffffe, n: 5, ...draw };
          const expected = eachSampleReadingThePrime({ ...opts, stepper: new Stepper(config, params, kernels) });
          const completions = sampleCompletions({ ...opts, stepper: new Stepper(config, params, kernels) });
          expect(completions, `${vocab.level} ${JSON.stringify(draw)}`).toEqual(expected);
          expect(new Set(completions).size, 'the seeds give different samples').toBeGreaterThan(1);
        }
      }
    });
  });
}

describe('sampleCompletions', () => {
  const toy = { config: TOY, params: toyParams(), vocab: TOY_VOCAB, length: 20, temperature: 1, seed: 3 };

  it('throws StoppedError once the signal is aborted, reading the prime or drawing, reading it no further', () => {
    const reads = (at: number) => ({ count: 0, get aborted() { return ++this.count >= at; } });
    for (const at of [3, 8 + 21 + 5]) {
      // the prime's 8 reads, the first sample's 21 (one a token, one at its end), and a few of the second's
      const signal = reads(at);
      expect(() => sampleCompletions({ ...toy, prime: 'abcdabcd', n: 4, signal })).toThrow(StoppedError);
      // a sample stopped while drawing reads it once more as it ends
      expect(signal.count).toBeLessThanOrEqual(at + 1);
    }
  });

  it('refuses a count of samples that is not a positive integer', () => {
    expect(() => sampleCompletions({ ...toy, n: 0 })).toThrow(/^n: must be a positive integer \(got 0\)$/);
    expect(() => sampleCompletions({ ...toy, n: 1.5 })).toThrow(/^n: must be a positive integer \(got 1\.5\)$/);
  });
});

describe.each(kernelKinds())('TokenSampler on %s kernels', (kind) => {
  // logits chosen so that the probabilities (UNK aside) are 0.5, 0.3, 0.15, 0.05
  const probs = [0.5, 0, 0.3, 0.15, 0.05];
  const logits = Float32Array.from(probs, (p, id) => (id === UNK ? 50 : Math.log(p)));

  /** What a model whose logits are `z` holds for the next token: `z`, and its distribution on these kernels (nextTokenDistribution). */
  function next(z: Float32Array): NextToken {
    const kernels = createKernels(kind, new Arena()), own = kernels.arena.floats(z.length), p = kernels.arena.floats(z.length);
    own.set(z);
    const probabilities = (t: number, excluded: number) => nextTokenDistribution(kernels, own, p, z.length, t, excluded);
    return { logits: own, probabilities };
  }

  function frequencies(sampler: TokenSampler, draws = 40000): number[] {
    const rng = new Rng(123), counts = new Array<number>(probs.length).fill(0), from = next(logits);
    for (let i = 0; i < draws; i++) counts[sampler.draw(from, rng)]!++;
    return counts.map((n) => n / draws);
  }

  // 40 000 draws: the standard error of a frequency is at most 0.0025, so 0.01 is four of them.
  it('draws in proportion to the softmax, with <UNK> removed', () => {
    frequencies(new TokenSampler(5, 1, null, null)).forEach((f, id) => expect(Math.abs(f - probs[id]!)).toBeLessThan(0.01));
  });

  it('top-k keeps the k most probable and renormalises', () => {
    const want = [0.5 / 0.8, 0, 0.3 / 0.8, 0, 0];
    frequencies(new TokenSampler(5, 1, 2, null)).forEach((f, id) => expect(Math.abs(f - want[id]!)).toBeLessThan(0.01));
  });

  it('top-p keeps the smallest most-probable set whose mass reaches p', () => {
    const want = [0.5 / 0.95, 0, 0.3 / 0.95, 0.15 / 0.95, 0];
    frequencies(new TokenSampler(5, 1, null, 0.9)).forEach((f, id) => expect(Math.abs(f - want[id]!)).toBeLessThan(0.01));
  });

  it('at temperature 0 draws the most probable token, top-k and top-p notwithstanding', () => {
    const rng = new Rng(9), likeliestLast = next(Float32Array.from([0.05, 0, 0.15, 0.3, 0.5], (p, id) => (id === UNK ? 50 : Math.log(p))));
    for (const [topK, topP] of [[null, null], [3, null], [null, 0.9], [2, 0.5]] as const) {
      const sampler = new TokenSampler(5, 0, topK, topP);
      expect(Array.from({ length: 20 }, () => sampler.draw(likeliestLast, rng)), `top-k ${topK}, top-p ${topP}`).toEqual(Array(20).fill(4));
    }
  });

  it('at temperature 0 takes the lowest id of the most probable tokens that tie, <UNK> left out', () => {
    const rng = new Rng(9);
    for (const [z, want] of [[[0, 0, 3, 3, 1], 2], [[3, 9, 1, 3, 3], 0], [[1, 9, 2, 2, 2], 2]] as const) {
      expect(new TokenSampler(5, 0, null, null).draw(next(Float32Array.from(z)), rng), `logits ${z}`).toBe(want);
    }
  });

  it('at a temperature so small that z / T overflows float32 draws the most probable token, as its limit 0 does', () => {
    const rng = new Rng(9), likeliestLast = next(Float32Array.from([0.05, 0, 0.15, 0.3, 0.5], (p, id) => (id === UNK ? 50 : Math.log(p))));
    for (const temperature of [1e-40, 1e-300, Number.MIN_VALUE]) {
      for (const [topK, topP] of [[null, null], [3, null], [null, 0.9], [2, 0.5]] as const) {
        const sampler = new TokenSampler(5, temperature, topK, topP);
        expect(Array.from({ length: 20 }, () => sampler.draw(likeliestLast, rng)), `T ${temperature}, top-k ${topK}, top-p ${topP}`)
          .toEqual(Array(20).fill(4));
      }
    }
  });

  it('top-k and top-p rank by the logits: at a temperature whose float32 probabilities tie, the k largest logits are kept', () => {
    const rng = new Rng(11), rising = next(Float32Array.from([1, 0, 2, 3, 4]));
    for (const [topK, topP, kept] of [[2, null, [3, 4]], [null, 0.3, [3, 4]], [3, 0.9, [2, 3, 4]]] as const) {
      const sampler = new TokenSampler(5, 1e30, topK, topP);
      const drawn = new Set(Array.from({ length: 200 }, () => sampler.draw(rising, rng)));
      expect([...drawn].sort(), `top-k ${topK}, top-p ${topP}`).toEqual(kept);
    }
  });

  it('top-p stops at the token whose mass reaches p exactly: of two equally probable tokens at p = 0.5, the lower id only', () => {
    const sampler = new TokenSampler(3, 1, null, 0.5), rng = new Rng(5);
    const even = next(Float32Array.from([0, 0, 0])); // ids 0 and 2 (and <UNK>, which is never drawn)
    const drawn = new Set(Array.from({ length: 200 }, () => sampler.draw(even, rng)));
    expect([...drawn]).toEqual([0]);
  });

  it('sharpens with a low temperature', () => {
    const f = frequencies(new TokenSampler(5, 0.25, null, null));
    const z = probs.map((p, id) => (id === UNK ? 0 : p ** 4)), total = z.reduce((a, b) => a + b);
    f.forEach((x, id) => expect(Math.abs(x - z[id]! / total)).toBeLessThan(0.01));
  });

  it('never draws <UNK> however its logit towers over the rest, and draws it when it may', () => {
    const towering = next(Float32Array.from([0, 120, 1, 2]));
    const rng = new Rng(4), sampler = new TokenSampler(4, 1, null, null), showing = new TokenSampler(4, 1, null, null, true);
    const drawn = Array.from({ length: 400 }, () => sampler.draw(towering, rng));
    expect(drawn).not.toContain(UNK);
    expect(new Set(drawn)).toEqual(new Set([0, 2, 3]));
    expect(Array.from({ length: 20 }, () => showing.draw(towering, rng))).toEqual(Array(20).fill(UNK));
  });
});
