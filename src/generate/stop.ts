/** What a long call checks between tokens; an AbortSignal is one. */
export interface StopSignal {
  /** True once the call should stop: it is read before each token, beam step or prediction. */
  readonly aborted: boolean;
}

/** Raised when a signal stops a call that has no partial answer (completions, beam search, scoring, activations). */
export class StoppedError extends Error {
  constructor() {
    super('stopped');
    this.name = 'StoppedError';
  }
}

/** Throws StoppedError once `signal` is aborted. */
export function checkStopped(signal: StopSignal | undefined): void {
  if (signal?.aborted) throw new StoppedError();
}
