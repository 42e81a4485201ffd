import { type StopSignal, checkStopped } from './stop.js';

/**
 * A long call's work in small pieces: each `yield` ends one (a token of the prime read, a token
 * drawn, a beam step, a prediction scored), and the return value is the call's result. Its
 * signal is read at each piece: work that has no partial result then throws StoppedError.
 */
export type Work<R> = Generator<void, R, undefined>;

/** How long a call computes on this thread before it lets the event loop run. */
export const YIELD_MS = 16;

/**
 * Runs `work` to its end on this thread, at once: the result of a `*Sync` call, which nothing
 * on this thread can stop (its signal is read, but no timer or handler runs until it returns).
 */
export function finish<R>(work: Work<R>): R {
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
  }
}

/**
 * Runs `work` to its end, letting the event loop run after each YIELD_MS of it, so that a timer
 * or a handler that aborts `signal` stops it within about that time. An aborted signal stops it
 * before its first piece.
 */
export async function finishInTurns<R>(work: Work<R>, signal?: StopSignal): Promise<R> {
  checkStopped(signal);
  const turns = new Turns();
  for (;;) {
    const step = work.next();
    if (step.done) return step.value;
    if (turns.due()) await turns.take();
  }
}

/**
 * The clock of a call that computes on this thread: a turn of the event loop is due after each
 * YIELD_MS of computing. `finishInTurns` runs work by it; a generation's pieces are drawn by it.
 */
export class Turns {
  private until = performance.now() + YIELD_MS;

  due(): boolean {
    return performance.now() >= this.until;
  }

  /** Lets timers, I/O and their handlers run: a setImmediate waits for them, where a resolved promise would not. */
  async take(): Promise<void> {
    await new Promise(setImmediate);
    this.until = performance.now() + YIELD_MS;
  }
}
