import type { ModelConfig } from '../../src/engine/config.js';
import { Arena } from '../../src/engine/kernels/arena.js';
import { availableKernels, createKernels } from '../../src/engine/kernels/index.js';
import { KERNELS_KINDS, type KernelsKind } from '../../src/engine/kernels/kinds.js';
import { LanguageModel } from '../../src/engine/model.js';
import { paramLayout } from '../../src/engine/params.js';

/**
 * The kernel implementations a test runs on: RNN_KERNELS alone when it names one (so
 * `RNN_KERNELS=js npm test` and `RNN_KERNELS=wasm npm test` each run one), else every one
 * this machine runs.
 */
export function kernelKinds(): KernelsKind[] {
  const chosen = process.env['RNN_KERNELS'];
  if ((KERNELS_KINDS as readonly string[]).includes(chosen ?? '')) return [chosen as KernelsKind];
  return availableKernels();
}

/**
 * A model on `kind` kernels in an arena of its own, its parameters copied from `params`;
 * `inputTable` as ModelOptions has it (by default the model's own choice).
 */
export function modelOn(
  kind: KernelsKind, config: ModelConfig, params: ArrayLike<number>,
  shape: { grads: boolean; batchSize: number; seqLen: number; inputTable?: boolean },
): LanguageModel {
  const kernels = createKernels(kind, new Arena());
  const total = paramLayout(config).total;
  const own = kernels.arena.floats(total);
  own.set(params);
  return new LanguageModel({
    config, kernels, params: own, grads: shape.grads ? kernels.arena.floats(total) : null, batchSize: shape.batchSize, seqLen: shape.seqLen,
    inputTable: shape.inputTable,
  });
}
