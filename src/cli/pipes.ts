/**
 * A reader that closes stdout early (`rnn info | head -1`) has all it wants: the command ends
 * quietly rather than with an EPIPE trace. `guardStdout` installs this for every command;
 * a command with work to keep (training) or a loop to end (sampling) sets its own response with
 * `whenStdoutCloses`.
 */
let response: (() => void) | null = null;
let closed = false;

export function guardStdout(): void {
  process.stdout.on('error', () => {
    // every error on stdout means no one reads it any more (EPIPE, or a write after that)
    if (closed) return;
    closed = true;
    if (response) response();
    else process.exit(0);
  });
}

/** Runs `action` instead of exiting when stdout closes, until the returned function is called. */
export function whenStdoutCloses(action: () => void): () => void {
  response = action;
  if (closed) action();
  return () => {
    if (response === action) response = null;
  };
}

/** Whether stdout's reader has gone. */
export function stdoutClosed(): boolean {
  return closed;
}

/** Writes `text` to stdout and waits until it is handed over, so that a closed pipe is known before the next write. */
export function writeStdout(text: string): Promise<void> {
  if (closed) return Promise.resolve();
  return new Promise((resolve) => process.stdout.write(text, () => resolve()));
}
