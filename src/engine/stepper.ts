import type { ModelConfig } from './config.js';
import { Arena } from './kernels/arena.js';
import { createKernels } from './kernels/index.js';
import type { Kernels } from './kernels/kernels.js';
import type { KernelsKind } from './kernels/kinds.js';
import { LanguageModel } from './model.js';
import { paramLayout } from './params.js';

/**
 * A copy of a model's parameters in an arena of its own, prepared for generation
 * (LanguageModel.prepareGeneration) once for any number of models of one sequence on this
 * thread: each takes a state of its own from the arena and reads the parameters, the packed
 * weights and layer 0's input table that the first one prepared (Arena.replay). Memory is
 * the weights once and a state a model; as an arena never frees, a caller that makes models
 * for calls that come and go keeps them for the next (api/model.ts).
 */
export class GenerationWeights {
  readonly arena: Arena;
  readonly kernels: Kernels;
  /** The parameters every model reads (Stepper.setParams writes them for all). */
  readonly params: Float32Array;
  /** Where the first model's generation buffers start, which the others replay; -1 before it. */
  private preparedAt = -1;

  constructor(readonly config: ModelConfig, params: Float32Array, kernels?: KernelsKind) {
    this.arena = new Arena(undefined, Float32Array.BYTES_PER_ELEMENT * params.length);
    this.kernels = createKernels(kernels, this.arena);
    this.params = this.arena.floats(paramLayout(config).total);
    this.params.set(params);
  }

  /** A model of one sequence read one token at a time (B = T = 1), forward only, with a state of its own. */
  model(): LanguageModel {
    const { config, kernels, params } = this;
    const model = new LanguageModel({ config, kernels, params, grads: null, batchSize: 1, seqLen: 1 });
    if (this.preparedAt < 0) {
      this.preparedAt = this.arena.used;
      model.prepareGeneration();
    } else {
      model.prepareGeneration(this.arena.replay(this.preparedAt));
    }
    return model;
  }
}

/**
 * A model of one sequence read one token at a time over a copy of `params` of its own
 * (GenerationWeights). `modelAt` is where the model's buffers start in the arena: threads that
 * share its step build the same model over them from there (Arena.replay).
 */
export function generationModel(
  config: ModelConfig, params: Float32Array, kernels?: KernelsKind,
): { model: LanguageModel; arena: Arena; modelAt: number } {
  const weights = new GenerationWeights(config, params, kernels);
  const modelAt = weights.arena.used;
  return { model: weights.model(), arena: weights.arena, modelAt };
}

/** Reads one token and leaves the next token's logits: what sampling and scoring drive. */
export interface TokenStepper {
  readonly logits: Float32Array;
  /** Reads `token` (advancing the state) and returns the logits of the token after it. */
  advance(token: number): Float32Array;
  /**
   * The distribution of the token after the last read, at `temperature`, token `excluded` (when
   * ≥ 0) given none (LanguageModel.nextTokenProbabilities).
   */
  probabilities(temperature: number, excluded: number): Float32Array;
  /** Back to the zero state. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * One sequence, one token at a time, on this thread: the model's own layers run with a batch
 * of one and a window of one (as torch-rnn samples with its layers' forward at T = 1), over
 * GenerationWeights of its own or shared with other steppers. A batch of one makes every
 * product a matrix-vector product, over weights packed for it once; layer 0's input
 * projection is read from a table built once.
 * parallel/inference.ts cuts the same step by hidden unit across threads.
 */
export class Stepper implements TokenStepper {
  readonly config: ModelConfig;
  readonly model: LanguageModel;
  private readonly weights: GenerationWeights;
  /** What `save` kept: a model of one row that only holds a state and its logits (spreadFrom's source). */
  private saved: LanguageModel | null = null;

  /** A stepper over a copy of `params` of its own, or over `weights` that other steppers share. */
  constructor(config: ModelConfig, params: Float32Array, kernels?: KernelsKind);
  constructor(weights: GenerationWeights);
  constructor(source: ModelConfig | GenerationWeights, params?: Float32Array, kernels?: KernelsKind) {
    this.weights = source instanceof GenerationWeights ? source : new GenerationWeights(source, params!, kernels);
    this.config = this.weights.config;
    this.model = this.weights.model();
  }

  get logits(): Float32Array {
    return this.model.logits;
  }

  /**
   * Takes new parameters (a training run's, at each evaluation) and starts from the zero state;
   * every stepper that shares its weights steps with them from then on.
   */
  setParams(params: Float32Array): void {
    this.weights.params.set(params);
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

  probabilities(temperature: number, excluded: number): Float32Array {
    return this.model.nextTokenProbabilities(temperature, excluded);
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
      config: this.config, kernels: this.weights.kernels, params: this.weights.params, grads: null, batchSize: 1, seqLen: 1,
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
