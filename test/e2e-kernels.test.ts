import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { KERNELS_KINDS } from '../src/engine/kernels/kinds.js';
import { rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { EVAL_GRU } from './helpers/fixtures.js';
import { speeches } from './helpers/speeches.js';

/** `--kernels` on train, sample and eval, and `rnn sample --beam`, through the built CLI. */
vi.setConfig({ testTimeout: 60_000, hookTimeout: 60_000 });

const { dir } = scratchFolder('rnn-kernels-');
const at = (...names: string[]) => join(dir, ...names);
const rnn = (...args: string[]) => rnnIn(dir, args);
// the schedule that does not depend on the run's length: 10 steps resumed to 20 are then the 20 of one run
const TINY = ['--hidden', '16', '--embed', '8', '--layers', '1', '--seq-len', '20', '--batch', '4', '--workers', '1', '--lr-schedule', 'epoch'];

beforeAll(async () => {
  writeFileSync(at('small.txt'), speeches(40_000));
  expect((await rnn('import', EVAL_GRU, '--out', at('gru.json'))).status).toBe(0);
});

describe('--kernels', () => {
  // a run of 10 steps on each kernels, which the resumed runs go on from
  beforeAll(async () => {
    for (const kernels of KERNELS_KINDS) {
      const half = await rnn('train', at('small.txt'), ...TINY, '--max-steps', '10', '--kernels', kernels, '--out', at(`half-${kernels}`));
      expect(half.status, half.stderr).toBe(0);
    }
  });

  it('trains on the kernels asked for, records them, and rnn info shows them', async () => {
    for (const kernels of KERNELS_KINDS) {
      expect(loadCheckpoint(at(`half-${kernels}`, 'latest.json')).config.training.kernels).toBe(kernels);
      expect((await rnn('info', at(`half-${kernels}`, 'latest.json'))).stdout).toMatch(new RegExp(`trained on +1 worker, ${kernels} kernels`));
    }
  });

  it('resumes on the same kernels bit for bit, and on the others within float rounding', async () => {
    const losses = (run: { stdout: string }) => run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { event: string; loss?: number })
      .filter((e) => e.event === 'step').map((e) => e.loss!);
    const weights = (path: string) => loadCheckpoint(path).weights;
    const tails = new Map<string, number[]>();
    for (const kernels of KERNELS_KINDS) {
      const whole = await rnn('train', at('small.txt'), ...TINY, '--max-steps', '20', '--kernels', kernels, '--out', at(`whole-${kernels}`), '--json');
      expect(whole.status, whole.stderr).toBe(0);
      const same = await rnn('train', '--resume', at(`half-${kernels}`), '--max-steps', '20', '--out', at(`same-${kernels}`), '--json');
      expect(same.status, same.stderr).toBe(0);
      tails.set(kernels, losses(whole).slice(10));
      expect(losses(same), kernels).toEqual(tails.get(kernels));
      expect(weights(at(`same-${kernels}`, 'latest.json')), kernels).toEqual(weights(at(`whole-${kernels}`, 'latest.json')));
    }
    for (const kernels of KERNELS_KINDS.filter((kind) => kind !== 'js')) {
      const other = await rnn('train', '--resume', at('half-js'), '--max-steps', '20', '--kernels', kernels, '--out', at(`other-${kernels}`), '--json');
      expect(other.status, other.stderr).toBe(0);
      const drift = losses(other).map((loss, i) => Math.abs(loss - tails.get('js')![i]!));
      expect(Math.max(...drift), kernels).toBeLessThan(1e-4);
      expect(loadCheckpoint(at(`other-${kernels}`, 'latest.json')).config.training.kernels).toBe(kernels);
    }
  });

  it('scores and samples alike on either kernels', async () => {
    const text = 'First Citizen:\nBefore we proceed any further, hear me speak.';
    const scores = [];
    for (const kernels of KERNELS_KINDS) {
      const run = await rnn('eval', 'perplexity', '--checkpoint', at('gru.json'), '--text', text, '--json', '--kernels', kernels);
      expect(run.status, run.stderr).toBe(0);
      scores.push((JSON.parse(run.stdout) as { loss: number }).loss);
    }
    for (const score of scores.slice(1)) expect(Math.abs(score - scores[0]!)).toBeLessThan(1e-5);
  });

  it('refuses an unknown --kernels or RNN_KERNELS in one line', async () => {
    const flag = await rnn('sample', '--checkpoint', at('gru.json'), '--kernels', 'gpu');
    expect(flag.status).not.toBe(0);
    expect(flag.stderr).toBe('rnn: --kernels: must be one of auto, js, wasm, relaxed (got gpu)\n');
    const env = await rnnIn(dir, ['sample', '--checkpoint', at('gru.json'), '--len', '5'], { RNN_KERNELS: 'fast' });
    expect(env.status).not.toBe(0);
    expect(env.stderr).toBe('rnn: RNN_KERNELS: must be one of auto, js, wasm, relaxed (got fast)\n');
  });
});

describe('rnn sample --beam', () => {
  const sample = (...args: string[]) => rnn('sample', '--checkpoint', at('gru.json'), '--len', '40', '--prime', 'ROMEO:\n', ...args);

  it('--beam 1 prints exactly what --temperature 0 prints', async () => {
    const [beam, greedy] = await Promise.all([sample('--beam', '1'), sample('--temperature', '0')]);
    expect(beam.status, beam.stderr).toBe(0);
    expect(beam.stdout).toBe(greedy.stdout);
    expect(beam.stdout.startsWith('ROMEO:\n')).toBe(true);
  });

  it('--json gives the text and its log-probability, the same on any --workers, and no worse than greedy', async () => {
    const runs = await Promise.all([sample('--beam', '5', '--json', '--workers', '1'), sample('--beam', '5', '--json', '--workers', '2'),
      sample('--beam', '1', '--json')]);
    for (const run of runs) expect(run.status, run.stderr).toBe(0);
    const [one, two, greedy] = runs.map((run) => JSON.parse(run.stdout) as { text: string; logProb: number; tokens: number });
    expect(two).toEqual(one);
    expect(one!.tokens).toBe(40);
    expect(one!.logProb).toBeGreaterThanOrEqual(greedy!.logProb);
  });

  it('refuses the flags of random draws, and --json or --length-penalty without it', async () => {
    const cases: [string[], string][] = [
      [['--beam', '3', '--temperature', '0.5'], 'rnn: --temperature does not apply to --beam (a beam search draws nothing at random and never chooses <UNK>): leave one out\n'],
      [['--beam', '3', '--unk', 'show'], 'rnn: --unk does not apply to --beam (a beam search draws nothing at random and never chooses <UNK>): leave one out\n'],
      [['--json'], 'rnn: --json needs --beam\n'],
      [['--length-penalty', '1'], 'rnn: --length-penalty needs --beam\n'],
      [['--beam', '0'], 'rnn: --beam: must be a positive integer (got 0)\n'],
    ];
    for (const [args, message] of cases) {
      const run = await sample(...args);
      expect(run.status, args.join(' ')).not.toBe(0);
      expect(run.stderr).toBe(message);
      expect(run.stdout).toBe('');
    }
  });
});
