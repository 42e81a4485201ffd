/** What a long call checks between tokens; an AbortSignal is one. */
export interface StopSignal {
  readonly aborted: boolean;
}

/** Raised when a signal stops a call that has no partial answer (beam search, scoring, activations). */
export class StoppedError extends Error {
  constructor() {
    super('stopped');
    this.name = 'StoppedError';
  }
}
