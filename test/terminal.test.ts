import { afterEach, describe, expect, it, vi } from 'vitest';
import { colourLevel } from '../src/cli/color.js';
import { statusLine, tokenizingProgress } from '../src/cli/terminal.js';
import { textColumns } from '../src/text/columns.js';

describe('a status line (rnn eval and rnn prepare on a terminal)', () => {
  const { isTTY, columns } = process.stderr;
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    Object.assign(process.stderr, { isTTY, columns });
  });

  it('is cut to the terminal\'s width in columns, a wide character (CJK, emoji) counted as two, so that it never wraps', () => {
    Object.assign(process.stderr, { isTTY: true, columns: 40 });
    vi.stubEnv('TERM', 'xterm');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const status = statusLine()!;
    status(`scoring: 12% of ${'平和と戦争'.repeat(10)}🕊.txt`);
    status('reading a.txt…');
    const [wide, short] = write.mock.calls.map(([chunk]) => String(chunk).replace(/^\r/, '').replace('\x1b[K', ''));
    expect(textColumns(wide!)).toBeLessThanOrEqual(39);
    expect(wide!.startsWith('scoring: 12% of 平和と戦争')).toBe(true);
    expect(wide!.endsWith('…')).toBe(true);
    expect(short).toBe('reading a.txt…');
  });

  it('leaves the last column free, where a line that filled it would wrap on some terminals', () => {
    Object.assign(process.stderr, { isTTY: true, columns: 40 });
    vi.stubEnv('TERM', 'xterm');
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    statusLine()!(`reading ${'a'.repeat(100)}.txt…`);
    const shown = String(write.mock.calls[0]![0]).replace(/^\r/, '').replace('\x1b[K', '');
    expect(textColumns(shown)).toBe(39);
  });
});

describe('the tokenizing status (rnn prepare, rnn train on a terminal)', () => {
  it('shows each whole percentage once, as far as the text has come: never one not reached yet', () => {
    const shown: string[] = [];
    const progress = tokenizingProgress((text) => shown.push(text));
    for (const fraction of [0, 0.001, 0.5, 0.504, 0.996, 0.999, 1]) progress(fraction);
    expect(shown).toEqual(['tokenizing: 0%', 'tokenizing: 50%', 'tokenizing: 99%', 'tokenizing: 100%']);
  });
});

describe('the colour level of the progress display', () => {
  /** A terminal of `depth` bits of colour, as tty.WriteStream tells it. */
  const terminal = (depth: number) => ({ isTTY: true, getColorDepth: () => depth });
  const pipe = { isTTY: false };

  it('takes FORCE_COLOR first, on a terminal or not: empty, 1 or true 16 colours, 2 256, 3 16 million, anything else none', () => {
    for (const stream of [pipe, terminal(24)]) {
      const levels = ['', '1', 'true', '2', '3', '0', 'false'].map((force) => colourLevel(stream, { FORCE_COLOR: force, NO_COLOR: '1' }));
      expect(levels).toEqual([1, 1, 1, 2, 3, 0, 0]);
    }
  });

  it('writes none with NO_COLOR set, an empty NO_COLOR counting as unset (no-color.org)', () => {
    expect(colourLevel(terminal(8), { NO_COLOR: '1', TERM: 'xterm-256color' })).toBe(0);
    expect(colourLevel(terminal(8), { NO_COLOR: '', TERM: 'xterm-256color' })).toBe(2);
  });

  it('writes none off a terminal or to TERM=dumb; on a terminal, as many colours as its depth tells', () => {
    expect(colourLevel(pipe, { TERM: 'xterm-256color' })).toBe(0);
    expect(colourLevel(terminal(24), { TERM: 'dumb' })).toBe(0);
    expect([1, 4, 8, 24].map((depth) => colourLevel(terminal(depth), { TERM: 'xterm-256color' }))).toEqual([0, 1, 2, 3]);
  });
});
