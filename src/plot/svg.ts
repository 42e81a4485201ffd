import { shortened, textColumns } from '../text/columns.js';
import { grouped } from '../input/counts.js';
import { TOKEN_UNITS, type TextLevel, type TokenUnit } from '../text/vocab.js';
import { type Obstacles, placeLabel } from './labels.js';
import {
  CHART, type ChartScale, type ClippedLine, type LossPoint, type LossRun, PLOT, type Spot,
  chartScale, clippedLine, onChart, round2, runLevel,
} from './scale.js';

/**
 * A loss chart as a standalone SVG document, from plain data: training and validation loss
 * against tokens seen (characters, or at the word level words and punctuation marks), a
 * style per run (`runStyle`), every run of one level. Pure (no I/O), so tests can check the
 * coordinates it draws.
 *
 * Conventions: training loss is a dashed line, validation loss a solid line with a marker at
 * each evaluation, and each run's best validation loss a ring labelled with its value. The y axis
 * spans the losses a run that learns can have (lossCeiling): a line that goes above it stops at
 * the plot's top edge, an arrow above the edge where it leaves, and its highest loss is in its
 * legend row.
 */

/** Okabe–Ito colours (distinguishable with colour-blindness), without the yellow that fades on white. */
export const RUN_COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'] as const;

/**
 * The training line's dash and the validation marker of each pass through the colours: the
 * first 7 runs dashed with dots, the next 7 dotted with squares, then dash-dot with triangles,
 * dash-dot-dot with diamonds. Every pattern is broken, as training's is in the legend's key.
 */
const RUN_PATTERNS = [
  { dash: '6 4', marker: 'circle' },
  { dash: '1.5 3', marker: 'square' },
  { dash: '9 3 2 3', marker: 'triangle' },
  { dash: '12 3 2 3 2 3', marker: 'diamond' },
] as const;

type Marker = (typeof RUN_PATTERNS)[number]['marker'];

/** How a run is drawn: its colour, its training line's dash and its validation marker. */
interface RunStyle {
  colour: string;
  dash: string;
  marker: Marker;
}

/** Runs that a chart tells apart: no two of the first RUN_STYLES share a style, and run i is drawn as run i mod RUN_STYLES. */
export const RUN_STYLES = RUN_COLOURS.length * RUN_PATTERNS.length;

/**
 * Run i's style: colour i mod 7, pattern ⌊i / 7⌋ (mod 4), so that no two of the first 28 runs
 * share both; later runs repeat them (`runsDrawnAlike`).
 */
function runStyle(i: number): RunStyle {
  const pattern = RUN_PATTERNS[Math.floor(i / RUN_COLOURS.length) % RUN_PATTERNS.length]!;
  return { colour: RUN_COLOURS[i % RUN_COLOURS.length]!, ...pattern };
}

/** Of a chart of `runCount` runs, each run drawn as an earlier one, with that run: [run, earlier run] as indices. */
export function runsDrawnAlike(runCount: number): [number, number][] {
  const alike: [number, number][] = [];
  for (let i = RUN_STYLES; i < runCount; i++) alike.push([i, i % RUN_STYLES]);
  return alike;
}

/**
 * Of a chart's runs, each with the losses of an earlier run at every evaluation (a copy of its run folder, say), drawn
 * over it so that one line stands for both: [run, earlier run] as indices, the earlier the first with those losses.
 */
export function runsDrawnOver(runs: readonly LossRun[]): [number, number][] {
  const over: [number, number][] = [];
  // runs drawn over none: a run with the losses of one drawn over another has that other's too
  const firsts: number[] = [];
  runs.forEach((run, i) => {
    const earlier = firsts.find((j) => sameLosses(runs[j]!.train, run.train) && sameLosses(runs[j]!.val, run.val));
    if (earlier === undefined) firsts.push(i);
    else over.push([i, earlier]);
  });
  return over;
}

/** Whether two lines have the same losses at the same token counts. */
function sameLosses(a: readonly LossPoint[], b: readonly LossPoint[]): boolean {
  return a.length === b.length && a.every((p, k) => p.tokensSeen === b[k]!.tokensSeen && p.loss === b[k]!.loss);
}

/** A validation dot's radius, in the chart and in the legend's key; a one-point training line's ring is as large. */
const DOT_RADIUS = 3;

/** The radius a validation marker covers: a dot's DOT_RADIUS, a square's, triangle's or diamond's corners at most 4. */
const MARKER_RADIUS = 4;

/** The ring around a run's best validation loss, in its chart and in the legend's key. */
const BEST_RING = { radius: 7, strokeWidth: 2 } as const;

/** A validation marker centred at (x, y), of class `cls`, filled with the stroke its group sets (`fill` overrides it). */
function markerElement(marker: Marker, x: number, y: number, cls: string, fill = ''): string {
  const fillAttr = fill === '' ? '' : ` fill="${fill}"`;
  if (marker === 'circle') return `<circle class="${cls}" cx="${x}" cy="${y}" r="${DOT_RADIUS}" stroke="none"${fillAttr}/>`;
  const corners = {
    square: [[-2.7, -2.7], [2.7, -2.7], [2.7, 2.7], [-2.7, 2.7]],
    triangle: [[0, -4], [3.5, 2.2], [-3.5, 2.2]],
    diamond: [[0, -4], [3.6, 0], [0, 4], [-3.6, 0]],
  }[marker];
  const d = corners.map(([dx, dy], k) => `${k === 0 ? 'M' : 'L'}${round2(x + dx!)} ${round2(y + dy!)}`).join(' ');
  return `<path class="${cls}" d="${d} Z" stroke="none"${fillAttr}/>`;
}

/**
 * `0`, `500`, `250k`, `1.5M`: a token count as a tick label. The playground's chart runs it too, written into its script
 * from this source (PAGE_PLOT in serve/server.ts): it uses nothing outside itself.
 */
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

/** A run as drawn: its lines, the spots of its validation markers, its ring and a one-point training line's ring, those on the chart. */
interface DrawnRun {
  train: ClippedLine;
  val: ClippedLine;
  valSpots: Spot[];
  best: Spot | null;
  trainSpot: Spot | null;
}

function drawnRun(run: LossRun, s: ChartScale): DrawnRun {
  const spot = (p: LossPoint): Spot[] => (onChart(p.loss, s) ? [[s.px(p.tokensSeen), s.py(p.loss)]] : []);
  const best = bestPoint(run.val);
  return {
    train: clippedLine(run.train, s),
    val: clippedLine(run.val, s),
    valSpots: markerSpots(run.val, s),
    best: best === null ? null : spot(best)[0] ?? null,
    trainSpot: run.train.length === 1 ? spot(run.train[0]!)[0] ?? null : null,
  };
}

/** The spots of markers at these points, those on the chart: one per pixel (a unit square of the page), the first in it. */
function markerSpots(points: readonly LossPoint[], s: ChartScale): Spot[] {
  const pixels = new Set<number>();
  const spots: Spot[] = [];
  for (const p of points) {
    if (!onChart(p.loss, s)) continue;
    const x = s.px(p.tokensSeen), y = s.py(p.loss);
    // a spot on the chart has 0 <= y <= PLOT.bottom: one number per pixel
    const pixel = Math.floor(x) * (PLOT.bottom + 1) + Math.floor(y);
    if (pixels.has(pixel)) continue;
    pixels.add(pixel);
    spots.push([x, y]);
  }
  return spots;
}

/** A run's highest loss where it goes above the chart, else null. */
function highestOffChart(run: LossRun, s: ChartScale): number | null {
  const most = (line: readonly LossPoint[]) => line.reduce((m, p) => Math.max(m, p.loss), -Infinity);
  const highest = Math.max(most(run.train), most(run.val));
  return onChart(highest, s) ? null : highest;
}

/** Each run's highest loss where lossChartSvg draws it going above the chart, else null. */
export function highestLossesOffChart(runs: readonly LossRun[]): (number | null)[] {
  const s = chartScale(runs);
  return runs.map((run) => highestOffChart(run, s));
}

/**
 * What a run's legend row, and rnn plot's line for it, add where it goes above the chart: its highest loss to `decimals`
 * places. The playground's chart says it too (PAGE_PLOT in serve/server.ts): it uses nothing outside itself.
 */
export function offChartNote(highest: number, decimals: number): string {
  return `above the chart, up to ${highest.toFixed(decimals)}`;
}

/** What a run's legend row, and rnn plot's line for it, add where it is fine-tuned: the run it started from. */
export function startedFromNote(run: LossRun): string {
  return run.startedFrom === undefined ? '' : `; started from ${run.startedFrom}`;
}

/** The most columns of a title that fit the chart's width at its size. */
const TITLE_COLUMNS = 80;

/** Options a caller may set; the defaults suit a README. */
export interface ChartOptions {
  /** The chart's title; by default DEFAULT_TITLES' `validated` where any run has validation losses, else its `trainingOnly`. */
  title?: string;
}

export const DEFAULT_TITLES = { validated: 'Training and validation loss', trainingOnly: 'Training loss' } as const;

/**
 * The whole SVG document: the title, the grid and axes, each run's lines, their best-loss labels
 * and the legend, in that order (later parts are drawn on top). Each run is a `<g class="run">`
 * (runLines) holding its lines, a `<polyline class="train">` and `<polyline class="val">` per
 * piece on the chart (clippedLine), a `<circle class="train-point">` for a one-point training
 * line, a marker per evaluation on the chart (`class="val-point"`: a `<circle>`, or a `<path>`
 * from the 8th run), a `<circle class="best">` and a `<path class="off-chart">` where a line goes
 * above the chart. Every `<text class="best-label">` is in one `<g class="best-labels">` after the
 * runs, so that no run's line covers one.
 */
export function lossChartSvg(runs: readonly LossRun[], options: ChartOptions = {}): string {
  const unit = TOKEN_UNITS[chartLevel(runs)];
  const s = chartScale(runs);
  const drawn = runs.map((run) => drawnRun(run, s));
  const arrows = offChartArrows(drawn);
  const legendTop = PLOT.bottom + CHART.axisBelow + CHART.legendPadding;
  const height = legendTop + (runs.length + 1) * CHART.legendRow + CHART.legendPadding / 2;
  const validated = runs.some((run) => run.val.length > 0);
  const title = shortened(options.title ?? (validated ? DEFAULT_TITLES.validated : DEFAULT_TITLES.trainingOnly), TITLE_COLUMNS);
  const out = [
    ...headerLines(title, height),
    ...gridLines(s),
    ...xAxisLines(s, unit),
    ...yAxisLines(s, unit),
    ...runs.flatMap((run, i) => runLines(run, drawn[i]!, arrows[i]!, runStyle(i))),
    ...bestLabelLines(runs, drawn),
    ...legendLines(runs, s, validated, unit, legendTop),
    '</svg>',
  ];
  return `${out.join('\n')}\n`;
}

/** The level every run is of; refuses no runs, a run with no points or a loss that is NaN, and runs of two levels. */
function chartLevel(runs: readonly LossRun[]): TextLevel {
  if (runs.length === 0) throw new RangeError('lossChartSvg: no runs');
  for (const run of runs) {
    if (run.train.length === 0 && run.val.length === 0) throw new RangeError(`lossChartSvg: run ${run.name} has no points`);
    const unread = run.train.find((p) => Number.isNaN(p.loss)) ?? run.val.find((p) => Number.isNaN(p.loss));
    if (unread) throw new RangeError(`lossChartSvg: run ${run.name} has a loss that is not a number, after ${unread.tokensSeen} tokens`);
  }
  const level = runLevel(runs[0]!);
  const other = runs.find((run) => runLevel(run) !== level);
  if (other) throw new RangeError(`lossChartSvg: runs ${runs[0]!.name} and ${other.name} are of different levels`);
  return level;
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
  const { left, top, right, bottom } = PLOT;
  return [
    '<g class="grid" stroke="#e4e4e4" stroke-width="1">',
    ...s.x.values.map((v) => `<line x1="${s.px(v)}" y1="${top}" x2="${s.px(v)}" y2="${bottom}"/>`),
    ...s.y.values.map((v) => `<line x1="${left}" y1="${s.py(v)}" x2="${right}" y2="${s.py(v)}"/>`),
    '</g>',
  ];
}

/** The x axis: its line, a tick and a token count at each tick, and its title. */
function xAxisLines(s: ChartScale, unit: TokenUnit): string[] {
  const { left, right, bottom } = PLOT;
  return [
    '<g class="x-axis">',
    `<line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}" stroke="#444"/>`,
    ...s.x.values.flatMap((v) => [
      `<line x1="${s.px(v)}" y1="${bottom}" x2="${s.px(v)}" y2="${bottom + 5}" stroke="#444"/>`,
      `<text class="tick" x="${s.px(v)}" y="${bottom + 19}" text-anchor="middle">${formatTokenCount(v)}</text>`,
    ]),
    `<text class="axis-label" x="${round2((left + right) / 2)}" y="${bottom + 42}" text-anchor="middle">${unit.many} seen</text>`,
    '</g>',
  ];
}

/** The y axis: its line, a tick and a loss at each tick, and its title turned upright. */
function yAxisLines(s: ChartScale, unit: TokenUnit): string[] {
  const { left, top, bottom } = PLOT;
  const midY = round2((top + bottom) / 2);
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

/**
 * One run's group: its dashed training line (a ring for a single point), its validation line and
 * markers, a ring at its best, and an arrow above the plot where a line goes above it (training's
 * hollow, validation's filled).
 */
function runLines(run: LossRun, drawn: DrawnRun, arrows: readonly OffChartArrow[], { colour, dash, marker }: RunStyle): string[] {
  const out = [`<g class="run" data-run="${escapeXml(run.name)}" stroke="${colour}" fill="${colour}">`];
  for (const piece of drawn.train.pieces) {
    out.push(`<polyline class="train" points="${polyPoints(piece)}" fill="none" stroke-width="1.5" stroke-dasharray="${dash}"/>`);
  }
  if (drawn.trainSpot !== null) {
    const [cx, cy] = drawn.trainSpot;
    out.push(`<circle class="train-point" cx="${cx}" cy="${cy}" r="${DOT_RADIUS}" fill="#fff" stroke-width="1.5"/>`);
  }
  for (const piece of drawn.val.pieces) out.push(`<polyline class="val" points="${polyPoints(piece)}" fill="none" stroke-width="2"/>`);
  for (const [x, y] of drawn.valSpots) out.push(markerElement(marker, x, y, 'val-point'));
  if (drawn.best !== null) out.push(`<circle class="best" cx="${drawn.best[0]}" cy="${drawn.best[1]}" r="${BEST_RING.radius}" fill="none" stroke-width="${BEST_RING.strokeWidth}"/>`);
  for (const { x, line } of arrows) {
    const fill = line === 'train' ? ' fill="#fff"' : '';
    out.push(`<path class="off-chart" data-line="${line}" d="M${x} ${PLOT.top - 11} L${round2(x + 4)} ${PLOT.top - 3} ` +
      `L${round2(x - 4)} ${PLOT.top - 3} Z" stroke-width="1.5"${fill}/>`);
  }
  out.push('</g>');
  return out;
}

/** An arrow pointing up just above the plot's top edge, at x: a run's training or validation line goes above the chart there. */
interface OffChartArrow {
  x: number;
  line: 'train' | 'val';
}

/** How far apart two arrows' centres are at least, so that each shows: an arrow is 8 units wide, with its stroke. */
const ARROW_SPACING = 10;

/**
 * The places an arrow may take, as steps of ARROW_SPACING from where its line leaves, nearest first
 * (right before left): seven, for three runs whose two lines leave at one evaluation, each arrow
 * at most 30 units (under 5% of the plot's width) from its line's exit.
 */
const ARROW_STEPS = [0, 1, -1, 2, -2, 3, -3] as const;

/**
 * Each run's arrows, one where each of its lines goes above the chart: in the runs' order,
 * training's before validation's, each at the first of its places inside the chart's width
 * (ARROW_STEPS) that covers the fewest arrows placed before it. Where more lines leave at one
 * place than there are places, a later run's arrow covers an earlier one's; each run's legend
 * row says it goes above the chart.
 */
function offChartArrows(drawn: readonly DrawnRun[]): OffChartArrow[][] {
  const placed: number[] = [];
  const covered = (x: number) => placed.filter((other) => Math.abs(other - x) < ARROW_SPACING).length;
  return drawn.map((run) => (['train', 'val'] as const).flatMap((line) => run[line].exits.map((exit) => {
    const places = ARROW_STEPS.map((step) => round2(exit + step * ARROW_SPACING))
      .filter((x) => x + ARROW_SPACING / 2 <= CHART.width);
    const x = places.reduce((best, place) => (covered(place) < covered(best) ? place : best));
    placed.push(x);
    return { x, line };
  })));
}

/**
 * Each run's best validation loss as a label by its ring, on top of every run's lines: at the
 * first place around the ring (LABEL_PLACES) where it meets no line, marker, ring or label placed
 * before it and stays inside the plot; where every place meets something, the one that meets
 * least, but never one over a label placed before it: where every place is over one (many runs'
 * rings together), the label is left out, its value in the run's legend row. The lowest loss is
 * placed first, the others in the runs' order.
 */
function bestLabelLines(runs: readonly LossRun[], drawn: readonly DrawnRun[]): string[] {
  const obstacles = chartObstacles(drawn);
  const out = ['<g class="best-labels" font-weight="bold">'];
  // the lowest loss first (the first, on a tie), so that it has the first choice of places; the rest in order
  const bests = runs.flatMap((run, i) => {
    const best = bestPoint(run.val), ring = drawn[i]!.best;
    return best === null || ring === null ? [] : [{ best, ring, i }];
  });
  const lowest = bests.reduce((at, { best }, k) => (best.loss < bests[at]!.best.loss ? k : at), 0);
  if (bests.length > 0) bests.unshift(...bests.splice(lowest, 1));
  for (const { best, ring, i } of bests) {
    const text = best.loss.toFixed(3);
    const label = placeLabel(ring[0], ring[1], text, obstacles);
    if (label === null) continue;
    obstacles.boxes.push(label.box);
    out.push(`<text class="best-label" x="${label.x}" y="${label.y}" text-anchor="${label.anchor}" fill="${runStyle(i).colour}" ` +
      `stroke="#fff" stroke-width="3" paint-order="stroke">${escapeXml(text)}</text>`);
  }
  out.push('</g>');
  return out;
}

/** The segments, dots and rings of every run as lossChartSvg draws them. */
function chartObstacles(drawn: readonly DrawnRun[]): Obstacles {
  const obstacles: Obstacles = { segments: [], circles: [], boxes: [] };
  const addLine = ({ pieces }: ClippedLine) => {
    for (const xy of pieces) {
      if (xy.length === 1) obstacles.segments.push([...xy[0]!, ...xy[0]!]);
      for (let i = 1; i < xy.length; i++) obstacles.segments.push([...xy[i - 1]!, ...xy[i]!]);
    }
  };
  for (const run of drawn) {
    addLine(run.train);
    addLine(run.val);
    if (run.trainSpot !== null) obstacles.circles.push([...run.trainSpot, 4]);
    for (const spot of run.valSpots) obstacles.circles.push([...spot, MARKER_RADIUS]);
    if (run.best !== null) obstacles.circles.push([...run.best, BEST_RING.radius + BEST_RING.strokeWidth / 2]);
  }
  return obstacles;
}

/**
 * A legend row's text (12 units): where it starts right of its key, the gap between a run's name
 * and what follows it, and at most this wide a column of the name (bold) and of the rest.
 */
const LEGEND_TEXT = { indent: 34, gap: 8, nameColumn: 7, detailColumn: 6 } as const;

/**
 * The legend's keys, right of its left edge: each line this long, its text LEGEND_TEXT.indent right of its
 * start; validation's key this far right of training's, and the best ring's centre and its text this far.
 */
const LEGEND_KEY = { lineLength: 28, validationAt: 110, ringAt: 236, ringTextAt: 248 } as const;

/** The fewest columns of a run's name a legend row keeps, however long the rest of it. */
const LEGEND_NAME_COLUMNS = 16;

/**
 * A run's name as its legend row shows it: cut in its middle where the row, `detail` after it, would
 * pass the plot's right edge.
 */
function legendName(name: string, detail: string): string {
  const { indent, gap, nameColumn, detailColumn } = LEGEND_TEXT;
  const room = PLOT.right - PLOT.left - indent - gap - textColumns(detail) * detailColumn;
  return shortened(name, Math.max(LEGEND_NAME_COLUMNS, Math.floor(room / nameColumn)), 'middle');
}

/**
 * The legend below the axes: the line styles (validation's only where a run has it), then one row per run,
 * its name cut to fit the row (legendName), the whole name its tooltip.
 */
function legendLines(runs: readonly LossRun[], s: ChartScale, validated: boolean, unit: TokenUnit, key: number): string[] {
  const { left } = CHART;
  const { indent, gap } = LEGEND_TEXT;
  const { lineLength, validationAt, ringAt, ringTextAt } = LEGEND_KEY;
  const shown: string[] = [];
  const out = [
    '<g class="legend">',
    `<line x1="${left}" y1="${key}" x2="${left + lineLength}" y2="${key}" stroke="#555" stroke-width="1.5" stroke-dasharray="${RUN_PATTERNS[0].dash}"/>`,
    `<text x="${left + indent}" y="${key + 4}">training</text>`,
  ];
  if (validated) {
    const validation = left + validationAt;
    out.push(
      `<line x1="${validation}" y1="${key}" x2="${validation + lineLength}" y2="${key}" stroke="#555" stroke-width="2"/>`,
      `<circle cx="${validation + lineLength / 2}" cy="${key}" r="${DOT_RADIUS}" fill="#555"/>`,
      `<text x="${validation + indent}" y="${key + 4}">validation</text>`,
      `<circle cx="${left + ringAt}" cy="${key}" r="${BEST_RING.radius}" fill="none" stroke="#555" stroke-width="${BEST_RING.strokeWidth}"/>`,
      `<text x="${left + ringTextAt}" y="${key + 4}">best validation loss</text>`,
    );
  }
  runs.forEach((run, i) => {
    const y = key + (i + 1) * CHART.legendRow;
    const { colour, dash, marker } = runStyle(i);
    const best = bestPoint(run.val);
    const highest = highestOffChart(run, s);
    const loss = (best === null ? 'no validation loss' : `best validation loss ${best.loss.toFixed(3)} after ${grouped(best.tokensSeen)} ${unit.many}`) +
      (highest === null ? '' : `; ${offChartNote(highest, 3)}`) + startedFromNote(run);
    // a run whose style an earlier one has says so, as the chart cannot show it
    const detail = i < RUN_STYLES ? loss : `${loss}; drawn as ${shown[i % RUN_STYLES]!}`;
    const name = legendName(run.name, detail);
    shown.push(name);
    out.push(
      `<g class="legend-run" data-run="${escapeXml(run.name)}" stroke="${colour}" fill="${colour}">`,
      ...(name === run.name ? [] : [`<title>${escapeXml(run.name)}</title>`]),
      `<line class="legend-train" x1="${left}" y1="${y}" x2="${left + lineLength}" y2="${y}" stroke-width="2.5" stroke-dasharray="${dash}"/>`,
      ...(best === null ? [] : [markerElement(marker, left + lineLength / 2, y, 'legend-val')]),
      `<text x="${left + indent}" y="${y + 4}" stroke="none" fill="#222"><tspan font-weight="bold">${escapeXml(name)}</tspan>` +
        `<tspan dx="${gap}" fill="#666">${escapeXml(detail)}</tspan></text>`,
      '</g>',
    );
  });
  out.push('</g>');
  return out;
}

function polyPoints(spots: readonly Spot[]): string {
  return spots.map(([x, y]) => `${x},${y}`).join(' ');
}
