import { vi } from 'vitest';

/**
 * Runs `body` on a clock that reads `step` ms later each time `performance.now` is read, so that
 * what a run times (steps that fit, turns that are due) is the same on any machine; `advance`
 * moves it on by more (a slow disk, a long pause). The real clock is back afterwards.
 */
export async function onReadingClock<R>(body: (advance: (ms: number) => void) => Promise<R>, step = 1): Promise<R> {
  let now = 0;
  const clock = vi.spyOn(performance, 'now').mockImplementation(() => (now += step));
  try {
    return await body((ms) => void (now += ms));
  } finally {
    clock.mockRestore();
  }
}

/** The turns of the event loop from now until `stop`: an immediate that sets itself again runs once a turn. */
export function turnCounter(): { readonly turns: number; stop(): void } {
  const counter = { turns: 0, counting: true, stop: () => void (counter.counting = false) };
  const count = (): void => {
    counter.turns++;
    if (counter.counting) setImmediate(count);
  };
  setImmediate(count);
  return counter;
}
