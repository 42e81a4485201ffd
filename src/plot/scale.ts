import type { TextLevel } from '../text/vocab.js';

/**
 * A loss chart's scale: the runs it is drawn from, its frame, and where their points land on the page (in SVG units):
 * the axes' round ticks, the y axis's ceiling (lossCeiling), each line cut where it goes above the plot. Pure.
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
  /** Its vocabulary's size, which sets the chart's lossCeiling; without it a run's losses set no ceiling. */
  vocabSize?: number;
  /** The run a fine-tuned one started from, named as a run is: its legend row names it; drawn only where it is a run of its own. */
  startedFrom?: string;
}

/** A run's level: its tokens are characters unless it says otherwise. */
export function runLevel(run: LossRun): TextLevel {
  return run.level ?? 'char';
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

/** A rectangle on the page, in SVG units (y grows downwards). */
export interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** The plot area: the part of CHART inside the axes, where the runs' lines are drawn. */
export const PLOT: Box = { left: CHART.left, top: CHART.top, right: CHART.width - CHART.right, bottom: CHART.top + CHART.plotHeight };

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
 * ten that spans the range, widened to whole steps, in at most `target` + 1 intervals. The playground's chart runs it
 * too, written into its script from this source (PAGE_PLOT in serve/server.ts): it uses nothing outside itself.
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

/** Where data values land on the page: the axes' ticks and the mapping to SVG coordinates. */
export interface ChartScale {
  x: Ticks;
  y: Ticks;
  /** SVG x of a token count: PLOT.left + (tokensSeen − x.lo) / (x.hi − x.lo) · the plot's width, to 2 places (round2). */
  px(tokensSeen: number): number;
  /** SVG y of a loss (y grows downwards): PLOT.top + (y.hi − loss) / (y.hi − y.lo) · the plot's height, to 2 places. */
  py(loss: number): number;
}

/**
 * The highest loss a chart's y axis is made to span, given its runs' vocabulary sizes: twice a uniform guess's loss
 * (ln of the vocabulary's size, where a fresh model starts) for the largest; Infinity where none is given. A model above
 * it gives the right token, on average, a probability the vocabulary's size times less than guessing does, so it has
 * diverged rather than learnt. The playground's chart runs it too (PAGE_PLOT in serve/server.ts): it uses nothing
 * outside itself.
 */
export function lossCeiling(vocabSizes: readonly number[]): number {
  const timesGuess = 2;
  return vocabSizes.length === 0 ? Infinity : timesGuess * Math.log(Math.max(...vocabSizes));
}

/**
 * The losses a chart's y axis spans, lowest and highest: every finite loss of the lines at or under `ceiling`, or every
 * finite loss where none is under it; null where no loss is finite. Each line is read in place, never copied (a run
 * evaluated every step has hundreds of thousands of points). The playground's chart runs it too (PAGE_PLOT in
 * serve/server.ts): it uses nothing outside itself.
 */
export function lossRange(lines: readonly (readonly { loss: number }[])[], ceiling: number): { lowest: number; highest: number } | null {
  const anyUnder = lines.some((line) => line.some((p) => p.loss <= ceiling));
  let lowest = Infinity, highest = -Infinity;
  for (const line of lines) {
    for (const { loss } of line) {
      if (!Number.isFinite(loss) || (anyUnder && loss > ceiling)) continue;
      lowest = Math.min(lowest, loss);
      highest = Math.max(highest, loss);
    }
  }
  return lowest === Infinity ? null : { lowest, highest };
}

/**
 * The scale for these runs: x from 0 tokens, y over every finite loss at or under lossCeiling,
 * widened to round ticks (over every finite loss where none is under it).
 */
export function chartScale(runs: readonly LossRun[]): ChartScale {
  const lines = runs.flatMap((run) => [run.train, run.val]);
  if (lines.every((line) => line.length === 0)) throw new RangeError('chartScale: no points to plot');
  let mostTokens = 1;
  for (const line of lines) for (const p of line) mostTokens = Math.max(mostTokens, p.tokensSeen);
  const x = niceTicks(0, mostTokens, 6);
  const range = lossRange(lines, lossCeiling(runs.flatMap((run) => (run.vocabSize === undefined ? [] : [run.vocabSize]))));
  if (range === null) throw new RangeError('chartScale: no finite loss to plot');
  const y = niceTicks(range.lowest, range.highest, 5);
  return {
    x,
    y,
    px: (c) => round2(PLOT.left + ((c - x.lo) / (x.hi - x.lo)) * (PLOT.right - PLOT.left)),
    py: (l) => round2(PLOT.top + ((y.hi - l) / (y.hi - y.lo)) * (PLOT.bottom - PLOT.top)),
  };
}

/** A point on the page: SVG x and y. */
export type Spot = [number, number];

/**
 * A line as drawn, through the points its pixels show (pixelColumns): its pieces inside the chart, each ended at the
 * plot's top edge where the line goes above it, and the x of each place it goes above (at its first point where it
 * starts there).
 */
export interface ClippedLine {
  pieces: Spot[][];
  exits: number[];
}

/** Whether a loss lies on the chart (at or under the y axis's top). */
export const onChart = (loss: number, s: ChartScale): boolean => loss <= s.y.hi;

export function clippedLine(evaluations: readonly LossPoint[], s: ChartScale): ClippedLine {
  const points = pixelColumns(evaluations, s);
  const line: ClippedLine = { pieces: [], exits: [] };
  let piece: Spot[] = [];
  // where the segment from `inside` to `outside` crosses the top edge
  const crossing = (inside: LossPoint, outside: LossPoint): Spot => {
    const t = (s.y.hi - inside.loss) / (outside.loss - inside.loss);
    return [s.px(inside.tokensSeen + t * (outside.tokensSeen - inside.tokensSeen)), s.py(s.y.hi)];
  };
  points.forEach((p, i) => {
    const before = i === 0 ? null : points[i - 1]!;
    if (onChart(p.loss, s)) {
      if (before !== null && !onChart(before.loss, s)) piece.push(crossing(p, before));
      piece.push([s.px(p.tokensSeen), s.py(p.loss)]);
      return;
    }
    if (before === null) line.exits.push(s.px(p.tokensSeen));
    else if (onChart(before.loss, s)) {
      const edge = crossing(before, p);
      piece.push(edge);
      line.exits.push(edge[0]);
    }
    if (piece.length > 0) line.pieces.push(piece);
    piece = [];
  });
  if (piece.length > 0) line.pieces.push(piece);
  return line;
}

/** The most points a pixel column of a line keeps: its first, highest, lowest and last. */
const POINTS_PER_COLUMN = 4;

/**
 * A line's points as the chart's pixels can show it (min–max decimation): of a run of points in one pixel column (a
 * unit of x on the page) longer than POINTS_PER_COLUMN, its first, its highest and lowest loss and its last, in their
 * order, so that the line drawn through them reaches every peak and dip it has; a shorter run keeps every point.
 */
export function pixelColumns(points: readonly LossPoint[], s: ChartScale): LossPoint[] {
  const kept: LossPoint[] = [];
  for (let from = 0; from < points.length;) {
    const column = Math.floor(s.px(points[from]!.tokensSeen));
    let to = from + 1, highest = from, lowest = from;
    for (; to < points.length && Math.floor(s.px(points[to]!.tokensSeen)) === column; to++) {
      if (points[to]!.loss > points[highest]!.loss) highest = to;
      if (points[to]!.loss < points[lowest]!.loss) lowest = to;
    }
    if (to - from <= POINTS_PER_COLUMN) {
      for (let k = from; k < to; k++) kept.push(points[k]!);
    } else {
      const first = Math.min(highest, lowest), second = Math.max(highest, lowest);
      kept.push(points[from]!);
      if (first > from) kept.push(points[first]!);
      if (second > first) kept.push(points[second]!);
      if (to - 1 > second) kept.push(points[to - 1]!);
    }
    from = to;
  }
  return kept;
}

export const round2 = (v: number): number => Math.round(v * 100) / 100;
