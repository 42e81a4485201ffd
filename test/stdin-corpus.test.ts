import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { BIN, expectOneLineError, finish, rnnIn, rnnOnTerminal, signalOnce, TINY_RUN } from './helpers/cli.js';
import { rnnCommand } from '../src/cli/train-summary.js';
import { scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

/** A corpus on standard input (`-`): `rnn train -`, `rnn prepare -`, fine-tuning on one, and what a resumed run does with it. */

const { dir, folder } = scratchFolder('rnn-stdin-');
const at = (...names: string[]) => join(dir, ...names);
let text: string;
let corpus: string;

beforeAll(() => {
  text = speeches(3000);
  corpus = at('corpus.txt');
  writeFileSync(corpus, text);
});

const rnn = (args: string[], input?: string) => rnnIn(dir, args, {}, input);

describe('rnn train -', () => {
  let fromStdin: string;

  beforeAll(async () => {
    // no --out: the default folder is named for standard input
    const cwd = folder();
    const run = await rnnIn(cwd, ['train', '-', ...TINY_RUN, '--max-steps', '4', '--eval-every', '2'], {}, text);
    expect(run.stderr).not.toMatch(/^rnn: (?!warning: )/m);
    expect(run.status).toBe(0);
    // the closing lines offer what works: no eval perplexity of a split that cannot be rebuilt
    expect(run.stderr).toContain('\nsample it:   ');
    expect(run.stderr).not.toContain('evaluate it:');
    const [made] = readdirSync(join(cwd, 'checkpoints'));
    expect(made).toMatch(/^stdin-gru-1x16-\d{8}-\d{6}$/);
    fromStdin = join(cwd, 'checkpoints', made!, 'latest.json');
  });

  it('trains on the text piped in, read once for the vocabulary and the batches alike, as on the same file', async () => {
    const fromFile = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '4', '--eval-every', '2', '--out', at('from-file')]);
    expect(fromFile.status).toBe(0);
    const file = loadCheckpoint(at('from-file', 'latest.json'));
    const stdin = loadCheckpoint(fromStdin);
    expect(stdin.vocab).toEqual(file.vocab);
    expect(stdin.history).toEqual(file.history.map((h, i) => ({ ...h, seconds: stdin.history[i]!.seconds })));
    const { files, ...fingerprint } = stdin.corpus!;
    const { files: fileFiles, ...fileFingerprint } = file.corpus!;
    expect(fingerprint).toEqual(fileFingerprint);
    // the record says where the text came from, with the bytes and hash of what was read
    expect(files).toEqual([{ path: 'standard input', bytes: Buffer.byteLength(text), sha256: createHash('sha256').update(text).digest('hex') }]);
    expect(fileFiles[0]!.sha256).toBe(files[0]!.sha256);
    const info = await rnn(['info', fromStdin]);
    expect(info.stdout).toMatch(/^ +standard input \([\d,]+ bytes\)$/m);
  });

  it('interrupted, says to go on with the same text piped in, and that command goes on', async () => {
    const out = at('interrupted');
    const child = spawn(process.execPath, [BIN, 'train', '-', ...TINY_RUN, '--time', '1h', '--out', out, '--json'], {
      cwd: dir, stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.end(text);
    const { code, stderr } = await finish(child, signalOnce('"event":"step"', 'SIGINT'));
    expect(code).toBe(130);
    const latest = join(out, 'latest.json');
    expect(stderr).toContain(`; go on with: … | ${rnnCommand(BIN, dir)} train - --resume ${latest}\n`);
    const step = loadCheckpoint(latest).training.step;
    const resumed = await rnn(['train', '-', '--resume', latest, '--max-steps', String(step + 2)], text);
    expect(resumed.status).toBe(0);
    expect(loadCheckpoint(latest).training.step).toBe(step + 2);
  });

  it('refuses to resume with no corpus named, saying what to pipe and pass; resumes with the same text piped in, or its file', async () => {
    expectOneLineError(await rnn(['train', '--resume', fromStdin, '--max-steps', '6'], ''),
      /^rnn: .*latest\.json was trained on text from standard input, which cannot be read again: pipe the same text in and name it: … \| rnn train - --resume .*latest\.json$/);
    expectOneLineError(await rnn(['train', '-', '--resume', fromStdin, '--max-steps', '6'], `${text}more\n`),
      /^rnn: the corpus \(standard input\) differs from the one .*latest\.json was trained on: standard input is [\d,]+ bytes, sha256 [0-9a-f]{12}…, where it was [\d,]+ bytes, sha256 [0-9a-f]{12}…: /);
    const resumed = await rnn(['train', '-', '--resume', fromStdin, '--max-steps', '6', '--out', at('resumed')], text);
    expect(resumed.stderr).not.toMatch(/^rnn: (?!warning: )/m);
    expect(resumed.status).toBe(0);
    expect(loadCheckpoint(at('resumed', 'latest.json')).training.step).toBe(6);
    const byFile = await rnn(['train', corpus, '--resume', fromStdin, '--max-steps', '6', '--out', at('resumed-by-file')]);
    expect(byFile.status).toBe(0);
  });

  it('cannot rebuild the validation split of a run trained on standard input: says what to score instead', async () => {
    expectOneLineError(await rnn(['eval', 'perplexity', '--checkpoint', fromStdin], ''),
      /^rnn: cannot rebuild the validation split of .*latest\.json: .*latest\.json was trained on text from standard input, which cannot be read again: name files to score, or use --text$/);
  });

  it('fine-tunes on text piped in, recording it as standard input', async () => {
    const run = await rnn(['train', '-', '--init-from', fromStdin, '--max-steps', '2', '--out', at('tuned')], text.toUpperCase());
    expect(run.status).toBe(0);
    expect(loadCheckpoint(at('tuned', 'latest.json')).corpus!.files.map((f) => f.path)).toEqual(['standard input']);
  });

  it('refuses an empty standard input as it refuses an empty file, binary or invalid text naming standard input, and - named twice', async () => {
    writeFileSync(at('empty.txt'), '');
    expectOneLineError(await rnn(['train', at('empty.txt'), ...TINY_RUN]), /^rnn: corpus is empty: no text in .*empty\.txt$/);
    expectOneLineError(await rnn(['train', '-', ...TINY_RUN], ''), /^rnn: corpus is empty: no text in standard input$/);
    expectOneLineError(await rnn(['train', '-', '-', ...TINY_RUN], 'ab'), /^rnn: standard input is in the corpus twice: name each file once$/);
    expectOneLineError(await rnn(['prepare', '-', '--out', at('empty-prepared')], ''), /^rnn: corpus is empty: no text in standard input$/);
    expectOneLineError(await rnn(['train', '-', ...TINY_RUN], 'ab\0c'), /^rnn: standard input: not a text file \(NUL byte at offset 2\)$/);
  });
});

describe('a signal before training starts', () => {
  it('ends rnn at once while it still reads its corpus (a read that blocks), saving nothing', async () => {
    const out = at('signalled');
    const child = spawn(process.execPath, [BIN, 'train', '-', ...TINY_RUN, '--out', out], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('exit', (code, signal) => resolve([code, signal])));
    // more than a pipe holds: once it is all written, rnn is reading standard input, which stays open
    await new Promise<void>((resolve) => child.stdin.write(text.repeat(100), () => resolve()));
    child.kill('SIGINT');
    expect(await ended).toEqual([null, 'SIGINT']);
    child.stdin.destroy();
    expect(stderr).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});

describe('rnn prepare -', () => {
  it('writes the token files the same file gives, recording standard input', async () => {
    const [piped, filed] = await Promise.all([
      rnn(['prepare', '-', '--out', at('prepared-stdin')], text),
      rnn(['prepare', corpus, '--out', at('prepared-file')]),
    ]);
    expect(piped.status).toBe(0);
    expect(filed.status).toBe(0);
    for (const name of ['train.bin', 'val.bin']) expect(readFileSync(at('prepared-stdin', name))).toEqual(readFileSync(at('prepared-file', name)));
    const meta = JSON.parse(readFileSync(at('prepared-stdin', 'meta.json'), 'utf8')) as { corpus: { files: { path: string }[] } };
    expect(meta.corpus.files.map((f) => f.path)).toEqual(['standard input']);
  });

  it('reads to its end a text more than a pipe holds, which arrives while it reads', async () => {
    // A pipe holds 64 KiB: the rest comes as the writer refills it, after the reader has found it empty. Standard input
    // is then non-blocking (node:process, imported as chalk imports it, opens it as a stream), and a read of an empty
    // pipe is EAGAIN, not a wait.
    const long = speeches(1 << 20);
    writeFileSync(at('long.txt'), long);
    const [piped, filed] = await Promise.all([
      rnn(['prepare', '-', '--out', at('long-stdin')], long),
      rnn(['prepare', at('long.txt'), '--out', at('long-file')]),
    ]);
    expect([piped.status, piped.stderr]).toEqual([0, '']);
    expect(filed.status).toBe(0);
    for (const name of ['train.bin', 'val.bin']) expect(readFileSync(at('long-stdin', name))).toEqual(readFileSync(at('long-file', name)));
  });
});

describe('a terminal on standard input', () => {
  it('is refused at once with one line that says to pipe the text in, rather than waited on', async () => {
    const output = await rnnOnTerminal(dir, ['train', '-', '--max-steps', '1']);
    expect(output.status).toBe(1);
    expect(output.stdout).toMatch(
      /rnn: standard input is a terminal, not a text: pipe the text in \(cat notes\.txt \| rnn …\), or name its file instead of -\r?\n/);
  });
});
