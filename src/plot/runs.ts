import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { type Checkpoint, loadCheckpoint } from '../checkpoint/checkpoint.js';
import { CheckpointError } from '../checkpoint/errors.js';
import type { LossRun } from './svg.js';

/** The checkpoint a plot argument means: a file as it is, a run folder's latest.json. */
export function runCheckpointPath(arg: string): string {
  let isFolder = false;
  try {
    isFolder = statSync(arg).isDirectory();
  } catch {
    return arg; // loading names the missing file
  }
  if (!isFolder) return arg;
  const latest = join(arg, 'latest.json');
  try {
    if (statSync(latest).isFile()) return latest;
  } catch {
    /* reported below */
  }
  throw new CheckpointError(`${arg} is a folder without latest.json: name a checkpoint file or a run folder that \`rnn train\` wrote`);
}

/**
 * The legend's name for a run: its folder's name for `latest.json`, the folder's name with
 * "(best)" for `best.json`, else the file's name without `.json`.
 */
export function runName(path: string): string {
  const file = basename(path);
  const folder = basename(dirname(resolve(path)));
  if (file === 'latest.json') return folder;
  if (file === 'best.json') return `${folder} (best)`;
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/** A checkpoint's evaluation history as the chart's series; refuses one with no history. */
export function lossRunFromCheckpoint(checkpoint: Checkpoint, name: string, source: string): LossRun {
  if (checkpoint.history.length === 0) {
    throw new CheckpointError(`${source} has no history (no evaluation has run yet): nothing to plot; train it past its first evaluation`);
  }
  return {
    name,
    train: checkpoint.history.map((h) => ({ charsSeen: h.charsSeen, loss: h.trainLoss })),
    val: checkpoint.history.flatMap((h) => (h.valLoss === null ? [] : [{ charsSeen: h.charsSeen, loss: h.valLoss }])),
  };
}

/**
 * One run per argument (a checkpoint file or a run folder), in order. Two runs that would share
 * a name are named by the path given instead.
 */
export function loadLossRuns(args: readonly string[]): LossRun[] {
  const paths = args.map(runCheckpointPath);
  const names = paths.map(runName);
  return paths.map((path, i) => {
    const name = names.filter((n) => n === names[i]).length > 1 ? args[i]! : names[i]!;
    return lossRunFromCheckpoint(loadCheckpoint(path), name, path);
  });
}
