/** What a long call checks between tokens; an AbortSignal is one. */
export interface StopSignal {
  /** True once the call should stop: it is read before each token, beam step or prediction. */
  readonly aborted: boolean;
  /** Why it was aborted (an AbortSignal's `reason`): the `cause` of the StoppedError a call then throws. */
  readonly reason?: unknown;
}

/**
 * Raised when a signal stops a call that has no partial answer (completions, beam search, scoring, activations);
 * its `cause` is the signal's `reason`, where it has one (an `AbortSignal.timeout`'s TimeoutError, what `abort` was given).
 */
export class StoppedError extends Error {
  constructor(signal?: StopSignal) {
    super('stopped', signal?.reason === undefined ? undefined : { cause: signal.reason });
    this.name = 'StoppedError';
  }
}

/** Throws StoppedError once `signal` is aborted. */
export function checkStopped(signal: StopSignal | undefined): void {
  if (signal?.aborted) throw new StoppedError(signal);
}
