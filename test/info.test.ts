import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolveCheckpointPath } from '../src/checkpoint/find.js';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { escapeCharacters, quotedToken, unknownTokensWarning } from '../src/cli/errors.js';
import { ROOT, TINY_RUN, expectOneLineError, rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

describe("rnn info's quoted tokens", () => {
  it('escapes a combining mark with nothing of its own to combine with, so it does not join the quote or its neighbour', () => {
    // word tokens: U+FE0F alone (the tokenizer cuts ❤️ into ❤ and it), a keycap, a word with its accent
    expect(escapeCharacters('\ufe0f')).toBe('"\\u{fe0f}"');
    expect(escapeCharacters('\ufe0f\u20e3')).toBe('"\\u{fe0f}\\u{20e3}"');
    expect(escapeCharacters('cafe\u0301')).toBe('"cafe\u0301"');
    expect(escapeCharacters('\u200d\u0301')).toBe('"\\u{200d}\\u{301}"');
    // a character vocabulary: each character a token of its own, so no mark combines with the one before
    expect(escapeCharacters('ae\u0301\n\u0301', 'tokens')).toBe('"ae\\u{301}\\n\\u{301}"');
    expect(escapeCharacters('\n\u0301')).toBe('"\\n\\u{301}"');
  });

  it('shows an emoji ZWJ sequence as the one emoji it is, and escapes a joiner that joins no two emoji', () => {
    // a family, a rainbow flag (🏳 U+FE0F), a technologist with a skin tone (👩🏽), a pirate flag (☠ U+FE0F)
    for (const emoji of ['👨\u200d👩\u200d👧', '🏳\ufe0f\u200d🌈', '👩🏽\u200d💻', '🏴\u200d☠\ufe0f']) {
      expect(escapeCharacters(emoji)).toBe(`"${emoji}"`);
    }
    // between letters (Persian می‌خواهم), at a token's edge, after a flag's regional indicators, which join no emoji
    expect(escapeCharacters('می\u200cخواهم')).toBe('"می\\u{200c}خواهم"');
    expect(escapeCharacters('a\u200db')).toBe('"a\\u{200d}b"');
    expect(escapeCharacters('👩\u200d')).toBe('"👩\\u{200d}"');
    expect(escapeCharacters('\u200d👩')).toBe('"\\u{200d}👩"');
    expect(escapeCharacters('👩\u200da')).toBe('"👩\\u{200d}a"');
    expect(escapeCharacters('🇫🇷\u200d👩')).toBe('"🇫🇷\\u{200d}👩"');
    // a character vocabulary: a joiner is a token of its own, beside whatever sorts next to it
    expect(escapeCharacters('©\u200d‼', 'tokens')).toBe('"©\\u{200d}‼"');
  });

  it('shows a subdivision flag (🏴 and its tag characters) as the one flag it is, and escapes a tag character anywhere else', () => {
    const tags = (code: string) => [...code].map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!)).join('');
    const [scotland, wales] = [`🏴${tags('gbsct')}\u{e007f}`, `🏴${tags('gbwls')}\u{e007f}`];
    for (const flag of [scotland, `${scotland}${wales}`, `Alba${scotland}!`]) expect(escapeCharacters(flag)).toBe(`"${flag}"`);
    // alone (the tokenizer rules of version 1 cut the flag into code points), after another base, with no cancel tag
    // or no tag before it, and after the flag's cancel tag
    expect(escapeCharacters('\u{e0067}')).toBe('"\\u{e0067}"');
    expect(escapeCharacters('a\u{e0067}\u{e007f}')).toBe('"a\\u{e0067}\\u{e007f}"');
    expect(escapeCharacters('🏴\u{e0067}\u{e0062}')).toBe('"🏴\\u{e0067}\\u{e0062}"');
    expect(escapeCharacters('🏴\u{e007f}')).toBe('"🏴\\u{e007f}"');
    expect(escapeCharacters(`${scotland}\u{e0067}`)).toBe(`"${scotland}\\u{e0067}"`);
    // a character vocabulary: each tag character is a token of its own
    expect(escapeCharacters('🏴\u{e0067}\u{e007f}', 'tokens')).toBe('"🏴\\u{e0067}\\u{e007f}"');
  });

  it('escapes in a token not in NFC the marks that NFC would change, and shows its emoji whole', () => {
    const [family, scotland] = ['👨\u200d👩\u200d👧', '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}'];
    for (const emoji of [family, '❤\ufe0f', scotland]) {
      expect(quotedToken(`Cafe\u0301${emoji}`)).toBe(`"Cafe\\u{301}${emoji}"`);
      expect(quotedToken(`Caf\u00e9${emoji}`)).toBe(`"Caf\u00e9${emoji}"`);
    }
    // x with an acute has no composed form: NFC keeps it, and it is shown as written beside the é NFC composes
    expect(quotedToken('x\u0301e\u0301')).toBe('"x\u0301e\\u{301}"');
    expect(quotedToken('e\u0301\u0323')).toBe('"e\\u{301}\\u{323}"');
    // a character that NFC replaces, with no mark to escape: the angstrom sign U+212B, whose NFC is Å U+00C5
    expect(quotedToken('x\u0301\u212b')).toBe('"x\u0301\\u{212b}"');
  });
});

describe('a folder rnn info is given', () => {
  const scratch = scratchFolder('rnn-info-runs-');

  it('is named as a folder of runs where it holds run folders (checkpoints/), not as one with no checkpoint', () => {
    const dir = scratch.folder();
    for (const name of ['gru', 'lstm']) mkdirSync(join(dir, name));
    writeFileSync(join(dir, 'gru', 'best.json'), '{}');
    writeFileSync(join(dir, 'lstm', 'latest.json'), '{}');
    expect(() => resolveCheckpointPath(dir)).toThrow(`${dir} is a folder of runs, not a run (${join(dir, 'gru')}/, ${join(dir, 'lstm')}/): ` +
      'name a checkpoint or a run folder (its best.json, else latest.json)');
    const empty = join(dir, 'lstm', 'empty');
    mkdirSync(empty);
    expect(() => resolveCheckpointPath(empty)).toThrow(`${empty} is a folder with no checkpoint in it, neither best.json nor latest.json: `);
  });
});

describe('the warning of tokens outside the vocabulary', () => {
  it('counts them in the level\'s unit, names the five most frequent with their counts, and says how many more', () => {
    expect(unknownTokensWarning('word', 'm.json', '--prime', [])).toBeNull();
    expect(unknownTokensWarning('word', 'm.json', '--prime', ["xyzzy's"])).toBe(
      '--prime has 1 token outside the vocabulary of m.json ("xyzzy\'s"); it reads as <UNK>');
    const unknown = ['pear', 'qq6', 'apple', 'pear', 'qq1', 'qq2', 'qq3', 'qq4', 'qq5', 'qq1'];
    expect(unknownTokensWarning('word', 'm.json', 'text 1', unknown)).toBe(
      'text 1 has 10 tokens outside the vocabulary of m.json ("pear" ×2, "qq1" ×2, "apple", "qq2", "qq3" and 3 others); they read as <UNK>');
    expect(unknownTokensWarning('char', 'm.json', 'text 2', ['☃', '\u0001', '☃', '🦄'])).toBe(
      'text 2 has 4 characters outside the vocabulary of m.json ("☃" ×2, "\\u{1}", "🦄"); they read as <UNK>');
    // an invisible token (a right-to-left mark, a lone accent) shown by its code point, not as an empty-looking pair of quotes
    expect(unknownTokensWarning('word', 'm.json', 'text 3', ['\u200f', '\u0301'])).toBe(
      'text 3 has 2 tokens outside the vocabulary of m.json ("\\u{301}", "\\u{200f}"); they read as <UNK>');
    // a word's marks as written (Devanagari vowel signs, Arabic harakat), but where the word is not in NFC, so that it shows
    expect(unknownTokensWarning('word', 'm.json', 'text 4', ['नमस्ते', 'مُحَمَّد', 'Cafe\u0301', 'Caf\u00e9'])).toBe(
      'text 4 has 4 tokens outside the vocabulary of m.json ("Cafe\\u{301}", "Café", "مُحَمَّد", "नमस्ते"); they read as <UNK>');
    expect(unknownTokensWarning('word', 'm.json', 'text 5', ['👨\u200d👩\u200d👧'])).toBe(
      'text 5 has 1 token outside the vocabulary of m.json ("👨\u200d👩\u200d👧"); it reads as <UNK>');
    const scotland = '🏴\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}';
    expect(unknownTokensWarning('word', 'm.json', 'text 6', [scotland])).toBe(
      `text 6 has 1 token outside the vocabulary of m.json ("${scotland}"); it reads as <UNK>`);
    // a token as long as a file (a line with no space) is quoted by its start and its length, not in full
    const long = `${'a'.repeat(39)}🦄${'b'.repeat(1_999_960)}`;
    expect(unknownTokensWarning('word', 'm.json', 'long.txt', [long, 'pear'])).toBe(
      `long.txt has 2 tokens outside the vocabulary of m.json ("${'a'.repeat(39)}🦄"… (2,000,000 characters), "pear"); they read as <UNK>`);
  });
});

describe("rnn info's corpus line", () => {
  const scratch = scratchFolder('rnn-info-corpus-');

  it('names the sentence rules a --docs sentence run was cut by (version 1 where the checkpoint records none)', async () => {
    const run = await rnnIn(ROOT, ['info', join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json')]);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^corpus +1 file, 275 tokens with <EOS> \(247 train, 28 validation\), docs sentence \(sentence rules version 1\), val-frac 0\.1$/m);
  });

  it('counts the files of a folder that hold text, an empty one apart, as the run did', async () => {
    const dir = scratch.folder();
    mkdirSync(join(dir, 'notes'));
    writeFileSync(join(dir, 'notes', 'a.txt'), speeches(1500));
    writeFileSync(join(dir, 'notes', 'b.txt'), speeches(1500));
    writeFileSync(join(dir, 'notes', 'empty.txt'), '');
    const run = await rnnIn(dir, ['train', 'notes', ...TINY_RUN, '--max-steps', '1', '--out', 'run']);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/^data: 2 files and 1 empty file: /m);
    const info = await rnnIn(dir, ['info', 'run']);
    expect(info.stdout).toMatch(/^corpus +2 files and 1 empty file, [\d,]+ tokens with <EOS> /m);
    expect(info.stdout).toMatch(/^ +\S+\/notes\/empty\.txt \(0 bytes\)$/m);
  });

  it('counts the token stream, each <EOS> with the text, so that it is not read as the run\'s count of characters', async () => {
    const dir = scratch.folder();
    writeFileSync(join(dir, 'corpus.txt'), speeches(3000));
    const run = await rnnIn(dir, ['train', 'corpus.txt', ...TINY_RUN, '--max-steps', '1', '--out', 'run']);
    expect(run.status).toBe(0);
    // the run counts the text's characters, the checkpoint its stream: <EOS> c1 … cN <EOS>
    const [, train, val] = /data: .*: ([\d,]+) training and ([\d,]+) validation characters/.exec(run.stderr)!.map((n) => n.replace(/,/g, ''));
    const info = await rnnIn(dir, ['info', 'run']);
    expect(info.stdout).toMatch(new RegExp(`^corpus +1 file, ${(Number(train) + Number(val) + 2).toLocaleString('en-US')} tokens with <EOS> \\(`, 'm'));
  });
});

describe("rnn info --json's fields", () => {
  it('are each named where docs/usage.md describes rnn info, `epoch` the whole epochs done and `epochs` the current one\'s part too', async () => {
    const usage = readFileSync(join(ROOT, 'docs', 'usage.md'), 'utf8');
    const section = usage.slice(usage.indexOf('## `rnn export`, `rnn import`, `rnn info`'), usage.indexOf('## `rnn plot'));
    const undocumented = new Set<string>();
    // a word-level run, and one cut into sentences: every field either has
    const runs = await Promise.all(['word-rule-1', 'sentence-rule-1'].map((fixture) =>
      rnnIn(ROOT, ['info', join(ROOT, 'test', 'fixtures', fixture, 'step6.json'), '--json'])));
    for (const run of runs) {
      expect(run.status).toBe(0);
      const info = JSON.parse(run.stdout) as Record<string, unknown> & { epoch: number; epochs: number };
      const { config, corpus, documents } = info as unknown as Record<'config' | 'corpus' | 'documents', object>;
      for (const name of [info, config, corpus, documents].flatMap((fields) => Object.keys(fields))) {
        if (!section.includes(`\`${name}\``)) undocumented.add(name);
      }
      expect(Number.isInteger(info.epoch)).toBe(true);
      expect(info.epochs).toBeGreaterThan(info.epoch);
      expect(info.epochs).toBeLessThan(info.epoch + 1);
    }
    expect([...undocumented]).toEqual([]);
  });
});

describe('rnn info with a bad RNN_KERNELS', () => {
  it('refuses it in one line naming the variable, as sample and eval do, where it was an internal error', async () => {
    const run = await rnnIn(ROOT, ['info', join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json')], { RNN_KERNELS: 'bogus' });
    expectOneLineError(run, /^rnn: RNN_KERNELS: must be one of auto, js, wasm, relaxed \(got bogus\)$/);
    expect(run.status).toBe(1);
  });
});

describe("rnn info's corpus rows", () => {
  const scratch = scratchFolder('rnn-info-');

  it('name the prepared folder a run read its token ids from, after the files it was made from', async () => {
    const dir = scratch.folder();
    writeFileSync(join(dir, 'corpus.txt'), speeches(3000));
    const prepared = await rnnIn(dir, ['prepare', 'corpus.txt', '--out', 'data']);
    expect(prepared.status).toBe(0);
    const run = await rnnIn(dir, ['train', 'data', ...TINY_RUN, '--max-steps', '1', '--out', 'run']);
    expect(run.status).toBe(0);
    const info = await rnnIn(dir, ['info', 'run']);
    expect(info.stdout).toMatch(new RegExp(`\\n {2,}${join(dir, 'corpus.txt')} \\([\\d,]+ bytes\\)\\nprepared +${join(dir, 'data')} \\(rnn prepare: the token ids it trained on\\)\\n`));
  });

  it('list the first files of a corpus of many and count the rest, which --json lists', async () => {
    const dir = scratch.folder();
    mkdirSync(join(dir, 'books'));
    const names = Array.from({ length: 13 }, (_, k) => `book${String(k).padStart(2, '0')}.txt`);
    names.forEach((name, k) => writeFileSync(join(dir, 'books', name), speeches(400, 400 * k)));
    expect((await rnnIn(dir, ['train', 'books', ...TINY_RUN, '--max-steps', '1', '--out', 'run'])).status).toBe(0);
    const info = await rnnIn(dir, ['info', 'run']);
    const rows = info.stdout.split('\n').filter((line) => /^ +\S/.test(line));
    expect(rows.map((line) => line.trim())).toEqual([
      ...names.slice(0, 10).map((name) => expect.stringMatching(new RegExp(`^${join(dir, 'books', name)} \\([\\d,]+ bytes\\)$`))),
      'and 3 more files (rnn info --json lists each)',
    ]);
    const json = await rnnIn(dir, ['info', 'run', '--json']);
    expect((JSON.parse(json.stdout) as { corpus: { files: unknown[] } }).corpus.files).toHaveLength(13);
  });

  it("name the learning rate's schedule, its decay where it decays by epoch, and a --clip-value where one was set", async () => {
    const dir = scratch.folder();
    writeFileSync(join(dir, 'corpus.txt'), speeches(3000));
    const settingsOf = async (out: string, flags: string[]) => {
      expect((await rnnIn(dir, ['train', 'corpus.txt', ...TINY_RUN, '--max-steps', '1', '--out', out, ...flags])).status).toBe(0);
      return (await rnnIn(dir, ['info', out])).stdout.split('\n').find((line) => line.startsWith('settings'));
    };
    expect(await settingsOf('cosine', [])).toMatch(/ lr 0\.003, lr-schedule cosine, clip 5, seed /);
    expect(await settingsOf('epoch', ['--lr-schedule', 'epoch', '--lr-decay', '0.5', '--clip-value', '2'])).toMatch(
      / lr 0\.003, lr-schedule epoch, lr-decay 0\.5, clip 5, clip-value 2, seed /);
  });

  it("refuse a prepared folder's train.bin and val.bin as its meta.json is refused: data to train on, not a model", async () => {
    const dir = scratch.folder();
    writeFileSync(join(dir, 'corpus.txt'), speeches(3000));
    expect((await rnnIn(dir, ['prepare', 'corpus.txt', '--out', 'data'])).status).toBe(0);
    for (const name of ['train.bin', 'val.bin']) {
      expectOneLineError(await rnnIn(dir, ['info', join('data', name)]), `rnn: ${join('data', name)} is not a checkpoint ` +
        `(a prepared folder's ${name}: data to train on, not a model): name a checkpoint or a run folder (its best.json, else latest.json)`);
    }
  });
});

describe("rnn info's paths", () => {
  const scratch = scratchFolder('rnn-info-paths-');

  it('show a control character in a file name escaped, where it reached the terminal', async () => {
    const dir = scratch.folder();
    const name = 'ctl\u001b[31m.json';
    copyFileSync(join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json'), join(dir, name));
    const run = await rnnIn(dir, ['info', name]);
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).toMatch(/^checkpoint +ctl\\u001b\[31m\.json$/m);
  });

  it('show one escaped in an error line too: a file that is not there', async () => {
    const run = await rnnIn(scratch.folder(), ['info', 'no\u001b[31m.json']);
    expect(run.stderr).not.toContain('\u001b');
    expectOneLineError(run, /no\\u001b\[31m\.json/);
  });
});
