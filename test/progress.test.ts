import { describe, expect, it, vi } from 'vitest';
import { createProgress, runFraction, wrapToWidth } from '../src/cli/progress.js';
import { counted, grouped, plural } from '../src/input/counts.js';
import { durationText } from '../src/input/duration.js';
import { textColumns } from '../src/text/columns.js';
import type { EvalEvent, StartEvent, StepEvent } from '../src/train/events.js';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';

/** What plain progress writes to stderr for `events`, one after another. */
function plainOutput(...events: Parameters<ReturnType<typeof createProgress>['onEvent']>[0][]): string {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const display = createProgress('plain');
    for (const event of events) display.onEvent(event);
    return write.mock.calls.map(([chunk]) => String(chunk)).join('');
  } finally {
    write.mockRestore();
  }
}

/** The start of a one-step run of a tiny model on a 201-character text, one worker. */
const TINY_START: StartEvent = {
  event: 'start', resumedFrom: null, step: 0, parameters: 100, corpus: ['/tmp/tiny.txt'], emptyFiles: [],
  model: { vocabSize: 5, cell: 'gru', numLayers: 1, hiddenSize: 8, embedDim: 4, dropout: 0 },
  settings: { ...TRAIN_DEFAULTS, workers: 1, kernels: 'js', evalEvery: 10 },
  limits: { epochs: null, maxSteps: 1, timeSeconds: null }, trainTokens: 201, valTokens: 1, stepsPerEpoch: 1, totalSteps: 1,
  out: { latest: 'run/latest.json', best: 'run/best.json' }, skipped: 0,
};

const ESC = String.fromCharCode(0x1b);
const visibleWidth = (line: string) => [...line.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '')].length;

describe('how far along the live bar shows a run', () => {
  it('by steps or by time, whichever limit is nearer, full at either, and by the one limit a run has', () => {
    const at = (step: number, elapsedSeconds: number, totalSteps: number | null, timeSeconds: number | null) =>
      runFraction({ step, totalSteps, elapsedSeconds }, { timeSeconds });
    // --max-steps 100 --time 60: a quarter of the steps at half the time is half way, and the other way round
    expect([at(25, 30, 100, 60), at(50, 15, 100, 60)]).toEqual([0.5, 0.5]);
    expect([at(100, 10, 100, 60), at(10, 60, 100, 60), at(10, 90, 100, 60)]).toEqual([1, 1, 1]);
    // --time alone (no step count known), --max-steps alone, neither
    expect([at(7, 15, null, 60), at(20, 999, 100, null), at(20, 999, null, null)]).toEqual([0.25, 0.2, 0]);
    expect(runFraction({ step: 20, totalSteps: 100, elapsedSeconds: 5 }, undefined)).toBe(0.2);
  });
});

describe('wrapToWidth (the lines logged above the live bar, which the terminal does not wrap)', () => {
  const header = 'data: corpora/tinyshakespeare.txt: 1,003,854 training and 111,540 validation characters, ' +
    '1,024 steps per epoch (batch 50 × 50), 2 workers, wasm kernels';

  it('breaks at spaces into lines that fit, losing nothing', () => {
    for (const width of [32, 40, 60, 120]) {
      const lines = wrapToWidth(header, width);
      for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(width);
      expect(lines.slice(1).every((line) => line.startsWith('  ') && line[2] !== ' ')).toBe(true);
      expect(lines.map((line) => line.trimStart()).join(' ')).toBe(header);
    }
    expect(wrapToWidth(header, 200)).toEqual([header]);
    expect(wrapToWidth(header, 60)).toEqual([
      'data: corpora/tinyshakespeare.txt: 1,003,854 training and',
      '  111,540 validation characters, 1,024 steps per epoch',
      '  (batch 50 × 50), 2 workers, wasm kernels',
    ]);
  });

  it('gives colour escapes no column and keeps them', () => {
    const styled = `${ESC}[2m${header}${ESC}[22m`;
    const lines = wrapToWidth(styled, 60);
    expect(lines.map(visibleWidth)).toEqual(wrapToWidth(header, 60).map((line) => line.length));
    expect(lines[0]!.startsWith(`${ESC}[2m`)).toBe(true);
    expect(lines.at(-1)!.endsWith(`${ESC}[22m`)).toBe(true);
  });

  it('counts two columns for a wide character (CJK, emoji), as the terminal draws it', () => {
    const sample = 'eval step 10: val loss 1.500 (best), train 2.000 | sample: "平和と戦争の物語は長く続いた🕊 それから"';
    for (const width of [20, 31, 40]) {
      const lines = wrapToWidth(sample, width);
      for (const line of lines) expect(textColumns(line)).toBeLessThanOrEqual(width);
      expect(lines.map((line, i) => (i === 0 ? line : line.slice(2))).join('').replaceAll(' ', '')).toBe(sample.replaceAll(' ', ''));
    }
  });

  it('keeps a combining mark and an emoji sequence joined by ZWJ on the line of the character before it', () => {
    const accented = 'Ame\u0301lie';
    const coder = '👩\u200D💻';
    expect(wrapToWidth(`${'x'.repeat(17)} ${accented}`, 24)).toEqual([`${'x'.repeat(17)} ${accented}`]);
    expect(wrapToWidth(`${'x'.repeat(17)} ${coder}${coder}`, 22)).toEqual([`${'x'.repeat(17)} ${coder}${coder}`]);
    expect(wrapToWidth(`${'x'.repeat(17)} ${coder}${coder}`, 21)).toEqual(['x'.repeat(17), `  ${coder}${coder}`]);
    expect(wrapToWidth(coder.repeat(3), 5)).toEqual([coder.repeat(2), `  ${coder}`]);
  });

  it('cuts a word longer than a line where the line ends', () => {
    const path = `checkpoints: /tmp/${'x'.repeat(50)}/latest.json`;
    const lines = wrapToWidth(path, 30);
    for (const line of lines) expect(visibleWidth(line)).toBeLessThanOrEqual(30);
    expect(lines.map((line, i) => (i === 0 ? line : line.slice(2))).join('').replace('checkpoints:', 'checkpoints: ')).toBe(path);
  });
});

describe('the eval line of plain progress', () => {
  const evalEvent = (sample: string): EvalEvent => ({
    event: 'eval', step: 10, epoch: 1, trainLoss: 2, valLoss: 1.5, bestValLoss: 1.5, improved: true, sample, seconds: 3,
  });
  const evalLine = (sample: string): string => plainOutput(evalEvent(sample));

  it('shows a short sample whole, as JSON', () => {
    expect(evalLine('To be\nor')).toBe('eval step 10: val loss 1.500 (best), train 2.000 | sample: "To be\\nor"\n');
  });

  it('shows a control character JSON leaves as it is (C1, a bidirectional override) escaped, as every message does', () => {
    expect(evalLine('a\u009b31mb\u202ec')).toBe('eval step 10: val loss 1.500 (best), train 2.000 | sample: "a\\u009b31mb\\u202ec"\n');
  });

  it('cuts a sample of huge tokens to 160 characters of its JSON', () => {
    const line = evalLine('word'.repeat(100_000));
    expect(line.startsWith('eval step 10: val loss 1.500 (best), train 2.000 | sample: "wordword')).toBe(true);
    const shown = line.slice(line.indexOf('sample: ') + 'sample: '.length, -1);
    expect(shown).toHaveLength(160);
    expect(shown.endsWith('...')).toBe(true);
  });
});

describe('the step line of plain progress', () => {
  it('tells the epoch, step, losses, speed and time left, in the run\'s tokens', () => {
    const output = plainOutput({
      event: 'step', step: 42, epoch: 1.25, loss: 2.5, smoothedLoss: 2.4567, valLoss: null, lr: 0.002, gradNorm: 1,
      tokensPerSecond: 12_345, elapsedSeconds: 10, etaSeconds: 185, totalSteps: 100, skipped: 0,
    });
    expect(output).toBe('epoch 1.25 step 42/100 | loss 2.457 | val — | 12.3k chars/s | ETA 3m05s\n');
  });

  it('writes a speed in three significant digits at most, in the next unit up where rounding reaches a thousand', () => {
    const speed = (tokensPerSecond: number) => plainOutput({
      event: 'step', step: 42, epoch: 1.25, loss: 2.5, smoothedLoss: 2.5, valLoss: null, lr: 0.002, gradNorm: 1,
      tokensPerSecond, elapsedSeconds: 10, etaSeconds: 185, totalSteps: 100, skipped: 0,
    }).split(' | ')[3];
    expect([950, 999.4, 999.6, 1000, 1234, 9_994, 9_996, 10_000, 42_100, 123_456, 999_400, 999_960, 1_250_000].map(speed)).toEqual([
      '950 chars/s', '999 chars/s', '1.00k chars/s', '1.00k chars/s', '1.23k chars/s', '9.99k chars/s', '10.0k chars/s', '10.0k chars/s',
      '42.1k chars/s', '123k chars/s', '999k chars/s', '1.00M chars/s', '1.25M chars/s',
    ]);
  });

  it('is first written for the run\'s second step, not for its first (the JIT and the kernels warming up), whose speed and ETA are the warm-up\'s', () => {
    const start: StartEvent = { ...TINY_START, limits: { ...TINY_START.limits, maxSteps: 100 }, stepsPerEpoch: 100, totalSteps: 100 };
    const step = (n: number, tokensPerSecond: number, etaSeconds: number): StepEvent => ({
      event: 'step', step: n, epoch: n / 100, loss: 2.5, smoothedLoss: 2.5, valLoss: null, lr: 0.002, gradNorm: 1,
      tokensPerSecond, elapsedSeconds: 1, etaSeconds, totalSteps: 100, skipped: 0,
    });
    const stepLines = (output: string) => output.split('\n').filter((line) => /\bstep \d+\/100 /.test(line));
    expect(stepLines(plainOutput(start, step(1, 1_000, 990), step(2, 40_000, 25))))
      .toEqual(['epoch 0.02 step 2/100 | loss 2.500 | val — | 40.0k chars/s | ETA 25s']);
    // a resumed run warms up on its first step too: the step after the one it resumed at
    expect(stepLines(plainOutput({ ...start, resumedFrom: 'run/latest.json', step: 40 }, step(41, 1_000, 590), step(42, 40_000, 15))))
      .toEqual(['epoch 0.42 step 42/100 | loss 2.500 | val — | 40.0k chars/s | ETA 15s']);
  });
});

describe('a duration, as every line writes it', () => {
  it('puts the unit against the number: whole seconds for a time that passes, a given one\'s fraction kept', () => {
    expect([0.4, 42, 185, 3725].map((seconds) => durationText(seconds))).toEqual(['0s', '42s', '3m05s', '1h02m']);
    expect([0.5, 0.000001, 12.25, 59.999, 90].map((seconds) => durationText(seconds, true))).toEqual(['0.5s', '0.000001s', '12.3s', '1m00s', '1m30s']);
    // an hour or more: a time that passes to its minute, a given one to its second where it has some
    expect([3725, 7200].map((seconds) => durationText(seconds, true))).toEqual(['1h02m05s', '2h00m']);
  });

  it('passes from minutes to hours at the hour itself, and writes a time that passed less than nothing (a clock set back) as 0s', () => {
    expect([3599, 3600, 3600.4].map((seconds) => durationText(seconds))).toEqual(['59m59s', '1h00m', '1h00m']);
    expect([-0.4, -3].map((seconds) => durationText(seconds))).toEqual(['0s', '0s']);
  });
});

describe('a count, as every line writes it', () => {
  it('groups its digits in threes and takes the noun\'s plural for any number but 1', () => {
    expect([0, 999, 1234, 4_096_000].map(grouped)).toEqual(['0', '999', '1,234', '4,096,000']);
    expect([1, 0, 2, 1234].map((n) => counted(n, 'file'))).toEqual(['1 file', '0 files', '2 files', '1,234 files']);
    expect(counted(1, 'empty file')).toBe('1 empty file');
    expect([1, 3, 1000].map((n) => counted(n, 'index', 'indices'))).toEqual(['1 index', '3 indices', '1,000 indices']);
    // the noun alone, for a line that writes the number itself
    expect([1, 0, 2].map((n) => plural(n, 'worker'))).toEqual(['worker', 'workers', 'workers']);
    expect([1, 2].map((n) => plural(n, 'character', 'characters'))).toEqual(['character', 'characters']);
  });
});

describe('the done line of a diverged run', () => {
  it('writes a huge loss in four significant digits, as it writes a small one in three decimals', () => {
    const output = plainOutput({
      event: 'done', reason: 'diverged', signal: null, step: 50, epoch: 0.06, trainLoss: 3.0600239772838083e31, valLoss: null,
      bestValLoss: 2.5, latest: 'run/latest.json', best: null, elapsedSeconds: 2, skipped: 0, savedStep: null,
    });
    expect(output).toBe('done, diverged, at step 50 (epoch 0.06) after 2s: train 3.060e+31, val —, best val 2.500; nothing saved\n');
  });
});

describe('the start lines of plain progress', () => {
  const start = TINY_START;

  it('count one step, one worker and one validation character in the singular', () => {
    expect(plainOutput(start).split('\n')[1])
      .toBe('data: /tmp/tiny.txt: 201 training and 1 validation character, 1 step per epoch (batch 32 × 50), 1 worker, js kernels');
  });

  it('count the files that hold text, the empty ones apart', () => {
    const data = (corpus: string[], emptyFiles: string[]) => plainOutput({ ...start, corpus, emptyFiles }).split('\n')[1];
    expect(data(['/d/a.txt', '/d/b.txt', '/d/empty.txt'], ['/d/empty.txt'])).toMatch(/^data: 2 files and 1 empty file: 201 training /);
    expect(data(['/d/a.txt', '/d/e1.txt', '/d/e2.txt'], ['/d/e1.txt', '/d/e2.txt'])).toMatch(/^data: \/d\/a\.txt and 2 empty files: 201 training /);
    expect(data(['/d/a.txt', '/d/b.txt'], [])).toMatch(/^data: 2 files: 201 training /);
  });

  it('state a time limit under a second as given, not as 0s', () => {
    const limits = (timeSeconds: number) => plainOutput({ ...start, limits: { epochs: null, maxSteps: null, timeSeconds } }).split('\n')[2];
    expect(limits(0.001)).toMatch(/^until: 0\.001s; /);
    expect(limits(2.5)).toMatch(/^until: 2\.5s; /);
    expect(limits(90)).toMatch(/^until: 1m30s; /);
  });

  it('state a time limit of an hour or more to its second, as given (--time 1h30m30), not cut to its minute', () => {
    const limits = (timeSeconds: number) => plainOutput({ ...start, limits: { epochs: null, maxSteps: null, timeSeconds } }).split('\n')[2];
    expect(limits(5430)).toMatch(/^until: 1h30m30s; /);
    expect(limits(3659)).toMatch(/^until: 1h00m59s; /);
    expect(limits(7200)).toMatch(/^until: 2h00m; /);
  });

  it('show a control character in a path escaped: the fine-tuned checkpoint, the prepared folder and its corpus, the checkpoints', () => {
    const red = '\u001b[31m';
    const output = plainOutput({
      ...start, corpus: [`/tmp/tiny${red}.txt`], prepared: `/tmp/ids${red}`,
      initFrom: { path: `/tmp/base${red}.json`, sha256: '0'.repeat(64), step: 3 },
      out: { latest: `run${red}/latest.json`, best: `run${red}/best.json` },
    });
    expect(output).not.toContain('\u001b');
    const [first, data, until] = output.split('\n');
    expect(first).toMatch(/^fine-tuning \/tmp\/base\\u001b\[31m\.json: gru /);
    expect(data).toMatch(/^data: \/tmp\/ids\\u001b\[31m \(prepared from \/tmp\/tiny\\u001b\[31m\.txt\): /);
    expect(until).toMatch(/; checkpoints: run\\u001b\[31m\/latest\.json \(best: run\\u001b\[31m\/best\.json\)$/);
  });

  it('show a token --extend-vocab added with a control character escaped', () => {
    expect(plainOutput({ ...start, vocabAdded: ['\u009b', '\u202e'] }).split('\n')[0]).toContain('(2 added: "\\u009b" "\\u202e")');
  });

  it('group the count of the tokens --extend-vocab added, as every count', () => {
    const vocabAdded = Array.from({ length: 2187 }, (_, i) => String.fromCodePoint(0x4e00 + i));
    expect(plainOutput({ ...start, vocabAdded }).split('\n')[0]).toMatch(/, 5-token vocabulary \(2,187 added: .* and 2,179 more\)$/);
  });
});
