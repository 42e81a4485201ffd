import { exitStatusAfter } from './exit.js';

/**
 * Ends rnn now, as `signal` does: SIGHUP by that signal itself, its default action (a shell reports 129), since Node 20,
 * exiting otherwise, resets the terminal the hang-up closed and aborts on the error (nodejs/node#51519); any other by
 * exitStatusAfter's status.
 */
export function exitAfter(signal: string): never {
  if (signal === 'SIGHUP') {
    process.removeAllListeners('SIGHUP');
    process.kill(process.pid, 'SIGHUP');
  }
  process.exit(exitStatusAfter(signal));
}

/**
 * The signals that end a command (Ctrl-C, kill, and the terminal closing): one with nothing to save at once, train after
 * a save, serve once its answers are done.
 */
export const ENDING_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Runs `work`; while it awaits, SIGINT, SIGTERM or SIGHUP runs `clear` (a status line's), then ends rnn as exitAfter does.
 * Its synchronous start, as all work that does not await, keeps the signals' own action, which ends rnn at once: a
 * handler would run only once that work was done.
 */
export function clearedOnSignal<T>(work: () => Promise<T>, clear: () => void): Promise<T> {
  return whileListening(work(), (signal) => {
    clear();
    exitAfter(signal);
  });
}

/**
 * Runs `work`, handed a signal that SIGINT, SIGTERM or SIGHUP aborts while it awaits, the signal's name its reason: `work`
 * ends at its next turn of the event loop, removing what it wrote, then `clear` runs (a status line's) and rnn ends as
 * exitAfter does. Its synchronous start, as in clearedOnSignal, keeps the signals' own action.
 */
export async function stoppedOnSignal<T>(work: (stop: AbortSignal) => Promise<T>, clear: () => void): Promise<T> {
  const stopping = new AbortController();
  try {
    return await whileListening(work(stopping.signal), (signal) => stopping.abort(signal));
  } finally {
    if (stopping.signal.aborted) {
      clear();
      exitAfter(stopping.signal.reason as string);
    }
  }
}

/** `running`, awaited with `onSignal` listening to the ending signals, until the event loop has turned once after it ends. */
async function whileListening<T>(running: Promise<T>, onSignal: (signal: NodeJS.Signals) => void): Promise<T> {
  for (const signal of ENDING_SIGNALS) process.on(signal, onSignal);
  try {
    return await running;
  } finally {
    // a signal come during the work's last turn is handled as the event loop turns (its poll phase, before setImmediate)
    await new Promise(setImmediate);
    for (const signal of ENDING_SIGNALS) process.off(signal, onSignal);
  }
}

/**
 * A terminal that closed, known by a write to it failing (EIO) before its SIGHUP came: met as that SIGHUP, raised on rnn
 * itself, so that a command that stops on it (train, serve) stops as for the terminal's own, and any other ends by it.
 */
export function hangUp(): void {
  process.kill(process.pid, 'SIGHUP');
}

/**
 * Whether `signal`, come while rnn stops for `first` (a signal's name, or another reason), is the same closing again: a
 * terminal that closes may hang up twice (its shell's SIGHUP and the kernel's, or after a write to it failed).
 */
export function hangsUpAgain(first: unknown, signal: string): boolean {
  return signal === 'SIGHUP' && first === 'SIGHUP';
}

/**
 * What `signal` does to a run that stops for `first` (a signal's name; SIGPIPE for a reader gone; an output's error code):
 * the line to print as it ends rnn at once, without saving; or null, where it is ignored: the same closing again
 * (hangsUpAgain), or a run that `ended` (its stop saved, rnn about to end, the line that says how to go on still to come).
 */
export function secondSignalLine(first: unknown, signal: string, ended: boolean): string | null {
  if (ended || hangsUpAgain(first, signal)) return null;
  return `${signal} ${first === signal ? 'again' : `after ${stopCause(first)}`}: stopping without saving`;
}

/** What stopped a run, as a line names it: a signal by its name, a closed output or one that failed by what happened. */
function stopCause(first: unknown): string {
  if (first === 'SIGPIPE') return 'an output closed (SIGPIPE)';
  return typeof first === 'string' && first.startsWith('SIG') ? first : `a failed write (${String(first)})`;
}
