import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './errors.js';
import { startsLikeCheckpoint } from './schema.js';

/** The checkpoints a run folder holds (train/output.ts): its last state, and its best validation loss. */
export const RUN_FOLDER_FILES = { latest: 'latest.json', best: 'best.json' } as const;

/** How the best checkpoint of a run whose output names a file ends, in place of its `.json`: `run.json` → `run.best.json`. */
export const BEST_FILE_END = '.best.json';

/** What each checkpoint of a run folder is, as an error naming it beside the other (namingCheckpointBeside) says. */
const RUN_FOLDER_ROLES = { latest: "the run's last checkpoint", best: "the run's best checkpoint" } as const;

/**
 * `read()` of the file at `path`; where that is a run folder's best.json or latest.json, a CheckpointError it throws
 * names the folder's other one too (where that begins as a checkpoint), which what damaged the one may have spared.
 */
export function namingCheckpointBeside<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    const beside = checkpointBeside(path);
    if (beside === '') throw error;
    throw new CheckpointError(`${error.message}${beside}`);
  }
}

/**
 * Where `path` is a run folder's best.json or latest.json and the folder's other one begins as a checkpoint, the words
 * a refusal of `path` ends with to name that one (`; DIR/latest.json beside it is the run's last checkpoint`); else ''.
 */
export function checkpointBeside(path: string): string {
  const name = basename(path);
  const other = name === RUN_FOLDER_FILES.best ? 'latest' : name === RUN_FOLDER_FILES.latest ? 'best' : null;
  if (other === null) return '';
  const beside = join(dirname(path), RUN_FOLDER_FILES[other]);
  return startsLikeCheckpoint(beside) ? `; ${beside} beside it is ${RUN_FOLDER_ROLES[other]}` : '';
}
