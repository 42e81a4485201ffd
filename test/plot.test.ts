import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { SMOOTHING } from '../src/engine/loss.js';
import { exportState } from '../src/checkpoint/convert.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { createProgram } from '../src/cli/main.js';
import { loadLossRuns, lossRunFromCheckpoint, runCheckpointPath, runName } from '../src/plot/runs.js';
import { InputError } from '../src/input/settings.js';
import { placeLabel } from '../src/plot/labels.js';
import { CHART, type LossRun, niceTicks } from '../src/plot/scale.js';
import { RUN_COLOURS, bestPoint, escapeXml, formatTokenCount, lossChartSvg, offChartNote, runsDrawnAlike, runsDrawnOver } from '../src/plot/svg.js';
import { type XmlElement, allElements, parseXml, textContent } from './helpers/xml.js';
import { expectWrittenThrough, scratchFolder } from './helpers/files.js';
import { ROOT, expectOneLineError, rnnIn } from './helpers/cli.js';

describe('niceTicks', () => {
  it('covers the range with round steps of 1, 2, 2.5 or 5 times a power of ten', () => {
    expect(niceTicks(0, 506_250, 6)).toMatchObject({ lo: 0, hi: 600_000, step: 100_000, decimals: 0 });
    expect(niceTicks(0, 506_250, 6).values).toEqual([0, 100_000, 200_000, 300_000, 400_000, 500_000, 600_000]);
    const losses = niceTicks(1.842, 2.775, 5);
    expect(losses.values).toEqual([1.8, 2, 2.2, 2.4, 2.6, 2.8]);
    expect(losses.decimals).toBe(1);
    expect(niceTicks(0, 1, 3)).toMatchObject({ step: 0.25, decimals: 2, values: [0, 0.25, 0.5, 0.75, 1] });
    // the smallest round step within target + 1 intervals: 0.5 (1.5 … 4.5), not 1 (1 … 5)
    expect(niceTicks(1.67, 4.2, 5)).toMatchObject({ lo: 1.5, hi: 4.5, step: 0.5 });
  });

  it('widens a range of one value around it', () => {
    const t = niceTicks(2, 2, 5);
    expect(t.lo).toBeLessThan(2);
    expect(t.hi).toBeGreaterThan(2);
    expect(niceTicks(0, 0).values).toContain(0);
    // by 5% of the value either side (1 either side of 0), then out to round ticks: a run of one evaluation's axis hugs its loss
    expect(niceTicks(2, 2, 5)).toEqual(niceTicks(2 - 0.1, 2 + 0.1, 5));
    expect(niceTicks(0, 0, 5)).toEqual(niceTicks(-1, 1, 5));
  });
});

describe('formatTokenCount', () => {
  it('labels character counts with k and M', () => {
    expect([0, 500, 250_000, 1_000_000, 1_500_000].map(formatTokenCount)).toEqual(['0', '500', '250k', '1M', '1.5M']);
  });
});

describe('escapeXml', () => {
  it('escapes the five XML specials and drops control characters XML forbids', () => {
    expect(escapeXml(`<a & "b" 'c'>`)).toBe('&lt;a &amp; &quot;b&quot; &apos;c&apos;&gt;');
    expect(escapeXml('a\u0001b\tc')).toBe('ab\tc');
  });
});

/** Two runs with round numbers: x spans 0–200 (ticks of 50), y spans 2–3 (ticks of 0.2). */
const RUNS: LossRun[] = [
  {
    name: 'gru <lr 4e-3> & "more"',
    train: [{ tokensSeen: 100, loss: 3.0 }, { tokensSeen: 200, loss: 2.0 }],
    val: [{ tokensSeen: 100, loss: 2.5 }, { tokensSeen: 200, loss: 2.2 }],
  },
  { name: 'no-validation', train: [{ tokensSeen: 50, loss: 2.6 }], val: [] },
];
const PLOT_WIDTH = CHART.width - CHART.left - CHART.right;
const round2 = (v: number) => Math.round(v * 100) / 100;
const px = (c: number) => round2(CHART.left + (c / 200) * PLOT_WIDTH);
const py = (l: number) => round2(CHART.top + ((3 - l) / 1) * CHART.plotHeight);
const pointsOf = (pairs: [number, number][]) => pairs.map(([c, l]) => `${px(c)},${py(l)}`).join(' ');

describe('lossChartSvg', () => {
  const svg = lossChartSvg(RUNS, { title: 'A & B' });
  const root = parseXml(svg);
  const elements = allElements(root);
  const runGroups = elements.filter((e) => e.attrs['class'] === 'run');
  const within = (el: (typeof elements)[number], cls: string) => allElements(el).filter((e) => e.attrs['class'] === cls);

  it('is a well-formed SVG document with the title escaped', () => {
    expect(root.name).toBe('svg');
    expect(root.attrs['xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(textContent(elements.find((e) => e.name === 'title')!)).toBe('A & B');
  });

  it('draws one group per run, a training polyline each, a validation polyline only where there are validation losses', () => {
    expect(runGroups.map((g) => g.attrs['data-run'])).toEqual(RUNS.map((r) => r.name));
    expect(runGroups.map((g) => g.attrs['stroke'])).toEqual([RUN_COLOURS[0], RUN_COLOURS[1]]);
    expect(runGroups.map((g) => within(g, 'train').length)).toEqual([1, 1]);
    expect(runGroups.map((g) => within(g, 'val').length)).toEqual([1, 0]);
    expect(elements.filter((e) => e.name === 'polyline')).toHaveLength(3);
  });

  it('places every point at its value on the axes: training dashed, validation solid with a dot per evaluation', () => {
    const [first, second] = runGroups;
    const train = within(first!, 'train')[0]!, val = within(first!, 'val')[0]!;
    expect(train.attrs['points']).toBe(pointsOf([[100, 3.0], [200, 2.0]]));
    expect(train.attrs['points']).toBe('402,44 732,364');
    expect(train.attrs['stroke-dasharray']).toBe('6 4'); // the first run's dash, as the legend's key draws training
    expect(val.attrs['points']).toBe(pointsOf([[100, 2.5], [200, 2.2]]));
    expect(val.attrs['stroke-dasharray']).toBeUndefined();
    expect(within(first!, 'val-point').map((c) => [Number(c.attrs['cx']), Number(c.attrs['cy'])])).toEqual([[px(100), py(2.5)], [px(200), py(2.2)]]);
    // a one-point training line gets a marker, or it would not show; a longer one shows as its line alone
    expect(within(first!, 'train-point')).toEqual([]);
    const lone = within(second!, 'train-point')[0]!;
    expect([Number(lone.attrs['cx']), Number(lone.attrs['cy'])]).toEqual([px(50), py(2.6)]);
  });

  it('rings and labels each run\'s best validation loss, and none for a run without validation', () => {
    const best = within(runGroups[0]!, 'best');
    expect(best.map((c) => [Number(c.attrs['cx']), Number(c.attrs['cy'])])).toEqual([[px(200), py(2.2)]]);
    expect(within(runGroups[1]!, 'best')).toHaveLength(0);
    expect(elements.filter((e) => e.attrs['class'] === 'best-label').map(textContent)).toEqual(['2.200']);
  });

  it('labels the axes with round ticks and names each run in the legend', () => {
    const ticks = (axis: string) => within(elements.find((e) => e.attrs['class'] === axis)!, 'tick').map(textContent);
    expect(ticks('x-axis')).toEqual(['0', '50', '100', '150', '200']);
    expect(ticks('y-axis')).toEqual(['2.0', '2.2', '2.4', '2.6', '2.8', '3.0']);
    expect(elements.filter((e) => e.attrs['class'] === 'axis-label').map(textContent)).toEqual(['characters seen', 'loss (nats/char)']);
    const legend = elements.filter((e) => e.attrs['class'] === 'legend-run').map((e) => textContent(e).trim());
    expect(legend).toEqual([
      `${RUNS[0]!.name}best validation loss 2.200 after 200 characters`,
      'no-validationno validation loss',
    ]);
  });

  it('draws a run of 200,000 evaluations (--eval-every 1), more points than a call takes arguments', () => {
    const train = Array.from({ length: 200_000 }, (_, i) => ({ tokensSeen: 100 * (i + 1), loss: 4 - i / 100_000 }));
    const ticks = allElements(parseXml(lossChartSvg([{ name: 'long', train, val: [] }])))
      .filter((e) => e.attrs['class'] === 'tick').map((e) => e.text);
    expect(ticks).toContain('2.0');
    expect(ticks).toContain('4.0');
  });

  it('draws a line of more evaluations than pixels as its pixel columns show it, every spike and dip kept, and the best exact', () => {
    // 200,000 evaluations on 660 units of width: a spike in training and a dip in validation, one evaluation each
    const loss = (i: number) => 4 - i / 100_000 + 0.05 * Math.sin(i);
    const train = Array.from({ length: 200_000 }, (_, i) => ({ tokensSeen: 100 * (i + 1), loss: i === 123_456 ? 9 : loss(i) }));
    const val = train.map((p, i) => ({ tokensSeen: p.tokensSeen, loss: i === 77_777 ? 0.5 : 4.1 - i / 100_000 }));
    const elements = allElements(parseXml(lossChartSvg([{ name: 'long', train, val }])));
    const x = niceTicks(0, 20_000_000, 6), y = niceTicks(0.5, 9, 5);
    const at = ({ tokensSeen, loss }: { tokensSeen: number; loss: number }) => [
      round2(CHART.left + (tokensSeen / x.hi) * PLOT_WIDTH), round2(CHART.top + ((y.hi - loss) / (y.hi - y.lo)) * CHART.plotHeight),
    ];
    const spots = (cls: string) => elements.filter((e) => e.attrs['class'] === cls)
      .flatMap((e) => e.attrs['points']!.split(' ').map((xy) => xy.split(',').map(Number)));
    // first, lowest, highest and last of each pixel column: at most 4 a column
    for (const line of ['train', 'val']) expect(spots(line).length).toBeLessThanOrEqual(4 * (PLOT_WIDTH + 1));
    expect(spots('train')).toContainEqual(at(train[123_456]!));
    expect(spots('val')).toContainEqual(at(val[77_777]!));
    expect(spots('train')).toContainEqual(at(train[0]!));
    expect(spots('train')).toContainEqual(at(train.at(-1)!));
    // a marker per pixel that evaluations fall in
    const pixel = ([px, py]: number[]) => Math.floor(px!) * CHART.width + Math.floor(py!);
    const pixels = new Set(val.map((p) => pixel(at(p))));
    const markers = elements.filter((e) => e.attrs['class'] === 'val-point').map((e) => [Number(e.attrs['cx']), Number(e.attrs['cy'])]);
    expect(new Set(markers.map(pixel)).size).toBe(markers.length);
    expect(markers).toHaveLength(pixels.size);
    expect(markers).toContainEqual(at(val[77_777]!));
    const best = elements.find((e) => e.attrs['class'] === 'best')!;
    expect([Number(best.attrs['cx']), Number(best.attrs['cy'])]).toEqual(at(val[77_777]!));
    expect(elements.filter((e) => e.attrs['class'] === 'legend-run').map(textContent)[0]).toContain('best validation loss 0.500 after 7,777,800 characters');
  });

  it('keeps the x axis at 0 characters and up when every point is at 0', () => {
    const x = allElements(parseXml(lossChartSvg([{ name: 'r', train: [{ tokensSeen: 0, loss: 4 }], val: [] }])))
      .filter((e) => e.attrs['class'] === 'tick').map((e) => e.text);
    expect(x[0]).toBe('0');
    expect(x).not.toContain('-1');
  });

  it('titles and keys a chart of runs without validation as training loss alone, and cuts a title too long for the width', () => {
    const texts = (svg: string) => allElements(parseXml(svg)).filter((e) => e.name === 'text').map((e) => e.text);
    const trainOnly = texts(lossChartSvg([{ name: 'r', train: [{ tokensSeen: 0, loss: 4 }, { tokensSeen: 100, loss: 3 }], val: [] }]));
    expect(trainOnly).toContain('Training loss');
    expect(trainOnly).not.toContain('validation');
    expect(trainOnly).not.toContain('best validation loss');
    const long = texts(lossChartSvg(RUNS, { title: 'x'.repeat(200) }));
    expect(long).toContain(`${'x'.repeat(79)}…`);
  });

  it('cuts a run\'s name too long for its legend row in the middle, keeping both ends, the whole name its tooltip', () => {
    const name = (n: number) => `tinyshakespeare-gru-2x192-lr3e-3-dropout0.1-batch32-seq50-20261206-075500-with-a-note-number-${n}`;
    const wide = '日本語の実験'.repeat(5);
    const runs = [1, 2].map((n) => evaluatedRun(name(n), [[100, 3, 2.9]])).concat(evaluatedRun(wide, [[100, 3, 2.9]]), evaluatedRun('short', [[100, 3, 2.9]]));
    const rows = allElements(parseXml(lossChartSvg(runs))).filter((e) => e.attrs['class'] === 'legend-run');
    const shown = rows.map((row) => textContent(row.children.find((c) => c.name === 'text')!));
    // 47 characters after the name leave it 48 columns: 24 before the ellipsis, 23 after (a CJK character takes two: 12 and 11)
    expect(shown).toEqual([
      'tinyshakespeare-gru-2x19…00-with-a-note-number-1best validation loss 2.900 after 100 characters',
      'tinyshakespeare-gru-2x19…00-with-a-note-number-2best validation loss 2.900 after 100 characters',
      '日本語の実験日本語の実験…本語の実験日本語の実験best validation loss 2.900 after 100 characters',
      'shortbest validation loss 2.900 after 100 characters',
    ]);
    expect(rows.map((row) => row.children.find((c) => c.name === 'title')).map((title) => title && textContent(title)))
      .toEqual([name(1), name(2), wide, undefined]);
    expect(rows.map((row) => row.attrs['data-run'])).toEqual(runs.map((run) => run.name));
  });

  it('cuts a title of wide characters to the columns of the chart\'s width, each taking two', () => {
    const titles = allElements(parseXml(lossChartSvg(RUNS, { title: '日本語'.repeat(30) }))).filter((e) => e.name === 'title');
    expect(titles.map(textContent)).toEqual([`${'日本語'.repeat(13)}…`]);
  });

  it('names in rnn plot --title\'s help the default title of a chart with validation losses and of one without', async () => {
    const plot = (await createProgram()).commands.find((command) => command.name() === 'plot')!;
    const help = plot.options.find((option) => option.long === '--title')!.description;
    expect(help).toContain('"Training and validation loss"');
    expect(help).toContain('"Training loss" where no run has a validation loss');
  });

  it('refuses nothing to draw', () => {
    expect(() => lossChartSvg([])).toThrow(/no runs/);
    expect(() => lossChartSvg([{ name: 'empty', train: [], val: [] }])).toThrow(/empty has no points/);
  });

  it('labels a word-level chart in tokens and nats per word, and refuses runs of both levels on one chart', () => {
    const words: LossRun = { name: 'words', level: 'word', train: [{ tokensSeen: 100, loss: 6 }], val: [{ tokensSeen: 100, loss: 6.2 }] };
    const texts = (svg: string) => allElements(parseXml(svg)).filter((e) => e.name === 'text').map((e) => e.text);
    expect(texts(lossChartSvg([words]))).toEqual(expect.arrayContaining(['tokens seen', 'loss (nats/word)']));
    expect(lossChartSvg([words])).toContain('best validation loss 6.200 after 100 tokens');
    expect(texts(lossChartSvg(RUNS))).toEqual(expect.arrayContaining(['characters seen', 'loss (nats/char)']));
    expect(() => lossChartSvg([...RUNS, words])).toThrow(/different levels/);
  });
});

/**
 * A validation marker's shape, wherever it is drawn: a circle's radius, or a path's points
 * relative to the first, so that two markers of one shape at two places read the same.
 */
function markerShape(marker: XmlElement): string {
  if (marker.name === 'circle') return `circle r ${marker.attrs['r']}`;
  const numbers = (marker.attrs['d'] ?? '').match(/-?[\d.]+/g)!.map(Number);
  return `path ${numbers.map((v, i) => round2(v - numbers[i % 2]!)).join(' ')}`;
}

describe('many runs', () => {
  /** 28 runs, each a little lower than the one before: one per colour and training dash, or colour and validation marker. */
  const many = Array.from({ length: 28 }, (_, i) => evaluatedRun(`run ${i + 1}`, [[100, 4 - i / 50, 3.5 - i / 50], [200, 3.5 - i / 50, 3.2 - i / 50]]));
  const elements = allElements(parseXml(lossChartSvg(many)));
  const within = (el: XmlElement, cls: string) => allElements(el).filter((e) => e.attrs['class'] === cls);
  const scratch = scratchFolder('rnn-plot-many-');

  it('draws no two runs alike: each pair differs in colour, or in training dash and validation marker, in the chart and its legend', () => {
    const styles = (cls: string, line: string, marker: string) => elements.filter((e) => e.attrs['class'] === cls).map((group) => {
      const training = within(group, line)[0]!, dot = within(group, marker)[0]!;
      const colour = group.attrs['stroke'] ?? training.attrs['stroke'];
      return { train: `${colour} ${training.attrs['stroke-dasharray']}`, val: `${colour} ${markerShape(dot)}` };
    });
    const chart = styles('run', 'train', 'val-point');
    expect(new Set(chart.map((style) => style.train)).size).toBe(many.length);
    expect(new Set(chart.map((style) => style.val)).size).toBe(many.length);
    // the legend shows each run as the chart draws it
    expect(styles('legend-run', 'legend-train', 'legend-val')).toEqual(chart);
  });

  it('draws the first 28 runs of more as it draws 28, and names every run drawn as an earlier one', () => {
    const more = [...many, ...[29, 30].map((n) => evaluatedRun(`run ${n}`, [[100, 3.4, 2.9], [200, 3, 2.7]]))];
    const chart = runStyles(allElements(parseXml(lossChartSvg(more))));
    expect(chart.slice(0, 28)).toEqual(runStyles(elements));
    const alike: [number, number][] = [];
    chart.forEach((style, i) => {
      const earlier = chart.findIndex((other) => other === style);
      if (earlier < i) alike.push([i, earlier]);
    });
    expect(alike).toEqual([[28, 0], [29, 1]]);
    expect(runsDrawnAlike(more.length)).toEqual(alike);
    expect(runsDrawnAlike(28)).toEqual([]);
    // the legend names, beside each run drawn alike, the run it is drawn as
    const legend = allElements(parseXml(lossChartSvg(more))).filter((e) => e.attrs['class'] === 'legend-run').map((row) => textContent(row).trim());
    expect(legend.slice(27)).toEqual([
      'run 28best validation loss 2.660 after 200 characters', 'run 29best validation loss 2.700 after 200 characters; drawn as run 1',
      'run 30best validation loss 2.700 after 200 characters; drawn as run 2',
    ]);
  });

  it('escapes the name of the run a later one is drawn as, which its legend row repeats', () => {
    const named = [evaluatedRun('a <b> & "c"', [[100, 3, 2.9]]), ...many.slice(1), evaluatedRun('run 29', [[100, 3.4, 2.9]])];
    const legend = allElements(parseXml(lossChartSvg(named))).filter((e) => e.attrs['class'] === 'legend-run').map((row) => textContent(row).trim());
    expect(legend.at(-1)).toBe('run 29best validation loss 2.900 after 100 characters; drawn as a <b> & "c"');
  });

  it('warns in rnn plot of more than 28 runs which are drawn alike, and how many runs to plot to tell each apart', async () => {
    const dir = scratch.folder();
    const files = Array.from({ length: 31 }, (_, i) => `r${i + 1}.json`);
    for (const file of files) copyFileSync(join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json'), join(dir, file));
    const run = await rnnIn(dir, ['plot', ...files, '--out', 'many.svg']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('rnn: warning: 31 runs, and 28 styles to tell them apart: r29 is drawn as r1, r30 as r2, r31 as r3; ' +
      'plot at most 28 runs at once to tell each apart\n' +
      // copies of one checkpoint, each drawn over the first
      'rnn: warning: r2 is drawn over r1, r3 over r1, r4 over r1, r5 over r1, r6 over r1, r7 over r1, r8 over r1, r9 over r1 and 22 more, ' +
      'with the same losses at every evaluation: the chart shows one line for them, in the last one\'s style\n');
    expect(existsSync(join(dir, 'many.svg'))).toBe(true);
  });
});

describe('runs with the same losses', () => {
  const scratch = scratchFolder('rnn-plot-same-');
  const FIXTURES = join(ROOT, 'test', 'fixtures', 'sentence-rule-1');

  it('are each named with the first earlier run whose losses it has at every evaluation, training\'s and validation\'s', () => {
    const run = (name: string, val = 2.9) => evaluatedRun(name, [[100, 3, val], [200, 2.5, 2.4]]);
    const trainOnly = (name: string) => ({ ...run(name), val: [] });
    expect(runsDrawnOver([run('a'), run('b', 2.8), run('c'), trainOnly('d'), run('e', 2.8), trainOnly('f'), run('g')]))
      .toEqual([[2, 0], [4, 1], [5, 3], [6, 0]]);
    // the same losses at other token counts are other lines
    expect(runsDrawnOver([run('a'), { ...run('b'), train: run('b').train.map((p) => ({ ...p, tokensSeen: p.tokensSeen + 1 })) }])).toEqual([]);
    expect(runsDrawnOver([run('a'), evaluatedRun('b', [[100, 3, 2.9]])])).toEqual([]);
  });

  it('are named in a warning of rnn plot: a run folder and a copy of it (cp -r a b)', async () => {
    const dir = scratch.folder();
    for (const name of ['a', 'b']) {
      mkdirSync(join(dir, name));
      copyFileSync(join(FIXTURES, 'step6.json'), join(dir, name, 'latest.json'));
    }
    const run = await rnnIn(dir, ['plot', 'a', 'b', join(FIXTURES, 'step3.json'), '--out', 'loss.svg']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('rnn: warning: b is drawn over a, with the same losses at every evaluation: ' +
      'the chart shows one line for them, in the last one\'s style\n');
    expect(run.stdout).toBe('a: 2 evaluations, best validation loss 4.3138\nb: 2 evaluations, best validation loss 4.3138\n' +
      'step3: 1 evaluation, best validation loss 4.3271\nwrote loss.svg\n');
    expect((await rnnIn(dir, ['plot', 'a', join(FIXTURES, 'step3.json'), '--out', 'two.svg'])).stderr).toBe('');
  });
});

/** Each run's colour, training dash and validation marker, as the chart draws them. */
function runStyles(elements: XmlElement[]): string[] {
  return elements.filter((e) => e.attrs['class'] === 'run').map((group) => {
    const inGroup = (cls: string) => allElements(group).find((e) => e.attrs['class'] === cls)!;
    const training = inGroup('train'), dot = inGroup('val-point');
    return `${group.attrs['stroke'] ?? training.attrs['stroke']} ${training.attrs['stroke-dasharray']} ${markerShape(dot)}`;
  });
}

/** A run whose training and validation losses were taken at the same evaluations: [tokens seen, training loss, validation loss]. */
function evaluatedRun(name: string, evaluations: [number, number, number][]): LossRun {
  return {
    name,
    train: evaluations.map(([tokensSeen, loss]) => ({ tokensSeen, loss })),
    val: evaluations.map(([tokensSeen, , loss]) => ({ tokensSeen, loss })),
  };
}

/**
 * `rnn train --hidden 32 --max-steps 200 --eval-every 20` on 200 kB of corpora/sotu.txt, a GRU and
 * an LSTM: both end by the plot's floor, their rings 12 units apart.
 */
const CONVERGING = [
  evaluatedRun('gru', [
    [32000, 3.864, 3.163], [64000, 3.4, 3.096], [96000, 3.23, 3.07], [128000, 3.121, 3.005], [160000, 3.017, 2.932],
    [192000, 2.949, 2.877], [224000, 2.886, 2.84], [256000, 2.862, 2.82], [288000, 2.842, 2.811], [320000, 2.819, 2.81],
  ]),
  evaluatedRun('lstm', [
    [32000, 3.949, 3.192], [64000, 3.436, 3.097], [96000, 3.242, 3.069], [128000, 3.134, 3.026], [160000, 3.043, 2.975],
    [192000, 2.988, 2.923], [224000, 2.928, 2.884], [256000, 2.908, 2.864], [288000, 2.889, 2.857], [320000, 2.872, 2.856],
  ]),
];

/** A run that overfits: its validation loss is lowest midway, with its training line passing under the ring. */
const OVERFITTING = [evaluatedRun('overfit', [[100, 3, 3.1], [200, 2.5, 2.6], [300, 2.2, 2.4], [400, 2, 2.45], [500, 1.9, 2.6]])];

/** Three runs whose best losses lie almost on one point. */
const ALIKE = [0, 1, 2].map((i) => evaluatedRun(`run ${i}`, [[100, 3, 3], [200, 2.6, 2.5 + i / 1000], [300, 2.4, 2.51]]));

describe('best-loss labels', () => {
  interface Box { left: number; top: number; right: number; bottom: number }

  /** The box a label's text covers at most, widened by half a line's width: bold 12-unit digits are under 7 units wide and 9 high. */
  function textBox(label: XmlElement): Box {
    const x = Number(label.attrs['x']), y = Number(label.attrs['y']), width = 7 * textContent(label).length;
    const left = { start: x, middle: x - width / 2, end: x - width }[label.attrs['text-anchor']!]!;
    return { left: left - 1, right: left + width + 1, top: y - 10, bottom: y + 1 };
  }

  const holds = (box: Box, x: number, y: number) => x > box.left && x < box.right && y > box.top && y < box.bottom;
  const nearer = (box: Box, cx: number, cy: number, r: number) =>
    Math.hypot(cx - Math.min(Math.max(cx, box.left), box.right), cy - Math.min(Math.max(cy, box.top), box.bottom)) < r;
  const overlap = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;

  /** Whether the segment passes through the box, tried every quarter unit along it. */
  function crosses(box: Box, [x0, y0]: number[], [x1, y1]: number[]): boolean {
    const steps = Math.ceil(Math.hypot(x1! - x0!, y1! - y0!) * 4) + 1;
    for (let step = 0; step <= steps; step++) {
      if (holds(box, x0! + ((x1! - x0!) * step) / steps, y0! + ((y1! - y0!) * step) / steps)) return true;
    }
    return false;
  }

  it.each([
    ['two runs of the fixture', RUNS],
    ['two runs that end by the floor, 12 units apart', CONVERGING],
    ['a run that overfits', OVERFITTING],
    ['three runs whose best losses almost coincide', ALIKE],
  ])('%s: each label covers no line, dot, ring or other label, inside the plot', (_, runs) => {
    const elements = allElements(parseXml(lossChartSvg(runs)));
    const labels = elements.filter((e) => e.attrs['class'] === 'best-label');
    expect(labels).toHaveLength(runs.filter((run) => run.val.length > 0).length);
    const lines = elements.filter((e) => e.name === 'polyline').map((e) => e.attrs['points']!.split(' ').map((xy) => xy.split(',').map(Number)));
    const circles = elements.filter((e) => ['val-point', 'train-point', 'best'].includes(e.attrs['class'] ?? ''))
      .map((e) => [Number(e.attrs['cx']), Number(e.attrs['cy']), Number(e.attrs['r']) + Number(e.attrs['stroke-width'] ?? 0) / 2] as const);
    const plot = { left: CHART.left, top: CHART.top, right: CHART.width - CHART.right, bottom: CHART.top + CHART.plotHeight };
    const boxes = labels.map(textBox);
    const covered: string[] = [];
    boxes.forEach((box, i) => {
      const label = textContent(labels[i]!);
      if (box.left < plot.left || box.right > plot.right || box.top < plot.top || box.bottom > plot.bottom) covered.push(`${label}: outside the plot`);
      lines.forEach((points, line) => {
        points.forEach((point, k) => {
          if (crosses(box, points[Math.max(0, k - 1)]!, point)) covered.push(`${label}: line ${line} up to its point ${k}`);
        });
      });
      for (const [cx, cy, r] of circles) if (nearer(box, cx, cy, r)) covered.push(`${label}: the circle at ${cx},${cy}`);
      boxes.forEach((other, j) => {
        if (j !== i && overlap(box, other)) covered.push(`${label}: the label ${textContent(labels[j]!)}`);
      });
    });
    expect(covered).toEqual([]);
  });

  it('places a label of wide characters by the columns they take, two each, clear of a line its text would cover', () => {
    // a bold CJK character at 12 units is 1 em (12 units) wide: three of them, 36
    const text = '日本語', width = 36, line = 345;
    const label = placeLabel(300, 200, text, { segments: [[line, 150, line, 250]], circles: [], boxes: [] })!;
    const left = { start: label.x, middle: label.x - width / 2, end: label.x - width }[label.anchor];
    expect(label.box.left).toBeLessThanOrEqual(left);
    expect(label.box.right).toBeGreaterThanOrEqual(left + width);
    expect(line < left || line > left + width).toBe(true);
  });

  it('where every place covers as many obstacles, takes the first place, where a label with none in its way goes', () => {
    // a circle that every place around the ring meets
    const everywhere = placeLabel(300, 200, '2.200', { segments: [], circles: [[300, 200, 100]], boxes: [] });
    expect(everywhere).toEqual(placeLabel(300, 200, '2.200', { segments: [], circles: [], boxes: [] }));
  });

  it('draws no label over another: where eleven rings crowd together, a label with no free place is left to the legend', () => {
    // eleven runs ending within 0.05 of each other at one point, as tiny runs of one corpus do
    const crowded = Array.from({ length: 11 }, (_, i) => evaluatedRun(`r${i + 1}`, [[160, 4.4, 3.6 - i / 50], [640, 3.8, 3.1 + ((i * 7) % 11) / 200]]));
    const elements = allElements(parseXml(lossChartSvg(crowded)));
    const labels = elements.filter((e) => e.attrs['class'] === 'best-label');
    const boxes = labels.map(textBox);
    const overlaps = boxes.flatMap((box, i) => boxes.slice(i + 1).flatMap((other, k) =>
      (overlap(box, other) ? [`${textContent(labels[i]!)} and ${textContent(labels[i + 1 + k]!)}`] : [])));
    expect(overlaps).toEqual([]);
    // the lowest loss, placed first, keeps its label, whichever run it is of
    const lowest = Math.min(...crowded.map((run) => bestPoint(run.val)!.loss));
    expect(labels.map(textContent)).toContain(lowest.toFixed(3));
    const lastFirst = allElements(parseXml(lossChartSvg([...crowded].reverse()))).filter((e) => e.attrs['class'] === 'best-label');
    expect(lastFirst.map(textContent)).toContain(lowest.toFixed(3));
    // every run's best loss is still in its legend row
    const legend = elements.filter((e) => e.attrs['class'] === 'legend-run').map((e) => textContent(e));
    crowded.forEach((run, i) => expect(legend[i]).toContain(`best validation loss ${bestPoint(run.val)!.loss.toFixed(3)}`));
  });
});

describe('a run that diverges', () => {
  /** tinyshakespeare's 65 characters: the y axis spans at most 2 ln 65 = 8.35 nats. */
  const learning = RUNS.map((run) => ({ ...run, vocabSize: 65 }));
  const diverged = { ...evaluatedRun('lr1000', [[50, 1090, 900], [150, 800, 700]]), vocabSize: 65 };
  const elements = allElements(parseXml(lossChartSvg([...learning, diverged])));
  const ofClass = (from: XmlElement[], cls: string) => from.filter((e) => e.attrs['class'] === cls);
  const within = (el: XmlElement, cls: string) => ofClass(allElements(el), cls);
  const groupOf = (from: XmlElement[], name: string) => allElements(from.find((e) => e.attrs['class'] === 'run' && e.attrs['data-run'] === name)!);
  const ticks = (from: XmlElement[]) => ofClass(allElements(from.find((e) => e.attrs['class'] === 'y-axis')!), 'tick').map(textContent);
  const legendRow = (from: XmlElement[], i: number) => textContent(ofClass(from, 'legend-run')[i]!).trim();

  it('leaves the scale of runs that learn as it is, their vocabulary known or not', () => {
    expect(lossChartSvg(learning)).toBe(lossChartSvg(RUNS));
    const converging = CONVERGING.map((run) => ({ ...run, vocabSize: 98 }));
    expect(lossChartSvg(converging)).toBe(lossChartSvg(CONVERGING));
  });

  it('keeps the y axis on the runs that learn, and draws none of the diverged run\'s lines, markers or ring at a value it does not have', () => {
    expect(ticks(elements)).toEqual(['2.0', '2.2', '2.4', '2.6', '2.8', '3.0']);
    const others = elements.filter((e) => e.attrs['class'] === 'run' && e.attrs['data-run'] !== 'lr1000');
    expect(others.map((g) => within(g, 'train')[0]!.attrs['points'])).toEqual([pointsOf([[100, 3.0], [200, 2.0]]), `${px(50)},${py(2.6)}`]);
    const lr1000 = groupOf(elements, 'lr1000');
    expect(lr1000.filter((e) => ['polyline', 'circle'].includes(e.name) || e.attrs['class'] === 'val-point')).toEqual([]);
    expect(ofClass(elements, 'best-label').map(textContent)).toEqual(['2.200']);
  });

  it('marks each of its lines with an arrow above the plot where it goes above, and gives its highest loss in its legend row', () => {
    const arrows = ofClass(groupOf(elements, 'lr1000'), 'off-chart');
    expect(arrows.map((a) => a.attrs['data-line'])).toEqual(['train', 'val']);
    for (const arrow of arrows) {
      const ys = arrow.attrs['d']!.match(/-?[\d.]+/g)!.map(Number).filter((_, k) => k % 2 === 1);
      expect(Math.max(...ys)).toBeLessThan(CHART.top);
    }
    // at the first evaluation's x, the second arrow beside the first where they would cover each other
    const tips = arrows.map((a) => Number(a.attrs['d']!.match(/^M(-?[\d.]+)/)![1]));
    expect(tips[0]).toBe(px(50));
    expect(tips[1]! - tips[0]!).toBeGreaterThanOrEqual(8);
    expect(legendRow(elements, 2)).toBe('lr1000best validation loss 700.000 after 150 characters; above the chart, up to 1090.000');
    expect(legendRow(elements, 0)).not.toContain('above the chart');
  });

  it('keeps each arrow within 30 units of where its line leaves, where five runs leave at one place, inside the chart\'s width', () => {
    const tip = (arrow: XmlElement) => Number(arrow.attrs['d']!.match(/^M(-?[\d.]+)/)![1]);
    // five runs at --lr 10, each line above the chart from the first evaluation; or evaluated only at the end, the plot's right edge
    const fromStart = [1, 2, 3, 4, 5].map((i) => ({ ...evaluatedRun(`lr${i}`, [[50, 90 * i, 80 * i], [150, 70 * i, 60 * i]]), vocabSize: 65 }));
    const atEnd = [1, 2, 3, 4, 5].map((i) => ({ ...evaluatedRun(`end${i}`, [[200, 90 * i, 80 * i]]), vocabSize: 65 }));
    for (const [diverging, exit] of [[fromStart, px(50)], [atEnd, px(200)]] as const) {
      const chart = allElements(parseXml(lossChartSvg([...learning, ...diverging])));
      const arrows = diverging.flatMap((run) => ofClass(groupOf(chart, run.name), 'off-chart'));
      expect(arrows).toHaveLength(10);
      const tips = arrows.map(tip);
      for (const x of tips) {
        expect(Math.abs(x - exit)).toBeLessThanOrEqual(30);
        expect(x + 5).toBeLessThanOrEqual(CHART.width);
      }
      // the places near the exit each hold an arrow before any holds two: no two places cover each other
      const places = [...new Set(tips)].sort((a, b) => a - b);
      places.slice(1).forEach((x, k) => expect(x - places[k]!).toBeGreaterThanOrEqual(10));
      expect(places.length).toBeGreaterThanOrEqual(6);
      // the last run's arrows, drawn last, cover none of each other
      expect(Math.abs(tips[9]! - tips[8]!)).toBeGreaterThanOrEqual(10);
    }
  });

  it('draws a line that goes above and comes back to the top edge, along the segment it has, with an arrow where it leaves', () => {
    const train = [{ tokensSeen: 100, loss: 2.8 }, { tokensSeen: 150, loss: 50 }, { tokensSeen: 200, loss: 2.4 }];
    const spike = { name: 'spike', vocabSize: 65, train, val: [] };
    const chart = allElements(parseXml(lossChartSvg([learning[0]!, spike])));
    expect(ticks(chart)).toEqual(['2.0', '2.2', '2.4', '2.6', '2.8', '3.0']);
    const pieces = ofClass(groupOf(chart, 'spike'), 'train').map((line) => line.attrs['points']);
    // the segment from 2.8 to 50 reaches 3.0 (the plot's top) at 100 + 50·0.2/47.2 characters,
    // the one back from 50 to 2.4 at 200 − 50·0.6/47.6
    const up = 100 + (50 * 0.2) / 47.2, down = 200 - (50 * 0.6) / 47.6;
    expect(pieces).toEqual([`${px(100)},${py(2.8)} ${px(up)},${CHART.top}`, `${px(down)},${CHART.top} ${px(200)},${py(2.4)}`]);
    expect(ofClass(groupOf(chart, 'spike'), 'off-chart').map((a) => a.attrs['d']!.match(/^M(-?[\d.]+)/)![1]).map(Number)).toEqual([px(up)]);
    expect(legendRow(chart, 1)).toContain('; above the chart, up to 50.000');
  });

  it('takes its ceiling from the largest vocabulary among the runs: a loss under twice its ln is on the chart', () => {
    // beside tinyshakespeare's 65 characters (2 ln 65 = 8.35), a vocabulary of 10,000 (2 ln 10,000 = 18.42)
    const wide = { ...evaluatedRun('wide', [[50, 12, 11], [150, 10, 9]]), vocabSize: 10_000 };
    const chart = allElements(parseXml(lossChartSvg([learning[0]!, wide])));
    expect(ofClass(chart, 'off-chart')).toEqual([]);
    expect(Math.max(...ticks(chart).map(Number))).toBeGreaterThanOrEqual(12);
    expect(legendRow(chart, 1)).not.toContain('above the chart');
  });

  it('marks a run whose validation line alone goes above the chart, and gives that highest loss in its legend row', () => {
    const overfit = { ...evaluatedRun('overfit', [[50, 2.6, 2.7], [150, 2.4, 40]]), vocabSize: 65 };
    const chart = allElements(parseXml(lossChartSvg([learning[0]!, overfit])));
    expect(ofClass(groupOf(chart, 'overfit'), 'off-chart').map((a) => a.attrs['data-line'])).toEqual(['val']);
    expect(legendRow(chart, 1)).toContain(offChartNote(40, 3));
  });

  it('spans every loss where every run is above the ceiling: runs that all diverge are compared among themselves', () => {
    const chart = allElements(parseXml(lossChartSvg([diverged])));
    expect(ticks(chart)).toEqual(['700', '800', '900', '1000', '1100']);
    expect(ofClass(chart, 'off-chart')).toEqual([]);
  });

  it('draws an infinite loss as above the chart, and refuses a loss that is not a number naming its run', () => {
    const infinite = { name: 'inf', train: [{ tokensSeen: 100, loss: 3 }, { tokensSeen: 200, loss: Infinity }], val: [] };
    const chart = allElements(parseXml(lossChartSvg([RUNS[0]!, infinite])));
    expect(ticks(chart)).toEqual(['2.0', '2.2', '2.4', '2.6', '2.8', '3.0']);
    // an infinite loss is straight above the last point drawn
    expect(ofClass(groupOf(chart, 'inf'), 'train').map((line) => line.attrs['points'])).toEqual([`${px(100)},${py(3)} ${px(100)},${CHART.top}`]);
    expect(ofClass(groupOf(chart, 'inf'), 'off-chart')).toHaveLength(1);
    expect(legendRow(chart, 1)).toContain('above the chart, up to Infinity');
    const unread = { name: 'nan', train: [{ tokensSeen: 100, loss: 3 }, { tokensSeen: 200, loss: NaN }], val: [] };
    expect(() => lossChartSvg([unread])).toThrow('lossChartSvg: run nan has a loss that is not a number, after 200 tokens');
  });

});

describe('bestPoint', () => {
  it('is the lowest loss, the first on a tie, or null', () => {
    const points = [{ tokensSeen: 1, loss: 2 }, { tokensSeen: 2, loss: 1 }, { tokensSeen: 3, loss: 1 }];
    expect(bestPoint(points)).toEqual({ tokensSeen: 2, loss: 1 });
    expect(bestPoint([])).toBeNull();
  });
});

describe('runs from checkpoints', () => {
  const { dir: scratch } = scratchFolder('rnn-plot-');

  const history = (entries: [number, number, number | null][], level?: 'char' | 'word') =>
    ({
      config: { model: { vocabSize: 65 }, training: { level } },
      history: entries.map(([tokensSeen, trainLoss, valLoss], i) => ({
        step: i + 1, epoch: 0, tokensSeen, trainLoss, valLoss, lr: 1e-3, seconds: i,
      })),
    }) as unknown as Checkpoint;

  it('takes the training loss of every evaluation and the validation loss where there was one', () => {
    const run = lossRunFromCheckpoint(history([[10, 3, 2.9], [20, 2.5, null], [30, 2, 2.1]]), 'r', 'r.json');
    expect(run).toEqual({
      name: 'r',
      level: 'char',
      vocabSize: 65,
      train: [{ tokensSeen: 10, loss: 3 }, { tokensSeen: 20, loss: 2.5 }, { tokensSeen: 30, loss: 2 }],
      val: [{ tokensSeen: 10, loss: 2.9 }, { tokensSeen: 30, loss: 2.1 }],
    });
  });

  it('names the run a fine-tuned one started from as a run is named, and none for a run from scratch', () => {
    const base = { path: join('/runs', 'base', 'best.json'), sha256: 'a'.repeat(64), step: 511 };
    expect(lossRunFromCheckpoint({ ...history([[10, 3, 2.9]]), initFrom: base }, 'tuned', 'tuned.json').startedFrom).toBe('base (best)');
    expect(lossRunFromCheckpoint(history([[10, 3, 2.9]]), 'r', 'r.json')).not.toHaveProperty('startedFrom');
  });

  it('takes the level the checkpoint records', () => {
    expect(lossRunFromCheckpoint(history([[10, 6, 6.1]], 'word'), 'w', 'w.json').level).toBe('word');
  });

  it('refuses a checkpoint with no history, naming it', () => {
    expect(() => lossRunFromCheckpoint(history([]), 'r', 'runs/r.json')).toThrow(CheckpointError);
    expect(() => lossRunFromCheckpoint(history([]), 'r', 'runs/r.json')).toThrow(/^runs\/r\.json has no history/);
  });

  it('refuses an imported model saying that it records no training by rnn, and what would have its losses', () => {
    const imported = { ...history([]), corpus: null } as Checkpoint;
    expect(() => lossRunFromCheckpoint(imported, 'imp', 'imp.json')).toThrow(CheckpointError);
    expect(() => lossRunFromCheckpoint(imported, 'imp', 'imp.json')).toThrow(
      'imp.json is an imported model (rnn import): it records no training by rnn, so no losses to plot; ' +
      'a run started from it has them (rnn train TEXT --init-from imp.json)');
  });

  it('names a run by its folder, or its file', () => {
    expect(runName(join('runs', 'gru', 'latest.json'))).toBe('gru');
    expect(runName(join('runs', 'gru', 'best.json'))).toBe('gru (best)');
    expect(runName(join('runs', 'model.json'))).toBe('model');
    expect(runName('model.best.json')).toBe('model.best');
  });

  it('reads a folder as its latest.json, and refuses a folder without one', () => {
    const folder = join(scratch, 'run');
    mkdirSync(folder);
    expect(() => runCheckpointPath(folder)).toThrow(/run is a folder without latest\.json/);
    mkdirSync(join(folder, 'latest.json')); // a folder by that name is not a checkpoint either
    expect(() => runCheckpointPath(folder)).toThrow(/without latest\.json/);
    // a run killed between its first evaluation's two saves holds its best.json alone, which is named
    const stopped = join(scratch, 'stopped');
    mkdirSync(stopped);
    writeFileSync(join(stopped, 'best.json'), '{}');
    expect(() => runCheckpointPath(stopped)).toThrow(`${stopped} is a folder without latest.json, but with its best.json ` +
      `(a run stopped between its first two saves): name ${join(stopped, 'best.json')}`);
    // a folder of runs (checkpoints/) is named as one, with the first few runs in it
    const runs = join(scratch, 'runs');
    for (const name of ['gru', 'lstm', 'rnn', 'word']) mkdirSync(join(runs, name), { recursive: true });
    for (const name of ['gru', 'lstm', 'word']) writeFileSync(join(runs, name, 'latest.json'), '{}');
    expect(() => runCheckpointPath(runs)).toThrow(`${runs} is a folder of runs, not a run (${join(runs, 'gru')}/, ${join(runs, 'lstm')}/, ` +
      `${join(runs, 'word')}/): name a checkpoint file or a run folder that \`rnn train\` wrote`);
    writeFileSync(join(runs, 'rnn', 'best.json'), '{}');
    expect(() => runCheckpointPath(runs)).toThrow(/ is a folder of runs, not a run \(.*gru\/, .*lstm\/, .*rnn\/ and 1 more\): /);
    expect(() => runCheckpointPath(join(scratch, 'missing.json')))
      .toThrow(`checkpoint not found: ${join(scratch, 'missing.json')}; name a checkpoint file or a run folder that \`rnn train\` wrote`);
  });
});

describe('one checkpoint named twice', () => {
  const { folder } = scratchFolder('rnn-plot-twice-');
  const STEP3 = join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json');

  /** A run folder of its own, `run`, in a scratch folder, its latest.json a copy of STEP3. */
  const runFolder = (): { dir: string; run: string } => {
    const dir = folder(), run = join(dir, 'run');
    mkdirSync(run);
    copyFileSync(STEP3, join(run, 'latest.json'));
    return { dir, run };
  };

  it('is refused naming both spellings: the same path, a run folder and its latest.json, a symbolic or a hard link', () => {
    const { dir, run } = runFolder();
    symlinkSync(run, join(dir, 'alias'));
    linkSync(join(run, 'latest.json'), join(dir, 'hard.json'));
    expect(() => loadLossRuns([run, run])).toThrow(new InputError(`${run} is in the chart twice: name each run once`));
    expect(() => loadLossRuns([run, join(run, 'latest.json')]))
      .toThrow(new InputError(`${join(run, 'latest.json')} is in the chart twice (also as ${run}): name each run once`));
    expect(() => loadLossRuns([join(dir, 'alias'), STEP3, run]))
      .toThrow(`${run} is in the chart twice (also as ${join(dir, 'alias')}): name each run once`);
    expect(() => loadLossRuns([join(dir, 'hard.json'), run])).toThrow(`${run} is in the chart twice (also as ${join(dir, 'hard.json')}): name each run once`);
  });

  it('takes a run\'s best.json beside its folder, another checkpoint, and a copy of one', () => {
    const { run } = runFolder();
    copyFileSync(STEP3, join(run, 'best.json'));
    expect(loadLossRuns([run, join(run, 'best.json'), STEP3]).map((r) => r.name)).toEqual(['run', 'run (best)', 'step3']);
  });
});

describe('a train_ddp.py run', () => {
  const scratch = scratchFolder('rnn-plot-ddp-');
  const STEP3 = join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json');
  /** What examples/pytorch/train_ddp.py writes to summary.json, the fields a plot reads. */
  const SUMMARY = {
    format: 'train_ddp-summary/1', ranks: 2, steps: 4, level: 'char', vocab_size: 74, tokens_per_step: 32,
    train_losses: [4, null, 3, 2], evaluations: [{ step: 2, val_loss: 3.9 }, { step: 4, val_loss: 3.5 }],
    val_loss: 3.5, scores: {}, seconds: 1,
  };

  /** A train_ddp.py run's --out `big` in a scratch folder: a model trained (an export of STEP3) beside `summary`. */
  const ddpRun = (summary: object = SUMMARY): { dir: string; big: string } => {
    const dir = scratch.folder(), big = join(dir, 'big');
    mkdirSync(big);
    exportState(STEP3, join(big, 'model.safetensors'));
    writeFileSync(join(big, 'summary.json'), `${JSON.stringify(summary, null, 1)}\n`);
    return { dir, big };
  };

  it('is read as rnn\'s history reads: the smoothed step losses and the validation loss at each evaluation, named by its folder', () => {
    const { big } = ddpRun();
    // the skipped step (null) left out of the moving average, as rnn train leaves it out
    const atStep4 = (1 - SMOOTHING) * ((1 - SMOOTHING) * 4 + SMOOTHING * 3) + SMOOTHING * 2;
    const expected: LossRun = {
      name: 'big', level: 'char', vocabSize: 74,
      train: [{ tokensSeen: 64, loss: 4 }, { tokensSeen: 128, loss: atStep4 }],
      val: [{ tokensSeen: 64, loss: 3.9 }, { tokensSeen: 128, loss: 3.5 }],
    };
    for (const arg of [big, join(big, 'summary.json'), join(big, 'model.safetensors')]) expect(loadLossRuns([arg]), arg).toEqual([expected]);
    expect(loadLossRuns([STEP3, big]).map((run) => run.name)).toEqual(['step3', 'big']);
    expect(() => loadLossRuns([big, join(big, 'summary.json')]))
      .toThrow(new InputError(`${join(big, 'summary.json')} is in the chart twice (also as ${big}): name each run once`));
  });

  it('takes an evaluation without a validation split as rnn does: its training loss, no validation point', () => {
    const { big } = ddpRun({ ...SUMMARY, evaluations: [{ step: 4, val_loss: null }], val_loss: null });
    const [run] = loadLossRuns([big]);
    expect(run!.train.map((p) => p.tokensSeen)).toEqual([128]);
    expect(run!.val).toEqual([]);
  });

  it('refuses a summary.json from before it recorded its tokens per step, saying to train it again', () => {
    const { format: _, level: _l, vocab_size: _v, tokens_per_step: _t, evaluations: _e, ...earlier } = SUMMARY;
    const { big } = ddpRun(earlier);
    const summary = join(big, 'summary.json');
    for (const arg of [big, summary]) {
      expect(() => loadLossRuns([arg])).toThrow(new CheckpointError(`${summary} is the summary of a train_ddp.py run from before it recorded ` +
        'the tokens of a step (its format is missing, expected "train_ddp-summary/1"): train the run again with ' +
        'examples/pytorch/train_ddp.py to plot it'));
    }
  });

  it('refuses a summary.json whose field is out of place, naming it', () => {
    const { big } = ddpRun({ ...SUMMARY, evaluations: [{ step: 5, val_loss: 3.5 }] });
    expect(() => loadLossRuns([big])).toThrow(`${join(big, 'summary.json')}: evaluations[0].step is 5, past the run's 4 steps (train_losses)`);
  });

  it('names a run fine-tuned from its model.safetensors as started from its folder, as the run itself is named', () => {
    const { big } = ddpRun();
    const base = { path: join(big, 'model.safetensors'), sha256: 'a'.repeat(64), step: 0 };
    expect(runName(join(big, 'model.safetensors'))).toBe('big');
    expect(lossRunFromCheckpoint({ ...loadCheckpoint(STEP3), initFrom: base }, 'tuned', 'tuned.json').startedFrom).toBe('big');
    expect(runName(join(big, 'summary.json'))).toBe('big');
  });

  it('is drawn beside rnn\'s runs by rnn plot, in its legend by its folder\'s name', async () => {
    const { dir } = ddpRun();
    const run = await rnnIn(dir, ['plot', STEP3, 'big', '--out', 'loss.svg']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('step3: 1 evaluation, best validation loss 4.3271\nbig: 2 evaluations, best validation loss 3.5000\nwrote loss.svg\n');
    const elements = allElements(parseXml(readFileSync(join(dir, 'loss.svg'), 'utf8')));
    expect(elements.filter((e) => e.attrs['class'] === 'run').map((e) => e.attrs['data-run'])).toEqual(['step3', 'big']);
  });
});

describe('parseXml (the well-formedness check above)', () => {
  it.each([
    ['mismatched tags', '<a><b></a>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a bare ampersand', '<a>fish & chips</a>'],
    ['a "<" in an attribute', '<a x="<"/>'],
    ['two roots', '<a/><b/>'],
    ['a duplicate attribute', '<a x="1" x="2"/>'],
    ['an unclosed element', '<a><b/>'],
  ])('rejects %s', (_, xml) => {
    expect(() => parseXml(xml)).toThrow(/not well-formed XML/);
  });

  it('decodes entities in text and attributes', () => {
    const root = parseXml('<?xml version="1.0"?>\n<a t="&quot;x&quot; &amp; y"><!-- c -->1 &lt; 2 &#9731;</a>\n');
    expect(root.attrs['t']).toBe('"x" & y');
    expect(root.text).toBe('1 < 2 ☃');
  });
});

describe("rnn plot's summary", () => {
  const scratch = scratchFolder('rnn-plot-paths-');
  const STEP3 = join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json');

  it('shows a control character in a run\'s name or the --out file escaped, where it reached the terminal', async () => {
    const dir = scratch.folder();
    copyFileSync(join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json'), join(dir, 'ctl\u001b[31m.json'));
    const run = await rnnIn(dir, ['plot', 'ctl\u001b[31m.json', '--out', 'o\u001b[32m.svg']);
    expect(run.status).toBe(0);
    expect(existsSync(join(dir, 'o\u001b[32m.svg'))).toBe(true);
    expect(run.stdout).toBe('ctl\\u001b[31m: 1 evaluation, best validation loss 4.3271\nwrote o\\u001b[32m.svg\n');
  });

  it('names the run a fine-tuned run started from in its line and its legend row, without drawing it', async () => {
    const dir = scratch.folder();
    const { sha256: _, ...step3 } = loadCheckpoint(STEP3);
    const initFrom = { path: join(dir, 'base', 'best.json'), sha256: 'a'.repeat(64), step: 511 };
    saveCheckpoint(join(dir, 'tuned.json'), { ...step3, initFrom });
    const run = await rnnIn(dir, ['plot', 'tuned.json', '--out', 'loss.svg']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('tuned: 1 evaluation, best validation loss 4.3271; started from base (best)\nwrote loss.svg\n');
    const elements = allElements(parseXml(readFileSync(join(dir, 'loss.svg'), 'utf8')));
    expect(elements.filter((e) => e.attrs['class'] === 'legend-run').map((e) => textContent(e).trim()))
      .toEqual(['tunedbest validation loss 4.327 after 48 characters; started from base (best)']);
    expect(elements.filter((e) => e.attrs['class'] === 'run').map((e) => e.attrs['data-run'])).toEqual(['tuned']);
  });

  it('says of a run whose lines go above the chart that they do, and its highest loss, as its legend row does', async () => {
    const dir = scratch.folder();
    // the checksum left out, so that the history can change
    const { sha256: _, ...later } = loadCheckpoint(join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step6.json'));
    const [first, second] = later.history;
    // a vocabulary of 74 characters: the chart spans at most 2 ln 74 = 8.6 nats
    const diverged = { ...later, history: [first!, { ...second!, trainLoss: 250.5, valLoss: 120.25 }] };
    saveCheckpoint(join(dir, 'diverged.json'), diverged);
    const run = await rnnIn(dir, ['plot', STEP3, 'diverged.json', '--out', 'loss.svg']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('step3: 1 evaluation, best validation loss 4.3271\n' +
      'diverged: 2 evaluations, best validation loss 4.3271; above the chart, up to 250.5000\nwrote loss.svg\n');
    expect(readFileSync(join(dir, 'loss.svg'), 'utf8')).toContain('best validation loss 4.327 after 48 characters; above the chart, up to 250.500');
  });
});

describe('rnn plot --out a link', () => {
  const scratch = scratchFolder('rnn-plot-link-');
  const STEP3 = join(ROOT, 'test', 'fixtures', 'sentence-rule-1', 'step3.json');

  it('writes the chart where the link leads, an old chart or none yet, and keeps the link', async () => {
    const dir = scratch.folder();
    mkdirSync(join(dir, 'charts'));
    writeFileSync(join(dir, 'charts', '2026-12-05.svg'), '<svg/>');
    symlinkSync(join('charts', '2026-12-05.svg'), join(dir, 'latest.svg'));
    symlinkSync(join('charts', '2026-12-06.svg'), join(dir, 'next.svg'));
    const runs = await Promise.all(['latest.svg', 'next.svg'].map((out) => rnnIn(dir, ['plot', STEP3, '--out', out])));
    for (const run of runs) expect(run.status, run.stderr).toBe(0);
    expect(expectWrittenThrough(join(dir, 'latest.svg'), join('charts', '2026-12-05.svg'))).toContain('step3');
    expect(expectWrittenThrough(join(dir, 'next.svg'), join('charts', '2026-12-06.svg'))).toContain('step3');
    expect(readdirSync(join(dir, 'charts')).sort()).toEqual(['2026-12-05.svg', '2026-12-06.svg']);
  });

  it('refuses a link in a loop of links in one line', async () => {
    const dir = scratch.folder();
    symlinkSync('loss.svg', join(dir, 'loss.svg'));
    expectOneLineError(await rnnIn(dir, ['plot', STEP3, '--out', 'loss.svg']),
      'rnn: cannot write plot loss.svg: ELOOP: it is a link in a loop of links, which leads to no file; link it to a file, or remove the link');
  });
});
