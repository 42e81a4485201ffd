import { execFile, execFileSync, spawn } from 'node:child_process';
import { chmodSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { ROUNDS, SERVE_SECONDS } from '../bench/options.js';
import { thisProcessor } from '../bench/processor.js';
import { saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { importedCheckpoint } from '../src/checkpoint/convert.js';
import { availableKernels, resolveKernels } from '../src/engine/kernels/index.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { ROOT } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';

/*
 * `npm run bench` as a user runs it, for its messages only: each run here is refused before it
 * measures anything, or stopped at its first line; and, run once on a small model for what they
 * give back, the profile of a step and the measure of `rnn serve`'s start. None measures speed.
 */
const BENCH = join(ROOT, 'dist', 'bench', 'bench.js');
/** bench/serve-start.ts, the measure of `rnn serve`'s start. */
const SERVE_START = join(ROOT, 'dist', 'bench', 'serve-start.js');
/** bench/sample-sizes.ts, which docs/speed.md runs on its own. */
const SAMPLE_SIZES = join(ROOT, 'dist', 'bench', 'sample-sizes.js');

const { dir, file } = scratchFolder('rnn-bench-');

/** A "python" that imports nothing: every `python -c 'import torch'` fails. */
const NO_TORCH = file('#!/bin/sh\nexit 1\n', 'python-without-torch');
chmodSync(NO_TORCH, 0o755);

/**
 * A "python" that imports torch and, run as the peer, never answers,
 * as PyTorch's side of a race runs on for its whole time whatever its stdin does. It holds the FIFO
 * `peer-alive` open for writing while it runs: a reader of it meets its end when the peer ends.
 */
const PEER_ALIVE = join(dir, 'peer-alive');
execFileSync('mkfifo', [PEER_ALIVE]);
const STUCK_PEER = file(`#!/bin/sh\n[ "$1" = -c ] && exit 0\nexec sleep 600 3>${PEER_ALIVE}\n`, 'python-stuck-peer');
chmodSync(STUCK_PEER, 0o755);

/** A text for --race to train on. */
const CORPUS = file('To be, or not to be, that is the question.\n'.repeat(200), 'corpus.txt');

/** The smallest run of the bench, had it gone on to measure. */
const SMALL = ['--models', 'gru-2x96', '--workers', '1', '--kernels', 'js', '--seconds', '1'];

/** A run of the bench (`script`): its status, stdout and stderr; one still running after `LIMIT_MS` is killed (status null). */
const LIMIT_MS = 30_000;
function benchRun(
  args: string[], env: Record<string, string> = {}, script = BENCH,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, ...env }, timeout: LIMIT_MS, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  });
}

/** The first line the bench prints, after which it is stopped (or how it ended before it printed one). */
function firstLine(args: string[], env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [BENCH, ...args], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve) => {
    createInterface({ input: child.stdout }).once('line', (line) => { child.kill('SIGKILL'); resolve(line); });
    child.once('exit', (code) => resolve(`(exited with status ${code} before a line)`));
  });
}

/** Each bench command line refused before it measures: exit status 2 and its one line. */
async function expectRefused(cases: [string[], string][]): Promise<void> {
  const runs = await Promise.all(cases.map(([args]) => benchRun(args)));
  runs.forEach((run, i) => expect([run.status, run.stderr], cases[i]![0].join(' ')).toEqual([2, `bench: ${cases[i]![1]}\n`]));
}

describe('npm run bench, as a user runs it', () => {
  it('with --peer torch and RNN_TORCH_PYTHON a python without torch, says so and how to install it, and goes on without the peer', async () => {
    expect(await firstLine(['--peer', 'torch', ...SMALL], { RNN_TORCH_PYTHON: NO_TORCH })).toBe(
      `PyTorch peer: skipped, RNN_TORCH_PYTHON=${NO_TORCH} does not import torch (install it: ${NO_TORCH} -m pip install torch)`);
  });

  it('with RNN_TORCH_PYTHON a file that does not run, says so, and goes on without the peer', async () => {
    const nowhere = join(dir, 'no-such-python');
    expect(await firstLine(['--peer', 'torch', ...SMALL], { RNN_TORCH_PYTHON: nowhere })).toBe(
      `PyTorch peer: skipped, RNN_TORCH_PYTHON=${nowhere} does not run here (ENOENT): name a python that imports torch`);
  });

  it('ended by a signal (Ctrl-C, kill), ends the PyTorch peer it started, and exits as the signal says', async () => {
    const child = spawn(process.execPath, [BENCH, '--peer', 'torch', ...SMALL], { cwd: dir, env: { ...process.env, RNN_TORCH_PYTHON: STUCK_PEER }, stdio: 'ignore' });
    const ended = new Promise<[number | null, string | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
    // opened once the peer runs; its end comes when the peer has ended (the test times out where the peer is left running)
    const alive = createReadStream(PEER_ALIVE);
    await new Promise((resolve) => alive.once('open', resolve));
    child.kill('SIGINT');
    expect(await ended).toEqual([130, null]);
    await new Promise<void>((resolve) => alive.once('close', () => resolve()).resume());
  }, LIMIT_MS);

  it('refuses --race without PyTorch before it measures anything, in one line that says how to install it', async () => {
    const run = await benchRun(['--race', '3m', '--corpus', CORPUS, ...SMALL], { RNN_TORCH_PYTHON: NO_TORCH });
    expect([run.status, run.stdout, run.stderr]).toEqual([2, '',
      `bench: --race races rnn against PyTorch, and RNN_TORCH_PYTHON=${NO_TORCH} does not import torch (install it: ${NO_TORCH} -m pip install torch)\n`]);
  }, LIMIT_MS + 10_000);

  it('refuses a --corpus that is not one text file before it measures anything, in one line naming the flag', async () => {
    const cases: [string, string][] = [
      [join(dir, 'missing.txt'), `no file '${join(dir, 'missing.txt')}'`],
      [dir, `'${dir}' is a folder, and --race trains on one text file`],
      [file('', 'empty.txt'), `corpus is empty: no text in ${join(dir, 'empty.txt')}`],
      [file(Buffer.from('ab\0cd\n'), 'binary.txt'), `${join(dir, 'binary.txt')}: not a text file (NUL byte at offset 2)`],
    ];
    const runs = await Promise.all(cases.map(([corpus]) => benchRun(['--race', '3m', '--corpus', corpus, ...SMALL], { RNN_TORCH_PYTHON: NO_TORCH })));
    runs.forEach((run, i) => expect([run.status, run.stdout, run.stderr], cases[i]![0]).toEqual([2, '', `bench: --corpus: ${cases[i]![1]}\n`]));
  }, LIMIT_MS + 10_000);

  it('prints its flags for -h as for --help, as rnn\'s commands do', async () => {
    const [short, long] = await Promise.all([benchRun(['-h']), benchRun(['--help'])]);
    expect(short.status).toBe(0);
    expect(short.stdout).toContain('--seconds <s>');
    expect(short.stdout).toBe(long.stdout);
  });

  it('gives in its help the windows --seconds is cut into and --serve\'s seconds as the bench takes them', async () => {
    const { stdout } = await benchRun(['--help']);
    expect(stdout).toContain(`in ${ROUNDS} windows taken in turn (default 8)`);
    expect(stdout).toContain(`for --seconds (default ${SERVE_SECONDS}) seconds`);
  });

  it('refuses a misspelt flag in one line naming the flags it likely meant', async () => {
    const cases: [string[], string][] = [
      [['--model', 'gru-2x96'], "unknown flag '--model': did you mean --models? npm run bench -- --help lists them"],
      [['--secnods', '1'], "unknown flag '--secnods': did you mean --seconds? npm run bench -- --help lists them"],
      [['--fast'], "unknown flag '--fast'; npm run bench -- --help lists them"],
      [['models'], "unknown flag 'models': did you mean --models? npm run bench -- --help lists them"],
    ];
    await expectRefused(cases);
  });

  it('reads --flag=value as --flag value, as rnn\'s flags are read, and refuses a value to a switch', async () => {
    const cases: [string[], string][] = [
      [['--seconds=0'], "--seconds: a positive number of seconds, not '0'"],
      [['--workers='], "--workers: whole numbers from 1 to 50 (--batch: each worker trains a row of the batch at least), comma-separated, not ''"],
      [['--json=yes'], '--json takes no value (it is a switch), not \'yes\''],
    ];
    await expectRefused(cases);
  });

  it('refuses a number of seconds that never ends, and more workers than a step has rows to share', async () => {
    const cases: [string[], string][] = [
      [['--seconds', 'Infinity'], "--seconds: a positive number of seconds, not 'Infinity'"],
      [['--workers', '1,51'], "--workers: whole numbers from 1 to 50 (--batch: each worker trains a row of the batch at least), comma-separated, not '1,51'"],
      [['--workers', '9', '--batch', '8'], "--workers: whole numbers from 1 to 8 (--batch: each worker trains a row of the batch at least), comma-separated, not '9'"],
    ];
    await expectRefused(cases);
  });

  it('refuses a value a list flag gives twice, which it would measure twice', async () => {
    const cases: [string[], string][] = [
      [['--workers', '1,2,1'], "--workers: '1' is given twice in '1,2,1'; each is measured once"],
      [['--models', 'gru-2x96,gru-2x96'], "--models: 'gru-2x96' is given twice in 'gru-2x96,gru-2x96'; each is measured once"],
      [['--kernels', 'js,js'], "--kernels: 'js' is given twice in 'js,js'; each is measured once"],
    ];
    await expectRefused(cases);
  });

  it('refuses a batch whose training would not fit in an engine\'s memory in one line giving the range, before it measures', async () => {
    const run = await benchRun(['--batch', '1e9', '--models', 'lstm-2x512', '--workers', '1']);
    expect(run.status).toBe(2);
    const [, most] = /^bench: --batch: a whole number from 1 to (\d+) \(the most rows lstm-2x512 trains at 1 worker within [\d,]+ MiB, one engine's memory\), not '1e9'\n$/.exec(run.stderr) ?? [];
    expect(Number(most)).toBeGreaterThan(50);
    const over = await benchRun(['--batch', String(Number(most) + 1), '--models', 'lstm-2x512', '--workers', '1']);
    expect(over.stderr).toBe(run.stderr.replace("'1e9'", `'${Number(most) + 1}'`));
  }, 2 * LIMIT_MS + 10_000);

  it('refuses an empty list of models, and a kernel set it does not know or auto, naming the valid ones', async () => {
    const models = 'lstm-2x128, gru-2x128, gru-2x96, gru-2x192, lstm-2x512, word-gru-2x256';
    const here = availableKernels().join(', ');
    const cases: [string[], string][] = [
      [['--models', ','], `--models: ',' names no model; valid: ${models}`],
      [['--models', 'gru-2x96,'], `--models: an empty entry in 'gru-2x96,'; valid: ${models}`],
      [['--kernels', 'foo'], `--kernels: unknown kernel set 'foo'; valid here: ${here}`],
      [['--kernels', 'auto'], `--kernels: the bench measures named kernel sets side by side (valid here: ${here}; leave --kernels out for all of them), ` +
        `where auto is rnn train's choice of the fastest, ${resolveKernels('auto')} here`],
    ];
    await expectRefused(cases);
  });

  it('refuses, run as docs/speed.md runs sample-sizes.js, a kernel set it does not know in one line naming the valid ones', async () => {
    const here = availableKernels().join(', ');
    const cases: [string, string][] = [
      ['foo', `--kernels: unknown kernel set 'foo'; valid here: ${here}`],
      ['', `--kernels: '' names no kernel set; valid here: ${here}`],
    ];
    const runs = await Promise.all(cases.map(([kernels]) => benchRun(['--kernels', kernels], {}, SAMPLE_SIZES)));
    runs.forEach((run, i) => expect([run.status, run.stdout, run.stderr], cases[i]![0]).toEqual([2, '', `bench: ${cases[i]![1]}\n`]));
  });

  it('refuses, in sample-sizes.js, a misspelt flag and a hidden size that is no whole number from 1 to 4096, in one line each', async () => {
    const cases: [string[], string][] = [
      [['--kernel', 'js'], "Unknown option '--kernel'; it takes --kernels <set> and --hidden <H,…>"],
      [['--hidden', 'x'], "--hidden: each size a whole number from 1 to 4096, not 'x' in 'x'"],
      [['--hidden', '128,0'], "--hidden: each size a whole number from 1 to 4096, not '0' in '128,0'"],
      [['--hidden', '128,', '--kernels', 'js'], "--hidden: each size a whole number from 1 to 4096, not '' in '128,'"],
      [['--hidden', '5000'], "--hidden: each size a whole number from 1 to 4096, not '5000' in '5000'"],
    ];
    const runs = await Promise.all(cases.map(([args]) => benchRun(args, {}, SAMPLE_SIZES)));
    runs.forEach((run, i) => expect([run.status, run.stdout, run.stderr], cases[i]![0].join(' ')).toEqual([2, '', `bench: ${cases[i]![1]}\n`]));
  });

  it('refuses a flag given without the one it goes with, where it would be left unread', async () => {
    const cases: [string[], string][] = [
      [['--corpus', CORPUS, ...SMALL], '--corpus goes with --race (the text --race trains on): give --race too, or leave --corpus out'],
      [['--clients', '2', ...SMALL], '--clients goes with --serve (concurrent clients of --serve): give --serve too, or leave --clients out'],
      [['--serve', '--seconds', '1', '--models', 'gru-2x96'], '--models does not go with --serve, which measures rnn serve alone, with --seconds, --clients and --json'],
    ];
    await expectRefused(cases);
  }, LIMIT_MS + 10_000);

  it('names the processor and profiles a step on one worker and two: the phases and the rest make the step, and so do the workers\' work apart and their waits', async () => {
    const run = await benchRun(['--profile', '--models', 'gru-2x96', '--workers', '1,2', '--seconds', '1', '--json']);
    expect(run.status, run.stderr).toBe(0);
    const rows = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    // the machine's line names the processor, whose vectors PyTorch's speed depends on
    const [machine] = rows.filter((row) => row['event'] === 'machine') as { processor: { model: string } }[];
    expect(machine?.processor.model).toBe(thisProcessor().model);
    const profiles = rows.filter((row) => row['event'] === 'profile') as { workers: number; msPerStep: Record<string, number>; workMsPerStep: number[] }[];
    expect(profiles.map((p) => p.workers)).toEqual([1, 2]);
    for (const { workers, msPerStep: { step, ...phases }, workMsPerStep } of profiles) {
      const sum = Object.values(phases).reduce((a, b) => a + b, 0);
      expect(sum).toBeCloseTo(step!, 6);
      for (const [phase, ms] of Object.entries(phases)) if (phase !== 'rest') expect(ms, phase).toBeGreaterThanOrEqual(0);
      expect(phases['products']).toBeGreaterThan(0);
      expect(phases['barriers'] === 0).toBe(workers === 1);
      expect(workMsPerStep).toHaveLength(workers);
      for (const work of workMsPerStep) expect(work).toBeGreaterThan(0);
      // the workers' mean of a step is each one's work and its waits at the barriers
      expect(workMsPerStep.reduce((a, b) => a + b, 0) / workers + phases['barriers']!).toBeCloseTo(step!, 6);
    }
  }, LIMIT_MS + 10_000);

  it('measures rnn serve started on a checkpoint, each side in turn: the time to its listening line, and its memory once each thread has sampled', async () => {
    const config = { cell: 'gru' as const, vocabSize: 12, embedDim: 8, hiddenSize: 16, numLayers: 1, dropout: 0 };
    const vocab = ['<EOS>', '<UNK>', ...'abcdefghij'];
    const state = { config, vocab, level: 'char' as const, wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: initParams(config, new Rng(1)) };
    const checkpoint = join(dir, 'served.json'), bin = join(ROOT, 'bin', 'rnn.js');
    saveCheckpoint(checkpoint, importedCheckpoint(state, ['test']));
    // in a process of its own, as the bench runs it: the module ends what it started when a signal ends its process
    const script = `const { serveStarts } = await import(${JSON.stringify(pathToFileURL(SERVE_START).href)});\n` +
      `process.stdout.write(JSON.stringify(await serveStarts(${JSON.stringify([bin, bin])}, ${JSON.stringify(checkpoint)}, 2, 1)));`;
    const starts = await new Promise<unknown>((resolve, reject) => {
      // past the limit SIGTERM, on which the module ends the servers it started before its process ends
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: LIMIT_MS, killSignal: 'SIGTERM' },
        (error, stdout) => (error ? reject(error) : resolve(JSON.parse(stdout))));
    }) as { readyMs: number; rssMiB: number; peakMiB: number }[];
    expect(starts).toHaveLength(2);
    for (const { readyMs, rssMiB, peakMiB } of starts) {
      expect(readyMs).toBeGreaterThan(0);
      expect(readyMs).toBeLessThan(LIMIT_MS);
      expect(rssMiB).toBeGreaterThan(0);
      expect(peakMiB).toBeGreaterThanOrEqual(rssMiB);
    }
  }, LIMIT_MS + 10_000);
});
