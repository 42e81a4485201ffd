import { Chalk, type ChalkInstance } from 'chalk';
import { redrawsInPlace } from './terminal.js';

/** Chalk's colour levels: none, 16 colours, 256, 16 million. */
export type ColourLevel = 0 | 1 | 2 | 3;

interface Stream {
  isTTY?: boolean;
  getColorDepth?(env?: NodeJS.ProcessEnv): number;
}

/**
 * How much colour to write to `stream`, as Node itself decides (tty.WriteStream.getColorDepth):
 * FORCE_COLOR first ('', '1' or 'true': 16 colours, '2': 256, '3': 16 million, anything else:
 * none), then NO_COLOR (set and not empty: none, https://no-color.org), then none unless the
 * stream is a terminal, whose own depth (TERM, COLORTERM) decides. Chalk alone ignores NO_COLOR
 * and looks at stdout, where the progress display writes to stderr.
 */
export function colourLevel(stream: Stream, env: NodeJS.ProcessEnv = process.env): ColourLevel {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '' || force === '1' || force === 'true') return 1;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 0;
  }
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return 0;
  if (!redrawsInPlace(stream, env)) return 0;
  const depth = stream.getColorDepth?.(env) ?? 4;
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}

/** The chalk the progress display writes to stderr with. */
export const stderrChalk: ChalkInstance = new Chalk({ level: colourLevel(process.stderr) });
