import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { diskSize } from '../src/checkpoint/size.js';
import { shellWord } from '../src/input/issues.js';
import { rnnCommand } from '../src/cli/train-summary.js';
import { visible } from '../src/input/issues.js';
import { BIN, finish, signalOnce, startRnn, stdoutShows, TINY_RUN } from './helpers/cli.js';
import { fileHashes, scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

/*
 * Nothing lost, whatever happens (docs/safety.md, "What is safe"): each way work could be lost,
 * run through the built CLI (`npm test` builds first), asserting the outcome and that no saved
 * checkpoint changed.
 */

/** Long enough that a test ends it, never its limit. */
const ENDLESS = ['--max-steps', '1000000', '--eval-every', '20'];

const { dir } = scratchFolder('rnn-e2e-reliab-');
let corpus: string;
const at = (...parts: string[]) => join(dir, ...parts);

const start = (args: string[]): ChildProcess => startRnn(dir, args);

const rnn = (args: string[], onStdout?: (text: string, child: ChildProcess) => void) => finish(start(args), onStdout);

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr).toMatch(/^rnn: [^\n]+\n$/);
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).toMatch(pattern);
}

/** The pid of a process that has ended. */
function deadPid(): number {
  const done = spawnSync(process.execPath, ['-e', '']);
  return done.pid!;
}

/** A finished run to resume and compare against. */
async function savedRun(name: string, steps = 40): Promise<string> {
  const out = at(name);
  const { code, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', String(steps), '--eval-every', '20', '--out', out]);
  expect(stderr).not.toMatch(/internal error/);
  expect(code).toBe(0);
  return out;
}

beforeAll(() => {
  corpus = at('corpus.txt');
  writeFileSync(corpus, speeches(4000));
});

describe('1. one writer per run folder', () => {
  it('refuses a second run and a second resume on a folder in use, and frees it at the end', async () => {
    const out = at('shared');
    const first = start(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--seed', '1', '--json']);
    const firstDone = finish(first);
    await stdoutShows(first, '"event":"checkpoint"'); // latest.json written
    const before = readFileSync(join(out, 'latest.json.lock'), 'utf8');
    expect(JSON.parse(before)).toMatchObject({ pid: first.pid });

    const second = await rnn(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--seed', '2']);
    expect(second.code).toBe(1);
    expectOneLine(second.stderr, new RegExp(`--out .*shared is in use by another run \\(pid ${first.pid} on `));
    const resumed = await rnn(['train', '--resume', out]);
    expect(resumed.code).toBe(1);
    expectOneLine(resumed.stderr, new RegExp(`--resume .*shared is in use by another run \\(pid ${first.pid} `));

    first.kill('SIGINT');
    const { code } = await firstDone;
    expect(code).toBe(130);
    expect(existsSync(join(out, 'latest.json.lock'))).toBe(false);
    // the first run's checkpoint is its own: seed 1
    expect(loadCheckpoint(join(out, 'latest.json')).config.training.seed).toBe(1);

    // the folder is free again: resuming it runs, and releases it
    const again = await rnn(['train', '--resume', out, '--max-steps', String(loadCheckpoint(join(out, 'latest.json')).training.step + 5)]);
    expect(again.stderr).not.toMatch(/in use|internal error/);
    expect(again.code).toBe(0);
    expect(existsSync(join(out, 'latest.json.lock'))).toBe(false);
  });

  it('takes over a lock left by a process that is gone, with a warning', async () => {
    const out = at('stale');
    mkdirSync(out);
    const pid = deadPid();
    writeFileSync(join(out, 'latest.json.lock'), JSON.stringify({ pid, host: hostname(), startedAt: 'then' }));
    const run = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '5', '--out', out]);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(new RegExp(`rnn: warning: took over .*latest\\.json\\.lock, left by pid ${pid}, which is no longer running`));
    expect(existsSync(join(out, 'latest.json'))).toBe(true);
    expect(existsSync(join(out, 'latest.json.lock'))).toBe(false);
  });

  it('leaves a lock held on another host alone, whatever its pid is here (a shared folder), and touches nothing', async () => {
    const out = at('elsewhere');
    mkdirSync(out);
    const pid = deadPid();
    const lock = JSON.stringify({ pid, host: `not-${hostname()}`, startedAt: 'then' });
    writeFileSync(join(out, 'latest.json.lock'), lock);
    const run = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '5', '--out', out]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, new RegExp(`--out .*elsewhere is in use by another run \\(pid ${pid} on not-`));
    expect(readdirSync(out)).toEqual(['latest.json.lock']);
    expect(readFileSync(join(out, 'latest.json.lock'), 'utf8')).toBe(lock);
  });

  it('locks a FILE.json output beside the file', async () => {
    const out = at('single.json');
    const first = start(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--json']);
    const firstDone = finish(first);
    await stdoutShows(first, '"event":"start"'); // the lock is taken before the run starts
    const second = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '5', '--out', out]);
    expectOneLine(second.stderr, /single\.json is in use by another run/);
    first.kill('SIGTERM');
    expect((await firstDone).code).toBe(143);
    expect(existsSync(`${out}.lock`)).toBe(false);
  });
});

/**
 * A wrapper that runs a command with a tmpfs of `size` mounted on `mountPoint`, in a mount
 * namespace of its own (a user namespace first, unless root).
 */
function onDiskOf(size: string, mountPoint: string): string[] {
  const namespaces = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
  return ['unshare', ...namespaces, '--', 'sh', '-c', `mount -t tmpfs -o size=${size} tmpfs "$0" && exec "$@"`, mountPoint];
}

describe('2. the output checked before the first step', () => {
  it('refuses an output under a regular file (ENOTDIR) at once, naming the cause', async () => {
    writeFileSync(at('a-file'), 'not a folder');
    const run = await rnn(['train', corpus, ...TINY_RUN, '--time', '15s', '--out', at('a-file', 'run')]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /--out .*a-file\/run cannot be written \(ENOTDIR\): a part of the path is a file/);
  });

  it('refuses a read-only folder (EACCES) at once', async () => {
    const readOnly = at('read-only');
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    // root writes through mode 0555, except in a user namespace of its own, where it holds no capability over the folder
    const asOwner = process.getuid?.() === 0 ? ['unshare', '--user', '--'] : [];
    const run = await finish(startRnn(dir, ['train', corpus, ...TINY_RUN, '--time', '15s', '--out', join(readOnly, 'run')], asOwner));
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /cannot be written \(EACCES\): permission denied/);
  });

  it('refuses at once an output whose best.json links into a read-only folder, as one whose latest.json does', async () => {
    const out = at('best-linked'), readOnly = at('best-read-only');
    mkdirSync(out);
    mkdirSync(readOnly, { mode: 0o555 });
    chmodSync(readOnly, 0o555);
    symlinkSync(join(readOnly, 'best.json'), join(out, 'best.json'));
    const asOwner = process.getuid?.() === 0 ? ['unshare', '--user', '--'] : [];
    const run = await finish(startRnn(dir, ['train', corpus, ...TINY_RUN, '--time', '15s', '--out', out], asOwner));
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /--out \S*best-linked cannot be written \(EACCES\): permission denied/);
    expect(readdirSync(out)).toEqual(['best.json']);
  });

  it('names --resume, not --out, where the folder a resumed run writes to cannot be written', async () => {
    const out = await savedRun('resume-read-only', 20);
    chmodSync(out, 0o555);
    const asOwner = process.getuid?.() === 0 ? ['unshare', '--user', '--'] : [];
    const run = await finish(startRnn(dir, ['train', '--resume', out, '--max-steps', '30'], asOwner));
    chmodSync(out, 0o755);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /^rnn: --resume \S*resume-read-only cannot be written \(EACCES\): permission denied; choose a folder you can write to \(--out\)$/m);
  });

  it('refuses a folder on a read-only file system (EROFS) at once', async () => {
    const mountPoint = at('read-only-fs');
    mkdirSync(mountPoint);
    // a read-only tmpfs mounted on it in a mount namespace of the run's own (a user namespace first, unless root)
    const namespaces = process.getuid?.() === 0 ? ['--mount'] : ['--user', '--map-root-user', '--mount'];
    const readOnlyMount = ['unshare', ...namespaces, '--', 'sh', '-c', 'mount -t tmpfs -o ro,size=64k tmpfs "$0" && exec "$@"', mountPoint];
    const run = await finish(startRnn(dir, ['train', corpus, ...TINY_RUN, '--time', '15s', '--out', join(mountPoint, 'run')], readOnlyMount));
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /run cannot be written \(EROFS\): it is on a read-only file system; choose a folder on a writable disk/);
  });

  it('asks a disk for room for the checkpoints this run writes: a small model trains where 1 MiB is free, and 64 KiB is refused with both sizes', async () => {
    const train = (size: string) => {
      const mountPoint = at(`disk-${size}`);
      mkdirSync(mountPoint);
      return finish(startRnn(dir, ['train', corpus, ...TINY_RUN, '--max-steps', '4', '--json', '--out', join(mountPoint, 'run')], onDiskOf(size, mountPoint)));
    };
    const roomy = await train('1m');
    expect(roomy.stderr).toBe('');
    expect(roomy.code).toBe(0);
    const small = await train('64k');
    expect(small.code).toBe(1);
    expectOneLine(small.stderr, /run cannot hold this run's checkpoints \(ENOSPC\): about \d+ KiB are needed and 64 KiB are free/);
    // room for one or two checkpoint files is not room for the three a save may hold at once (latest, best, a temp file)
    const needed = Number(/about (\d+) KiB are needed/.exec(small.stderr)![1]);
    const twoFiles = await train(`${Math.ceil((2 * needed) / 3)}k`);
    expect(twoFiles.code).toBe(1);
    expectOneLine(twoFiles.stderr, /run cannot hold this run's checkpoints \(ENOSPC\): about \d+ KiB are needed and \d+ KiB are free/);
  });

  it('words a disk\'s sizes in KiB below a MiB and in MiB from there, rounded up', () => {
    const MIB = 1 << 20;
    expect([diskSize(1), diskSize(64 << 10), diskSize(MIB - 1), diskSize(MIB), diskSize(3.2 * MIB), diskSize(2048 * MIB)])
      .toEqual(['1 KiB', '64 KiB', '1,024 KiB', '1 MiB', '4 MiB', '2,048 MiB']);
  });

  it('prepare on a full disk says so in one line naming the folder, and leaves no temp file there', async () => {
    const text = at('prepare-corpus.txt');
    writeFileSync(text, speeches(100_000));
    const mountPoint = at('prepare-disk');
    mkdirSync(mountPoint);
    // then lists --out's folder ($5: node, rnn.js, prepare, the text, --out, the folder) in the namespace, where the tmpfs is
    const prepareThenList = [...onDiskOf('64k', mountPoint), 'sh', '-c', '"$0" "$@"; status=$?; ls -A "$5" >&2; exit $status'];
    const run = await finish(startRnn(dir, ['prepare', text, '--out', join(mountPoint, 'data')], prepareThenList));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`rnn: cannot write ${join(mountPoint, 'data')}: ENOSPC: the disk is full; free some space or choose another disk\n`);
  });

  it('refuses --out naming a file that is not a checkpoint, without suggesting --resume on it', async () => {
    writeFileSync(at('notes.json'), '{"my": "notes"}');
    const run = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '5', '--out', at('notes.json')]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /notes\.json already exists and is not a checkpoint; choose another --out/);
    expect(run.stderr).not.toMatch(/--resume/);
    expect(readFileSync(at('notes.json'), 'utf8')).toBe('{"my": "notes"}');
  });
});

describe('3. divergence', () => {
  it('stops a fresh run that diverges before its first save, saving nothing, and says so and what to change', async () => {
    const out = at('diverged');
    const run = await rnn(['train', corpus, ...TINY_RUN, '--lr', '1e38', '--clip', '0', '--time', '20s', '--out', out, '--json']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^rnn: training diverged at step \d+: 5 steps in a row had a loss or gradient that is not a finite number/m);
    expect(run.stderr).toMatch(/; nothing was saved; lower --lr \(it was 1e\+38\) or turn on --clip/);
    expect(run.stderr).not.toMatch(/^\s+at /m);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; skipped?: number; reason?: string });
    expect(events[0]).toMatchObject({ event: 'start', skipped: 0 });
    expect(events.at(-1)).toMatchObject({ event: 'done', reason: 'diverged', skipped: 5 });
    // no checkpoint, no temp file, no lock left behind
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('reports a run whose weights grow past what a checkpoint holds as diverged, not done, when it reaches its limit', async () => {
    const out = at('blown-up');
    // finite steps whose weights end far beyond ±1e6: the closing save refuses them
    const run = await rnn(['train', corpus, ...TINY_RUN, '--lr', '1e10', '--optimizer', 'sgd', '--clip', '0', '--max-steps', '30',
      '--eval-every', '0', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^done, diverged, at step 30 .*; nothing saved$/m);
    // the closing evaluation's loss, of weights no save keeps, is neither shown as the best nor recorded as it
    expect(run.stderr).not.toMatch(/\(best\)/);
    expect(run.stderr).toMatch(/, best val —; nothing saved$/m);
    expect(run.stderr).not.toMatch(/latest:|sample it/);
    expect(run.stderr).toMatch(
      /^rnn: training diverged at step 30: its weights grew beyond ±1000000, .*; nothing was saved; lower --lr \(it was 10000000000\)/m);
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('keeps the last good checkpoints of a run that diverges on resume, byte for byte', async () => {
    const out = await savedRun('to-diverge');
    const before = fileHashes(out);
    const run = await rnn(['train', '--resume', out, '--lr', '1e38', '--clip', '0', '--max-steps', '400']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/training diverged at step \d+: .*kept the last good checkpoint, .*latest\.json \(step 40\)/);
    expect(run.stderr).toMatch(/^done, diverged, .*; latest: .*latest\.json \(step 40\)/m);
    expect(fileHashes(out)).toEqual(before);
  });
});

describe('4. closed pipes', () => {
  it('ends `rnn train --json | head -1` as a signal does: saved, one line, no trace', async () => {
    const out = at('piped');
    const child = start(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--json']);
    const run = await finish(child, (text, c) => {
      if (text.includes('\n')) c.stdout!.destroy(); // the reader takes one line and goes
    });
    expect(run.code).toBe(141);
    expect(run.stderr).toMatch(/^rnn: stdout closed \(SIGPIPE\) at step \d+; saved .*latest\.json; go on with: /m);
    expect(run.stderr).toContain(`go on with: ${rnnCommand(BIN, dir)} train --resume ${join(out, 'latest.json')}\n`);
    expect(run.stderr).not.toMatch(/EPIPE|^\s+at /m);
    const saved = loadCheckpoint(join(out, 'latest.json'));
    expect(saved.training.step).toBeGreaterThan(0);
  });

  it('ends `rnn train 2>&1 | head` as a closed stdout does: saved at the step reached, exit 141', async () => {
    const out = at('stderr-piped');
    // no periodic evaluation: whatever is saved, the closed pipe saved
    const child = start(['train', corpus, ...TINY_RUN, '--max-steps', '1000000', '--eval-every', '0', '--out', out]);
    let progress = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      progress += chunk.toString();
      if (progress.includes('| loss')) child.stderr!.destroy(); // the reader takes the first step's line and goes
    });
    const run = await finish(child);
    expect(run.code).toBe(141);
    expect(run.stdout).toBe('');
    expect(loadCheckpoint(join(out, 'latest.json')).training.step).toBeGreaterThan(1);
  });

  it('ends `rnn train --json > /dev/full` as a failure, not a closed pipe: saved, a line naming the full disk, exit 1', async () => {
    const out = at('full-train');
    const full = openSync('/dev/full', 'w');
    try {
      const run = spawnSync(process.execPath, [BIN, 'train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--json'],
        { cwd: dir, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '' } });
      expect(run.status).toBe(1);
      expect(run.stderr).toMatch(new RegExp('^rnn: cannot write standard output: ENOSPC: the disk is full; free some space or ' +
        String.raw`choose another disk; stopped at step (\d+); saved .*latest\.json; go on with: .* train --resume .*latest\.json$`, 'm'));
      expect(run.stderr).not.toMatch(/SIGPIPE|stdout closed|^\s+at /m);
      const step = Number(/stopped at step (\d+)/.exec(run.stderr)![1]);
      expect(loadCheckpoint(join(out, 'latest.json')).training.step).toBe(step);
    } finally {
      closeSync(full);
    }
  });

  it('stops `rnn sample --len 100000000 | head -c 100` promptly', async () => {
    const out = await savedRun('for-sample', 20);
    const child = start(['sample', '--checkpoint', join(out, 'latest.json'), '--len', '100000000', '--seed', '1']);
    const run = await finish(child, (text, c) => {
      if (text.length >= 100) c.stdout!.destroy();
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });

  it.each([[[]], [['--stop-at-eos']], [['--stop-at-eos', '--length-penalty', '1']]])(
    'stops `rnn sample --beam 1 %s --len 20000000 | head -c 100` promptly, where the search would run for minutes', async (flags) => {
      const out = await savedRun(`for-beam-${flags.length}`, 20);
      // a beam of 1 is greedy: each token settles, and is written, as it is chosen (with --stop-at-eos too: none has ended)
      const child = start(['sample', '--checkpoint', join(out, 'latest.json'), '--beam', '1', ...flags, '--len', '20000000']);
      const deadline = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const run = await finish(child, (text, c) => {
        if (text.length >= 100) c.stdout!.destroy();
      });
      clearTimeout(deadline);
      expect(run.stdout.length).toBeGreaterThanOrEqual(100);
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
    });

  it.each([
    ['info', (ckpt: string) => ['info', ckpt]],
    ['eval', (ckpt: string) => ['eval', 'perplexity', '--checkpoint', ckpt, '--text', 'the state of the union']],
    ['sample', (ckpt: string) => ['sample', '--checkpoint', ckpt, '--len', '100000', '--seed', '1']],
    ['sample --beam', (ckpt: string) => ['sample', '--checkpoint', ckpt, '--len', '1000', '--beam', '2', '--json']],
  ])('fails `rnn %s > /dev/full` with exit 1 and a line naming the full disk, where a reader that goes is no failure', async (name, args) => {
    const out = await savedRun(`for-full-${name.replace(/\W+/g, '-')}`, 20);
    const full = openSync('/dev/full', 'w');
    try {
      const run = spawnSync(process.execPath, [BIN, ...args(join(out, 'latest.json'))],
        { cwd: dir, stdio: ['ignore', full, 'pipe'], encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '' } });
      expect(run.status).toBe(1);
      expectOneLine(run.stderr, /^rnn: cannot write standard output: ENOSPC: the disk is full; free some space or choose another disk$/m);
    } finally {
      closeSync(full);
    }
  });

  it.each([
    ['info', (ckpt: string) => ['info', ckpt]],
    ['eval', (ckpt: string) => ['eval', 'perplexity', '--checkpoint', ckpt, '--text', 'the state of the union']],
  ])('exits quietly when the reader of `rnn %s` is gone', async (name, args) => {
    const out = await savedRun(`for-${name}`, 20);
    const child = start(args(join(out, 'latest.json')));
    child.stdout!.destroy();
    const run = await finish(child);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
  });
});

/**
 * rnn on a terminal (`script`), run by a shell that passes the terminal's SIGHUP on to it as an interactive one does:
 * `reported` is what rnn wrote to stderr and the shell's `status N` after it, both on fd 3, which outlives the terminal.
 */
function onTerminal(args: string[]): { terminal: ChildProcess; reported: Promise<string> } {
  const rnn = [process.execPath, BIN, ...args].map(shellWord).join(' ');
  const shell = `trap 'kill -HUP $rnn' HUP; ${rnn} 2>&3 & rnn=$!; wait $rnn; wait $rnn; echo "status $?" >&3`;
  const terminal = spawn('script', ['-qfc', shell, '/dev/null'], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore', 'pipe'], env: { ...process.env, RNN_DEBUG: '' } });
  let report = '';
  terminal.stdio[3]!.on('data', (chunk: Buffer) => (report += chunk.toString()));
  return { terminal, reported: new Promise((resolve) => terminal.stdio[3]!.on('end', () => resolve(report))) };
}

describe('5. a closed terminal', () => {
  it('saves on SIGHUP and ends by it (129 in a shell)', async () => {
    const out = at('hangup');
    const child = start(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--json']);
    const run = await finish(child, signalOnce('"event":"step"', 'SIGHUP'));
    expect(run.signal).toBe('SIGHUP');
    expect(run.stderr).toMatch(/^rnn: interrupted by SIGHUP at step (\d+); saved /m);
    const step = Number(/at step (\d+)/.exec(run.stderr)![1]);
    expect(loadCheckpoint(join(out, 'latest.json')).training.step).toBe(step);
  });

  it('saves when its terminal closes, whether the hang-up or the SIGHUP reaches it first, and ends by SIGHUP', async () => {
    const out = at('terminal-closed');
    const { terminal, reported } = onTerminal(['train', corpus, ...TINY_RUN, ...ENDLESS, '--out', out, '--json']);
    // the terminal closes (its emulator ends) once rnn trains
    await stdoutShows(terminal, '"event":"step"');
    terminal.kill('SIGKILL');
    const report = await reported;
    expect(report).not.toMatch(/Assertion|Native stack/);
    expect(report).toMatch(/^rnn: interrupted by SIGHUP at step (\d+); saved [^\n]+\nstatus 129\n$/m);
    const step = Number(/at step (\d+)/.exec(report)![1]);
    expect(loadCheckpoint(join(out, 'latest.json')).training.step).toBe(step);
  });

  // the first write to the closed terminal fails (EIO): met as the hang-up, not as an output that failed, whose exit aborts
  it.each([
    ['serve', (ckpt: string) => ['serve', '--checkpoint', ckpt, '--port', '0', '--workers', '1'], 'rnn serve: listening on'],
    ['sample', (ckpt: string) => ['sample', '--checkpoint', ckpt, '--len', '100000000', '--prime', 'The ', '--seed', '1'], 'The '],
  ])('`rnn %s` ends by SIGHUP when its terminal closes, where Node 20 aborted exiting on it', async (name, args, shown) => {
    const out = await savedRun(`for-terminal-${name}`, 2);
    const { terminal, reported } = onTerminal(args(join(out, 'latest.json')));
    await stdoutShows(terminal, shown);
    terminal.kill('SIGKILL');
    expect(await reported).toBe('status 129\n');
  });
});

/** The fields of a checkpoint's JSON these cases edit. */
interface CheckpointJson {
  weights: { tensors: Record<string, { data: string }> };
  vocab: string[];
  training: { bestValLoss: number | null };
}

describe('6. bad checkpoints are refused', () => {
  let good: string;
  beforeAll(async () => {
    good = join(await savedRun('to-damage', 20), 'latest.json');
  });

  const damaged = (name: string, edit: (json: CheckpointJson, text: string) => string | void): string => {
    const text = readFileSync(good, 'utf8');
    const json = JSON.parse(text) as CheckpointJson;
    const replaced = edit(json, text);
    const path = at(`${name}.json`);
    writeFileSync(path, replaced ?? JSON.stringify(json));
    return path;
  };
  const setFirstWeight = (json: CheckpointJson, value: number): void => {
    const tensor = json.weights.tensors['embed.weight']!;
    const bytes = Buffer.from(tensor.data, 'base64');
    bytes.writeFloatLE(value, 0);
    tensor.data = bytes.toString('base64');
  };

  it.each([
    ['NaN weight', (j: CheckpointJson) => setFirstWeight(j, NaN), /weights\.tensors\["embed\.weight"\]\[0\] is NaN/],
    ['infinite weight', (j: CheckpointJson) => setFirstWeight(j, -Infinity), /weights\.tensors\["embed\.weight"\]\[0\] is -Infinity/],
    ['huge weight', (j: CheckpointJson) => setFirstWeight(j, 3e38), /weights\.tensors\["embed\.weight"\]\[0\] is 3\.0\d*e\+38, expected a weight within/],
    ['flipped base64 character', (j: CheckpointJson) => {
      const tensor = j.weights.tensors['head.bias']!;
      tensor.data = (tensor.data[0] === 'A' ? 'B' : 'A') + tensor.data.slice(1);
    }, /sha256 does not match the content: the file is damaged/],
    ['vocabulary in another order', (j: CheckpointJson) => {
      [j.vocab[3], j.vocab[4]] = [j.vocab[4]!, j.vocab[3]!];
    }, /vocab\[4\] .* expected the characters in code-point order/],
    ['negative bestValLoss', (j: CheckpointJson) => {
      j.training.bestValLoss = -5;
    }, /training\.bestValLoss must be >= 0 \(got -5\)/],
  ])('%s', async (name, edit, message) => {
    const path = damaged(name.replace(/\W+/g, '-'), edit);
    const run = await rnn(['info', path]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, message);
    expect(run.stderr).toContain(path);
  });

  describe('a resumed run folder\'s best.json', () => {
    /** A run of 40 steps, evaluated at 20 and 40, whose best.json is replaced by `replace(path)`: the folder. */
    const withBest = async (name: string, replace: (best: string) => void): Promise<string> => {
      const out = await savedRun(name);
      replace(join(out, 'best.json'));
      return out;
    };
    const escaped = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const resumed = (out: string) => rnn(['train', '--resume', out, '--max-steps', '60', '--eval-every', '20']);

    it.each([
      ['another model\'s (--hidden 24)', ['--hidden', '24'], /it was trained with --hidden 24, the run with --hidden 16/],
      ['another run\'s of this model (--seed 7)', ['--seed', '7'], /it was trained with --seed 7, the run with --seed 1337/],
      ['another run\'s of this model and settings (--lr 0.01)', ['--lr', '0.01'], /its evaluations are another run's, from the one at step 20 on/],
      ['another vocabulary\'s (a text in capitals)', ['capitals'], /its vocabulary of \d+ tokens is not the run's of \d+, from token \d+ on/],
    ])('that is %s is refused in one line naming both files, and neither changes', async (name, flags, difference) => {
      const other = at(`other-${name.replace(/\W+/g, '-')}`);
      const text = flags[0] === 'capitals' ? at('capitals.txt') : corpus;
      if (text !== corpus) writeFileSync(text, speeches(4000).toUpperCase());
      const settings = text === corpus ? flags : [];
      const trained = await rnn(['train', text, ...TINY_RUN, ...settings, '--max-steps', '40', '--eval-every', '20', '--out', other]);
      expect(trained.code).toBe(0);
      const out = await withBest(`foreign-best-${name.replace(/\W+/g, '-')}`, (best) => copyFileSync(join(other, 'best.json'), best));
      const before = fileHashes(out);
      const run = await resumed(out);
      expect(run.code).toBe(1);
      const best = join(out, 'best.json'), latest = join(out, 'latest.json');
      expectOneLine(run.stderr, new RegExp(`^rnn: ${escaped(best)} is not the best checkpoint of ${escaped(latest)}, which --resume goes on with: `));
      expectOneLine(run.stderr, difference);
      expectOneLine(run.stderr, new RegExp(`; move ${escaped(best)} away .*, or resume into another folder: --resume ${escaped(latest)} --out FOLDER$`, 'm'));
      expect(fileHashes(out)).toEqual(before);
    });

    it.each([
      ['cut short', (best: string) => writeFileSync(best, readFileSync(best).subarray(0, 500)), /it ends mid-way: the file is cut short/],
      ['garbage', (best: string) => writeFileSync(best, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3])), /best\.json/],
      ['a flipped character', (best: string) => {
        const text = readFileSync(best, 'utf8'), where = text.indexOf('"data":"') + 8;
        writeFileSync(best, text.slice(0, where) + (text[where] === 'A' ? 'B' : 'A') + text.slice(where + 1));
      }, /sha256 does not match the content: the file is damaged/],
    ])('that is damaged (%s) is refused in one line naming it and the whole latest.json, and neither changes', async (name, damage, problem) => {
      const out = await withBest(`damaged-best-${name.replace(/\W+/g, '-')}`, damage);
      const before = fileHashes(out);
      const run = await resumed(out);
      expect(run.code).toBe(1);
      const best = join(out, 'best.json'), latest = join(out, 'latest.json');
      expectOneLine(run.stderr, new RegExp(`^rnn: ${escaped(best)}`));
      expectOneLine(run.stderr, problem);
      expectOneLine(run.stderr, new RegExp(`; ${escaped(latest)} is whole: move ${escaped(best)} away and the resumed run writes a new best at its next evaluation$`, 'm'));
      expect(fileHashes(out)).toEqual(before);
    });

    it('that is not there (a run stopped before its first evaluation) is written at the resumed run\'s first evaluation', async () => {
      const out = await withBest('no-best', (best) => rmSync(best));
      const run = await resumed(out);
      expect(run.code).toBe(0);
      expect(loadCheckpoint(join(out, 'best.json')).training.step).toBe(60);
    });

    it('of this run, one evaluation ahead of latest.json (a crash between the two writes), resumes', async () => {
      const out = await savedRun('best-ahead', 20);
      const latest = join(out, 'latest.json'), atStep20 = readFileSync(latest);
      const further = await rnn(['train', '--resume', out, '--max-steps', '40']);
      expect(further.code).toBe(0);
      expect(loadCheckpoint(join(out, 'best.json')).training.step).toBe(40);
      writeFileSync(latest, atStep20);
      const run = await rnn(['train', '--resume', out, '--max-steps', '60']);
      expect(run.stderr).not.toMatch(/^rnn: /m);
      expect(run.code).toBe(0);
    });

    it('of this run\'s later course, two evaluations ahead of latest.json (no stop leaves it so), is refused', async () => {
      const out = await savedRun('best-far-ahead', 20);
      const latest = join(out, 'latest.json'), atStep20 = readFileSync(latest);
      const further = await rnn(['train', '--resume', out, '--max-steps', '60', '--eval-every', '20']);
      expect(further.code).toBe(0);
      expect(loadCheckpoint(join(out, 'best.json')).history.length).toBe(3);
      writeFileSync(latest, atStep20);
      const before = fileHashes(out);
      const run = await rnn(['train', '--resume', out, '--max-steps', '80']);
      expect(run.code).toBe(1);
      expectOneLine(run.stderr, /best\.json is not the best checkpoint of .*: it holds 2 evaluations past the run's last \(step 20\)/);
      expect(fileHashes(out)).toEqual(before);
    });
  });
});

describe('7. size limits found before the first step', () => {
  it('refuses --hidden 100000 at once, naming the largest hidden size that fits', async () => {
    const run = await rnn(['train', corpus, '--hidden', '100000', '--out', at('huge')]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /--layers \d+ × --hidden 100000: .* more than the .* --hidden \d+ is the largest that fits with these settings/);
    expect(existsSync(at('huge', 'latest.json'))).toBe(false);
  });

  it.each([[[]], [['--json']]])('holds a long beam\'s texts flat, about a byte a character: --len 600000 %j in a 32 MB heap', async (json) => {
    const out = await savedRun(`for-long-beam${json.join('')}`, 20);
    // each hypothesis's text grown token by token held tens of bytes a token: 3 × 600,000 of them overflowed this heap
    const child = startRnn(dir, ['sample', '--checkpoint', join(out, 'latest.json'), '--beam', '2', '--len', '600000', ...json],
      ['env', 'NODE_OPTIONS=--max-old-space-size=32']);
    const run = await finish(child);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const text = json.length > 0 ? (JSON.parse(run.stdout) as { text: string }).text : run.stdout;
    expect(text.length).toBeGreaterThanOrEqual(600000);
  });

  it('uses the cores for --workers 1000, and says so', async () => {
    const run = await rnn(['train', corpus, ...TINY_RUN.slice(0, -2), '--workers', '1000', '--max-steps', '3', '--out', at('many-workers'), '--json']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^rnn: warning: --workers 1000 is more than the (\d+) cores here; using \1$/m);
    const startEvent = JSON.parse(run.stdout.split('\n')[0]!) as { settings: { workers: number } };
    expect(startEvent.settings.workers).toBeLessThan(1000);
    const checkpoint = join(at('many-workers'), 'latest.json');
    for (const args of [['sample', '--checkpoint', checkpoint, '--len', '20'], ['eval', 'perplexity', '--checkpoint', checkpoint, '--text', 'the']]) {
      const other = await rnn([...args, '--workers', '1000']);
      expect(other.code).toBe(0);
      expect(other.stderr).toMatch(/^rnn: warning: --workers 1000 is more than the (\d+) cores here; using \1\n$/);
    }
  });
});

describe('8. big models leave as safetensors', () => {
  it('exports the weights as .safetensors and imports them back to the same model', async () => {
    const out = await savedRun('to-export', 20);
    const file = at('model.safetensors');
    const exported = await rnn(['export', join(out, 'latest.json'), '--format', 'safetensors', '--out', file]);
    expect(exported.code).toBe(0);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string }>;
    expect(header['head.bias']!.dtype).toBe('F32');
    const imported = await rnn(['import', file, '--out', at('from-safetensors.json')]);
    expect(imported.code).toBe(0);
    const original = loadCheckpoint(join(out, 'latest.json')), back = loadCheckpoint(at('from-safetensors.json'));
    expect(back.weights).toEqual(original.weights);
    expect(back.vocab).toEqual(original.vocab);
    expect(back.config.model).toEqual(original.config.model);
  });
});

describe('9. smaller losses', () => {
  it('removes the temp file of a save killed mid-write at the next save', async () => {
    const out = await savedRun('crashed-save', 20);
    const orphan = join(out, `latest.json.tmp-${deadPid()}`);
    writeFileSync(orphan, '{"format":"rnn-checkpoint/1", "half-writ');
    const run = await rnn(['train', '--resume', out, '--max-steps', '25']);
    expect(run.code).toBe(0);
    expect(existsSync(orphan)).toBe(false);
  });

  it('removes the temp files of both checkpoints that saves killed mid-write left, before the next run on that output trains', async () => {
    const out = await savedRun('crashed-saves', 20);
    const orphans = ['latest.json', 'best.json'].map((name) => join(out, `${name}.tmp-${deadPid()}`));
    for (const orphan of orphans) writeFileSync(orphan, '{"format":"rnn-checkpoint/1", "half-writ');
    let left: boolean[] = [];
    const run = await rnn(['train', '--resume', out, '--max-steps', '1000000', '--eval-every', '0', '--json'], (text, child) => {
      if (left.length > 0 || !text.includes('"event":"step"')) return;
      left = orphans.map((orphan) => existsSync(orphan));
      child.kill('SIGINT');
    });
    expect(run.code).toBe(130);
    expect(left).toEqual([false, false]);
  });

  it('names --lr 1e400 as not finite', async () => {
    const run = await rnn(['train', corpus, ...TINY_RUN, '--lr', '1e400', '--out', at('lr')]);
    expect(run.code).toBe(1);
    expectOneLine(run.stderr, /^rnn: --lr: must be a finite number > 0 \(got 1e400\)$/m);
  });
});

describe('10. a control character in a path', () => {
  it('never reaches the terminal from a run\'s own lines, and the command to go on resumes that run when bash runs it', async () => {
    const red = '\u001b[31m';
    const text = at(`corpus${red}.txt`);
    writeFileSync(text, speeches(4000));
    const out = at(`run${red}`);
    const latest = join(out, 'latest.json');
    const child = start(['train', text, ...TINY_RUN, ...ENDLESS, '--out', out]);
    let progress = '';
    const onProgress = (chunk: Buffer) => {
      progress += chunk.toString();
      if (!progress.includes('saved latest')) return;
      child.stderr!.off('data', onProgress);
      child.kill('SIGINT');
    };
    child.stderr!.on('data', onProgress);
    const run = await finish(child);
    expect(run.code).toBe(130);
    expect(run.stderr).not.toContain('\u001b');
    expect(run.stderr).toContain(`data: ${visible(text)}: `);
    expect(run.stderr).toContain(`checkpoints: ${visible(latest)} (best: ${visible(join(out, 'best.json'))})\n`);
    expect(run.stderr).toContain(`saved latest checkpoint ${visible(latest)} (step 20)\n`);
    const lines = run.stderr.split('\n');
    expect(lines.find((line) => line.startsWith('done, interrupted (SIGINT), '))).toContain(`; latest: ${visible(latest)}`);
    expect(run.stderr).toContain(`sample it:   ${rnnCommand(BIN, dir)} sample --checkpoint ${shellWord(join(out, 'best.json'))}\n`);
    expect(lines.find((line) => line.startsWith('rnn: interrupted by SIGINT at step '))).toContain(`; saved ${visible(latest)}; go on with: `);
    const goOn = /go on with: (.*)$/m.exec(run.stderr)![1]!;
    expect(goOn).toBe(`${rnnCommand(BIN, dir)} train --resume ${shellWord(latest)}`);
    const step = loadCheckpoint(latest).training.step;
    const resumed = spawnSync('bash', ['-c', `${goOn} --max-steps ${step + 2}`], { cwd: dir, encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '' } });
    expect(resumed.status).toBe(0);
    expect(resumed.stderr).not.toContain('\u001b');
    expect(resumed.stderr).toContain(`resuming ${visible(latest)} at step ${step}: `);
    expect(loadCheckpoint(latest).training.step).toBe(step + 2);
  });
});
