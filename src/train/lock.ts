import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { processIsRunning } from '../checkpoint/files.js';
import { SettingError } from '../input/settings.js';
import type { OutputPaths } from './output.js';

/** Who holds a run's output: written into the lock file when it is taken. */
interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** A run's hold on its output; `release` is safe to call more than once. */
export interface RunLock {
  path: string;
  /** Set when a lock left by a dead process was taken over: what to tell the user. */
  notice: string | null;
  release(): void;
}

/** The lock file of an output: beside its `latest` checkpoint, for both layouts (`DIR/latest.json.lock`, `FILE.json.lock`). */
export function lockPath(paths: OutputPaths): string {
  return `${paths.latest}.lock`;
}

/**
 * Takes the output's lock (an exclusive create holding pid and host), so that one run at a time
 * writes there. A lock whose process is gone (this host, no such pid) is taken over with a
 * notice; a live one is a SettingError naming its process. The lock goes when the process
 * exits, however it exits, if `release` was not called first.
 */
export function takeRunLock(paths: OutputPaths, out: string): RunLock {
  const path = lockPath(paths);
  let notice: string | null = null;
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o644);
      try {
        const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
        writeSync(fd, `${JSON.stringify(owner)}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const owner = readOwner(path);
      if (owner !== null && !ownerIsGone(owner)) {
        throw new SettingError('out', out, (name) =>
          `${name('out')} ${out} is in use by another run (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}); ` +
            `wait for it to end, or choose another ${name('out')}`);
      }
      notice = `took over ${path}, left by ${owner === null ? 'a run whose lock is unreadable' : `pid ${owner.pid}, which is no longer running`}`;
      unlinkSync(path);
    }
  }
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  };
  process.on('exit', release);
  return { path, notice, release };
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return null;
    return { pid: owner.pid, host: owner.host, startedAt: String(owner.startedAt ?? 'an unknown time') };
  } catch {
    return null;
  }
}

/** Whether the lock's process has ended: only knowable on this host. */
function ownerIsGone(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  return !processIsRunning(owner.pid);
}
