import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { importedCheckpoint } from '../src/checkpoint/convert.js';
import { fromInteropState, toInteropState } from '../src/checkpoint/interop.js';
import { Model } from '../src/api/index.js';
import { loadModel } from '../src/checkpoint/load.js';
import { recordedLevel, settingsFromConfig } from '../src/checkpoint/settings.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { Stepper } from '../src/engine/stepper.js';
import { beamSearch } from '../src/generate/beam.js';
import { sampleText } from '../src/generate/sample.js';
import { scoreStream, scoreSummary, scoreTokens } from '../src/generate/score.js';
import { freshSettings, parseOptions } from '../src/train/options.js';
import { formatProbability } from '../src/text/probability.js';
import { EOS, EOS_TOKEN, UNK, UNK_TOKEN, Vocabulary } from '../src/text/vocab.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { readCheckpointJson } from './helpers/checkpoint.js';
import { prepareWhole } from './helpers/corpus.js';
import { scratchFolder } from './helpers/files.js';

const WORDS = [EOS_TOKEN, UNK_TOKEN, 'the', 'cat', 'sat', '.', ',', '(', ')', 'The', 'mat', 'on', '\n'];
const VOCAB = Vocabulary.fromTokens(WORDS, 'word');
const CONFIG: ModelConfig = { cell: 'gru', vocabSize: WORDS.length, embedDim: 6, hiddenSize: 10, numLayers: 2, dropout: 0 };
const CAT = WORDS.indexOf('cat');

/** A small random model over WORDS; `headBias` sets logits' biases (e.g. a huge one makes that token near certain). */
function params(headBias: Record<number, number> = {}): Float32Array {
  const p = initParams(CONFIG, new Rng(5));
  const bias = paramLayout(CONFIG).byName.get('head.bias')!;
  for (const [id, value] of Object.entries(headBias)) p[bias.offset + Number(id)] = value;
  return p;
}

const { dir } = scratchFolder('rnn-word-level-');

/** Writes `checkpoint` as JSON after `edit`, as a file from elsewhere would arrive. */
function written(name: string, checkpoint: Checkpoint, edit: (json: Checkpoint) => void = () => {}): string {
  const json = JSON.parse(JSON.stringify(checkpoint)) as Checkpoint;
  edit(json);
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify(json));
  return path;
}

describe('checkpoints at either level', () => {
  const word = importedCheckpoint({ config: CONFIG, vocab: WORDS, level: 'word', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: params() }, ['test']);

  it('record the level and the tokenizer rules version of a word-level model, and load it at the word level', () => {
    expect(word.config.training.level).toBe('word');
    expect(word.config.training.wordRule).toBe(WORD_RULE_VERSION);
    const model = loadModel(written('word.json', word));
    expect(model.vocab.level).toBe('word');
    expect(model.vocab.tokens).toEqual(WORDS);
    expect(model.vocab.encode('The cat sat.')).toEqual(new Int32Array([9, 3, 4, 5]));
    expect(settingsFromConfig(model.checkpoint.config).level).toBe('word');
  });

  it('load a checkpoint from before the word level (no level, no rule version) as character-level', () => {
    const chars = [EOS_TOKEN, UNK_TOKEN, 'a', 'b', 'c'];
    const config = { ...CONFIG, vocabSize: chars.length };
    const old = importedCheckpoint({ config, vocab: chars, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: initParams(config, new Rng(1)) }, ['test']);
    const path = written('old.json', old, (json) => {
      delete json.config.training.level;
      delete json.config.training.vocabSize;
      delete json.config.training.wordRule;
    });
    const stored = readCheckpointJson(path).config.training;
    expect(Object.keys(stored).filter((key) => ['level', 'wordRule', 'vocabSize'].includes(key))).toEqual([]);
    const model = loadModel(path);
    expect(recordedLevel(model.checkpoint.config.training)).toBe('char');
    expect(model.vocab.level).toBe('char');
    expect(model.vocab.encode('cab')).toEqual(new Int32Array([4, 2, 3]));
    expect(settingsFromConfig(model.checkpoint.config)).toMatchObject({ level: 'char' });
  });

  it('refuse a word-level model cut by newer tokenizer rules, or one that does not say which', () => {
    const newer = written('newer.json', word, (json) => (json.config.training.wordRule = WORD_RULE_VERSION + 1));
    expect(() => loadCheckpoint(newer)).toThrow(
      `${newer}: config.training.wordRule is ${WORD_RULE_VERSION + 1}: its words were cut by tokenizer rules version ${WORD_RULE_VERSION + 1}, ` +
        `newer than any this rnn has (versions 1 to ${WORD_RULE_VERSION}): read it with a newer rnn`,
    );
    const unsaid = written('unsaid.json', word, (json) => delete json.config.training.wordRule);
    expect(() => loadCheckpoint(unsaid)).toThrow(`${unsaid}: config.training.wordRule is missing`);
  });

  it('validate the vocabulary at its level: a word is no character, and white space is no word', () => {
    const asChars = written('as-chars.json', word, (json) => delete json.config.training.level);
    expect(() => loadCheckpoint(asChars)).toThrow(`${asChars}: vocab[2] is "the", not a single character`);
    const spaced = written('spaced.json', word, (json) => (json.vocab[3] = 'c t'));
    expect(() => loadCheckpoint(spaced)).toThrow(`${spaced}: vocab[3] is "c t", not a word token (it is empty or holds white space)`);
  });
});

describe('rnn-state/1 at either level', () => {
  it('carries a word-level model\'s level and rule version, and reads a file without them as character-level', () => {
    const state = JSON.parse(JSON.stringify(toInteropState(CONFIG, WORDS, params(), 'word'))) as ReturnType<typeof toInteropState>;
    expect(state.config.level).toBe('word');
    expect(state.config.word_rule).toBe(WORD_RULE_VERSION);
    expect(fromInteropState(state, 'word.json').level).toBe('word');

    const chars = [EOS_TOKEN, UNK_TOKEN, 'x', 'y'];
    const config = { ...CONFIG, vocabSize: chars.length };
    const plain = toInteropState(config, chars, initParams(config, new Rng(2)));
    expect(plain.config).not.toHaveProperty('level');
    expect(fromInteropState(JSON.parse(JSON.stringify(plain)), 'char.json').level).toBe('char');

    state.config.word_rule = WORD_RULE_VERSION + 1;
    expect(() => fromInteropState(state, 'newer.json')).toThrow(new RegExp(`^newer\\.json: config\\.word_rule is ${WORD_RULE_VERSION + 1}: its words were cut by tokenizer rules version ${WORD_RULE_VERSION + 1}, newer`));
  });
});

describe('P(text) at the word level', () => {
  it('is the sum of the log-softmax of each prediction, run token by token, the closing <EOS> included', async () => {
    const p = params();
    const text = 'The cat sat on the mat.\nthe dog sat.';
    const ids = VOCAB.encode(text);
    expect(Array.from(ids)).toContain(UNK); // "dog" is no word of WORDS
    const stepper = new Stepper(CONFIG, p);
    stepper.reset();
    let logProb = 0;
    const inputs = [EOS, ...ids], targets = [...ids, EOS];
    inputs.forEach((input, t) => {
      const logits = Array.from(stepper.advance(input));
      const max = Math.max(...logits);
      const logZ = max + Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
      logProb += logits[targets[t]!]! - logZ;
    });
    const summary = scoreSummary(scoreTokens(CONFIG, p, VOCAB.encode(text)));
    expect(summary.tokens).toBe(ids.length + 1);
    expect(summary.logProb).toBeCloseTo(logProb, 4);
    // per prediction: the mean loss in nats, in bits (÷ ln 2), and its perplexity e^loss
    expect(summary.loss).toBeCloseTo(-logProb / summary.tokens, 4);
    expect(summary.bitsPerToken).toBeCloseTo(-logProb / summary.tokens / Math.LN2, 4);
    expect(summary.perplexity).toBeCloseTo(Math.exp(-logProb / summary.tokens), 4);
    expect(formatProbability(summary.logProb)).toBe(Math.exp(logProb).toExponential(1));
    // the batched engine, one row of the same stream, gives the same sum
    const batched = await scoreStream(CONFIG, p, new Int32Array([EOS, ...ids, EOS]), 1, 5, 1);
    expect(-batched.lossSum).toBeCloseTo(logProb, 4);
  });
});

describe('scoring at the word level through the library API', () => {
  it('writes each prediction as the text spaces it, an unknown word as itself', () => {
    const word = importedCheckpoint({ config: CONFIG, vocab: WORDS, level: 'word', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: params() }, ['test']);
    const model = new Model(loadModel(written('api-word.json', word)), { kernels: 'js' });
    const text = 'The dog sat on the (rug).';
    const score = model.scoreSync(text);
    expect(score.tokens.map((t) => t.token)).toEqual(['The', UNK_TOKEN, 'sat', 'on', 'the', '(', UNK_TOKEN, ')', '.', EOS_TOKEN]);
    expect(score.tokens.map((t) => t.text).join('')).toBe(text);
    expect(model.tokenize(text).unknown).toEqual(['dog', 'rug']);
    expect(model.scoreSync(model.tokenize(text))).toEqual(score);
    expect(score.lossSum).toBe(scoreTokens(CONFIG, model.loaded.params, VOCAB.encode(text), new Stepper(CONFIG, model.loaded.params, 'js')).lossSum);
    expect(model.activationsSync(text, 1).tokens.join('')).toBe(text);
  });
});

describe('sampling at the word level', () => {
  it('spaces the first word after the prime as the detokeniser would, sampled or found by a beam search', () => {
    const certainCat = params({ [CAT]: 50 });
    const base = { config: CONFIG, params: certainCat, vocab: VOCAB, length: 3 };
    for (const draw of [
      (prime: string) => sampleText({ ...base, temperature: 0, seed: 1, prime }),
      (prime: string) => beamSearch({ ...base, beam: 2, prime, kernels: 'js' }).text,
      (prime: string) => beamSearch({ ...base, beam: 2, prime, kernels: 'js', onText: () => {} }).text,
    ]) {
      expect(draw('')).toBe('cat cat cat');
      expect(draw('The')).toBe(' cat cat cat');
      expect(draw('The ')).toBe('cat cat cat');
      expect(draw('The\t')).toBe('cat cat cat');
      expect(draw('the (')).toBe('cat cat cat');
    }
  });

  it('spaces the first word so where the detokeniser holds it back for the word after it (a §), to the sample\'s end', () => {
    const marked = [...WORDS, '§'], config = { ...CONFIG, vocabSize: marked.length };
    const certainMark = initParams(config, new Rng(5));
    certainMark[paramLayout(config).byName.get('head.bias')!.offset + marked.indexOf('§')] = 50;
    const vocab = Vocabulary.fromTokens(marked, 'word');
    // one §: held until the sample's end writes it; two: the first written with the second, which the end writes
    for (const length of [1, 2]) {
      const base = { config, params: certainMark, vocab, length };
      for (const draw of [
        (prime: string) => sampleText({ ...base, temperature: 0, seed: 1, prime }),
        (prime: string) => beamSearch({ ...base, beam: 2, prime, kernels: 'js' }).text,
        (prime: string) => beamSearch({ ...base, beam: 2, prime, kernels: 'js', onText: () => {} }).text,
      ]) {
        const marks = draw('');
        expect(marks).toBe('§'.repeat(length));
        expect(draw('The')).toBe(` ${marks}`);
        expect(draw('The ')).toBe(marks);
        expect(draw('The\t')).toBe(marks);
      }
    }
  });

  it('never draws <UNK> by default, even when its logit is huge; --unk show draws it and writes it as <UNK>', () => {
    const loudUnk = params({ [UNK]: 50 });
    const base = { config: CONFIG, params: loudUnk, vocab: VOCAB, length: 40, seed: 3 };
    for (const temperature of [0, 1]) {
      const resampled = sampleText({ ...base, temperature });
      expect(resampled).not.toMatch(/<UNK>|\uFFFD/);
      expect(resampled.length).toBeGreaterThan(0);
      expect(sampleText({ ...base, temperature, unk: 'resample' })).toBe(resampled);
      const shown = sampleText({ ...base, temperature, unk: 'show' });
      expect(shown).toBe(Array(40).fill('<UNK>').join(' '));
    }
  });
});

describe('word-level settings', () => {
  it('train at the word level with the vocabulary size asked, and refuse --vocab-size at the character level', () => {
    expect(freshSettings(parseOptions({ level: 'word', vocabSize: '500' }))).toMatchObject({ level: 'word', vocabSize: 500 });
    expect(freshSettings(parseOptions({}))).toMatchObject({ level: 'char' });
    expect(() => freshSettings(parseOptions({ vocabSize: 500 }))).toThrow(/^vocabSize applies to level word only/);
    expect(() => parseOptions({ level: 'word', vocabSize: 2 })).toThrow('vocabSize: must be an integer of at least 3');
    expect(() => parseOptions({ level: 'words' })).toThrow('level: must be char or word (got words)');
  });

  it('prepareData refuses a word-level corpus with no words, and a --min-count that leaves none', () => {
    const corpus = (documents: string[]) => ({ documents, files: [{ path: 'x.txt', bytes: 1, sha256: '0'.repeat(64) }], docs: 'file' as const });
    expect(() => prepareWhole(corpus(['\n\n', ' \n']), { valFrac: 0, minCount: 1, level: 'word' })).toThrow(/^corpus has no words: x\.txt/);
    expect(() => prepareWhole(corpus(['a b c']), { valFrac: 0, minCount: 2, level: 'word' })).toThrow(
      /^no token of the training text is seen 2 times or more/,
    );
    expect(() => prepareWhole(corpus(['hello world']), { valFrac: 0.75, minCount: 1, level: 'word' })).toThrow(
      'the training part of the corpus has no words: lower valFrac',
    );
  });
});
