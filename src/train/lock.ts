import { closeSync, existsSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { TEMP_SUFFIX, WIDEST_PID, processIsRunning, removeAbandonedTemps, writeTarget } from '../checkpoint/files.js';
import { SettingError } from '../input/settings.js';
import { type OutputPaths, unwritableOutput } from './output.js';

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

/**
 * The lock file of an output: beside its `latest` checkpoint, for both layouts (`DIR/latest.json.lock`, `FILE.json.lock`);
 * where `latest` is a link, beside the file it leads to, which two runs must not write at once whichever path each names.
 * examples/pytorch/train_ddp.py takes the lock of its --out here too (`lock_path`), by `takeLock`'s rules, its owner written alike.
 */
export function lockPath(paths: OutputPaths): string {
  return `${writeTarget(paths.latest, 'checkpoint ')}${LOCK_SUFFIX}`;
}

const LOCK_SUFFIX = '.lock';
/** A lock left by a process that has ended is moved aside, to its path with this and the pid that moves it, before it is taken over. */
const STALE_SUFFIX = '.stale-';

/** The files a lock at `path` writes beside it as it is taken (its owner file, a stale lock moved aside), the widest pid in each name. */
export function lockWorkNames(path: string): string[] {
  return [TEMP_SUFFIX, STALE_SUFFIX].map((suffix) => `${basename(path)}${suffix}${WIDEST_PID}`);
}

/**
 * Takes a run's output's lock (`takeLock`), so that one run at a time writes there; a refusal
 * names `setting`, the flag that chose the output: --out, or --resume where it writes.
 */
export function takeRunLock(paths: OutputPaths, out: string, setting: 'out' | 'resume'): RunLock {
  return takeLock(lockPath(paths), out, 'run', setting);
}

/**
 * Takes the lock file `path` of the output `out` for a `holder` ('run'; 'rnn prepare': a prepared
 * folder's): the owner (pid and host) is written to a file of its own, then hard-linked into
 * place, which fails where a lock is, so a lock is never seen before its owner is in it. A lock
 * whose process is gone (this host, no such pid) is moved aside and, unless another's lock took
 * its place meanwhile, taken over with a notice; a live one is a SettingError naming its
 * process (and `setting`, the flag that named `out`). The lock goes when the process exits,
 * if `release` was not called first; one that a signal kills (while it reads or writes
 * synchronously, where no handler runs) leaves it to be taken over, and the owner file it may
 * have left beside it (killed as it placed the lock) to be removed.
 */
export function takeLock(path: string, out: string, holder: string, setting: 'out' | 'resume' = 'out'): RunLock {
  const inUse = (owner: LockOwner): SettingError => new SettingError(setting, out, (name) =>
    `${name(setting)} ${out} is in use by another ${holder} (pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}); ` +
      `wait for it to end, or choose another ${name('out')}`);
  const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  const ownerFile = `${basename(path)}${TEMP_SUFFIX}`;
  // the owner file of a process killed while it placed its lock
  removeAbandonedTemps(dirname(path), (name) => (name.startsWith(ownerFile) && /^\d+$/.test(name.slice(ownerFile.length))
    ? Number(name.slice(ownerFile.length)) : null));
  const mine = `${path}${TEMP_SUFFIX}${process.pid}`;
  try {
    writeFileSync(mine, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  } catch (error) {
    throw unwritableOutput(error, out, setting);
  }
  let notice: string | null = null;
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        placeLock(mine, path);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const held = readOwner(path);
        if (held !== null && !ownerIsGone(held)) throw inUse(held);
        if (attempt >= LOCK_ATTEMPTS) {
          throw new SettingError('out', out, (name) =>
            `${name('out')} ${out}: others are taking its lock at this moment; try again, or choose another ${name('out')}`);
        }
        const aside = `${path}${STALE_SUFFIX}${process.pid}`;
        try {
          renameSync(path, aside);
        } catch {
          continue; // gone meanwhile: try again
        }
        const moved = readOwner(aside);
        if (moved !== null && !ownerIsGone(moved)) {
          // another run took the lock between the look and the move: it goes back (unless a third one's is there now)
          try {
            placeLock(aside, path);
          } catch {
            /* the lock there now holds the output */
          }
          unlinkSync(aside);
          throw inUse(moved);
        }
        unlinkSync(aside);
        notice = `took over ${path}, left by ${moved === null ? `a ${holder} whose lock is unreadable` : `pid ${moved.pid}, which is no longer running`}`;
      }
    }
  } finally {
    unlinkSync(mine);
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

/**
 * Who holds the lock file at `path`, in words (`rnn prepare, pid 4242 on host, since …`), and
 * whether that process has ended (a signal killed it, leaving the lock): null where no lock is.
 */
export function lockHolder(path: string, holder: string): { who: string; gone: boolean } | null {
  if (!existsSync(path)) return null;
  const owner = readOwner(path);
  if (owner === null) return { who: `${holder}, its lock unreadable`, gone: true };
  return { who: `${holder}, pid ${owner.pid} on ${owner.host}, since ${owner.startedAt}`, gone: ownerIsGone(owner) };
}

/** Whether the file at `path` is a lock of rnn's (`FILE.lock`, its owner in it), of a live process or one that ended. */
export function isLockFile(path: string): boolean {
  return path.endsWith(LOCK_SUFFIX) && readOwner(path) !== null;
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

/** Tries to take a lock this many times over locks left by ended runs, others racing for it. */
const LOCK_ATTEMPTS = 3;

/**
 * Puts the lock file `from` (its owner written) at `path` unless a lock is there (EEXIST): by a
 * hard link, or, where the file system has none, by an exclusive create and a copy.
 */
function placeLock(from: string, path: string): void {
  try {
    linkSync(from, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
    const fd = openSync(path, 'wx', 0o644);
    try {
      writeSync(fd, readFileSync(from));
    } finally {
      closeSync(fd);
    }
  }
}

/** Whether the lock's process has ended: only knowable on this host. */
function ownerIsGone(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  return !processIsRunning(owner.pid);
}
