import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, unlinkSync, watch, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { preparedLockPath, readPreparedData, writePreparedFolder, type PrepareFolderOptions } from '../src/checkpoint/prepared.js';
import { loadModel } from '../src/api/index.js';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';
import { userMessage } from '../src/cli/errors.js';
import { loadCorpusData } from '../src/text/corpus-stream.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { InputError } from '../src/input/settings.js';
import { takeLock } from '../src/train/lock.js';
import { prepare } from '../src/train/prepare.js';
import { train } from '../src/train/trainer.js';
import type { TrainOptions } from '../src/train/options.js';
import { expectOneLineError, finish, ROOT, rnnIn, startRnn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';
import { trainUntilStep } from './helpers/train.js';

const { dir } = scratchFolder('rnn-prepared-');
let folder: string;

beforeAll(() => {
  folder = join(dir, 'corpus');
  mkdirSync(join(folder, 'more'), { recursive: true });
  writeFileSync(join(folder, 'a.txt'), speeches(6000));
  // CRLF, a BOM and a character outside the BMP, so every decoding rule is crossed
  writeFileSync(join(folder, 'more', 'b.txt'), `\uFEFF${speeches(4000, 9000).replace(/\n/g, '\r\n')}The end 𝄞.\r\n`);
});

let outCount = 0;
const freshDir = (): string => join(dir, `prepared-${++outCount}`);

const TINY: TrainOptions = { cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 4, seqLen: 16, workers: 1, evalEvery: 10 };

describe('a prepared folder', () => {
  const cases: [string, PrepareFolderOptions][] = [
    ['char, file documents', { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }],
    ['char, line documents, min count 3', { level: 'char', docs: 'line', valFrac: 0.2, minCount: 3 }],
    ['word, file documents', { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 10_000 }],
    ['word, sentences, a small vocabulary', { level: 'word', docs: 'sentence', valFrac: 0.15, minCount: 2, vocabSize: 300 }],
    ['word, no validation', { level: 'word', docs: 'blank', valFrac: 0, minCount: 1, vocabSize: 500 }],
  ];
  it.each(cases)('holds the ids, vocabulary and fingerprint prepareData makes of the text (%s)', async (_, options) => {
    const out = freshDir();
    const { meta } = await writePreparedFolder([folder], options, out);
    const read = readPreparedData(out);
    const expected = loadCorpusData([folder], options.docs, options);
    expect(read.vocab.level).toBe(options.level);
    expect(read.vocab.tokens).toEqual(expected.vocab.tokens);
    expect(read.train.constructor).toBe(expected.train.constructor);
    expect(Array.from(read.train)).toEqual(Array.from(expected.train));
    expect(Array.from(read.val)).toEqual(Array.from(expected.val));
    // the same corpus, split and hash, and the folder it was read from
    expect(read.fingerprint).toEqual({ ...expected.fingerprint, prepared: resolve(out) });
    expect(read.wordVocab).toEqual(expected.wordVocab);
    expect(meta.dtype).toBe(expected.vocab.size <= 256 ? 'uint8' : 'uint16');
  });

  it('refuses what prepareData refuses, with its message', async () => {
    const blank = join(dir, 'blank.txt');
    writeFileSync(blank, '  \n\n\t\n');
    const rare = join(dir, 'rare.txt');
    writeFileSync(rare, 'one two three four five six seven eight nine ten\n');
    const refusals: [string, PrepareFolderOptions][] = [
      [blank, { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 100 }],
      [rare, { level: 'word', docs: 'file', valFrac: 0.1, minCount: 2, vocabSize: 100 }],
      [rare, { level: 'word', docs: 'file', valFrac: 0.95, minCount: 1, vocabSize: 100 }],
      [rare, { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1000 }],
    ];
    for (const [path, options] of refusals) {
      const expected = ((): unknown => {
        try {
          return loadCorpusData([path], options.docs, options);
        } catch (error) {
          return error;
        }
      })();
      expect(expected).toBeInstanceOf(Error);
      const out = freshDir();
      await expect(writePreparedFolder([path], options, out)).rejects.toThrow((expected as Error).message);
      expect(readdirSync(out)).toEqual([]);
    }
  });

  it('removes the files a prepare killed midway left, and no one else\'s', async () => {
    const out = freshDir();
    mkdirSync(out);
    const dead = 2 ** 22 + 17; // above Linux's largest pid
    writeFileSync(join(out, `.provisional.tmp-${dead}`), 'x');
    writeFileSync(join(out, `.train.bin.tmp-${dead}`), 'x');
    writeFileSync(join(out, `.provisional.tmp-${process.ppid}`), 'x');
    writeFileSync(join(out, 'notes.txt'), 'x');
    await writePreparedFolder([folder], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, out);
    expect(readdirSync(out).sort()).toEqual([`.provisional.tmp-${process.ppid}`, 'meta.json', 'notes.txt', 'train.bin', 'val.bin']);
  });

  it('keeps an older folder as it was where its meta.json cannot be written, its temp files removed', async () => {
    const out = freshDir();
    const options: PrepareFolderOptions = { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 };
    await writePreparedFolder([join(folder, 'a.txt')], options, out);
    const tokenFiles = (): Buffer[] => ['train.bin', 'val.bin'].map((name) => readFileSync(join(out, name)));
    const older = tokenFiles();
    // meta.json a link into a file, as into a folder: its write fails (ENOTDIR), as on a full disk
    const blocker = join(dir, `blocker-${outCount}`);
    writeFileSync(blocker, 'a file where a folder would be');
    unlinkSync(join(out, 'meta.json'));
    symlinkSync(join(blocker, 'meta.json'), join(out, 'meta.json'));
    await expect(writePreparedFolder([folder], options, out)).rejects.toThrow(/^cannot write \S*prepared-\d+: ENOTDIR: /);
    expect(tokenFiles()).toEqual(older);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
  });

  it('ends where `stop` is aborted, at its next turn, keeping an older folder as it was and removing its temp files', async () => {
    const out = freshDir();
    const options: PrepareFolderOptions = { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 };
    await writePreparedFolder([join(folder, 'a.txt')], options, out);
    const tokenFiles = (): Buffer[] => ['train.bin', 'val.bin', 'meta.json'].map((name) => readFileSync(join(out, name)));
    const older = tokenFiles();
    const stopping = new AbortController();
    const writing = writePreparedFolder([folder], options, out, {
      onProgress: () => stopping.abort('SIGINT'), stop: stopping.signal, hold: (held) => takeLock(preparedLockPath(held), held, 'rnn prepare'),
    });
    await expect(writing).rejects.toBe('SIGINT');
    expect(tokenFiles()).toEqual(older);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
  });

  it('tells how far the tokenizing has come, ending at 1', async () => {
    const fractions: number[] = [];
    await writePreparedFolder([folder], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 100 }, freshDir(), { onProgress: (f) => fractions.push(f) });
    expect(fractions.at(-1)).toBe(1);
    expect(fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f >= fractions[i - 1]!))).toBe(true);
  });

  it('writes little-endian ids of the width the vocabulary needs', async () => {
    const out = freshDir();
    const { meta } = await writePreparedFolder([folder], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 1000 }, out);
    const bytes = readFileSync(join(out, 'train.bin'));
    expect(meta.dtype).toBe('uint16');
    expect(bytes.length).toBe(2 * meta.trainTokens);
    const ids = Array.from({ length: meta.trainTokens }, (_, i) => bytes.readUInt16LE(2 * i));
    expect(ids).toEqual(Array.from(readPreparedData(out).train));
    expect(ids[0]).toBe(0); // the stream opens with <EOS>
  });

  it('refuses, in one line, token files that do not match their meta.json', async () => {
    const out = freshDir();
    await writePreparedFolder([folder], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, out);
    truncateSync(join(out, 'val.bin'), 10);
    expect(() => readPreparedData(out)).toThrow(/val\.bin has 10 bytes, .*meta\.json says \d+: prepare the folder again$/);
    const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
    writeFileSync(join(out, 'meta.json'), JSON.stringify({ ...meta, dtype: 'uint32' }));
    expect(() => readPreparedData(out)).toThrow(/meta\.json: dtype is "uint32", expected "uint8"/);
  });

  it('refuses ids outside the vocabulary', async () => {
    const out = freshDir();
    await writePreparedFolder([folder], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, out);
    const train = readFileSync(join(out, 'train.bin'));
    train[5] = 250;
    writeFileSync(join(out, 'train.bin'), train);
    expect(() => readPreparedData(out)).toThrow(/train\.bin: token 5 has id 250, outside the vocabulary's \d+ entries/);
  });
});

describe('rnn train DIR', () => {
  it('trains to the weights and losses of the text it was prepared from, and resumes from it', async () => {
    const prepared = freshDir();
    await writePreparedFolder([folder], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 400 }, prepared);
    const fromText = await train({ ...TINY, level: 'word', vocabSize: 400, maxSteps: 30, out: join(dir, 'text-run') }, [folder]);
    const half = await trainUntilStep({ ...TINY, maxSteps: 30, out: join(dir, 'dir-run') }, [prepared], 15);
    expect(half.step).toBe(15);
    const fromDir = await train({ resume: join(dir, 'dir-run') }, [prepared]);
    expect(Array.from(fromDir.params)).toEqual(Array.from(fromText.params));
    expect(fromDir.valLoss).toBe(fromText.valLoss);
    const ckpt = loadCheckpoint(join(dir, 'dir-run', 'latest.json'));
    expect(ckpt.config.training.level).toBe('word');
    expect(ckpt.config.training.vocabSize).toBe(400);
    expect(ckpt.corpus!.sha256).toBe(loadCheckpoint(join(dir, 'text-run', 'latest.json')).corpus!.sha256);
  });

  it('says it reads the folder\'s ids, and which text they were made from', async () => {
    const prepared = freshDir();
    await writePreparedFolder([join(folder, 'a.txt')], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, prepared);
    const run = await rnnIn(dir, ['train', prepared, '--max-steps', '1', '--layers', '1', '--hidden', '16', '--embed', '8',
      '--batch', '4', '--seq-len', '16', '--workers', '1', '--out', freshDir()]);
    expect(run.status).toBe(0);
    expect(run.stderr).toContain(`\ndata: ${resolve(prepared)} (prepared from ${resolve(folder, 'a.txt')}): `);
  });

  it('leaves a prepared folder out of a corpus folder it sits in', async () => {
    const parent = join(dir, 'with-prepared');
    mkdirSync(parent);
    writeFileSync(join(parent, 'a.txt'), speeches(6000));
    await writePreparedFolder([join(parent, 'a.txt')], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, join(parent, 'data'));
    await train({ ...TINY, maxSteps: 1, out: join(dir, 'parent-run') }, [parent]);
    expect(loadCheckpoint(join(dir, 'parent-run', 'latest.json')).corpus!.files.map((f) => f.path)).toEqual([join(parent, 'a.txt')]);
  });

  it('refuses a text setting that contradicts the folder, and a folder that is not the checkpoint\'s data', async () => {
    const prepared = freshDir();
    await writePreparedFolder([folder], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, prepared);
    const contradiction = await train({ ...TINY, valFrac: 0.2, maxSteps: 2, out: join(dir, 'bad') }, [prepared]).catch((e: unknown) => e);
    expect(userMessage(contradiction)).toMatch(/^--val-frac 0\.2 contradicts the prepared folder .*, made with --val-frac 0\.1/);
    // every contradicting setting named in one line, as resuming and fine-tuning name theirs
    const two = await train({ ...TINY, docs: 'line', valFrac: 0.2, maxSteps: 2, out: join(dir, 'bad') }, [prepared]).catch((e: unknown) => e);
    expect(userMessage(two)).toMatch(
      /^--docs line, --val-frac 0\.2 contradict the prepared folder .*, made with --docs file, --val-frac 0\.1: leave them out, or prepare the corpus again with them$/);
    const other = freshDir();
    await writePreparedFolder([folder], { level: 'char', docs: 'line', valFrac: 0.1, minCount: 1 }, other);
    await train({ ...TINY, maxSteps: 2, out: join(dir, 'char-run') }, [prepared]);
    const mismatch = await train({ resume: join(dir, 'char-run'), maxSteps: 4 }, [other]).catch((e: unknown) => e);
    expect(userMessage(mismatch)).toMatch(
      /^the prepared folder .* holds other data( and another vocabulary)? than (.*latest\.json) was trained on \(the same files, cut into documents by --docs line, where it was cut by --docs file\): resume with that data; or, to start a new run on this one, fine-tune the model with --init-from \2 in place of --resume, or train from scratch without --resume$/);
  });
});

describe('rnn eval perplexity DIR', () => {
  /** A tiny model trained on the corpus, its documents cut by `docs`, and its checkpoint's path. */
  const trained = async (name: string, options: TrainOptions): Promise<string> => {
    await train({ ...TINY, maxSteps: 2, evalEvery: 0, ...options, out: join(dir, name) }, [folder]);
    return join(dir, name, 'latest.json');
  };
  /** The corpus prepared into a fresh folder; `edit` changes its meta.json. */
  const prepared = async (options: PrepareFolderOptions, edit?: (meta: Record<string, unknown>) => void): Promise<string> => {
    const out = freshDir();
    await writePreparedFolder([folder], options, out);
    if (edit) {
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8')) as Record<string, unknown>;
      edit(meta);
      writeFileSync(join(out, 'meta.json'), JSON.stringify(meta));
    }
    return out;
  };
  const scored = async (model: string, folderToScore: string): Promise<unknown> =>
    loadModel(model, { kernels: 'js' }).scorePreparedValidation(folderToScore, 1).catch((e: unknown) => e);

  it('refuses, in one line, a folder cut into documents by another rule than the model reads, naming both and what scores', async () => {
    const [charFile, charLine, wordFile, wordSentence] = await Promise.all([
      trained('eval-char-file', {}), trained('eval-char-line', { docs: 'line' }),
      trained('eval-word-file', { level: 'word', vocabSize: 400 }),
      trained('eval-word-sentence', { level: 'word', vocabSize: 400, docs: 'sentence' }),
    ]);
    const char = { level: 'char', valFrac: 0.1, minCount: 1 } as const, word = { level: 'word', valFrac: 0.1, minCount: 1, vocabSize: 400 } as const;
    // the model's own rule scores
    for (const [model, options] of [[charFile, { ...char, docs: 'file' }], [charLine, { ...char, docs: 'line' }],
      [wordSentence, { ...word, docs: 'sentence' }]] as const) {
      expect(await scored(model, await prepared(options))).toMatchObject({ predictions: expect.any(Number) as number });
    }
    const sentences = (version: number): string => `--docs sentence (sentence rules version ${version})`;
    const refusals: [string, string, string, string, string][] = [
      [charFile, await prepared({ ...char, docs: 'line' }), '--docs line', '--docs file', '--docs file'],
      [charLine, await prepared({ ...char, docs: 'file' }), '--docs file', '--docs line', '--docs line'],
      [wordFile, await prepared({ ...word, docs: 'blank' }), '--docs blank', '--docs file', '--docs file'],
      [wordSentence, await prepared({ ...word, docs: 'sentence' }, (meta) => { meta['sentenceRule'] = 2; }),
        sentences(2), sentences(SENTENCE_RULE_VERSION), '--docs sentence'],
    ];
    for (const [model, out, folderRule, modelRule, again] of refusals) {
      expect(userMessage(await scored(model, out))).toBe(
        `the prepared folder ${out} was cut into documents by ${folderRule}, --checkpoint ${model} reads its texts by ${modelRule}: ` +
          'its ids are not the stream the model reads of that text: score the text itself, which the model cuts as its corpus ' +
          `was cut, or prepare the corpus again with ${again}`);
    }
    const run = await rnnIn(dir, ['eval', 'perplexity', '--checkpoint', charFile, refusals[0]![1]]);
    expectOneLineError(run, /^rnn: the prepared folder .* was cut into documents by --docs line, .*eval-char-file\/latest\.json reads its texts by --docs file: /);
  });

  it('tells onProgress the fraction of the validation split scored, rising to 1, for the checkpoint\'s split and a prepared folder\'s', async () => {
    const model = loadModel(await trained('eval-progress', {}), { kernels: 'js' });
    const folderToScore = await prepared({ level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 });
    const split: number[] = [], preparedSplit: number[] = [];
    await model.scoreValidation(1, (fraction) => split.push(fraction));
    await model.scorePreparedValidation(folderToScore, 1, (fraction) => preparedSplit.push(fraction));
    for (const fractions of [split, preparedSplit]) {
      expect(fractions.length).toBeGreaterThan(1);
      expect(fractions.every((fraction, i) => fraction > (i === 0 ? 0 : fractions[i - 1]!))).toBe(true);
      expect(fractions.at(-1)).toBe(1);
    }
  });

  it('refuses a folder of another level naming the model by its flag, as rnn train names --resume and --init-from', async () => {
    const model = await trained('eval-char-level', {});
    const words = await prepared({ level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 400 });
    expect(userMessage(await scored(model, words))).toBe(
      `the prepared folder ${words} holds word-level tokens, --checkpoint ${model} is char-level: prepare the corpus again with --level char`);
  });
});

describe('rnn prepare', () => {
  it('writes a folder one prepare at a time: another holding its lock is named, and the lock goes with the prepare that took it', async () => {
    const out = freshDir();
    mkdirSync(out);
    const held = takeLock(preparedLockPath(out), out, 'rnn prepare');
    try {
      let refused: unknown = null;
      try {
        await prepare({ out }, [folder]);
      } catch (err) {
        refused = err;
      }
      expect(userMessage(refused)).toMatch(new RegExp(`^--out ${out} is in use by another rnn prepare \\(pid ${process.pid} on `));
      expect(readdirSync(out)).toEqual(['meta.json.lock']);
    } finally {
      held.release();
    }
    await prepare({ out }, [folder]);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
  });

  it('takes over the lock a prepare that has ended left, and says so', async () => {
    const out = freshDir();
    mkdirSync(out);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(preparedLockPath(out), JSON.stringify({ pid: gone, host: hostname(), startedAt: 'then' }));
    const warnings: string[] = [];
    await prepare({ out }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(warnings).toEqual([`took over ${preparedLockPath(out)}, left by pid ${gone}, which is no longer running`]);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
  });

  it('replaces the token files of a prepare that ended before its meta.json, as the line naming its folder unfinished says to', async () => {
    const out = freshDir();
    await prepare({ out }, [folder]);
    const ids = readFileSync(join(out, 'train.bin'));
    unlinkSync(join(out, 'meta.json'));
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(preparedLockPath(out), JSON.stringify({ pid: gone, host: hostname(), startedAt: 'then' }));
    const warnings: string[] = [];
    await prepare({ out, level: 'word' }, [folder], { onWarning: (warning) => warnings.push(warning.message) });
    expect(warnings).toEqual([`took over ${preparedLockPath(out)}, left by pid ${gone}, which is no longer running`]);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
    expect(readPreparedData(out).vocab.level).toBe('word');
    expect(readFileSync(join(out, 'train.bin')).equals(ids)).toBe(false);
  });

  // five CLI processes, three of them at once: each a Node start, together beyond vitest's 5 s default on a loaded machine
  it('a prepare killed outright (SIGKILL) leaves its lock, which rnn train names, saying to prepare again, and the next prepare takes over', async () => {
    const out = freshDir();
    mkdirSync(out);
    const lock = preparedLockPath(out);
    // text enough that the tokenizing outlasts the signal's way to the child
    const text = join(dir, 'long.txt');
    writeFileSync(text, speeches(Infinity).repeat(2));
    const child = startRnn(dir, ['prepare', text, '--level', 'word', '--out', out]);
    const watcher = watch(out, (_, name) => {
      // the lock is taken once the corpus has been read, as the tokenizing begins
      if (name === basename(lock) && existsSync(lock)) child.kill('SIGKILL');
    });
    const ended = await finish(child).finally(() => watcher.close());
    expect([ended.code, child.signalCode]).toEqual([null, 'SIGKILL']);
    expect(existsSync(lock)).toBe(true);
    const [trained, prepared, scored] = await Promise.all([rnnIn(dir, ['train', out]), rnnIn(dir, ['prepare', out, '--out', join(dir, 'elsewhere')]),
      rnnIn(dir, ['eval', 'perplexity', out, '--checkpoint', join(dir, 'missing.json')])]);
    expectOneLineError(trained, new RegExp(`^rnn: ${out} is a prepared folder left unfinished \\(rnn prepare, ` +
      `pid ${child.pid} on ${hostname()}, since [^,]+, ended before it wrote meta\\.json, leaving ${lock}\\): ` +
      `run rnn prepare again with --out ${out}, which takes the lock over$`));
    expectOneLineError(prepared,
      new RegExp(`^rnn: ${out} is a prepared folder left unfinished \\(.*\\): run rnn prepare again with --out ${out}, which takes the lock over$`));
    expectOneLineError(scored,
      new RegExp(`^rnn: ${out} is a prepared folder left unfinished \\(.*\\): run rnn prepare again with --out ${out}, which takes the lock over$`));
    const again = await rnnIn(dir, ['prepare', join(folder, 'a.txt'), '--out', out]);
    expect([again.status, again.stderr]).toEqual([0, `rnn: warning: took over ${lock}, left by pid ${child.pid}, which is no longer running\n`]);
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
  });

  it('rnn train names a prepare still writing the folder, and its lock', async () => {
    const out = freshDir();
    mkdirSync(out);
    const held = takeLock(preparedLockPath(out), out, 'rnn prepare');
    try {
      expectOneLineError(await rnnIn(dir, ['train', out]), new RegExp(`^rnn: ${out} is a prepared folder being written \\(rnn prepare, ` +
        `pid ${process.pid} on ${hostname()}, since [^,]+, which holds ${preparedLockPath(out)}\\): wait for it to end, then use it$`));
    } finally {
      held.release();
    }
  });

  it('removes the owner file a prepare killed as it placed its lock left beside the lock, and only a dead one\'s', async () => {
    const out = freshDir();
    mkdirSync(out);
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const owner = JSON.stringify({ pid: gone, host: hostname(), startedAt: 'then' });
    writeFileSync(preparedLockPath(out), owner);
    writeFileSync(`${preparedLockPath(out)}.tmp-${gone}`, owner);
    // a live process's, placing its lock now
    writeFileSync(`${preparedLockPath(out)}.tmp-${process.ppid}`, owner);
    await prepare({ out }, [folder], { onWarning: () => undefined });
    expect(readdirSync(out).sort()).toEqual(['meta.json', `meta.json.lock.tmp-${process.ppid}`, 'train.bin', 'val.bin']);
  });

  it('leaves out of a corpus folder what rnn train leaves out: its checkpoints, and the folder it writes', async () => {
    const corpus = join(dir, 'with-runs');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), speeches(3000));
    await train({ ...TINY, maxSteps: 1, out: join(corpus, 'run2') }, [corpus]);
    const trained = loadCheckpoint(join(corpus, 'run2', 'latest.json')).corpus!;
    const warnings: string[] = [];
    const onWarning = (warning: InputError): void => void warnings.push(warning.message);
    const out = join(corpus, 'data');
    // into a new folder, then again over the folder it wrote
    for (let run = 0; run < 2; run++) {
      const { meta } = await prepare({ out }, [corpus], { onWarning });
      expect(meta.corpus.files.map((f) => f.path)).toEqual([join(corpus, 'a.txt')]);
      expect(meta.corpus.sha256).toBe(trained.sha256);
    }
    const models = `${join(corpus, 'run2', 'best.json')} (an rnn model), ${join(corpus, 'run2', 'latest.json')} (an rnn model)`;
    expect(warnings).toEqual([
      `left out of the corpus: ${models}`,
      `left out of the corpus: ${out} (the run's output), ${models}`,
    ]);
  });

  it('names in its notice the files of a corpus folder that are not text, the first few, the rest counted', async () => {
    const corpus = join(dir, 'with-images');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), speeches(3000));
    const images = ['b.png', 'c.png', 'd.png', 'e.png', 'f.png'].map((name) => join(corpus, name));
    for (const image of images) writeFileSync(image, 'PNG\0');
    const warnings: string[] = [];
    const { meta } = await prepare({ out: freshDir() }, [corpus], { onWarning: (warning) => void warnings.push(warning.message) });
    expect(meta.corpus.files.map((f) => f.path)).toEqual([join(corpus, 'a.txt')]);
    expect(warnings).toEqual([`left out of the corpus: 5 files that are not text (${images.slice(0, 3).join(', ')} and 2 more)`]);
  });

  it('refuses a validation split too short to score, as rnn train does, keeping the folder already there', async () => {
    const short = join(dir, 'short.txt');
    writeFileSync(short, 'Hi the\n');
    const refused = await train({ ...TINY, batch: 1, seqLen: 4, maxSteps: 1, out: join(dir, 'short-run') }, [short]).catch((e: unknown) => e);
    expect(userMessage(refused)).toBe('--val-frac 0.1 leaves only 1 validation character, too few to score: ' +
      'raise --val-frac, use --val-frac 0 for none, or give more text');
    const out = freshDir();
    const { meta: kept } = await prepare({ out }, [folder]);
    const refusal = await prepare({ out }, [short]).catch((e: unknown) => e);
    expect(userMessage(refusal)).toBe(userMessage(refused));
    expect(readdirSync(out).sort()).toEqual(['meta.json', 'train.bin', 'val.bin']);
    expect(readPreparedData(out).fingerprint.sha256).toBe(kept.corpus.sha256);
  });

  it('warns, as rnn train does, of a word vocabulary smaller than --vocab-size asks', async () => {
    const few = join(dir, 'few.txt');
    writeFileSync(few, 'a b a b c\nb a c\n');
    const warnings: string[] = [];
    const { meta } = await prepare({ out: freshDir(), level: 'word', vocabSize: 50, minCount: 1 }, [few], {
      onWarning: (warning) => void warnings.push(userMessage(warning)!),
    });
    expect(warnings).toEqual([
      `--vocab-size 50 is more than the training text offers (${meta.wordVocab!.eligible} distinct tokens): using what there is, ` +
        `the ${meta.vocabSize}-token vocabulary it offers`,
    ]);
    expect(meta.vocabSize).toBeLessThan(50);
    await prepare({ out: freshDir(), level: 'word', vocabSize: 5 }, [few], { onWarning: (warning) => void warnings.push(userMessage(warning)!) });
    expect(warnings).toHaveLength(1);
    // the default 10,000, which no one asked for: the folder's vocabulary is what the text offers, with no warning
    await prepare({ out: freshDir(), level: 'word' }, [few], { onWarning: (warning) => void warnings.push(userMessage(warning)!) });
    expect(warnings).toHaveLength(1);
  });

  it("refuses to prepare into a run's folder, whose checkpoints would sit beside token files it would then be read as", async () => {
    const run = join(dir, 'run-as-out');
    await train({ ...TINY, maxSteps: 2, out: run }, [folder]);
    const before = readdirSync(run).sort();
    const refusal = await prepare({ out: run }, [folder]).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InputError);
    expect(userMessage(refusal)).toBe(
      `--out ${run} holds a run's checkpoints (latest.json, best.json): prepare into a folder of its own`);
    expect(readdirSync(run).sort()).toEqual(before);
  });

  it('refuses to prepare into the folder of a train_ddp.py run, whose --resume a prepared folder there would block', async () => {
    const run = join(dir, 'ddp-as-out');
    mkdirSync(run);
    writeFileSync(join(run, 'state.pt'), 'PK');
    const refusal = await prepare({ out: run }, [folder]).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(InputError);
    expect(userMessage(refusal)).toBe(
      `--out ${run} is the folder of an examples/pytorch/train_ddp.py run (it holds its state.pt): prepare into a folder of its own`);
    expect(readdirSync(run)).toEqual(['state.pt']);
  });

  it('counts the text\'s characters in each part, its document ends apart, in rnn prepare\'s line and rnn train\'s', async () => {
    const line = 'To be, or not to be: that is the question.\n';
    const text = join(dir, 'counted.txt');
    writeFileSync(text, line.repeat(40));
    const out = freshDir();
    const prepared = await rnnIn(dir, ['prepare', text, '--out', out]);
    const [trainChars, valChars] = /([\d,]+) training and ([\d,]+) validation characters/.exec(prepared.stdout)!.slice(1).map((n) => Number(n.replace(/,/g, '')));
    expect(trainChars! + valChars!).toBe(line.length * 40);
    const counted = async (corpus: string, options: TrainOptions = {}): Promise<number[]> => {
      const counts: number[] = [];
      await train({ ...TINY, maxSteps: 1, out: freshDir(), ...options }, [corpus], {
        onEvent: (event) => void (event.event === 'start' && counts.push(event.trainTokens, event.valTokens)),
      });
      return counts;
    };
    expect(await counted(out)).toEqual([trainChars, valChars]);
    expect(await counted(text)).toEqual([trainChars, valChars]);
    // each line a document: its line break is the document's end, no character of it
    const [lineTrain, lineVal] = await counted(text, { docs: 'line' });
    expect(lineTrain! + lineVal!).toBe((line.length - 1) * 40);
    // the word level counts its tokens so, the document ends (one a sentence, and the first) apart
    const { textTokens } = await prepare({ out: freshDir(), level: 'word', docs: 'sentence' }, [text]);
    const data = loadCorpusData([text], 'sentence', { valFrac: 0.1, minCount: 1, level: 'word' });
    const ends = [data.train, data.val].map((part) => part.filter((id) => id === 0).length);
    expect(ends[0]! + ends[1]!).toBe(41);
    expect(textTokens).toEqual({ train: data.train.length - ends[0]!, val: data.val.length - ends[1]! });
  });

  // four CLI processes at once: each a Node start, together beyond vitest's 5 s default on a loaded machine
  it('writes the folder and says what it holds; refuses a bad flag in one line', async () => {
    const [done, chars, vocabSize, valFrac] = await Promise.all([
      rnnIn(dir, ['prepare', folder, '--level', 'word', '--vocab-size', '200', '--out', freshDir()]), rnnIn(dir, ['prepare', folder, '--out', freshDir()]),
      rnnIn(dir, ['prepare', folder, '--vocab-size', '200', '--out', freshDir()]), rnnIn(dir, ['prepare', folder, '--val-frac', '1', '--out', freshDir()]),
    ]);
    expect(done.stderr).toBe('');
    expect(done.status).toBe(0);
    expect(done.stdout).toMatch(
      /: [\d,]+ training and [\d,]+ validation word tokens, 200-token vocabulary \(of [\d,]+ distinct tokens; the other [\d,]+, [\d.]+% of the training text, read as <UNK>\), uint8, in [\d.]+s\n$/,
    );
    expect(chars.stdout).toMatch(/: [\d,]+ training and [\d,]+ validation characters, [\d,]+-token vocabulary, uint8, in [\d.]+s\n$/);
    expectOneLineError(vocabSize, /--vocab-size applies to --level word only/);
    expectOneLineError(valFrac, /--val-frac/);
  });

  it('names the folder it wrote with its control characters shown as \\u escapes, which a terminal would act on', async () => {
    const out = join(freshDir(), 'data\u001b[31m\nred');
    const run = await rnnIn(dir, ['prepare', folder, '--out', out]);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(existsSync(join(out, 'meta.json'))).toBe(true);
    const shown = `${out.replace('\u001b', '\\u001b').replace('\n', '\\u000a')}: `;
    expect(run.stdout.slice(0, shown.length)).toBe(shown);
  });
});

describe('examples/pytorch/train_ddp.py', () => {
  it('takes rnn train\'s defaults', () => {
    const script = readFileSync(join(ROOT, 'examples', 'pytorch', 'train_ddp.py'), 'utf8');
    const defaults = new Map([...script.matchAll(/add_argument\("--([a-z-]+)".*?default=([^,)]+)/g)].map((m) => [m[1]!, m[2]!]));
    const expected: Record<string, unknown> = {
      cell: TRAIN_DEFAULTS.cell, layers: TRAIN_DEFAULTS.layers, hidden: TRAIN_DEFAULTS.hidden, embed: TRAIN_DEFAULTS.embed,
      dropout: TRAIN_DEFAULTS.dropout, batch: TRAIN_DEFAULTS.batch, 'seq-len': TRAIN_DEFAULTS.seqLen, lr: TRAIN_DEFAULTS.lr,
      'lr-schedule': TRAIN_DEFAULTS.lrSchedule, 'lr-decay': TRAIN_DEFAULTS.lrDecay, clip: TRAIN_DEFAULTS.clip, 'clip-value': TRAIN_DEFAULTS.clipValue ?? 0, seed: TRAIN_DEFAULTS.seed,
    };
    for (const [flag, value] of Object.entries(expected)) {
      const text = defaults.get(flag);
      expect(text, `--${flag}`).toBeDefined();
      expect(typeof value === 'string' ? JSON.parse(text!) : Number(text), `--${flag}`).toBe(value);
    }
  });
});
