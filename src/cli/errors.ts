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

/** A flag's text as a positive integer, or a UserError naming the flag. */
export function positiveInteger(flag: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(n) || n < 1) throw new UserError(`${flag} must be a positive integer (got ${raw})`);
  return n;
}
