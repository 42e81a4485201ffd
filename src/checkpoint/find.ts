import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SettingError } from '../input/settings.js';
import { isTempFile } from './files.js';

/** Where `rnn train` writes checkpoints, and where commands look when no checkpoint is named. */
export const CHECKPOINT_DIR = 'checkpoints';

const CHECKPOINT_HEAD = /^\s*\{\s*"format"\s*:\s*"rnn-checkpoint\/1"/;

function startsLikeCheckpoint(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = Buffer.alloc(128);
      const n = readSync(fd, head, 0, head.length, 0);
      return CHECKPOINT_HEAD.test(head.subarray(0, n).toString('utf8'));
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function collectJson(dir: string, depth: number, into: { path: string; mtimeMs: number }[]): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (isTempFile(name)) continue;
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isDirectory() && depth > 0) collectJson(path, depth - 1, into);
      else if (stat.isFile() && name.endsWith('.json')) into.push({ path, mtimeMs: stat.mtimeMs });
    } catch {
      /* vanished or unreadable: not a candidate */
    }
  }
}

/** The most recently written checkpoint in `dir` or its immediate subfolders, or null. */
export function latestCheckpoint(dir = CHECKPOINT_DIR): string | null {
  const candidates: { path: string; mtimeMs: number }[] = [];
  collectJson(dir, 1, candidates);
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs || (a.path < b.path ? 1 : a.path > b.path ? -1 : 0));
  return candidates.find((c) => startsLikeCheckpoint(c.path))?.path ?? null;
}

/**
 * The named checkpoint, or else the most recently written one under checkpoints/. Finding none,
 * the error says how to name one: the `checkpoint` setting, or `usage` (e.g. `rnn info FILE`)
 * for a command that takes it as an argument.
 */
export function resolveCheckpointPath(path: string | undefined, usage?: string): string {
  if (path !== undefined) return path;
  const latest = latestCheckpoint(CHECKPOINT_DIR);
  if (latest === null) {
    throw new SettingError('checkpoint', path, (name) =>
      `no checkpoint found under ${CHECKPOINT_DIR}/: ${usage === undefined ? `pass ${name('checkpoint')} FILE` : `name one: ${usage}`}`);
  }
  return latest;
}
