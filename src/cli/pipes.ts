import { writeFailure } from '../checkpoint/files.js';

/**
 * A reader that closes stdout early (`rnn info | head -1`) has all it wants: the command ends
 * quietly rather than with an EPIPE trace; a stdout that cannot take the text (`> file` on a full
 * disk) fails the command, exit 1. One that closes stderr (`rnn prepare … 2>&1 | head`)
 * is written to no more, and the command goes on. `guardOutput` installs this for every
 * command; a command with work to keep (training) sets its own response with
 * `whenOutputCloses`, and a loop to end (sampling) asks `outputClosed`.
 */
export type Output = 'stdout' | 'stderr';

let response: ((output: Output) => void) | null = null;
const closed: Record<Output, boolean> = { stdout: false, stderr: false };

export function guardOutput(): void {
  for (const output of ['stdout', 'stderr'] as const) {
    process[output].on('error', (error: NodeJS.ErrnoException) => {
      // every error on the stream means it takes no more (EPIPE, or a write after that)
      if (closed[output]) return;
      closed[output] = true;
      if (response) response(output);
      else if (output === 'stdout') {
        if (READER_GONE.has(error.code ?? '')) process.exit(0);
        // a file that cannot take the text (a full disk) has lost some of it: a failure, not a reader's choice
        process.stderr.write(`rnn: cannot write standard output: ${writeFailure(error)}\n`);
        process.exit(1);
      }
    });
  }
}

/** The errors of a write whose reader has gone (a pipe, a socket): it has all it wanted. */
const READER_GONE: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

/**
 * Runs `action` with the stream's name instead of the usual response when stdout or stderr
 * closes (at once for one closed already), until the returned function is called.
 */
export function whenOutputCloses(action: (output: Output) => void): () => void {
  response = action;
  for (const output of ['stdout', 'stderr'] as const) if (closed[output]) action(output);
  return () => {
    if (response === action) response = null;
  };
}

/** Whether the reader of `output` has gone. */
export function outputClosed(output: Output): boolean {
  return closed[output];
}

/** Writes `text` to stdout and waits until it is handed over, so that a closed pipe is known before the next write. */
export function writeStdout(text: string): Promise<void> {
  if (closed.stdout) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
