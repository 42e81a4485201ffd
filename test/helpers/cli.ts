import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** The built CLI (`node bin/rnn.js`, over dist/) as a subprocess: `npm test` builds first. */
export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'rnn.js');

/** The training flags of a tiny run (a one-layer GRU of 16 units, on one worker): a checkpoint in a second or two. */
export const TINY_RUN = ['--cell', 'gru', '--layers', '1', '--hidden', '16', '--embed', '8', '--batch', '4', '--seq-len', '8', '--workers', '1'];

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI to completion from folder `cwd`, `input` on its standard input; asynchronous, so
 * independent runs can overlap. With `killAfterMs` a run still going then is killed, its status null.
 */
export function rnnIn(
  cwd: string, args: string[], env: Record<string, string | undefined> = {}, input?: string, killAfterMs?: number,
): Promise<Run> {
  if (!existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js'))) throw new Error('the CLI is not built: run `npm run build` first');
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath, [BIN, ...args],
      { cwd, encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '', ...env }, maxBuffer: 1 << 26, timeout: killAfterMs ?? 0, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && error.signal == null) reject(error);
        else resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    if (input !== undefined) child.stdin!.end(input);
  });
}

/** A word quoted for sh. */
const shellWord = (word: string): string => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI from `cwd` under util-linux script(1), a new pseudo-terminal as its standard input
 * and output, `before` (a shell command, e.g. `stty cols 60`) first on that terminal: its exit
 * status, and in stdout all the terminal showed.
 */
export function rnnOnTerminal(cwd: string, args: string[], env: Record<string, string | undefined> = {}, before?: string): Promise<Run> {
  const rnn = [process.execPath, BIN, ...args].map(shellWord).join(' ');
  const command = before === undefined ? rnn : `${before} && ${rnn}`;
  return new Promise((resolve, reject) => {
    execFile('script', ['-qefc', command, '/dev/null'], { cwd, encoding: 'utf8', env: { ...process.env, RNN_DEBUG: '', ...env } },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== 'number' && error.signal == null) reject(error);
        else resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
  });
}

/**
 * Starts the CLI from `cwd` on a new pseudo-terminal (util-linux script(1)), for a test that types on it: what is
 * written to the child's stdin is typed there (`\x03`, Ctrl-C, interrupts rnn as a terminal's line discipline does),
 * and its stdout is all the terminal shows. rnn is that terminal's foreground process, alone. With `input` (a named
 * pipe's path) rnn's standard input is that file instead of the terminal.
 */
export function startRnnOnTerminal(
  cwd: string, args: string[], env: Record<string, string | undefined> = {}, input?: string,
): ChildProcess {
  const rnn = [process.execPath, BIN, ...args].map(shellWord).join(' ');
  const redirect = input === undefined ? '' : ` < ${shellWord(input)}`;
  return spawn('script', ['-qefc', `exec ${rnn}${redirect}`, '/dev/null'], { cwd, stdio: 'pipe', env: { ...process.env, RNN_DEBUG: '', ...env } });
}

/**
 * What every refused command must show: a non-zero exit, nothing on stdout, one `rnn: …` line on stderr and no stack;
 * `message` that line, or a pattern it matches.
 */
export function expectOneLineError(result: Run, message: RegExp | string): void {
  expect(result.status).not.toBe(0);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(/^rnn: [^\n]+\n$/);
  expect(result.stderr).not.toMatch(/ {4}at /);
  if (typeof message === 'string') expect(result.stderr.trimEnd()).toBe(message);
  else expect(result.stderr.trimEnd()).toMatch(message);
}

/** A child process's end: its exit code (null when a signal ended it) and what it wrote. */
export interface Outcome {
  code: number | null;
  /** The signal that ended it, where one did. */
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Starts the CLI from `cwd` with piped stdout and stderr, for a test that watches or signals it;
 * `wrapper` (a command and its arguments, e.g. `unshare …`) runs it when given.
 */
export function startRnn(cwd: string, args: string[], wrapper: readonly string[] = []): ChildProcess {
  const [command, ...before] = [...wrapper, process.execPath];
  return spawn(command!, [...before, BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RNN_DEBUG: '' } });
}

/** An `onStdout` for finish that sends the child `signal` once, when its stdout first holds `marker`. */
export function signalOnce(marker: string, signal: NodeJS.Signals): (text: string, child: ChildProcess) => void {
  let sent = false;
  return (text, child) => {
    if (sent || !text.includes(marker)) return;
    sent = true;
    child.kill(signal);
  };
}

/** Resolves once the child's stdout holds `marker` (what it prints once a state is reached); rejects if it ends first. */
export function stdoutShows(child: ChildProcess, marker: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (chunk: Buffer) => {
      seen += chunk.toString();
      if (!seen.includes(marker)) return;
      stop();
      resolve();
    };
    const onClose = () => {
      stop();
      reject(new Error(`the child ended before its stdout held ${marker}`));
    };
    const stop = () => {
      child.stdout!.off('data', onData);
      child.off('close', onClose);
    };
    child.stdout!.on('data', onData);
    child.on('close', onClose);
  });
}

/** The child's end; `onStdout` sees stdout as it grows and may act on the child. */
export function finish(child: ChildProcess, onStdout?: (text: string, child: ChildProcess) => void): Promise<Outcome> {
  let stdout = '', stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    onStdout?.(stdout, child);
  });
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
