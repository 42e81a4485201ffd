import { writeFailure } from '../checkpoint/files.js';
import { EXIT } from './exit.js';
import { hangUp } from './signals.js';

/*
 * A reader that closes stdout early (`rnn info | head -1`) has all it wants: the command ends quietly rather than with
 * an EPIPE trace; a stdout that cannot take the text (`> file` on a full disk) fails the command, exit 1. One that
 * closes stderr (`rnn prepare … 2>&1 | head`) is written to no more, and the command goes on. A terminal that closed
 * (EIO) is its hang-up (`hangUp`). `guardOutput` installs this for every command; a command with work to keep
 * (training) sets its own response with `whenOutputCloses` (telling the two apart with `readerGone`), and a loop to end
 * (sampling) asks `outputClosed`.
 */

/** One of the two standard streams a command writes to. */
export type Output = 'stdout' | 'stderr';

type Response = (output: Output, error: NodeJS.ErrnoException) => void;

let response: Response | null = null;
/** The error that closed each output, once one has. */
const closedBy: Partial<Record<Output, NodeJS.ErrnoException>> = {};

/** Makes stdout and stderr answer their first error as told above: by the response `whenOutputCloses` set, else rnn's own. */
export function guardOutput(): void {
  for (const output of ['stdout', 'stderr'] as const) {
    process[output].on('error', (error: NodeJS.ErrnoException) => {
      // every error on the stream means it takes no more (EPIPE, or a write after that)
      if (closedBy[output]) return;
      closedBy[output] = error;
      if (response) response(output, error);
      else if (terminalClosed(output, error)) hangUp();
      else if (output === 'stdout') {
        if (readerGone(error)) process.exit(EXIT.done);
        // a file that cannot take the text (a full disk) has lost some of it: a failure, not a reader's choice
        process.stderr.write(`rnn: ${outputFailureText(output, error)}\n`);
        process.exit(EXIT.failed);
      }
    });
  }
}

/** The errors of a write whose reader has gone (a pipe, a socket): it has all it wanted. */
const READER_GONE: ReadonlySet<string> = new Set(['EPIPE', 'ECONNRESET']);

/** Whether `error`, on writing an output, means its reader has gone rather than that the text was lost. */
export function readerGone(error: NodeJS.ErrnoException): boolean {
  return READER_GONE.has(error.code ?? '');
}

/** Whether `error`, on writing `output`, means that the terminal it was has closed (a hang-up), as SIGHUP says. */
export function terminalClosed(output: Output, error: NodeJS.ErrnoException): boolean {
  return error.code === 'EIO' && process[output].isTTY === true;
}

/** What failed, for an output that could not take the text for another reason than its reader going. */
export function outputFailureText(output: Output, error: NodeJS.ErrnoException): string {
  return `cannot write standard ${output === 'stdout' ? 'output' : 'error'}: ${writeFailure(error)}`;
}

/**
 * Runs `action` with the stream's name and its error instead of the usual response when stdout or stderr
 * closes (at once for one closed already), until the returned function is called.
 */
export function whenOutputCloses(action: Response): () => void {
  response = action;
  for (const output of ['stdout', 'stderr'] as const) {
    const error = closedBy[output];
    if (error) action(output, error);
  }
  return () => {
    if (response === action) response = null;
  };
}

/** Whether the reader of `output` has gone. */
export function outputClosed(output: Output): boolean {
  return closedBy[output] !== undefined;
}

/** Writes `text` to stdout and waits until it is handed over, so that a closed pipe is known before the next write. */
export function writeStdout(text: string): Promise<void> {
  if (closedBy.stdout) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
