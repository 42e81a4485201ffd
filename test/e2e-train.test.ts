import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { rnnCommand } from '../src/cli/train-summary.js';
import { BIN, expectOneLineError, type Outcome, finish, ROOT, signalOnce, startRnn, TINY_RUN } from './helpers/cli.js';
import { fileHashes, scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

const { dir } = scratchFolder('rnn-e2e-train-');
let corpus: string;

/** Runs the command to its end; `onStdout` sees stdout as it grows and may act on the child. */
function rnn(args: string[], onStdout?: (text: string, child: ChildProcess) => void): Promise<Outcome> {
  return finish(startRnn(dir, args), onStdout);
}

beforeAll(() => {
  corpus = join(dir, 'corpus.txt');
  writeFileSync(corpus, speeches(4000));
});

describe('rnn train (built CLI)', () => {
  let saved: string;

  beforeAll(async () => {
    // the run the bad-input cases must leave untouched
    saved = join(dir, 'saved');
    const { code, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '30', '--eval-every', '10', '--out', saved]);
    expect(stderr).not.toMatch(/internal error/);
    expect(code).toBe(0);
  });

  it('writes latest and best checkpoints and plain progress lines when not on a terminal', () => {
    const latest = loadCheckpoint(join(saved, 'latest.json'));
    expect(latest.training.step).toBe(30);
    expect(latest.history.map((h) => h.step)).toEqual([10, 20, 30]);
    const best = loadCheckpoint(join(saved, 'best.json'));
    expect(best.training.bestValLoss).toBe(Math.min(...latest.history.map((h) => h.valLoss!)));
  });

  it('prints plain lines: no colours, no cursor movement', async () => {
    const out = join(dir, 'plain');
    const { code, stdout, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '20', '--eval-every', '10', '--out', out]);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).not.toContain('\u001b'); // no ANSI escape
    expect(stderr).toMatch(/^training gru 1×16 \(embed 8\)/m);
    expect(stderr).toMatch(/^epoch 0\.\d\d step 2\/20 \| loss \d\.\d{3} \| val — \| .* chars\/s \| ETA /m);
    expect(stderr).toMatch(/^eval step 10: val loss \d\.\d{3} \(best\), train \d\.\d{3} \| sample: ".+"$/m);
    expect(stderr).toContain(`saved latest checkpoint ${join(out, 'latest.json')} (step 20)`);
    expect(stderr).toMatch(/^done, reached --max-steps, at step 20 /m);
  });

  it('prints one JSON object per event with --json', async () => {
    const out = join(dir, 'json');
    const { code, stdout, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '12', '--eval-every', '5', '--out', out, '--json']);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; step?: number; kind?: string });
    expect(events.filter((e) => e.event === 'step').map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(events.filter((e) => e.event === 'eval').map((e) => e.step)).toEqual([5, 10, 12]);
    expect(events.filter((e) => e.event === 'checkpoint' && e.kind === 'latest').map((e) => e.step)).toEqual([5, 10, 12]);
    expect(events.at(-1)).toMatchObject({ event: 'done', reason: 'max-steps', step: 12, latest: join(out, 'latest.json') });
    // a script reads them by the names docs/usage.md gives, in its `rnn train` section
    const usage = readFileSync(join(ROOT, 'docs', 'usage.md'), 'utf8');
    const section = usage.slice(usage.indexOf('## `rnn train'), usage.indexOf('## `rnn prepare'));
    const undocumented = new Set<string>();
    for (const event of events) {
      for (const name of [event.event, ...Object.keys(event)]) if (!section.includes(`\`${name}\``)) undocumented.add(name);
    }
    expect([...undocumented]).toEqual([]);
  });

  it('warns on its own line when --time cannot hold the closing evaluation', async () => {
    // a microsecond: spent by the two steps that run before the speed is known
    const { code, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--time', '0.000001s', '--out', join(dir, 'overrun')]);
    expect(code).toBe(0);
    expect(stderr).toMatch(/^rnn: warning: --time of 0.000001s leaves no room for another step and the closing evaluation, .*--val-frac\n/m);
    expect(stderr).toMatch(/^done, reached --time, at step 2 /m);
  });

  it('resumes across processes exactly, on two workers', async () => {
    const model = ['--cell', 'lstm', '--layers', '2', '--dropout', '0.2', '--workers', '2', '--eval-every', '25', '--json'];
    const args = (out: string, steps: number) => ['train', corpus, ...TINY_RUN, ...model, '--max-steps', String(steps), '--out', out];
    const losses = (stdout: string) =>
      stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; loss?: number }).filter((e) => e.event === 'step').map((e) => e.loss);
    const whole = await rnn(args(join(dir, 'whole'), 80));
    // the first part of the same run, stopped by SIGINT where it stands after step 40; the second finishes it
    const first = await rnn(args(join(dir, 'parts'), 80), signalOnce('"step":40,', 'SIGINT'));
    const second = await rnn(['train', '--resume', join(dir, 'parts', 'latest.json'), '--json']);
    expect([whole.code, first.code, second.code]).toEqual([0, 130, 0]);
    expect(losses(first.stdout).length).toBeGreaterThanOrEqual(40);
    expect(losses(first.stdout).length).toBeLessThan(80);
    expect([...losses(first.stdout), ...losses(second.stdout)]).toEqual(losses(whole.stdout));
    const a = loadCheckpoint(join(dir, 'whole', 'latest.json')), b = loadCheckpoint(join(dir, 'parts', 'latest.json'));
    expect(b.training.step).toBe(80);
    expect(b.config.training.workers).toBe(2);
    expect(b.weights).toEqual(a.weights);
    expect(b.optimizer).toEqual(a.optimizer);
  });

  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const)('on %s finishes the step, saves and exits %i', async (signal, status) => {
    const out = join(dir, `signal-${signal}`);
    const { code, stdout, stderr } = await rnn(['train', corpus, ...TINY_RUN, '--time', '1h', '--out', out, '--json'], signalOnce('"event":"step"', signal));
    expect(code).toBe(status);
    const latest = join(out, 'latest.json');
    const ckpt = loadCheckpoint(latest);
    const events = stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; step?: number });
    expect(events.at(-1)).toMatchObject({ event: 'done', reason: 'interrupted', signal, step: ckpt.training.step });
    expect(ckpt.training.step).toBeGreaterThanOrEqual(1);
    expect(stderr).toBe(
      `rnn: interrupted by ${signal} at step ${ckpt.training.step}; saved ${latest}; go on with: ${rnnCommand(BIN, dir)} train --resume ${latest}\n`,
    );
  });

  it('on a second signal before the save ends at once, saving nothing, its line naming both signals', async () => {
    const out = join(dir, 'two-signals');
    let sent = false;
    // both sent while rnn is stopped early in a step of a tenth of a second or more, so that it meets the second before
    // it can save for the first: the kernel may hand either to another of rnn's threads, whose handler passes it on to the
    // event loop only once that thread runs again (in a step of a few milliseconds, on a busy machine, after the save)
    const { code, stderr } = await rnn(
      ['train', corpus, ...TINY_RUN, '--hidden', '512', '--batch', '32', '--seq-len', '32', '--time', '1h', '--eval-every', '0', '--out', out, '--json'],
      (text, child) => {
        if (sent || !text.includes('"event":"step"')) return;
        sent = true;
        for (const signal of ['SIGSTOP', 'SIGINT', 'SIGTERM', 'SIGCONT'] as const) child.kill(signal);
      });
    const [, second, first] = /^rnn: (SIGINT|SIGTERM) after (SIGINT|SIGTERM): stopping without saving\n$/.exec(stderr) ?? [];
    expect(stderr).toMatch(/^rnn: (SIGTERM after SIGINT|SIGINT after SIGTERM): /);
    expect(first).not.toBe(second);
    expect(code).toBe(second === 'SIGTERM' ? 143 : 130);
    expect(existsSync(join(out, 'latest.json'))).toBe(false);
  });

  describe('bad input: one line, no stack, nothing saved touched', () => {
    const files: Record<string, string | Buffer> = {
      'empty.txt': '',
      'short.txt': 'too short\n',
      'latin1.txt': Buffer.from('caf\xe9 au lait\n', 'latin1'),
      'utf16.txt': Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('café au lait\n', 'utf16le')]),
      'notes.json': '{ not json',
      'v2.json': JSON.stringify({ format: 'rnn-checkpoint/2' }),
    };

    beforeAll(() => {
      for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
      // a good checkpoint with one tensor of the wrong shape
      const ckpt = JSON.parse(readFileSync(join(saved, 'latest.json'), 'utf8')) as { weights: { tensors: Record<string, { shape: number[] }> } };
      ckpt.weights.tensors['head.bias']!.shape = [3];
      writeFileSync(join(dir, 'wrong-shape.json'), JSON.stringify(ckpt));
      copyFileSync(join(saved, 'latest.json'), join(dir, 'copy.json'));
    });

    const CASES: [string, string[], RegExp][] = [
      ['a missing file', ['missing.txt'], /missing\.txt/],
      ['an empty corpus', ['empty.txt'], /empty\.txt/],
      // <EOS> too short <EOS>, 12 tokens: the first 10 train, the opening <EOS> and 9 characters
      ['a corpus shorter than one batch', ['short.txt'],
        /too short for --batch 4 --seq-len 8: one batch needs 33 tokens and it has 10: 9 characters of text and 1 <EOS>, the token that ends each document/],
      ['invalid UTF-8', ['latin1.txt'], /latin1\.txt: not valid UTF-8 at byte offset 3/],
      ['UTF-16', ['utf16.txt'], /\/utf16\.txt is UTF-16 text \(it begins with the byte-order mark FF FE\), and rnn reads UTF-8: convert it with iconv -f UTF-16 -t UTF-8 \S+\/utf16\.txt > \S+\/utf16-utf8\.txt$/],
      ['--cell foo', ['corpus.txt', '--cell', 'foo'], /--cell: must be one of lstm, gru, rnn/],
      ['--hidden 0', ['corpus.txt', '--hidden', '0'], /--hidden: must be a positive integer \(got 0\)/],
      ['--lr -1', ['corpus.txt', '--lr', '-1'], /--lr: must be a number > 0 \(got -1\)/],
      ['--dropout 1', ['corpus.txt', '--dropout', '1'], /--dropout: must be a number in \[0, 1\) \(got 1\)/],
      ['--val-frac 1', ['corpus.txt', '--val-frac', '1'], /--val-frac: must be a number in \[0, 1\) \(got 1\)/],
      ['--time 5x', ['corpus.txt', '--time', '5x'], /--time: must be a positive duration/],
      ['--resume of a file that is not JSON', ['--resume', 'notes.json'],
        /^rnn: --resume notes\.json is not a checkpoint \(not JSON: [^)]+ at position 2\b.*\): give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
      ['--resume of another format version', ['--resume', 'v2.json'],
        /^rnn: --resume v2\.json is not a checkpoint \(format is "rnn-checkpoint\/2", expected "rnn-checkpoint\/1"\): give a checkpoint that rnn train wrote, or its run folder \(its latest\.json\)$/],
      ['--resume of a tensor of the wrong shape', ['--resume', 'wrong-shape.json'], /wrong-shape\.json: .*head\.bias.*shape is \[3\]/],
      ['--resume with a contradicting model flag', ['--resume', 'copy.json', '--cell', 'lstm'], /--cell lstm contradicts copy\.json/],
      ['--resume on another corpus', ['--resume', 'copy.json', 'short.txt'], /differs from the one copy\.json was trained on/],
    ];

    it.each(CASES)('%s', async (_name, args, message) => {
      const before = fileHashes(saved);
      // the tiny-model flags come first, so a bad flag in `args` overrides them
      const [first, ...rest] = args;
      const argv = first!.startsWith('--') ? ['train', ...TINY_RUN, ...args] : ['train', first!, ...TINY_RUN, ...rest];
      const { code, stdout, stderr } = await rnn([...argv, '--max-steps', '5', '--out', saved]);
      expectOneLineError({ status: code, stdout, stderr }, message);
      expect(fileHashes(saved)).toEqual(before);
      expect(existsSync(join(dir, 'checkpoints'))).toBe(false);
    });
  });
});
