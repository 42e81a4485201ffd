import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../cli/errors.js';
import type { TrainSettings } from './options.js';

/** Where a run writes: the checkpoint of its last state and the one with the best validation loss. */
export interface OutputPaths {
  latest: string;
  best: string;
}

/**
 * `--out` layouts:
 * - a path ending in `.json` is a file: `model.json` (latest) and `model.best.json` beside it;
 * - anything else is a folder: `DIR/latest.json` and `DIR/best.json`.
 * Without `--out`, a fresh run writes to the folder
 * `checkpoints/<corpus>-<cell>-<L>x<H>-<YYYYMMDD-HHMMSS>/` under the current folder, and a
 * resumed run to the folder of the checkpoint it resumes.
 */
export function outputPaths(out: string): OutputPaths {
  if (out.toLowerCase().endsWith('.json')) {
    return { latest: out, best: out.replace(/\.json$/i, '.best.json') };
  }
  return { latest: join(out, 'latest.json'), best: join(out, 'best.json') };
}

export function defaultOut(corpus: string, settings: TrainSettings, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join('checkpoints', `${corpus}-${settings.cell}-${settings.layers}x${settings.hidden}-${stamp}`);
}

/**
 * Refuses to write over checkpoints already saved: the output may hold files only when this
 * run resumes its `latest` (the same run going on). Also refuses a folder path that
 * is a file, and a file path that is a folder.
 */
export function checkOutputFree(paths: OutputPaths, out: string, resume: string | null): void {
  const isFolderLayout = paths.latest === join(out, 'latest.json');
  if (isFolderLayout && existsSync(out) && !statSync(out).isDirectory()) {
    throw new UserError(`--out ${out} is a file; give a folder, or a path ending in .json`);
  }
  const continuing = resume !== null && resolve(resume) === resolve(paths.latest);
  for (const path of [paths.latest, paths.best]) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) throw new UserError(`--out: ${path} is a folder, not a checkpoint file`);
    if (!continuing) {
      const hint = resume === null ? `resume it with --resume ${paths.latest}` : `resume ${paths.latest} instead`;
      throw new UserError(`--out: ${path} already exists and this run would overwrite it; ${hint}, or choose another --out`);
    }
  }
}

/** A resumed run's default output: the folder of the checkpoint it resumes. */
export function resumedOut(resume: string): string {
  return dirname(resume);
}
