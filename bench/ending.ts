/**
 * What the bench starts beside itself (the PyTorch peers, the race's `rnn train`, `rnn serve`)
 * and the scratch folders they write in, ended and removed when a signal ends the bench (Ctrl-C,
 * kill, the terminal closing): a child left alone would go on measuring on the same cores, a
 * race's PyTorch side for the rest of its --race. The bench meets the signal between windows.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { ENDING_SIGNALS, exitAfter } from '../src/cli/signals.js';

const children = new Set<ChildProcess>();
const folders = new Set<string>();

/**
 * Kills the children and removes the folders at once, then ends the bench as the signal does: waiting for
 * the children's exits would let the work awaiting them go on, and fail on their deaths.
 */
function end(signal: NodeJS.Signals): void {
  for (const child of children) child.kill('SIGKILL');
  // a child killed in the middle of a write may finish it: a folder met not empty is tried again
  for (const dir of folders) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  exitAfter(signal);
}

for (const signal of ENDING_SIGNALS) process.once(signal, end);

/** `child`, ended with the bench when a signal ends it; forgotten once it exits. */
export function endedWithBench<T extends ChildProcess>(child: T): T {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** `dir`, removed when a signal ends the bench; the caller removes it at the end of its work and calls `removed`. */
export function removedWithBench(dir: string): { removed: () => void } {
  folders.add(dir);
  return { removed: () => { rmSync(dir, { recursive: true, force: true }); folders.delete(dir); } };
}
