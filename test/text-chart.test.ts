import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { colourLevel } from '../src/cli/color.js';
import { shellWord } from '../src/input/issues.js';
import { nextCommands, rnnCommand, validationChart } from '../src/cli/train-summary.js';
import { bucketValues, textLossChart } from '../src/plot/text-chart.js';
import type { DoneEvent, StartEvent } from '../src/train/events.js';

describe('textLossChart', () => {
  it('draws one bar per value, the lowest one eighth high, the highest full, with min and max labels', () => {
    expect(textLossChart([3, 2, 1], { rows: 2 })).toEqual([
      '3.000 ┤█▁',
      '1.000 ┤██▁',
    ]);
  });

  it('scales bars between the extremes in eighths of a row', () => {
    // 16 levels over 2 rows: 1 + round((v - 1) / 15 * 15) eighths
    // heights are v eighths: 16 fills both rows, 9 one row and an eighth, 8 one row, 1 an eighth
    expect(textLossChart([16, 9, 8, 1], { rows: 2, decimals: 0 })).toEqual([
      '16 ┤█▁',
      ' 1 ┤███▁',
    ]);
  });

  it('has an axis on every row and labels only the top and bottom', () => {
    const lines = textLossChart([2.5, 2.1, 1.9, 1.85], { rows: 4 });
    expect(lines).toHaveLength(4);
    expect(lines[0]!.startsWith('2.500 ┤')).toBe(true);
    expect(lines[1]!.startsWith('      │')).toBe(true);
    expect(lines[3]!.startsWith('1.850 ┤')).toBe(true);
  });

  it('refuses rows below 1 and a width below 2 as every option is refused', () => {
    expect(() => textLossChart([1, 2], { rows: 0 })).toThrow('rows: must be a positive integer (got 0)');
    expect(() => textLossChart([1, 2], { width: 1.5 })).toThrow('width: must be an integer >= 2 (got 1.5)');
  });

  it('shows nothing for fewer than two values, and a flat line for equal ones', () => {
    expect(textLossChart([])).toEqual([]);
    expect(textLossChart([2])).toEqual([]);
    // a run that diverged: no bar has a height for an infinite loss, nor for one not a number
    expect(textLossChart([2, Infinity, 1])).toEqual([]);
    expect(textLossChart([2, -Infinity])).toEqual([]);
    expect(textLossChart([2, NaN, 1])).toEqual([]);
    expect(textLossChart([2, 2, 2], { rows: 1 })).toEqual(['2.000 ┤▄▄▄']);
  });

  it('averages more values than fit into the width', () => {
    expect(bucketValues([1, 3, 5, 7], 2)).toEqual([2, 6]);
    expect(bucketValues([1, 2, 3], 5)).toEqual([1, 2, 3]);
    const lines = textLossChart(Array.from({ length: 100 }, (_, i) => 100 - i), { width: 10, rows: 1 });
    expect([...lines[0]!.split('┤')[1]!]).toHaveLength(10);
  });

  it('draws fewer columns where a line would pass lineWidth, its label and axis included, and refuses a lineWidth below 1', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i);
    // the label is as wide as the widest value's at most (100.000): 11 columns of bars fit beside it
    expect(textLossChart(values, { rows: 1, lineWidth: 20 })).toEqual(['96.000 ┤█▇▇▆▅▅▄▃▂▂▁']);
    expect(textLossChart(values, { rows: 1, lineWidth: 200 })[0]).toHaveLength('100.000 ┤'.length + 60);
    expect(textLossChart([1, 2], { lineWidth: 20 })).toEqual(textLossChart([1, 2]));
    expect(() => textLossChart([1, 2], { lineWidth: 0 })).toThrow('lineWidth: must be a positive integer (got 0)');
  });
});

describe('the end of a training run on a terminal', () => {
  const done = (best: string | null): DoneEvent => ({
    event: 'done', reason: 'max-steps', signal: null, step: 20, epoch: 1, trainLoss: 2, valLoss: 2.1, bestValLoss: 2.1,
    latest: 'checkpoints/run/latest.json', best, elapsedSeconds: 3, skipped: 0, savedStep: 20,
  });

  const start = (corpus: string[], valTokens = 100, prepared?: string): StartEvent =>
    ({ event: 'start', corpus, valTokens, ...(prepared === undefined ? {} : { prepared }) }) as StartEvent;

  it('names the commands to sample from and evaluate the best checkpoint, else the latest; no evaluation without a validation split, nothing when no checkpoint was written', () => {
    const file = start(['/home/me/notes.txt']);
    expect(nextCommands(done('checkpoints/run/best.json'), file)).toEqual([
      'sample it:   rnn sample --checkpoint checkpoints/run/best.json',
      'evaluate it: rnn eval perplexity --checkpoint checkpoints/run/best.json',
    ]);
    expect(nextCommands(done(null), file)[0]).toBe('sample it:   rnn sample --checkpoint checkpoints/run/latest.json');
    expect(nextCommands(done(null), start(['/home/me/notes.txt'], 0))).toEqual(['sample it:   rnn sample --checkpoint checkpoints/run/latest.json']);
    expect(nextCommands({ ...done(null), savedStep: null }, file)).toEqual([]);
    expect(shellWord("my run/it's.json")).toBe(`'my run/it'\\''s.json'`);
  });

  it('offers no evaluation of a run on standard input, whose validation split cannot be rebuilt; a folder prepared from it can be', () => {
    const best = done('checkpoints/stdin-run/best.json');
    expect(nextCommands(best, start(['standard input']))).toEqual(['sample it:   rnn sample --checkpoint checkpoints/stdin-run/best.json']);
    expect(nextCommands(best, start(['standard input'], 100, '/home/me/data'))[1])
      .toBe('evaluate it: rnn eval perplexity --checkpoint checkpoints/stdin-run/best.json');
  });

  it('quotes a word with a control character or a bidirectional override so that bash reads back the same bytes and the terminal sees neither', () => {
    const words = ['run\u001b[31m/latest.json', 'two\nlines', 'a\ttab', 'evil\u202etxt.json', "it's\u001b", 'back\\slash\u0007', '\u0085é\u2066 x'];
    for (const word of words) {
      const quoted = shellWord(word);
      expect(quoted).not.toMatch(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/u);
      for (const locale of ['C', 'C.UTF-8']) {
        expect(execFileSync('bash', ['-c', `printf %s ${quoted}`], { encoding: 'utf8', env: { ...process.env, LC_ALL: locale } })).toBe(word);
      }
    }
    expect(shellWord('run\u001b[31m/latest.json')).toBe(String.raw`$'run\e[31m/latest.json'`);
    expect(shellWord('evil\u202etxt')).toBe(String.raw`$'evil\xe2\x80\xaetxt'`);
    expect(shellWord("it's\u001b")).toBe(String.raw`$'it\'s\e'`);
    for (const plain of ['checkpoints/run/latest.json', "my run/it's.json", 'back\\slash', 'café.json']) {
      expect(execFileSync('bash', ['-c', `printf %s ${shellWord(plain)}`], { encoding: 'utf8' })).toBe(plain);
    }
    expect(shellWord('café.json')).toBe(`'café.json'`);
    expect(shellWord('my run.json')).toBe(`'my run.json'`);
    expect(shellWord('dir\\new\u001b')).toBe(String.raw`$'dir\\new\e'`);
  });

  it('writes the command as it was run: rnn by that name, else node and the launcher from here', () => {
    expect(rnnCommand('/usr/local/bin/rnn', '/home/me')).toBe('rnn');
    expect(rnnCommand('/home/me/rnn/bin/rnn.js', '/home/me/rnn')).toBe('node bin/rnn.js');
    expect(rnnCommand('/home/me/rnn/bin/rnn.js', '/tmp/work')).toBe('node /home/me/rnn/bin/rnn.js');
  });

  it('charts the validation losses under a heading', () => {
    const lines = validationChart([{ step: 10, valLoss: 2.5 }, { step: 20, valLoss: 2.2 }], 80);
    expect(lines[0]).toBe('validation loss, 2 evaluations from step 10 to 20:');
    expect(lines.slice(1)).toEqual(textLossChart([2.5, 2.2]).map((l) => `  ${l}`));
    expect(validationChart([{ step: 10, valLoss: 2.5 }], 80)).toEqual([]);
  });

  it('fits the chart in a narrow terminal, whose rows it would break, and keeps 60 columns of bars in a wide one', () => {
    const points = Array.from({ length: 75 }, (_, i) => ({ step: 2 * (i + 1), valLoss: 4.1 - i / 75 }));
    const widths = (columns: number) => validationChart(points, columns).slice(1).map((line) => [...line].length);
    expect(Math.max(...widths(40))).toBe(40);
    expect(Math.max(...widths(250))).toBe('  4.100 ┤'.length + 60);
    expect(Math.max(...widths(5))).toBe('  4.100 ┤'.length + 2);
  });
});

describe('colourLevel', () => {
  const tty = { isTTY: true, getColorDepth: () => 8 };
  const pipe = { isTTY: false };

  it('colours a terminal as deep as it reports, and never a pipe or a dumb terminal', () => {
    expect(colourLevel(tty, {})).toBe(2);
    expect(colourLevel(pipe, {})).toBe(0);
    expect(colourLevel(tty, { TERM: 'dumb' })).toBe(0);
  });

  it('turns colour off for a non-empty NO_COLOR', () => {
    expect(colourLevel(tty, { NO_COLOR: '1' })).toBe(0);
    expect(colourLevel(tty, { NO_COLOR: '' })).toBe(2);
  });

  it('lets FORCE_COLOR decide before anything else, as Node does', () => {
    expect(colourLevel(pipe, { FORCE_COLOR: '1' })).toBe(1);
    expect(colourLevel(pipe, { FORCE_COLOR: '' })).toBe(1);
    expect(colourLevel(pipe, { FORCE_COLOR: '3' })).toBe(3);
    expect(colourLevel(tty, { FORCE_COLOR: '0' })).toBe(0);
    expect(colourLevel(tty, { FORCE_COLOR: 'false' })).toBe(0);
    expect(colourLevel(tty, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(1);
  });
});
