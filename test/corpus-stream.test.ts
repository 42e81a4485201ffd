import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { type PreparedData, type PrepareOptions, prepareData } from '../src/text/corpus.js';
import { type DocsMode, DOCS_MODES } from '../src/text/documents.js';
import { loadCorpusData, streamCorpus } from '../src/text/corpus-stream.js';
import { tokenArrayFor, type TokenArray } from '../src/text/tokens.js';
import { defaultCorpus } from '../src/train/data.js';
import { prepareWhole, readCorpus } from './helpers/corpus.js';
import { scratchFolder } from './helpers/files.js';

// each prepares the default corpus several times, read whole and streamed
vi.setConfig({ testTimeout: 60_000 });

const { dir: scratch, file: tempFile } = scratchFolder('rnn-stream-');

function sameIds(a: TokenArray, b: TokenArray): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const OPTIONS: PrepareOptions = { valFrac: 0.1, minCount: 1 };

/** Prepares `paths` read whole and streamed `chunkBytes` at a time, and checks they agree; returns the streamed. */
function expectSameBothWays(paths: string[], docs: DocsMode, chunkBytes: number, options: PrepareOptions = OPTIONS): PreparedData {
  const whole = prepareWhole(readCorpus(paths, docs), options);
  const streamed = prepareData(streamCorpus(paths, docs, chunkBytes), options);
  expect(streamed.vocab.tokens).toEqual(whole.vocab.tokens);
  expect(streamed.fingerprint).toEqual(whole.fingerprint);
  expect(streamed.train.constructor).toBe(whole.train.constructor);
  expect(sameIds(streamed.train, whole.train)).toBe(true);
  expect(sameIds(streamed.val, whole.val)).toBe(true);
  return streamed;
}

/** The message each way throws, which must be the same. */
function expectSameError(paths: string[], docs: DocsMode, chunkBytes: number): string {
  let whole = '';
  try {
    readCorpus(paths, docs);
  } catch (err) {
    whole = (err as Error).message;
  }
  expect(whole).not.toBe('');
  expect(() => streamCorpus(paths, docs, chunkBytes)).toThrow(whole);
  return whole;
}

describe('streamCorpus', () => {
  it('gives the vocabulary, stream and fingerprint of the whole-file read on the default corpus, in every documents mode', () => {
    for (const docs of DOCS_MODES) expectSameBothWays([defaultCorpus()], docs, 1 << 16, { valFrac: 0.1, minCount: 3 });
  });

  it('refuses a piece too small for a code point: chunkBytes below 4, or not an integer', () => {
    expect(() => streamCorpus([defaultCorpus()], 'file', 3)).toThrow('chunkBytes: must be an integer >= 4 (got 3)');
    expect(() => streamCorpus([defaultCorpus()], 'file', 4.5)).toThrow('chunkBytes: must be an integer >= 4 (got 4.5)');
  });

  it('agrees at every chunk size on multi-byte characters, CRLF, a BOM, blank lines and a lone CR', () => {
    const texts = [
      '\uFEFFhéllo wörld — 😀 日本語\r\n\r\nsecond 𝄞 line.\r\n  \r\nthird. Fourth?\r\n',
      'abcdef\n\n\n  \nxyz\n\t\n\nlast. One more! Done',
      'abc\r\r\ndef\rg\n\n\nh\r',
      'abcdefg\uFEFFh\uFEFF\n\n',
      '\n\n\n',
      '',
    ];
    const paths = texts.map((text) => tempFile(text));
    for (let chunkBytes = 4; chunkBytes <= 13; chunkBytes++) {
      for (const docs of DOCS_MODES) {
        for (const path of paths.slice(0, -2)) expectSameBothWays([path], docs, chunkBytes, { valFrac: 0.3, minCount: 1 });
        expectSameBothWays(paths, docs, chunkBytes, { valFrac: 0.3, minCount: 1 });
      }
    }
  });

  it('gives at the word level the vocabulary, compact stream and fingerprint of the whole-file read on the default corpus, in every documents mode', () => {
    for (const docs of DOCS_MODES) {
      const data = expectSameBothWays([defaultCorpus()], docs, 1 << 16, { valFrac: 0.1, minCount: 1, level: 'word', vocabSize: 10_000 });
      expect(data.fingerprint.level).toBe('word');
      expect(data.train).toBeInstanceOf(Uint16Array);
    }
  });

  it('cuts no word between chunks: the word level agrees at every chunk size on joined words, numbers, punctuation and CRs', () => {
    const texts = [
      "don't stop — 3.5 and 10,000 well-known O’Brien's\r\r\n e.g. this.  Yes!\u00A0No?\u3000日本語 😀😀\n\nend",
      'abc\r\r\ndef\rg\n\n\nh\r',
      '\uFEFFhéllo wörld — 😀 日本語\r\n\r\nsecond 𝄞 line.\r\n  \r\nthird. Fourth?\r\n',
      "...--,,1.2.3,4--a-b'c’d!!?$%(x)😀-😀1.😀.5'é\u0301-z..,,--''",
    ];
    const paths = texts.map((text) => tempFile(text));
    const options = { valFrac: 0.3, minCount: 1, level: 'word' as const, vocabSize: 40 };
    for (let chunkBytes = 4; chunkBytes <= 13; chunkBytes++) {
      for (const docs of DOCS_MODES) {
        for (const path of paths) expectSameBothWays([path], docs, chunkBytes, options);
        expectSameBothWays(paths, docs, chunkBytes, options);
      }
    }
  });

  it('reads at the word level a word of millions of joined runs, and a line of millions of punctuation marks, a window at a time', () => {
    const word = `${'a-'.repeat(2_500_000)}a`;
    const data = loadCorpusData([tempFile(`x ${word} y\n`)], 'line', { valFrac: 0, minCount: 1, level: 'word' });
    expect(data.fingerprint.totalTokens).toBe(5); // <EOS> x word y <EOS>
    expect(data.vocab.tokens.includes(word)).toBe(true);
    const marks = '!?(.)'.repeat(600_000);
    const streamed = expectSameBothWays([tempFile(`${marks}\n${marks}`)], 'line', 1 << 20, { valFrac: 0.1, minCount: 1, level: 'word', vocabSize: 10 });
    expect(streamed.fingerprint.totalTokens).toBe(1 + 2 * (marks.length + 1));
  });

  it('strips a BOM at the start of a file only, one cut by the first chunk included', () => {
    const path = tempFile('\uFEFFab\uFEFFc');
    const data = loadCorpusData([path], 'file', { valFrac: 0, minCount: 1 }, 4);
    expect(data.vocab.decode(data.train)).toBe('ab\uFEFFc');
    expect(data.fingerprint.totalTokens).toBe(6);
  });

  it('names the byte offset and line of invalid UTF-8 after the first chunk, and of a character cut short at the end', () => {
    const invalid = tempFile(Buffer.concat([Buffer.from('abc\ndefgh\nij'), Buffer.from([0xff]), Buffer.from('k')]));
    expect(expectSameError([invalid], 'file', 7)).toMatch(/not valid UTF-8 at byte offset 12 \(line 3, byte 0xFF\)/);
    const cutShort = tempFile(Buffer.concat([Buffer.from('abcdefg\nh'), Buffer.from([0xe2, 0x82])]));
    expect(expectSameError([cutShort], 'line', 7)).toMatch(/at byte offset 9 \(line 2, byte 0xE2\)/);
    const split = tempFile(Buffer.concat([Buffer.from('abcdef'), Buffer.from([0xe2, 0x28, 0xa1])]));
    expect(expectSameError([split], 'line', 7)).toMatch(/at byte offset 6 \(line 1, byte 0xE2\)/);
    // a character whose last byte is invalid, cut 2|1 or 3|1 between chunks: named at its first byte, as the whole read names it
    const cutTwoOne = tempFile(Buffer.concat([Buffer.from('a\nbcd'), Buffer.from([0xe2, 0x82, 0x28])]));
    expect(expectSameError([cutTwoOne], 'line', 7)).toMatch(/at byte offset 5 \(line 2, byte 0xE2\)/);
    const cutThreeOne = tempFile(Buffer.concat([Buffer.from('a\nbc'), Buffer.from([0xf0, 0x9f, 0x98, 0x28])]));
    expect(expectSameError([cutThreeOne], 'line', 7)).toMatch(/at byte offset 4 \(line 2, byte 0xF0\)/);
  });

  it('refuses a file with a NUL byte as the whole read does, and skips one in a folder', () => {
    const binary = tempFile(Buffer.concat([Buffer.from([0xff]), Buffer.from('abcdefghij\0')]));
    expect(expectSameError([binary], 'file', 7)).toMatch(/not a text file \(NUL byte at offset 11\)/);
    const folder = join(scratch, 'mixed');
    tempFile('one\ntwo\n', 'a.txt', folder);
    tempFile(Buffer.from('bin\0ary'), 'b.bin', folder);
    tempFile('three', 'c.txt', folder);
    const data = expectSameBothWays([folder], 'line', 7);
    expect(data.fingerprint.files.map((f) => f.path)).toEqual([join(folder, 'a.txt'), join(folder, 'c.txt')]);
    const binaries = join(scratch, 'binaries');
    tempFile(Buffer.from('\0'), 'x.bin', binaries);
    expect(expectSameError([binaries], 'file', 7)).toMatch(/corpus folder has no text files/);
    expect(expectSameError([tempFile(' \n\t\n')], 'line', 7)).toMatch(/corpus is empty/);
  });
});

describe('a corpus that changes while it is read', () => {
  it('names a file removed between two passes over it as gone, not by its error code', () => {
    const path = tempFile('Some text to read more than once.\n'.repeat(100));
    const source = streamCorpus([path], 'file');
    rmSync(path);
    expect(() => prepareData(source, OPTIONS)).toThrow(`cannot read ${path}: it is no longer there (removed since it was found)`);
  });
});

describe('compact token streams', () => {
  it('hold a byte per token up to 256 entries, two up to 65,536, else four', () => {
    expect(tokenArrayFor(256, 1)).toBeInstanceOf(Uint8Array);
    expect(tokenArrayFor(257, 1)).toBeInstanceOf(Uint16Array);
    expect(tokenArrayFor(65_536, 1)).toBeInstanceOf(Uint16Array);
    expect(tokenArrayFor(65_537, 1)).toBeInstanceOf(Int32Array);
  });

  it('are chosen by the vocabulary built, and the splits are views of one stream', () => {
    const narrow = prepareWhole({ documents: ['abc'], files: [], docs: 'file' }, OPTIONS);
    expect(narrow.train).toBeInstanceOf(Uint8Array);
    expect(narrow.val.buffer).toBe(narrow.train.buffer);
    const chars = Array.from({ length: 300 }, (_, i) => String.fromCodePoint(0x100 + i)).join('');
    const wide = expectSameBothWays([tempFile(chars)], 'file', 7, { valFrac: 0, minCount: 1 });
    expect(wide.vocab.size).toBe(302);
    expect(wide.train).toBeInstanceOf(Uint16Array);
  });
});
