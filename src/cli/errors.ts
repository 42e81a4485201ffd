/**
 * An error the user can fix: bad input, a missing file, a flag out of range. The CLI prints
 * its one-line message and exits non-zero, never a stack trace.
 */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}
