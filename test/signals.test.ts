import { constants } from 'node:os';
import { describe, expect, it } from 'vitest';
import { EXIT, SIGNAL_EXIT, exitStatusAfter } from '../src/cli/exit.js';
import { secondSignalLine } from '../src/cli/signals.js';

describe('the exit status after a signal', () => {
  it('is 128 + the signal\'s number, as a shell reports it; 1 for a stop that no signal made (an output that failed)', () => {
    for (const signal of Object.keys(SIGNAL_EXIT)) {
      expect(exitStatusAfter(signal)).toBe(128 + constants.signals[signal as keyof typeof constants.signals]);
    }
    expect([exitStatusAfter(null), exitStatusAfter('ENOSPC')]).toEqual([EXIT.failed, EXIT.failed]);
  });
});

describe('a second signal while a run stops', () => {
  it.each([
    ['SIGINT', 'SIGINT', 'SIGINT again: stopping without saving'],
    ['SIGTERM', 'SIGINT', 'SIGINT after SIGTERM: stopping without saving'],
    ['SIGHUP', 'SIGTERM', 'SIGTERM after SIGHUP: stopping without saving'],
    ['SIGPIPE', 'SIGINT', 'SIGINT after an output closed (SIGPIPE): stopping without saving'],
    ['SIGINT', 'SIGHUP', 'SIGHUP after SIGINT: stopping without saving'],
    ['ENOSPC', 'SIGTERM', 'SIGTERM after a failed write (ENOSPC): stopping without saving'],
  ])('after %s, %s ends rnn at once, naming both', (first, signal, line) => {
    expect(secondSignalLine(first, signal, false)).toBe(line);
  });

  it('is ignored where it is the terminal hanging up again, or once the run has saved its stop', () => {
    expect(secondSignalLine('SIGHUP', 'SIGHUP', false)).toBeNull();
    expect(secondSignalLine('SIGINT', 'SIGINT', true)).toBeNull();
    expect(secondSignalLine('SIGPIPE', 'SIGTERM', true)).toBeNull();
  });
});
