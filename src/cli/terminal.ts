import { visible } from '../input/issues.js';
import { shortened } from '../text/columns.js';

/*
 * What a terminal on stderr can do for a command: redraw a line in place, at its width. Nothing here loads a colour or
 * bar library, so that a command that draws only a status line (prepare, eval) loads neither.
 */

/** Whether `stream` is a terminal that redraws a line in place (moves its cursor, clears): a TTY whose TERM is not `dumb`. */
export function redrawsInPlace(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env['TERM'] !== 'dumb';
}

/** The terminal's width in columns (stderr's, where a display is drawn), 80 where it does not say. */
export const terminalColumns = (): number => process.stderr.columns || 80;

/** The terminal escape that clears the rest of the line (erase in line, EL). */
const CLEAR_TO_LINE_END = '\x1b[K';

/**
 * Where stderr is a terminal that redraws in place, one line there that tells how far a long step has come (prepare's
 * and train's tokenizing, eval's scoring): each text drawn over the last, its control characters shown (visible) and cut to the
 * terminal's width in columns (a wide character takes two), which a wrapped line would outgrow; '' clears it. Null
 * elsewhere: a pipe or a file gets no status.
 */
export function statusLine(): ((text: string) => void) | null {
  if (!redrawsInPlace(process.stderr)) return null;
  return (text) => void process.stderr.write(`\r${shortened(visible(text), terminalColumns() - 1)}${CLEAR_TO_LINE_END}`);
}

/** An onProgress that shows on `status` how far a corpus's tokenizing has come (prepare's, train's): its whole percentage. */
export function tokenizingProgress(status: (text: string) => void): (fraction: number) => void {
  return wholePercents((percent) => status(`tokenizing: ${percent}%`));
}

/** An onProgress that calls `show` with each whole percentage the fraction reaches, once each: a redraw, not one a chunk. */
export function wholePercents(show: (percent: number) => void): (fraction: number) => void {
  let shown = -1;
  return (fraction) => {
    const percent = Math.floor(100 * fraction);
    if (percent !== shown) show((shown = percent));
  };
}
