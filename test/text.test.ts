import { execFileSync } from 'node:child_process';
import {
  type PathLike, type StatSyncOptions, type Stats, closeSync, linkSync, openSync, realpathSync, statSync, symlinkSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { userMessage } from '../src/cli/errors.js';
import { SettingError } from '../src/input/settings.js';
import { BatchSource, EvalBatches, smallValidationWarning } from '../src/text/batches.js';
import { CorpusError, fingerprintMatches, prepareData } from '../src/text/corpus.js';
import type { DocsMode } from '../src/text/documents.js';
import type { SentenceRule } from '../src/text/sentences.js';
import { streamCorpus } from '../src/text/corpus-stream.js';
import { firstInvalidUtf8Offset, readTextFile } from '../src/text/utf8.js';
import { EOS, EOS_TOKEN, UNK, UNK_TOKEN, Vocabulary, codePointCount, codePointPrefix, cutBy } from '../src/text/vocab.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { readCorpus, tokenStream } from './helpers/corpus.js';
import { scratchFolder } from './helpers/files.js';

const { dir: scratch, file: tempFile } = scratchFolder('rnn-text-');

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, statSync: vi.fn(actual.statSync) };
});
const actualFs = await vi.importActual<typeof import('node:fs')>('node:fs');

/** What the command line prints for the error `run` throws. */
function cliMessage(run: () => unknown): string | null {
  try {
    run();
  } catch (err) {
    return userMessage(err);
  }
  throw new Error('it did not throw');
}

function corpusOf(...texts: string[]) {
  return streamCorpus(texts.map((t) => tempFile(t)), 'file');
}

describe('Vocabulary', () => {
  it('treats each code point as one token', () => {
    const text = 'é☃😀a';
    const vocab = Vocabulary.build([text]);
    expect(vocab.size).toBe(2 + 4);
    const ids = vocab.encode(text);
    expect(ids.length).toBe(4);
    expect(vocab.decode(ids)).toBe(text);
    expect(vocab.idOf('😀')).toBe(vocab.tokens.indexOf('😀'));
    expect(vocab.idOf('\uD83D')).toBe(UNK); // half of 😀 is not a character of the vocabulary
    for (const many of ['éa', '😀a', '']) expect(vocab.idOf(many)).toBe(UNK); // nor is more than one, or none
    expect(codePointCount(text)).toBe(ids.length);
    expect([0, 1, 2, 3, 4, 5].map((n) => codePointPrefix(text, n))).toEqual(['', 'é', 'é☃', 'é☃😀', text, text]);
  });

  it('puts <EOS>, <UNK> first, then characters in code-point order (not UTF-16 order)', () => {
    // U+FF01 sorts after U+1F600 as UTF-16 (0xD83D < 0xFF01) but before it by code point.
    const vocab = Vocabulary.build(['b😀\uFF01a b', '\n']);
    expect(vocab.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, '\n', ' ', 'a', 'b', '\uFF01', '😀']);
    expect(vocab.idOf('\n')).toBe(2);
    expect(vocab.idOf('😀')).toBe(7);
    expect(vocab.idOf('z')).toBe(UNK);
    expect(Array.from(vocab.encode('ab z'))).toEqual([4, 5, 3, UNK]);
    // characters added to a vocabulary take their places in code-point order too
    expect(vocab.withTokens(['c', '\u00FF']).tokens).toEqual([EOS_TOKEN, UNK_TOKEN, '\n', ' ', 'a', 'b', 'c', '\u00FF', '\uFF01', '😀']);
  });

  it('leaves characters seen fewer than minCount times out, so they read as <UNK>', () => {
    const vocab = Vocabulary.build(['aaab', 'ccb'], 2);
    expect(vocab.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, 'a', 'b', 'c']);
    const once = Vocabulary.build(['aaab', 'ccbd'], 3);
    expect(once.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, 'a']);
    expect(Array.from(once.encode('abd'))).toEqual([2, UNK, UNK]);
    expect(once.tokenize('abd😀').unknown).toHaveLength(3);
    const unknown: string[] = [];
    expect(Array.from(once.encode('abd😀a\uD800', unknown))).toEqual([2, UNK, UNK, UNK, 2, UNK]);
    expect(unknown).toEqual(['b', 'd', '😀', '\uD800']);
  });

  it('decodes <EOS> as nothing and <UNK> as U+FFFD unless told otherwise', () => {
    const vocab = Vocabulary.build(['ab']);
    const ids = [EOS, 2, UNK, 3, EOS];
    expect(vocab.decode(ids)).toBe('a\uFFFDb');
    expect(vocab.decode(ids, { eos: EOS_TOKEN, unk: UNK_TOKEN })).toBe('<EOS>a<UNK>b<EOS>');
    expect(vocab.decode(ids, { eos: '\n' })).toBe('\na\uFFFDb\n');
    // each <UNK> writes the next of the unknown texts, while any are left
    expect(vocab.decode([UNK, 2, UNK, 3, UNK], { unknownTexts: ['x', 'y'] })).toBe('xayb\uFFFD');
    expect(() => vocab.decode([9])).toThrow(/outside the vocabulary/);
  });

  it('names the vocabulary that cut a text, beside the text\'s { text, ids, unknown }; sameAs holds for the same tokens, level and word rule', () => {
    const vocab = Vocabulary.build(['abc']), tokens = vocab.tokenize('cab!');
    expect(cutBy(tokens)).toBe(vocab);
    expect(Object.keys(tokens)).toEqual(['text', 'ids', 'unknown']);
    expect(Object.getOwnPropertySymbols(tokens)).toEqual([]);
    expect(JSON.parse(JSON.stringify(tokens))).toEqual({ text: 'cab!', ids: { 0: 4, 1: 2, 2: 3, 3: UNK }, unknown: ['!'] });
    expect(cutBy({ ...tokens })).toBeUndefined();
    const again = Vocabulary.fromTokens(vocab.tokens);
    expect(again.sameAs(vocab)).toBe(true);
    expect(vocab.sameAs(again)).toBe(true);
    expect(vocab.sameAs(Vocabulary.build(['abd']))).toBe(false); // as many tokens, id 4 another
    expect(vocab.sameAs(Vocabulary.fromTokens(vocab.tokens, 'word'))).toBe(false);
    const words = [EOS_TOKEN, UNK_TOKEN, 'the', 'cat'];
    expect(Vocabulary.fromTokens(words, 'word', 2).sameAs(Vocabulary.fromTokens(words, 'word', 2))).toBe(true);
    expect(Vocabulary.fromTokens(words, 'word', 1).sameAs(Vocabulary.fromTokens(words, 'word', 2))).toBe(false);
    expect(Vocabulary.fromTokens(words, 'word', 1).sameTokens(words, 'word')).toBe(true); // a raw list has no word rule
    expect(vocab.sameTokens(vocab.tokens, 'word')).toBe(false);
    expect(vocab.sameTokens(vocab.tokens.slice(0, -1), 'char')).toBe(false);
    expect(vocab.sameTokens([...vocab.tokens, 'd'], 'char')).toBe(false);
  });

  it('sameAs holds only for vocabularies that cut a text into the same documents: the same docs mode, and for sentences the same rules', () => {
    const tokens = Vocabulary.build(['ab. c\n']).tokens;
    const cutting = (docs: DocsMode, sentenceRule: SentenceRule = 2) => Vocabulary.fromTokens(tokens, 'char', WORD_RULE_VERSION, { docs, sentenceRule });
    expect(cutting('line').sameAs(Vocabulary.fromTokens(tokens))).toBe(false);
    expect(cutting('file').sameAs(Vocabulary.fromTokens(tokens))).toBe(true);
    expect(cutting('line', 1).sameAs(cutting('line', 2))).toBe(true);
    expect(cutting('sentence', 1).sameAs(cutting('sentence', 2))).toBe(false);
    expect(cutting('line').withTokens(['d']).documents).toEqual({ docs: 'line', sentenceRule: 2 });
    // the documents' ids joined by <EOS>, what separates them, and a prime's closing <EOS> for the line break that ends the text
    const [a, b, c] = ['a', 'b', 'c'].map((token) => tokens.indexOf(token));
    expect({ ...cutting('line').tokenize('ab\n\nc\n') }).toEqual({
      text: 'ab\n\nc\n', ids: Int32Array.of(a!, b!, EOS, c!), unknown: [], separators: ['\n\n'], primeTail: Int32Array.of(EOS),
    });
    // a line break that goes on a paragraph, which a vocabulary without one lacks, is left out of a prime's tail, not read as <UNK>
    const unbroken = Vocabulary.fromTokens(Vocabulary.build(['ab']).tokens, 'char', WORD_RULE_VERSION, { docs: 'blank', sentenceRule: 2 });
    expect({ ...unbroken.tokenize('ab\n') }).toEqual({ text: 'ab\n', ids: Int32Array.of(2, 3), unknown: [] });
  });

  it('round-trips through fromTokens and rejects malformed token lists', () => {
    const vocab = Vocabulary.build(['hello ☃']);
    const again = Vocabulary.fromTokens(vocab.tokens);
    expect(again.tokens).toEqual(vocab.tokens);
    expect(Array.from(again.encode('hole☃'))).toEqual(Array.from(vocab.encode('hole☃')));
    expect(() => Vocabulary.fromTokens(['<UNK>', '<EOS>', 'a'])).toThrow(/must start with/);
    expect(() => Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'ab'])).toThrow(/token 2 .*not a single character/);
    expect(() => Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'a', 'a'])).toThrow(/token 3 .*twice/);
    expect(Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, '😀']).idOf('😀')).toBe(2);
  });
});

describe('reading a corpus, and the token stream', () => {
  it('lays the stream out as <EOS> d1 <EOS> d2 <EOS>', () => {
    const vocab = Vocabulary.build(['ab']);
    expect(Array.from(tokenStream(['ab', 'b'], vocab))).toEqual([EOS, 2, 3, EOS, 3, EOS]);
    expect(Array.from(tokenStream([], vocab))).toEqual([EOS]);
  });

  it('cuts documents per file, per line or per blank-line paragraph', () => {
    const a = tempFile('\uFEFFone\r\ntwo\n\n \nthree\nfour\n');
    const b = tempFile('five');
    expect(readCorpus([a, b], 'file').documents).toEqual(['one\ntwo\n\n \nthree\nfour\n', 'five']);
    expect(readCorpus([a, b], 'line').documents).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(readCorpus([a, b], 'blank').documents).toEqual(['one\ntwo', 'three\nfour', 'five']);
  });

  it('records each file with its size and hash', () => {
    const path = tempFile('abc');
    const corpus = readCorpus([path], 'file');
    expect(corpus.files).toEqual([
      { path, bytes: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    ]);
    expect(corpus.docs).toBe('file');
  });

  it('walks a folder in sorted order, skipping dotfiles, dot-folders and binary files', () => {
    const dir = join(scratch, 'walk');
    tempFile('B', 'b.txt', dir);
    tempFile('A', 'a.txt', dir);
    tempFile('C', 'c.md', join(dir, 'sub'));
    tempFile('hidden', '.secret', dir);
    tempFile('hidden', 'x.txt', join(dir, '.git'));
    tempFile(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01]), 'image.png', dir);
    const corpus = readCorpus([dir], 'file');
    expect(corpus.documents).toEqual(['A', 'B', 'C']);
    expect(corpus.files.map((f) => f.path)).toEqual([join(dir, 'a.txt'), join(dir, 'b.txt'), join(dir, 'sub', 'c.md')]);
  });

  it('names the file and byte offset of invalid UTF-8', () => {
    const path = tempFile(Buffer.from([0x61, 0x62, 0xff, 0x63]));
    expect(() => streamCorpus([path], 'file')).toThrow(CorpusError);
    expect(() => streamCorpus([path], 'file')).toThrow(`${path}: not valid UTF-8 at byte offset 2 (line 1, byte 0xFF)`);
    const truncated = tempFile(Buffer.from('ok\n☃\n☃', 'utf8').subarray(0, -1));
    expect(() => readTextFile(truncated)).toThrow(`${truncated}: not valid UTF-8 at byte offset 7 (line 3, byte 0xE2)`);
  });

  it('says how to convert a text file of another encoding to UTF-8, as for UTF-16', () => {
    const path = tempFile(Buffer.from('caf\xe9 au lait\n', 'latin1'), 'latin1.txt');
    const advice = `; rnn reads UTF-8: convert a file of another encoding first, e.g. from Windows-1252 (Latin-1) with ` +
      `iconv -f WINDOWS-1252 -t UTF-8 ${path} > ${join(scratch, 'latin1-utf8.txt')}`;
    const expected = `${path}: not valid UTF-8 at byte offset 3 (line 1, byte 0xE9)${advice}`;
    expect(() => streamCorpus([path], 'file')).toThrow(expected);
    expect(() => readTextFile(path)).toThrow(expected);
    const inFolder = join(scratch, 'latin1');
    tempFile(Buffer.from('caf\xe9', 'latin1'), 'menu.txt', inFolder);
    expect(() => streamCorpus([inFolder], 'line')).toThrow(/menu\.txt: not valid UTF-8 at byte offset 3/);
  });

  it('finds the first ill-formed UTF-8 sequence as the standard defines it', () => {
    const at = (...bytes: number[]) => firstInvalidUtf8Offset(Uint8Array.from(bytes));
    expect(at(0x61, 0xc3, 0xa9, 0xf0, 0x9f, 0x98, 0x80)).toBe(-1); // a é 😀
    expect(at(0x61, 0xc0, 0xaf)).toBe(1); // overlong '/'
    expect(at(0xe0, 0x80, 0xaf)).toBe(0); // overlong three-byte form
    expect(at(0x61, 0xed, 0xa0, 0x80)).toBe(1); // a UTF-16 surrogate
    expect(at(0xf4, 0x90, 0x80, 0x80)).toBe(0); // above U+10FFFF
    expect(at(0x61, 0x62, 0x80)).toBe(2); // a lone continuation byte
    expect(at(0x61, 0xe2, 0x98)).toBe(1); // cut short at the end
  });

  it('rejects a missing path, an empty corpus and a folder with no text files', () => {
    const missing = join(scratch, 'no-such-file.txt');
    expect(() => streamCorpus([missing], 'file')).toThrow(`corpus file not found: ${missing}`);
    expect(() => readTextFile(missing)).toThrow(`file not found: ${missing}`);
    const empty = tempFile('');
    const blanks = tempFile('\n \n\n');
    expect(() => streamCorpus([empty], 'file')).toThrow(/^corpus is empty/);
    expect(() => streamCorpus([empty], 'line')).toThrow(`corpus is empty: no text in ${empty}`);
    // white space is text a --docs file corpus trains on, and no document of a finer mode
    for (const docs of ['line', 'blank', 'sentence'] as const) {
      expect(cliMessage(() => streamCorpus([blanks], docs))).toBe(`corpus is empty: ${blanks} holds only white space, which --docs ${docs} makes no document of`);
      expect(cliMessage(() => streamCorpus([empty, blanks], docs)))
        .toBe(`corpus is empty: ${empty}, ${blanks} hold only white space, which --docs ${docs} makes no document of`);
    }
    expect(streamCorpus([blanks], 'file').documents).toBe(1);
    // a byte-order mark is no text
    expect(() => streamCorpus([tempFile('\uFEFF')], 'line')).toThrow(/^corpus is empty: no text in /);
    const binaryOnly = join(scratch, 'binary-only');
    tempFile(Buffer.from([0, 1, 2]), 'data.bin', binaryOnly);
    expect(() => streamCorpus([binaryOnly], 'file')).toThrow(`corpus folder has no text files: ${binaryOnly}`);
  });

  it('names the file there whose name differs from the one given only in its Unicode form, as a corpus or a text', () => {
    const folder = join(scratch, 'forms');
    const decomposed = tempFile('text', 'note\u0301s.txt', folder);
    const composed = join(folder, 'not\u00e9s.txt');
    const there = `${JSON.stringify(decomposed)} is there, the same but for its Unicode form (NFD, where the path given is NFC): ` +
      "name it as it is written there (as a shell's Tab completes it)";
    expect(() => streamCorpus([composed], 'file')).toThrow(`corpus file not found: ${composed}; ${there}`);
    expect(() => readTextFile(composed)).toThrow(`file not found: ${composed}; ${there}`);
  });

  it('names a link to nothing, in a corpus folder or named, as a link and where it leads', () => {
    const folder = join(scratch, 'dangling');
    tempFile('text', 'a.txt', folder);
    symlinkSync('gone.txt', join(folder, 'b.txt'));
    const message = `corpus file not found: ${join(folder, 'b.txt')} (a link to gone.txt, which is not there)`;
    expect(() => streamCorpus([folder], 'file')).toThrow(message);
    expect(() => streamCorpus([join(folder, 'b.txt')], 'file')).toThrow(message);
  });

  it('stops at a link to nothing in a corpus folder, which may be text moved, saying how to go on', () => {
    const folder = join(scratch, 'dangling-in-folder');
    tempFile('text', 'a.txt', folder);
    symlinkSync('gone.txt', join(folder, 'b.txt'));
    expect(() => streamCorpus([folder], 'file')).toThrow(new CorpusError(`corpus file not found: ${join(folder, 'b.txt')} ` +
      '(a link to gone.txt, which is not there); put back what it leads to, or remove the link to read the folder without it'));
  });

  it('leaves a named pipe, a socket or a device in a corpus folder out, naming it, as what a skip leaves out is named', () => {
    const folder = join(scratch, 'with-pipe');
    tempFile('text', 'a.txt', folder);
    const pipe = join(folder, 'b.fifo');
    execFileSync('mkfifo', [pipe]);
    const leftOut: string[] = [];
    const skip = { why: () => null, leftOut: (path: string, why: string) => leftOut.push(`${path} (${why})`) };
    expect(streamCorpus([folder], 'file', undefined, skip).files.map((f) => f.path)).toEqual([join(folder, 'a.txt')]);
    expect(leftOut).toEqual([`${pipe} (a named pipe)`]);
    const pipeOnly = join(scratch, 'pipe-only');
    tempFile('', '.keep', pipeOnly);
    execFileSync('mkfifo', [join(pipeOnly, 'only.fifo')]);
    expect(() => streamCorpus([pipeOnly], 'file')).toThrow(
      new CorpusError(`corpus folder has no text files: ${pipeOnly}; left out of it: ${join(pipeOnly, 'only.fifo')} (a named pipe)`));
  });

  it('leaves a socket in a corpus folder out, naming it a socket, and refuses one named as a corpus', async () => {
    const folder = join(scratch, 'with-socket');
    tempFile('text', 'a.txt', folder);
    const socket = join(folder, 'b.sock');
    const server = createServer();
    await new Promise<void>((listening) => server.listen(socket, listening));
    try {
      const leftOut: string[] = [];
      const skip = { why: () => null, leftOut: (path: string, why: string) => leftOut.push(`${path} (${why})`) };
      expect(streamCorpus([folder], 'file', undefined, skip).files.map((f) => f.path)).toEqual([join(folder, 'a.txt')]);
      expect(leftOut).toEqual([`${socket} (a socket)`]);
      expect(() => streamCorpus([socket], 'file')).toThrow(
        new CorpusError(`${socket} is a socket: a corpus is files and folders, read more than once; give its text on standard input as - instead`));
    } finally {
      server.close();
    }
  });

  it('names the files in a corpus folder that are not text (a NUL byte), the first few, the rest counted', () => {
    const folder = join(scratch, 'with-images');
    tempFile('text', 'a.txt', folder);
    const images = ['b.png', 'c.png', 'd.png', 'e.png', 'f.png'].map((name) => tempFile(Buffer.from('PNG\0'), name, folder));
    const leftOut: string[] = [];
    const skip = { why: () => null, leftOut: (path: string, why: string) => leftOut.push(`${path} (${why})`) };
    expect(streamCorpus([folder], 'file', undefined, skip).files.map((f) => f.path)).toEqual([join(folder, 'a.txt')]);
    expect(leftOut).toEqual(images.map((path) => `${path} (not text)`));
    const imagesOnly = join(scratch, 'images-only');
    const only = ['a.png', 'b.png', 'c.png', 'd.png'].map((name) => tempFile(Buffer.from('PNG\0'), name, imagesOnly));
    execFileSync('mkfifo', [join(imagesOnly, 'e.fifo')]);
    expect(() => streamCorpus([imagesOnly], 'file')).toThrow(new CorpusError(`corpus folder has no text files: ${imagesOnly}; left out of it: ` +
      `${join(imagesOnly, 'e.fifo')} (a named pipe), 4 files that are not text (${only.slice(0, 3).join(', ')} and 1 more)`));
    const oneBinary = join(scratch, 'one-binary');
    const data = tempFile(Buffer.from([0, 1, 2]), 'data.bin', oneBinary);
    expect(() => streamCorpus([oneBinary], 'file')).toThrow(
      new CorpusError(`corpus folder has no text files: ${oneBinary}; left out of it: a file that is not text (${data})`));
  });

  it('names a link round a loop of links, in a corpus folder or named, as such', () => {
    const folder = join(scratch, 'loop');
    tempFile('text', 'a.txt', folder);
    symlinkSync('c.txt', join(folder, 'b.txt'));
    symlinkSync('b.txt', join(folder, 'c.txt'));
    const message = `cannot read ${join(folder, 'b.txt')}: it is a link in a loop of links, which leads to no file; link it to the file itself`;
    expect(() => streamCorpus([folder], 'file')).toThrow(message);
    expect(() => streamCorpus([join(folder, 'b.txt')], 'file')).toThrow(message);
  });

  it('refuses a pipe or a device named as a corpus (/dev/stdin, <(cat …)), which cannot be read twice, offering standard input', () => {
    const fifo = join(scratch, 'corpus.fifo');
    execFileSync('mkfifo', [fifo]);
    const offer = 'a corpus is files and folders, read more than once; give its text on standard input as - instead';
    expect(() => streamCorpus([fifo], 'file')).toThrow(`${fifo} is a named pipe: ${offer}`);
    expect(() => streamCorpus(['/dev/null'], 'file')).toThrow(`/dev/null is a device: ${offer}`);
  });

  it('refuses a block device named as a corpus (/dev/loop0) as it refuses any other device, reading nothing of it', () => {
    const disk = tempFile('text', 'disk');
    const block = Object.assign(Object.create(actualFs.statSync(disk)) as Stats, { isFile: () => false, isBlockDevice: () => true });
    vi.mocked(statSync).mockImplementation(((path: PathLike, options?: StatSyncOptions) =>
      (path === disk ? block : actualFs.statSync(path, options))) as typeof statSync);
    try {
      expect(() => streamCorpus([disk], 'file')).toThrow(new CorpusError(
        `${disk} is a device: a corpus is files and folders, read more than once; give its text on standard input as - instead`));
    } finally {
      vi.mocked(statSync).mockReset();
    }
  });

  it('records a file named through a descriptor (/dev/stdin redirected from it, /dev/fd/N) by its own path, which a resume can read again', () => {
    const file = tempFile('to be or not to be\n', 'redirected.txt');
    const fd = openSync(file, 'r');
    try {
      for (const named of [`/dev/fd/${fd}`, `/proc/self/fd/${fd}`]) {
        expect(streamCorpus([named], 'file').files.map((f) => f.path)).toEqual([realpathSync(file)]);
      }
    } finally {
      closeSync(fd);
    }
  });

  it('refuses a file reached twice, named twice, named and in a folder named, or by a link, symbolic or hard', () => {
    const folder = join(scratch, 'twice');
    const file = tempFile('to be or not to be\n', 'hamlet.txt', folder);
    expect(() => streamCorpus([file, file], 'file')).toThrow(`${file} is in the corpus twice: name each file once`);
    expect(() => streamCorpus([folder, file], 'file')).toThrow(`${file} is in the corpus twice: name each file once`);
    const link = join(scratch, 'hamlet-link.txt');
    symlinkSync(file, link);
    expect(() => streamCorpus([file, link], 'file')).toThrow(`${link} is in the corpus twice (also as ${file}): name each file once`);
    const hardLink = join(scratch, 'hamlet-hard-link.txt');
    linkSync(file, hardLink);
    expect(() => streamCorpus([file, hardLink], 'file')).toThrow(`${hardLink} is in the corpus twice (also as ${file}): name each file once`);
  });

  it('refuses a prime file or a text to score that holds a NUL byte (UTF-16, a binary file), as a corpus file is refused', () => {
    const utf16 = tempFile(Buffer.from('hi there', 'utf16le'));
    expect(() => streamCorpus([utf16], 'file')).toThrow(`${utf16}: not a text file (NUL byte at offset 1)`);
    expect(() => readTextFile(utf16)).toThrow(`${utf16}: not a text file (NUL byte at offset 1)`);
  });

  it('refuses a UTF-16 file by its byte-order mark, either order, with the iconv command that converts it, as a corpus or a prime file', () => {
    const little = tempFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi there\n', 'utf16le')]), 'little.txt');
    const big = tempFile(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('hi there\n', 'utf16le').swap16()]), 'big endian.txt');
    const refusal = (path: string, mark: string, converted: string) =>
      `${path} is UTF-16 text (it begins with the byte-order mark ${mark}), and rnn reads UTF-8: convert it with iconv -f UTF-16 -t UTF-8 ${converted}`;
    for (const chunkBytes of [4, 1 << 16]) {
      expect(() => streamCorpus([little], 'file', chunkBytes)).toThrow(refusal(little, 'FF FE', `${little} > ${little.replace(/\.txt$/, '-utf8.txt')}`));
      expect(() => streamCorpus([big], 'file', chunkBytes)).toThrow(refusal(big, 'FE FF', `'${big}' > '${big.replace(/\.txt$/, '-utf8.txt')}'`));
    }
    expect(() => readTextFile(little)).toThrow(refusal(little, 'FF FE', `${little} > ${little.replace(/\.txt$/, '-utf8.txt')}`));
    // text without a NUL byte (CJK) is refused as UTF-16 too, not as invalid UTF-8
    const cjk = tempFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('一丁七', 'utf16le')]));
    expect(() => streamCorpus([cjk], 'file')).toThrow(/ is UTF-16 text \(it begins with the byte-order mark FF FE\)/);
    expect(() => readTextFile(cjk)).toThrow(/ is UTF-16 text \(it begins with the byte-order mark FF FE\)/);
  });

  it('refuses a UTF-16 file in a corpus folder as UTF-16, naming it, where a binary file there is skipped', () => {
    const folder = join(scratch, 'notes-utf16');
    tempFile('to be or not to be\n', 'a.txt', folder);
    tempFile(Buffer.from([0, 1, 2]), 'data.bin', folder);
    const notes = tempFile(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('hi there\n', 'utf16le')]), 'notes.txt', folder);
    expect(() => streamCorpus([folder], 'file')).toThrow(
      `${notes} is UTF-16 text (it begins with the byte-order mark FF FE), and rnn reads UTF-8: ` +
        `convert it with iconv -f UTF-16 -t UTF-8 ${notes} > ${notes.replace(/\.txt$/, '-utf8.txt')}`);
  });

  it('reads a prime file as written, its BOM stripped and its CRLF as LF where a model reads it', () => {
    const read = readTextFile(tempFile('\uFEFFThe\r\nend'));
    expect(read).toBe('\uFEFFThe\r\nend');
    expect(Vocabulary.build(['The\nend']).tokenize(read).text).toBe('The\nend');
  });

  it('a model reads a text given as a string (--text, --prime, a request, the library) as the same text in a file: its BOM stripped, CRLF as LF', () => {
    const text = '\uFEFFThe\r\nend', vocab = Vocabulary.build(['The\nend\r']);
    expect({ ...vocab.tokenize(text) }).toEqual({ ...vocab.tokenize(readTextFile(tempFile(text))) });
    expect({ ...vocab.tokenize(text) }).toEqual({ ...vocab.tokenize('The\nend') });
    expect(vocab.tokenize('a\uFEFFb').text).toBe('a\uFEFFb'); // a BOM inside a text is a character of it, as in a file
    expect(vocab.tokenize('a\rb\r').text).toBe('a\rb\r'); // a lone CR is no line end
    expect(vocab.tokenize('The\r\nend\r\n\r\n').text).toBe('The\nend\n\n'); // every CRLF, not the first alone
  });

  it('reads a file\'s leading BOM once, where a model reads its text: a second BOM after it is a character, as in a string', () => {
    const text = '\uFEFF\uFEFFThe\r\nend', vocab = Vocabulary.build(['\uFEFFThe\nend']);
    expect(vocab.tokenize(readTextFile(tempFile(text))).text).toBe('\uFEFFThe\nend');
    expect({ ...vocab.tokenize(readTextFile(tempFile(text))) }).toEqual({ ...vocab.tokenize(text) });
  });
});

describe('prepareData', () => {
  it('splits the stream at floor((1 - valFrac) * N) and builds the vocabulary from the training part', () => {
    // Stream: <EOS> a a a a <EOS> b b q z <EOS>  (N = 11); train = first floor(0.7 * 11) = 7 tokens.
    const data = prepareData(corpusOf('aaaa', 'bbqz'), { valFrac: 0.3, minCount: 1 });
    expect(data.vocab.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, 'a', 'b']);
    expect(Array.from(data.train)).toEqual([EOS, 2, 2, 2, 2, EOS, 3]);
    expect(Array.from(data.val)).toEqual([3, UNK, UNK, EOS]);
    expect(data.fingerprint).toMatchObject({ docs: 'file', documents: 2, totalTokens: 11, trainTokens: 7, valTokens: 4 });
  });

  it('applies minCount to the training text only', () => {
    const data = prepareData(corpusOf('abab', 'c', 'cccc'), { valFrac: 0.4, minCount: 2 });
    // N = 13, train = floor(0.6 * 13) = 7 tokens: <EOS> a b a b <EOS> c; that one 'c' is below minCount.
    expect(data.vocab.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, 'a', 'b']);
    expect(data.val.length).toBe(6);
  });

  it('refuses a --min-count above every character\'s count, as the word level does', () => {
    const refusal = () => prepareData(corpusOf('abab', 'cd'), { valFrac: 0, minCount: 5 });
    expect(refusal).toThrow(SettingError);
    expect(cliMessage(refusal)).toBe(
      'no token of the training text is seen 5 times or more, so every one would read as <UNK>: lower --min-count');
  });

  it('refuses a training part with no character, naming --val-frac', () => {
    expect(cliMessage(() => prepareData(corpusOf('ab'), { valFrac: 0.75, minCount: 1 }))).toBe(
      'the training part of the corpus has no characters: lower --val-frac');
  });

  it('refuses a valFrac outside [0, 1) as the --val-frac setting words it', () => {
    for (const valFrac of [1, -0.1, NaN]) {
      expect(() => prepareData(corpusOf('abab'), { valFrac, minCount: 1 })).toThrow(`valFrac: must be a number in [0, 1) (got ${valFrac})`);
    }
  });

  it('allows valFrac 0, reuses a given vocabulary and fingerprints content, not paths', () => {
    const corpus = corpusOf('hello', 'world');
    const whole = prepareData(corpus, { valFrac: 0, minCount: 1 });
    expect(whole.val.length).toBe(0);
    expect(whole.train.length).toBe(13);

    const fixed = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, 'l', 'o']);
    const reused = prepareData(corpus, { valFrac: 0, minCount: 99, vocab: fixed });
    expect(reused.vocab).toBe(fixed);
    expect(Array.from(reused.train.subarray(0, 7))).toEqual([EOS, UNK, UNK, 2, 2, 3, EOS]);

    const moved = prepareData(corpusOf('hello', 'world'), { valFrac: 0, minCount: 1 });
    expect(fingerprintMatches(whole.fingerprint, moved.fingerprint)).toBe(true);
    const changed = prepareData(corpusOf('hello', 'world!'), { valFrac: 0, minCount: 1 });
    expect(fingerprintMatches(whole.fingerprint, changed.fingerprint)).toBe(false);
    const resplit = prepareData(corpus, { valFrac: 0.1, minCount: 1 });
    expect(fingerprintMatches(whole.fingerprint, resplit.fingerprint)).toBe(false);
    const byLine = prepareData(streamCorpus(corpus.files.map((f) => f.path), 'line'), { valFrac: 0, minCount: 1 });
    expect(fingerprintMatches(whole.fingerprint, byLine.fingerprint)).toBe(false);
    expect(() => prepareData(corpus, { valFrac: 1, minCount: 1 })).toThrow(RangeError);
  });

  it('counts an emoji as one token when placing the split', () => {
    const data = prepareData(corpusOf('😀😀😀😀x'), { valFrac: 0.5, minCount: 1 });
    // <EOS> 😀 😀 😀 😀 x <EOS>: N = 7, train = 3 tokens, so 'x' is unknown.
    expect(data.vocab.tokens).toEqual([EOS_TOKEN, UNK_TOKEN, '😀']);
    expect(Array.from(data.val)).toEqual([2, 2, UNK, EOS]);
  });
});

describe('BatchSource', () => {
  const stream = Int32Array.from({ length: 23 }, (_, i) => 100 + i);

  it('cuts the stream into B contiguous rows and walks them T columns at a time', () => {
    const batches = new BatchSource(stream, 2, 3);
    expect(batches.rowLength).toBe(11); // floor((23 - 1) / 2)
    expect(batches.stepsPerEpoch).toBe(3);
    const inputs = new Int32Array(6);
    const targets = new Int32Array(6);
    batches.fill(0, inputs, targets);
    expect(Array.from(inputs)).toEqual([100, 101, 102, 111, 112, 113]);
    expect(Array.from(targets)).toEqual([101, 102, 103, 112, 113, 114]);
    batches.fill(2, inputs, targets);
    expect(Array.from(inputs)).toEqual([106, 107, 108, 117, 118, 119]);
    expect(Array.from(targets)).toEqual([107, 108, 109, 118, 119, 120]);
    expect(() => batches.fill(3, inputs, targets)).toThrow(RangeError);
  });

  it('continues each row exactly where the previous step stopped', () => {
    const batches = new BatchSource(stream, 3, 2);
    const seen: number[][] = [[], [], []];
    const inputs = new Int32Array(6);
    const targets = new Int32Array(6);
    for (let s = 0; s < batches.stepsPerEpoch; s++) {
      batches.fill(s, inputs, targets);
      for (let b = 0; b < 3; b++) seen[b]!.push(...inputs.subarray(b * 2, b * 2 + 2));
    }
    expect(seen).toEqual([
      [100, 101, 102, 103, 104, 105],
      [107, 108, 109, 110, 111, 112],
      [114, 115, 116, 117, 118, 119],
    ]);
  });

  it('says how many tokens one batch needs when the training split is too short, its <EOS> counted apart from its text', () => {
    expect(() => new BatchSource(stream, 4, 6)).toThrow(SettingError);
    expect(() => new BatchSource(stream, 4, 6)).toThrow(expect.objectContaining({ setting: 'batch', value: 4 }));
    expect(() => new BatchSource(stream, 4, 6)).toThrow(/batch 4 seqLen 6: one batch needs 25 tokens and it has 23: 23 characters of text and 0 <EOS>/);
    expect(cliMessage(() => new BatchSource(stream, 4, 6))).toMatch(
      /--batch 4 --seq-len 6: one batch needs 25 tokens and it has 23: /,
    );
    expect(new BatchSource(new Int32Array(25), 4, 6).stepsPerEpoch).toBe(1);
    // B·T tokens are one short: the last input would have no target
    expect(() => new BatchSource(new Int32Array(24), 4, 6)).toThrow(/one batch needs 25 tokens and it has 24: /);
    // <EOS> d1 <EOS> d2 <EOS>, a split of two 3-token documents: 6 of text and 3 <EOS>
    const documents = Int32Array.from([EOS, 5, 6, 7, EOS, 8, 9, 5, EOS]);
    const ends = '3 <EOS>, the token that ends each document and opens the next; use a smaller';
    expect(() => new BatchSource(documents, 4, 6)).toThrow(`one batch needs 25 tokens and it has 9: 6 characters of text and ${ends}`);
    expect(() => new BatchSource(documents, 4, 6, 'word')).toThrow(`one batch needs 25 tokens and it has 9: 6 tokens of text and ${ends}`);
    expect(() => new BatchSource(Int32Array.from([EOS, 5, 5]), 4, 6)).toThrow(
      'it has 3: 2 characters of text and 1 <EOS>, the token that ends each document and opens the next;');
    expect(() => new BatchSource(Int32Array.from([EOS, 5]), 4, 6)).toThrow('it has 2: 1 character of text and 1 <EOS>');
    // counts grouped as every other message groups them
    expect(() => new BatchSource(new Int32Array(180_001), 100_000, 50)).toThrow(/one batch needs 5,000,001 tokens and it has 180,001: 0 characters of text and 180,001 <EOS>/);
  });

  it('takes every target from the stream, the token after its input, whatever the stream\'s length, B and T', () => {
    const wrong: string[] = [];
    for (let n = 2; n <= 30; n++) {
      const tokens = Int32Array.from({ length: n }, (_, i) => 100 + i);
      for (let B = 1; B <= 4; B++) {
        for (let T = 1; T <= 5; T++) {
          if (n < B * T + 1) continue;
          const batches = new BatchSource(tokens, B, T);
          const inputs = new Int32Array(B * T);
          const targets = new Int32Array(B * T);
          for (let s = 0; s < batches.stepsPerEpoch; s++) {
            batches.fill(s, inputs, targets);
            for (let k = 0; k < B * T; k++) {
              if (targets[k] !== inputs[k]! + 1 || targets[k]! >= 100 + n) wrong.push(`N ${n} B ${B} T ${T} step ${s}: ${inputs[k]} → ${targets[k]}`);
            }
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('EvalBatches', () => {
  it('covers the split with equal rows and a shorter last chunk, dropping fewer than `rows` predictions', () => {
    const stream = Int32Array.from({ length: 24 }, (_, i) => i);
    const batches = new EvalBatches(stream, 4, 5);
    expect(batches.rows).toBe(4); // min(4, floor(23 / 5))
    expect(batches.rowLength).toBe(5);
    expect(batches.chunks).toBe(1);

    const wide = new EvalBatches(stream, 2, 4);
    expect([wide.rows, wide.rowLength, wide.chunks, wide.predictions]).toEqual([2, 11, 3, 22]);
    const inputs = new Int32Array(8);
    const targets = new Int32Array(8);
    const covered: number[] = [];
    const lengths: number[] = [];
    const rowsSeen: number[][] = [[], []];
    for (let c = 0; c < wide.chunks; c++) {
      const Tc = wide.fill(c, inputs, targets);
      lengths.push(Tc);
      for (let b = 0; b < 2; b++) {
        rowsSeen[b]!.push(...inputs.subarray(b * Tc, b * Tc + Tc));
        for (let t = 0; t < Tc; t++) {
          expect(targets[b * Tc + t]).toBe(inputs[b * Tc + t]! + 1);
          covered.push(targets[b * Tc + t]!);
        }
      }
    }
    expect(lengths).toEqual([4, 4, 3]);
    expect(rowsSeen[0]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(rowsSeen[1]).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21]);
    expect(covered.sort((a, b) => a - b)).toEqual(Array.from({ length: 22 }, (_, i) => i + 1));
  });

  it('uses one short row for a split shorter than T and nothing for a split under two tokens', () => {
    const short = new EvalBatches(Int32Array.from([5, 6, 7]), 8, 10);
    expect([short.rows, short.rowLength, short.chunks]).toEqual([1, 2, 1]);
    const inputs = new Int32Array(10);
    const targets = new Int32Array(10);
    expect(short.fill(0, inputs, targets)).toBe(2);
    expect(Array.from(inputs.subarray(0, 2))).toEqual([5, 6]);
    expect(Array.from(targets.subarray(0, 2))).toEqual([6, 7]);
    const none = new EvalBatches(Int32Array.from([EOS]), 8, 10);
    expect([none.rows, none.chunks, none.predictions]).toEqual([0, 0, 0]);
  });

  it('makes its rows at least T long wherever the split has T predictions, at most maxRows of them', () => {
    const wrong: string[] = [];
    for (let n = 2; n <= 40; n++) {
      const split = new Int32Array(n);
      for (let T = 1; T <= 6; T++) {
        for (let maxRows = 1; maxRows <= 10; maxRows++) {
          const { rows, rowLength, predictions } = new EvalBatches(split, maxRows, T);
          if ((n - 1 >= T && rowLength < T) || rows > maxRows || n - 1 - predictions >= rows) {
            wrong.push(`N ${n} T ${T} maxRows ${maxRows}: ${rows} rows of ${rowLength}`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('warns of a split that scores fewer predictions than one training step, B·T, counting its text apart from its <EOS>', () => {
    const split = Int32Array.from([EOS, 5, 6, 7, EOS, 8, 9]);
    const batches = new EvalBatches(split, 2, 3);
    expect(batches.predictions).toBe(2 * 3);
    expect(smallValidationWarning(split, batches, 0.1, 2, 3, 'char')).toBeNull();
    expect(cliMessage(() => {
      throw smallValidationWarning(split, batches, 0.1, 2, 4, 'char');
    })).toMatch(/^--val-frac 0\.1 leaves 5 validation characters, fewer than the 8 a training step scores \(--batch 2 × --seq-len 4\)/);
  });
});

describe('the default corpus', () => {
  it('corpora/sotu.txt is at least 1 MB of valid UTF-8 text', () => {
    const path = new URL('../corpora/sotu.txt', import.meta.url).pathname;
    expect(statSync(path).size).toBeGreaterThan(1_000_000);
    const data = prepareData(streamCorpus([path], 'file'), { valFrac: 0.05, minCount: 1 });
    expect(data.train.length).toBeGreaterThan(1_000_000);
    expect(data.vocab.size).toBeLessThan(120);
  });
});
