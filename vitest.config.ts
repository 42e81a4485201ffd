import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// vitest's default, a file per CPU but one, runs a 2-CPU machine's files one at a time, where most of them spend their time
// waiting on the CLI and Python processes they start: two files at once at the least
export default defineConfig({ test: { maxWorkers: Math.max(2, availableParallelism() - 1) } });
