/** Exit status after a signal: 128 + its number, as a shell reports it; a closed stdout or stderr counts as SIGPIPE. */
const SIGNAL_EXIT: Readonly<Record<string, number>> = { SIGHUP: 129, SIGINT: 130, SIGPIPE: 141, SIGTERM: 143 };

/** The status a command exits with after `signal` (an abort reason that is no signal: 1). */
export function exitStatusAfter(signal: string | null): number {
  return SIGNAL_EXIT[signal ?? ''] ?? 1;
}
