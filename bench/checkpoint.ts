/**
 * A model's checkpoint saved as a training run saves one (checked, checksummed and written: `saveCheckpoint`) and loaded
 * as `rnn sample` loads one (`loadCheckpoint`), in this checkout and in --against's.
 */
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { importedCheckpoint } from '../src/checkpoint/convert.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { removedWithBench } from './ending.js';

/** A checkpoint of `config` over `tokens` as `rnn import` makes one: its weights drawn, Adam's moments at zero. */
export function benchCheckpoint(config: ModelConfig, tokens: string[]): Checkpoint {
  const state = { config, vocab: tokens, level: 'char' as const, wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: initParams(config, new Rng(4)) };
  return importedCheckpoint(state, ['rnn', 'import', 'bench']);
}

/** A checkout's save and load of a checkpoint. */
export interface CheckpointSide {
  saveCheckpoint: typeof saveCheckpoint;
  loadCheckpoint: typeof loadCheckpoint;
}

export interface CheckpointTimes {
  /** The file's size. */
  bytes: number;
  /** The best of the rounds, in milliseconds: the save, and the load of the file it wrote. */
  saveMs: number;
  loadMs: number;
}

/**
 * The save and the load of `checkpoint` (benchCheckpoint), on each side in turn, `rounds` times: the best of each side's
 * rounds, after one to let the JIT settle.
 */
export function checkpointTimes(checkpoint: Checkpoint, sides: CheckpointSide[], rounds: number): CheckpointTimes[] {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-bench-checkpoint-')), scratch = removedWithBench(dir);
  const best = sides.map(() => ({ bytes: 0, saveMs: Infinity, loadMs: Infinity }));
  try {
    for (let round = 0; round <= rounds; round++) {
      sides.forEach((side, i) => {
        const path = join(dir, `side-${i}.json`);
        let start = performance.now();
        side.saveCheckpoint(path, checkpoint);
        const saveMs = performance.now() - start;
        start = performance.now();
        side.loadCheckpoint(path);
        const loadMs = performance.now() - start;
        if (round === 0) return;
        best[i] = { bytes: statSync(path).size, saveMs: Math.min(best[i]!.saveMs, saveMs), loadMs: Math.min(best[i]!.loadMs, loadMs) };
      });
    }
  } finally {
    scratch.removed();
  }
  return best;
}
