import { textColumns } from '../text/columns.js';
import { type Box, PLOT, round2 } from './scale.js';

/**
 * Where a best-loss label goes by its ring: the first of its places around the ring whose box covers none of the
 * obstacles the chart gives it (lines, markers, rings, labels placed before it), inside the plot. Pure, in SVG units.
 */

/** What a best-loss label must not cover: every run's line segments, its dots and rings, and the labels already placed. */
export interface Obstacles {
  /** Each segment as x1, y1, x2, y2 (a one-point line: one segment of no length). */
  segments: [number, number, number, number][];
  /** Each marker and ring as cx, cy and the radius it covers, its stroke included. */
  circles: [number, number, number][];
  boxes: Box[];
}

/**
 * A best-loss label's text (bold, 12 units): at most this wide a column (Helvetica's bold digits are 0.556 em; a
 * wide character takes two, textColumns), this high above its baseline, with a margin for its white halo and the lines' width.
 */
const LABEL_TEXT = { columnWidth: 6.7, ascent: 9, margin: 2 } as const;

/**
 * The places a best-loss label is tried at, in order, around its ring (BEST_RING): its anchor's
 * offset from the ring's centre and its baseline's. Right of it first, level with it, where a
 * run that ends at its best leaves room; then below it, where its own validation line never is
 * (it lies at or above its lowest point); then beside it lower, level and higher; above; and
 * last twice as far below and above.
 */
const LABEL_PLACES = [
  { dx: 11, dy: 4, anchor: 'start' },
  { dx: 0, dy: 21, anchor: 'middle' },
  { dx: 9, dy: 18, anchor: 'start' },
  { dx: -9, dy: 18, anchor: 'end' },
  { dx: 11, dy: 10, anchor: 'start' },
  { dx: -11, dy: 10, anchor: 'end' },
  { dx: -11, dy: 4, anchor: 'end' },
  { dx: 11, dy: -2, anchor: 'start' },
  { dx: -11, dy: -2, anchor: 'end' },
  { dx: 0, dy: -12, anchor: 'middle' },
  { dx: 9, dy: -10, anchor: 'start' },
  { dx: -9, dy: -10, anchor: 'end' },
  { dx: 0, dy: 35, anchor: 'middle' },
  { dx: 0, dy: -26, anchor: 'middle' },
] as const;

type LabelAnchor = (typeof LABEL_PLACES)[number]['anchor'];

/** Where a best-loss label goes: its anchor point, its baseline and the box it covers. */
interface LabelPlace {
  x: number;
  y: number;
  anchor: LabelAnchor;
  box: Box;
}

/**
 * Where a label of `text` goes by the ring at (cx, cy): a place outside the plot only where every
 * place is, and never one over a label; null where that leaves none.
 */
export function placeLabel(cx: number, cy: number, text: string, obstacles: Obstacles): LabelPlace | null {
  const places = LABEL_PLACES.map(({ dx, dy, anchor }) => {
    const x = round2(cx + dx), y = round2(cy + dy);
    const box = labelBox(x, y, anchor, text);
    const outside = box.left < PLOT.left || box.right > PLOT.right || box.top < PLOT.top || box.bottom > PLOT.bottom;
    return { x, y, anchor, box, outside };
  });
  const anyInside = places.some((place) => !place.outside);
  let chosen: LabelPlace | null = null, fewest = Infinity;
  for (const { x, y, anchor, box, outside } of places) {
    if ((outside && anyInside) || obstacles.boxes.some((other) => boxesMeet(box, other))) continue;
    const met = outside ? Number.MAX_SAFE_INTEGER : obstaclesMet(box, obstacles);
    if (met < fewest) {
      chosen = { x, y, anchor, box };
      fewest = met;
    }
    if (met === 0) break;
  }
  return chosen;
}

/** The box a label covers, its margin included, from its anchor point and baseline. */
function labelBox(x: number, y: number, anchor: LabelAnchor, text: string): Box {
  const { columnWidth, ascent, margin } = LABEL_TEXT;
  const textWidth = textColumns(text) * columnWidth;
  const start = anchor === 'start' ? x : anchor === 'middle' ? x - textWidth / 2 : x - textWidth;
  return { left: start - margin, top: y - ascent - margin, right: start + textWidth + margin, bottom: y + margin };
}

/** How many segments, circles and boxes a box meets. */
function obstaclesMet(box: Box, { segments, circles, boxes }: Obstacles): number {
  let met = 0;
  for (const [x1, y1, x2, y2] of segments) if (segmentMeetsBox(x1, y1, x2, y2, box)) met++;
  for (const [cx, cy, r] of circles) {
    const nearX = Math.min(Math.max(cx, box.left), box.right), nearY = Math.min(Math.max(cy, box.top), box.bottom);
    if ((nearX - cx) ** 2 + (nearY - cy) ** 2 < r ** 2) met++;
  }
  for (const other of boxes) if (boxesMeet(box, other)) met++;
  return met;
}

function boxesMeet(a: Box, b: Box): boolean {
  return a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
}

/** Whether the segment from (x1, y1) to (x2, y2) has a point inside the box (Liang–Barsky clipping). */
function segmentMeetsBox(x1: number, y1: number, x2: number, y2: number, box: Box): boolean {
  const dx = x2 - x1, dy = y2 - y1;
  let enter = 0, leave = 1;
  // each side of the box as p·t <= q: the segment's parameter t stays within [enter, leave]
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const t = q / p;
    if (p < 0) enter = Math.max(enter, t);
    else leave = Math.min(leave, t);
    return enter <= leave;
  };
  return clip(-dx, x1 - box.left) && clip(dx, box.right - x1) && clip(-dy, y1 - box.top) && clip(dy, box.bottom - y1);
}
