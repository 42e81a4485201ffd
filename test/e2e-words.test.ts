import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { expectOneLineError, rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

/**
 * The word level through the built CLI (`npm test` builds first): train → info → sample → eval
 * on the first 30 KB of the bundled corpus with a tiny model, and the bad input around it.
 */
// the schedule that does not depend on the run's length: 20 steps resumed to 30 are then the 30 of one run
const TINY = ['--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq-len', '8', '--workers', '1', '--lr-schedule', 'epoch'];

const { dir } = scratchFolder('rnn-e2e-words-');
let corpus: string;
let run: string;
const at = (name: string) => join(dir, name);
const rnn = (...args: string[]) => rnnIn(dir, args);

beforeAll(async () => {
  corpus = at('sotu-30k.txt');
  writeFileSync(corpus, speeches(30_000));
  run = at('run');
  const trained = await rnn('train', corpus, '--level', 'word', '--vocab-size', '500', ...TINY, '--max-steps', '20', '--out', run);
  expect(trained.stderr).not.toMatch(/internal error|warning/);
  expect(trained.status).toBe(0);
  // the 498 most frequent tokens, and how many others read as <UNK>
  const [, distinct, others] = /^training gru 1×16 \(embed 8\), [\d,]+ parameters, 500-token word vocabulary \(of ([\d,]+) distinct tokens; the other ([\d,]+), [\d.]+% of the training text, read as <UNK>\)\n/.exec(trained.stderr) ?? [];
  expect(Number(distinct!.replace(/,/g, '')) - Number(others!.replace(/,/g, ''))).toBe(498);
  expect(trained.stderr).toMatch(/training and [\d,]+ validation tokens/);
});

describe('rnn train --level word → info → sample → eval (built CLI)', () => {
  it('saves the level, the tokenizer rules version and a vocabulary of the most frequent tokens', async () => {
    const ckpt = loadCheckpoint(join(run, 'latest.json'));
    expect(ckpt.config.training).toMatchObject({ level: 'word', vocabSize: 500, wordRule: WORD_RULE_VERSION });
    expect(ckpt.vocab).toHaveLength(500);
    expect(ckpt.vocab.slice(0, 2)).toEqual(['<EOS>', '<UNK>']);
    expect(ckpt.vocab).toContain('the');

    const info = await rnn('info', join(run, 'latest.json'));
    expect(info.status).toBe(0);
    expect(info.stdout).toMatch(new RegExp(`\\nlevel +word \\(tokenizer rules version ${WORD_RULE_VERSION}\\)\\n`));
    const shown = /\nvocabulary +500 tokens: <EOS> <UNK>, then the most frequent: (.*) and 478 more\n/.exec(info.stdout);
    expect(shown).not.toBeNull();
    expect(shown![1]).toBe(ckpt.vocab.slice(2, 22).map((token) => JSON.stringify(token)).join(' '));
    expect(JSON.parse((await rnn('info', join(run, 'latest.json'), '--json')).stdout)).toMatchObject({ level: 'word', vocabSize: 500 });
  });

  it('lists a word as the warning of unknown tokens quotes it: its marks as written, but escaped in a word not in NFC', async () => {
    const text = at('marks.txt');
    writeFileSync(text, 'Cafe\u0301 नमस्ते Caf\u00e9 the.\n'.repeat(200));
    const out = at('marks-run');
    const trained = await rnn('train', text, '--level', 'word', ...TINY, '--max-steps', '1', '--out', out);
    expect(trained.status, trained.stderr).toBe(0);
    const info = await rnn('info', join(out, 'latest.json'));
    const shown = /then the most frequent: (.*)\n/.exec(info.stdout)![1]!.split(' ');
    expect(shown).toEqual(expect.arrayContaining(['"Cafe\\u{301}"', '"नमस्ते"', '"Café"']));
  });

  it('samples words joined as text: only the text on stdout, no <UNK> by default', async () => {
    const ckpt = join(run, 'latest.json');
    const sampled = await rnn('sample', '--checkpoint', ckpt, '--len', '60', '--seed', '4', '--prime', 'The Congress');
    expect(sampled.status).toBe(0);
    expect(sampled.stderr).toBe('');
    expect(sampled.stdout.startsWith('The Congress')).toBe(true);
    expect(sampled.stdout).not.toMatch(/<UNK>|\uFFFD| {2}/);
    const again = await rnn('sample', '--checkpoint', ckpt, '--len', '60', '--seed', '4', '--prime', 'The Congress', '--unk', 'resample');
    expect(again.stdout).toBe(sampled.stdout);
  });

  it('scores texts per word, with ln P(text) and P(text) as the notes write it', async () => {
    const ckpt = join(run, 'latest.json');
    const texts = ['--text', 'The Congress and the people.', '--text', 'The Congress and the zebra.'];
    const table = await rnn('eval', 'perplexity', '--checkpoint', ckpt, ...texts);
    expect(table.status).toBe(0);
    const [header, first, , total] = table.stdout.trimEnd().split('\n');
    expect(header).toMatch(/loss \(nats\/word\)\s+bits\/word\s+perplexity\s+predictions\s+ln P\(text\)\s+P\(text\)$/);
    expect(first).toMatch(/^text 1 .* 7 +-\d+\.\d\d +\d\.\de-\d+$/);
    expect(total).toMatch(/^total .* 14 +— +—$/);
    expect(table.stderr).toMatch(/^rnn: warning: text 2 has 1 token outside the vocabulary of .* \("zebra"\); it reads as <UNK>\n$/);

    const json = await rnn('eval', 'perplexity', '--checkpoint', ckpt, ...texts, '--json');
    const rows = json.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, number>);
    for (const row of rows.slice(0, 2)) {
      expect(Object.keys(row)).toEqual(['name', 'loss', 'bitsPerToken', 'perplexity', 'tokens', 'logProb']);
      expect(row['tokens']).toBe(7);
      expect(row['logProb']).toBeCloseTo(-row['loss']! * row['tokens']!, 9);
    }
    expect(rows[2]!['logProb']).toBeCloseTo(rows[0]!['logProb']! + rows[1]!['logProb']!, 9);

    const validation = await rnn('eval', 'perplexity', '--checkpoint', ckpt);
    expect(validation.status).toBe(0);
    expect(validation.stdout).toMatch(/\nvalidation .* — +—\n$/);
  });
});

describe('rnn plot at the word level (built CLI)', () => {
  it('charts a word-level run in tokens and nats per word, and refuses it beside a character-level run', async () => {
    const plotted = await rnn('plot', run, '--out', at('words.svg'));
    expect(plotted.status).toBe(0);
    const svg = readFileSync(at('words.svg'), 'utf8');
    expect(svg).toContain('>tokens seen</text>');
    expect(svg).toContain('>loss (nats/word)</text>');
    const chars = await rnn('train', corpus, ...TINY, '--max-steps', '10', '--eval-every', '5', '--out', at('chars'));
    expect(chars.status).toBe(0);
    const mixed = await rnn('plot', at('chars'), run, '--out', at('mixed.svg'));
    expectOneLineError(mixed, /^rnn: \S*chars is a character-level run and \S*run a word-level one: .*plot each level on a chart of its own$/);
    expect(existsSync(at('mixed.svg'))).toBe(false);
  });
});

describe('rnn train --resume at the word level (built CLI)', () => {
  it('goes on exactly where it stopped: 20 steps then 10 more give the weights of 30 in one run', async () => {
    const resumed = await rnn('train', '--resume', run, '--max-steps', '30', '--out', at('resumed'));
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).toMatch(/^resuming .*latest\.json at step 20: gru 1×16 .* 500-token word vocabulary\n/);
    const whole = await rnn('train', corpus, '--level', 'word', '--vocab-size', '500', ...TINY, '--max-steps', '30', '--out', at('whole'));
    expect(whole.status).toBe(0);
    const [a, b] = [at('resumed'), at('whole')].map((folder) => loadCheckpoint(join(folder, 'latest.json')));
    expect(a!.training.step).toBe(30);
    expect(a!.config.training).toMatchObject({ level: 'word', vocabSize: 500 });
    expect(a!.vocab).toEqual(b!.vocab);
    expect(a!.weights).toEqual(b!.weights);
  });
});

describe('word-level bad input', () => {
  const cases: [string, () => string[], RegExp][] = [
    ['--level on resume against the checkpoint\'s', () => ['train', '--resume', run, '--level', 'char', '--max-steps', '40'],
      /^rnn: --level char contradicts .*latest\.json, which was trained with --level word: leave it out to resume, or start a new run without --resume$/],
    ['--vocab-size on resume against the checkpoint\'s', () => ['train', '--resume', run, '--vocab-size', '600', '--max-steps', '40'],
      /^rnn: --vocab-size 600 contradicts .*latest\.json, which was trained with --vocab-size 500/],
    ['an unknown --level', () => ['train', corpus, '--level', 'words', '--out', at('bad1')], /^rnn: --level: must be char or word \(got words\)$/],
    ['--vocab-size below 3', () => ['train', corpus, '--level', 'word', '--vocab-size', '2', '--out', at('bad2')],
      /^rnn: --vocab-size: must be an integer of at least 3 \(<EOS>, <UNK> and one token\) \(got 2\)$/],
    ['--vocab-size at the character level', () => ['train', corpus, '--vocab-size', '100', '--out', at('bad3')],
      /^rnn: --vocab-size applies to --level word only: a character-level vocabulary holds every character the training text has/],
    ['a corpus with no words', () => {
      writeFileSync(at('blank.txt'), ' \n\n\t\n');
      return ['train', at('blank.txt'), '--level', 'word', '--out', at('bad4')];
    }, /^rnn: corpus has no words: .*blank\.txt holds only white space$/],
    ['a corpus with no words cut by lines', () => {
      writeFileSync(at('blank.txt'), ' \n\n\t\n');
      return ['train', at('blank.txt'), '--level', 'word', '--docs', 'line', '--out', at('bad4')];
    }, /^rnn: corpus is empty: .*blank\.txt holds only white space, which --docs line makes no document of$/],
    ['a --min-count no token reaches', () => ['train', corpus, '--level', 'word', '--min-count', '100000', '--out', at('bad5')],
      /^rnn: no token of the training text is seen 100000 times or more, so every one would read as <UNK>: lower --min-count$/],
    ['an unknown --unk', () => ['sample', '--checkpoint', join(run, 'latest.json'), '--unk', 'hide'], /^rnn: --unk: must be resample or show \(got hide\)$/],
  ];

  it.each(cases)('%s: one line on stderr, no stack, non-zero exit, the run untouched', async (_, args, message) => {
    const before = readFileSync(join(run, 'latest.json'));
    expectOneLineError(await rnn(...args()), message);
    expect(readFileSync(join(run, 'latest.json')).equals(before)).toBe(true);
    for (const out of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) expect(existsSync(at(out))).toBe(false);
  });

  it('warns, and uses what there is, when --vocab-size asks for more tokens than the text has', async () => {
    const result = await rnn('train', corpus, '--level', 'word', '--vocab-size', '1000000', ...TINY, '--max-steps', '1', '--out', at('big'));
    expect(result.status).toBe(0);
    const warning = /^rnn: warning: --vocab-size 1000000 is more than the training text offers \(([\d,]+) distinct tokens\): using what there is, the ([\d,]+)-token vocabulary it offers\n/
      .exec(result.stderr);
    expect(warning).not.toBeNull();
    const size = Number(warning![2]!.replace(/,/g, ''));
    expect(size).toBe(Number(warning![1]!.replace(/,/g, '')) + 2);
    expect(loadCheckpoint(join(at('big'), 'latest.json')).vocab).toHaveLength(size);
    // the default --vocab-size, which no one asked for, warns of nothing: the start line gives the vocabulary's size
    const defaulted = await rnn('train', corpus, '--level', 'word', ...TINY, '--max-steps', '1', '--out', at('default-size'));
    expect(defaulted.status).toBe(0);
    expect(defaulted.stderr).toMatch(/, [\d,]+-token word vocabulary\n/);
    expect(defaulted.stderr).not.toMatch(/warning: --vocab-size/);
  });

  it('warns once, at train and at prepare, when most of the text is tokens seen once (Chinese runs between marks), not for English', async () => {
    // 600 runs of 5 characters, none seen twice, each followed by ， or 。: 600 of the 602 distinct tokens are seen once
    const runs = Array.from({ length: 600 }, (_, i) => Array.from({ length: 5 }, (_, j) => String.fromCodePoint(0x4e00 + 5 * i + j)).join(''));
    const chinese = at('chinese.txt');
    writeFileSync(chinese, runs.map((run, i) => run + (i % 3 === 2 ? '。\n' : '，')).join(''));
    const warning = /rnn: warning: (\d+)% of the training text is tokens seen only once \(([\d,]+) of ([\d,]+) distinct tokens\): a word-level model learns little of them; --level char reads every spelling\n/g;
    const trained = await rnn('train', chinese, '--level', 'word', ...TINY, '--max-steps', '1', '--out', at('chinese-run'));
    expect(trained.status, trained.stderr).toBe(0);
    const told = [...trained.stderr.matchAll(warning)];
    expect(told).toHaveLength(1);
    expect(Number(told[0]![1])).toBeGreaterThan(30);
    const prepared = await rnn('prepare', chinese, '--level', 'word', '--out', at('chinese-prepared'));
    expect(prepared.status, prepared.stderr).toBe(0);
    expect([...prepared.stderr.matchAll(warning)]).toHaveLength(1);
    // the prepared folder's warning was told at its prepare
    const fromFolder = await rnn('train', at('chinese-prepared'), ...TINY, '--max-steps', '1', '--out', at('chinese-folder-run'));
    expect(fromFolder.status, fromFolder.stderr).toBe(0);
    expect(fromFolder.stderr).not.toMatch(/seen only once/);
    const english = await rnn('train', corpus, '--level', 'word', ...TINY, '--max-steps', '1', '--out', at('english-run'));
    expect(english.status, english.stderr).toBe(0);
    expect(english.stderr).not.toMatch(/seen only once/);
  });
});
