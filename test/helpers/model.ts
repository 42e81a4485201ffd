import { Model } from '../../src/api/index.js';
import type { ModelConfig } from '../../src/engine/config.js';
import type { KernelsKind } from '../../src/engine/kernels/kinds.js';
import type { Vocabulary } from '../../src/text/vocab.js';

/** A library model of `config` over `vocab` with these weights, on `kernels`, as loadModel would make it of a checkpoint (none on disk). */
export function modelOf(config: ModelConfig, params: Float32Array, vocab: Vocabulary, kernels: KernelsKind = 'js', path = 'test'): Model {
  return new Model({ path, checkpoint: undefined as never, config, params, vocab }, { kernels });
}
