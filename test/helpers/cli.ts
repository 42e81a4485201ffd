import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** The built CLI (`node bin/rnn.js`, over dist/) as a subprocess: `npm test` builds first. */
export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'rnn.js');

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion from folder `cwd`; asynchronous, so independent runs can overlap. */
export function rnnIn(cwd: string, args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('the CLI is not built: run `npm run build` first');
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd, encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '', ...env }, maxBuffer: 1 << 26 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number') reject(error);
        else resolve({ status: error ? (error.code as number) : 0, stdout, stderr });
      });
  });
}

/** What every refused command must show: a non-zero exit, nothing on stdout, one `rnn: …` line on stderr and no stack. */
export function expectOneLineError(result: Run, message: RegExp): void {
  expect(result.status).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^rnn: [^\n]*\n$/);
  expect(result.stderr).not.toMatch(/ {4}at /);
  expect(result.stderr.trimEnd()).toMatch(message);
}
