import { readFileSync } from 'node:fs';
import { Control, spinsBeforeSleep } from './shared.js';

/** The shortest stretch of time over which a share of waiting for a core is read. */
export const CORE_WAIT_INTERVAL_MS = 250;

/** Linux's scheduler statistics of the calling thread: nanoseconds on a core, nanoseconds waiting for one, time slices. */
const SCHEDSTAT = '/proc/thread-self/schedstat';

/** The nanoseconds a thread has waited, runnable, for a core: the second number of its schedstat line; null where it has none. */
export function waitedNanoseconds(line: string): number | null {
  const waited = line.split(' ')[1]?.trim();
  return waited !== undefined && /^\d+$/.test(waited) ? Number(waited) : null;
}

/** The calling thread's nanoseconds waited for a core so far (null where this system keeps no such count). */
function readWaited(): number | null {
  try {
    return waitedNanoseconds(readFileSync(SCHEDSTAT, 'latin1'));
  } catch {
    return null;
  }
}

/** A reader of the calling thread's nanoseconds waited for a core so far; null where this system keeps no such count. */
export function schedstatReader(): (() => number | null) | null {
  return readWaited() === null ? null : readWaited;
}

/**
 * Sets how long a training group's threads poll before they sleep (the control block's Spins)
 * from what its posting thread sees: where it waited for a core more than CONTENDED_CORE_WAIT
 * of the last CORE_WAIT_INTERVAL_MS or more, other work shares the cores, and a thread that
 * polls long would hold the core that the one it waits for needs. Nothing is read where
 * the system gives no such count (the group keeps the polls it started with).
 */
export class CoreWaitPolls {
  /** Where the interval now running started: its time, and the nanoseconds waited by then (null: not read). */
  private lastMs = 0;
  private lastWaitedNs: number | null = null;

  constructor(
    private readonly control: Int32Array,
    private readonly workers: number,
    private readonly waited: (() => number | null) | null = schedstatReader(),
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (waited === null) return;
    this.lastMs = clock();
    this.lastWaitedNs = waited();
  }

  /** Called once a step by the posting thread: reads again once an interval has passed. */
  update(): void {
    if (this.waited === null) return;
    const now = this.clock();
    if (now - this.lastMs < CORE_WAIT_INTERVAL_MS) return;
    const waited = this.waited();
    if (waited !== null && this.lastWaitedNs !== null) {
      const coreWait = (waited - this.lastWaitedNs) / 1e6 / (now - this.lastMs);
      Atomics.store(this.control, Control.Spins, spinsBeforeSleep('train', this.workers, undefined, coreWait));
    }
    this.lastMs = now;
    this.lastWaitedNs = waited;
  }
}
