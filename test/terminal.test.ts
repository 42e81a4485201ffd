import { afterEach, describe, expect, it, vi } from 'vitest';
import { statusLine } from '../src/cli/terminal.js';
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
});
