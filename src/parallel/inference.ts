import { availableParallelism } from 'node:os';
import { type ModelConfig, gateCount } from '../engine/config.js';
import { Arena } from '../engine/kernels/arena.js';
import { createKernels, resolveKernels } from '../engine/kernels/index.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import { LanguageModel } from '../engine/model.js';
import { paramLayout } from '../engine/params.js';
import { Stepper, type TokenStepper, generationModel } from '../engine/stepper.js';
import { CONTROL_SIZE, Command, barrier, share } from './shared.js';
import { ThreadGroup } from './threads.js';

/** Where the threads of a batch-1 step find the one model they share, in one arena. */
export interface InferenceSetup {
  config: ModelConfig;
  kernels: KernelsKind;
  workers: number;
  memory: WebAssembly.Memory;
  /** Byte offset of the parameters (Float32 [P]). */
  paramsAt: number;
  /** Byte offset from which the model's buffers were allocated (Arena.replay). */
  modelAt: number;
  /** Byte offset of the control block (Int32 [CONTROL_SIZE]). */
  controlAt: number;
}

/**
 * The batch-1 model of `params`, in an arena of its own with the control block of its threads, and the setup they are
 * started with: no more threads than the hidden units they split.
 */
export function inferenceSetup(
  config: ModelConfig, params: Float32Array, workers: number, kernels: KernelsKind,
): { setup: InferenceSetup; model: LanguageModel; control: Int32Array } {
  const { model, arena, modelAt } = generationModel(config, params, kernels);
  const control = arena.ints(CONTROL_SIZE);
  const setup: InferenceSetup = {
    config, kernels, workers: Math.max(1, Math.min(workers, config.hiddenSize)), memory: arena.memory,
    paramsAt: model.params.byteOffset, modelAt, controlAt: control.byteOffset,
  };
  return { setup, model, control };
}

/**
 * One thread's part of a batch-1 step over the model every thread shares: hidden units
 * [j0, j1) of every layer and rows [v0, v1) of the head, with a barrier after each layer
 * (the next layer needs all of it), after which each thread carries its own units' state.
 */
export class InferenceShard {
  readonly model: LanguageModel;
  private readonly units: [number, number];
  private readonly rows: [number, number];
  private readonly control: Int32Array;

  constructor(private readonly setup: InferenceSetup, private readonly index: number, model?: LanguageModel) {
    const { config, workers } = setup;
    const arena = new Arena(setup.memory);
    if (model) {
      this.model = model;
    } else {
      const params = arena.view(Float32Array, setup.paramsAt, paramLayout(config).total);
      const allocator = arena.replay(setup.modelAt);
      const kernels = createKernels(setup.kernels, arena);
      this.model = new LanguageModel({ config, kernels, params, grads: null, batchSize: 1, seqLen: 1, allocator });
      this.model.prepareGeneration(allocator);
    }
    this.units = share(config.hiddenSize, workers, index);
    this.rows = share(config.vocabSize, workers, index);
    this.control = arena.view(Int32Array, setup.controlAt, CONTROL_SIZE);
  }

  run(command: Command): void {
    const W = this.setup.workers, model = this.model, [j0, j1] = this.units;
    if (command === Command.Advance) {
      for (let k = 0; k < this.setup.config.numLayers; k++) {
        model.stepLayer(k, j0, j1);
        barrier(this.control, W);
        model.carryLayer(k, j0, j1);
      }
      model.stepLogits(this.rows[0], this.rows[1]);
    } else if (command === Command.Reset && this.index === 0) {
      model.resetState();
    }
    barrier(this.control, W);
  }
}

/**
 * The threads of each pool its holder dropped without closing it (a generation left unfinished, neither ended nor
 * `return()`ed), ended once the pool is collected: else they would sleep on, counted as taking their cores, until the process exits.
 */
const droppedPools = new FinalizationRegistry<ThreadGroup>((threads) => {
  threads.close().catch(() => undefined); // no caller is left to tell
});

/** The one-token step split over worker threads by hidden unit: generation on every core. */
export class InferencePool implements TokenStepper {
  private constructor(
    private readonly threads: ThreadGroup, private readonly model: LanguageModel,
    /** The threads it was started for (`start`'s workers): a holder that keeps it idle gives it to a call asking as many. */
    readonly workers: number,
  ) {
    droppedPools.register(this, threads, this);
  }

  get logits(): Float32Array {
    return this.model.logits;
  }

  static async start(config: ModelConfig, params: Float32Array, workers: number, kernels: KernelsKind): Promise<InferencePool> {
    const { setup, model, control } = inferenceSetup(config, params, workers, kernels);
    const threads = await ThreadGroup.start(setup, control, 'infer', new InferenceShard(setup, 0, model));
    return new InferencePool(threads, model, workers);
  }

  /** Whether it can serve another call: not closed, and none of its threads failed. */
  get usable(): boolean {
    return this.threads.usable;
  }

  /** Kept between calls (its threads asleep, not counted by `threadsRunning`), or taken for a call (ThreadGroup.setIdle). */
  setIdle(idle: boolean): void {
    this.threads.setIdle(idle);
  }

  advance(token: number): Float32Array {
    this.model.tokens[0] = token;
    this.threads.post(Command.Advance);
    return this.model.logits;
  }

  probabilities(temperature: number, excluded: number): Float32Array {
    return this.model.nextTokenProbabilities(temperature, excluded);
  }

  reset(): void {
    this.threads.post(Command.Reset);
  }

  close(): Promise<void> {
    droppedPools.unregister(this);
    return this.threads.close();
  }
}

/** A TokenStepper on `workers` threads (1: a plain Stepper on this one). */
export async function createStepper(
  config: ModelConfig, params: Float32Array, workers: number, kernels: KernelsKind = resolveKernels(),
): Promise<TokenStepper> {
  if (workers <= 1) return new Stepper(config, params, kernels);
  return InferencePool.start(config, params, workers, kernels);
}

/**
 * Threads for a batch-1 step by default: one per MULTIPLY_ADDS_PER_THREAD of the step's
 * work, at most every core, and at least MIN_UNITS_PER_THREAD hidden units each. A step costs its threads L + 1
 * barriers; with the WebAssembly kernels the step of a small model (LSTM 2×128: 0.2 M
 * multiply-adds, about 5 µs) is over before threads that wait on each other gain anything,
 * and on a busy machine a thread that waits for a descheduled one loses much more.
 */
export function defaultStepperWorkers(config: ModelConfig): number {
  const byWork = Math.floor(stepMultiplyAdds(config) / MULTIPLY_ADDS_PER_THREAD);
  return Math.max(1, Math.min(availableParallelism(), Math.floor(config.hiddenSize / MIN_UNITS_PER_THREAD), byWork));
}

/** Work that pays for one more thread in a batch-1 step. */
const MULTIPLY_ADDS_PER_THREAD = 1_000_000;
/** The fewest hidden units a thread takes of each layer of a batch-1 step by default. */
const MIN_UNITS_PER_THREAD = 8;

/** Multiply-adds of one batch-1 step: every layer's input and recurrent products, and the head. */
function stepMultiplyAdds(config: ModelConfig): number {
  const { embedDim: E, hiddenSize: H, numLayers: L, vocabSize: V } = config, G = gateCount(config.cell) * H;
  let total = V * H;
  for (let k = 0; k < L; k++) total += G * ((k === 0 ? E : H) + H);
  return total;
}
