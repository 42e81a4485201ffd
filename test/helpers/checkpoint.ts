import { readFileSync } from 'node:fs';
import type { Checkpoint } from '../../src/checkpoint/schema.js';

/** A checkpoint file's JSON as it is on disk: neither checked nor upgraded, as loadCheckpoint would. */
export function readCheckpointJson(path: string): Checkpoint {
  return JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
}
