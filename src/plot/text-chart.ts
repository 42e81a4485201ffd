/**
 * A loss curve as a few rows of Unicode block characters, for a terminal: one column per
 * evaluation (or per group of evaluations when there are more than fit), each a bar whose
 * height is its loss, labelled with the highest and lowest value. Pure: it returns lines.
 *
 *     2.402 ┤█
 *           │█▆▃
 *           │███▆▄▃▂
 *     1.842 ┤████████
 */

import { checkPositiveInteger, checkedOption, integerAtLeast } from '../input/settings.js';

/** A chart's width in columns: a line needs two. */
const WIDTH_RANGE = integerAtLeast(2);

/** Eighths of a cell, from one eighth to full. */
const EIGHTHS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

export interface TextChartOptions {
  /** Rows of bars (default 4). */
  rows?: number;
  /** The most columns of bars; more values than this are averaged in groups (default 60). */
  width?: number;
  /**
   * The most columns a line takes, its label and axis included (a terminal's width): fewer bars
   * than `width` where they would not fit, never fewer than 2 (default: no limit).
   */
  lineWidth?: number;
  /** Decimal places of the labels (default 3). */
  decimals?: number;
}

/**
 * Averages `values` into at most `width` groups of consecutive values (sizes differing by at
 * most one), keeping their order; fewer values come back as they are.
 */
export function bucketValues(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let j = 0; j < width; j++) {
    const from = Math.floor((j * values.length) / width), to = Math.floor(((j + 1) * values.length) / width);
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i]!;
    out.push(sum / (to - from));
  }
  return out;
}

/**
 * The most columns a label of these values' chart takes: a group's average lies between the
 * lowest and the highest value, so its label is no longer than theirs.
 */
function widestLabel(values: readonly number[], decimals: number): number {
  const lo = values.reduce((least, v) => Math.min(least, v), Infinity), hi = values.reduce((most, v) => Math.max(most, v), -Infinity);
  return Math.max(lo.toFixed(decimals).length, hi.toFixed(decimals).length);
}

/**
 * The bar chart's lines, top row first, or no lines for fewer than two values (there is no
 * curve to show). The lowest value fills one eighth of the bottom row and the highest the
 * whole column, so every column shows.
 */
export function textLossChart(values: readonly number[], options: TextChartOptions = {}): string[] {
  const rows = options.rows ?? 4, width = options.width ?? 60, decimals = options.decimals ?? 3;
  checkPositiveInteger('rows', rows);
  checkedOption('width', WIDTH_RANGE.schema, width);
  if (options.lineWidth !== undefined) checkPositiveInteger('lineWidth', options.lineWidth);
  if (values.length < 2 || values.some((v) => !Number.isFinite(v))) return [];
  const columns = bucketValues(values, Math.max(2, Math.min(width, (options.lineWidth ?? Infinity) - widestLabel(values, decimals) - 2)));
  const lo = Math.min(...columns), hi = Math.max(...columns);
  const levels = rows * 8;
  // 1 … levels eighths of a column; all equal values fill half the height
  const heights = columns.map((v) => (hi === lo ? Math.ceil(levels / 2) : 1 + Math.round(((v - lo) / (hi - lo)) * (levels - 1))));
  const top = hi.toFixed(decimals), bottom = lo.toFixed(decimals);
  const labelWidth = Math.max(top.length, bottom.length);
  const lines: string[] = [];
  for (let r = rows - 1; r >= 0; r--) {
    const cells = heights.map((h) => {
      const filled = h - r * 8; // eighths of this row that the bar covers
      return filled <= 0 ? ' ' : EIGHTHS[Math.min(8, filled) - 1]!;
    });
    const label = r === rows - 1 ? top : r === 0 ? bottom : '';
    const axis = label === '' ? '│' : '┤';
    lines.push(`${label.padStart(labelWidth)} ${axis}${cells.join('').trimEnd()}`);
  }
  return lines;
}
