import type { ModelConfig } from './config.js';
import { Arena } from './kernels/arena.js';
import { createKernels } from './kernels/index.js';
import type { KernelsKind } from './kernels/kinds.js';
import { LanguageModel } from './model.js';
import { paramLayout } from './params.js';

/**
 * A model of one sequence read one token at a time (B = T = 1), forward only, over a copy of
 * `params` in an arena of its own, prepared for generation (LanguageModel.prepareGeneration).
 * `modelAt` is where the model's buffers start in the arena: threads that share its step
 * build the same model over them from there (Arena.replay).
 */
export function generationModel(
  config: ModelConfig, params: Float32Array, kernels?: KernelsKind,
): { model: LanguageModel; arena: Arena; modelAt: number } {
  const arena = new Arena(undefined, Float32Array.BYTES_PER_ELEMENT * params.length);
  const copy = arena.floats(paramLayout(config).total);
  copy.set(params);
  const modelAt = arena.used;
  const model = new LanguageModel({ config, kernels: createKernels(kernels, arena), params: copy, grads: null, batchSize: 1, seqLen: 1 });
  model.prepareGeneration();
  return { model, arena, modelAt };
}

/** Reads one token and leaves the next token's logits: what sampling and scoring drive. */
export interface TokenStepper {
  readonly logits: Float32Array;
  /** Reads `token` (advancing the state) and returns the logits of the token after it. */
  advance(token: number): Float32Array;
  /** Back to the zero state. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * One sequence, one token at a time, on this thread: the model's own layers run with a batch
 * of one and a window of one (as torch-rnn samples with its layers' forward at T = 1), over a
 * copy of the parameters in an arena of its own. A batch of one makes every product a
 * matrix-vector product, over weights packed for it once; layer 0's input projection is read
 * from a table built once.
 * parallel/inference.ts cuts the same step by hidden unit across threads.
 */
export class Stepper implements TokenStepper {
  readonly model: LanguageModel;
  private readonly params: Float32Array;
  /** What `save` kept: a model of one row that only holds a state and its logits (spreadFrom's source). */
  private saved: LanguageModel | null = null;

  constructor(readonly config: ModelConfig, params: Float32Array, kernels?: KernelsKind) {
    this.model = generationModel(config, params, kernels).model;
    this.params = this.model.params;
  }

  get logits(): Float32Array {
    return this.model.logits;
  }

  /** Takes new parameters (a training run's, at each evaluation) and starts from the zero state. */
  setParams(params: Float32Array): void {
    this.params.set(params);
    this.model.prepareGeneration();
    this.reset();
  }

  advance(token: number): Float32Array {
    const model = this.model, H = this.config.hiddenSize;
    model.tokens[0] = token;
    for (let k = 0; k < this.config.numLayers; k++) {
      model.stepLayer(k, 0, H);
      model.carryLayer(k, 0, H);
    }
    model.stepLogits(0, this.config.vocabSize);
    return model.logits;
  }

  reset(): void {
    this.model.resetState();
  }

  /**
   * Keeps the state and the logits it left, for `restore` to come back to, to the bit: several
   * samples of one prime read it once (generate/sample.ts). The next `save` replaces it.
   */
  save(): void {
    this.saved ??= new LanguageModel({
      config: this.config, kernels: this.model.kernels, params: this.params, grads: null, batchSize: 1, seqLen: 1,
    });
    this.saved.spreadFrom(this.model);
  }

  /** Back to the state and logits that `save` kept. */
  restore(): void {
    if (this.saved === null) throw new Error('restore needs a state that save kept');
    this.model.spreadFrom(this.saved);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
