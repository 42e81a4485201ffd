import type { EngineOptions, TrainingEngine } from './engine.js';
import { LocalEngine } from './local.js';

/** Placeholder until the worker pool lands: runs on the calling thread. */
export const PoolEngine = {
  async start(options: EngineOptions): Promise<TrainingEngine> {
    return new LocalEngine({ ...options, workers: 1 });
  },
};
