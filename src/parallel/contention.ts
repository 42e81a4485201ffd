import { closeSync, openSync, readSync } from 'node:fs';
import { Control, spinsBeforeSleep } from './shared.js';

/** The shortest stretch of time over which a share of waiting for a core is read. */
export const CORE_WAIT_INTERVAL_MS = 250;

/** Linux's scheduler statistics of the calling thread: nanoseconds on a core, nanoseconds waiting for one, time slices. */
const SCHEDSTAT = '/proc/thread-self/schedstat';

/**
 * The nanoseconds a thread has waited, runnable, for a core: the second number of a schedstat
 * line (its bytes, `length` of them); null where it has none.
 */
export function waitedNanoseconds(bytes: Uint8Array, length: number): number | null {
  let field = 0, value = 0, digits = 0;
  for (let i = 0; i < length; i++) {
    const byte = bytes[i]!;
    if (byte >= 0x30 && byte <= 0x39) {
      value = value * 10 + (byte - 0x30);
      digits++;
    } else if (digits > 0) {
      if (field === 1) return value;
      field++;
      value = 0;
      digits = 0;
    }
  }
  return field === 1 && digits > 0 ? value : null;
}

/**
 * A reader of the calling thread's nanoseconds waited for a core so far, into a buffer kept for
 * it (null once it cannot read them); null where this system keeps no such count.
 */
export function schedstatReader(): (() => number | null) | null {
  const bytes = new Uint8Array(128);
  const read = (): number | null => {
    try {
      const fd = openSync(SCHEDSTAT, 'r');
      try {
        return waitedNanoseconds(bytes, readSync(fd, bytes, 0, bytes.length, 0));
      } finally {
        closeSync(fd);
      }
    } catch {
      return null;
    }
  };
  return read() === null ? null : read;
}

/**
 * Sets how long a training group's threads poll before they sleep (the control block's Spins)
 * from what its posting thread sees: where it waited for a core more than CONTENDED_CORE_WAIT
 * of the last CORE_WAIT_INTERVAL_MS or more, other work shares the cores, and a thread that
 * polls long would hold the core that the one it waits for needs. Nothing is read where
 * the system gives no such count (the group keeps the polls it started with).
 */
export class CoreWaitPolls {
  /** Where the interval now running started: its time, and the nanoseconds waited by then (NaN before a first reading). */
  private lastMs = 0;
  private lastWaitedNs = Number.NaN;

  constructor(
    private readonly control: Int32Array,
    private readonly workers: number,
    private readonly waited: (() => number | null) | null = schedstatReader(),
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (waited !== null) this.mark(clock());
  }

  /** Called once a step by the posting thread: reads again once an interval has passed. */
  update(): void {
    if (this.waited === null) return;
    const now = this.clock();
    if (now - this.lastMs < CORE_WAIT_INTERVAL_MS) return;
    const before = this.lastWaitedNs, since = now - this.lastMs;
    if (!this.mark(now) || Number.isNaN(before)) return;
    const coreWait = (this.lastWaitedNs - before) / 1e6 / since;
    Atomics.store(this.control, Control.Spins, spinsBeforeSleep('train', this.workers, undefined, coreWait));
  }

  /** The count and the time now as the next interval's start; false (and no start) where the count could not be read. */
  private mark(now: number): boolean {
    const waited = this.waited?.() ?? null;
    this.lastMs = now;
    this.lastWaitedNs = waited ?? Number.NaN;
    return waited !== null;
  }
}
