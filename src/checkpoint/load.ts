import type { Vocabulary } from '../text/vocab.js';
import { checkpointOf, checkpointVocabulary, modelFromCheckpoint, readCheckpointBytes } from './checkpoint.js';
import type { Checkpoint } from './schema.js';
import type { ModelConfig } from '../engine/config.js';

export interface LoadedModel {
  path: string;
  checkpoint: Checkpoint;
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
}

/**
 * A checkpoint with its weights decoded and its vocabulary rebuilt; every problem is a one-line
 * CheckpointError. `bytes`: the file's, where they were read already (readCheckpointBytes).
 */
export function loadModel(path: string, bytes: Uint8Array = readCheckpointBytes(path)): LoadedModel {
  const checkpoint = checkpointOf(bytes, path);
  const { config, params } = modelFromCheckpoint(checkpoint, path);
  return { path, checkpoint, config, params, vocab: checkpointVocabulary(checkpoint) };
}
