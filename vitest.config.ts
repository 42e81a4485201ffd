import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// A test's and a hook's time limit guard against a hang, not a speed: the tests spawn the CLI and
// threads on a shared 2-core machine, where a step's time moves by 2× (speed is the bench's).
// A test file on every core, where vitest would leave one free: most of a file's time is spent
// waiting on the processes it starts (rnn, Python, Chromium).
export default defineConfig({
  test: { testTimeout: 30_000, hookTimeout: 30_000, maxWorkers: availableParallelism() },
});
