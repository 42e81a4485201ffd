import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type Model, loadModel } from '../src/api/index.js';
import { importState } from '../src/checkpoint/convert.js';
import { createProgram } from '../src/cli/main.js';
import { Stepper } from '../src/engine/stepper.js';
import { primeTokens } from '../src/generate/continuation.js';
import { scoreStream, scoreTokens } from '../src/generate/score.js';
import { CHUNK_BYTES, checkTextFile, loadCorpusData } from '../src/text/corpus-stream.js';
import { readTextFile } from '../src/text/utf8.js';
import { CorpusError, unknownTokens } from '../src/text/corpus.js';
import { thrownBy } from './helpers/thrown.js';
import { type DocsMode, WHOLE_TEXTS } from '../src/text/documents.js';
import { SENTENCE_RULE_VERSION, type SentenceRule } from '../src/text/sentences.js';
import { EOS, EOS_TOKEN, type TextLevel, UNK, type Vocabulary } from '../src/text/vocab.js';
import { setUpRun } from '../src/train/setup.js';
import { train } from '../src/train/trainer.js';
import { ROOT, rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { EVAL_GRU } from './helpers/fixtures.js';
import { post, serve } from './helpers/serve.js';
import { speeches } from './helpers/speeches.js';

/*
 * A text a model reads (a prime, a scored text, activations) is cut into documents by the
 * model's own --docs rule, as its corpus was (docs/text.md "Reading a text"): scored, it is
 * the training stream of its documents; as a prime, the start of one.
 */

vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const scratch = scratchFolder('rnn-read-documents-');

/** Hard-wrapped prose with a blank line after every fourth line: lines, paragraphs and sentences to cut. */
function paragraphs(length: number, from = 0): string {
  return speeches(length, from).split('\n').map((line, i) => (i % 4 === 3 ? `${line}\n` : line)).join('\n');
}

/** A text to score, of the corpus's characters: blank lines before, between (one of spaces, a tab) and after; a line ending in spaces. */
const SCORED = `\n\n${paragraphs(1500, 1000)}   \n  \t\nThe end. Really.  \nIt is.\n\n\n`;

const TINY = { cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 2, seqLen: 16, workers: 1, kernels: 'js', maxSteps: 3, evalEvery: 0 } as const;
const MODES = ['line', 'blank', 'sentence'] as const satisfies readonly DocsMode[];
const LEVELS = ['char', 'word'] as const satisfies readonly TextLevel[];

const models = new Map<string, Model>();
const modelPaths = new Map<string, string>();
const key = (level: TextLevel, docs: DocsMode) => `${level} ${docs}`;
const modelOf = (level: TextLevel, docs: DocsMode): Model => models.get(key(level, docs))!;

beforeAll(async () => {
  const corpus = scratch.file(paragraphs(6000), 'corpus.txt');
  for (const level of LEVELS) {
    for (const docs of [...MODES, 'file'] as const) {
      const out = join(scratch.dir, `${level}-${docs}`);
      const result = await train({ ...TINY, level, docs, ...(level === 'word' && { vocabSize: 300 }), out }, [corpus]);
      modelPaths.set(key(level, docs), result.latest!);
      models.set(key(level, docs), loadModel(result.latest!, { kernels: 'js' }));
    }
  }
});

/** The training stream `<EOS> d1 <EOS> … dn <EOS>` of `text` as a file, made by the training's own corpus code in `model`'s vocabulary. */
function trainingStream(model: Model, text: string, sentenceRule?: SentenceRule) {
  const file = scratch.file(text);
  const docs = model.loaded.checkpoint.config.training.docs;
  return loadCorpusData([file], docs, { valFrac: 0, minCount: 1, vocab: model.vocab }, CHUNK_BYTES, undefined, sentenceRule).train;
}

/** The ids of `documents` joined by `<EOS>`, each document encoded in `vocab`. */
function joined(vocab: Vocabulary, documents: readonly string[]): number[] {
  return documents.flatMap((doc, i) => [...(i > 0 ? [EOS] : []), ...vocab.encode(doc)]);
}

describe('a scored text is the training stream of its documents', () => {
  for (const level of LEVELS) {
    for (const docs of MODES) {
      it(`${level}, --docs ${docs}: its loss is what a validation pass computes over the stream training makes of it`, async () => {
        const model = modelOf(level, docs);
        const stream = trainingStream(model, SCORED);
        const validation = await scoreStream(model.config, model.loaded.params, stream, 1, 64, 1, 'js');
        const scored = model.scoreSync(SCORED);
        expect(scored.predictions).toBe(stream.length - 1);
        expect(validation.tokens).toBe(stream.length - 1);
        // the same losses (each ≥ 0) of the same steps, one at a time and in chunks of 64: their
        // float64 sums differ only in grouping, ≤ N · ε · Σ
        expect(Math.abs(scored.lossSum - validation.lossSum), `scored ${scored.lossSum}, validation ${validation.lossSum}`)
          .toBeLessThanOrEqual(scored.predictions * Number.EPSILON * validation.lossSum);
        // its inputs are the stream's, the closing <EOS> the scorer's own
        expect([EOS, ...model.tokenize(SCORED).ids, EOS]).toEqual(Array.from(stream));
      });
    }
  }

  it('each <EOS> between documents is a prediction listed as the closing one is, its text what separates them', () => {
    const model = modelOf('char', 'line'), text = 'To be\n\n  \nor not\nto be';
    const { tokens } = model.scoreSync(text, { top: 2 });
    const ends = tokens.filter((t) => t.token === EOS_TOKEN);
    expect(ends.map((t) => t.text)).toEqual(['\n\n  \n', '\n', '']);
    for (const end of ends) expect(end.top).toHaveLength(2);
    expect(tokens.map((t) => t.text).join('')).toBe(text);
    const units = model.activationsSync(text, 0);
    expect(units.tokens.join('')).toBe(text);
    // a unit's tokens named as the scored ones are, each <EOS> between documents by name
    expect(units.names).toEqual(tokens.slice(0, -1).map((t) => t.token));
    expect(units.names.filter((name) => name === EOS_TOKEN)).toHaveLength(2);
    // at the word level white space is the detokeniser's: an <EOS> writes the line breaks between its documents
    const words = modelOf('word', 'blank').scoreSync('the war\nis over .\n\n\nIt is');
    expect(words.tokens.filter((t) => t.token === EOS_TOKEN).map((t) => t.text)).toEqual(['\n\n\n', '']);
    expect(words.tokens.map((t) => t.text).join('')).toBe('the war\nis over.\n\n\nIt is');
  });

  it('rnn eval perplexity scores a file as its documents, saying nothing else', async () => {
    const model = modelOf('char', 'line'), file = scratch.file(SCORED, 'validation.txt');
    const stream = trainingStream(model, SCORED);
    const run = await rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', modelPaths.get(key('char', 'line'))!, file, '--json', '--kernels', 'js']);
    expect(run.stderr).toBe('');
    const row = JSON.parse(run.stdout) as { tokens: number; loss: number };
    expect(row.tokens).toBe(stream.length - 1);
    expect(row.loss).toBeCloseTo(model.scoreSync(SCORED, { tokens: false }).loss, 6);
  });

  it('a checkpoint that records no sentence rules (written before their versions) reads a text under version 1', () => {
    const fixtures = join(ROOT, 'test', 'fixtures', 'sentence-rule-1');
    const model = loadModel(join(fixtures, 'step3.json'), { kernels: 'js' });
    const text = '你好。 今天天气很好！ Yes. We go.\nمرحبا؟ كيف حالك؟ Fine.\n\nThe end.';
    const underVersion1 = trainingStream(model, text, 1), underVersion2 = trainingStream(model, text, 2);
    expect(Array.from(underVersion1)).not.toEqual(Array.from(underVersion2));
    expect([EOS, ...model.tokenize(text).ids, EOS]).toEqual(Array.from(underVersion1));
  });
});

describe('a prime is the start of a training stream', () => {
  it('line: each line a document, and a line break at its end starts the next', () => {
    const vocab = modelOf('char', 'line').vocab;
    expect(Array.from(primeTokens(vocab, 'To be\nor not').ids)).toEqual(joined(vocab, ['To be', 'or not']));
    expect(Array.from(primeTokens(vocab, 'To be\n\nor not\n').ids)).toEqual([...joined(vocab, ['To be', 'or not']), EOS]);
    expect(Array.from(primeTokens(vocab, 'To be\n  ').ids)).toEqual([...joined(vocab, ['To be']), EOS, ...vocab.encode('  ')]);
    // no document read: the opening <EOS> alone, never two in a row
    expect(Array.from(primeTokens(vocab, '\n\n').ids)).toEqual([]);
    expect(Array.from(primeTokens(vocab, '').ids)).toEqual([]);
  });

  it('blank: a blank line ends a paragraph; a line break alone goes on with it', () => {
    for (const level of LEVELS) {
      const vocab = modelOf(level, 'blank').vocab;
      expect(Array.from(primeTokens(vocab, 'the war\nis over\n\nIt is').ids)).toEqual(joined(vocab, ['the war\nis over', 'It is']));
      expect(Array.from(primeTokens(vocab, 'the war\n \nis over\n\n').ids)).toEqual([...joined(vocab, ['the war', 'is over']), EOS]);
      expect(Array.from(primeTokens(vocab, 'the war\nis over\n').ids)).toEqual(Array.from(vocab.encode('the war\nis over\n')));
    }
  });

  it('sentence: a sentence\'s end and white space start the next; a space it goes on with is read', () => {
    const vocab = modelOf('char', 'sentence').vocab;
    expect(Array.from(primeTokens(vocab, 'The war is over. It is').ids)).toEqual(joined(vocab, ['The war is over.', 'It is']));
    expect(Array.from(primeTokens(vocab, 'The war is over. ').ids)).toEqual([...joined(vocab, ['The war is over.']), EOS]);
    expect(Array.from(primeTokens(vocab, 'The war is over.').ids)).toEqual(joined(vocab, ['The war is over.']));
    expect(Array.from(primeTokens(vocab, 'The war is ').ids)).toEqual(Array.from(vocab.encode('The war is ')));
  });

  it('generate, complete and beam read a prime so, and rnn sample echoes it as written with no warning', async () => {
    const model = modelOf('char', 'line'), text = 'To be\nor not\n', options = { len: 20, seed: 3 };
    const read = { text, ids: Int32Array.from([...joined(model.vocab, ['To be', 'or not']), EOS]), unknown: [] };
    const collect = async (pieces: AsyncIterable<string>) => {
      let all = '';
      for await (const piece of pieces) all += piece;
      return all;
    };
    expect(await collect(model.generate({ ...options, prime: text }))).toBe(await collect(model.generate({ ...options, prime: read })));
    expect(model.completeSync({ ...options, prime: text, n: 2 })).toEqual(model.completeSync({ ...options, prime: read, n: 2 }));
    expect(model.beamSync({ prime: text, beam: 2, len: 8 })).toEqual(model.beamSync({ prime: read, beam: 2, len: 8 }));
    const sample = ['--len', '20', '--seed', '3', '--kernels', 'js'];
    const run = await rnnIn(scratch.dir, ['sample', '--checkpoint', modelPaths.get(key('char', 'line'))!, '--prime', text, ...sample]);
    expect(run.stderr).toBe('');
    expect(run.stdout).toBe(text + await collect(model.generate({ ...options, prime: text })));
  });

  it('rnn sample echoes a prime as written, and its help says so: CRLF as LF, a leading BOM dropped, a character the model lacks as itself', async () => {
    const model = modelOf('char', 'line'), lacked = '☃';
    expect(model.vocab.idOf(lacked)).toBe(UNK);
    const run = await rnnIn(scratch.dir, [
      'sample', '--checkpoint', modelPaths.get(key('char', 'line'))!, '--prime', `\uFEFFTo be\r\nor not ${lacked}`, '--len', '1', '--kernels', 'js',
    ]);
    expect(run.stdout.startsWith(`To be\nor not ${lacked}`)).toBe(true);
    const sample = (await createProgram()).commands.find((command) => command.name() === 'sample')!;
    expect(sample.options.find((option) => option.long === '--prime')!.description).toMatch(/printed first, as written \(CRLF as LF, a leading BOM dropped\)/);
    expect(sample.description()).toMatch(/the prime \(as written\)/);
  });
});

describe("a drawn <EOS> is written as what parts the model's documents", () => {
  it('in the samples training shows at each evaluation: a space between two sentences of a --docs sentence run', async () => {
    // sentences of letters and a full stop alone: a space or a line break in a sample can only be a drawn <EOS>
    const corpus = scratch.file(`${'Yes. No. Maybe. Why? Go! '.repeat(120)}\n`, 'sentences.txt');
    const samples: string[] = [];
    await train({ ...TINY, docs: 'sentence', evalEvery: 1, out: join(scratch.dir, 'sampled-sentences') }, [corpus], {
      onEvent: (event) => {
        if (event.event === 'eval') samples.push(event.sample);
      },
    });
    expect(samples).toHaveLength(3);
    expect(samples.join('')).toContain(' ');
    expect(samples.join('')).not.toContain('\n');
  });
});

describe("a run's data reads text as its corpus was cut", () => {
  it.each(['line', 'blank', 'sentence'] as const)('--docs %s: the vocabulary of setUpRun\'s data cuts documents by that rule', (docs) => {
    const corpus = scratch.file(`${'Yes. No.\n\nMaybe. Why?\nGo!\n'.repeat(60)}`, `run-data-${docs}.txt`);
    const setup = setUpRun({ ...TINY, docs, out: join(scratch.dir, `run-data-${docs}`) }, [corpus]);
    try {
      const { documents } = setup.data.vocab;
      expect(documents.docs).toBe(docs);
      if (docs === 'sentence') expect(documents.sentenceRule).toBe(SENTENCE_RULE_VERSION);
      expect(setup.data.vocab.tokenize('Go!\nGo!').ids.filter((id) => id === EOS)).toHaveLength({ line: 1, blank: 0, sentence: 1 }[docs]);
    } finally {
      setup.lock.release();
    }
  });
});

describe('what tokenize made, built by hand', () => {
  it('a prime\'s tail is checked as its ids are, and a text\'s separators are strings', () => {
    const model = modelOf('char', 'line'), size = model.vocab.size;
    expect(() => model.completeSync({ prime: { text: 'a', ids: Int32Array.of(), unknown: [], primeTail: Int32Array.of(size) }, n: 1 })).toThrow(new RangeError(
      `prime.primeTail[0] is ${size}, not a token of this model's ${size}-token vocabulary: cut the text with this model's tokenize`));
    expect(() => model.beamSync({ prime: { text: 'a', ids: Int32Array.of(), unknown: [], primeTail: [EOS] as never }, beam: 2 })).toThrow(
      new TypeError('prime.primeTail: must be an Int32Array, as tokenize makes it (got an array of 1)'));
    expect(() => model.scoreSync({ text: 'a', ids: Int32Array.of(), unknown: [], separators: [1] as never })).toThrow(
      new TypeError('text.separators: must be an array of strings, as tokenize makes it (got an array of 1)'));
  });
});

describe('rnn serve reads a text as the library does', () => {
  it('/v1/score lists each <EOS> between documents, and /v1/generate reads a prime\'s documents', async () => {
    const model = modelOf('char', 'line'), text = 'To be\n\nor not\nto be', prime = 'To be\nor not\n';
    const server = await serve(scratch.dir, ['--checkpoint', `line=${modelPaths.get(key('char', 'line'))!}`, '--workers', '1', '--kernels', 'js']);
    try {
      const score = await post(`${server.url}/v1/score`, { model: 'line', text, top: 2 });
      expect(score.json).toEqual(JSON.parse(JSON.stringify(model.scoreSync(text, { top: 2 }))));
      const sample = await post(`${server.url}/v1/generate`, { model: 'line', prime, len: 20, seed: 3 });
      expect(sample.json).toMatchObject({ text: model.completeSync({ prime, len: 20, seed: 3, n: 1 })[0], unknownTokens: 0 });
    } finally {
      await server.stop();
    }
  });
});

describe('a text with CRLF line ends reads as the same text with LF, however it comes (docs/text.md)', () => {
  const lf = 'To be\n\n  \nor not\nto be.\nThat is\nthe question.\n\n', crlf = lf.replace(/\n/g, '\r\n');

  it('the library reads it so, scored, as a prime and for activations, and drops a leading BOM, at each level and rule', () => {
    for (const level of LEVELS) {
      for (const docs of [...MODES, 'file'] as const) {
        const model = modelOf(level, docs);
        for (const text of [crlf, `\uFEFF${crlf}`]) {
          expect({ ...model.tokenize(text) }).toEqual({ ...model.tokenize(lf) });
          expect(model.scoreSync(text, { top: 2 })).toEqual(model.scoreSync(lf, { top: 2 }));
          expect(model.activationsSync(text, 0)).toEqual(model.activationsSync(lf, 0));
          const sampled = { len: 12, seed: 3, n: 2 };
          expect(model.completeSync({ ...sampled, prime: text })).toEqual(model.completeSync({ ...sampled, prime: lf }));
        }
      }
    }
  });

  it('rnn eval perplexity, rnn sample and rnn serve read it as the library reads the text with LF', async () => {
    const model = modelOf('char', 'line'), path = modelPaths.get(key('char', 'line'))!, file = scratch.file(crlf, 'crlf.txt');
    const expected = model.scoreSync(lf, { tokens: false });
    const run = await rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', path, file, '--text', crlf, '--json', '--kernels', 'js', '--workers', '1']);
    expect(run.stderr).toBe('');
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { name: string; tokens: number; loss: number });
    expect(rows.map((row) => row.name)).toEqual([file, 'text 1', 'total']);
    for (const row of rows.slice(0, 2)) {
      expect(row.tokens).toBe(expected.predictions);
      expect(row.loss).toBeCloseTo(expected.loss, 9);
    }
    const sample = await rnnIn(scratch.dir, ['sample', '--checkpoint', path, '--prime', crlf, '--len', '12', '--seed', '3', '--kernels', 'js']);
    expect(sample.stdout).toBe(lf + model.completeSync({ prime: lf, len: 12, seed: 3, n: 1 })[0]);
    const server = await serve(scratch.dir, ['--checkpoint', `line=${path}`, '--workers', '1', '--kernels', 'js']);
    try {
      const score = await post(`${server.url}/v1/score`, { model: 'line', text: crlf, top: 2 });
      expect(score.json).toEqual(JSON.parse(JSON.stringify(model.scoreSync(lf, { top: 2 }))));
    } finally {
      await server.stop();
    }
  });
});

describe('rnn eval perplexity scores a file as it reads it, a piece at a time', () => {
  // a BOM, CRLF and LF line ends, blank lines, characters of two, three and four bytes, sentences that end in a CJK
  // mark, a lone CR at the end: pieces of every small size end inside each
  const text = `\uFEFF${SCORED.slice(0, 900).replace(/\n/g, (n, at: number) => (at % 3 === 0 ? '\r\n' : n))}` +
    'Café crème, 5 €.\r\n\r\n  \r\n😀 Yes! 你好。今天天气很好！ 再见。\r\nThe end.\r';

  it('its loss, predictions and unknown tokens are those of the whole text read, at each level and rule', async () => {
    const file = scratch.file(text, 'pieces.txt');
    for (const level of LEVELS) {
      for (const docs of [...MODES, 'file'] as const) {
        const model = modelOf(level, docs);
        const whole = await model.score(readTextFile(file), { tokens: false });
        const counts = new Map<string, number>();
        for (const token of model.tokenize(readTextFile(file)).unknown) counts.set(token, (counts.get(token) ?? 0) + 1);
        for (const chunkBytes of [4, 5, 6, 7, 11, CHUNK_BYTES]) {
          const read: unknown[] = [];
          const streamed = await model.scoreTextFile(file, { chunkBytes, onRead: (told) => read.push(told) });
          const at = `${level}, --docs ${docs}, ${chunkBytes} bytes at a time`;
          expect(streamed, at).toEqual({ lossSum: whole.lossSum, predictions: whole.predictions });
          expect(read, at).toEqual([{ predictions: whole.predictions, unknown: unknownTokens(counts) }]);
        }
      }
    }
  });

  it('refuses a file as reading it whole does, a piece at a time', () => {
    const invalid = Buffer.concat([Buffer.from('ab\r\ncafé\n'), Buffer.from([0xe2, 0x82]), Buffer.from('x\n')]);
    const files = [
      scratch.file(invalid), scratch.file(invalid.subarray(0, 12)), scratch.file(Buffer.concat([invalid, Buffer.from([0])])),
      scratch.file(Buffer.from([0xff, 0xfe, 0x68, 0])),
    ];
    for (const file of files) {
      const refusal = thrownBy(() => readTextFile(file), CorpusError).message;
      for (const chunkBytes of [4, 5, 6, 7, CHUNK_BYTES]) expect(() => checkTextFile(file, chunkBytes)).toThrow(refusal);
    }
  });
});

describe('a model whose documents are its files reads a text as one document, as before', () => {
  it('its scores, prime and tokens are those of the whole text, line breaks and all', () => {
    for (const level of LEVELS) {
      const model = modelOf(level, 'file'), text = 'To be\n\nor not\nto be.\n';
      const ids = model.vocab.encode(text);
      const tokenized = model.tokenize(text);
      expect(Object.keys(JSON.parse(JSON.stringify(tokenized)))).toEqual(['text', 'ids', 'unknown']);
      expect(Array.from(tokenized.ids)).toEqual(Array.from(ids));
      const stepper = new Stepper(model.config, model.loaded.params, 'js');
      expect(model.scoreSync(text).lossSum).toBe(scoreTokens(model.config, model.loaded.params, ids, stepper).lossSum);
      expect(Array.from(primeTokens(model.vocab, text).ids)).toEqual(Array.from(ids));
    }
  });

  it('an imported model, which records no documents, reads a text as one document', () => {
    const imported = join(scratch.dir, 'imported.json');
    importState(EVAL_GRU, imported, ['rnn', 'import'], false);
    const model = loadModel(imported, { kernels: 'js' }), text = 'KING:\nTo be\n\n';
    expect(model.vocab.documents).toEqual(WHOLE_TEXTS);
    expect({ ...model.tokenize(text) }).toEqual({ text, ids: model.vocab.encode(text), unknown: [] });
  });
});
