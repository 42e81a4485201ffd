import { TOKEN_UNITS, type TextLevel, type TokenUnit, grouped } from '../text/vocab.js';

/**
 * A loss chart as a standalone SVG document, from plain data: training and validation loss
 * against tokens seen (characters, or at the word level words and punctuation marks), one
 * colour per run, every run of one level. Pure (no I/O), so tests can check the coordinates it
 * draws.
 *
 * Conventions: training loss is a dashed line, validation loss a solid line with a dot at each
 * evaluation, and each run's best validation loss a ring labelled with its value.
 */

export interface LossPoint {
  tokensSeen: number;
  loss: number;
}

export interface LossRun {
  /** Shown in the legend: the run folder's or the checkpoint file's name. */
  name: string;
  /** What its tokens are (default 'char'): a loss per character and one per word are not on one scale. */
  level?: TextLevel;
  train: LossPoint[];
  /** May be empty (a run without a validation split): the run then shows its training line only. */
  val: LossPoint[];
}

/** The chart's frame, in SVG user units (pixels). */
export const CHART = {
  width: 760,
  top: 44,
  plotHeight: 320,
  left: 72,
  right: 28,
  /** Below the plot area: tick labels and the x-axis title. */
  axisBelow: 52,
  legendRow: 20,
  legendPadding: 16,
} as const;

/** Okabe–Ito colours (distinguishable with colour-blindness), without the yellow that fades on white; they repeat after 7 runs. */
export const RUN_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

export interface Ticks {
  /** The axis runs from `lo` to `hi`, both multiples of `step`. */
  lo: number;
  hi: number;
  step: number;
  values: number[];
  /** Decimal places that show every tick exactly. */
  decimals: number;
}

/**
 * Round tick values covering [min, max]: the smallest step of 1, 2, 2.5 or 5 times a power of
 * ten that spans the range, widened to whole steps, in at most `target` + 1 intervals.
 */
export function niceTicks(min: number, max: number, target = 5): Ticks {
  if (!Number.isFinite(min) || !Number.isFinite(max) || min > max) throw new RangeError(`niceTicks: bad range [${min}, ${max}]`);
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.05;
    return niceTicks(min - pad, max + pad, target);
  }
  let power = 10 ** (Math.floor(Math.log10((max - min) / target)) - 1);
  for (;;) {
    for (const m of [1, 2, 2.5, 5]) {
      const step = m * power;
      const first = Math.floor(min / step + 1e-9), last = Math.ceil(max / step - 1e-9);
      if (last - first > target + 1) continue;
      const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (m === 2.5 ? 1 : 0));
      const round = (x: number) => Number(x.toFixed(Math.min(20, decimals + 2)));
      const values: number[] = [];
      for (let i = first; i <= last; i++) values.push(round(i * step));
      return { lo: values[0]!, hi: values.at(-1)!, step: round(step), values, decimals };
    }
    power *= 10;
  }
}

/** `0`, `500`, `250k`, `1.5M`: a token count as a tick label. */
export function formatTokenCount(n: number): string {
  const trim = (x: number) => String(Number(x.toFixed(2)));
  if (Math.abs(n) >= 1e6) return `${trim(n / 1e6)}M`;
  if (Math.abs(n) >= 1e3) return `${trim(n / 1e3)}k`;
  return trim(n);
}

/** Text safe inside an XML element or a quoted attribute. */
export function escapeXml(text: string): string {
  // Characters XML 1.0 forbids (most C0 controls) cannot appear even escaped: drop them.
  // eslint-disable-next-line no-control-regex
  const legal = text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
  return legal.replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[ch]!);
}

/** The point of lowest validation loss (the first, on a tie), or null without validation. */
export function bestPoint(points: readonly LossPoint[]): LossPoint | null {
  let best: LossPoint | null = null;
  for (const p of points) if (best === null || p.loss < best.loss) best = p;
  return best;
}

/** Where data values land on the page: the axes' ticks and the mapping to SVG coordinates. */
interface ChartScale {
  x: Ticks;
  y: Ticks;
  /** SVG x of a token count. */
  px(tokensSeen: number): number;
  /** SVG y of a loss. */
  py(loss: number): number;
}

/** The scale for these runs: x from 0 tokens, y over every loss shown, both widened to round ticks. */
function chartScale(runs: readonly LossRun[]): ChartScale {
  const points = runs.flatMap((run) => [...run.train, ...run.val]);
  if (points.length === 0) throw new RangeError('chartScale: no points to plot');
  const x = niceTicks(0, Math.max(1, ...points.map((p) => p.tokensSeen)), 6);
  const y = niceTicks(Math.min(...points.map((p) => p.loss)), Math.max(...points.map((p) => p.loss)), 5);
  const plotWidth = CHART.width - CHART.left - CHART.right;
  return {
    x,
    y,
    px: (c) => round2(CHART.left + ((c - x.lo) / (x.hi - x.lo)) * plotWidth),
    py: (l) => round2(CHART.top + ((y.hi - l) / (y.hi - y.lo)) * CHART.plotHeight),
  };
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** The most characters of a title that fit the chart's width at its size. */
const TITLE_CHARACTERS = 80;

/** `text` cut to `max` characters, an ellipsis marking the cut. */
function shortened(text: string, max: number): string {
  const characters = [...text];
  return characters.length <= max ? text : `${characters.slice(0, max - 1).join('')}…`;
}

/** Options a caller may set; the defaults suit a README. */
export interface ChartOptions {
  /** The chart's title; by default DEFAULT_TITLES' `validated` where any run has validation losses, else its `trainingOnly`. */
  title?: string;
}

export const DEFAULT_TITLES = { validated: 'Training and validation loss', trainingOnly: 'Training loss' } as const;

/**
 * The whole SVG document: the title, the grid and axes, each run's lines, their best-loss labels
 * and the legend, in that order (later parts are drawn on top). Each run is a `<g class="run">`
 * holding a `<polyline class="train">`, a `<polyline class="val">` when it has validation
 * losses, a `<circle class="val-point">` per evaluation and a `<circle class="best">` with its
 * `<text class="best-label">`.
 */
export function lossChartSvg(runs: readonly LossRun[], options: ChartOptions = {}): string {
  const unit = TOKEN_UNITS[chartLevel(runs)];
  const s = chartScale(runs);
  const legendTop = CHART.top + CHART.plotHeight + CHART.axisBelow + CHART.legendPadding;
  const height = legendTop + (runs.length + 1) * CHART.legendRow + CHART.legendPadding / 2;
  const validated = runs.some((run) => run.val.length > 0);
  const title = shortened(options.title ?? (validated ? DEFAULT_TITLES.validated : DEFAULT_TITLES.trainingOnly), TITLE_CHARACTERS);
  const out = [
    ...headerLines(title, height),
    ...gridLines(s),
    ...xAxisLines(s, unit),
    ...yAxisLines(s, unit),
    ...runs.flatMap((run, i) => runLines(run, runColour(i), s)),
    ...bestLabelLines(runs, s),
    ...legendLines(runs, validated, unit, legendTop),
    '</svg>',
  ];
  return `${out.join('\n')}\n`;
}

/** The level every run is of; refuses no runs, a run with no points, and runs of two levels. */
function chartLevel(runs: readonly LossRun[]): TextLevel {
  if (runs.length === 0) throw new RangeError('lossChartSvg: no runs');
  for (const run of runs) {
    if (run.train.length === 0 && run.val.length === 0) throw new RangeError(`lossChartSvg: run ${run.name} has no points`);
  }
  const level = runLevel(runs[0]!);
  const other = runs.find((run) => runLevel(run) !== level);
  if (other) throw new RangeError(`lossChartSvg: runs ${runs[0]!.name} and ${other.name} are of different levels`);
  return level;
}

/** Run i's colour: the palette's, in turn. */
function runColour(i: number): string {
  return RUN_COLOURS[i % RUN_COLOURS.length]!;
}

/** The document's opening tag, its title and white background, and the title drawn above the plot. */
function headerLines(title: string, height: number): string[] {
  const { width } = CHART;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12" fill="#222">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect class="background" x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text class="title" x="${width / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
  ];
}

/** A light line across the plot at each tick of either axis. */
function gridLines(s: ChartScale): string[] {
  const { width, top, plotHeight, left, right } = CHART;
  const bottom = top + plotHeight;
  return [
    '<g class="grid" stroke="#e4e4e4" stroke-width="1">',
    ...s.x.values.map((v) => `<line x1="${s.px(v)}" y1="${top}" x2="${s.px(v)}" y2="${bottom}"/>`),
    ...s.y.values.map((v) => `<line x1="${left}" y1="${s.py(v)}" x2="${width - right}" y2="${s.py(v)}"/>`),
    '</g>',
  ];
}

/** The x axis: its line, a tick and a token count at each tick, and its title. */
function xAxisLines(s: ChartScale, unit: TokenUnit): string[] {
  const { width, top, plotHeight, left, right } = CHART;
  const bottom = top + plotHeight;
  return [
    '<g class="x-axis">',
    `<line x1="${left}" y1="${bottom}" x2="${width - right}" y2="${bottom}" stroke="#444"/>`,
    ...s.x.values.flatMap((v) => [
      `<line x1="${s.px(v)}" y1="${bottom}" x2="${s.px(v)}" y2="${bottom + 5}" stroke="#444"/>`,
      `<text class="tick" x="${s.px(v)}" y="${bottom + 19}" text-anchor="middle">${formatTokenCount(v)}</text>`,
    ]),
    `<text class="axis-label" x="${round2(left + (width - left - right) / 2)}" y="${bottom + 42}" text-anchor="middle">${unit.many} seen</text>`,
    '</g>',
  ];
}

/** The y axis: its line, a tick and a loss at each tick, and its title turned upright. */
function yAxisLines(s: ChartScale, unit: TokenUnit): string[] {
  const { top, plotHeight, left } = CHART;
  const bottom = top + plotHeight;
  const midY = round2(top + plotHeight / 2);
  return [
    '<g class="y-axis">',
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}" stroke="#444"/>`,
    ...s.y.values.flatMap((v) => [
      `<line x1="${left - 5}" y1="${s.py(v)}" x2="${left}" y2="${s.py(v)}" stroke="#444"/>`,
      `<text class="tick" x="${left - 8}" y="${round2(s.py(v) + 4)}" text-anchor="end">${v.toFixed(s.y.decimals)}</text>`,
    ]),
    `<text class="axis-label" x="18" y="${midY}" text-anchor="middle" transform="rotate(-90 18 ${midY})">loss (nats/${unit.per})</text>`,
    '</g>',
  ];
}

/** One run's group: its dashed training line (a ring for a single point), its validation line and dots, and a ring at its best. */
function runLines(run: LossRun, colour: string, s: ChartScale): string[] {
  const out = [`<g class="run" data-run="${escapeXml(run.name)}" stroke="${colour}" fill="${colour}">`];
  if (run.train.length > 0) {
    out.push(`<polyline class="train" points="${polyPoints(run.train, s)}" fill="none" stroke-width="1.5" stroke-dasharray="6 4"/>`);
    if (run.train.length === 1) {
      const p = run.train[0]!;
      out.push(`<circle class="train-point" cx="${s.px(p.tokensSeen)}" cy="${s.py(p.loss)}" r="3" fill="#fff" stroke-width="1.5"/>`);
    }
  }
  if (run.val.length > 0) {
    out.push(`<polyline class="val" points="${polyPoints(run.val, s)}" fill="none" stroke-width="2"/>`);
    for (const p of run.val) out.push(`<circle class="val-point" cx="${s.px(p.tokensSeen)}" cy="${s.py(p.loss)}" r="3" stroke="none"/>`);
    const best = bestPoint(run.val)!;
    out.push(`<circle class="best" cx="${s.px(best.tokensSeen)}" cy="${s.py(best.loss)}" r="7" fill="none" stroke-width="2"/>`);
  }
  out.push('</g>');
  return out;
}

/**
 * Each run's best validation loss as a label beside its ring, on top of every run's lines and
 * nudged apart so they do not overlap: right of the ring, or left of it near the plot's right edge.
 */
function bestLabelLines(runs: readonly LossRun[], s: ChartScale): string[] {
  const labels = runs.flatMap((run, i) => {
    const best = bestPoint(run.val);
    return best === null ? [] : [{ x: s.px(best.tokensSeen), y: s.py(best.loss), text: best.loss.toFixed(3), colour: runColour(i) }];
  });
  const edge = CHART.width - CHART.right - 60;
  return [
    '<g class="best-labels" font-weight="bold">',
    ...spreadLabels(labels).map((label) => {
      const toLeft = label.x > edge;
      return `<text class="best-label" x="${round2(label.x + (toLeft ? -11 : 11))}" y="${round2(label.labelY + 4)}" ` +
        `text-anchor="${toLeft ? 'end' : 'start'}" fill="${label.colour}" stroke="#fff" stroke-width="3" paint-order="stroke">` +
        `${escapeXml(label.text)}</text>`;
    }),
    '</g>',
  ];
}

/** The legend below the axes: the line styles (validation's only where a run has it), then one row per run. */
function legendLines(runs: readonly LossRun[], validated: boolean, unit: TokenUnit, key: number): string[] {
  const { left } = CHART;
  const out = [
    '<g class="legend">',
    `<line x1="${left}" y1="${key}" x2="${left + 28}" y2="${key}" stroke="#555" stroke-width="1.5" stroke-dasharray="6 4"/>`,
    `<text x="${left + 34}" y="${key + 4}">training</text>`,
  ];
  if (validated) {
    out.push(
      `<line x1="${left + 110}" y1="${key}" x2="${left + 138}" y2="${key}" stroke="#555" stroke-width="2"/>`,
      `<circle cx="${left + 124}" cy="${key}" r="3" fill="#555"/>`,
      `<text x="${left + 144}" y="${key + 4}">validation</text>`,
      `<circle cx="${left + 236}" cy="${key}" r="7" fill="none" stroke="#555" stroke-width="2"/>`,
      `<text x="${left + 248}" y="${key + 4}">best validation loss</text>`,
    );
  }
  runs.forEach((run, i) => {
    const y = key + (i + 1) * CHART.legendRow;
    const best = bestPoint(run.val);
    const detail = best === null ? 'no validation loss' : `best validation loss ${best.loss.toFixed(3)} after ${grouped(best.tokensSeen)} ${unit.many}`;
    out.push(
      `<g class="legend-run" data-run="${escapeXml(run.name)}">`,
      `<rect x="${left}" y="${y - 5}" width="28" height="10" rx="2" fill="${runColour(i)}"/>`,
      `<text x="${left + 34}" y="${y + 4}"><tspan font-weight="bold">${escapeXml(run.name)}</tspan><tspan dx="8" fill="#666">${detail}</tspan></text>`,
      '</g>',
    );
  });
  out.push('</g>');
  return out;
}

/** A run's level: its tokens are characters unless it says otherwise. */
export function runLevel(run: LossRun): TextLevel {
  return run.level ?? 'char';
}

function polyPoints(points: readonly LossPoint[], s: ChartScale): string {
  return points.map((p) => `${s.px(p.tokensSeen)},${s.py(p.loss)}`).join(' ');
}

/** Label heights, moved apart to at least 14 units: upwards, since the best losses sit low on the chart. */
function spreadLabels<T extends { y: number }>(labels: T[]): (T & { labelY: number })[] {
  const sorted = labels.map((label) => ({ ...label, labelY: label.y })).sort((a, b) => b.labelY - a.labelY);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i - 1]!.labelY - sorted[i]!.labelY < 14) sorted[i]!.labelY = sorted[i - 1]!.labelY - 14;
  }
  return sorted;
}
