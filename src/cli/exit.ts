/**
 * Exit statuses, which scripts read: done, input rnn refuses or a failure, a command line commander refuses, and a fault
 * of rnn's own (sysexits' EX_SOFTWARE); a signal's are SIGNAL_EXIT's.
 */
export const EXIT = { done: 0, failed: 1, usage: 2, internal: 70 } as const;

/** What each exit status tells a script, as `rnn --help` and docs/usage.md list them. */
const EXIT_MEANING: Readonly<Record<keyof typeof EXIT, string>> = {
  done: 'done',
  failed: 'refused or failed: bad input (a file, a flag\'s value), an output in use or that cannot be written ' +
    '(a full disk), a run that diverged',
  usage: 'a command line rnn cannot read: an unknown command or flag, a missing argument',
  internal: 'a fault of rnn\'s own; RNN_DEBUG=1 shows its stack',
};

/** Each exit status and what it tells, in order: EXIT's, then a signal's, 128 + its number (SIGNAL_EXIT). */
export function exitStatuses(): ReadonlyArray<readonly [status: string, meaning: string]> {
  const statuses = (Object.keys(EXIT) as (keyof typeof EXIT)[]).map((name) => [EXIT[name], EXIT_MEANING[name]] as const);
  const signals = Object.entries(SIGNAL_EXIT).sort(([, a], [, b]) => a - b).map(([signal, status]) => `${status} ${signal}`);
  return [
    ...statuses.sort(([a], [b]) => a - b).map(([status, meaning]) => [String(status), meaning] as const),
    ['128+n', `stopped by signal n: ${signals.join(', ')}`],
  ];
}

/** Exit status after a signal: 128 + its number, as a shell reports it; a closed stdout or stderr counts as SIGPIPE. */
export const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGPIPE: 141, SIGTERM: 143 };

/** The status a command exits with after `signal` (an abort reason that is no signal: 1). */
export function exitStatusAfter(signal: string | null): number {
  return SIGNAL_EXIT[signal ?? ''] ?? EXIT.failed;
}
