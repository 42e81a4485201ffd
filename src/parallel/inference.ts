import { availableParallelism } from 'node:os';
import type { ModelConfig } from '../engine/config.js';
import { gateCount } from '../engine/config.js';
import { paramLayout } from '../engine/params.js';
import { Stepper } from '../engine/stepper.js';
import { CONTROL_SIZE, Command, barrier, share } from './shared.js';
import { ThreadGroup } from './threads.js';

/** Reads one token and leaves the next token's logits: a Stepper here, or split over threads. */
export interface TokenStepper {
  readonly logits: Float64Array;
  advance(token: number): Float64Array;
  reset(): void;
  close(): Promise<void>;
}

export interface InferenceSetup {
  config: ModelConfig;
  workers: number;
  buffers: {
    weights: SharedArrayBuffer; // Float64 [P]: the stepper's copy of the parameters
    table: SharedArrayBuffer; // Float64 [V, G·H]: layer 0's input projection per token
    floats: SharedArrayBuffer; // Float64: the Stepper's state halves and logits
    stepControl: SharedArrayBuffer; // Int32 [2]: token, parity
    control: SharedArrayBuffer; // Int32 [CONTROL_SIZE]
  };
}

/**
 * One thread's part of a batch-1 step: hidden units [j0, j1) of every layer and rows
 * [v0, v1) of the head, with a barrier after each layer (the next layer needs all of it).
 */
export class InferenceShard {
  private readonly stepper: Stepper;
  private readonly units: [number, number];
  private readonly rows: [number, number];
  private readonly control: Int32Array;

  constructor(private readonly setup: InferenceSetup, private readonly index: number) {
    const { config, workers, buffers } = setup;
    this.stepper = new Stepper(config, new Float32Array(0), {
      weights: new Float64Array(buffers.weights), floats: new Float64Array(buffers.floats),
      control: new Int32Array(buffers.stepControl), table: new Float64Array(buffers.table),
    });
    this.units = share(config.hiddenSize, workers, index);
    this.rows = share(config.vocabSize, workers, index);
    this.control = new Int32Array(buffers.control);
  }

  get logits(): Float64Array {
    return this.stepper.logits;
  }

  run(command: Command): void {
    const W = this.setup.workers;
    if (command === Command.Advance) {
      for (let k = 0; k < this.stepper.numLayers; k++) {
        this.stepper.computeUnits(k, this.units[0], this.units[1]);
        barrier(this.control, W);
      }
      this.stepper.computeLogits(this.rows[0], this.rows[1]);
    } else if (command === Command.Reset && this.index === 0) {
      this.stepper.reset();
    }
    barrier(this.control, W);
  }
}

/** A Stepper's work split over worker threads by hidden unit: generation on every core. */
export class InferencePool implements TokenStepper {
  private constructor(
    private readonly threads: ThreadGroup,
    private readonly local: InferenceShard,
    private readonly stepControl: Int32Array,
  ) {}

  get logits(): Float64Array {
    return this.local.logits;
  }

  static async start(config: ModelConfig, params: Float32Array, workers: number): Promise<InferencePool> {
    const shared = (count: number, bytes = 8) => new SharedArrayBuffer(Math.max(bytes * count, 8));
    const V = config.vocabSize, G = gateCount(config.cell) * config.hiddenSize;
    const setup: InferenceSetup = {
      config,
      workers: Math.max(1, Math.min(workers, config.hiddenSize)),
      buffers: {
        weights: shared(paramLayout(config).total), table: shared(V * G),
        floats: shared(Stepper.memorySize(config)), stepControl: shared(2, 4), control: shared(CONTROL_SIZE, 4),
      },
    };
    const here = new Stepper(config, params);
    new Float64Array(setup.buffers.weights).set(params);
    new Float64Array(setup.buffers.table).set(here.table);
    const local = new InferenceShard(setup, 0);
    const threads = await ThreadGroup.start(setup, 'infer', local);
    return new InferencePool(threads, local, new Int32Array(setup.buffers.stepControl));
  }

  advance(token: number): Float64Array {
    this.stepControl[0] = token;
    this.threads.post(Command.Advance);
    this.stepControl[1] ^= 1;
    return this.logits;
  }

  reset(): void {
    this.threads.post(Command.Reset);
  }

  close(): Promise<void> {
    return this.threads.close();
  }
}

/** A TokenStepper on `workers` threads (1: a plain Stepper on this one). */
export async function createStepper(config: ModelConfig, params: Float32Array, workers: number): Promise<TokenStepper> {
  if (workers <= 1) return new Stepper(config, params);
  return InferencePool.start(config, params, workers);
}

/** Threads for a batch-1 step by default: every core, leaving each at least 8 hidden units
 * (measured: 2 threads sample GRU 2×64 and 2×96 1.7–1.9× as fast as one; 16 threads still
 * beat 8 on LSTM 2×128, 8 units each). */
export function defaultStepperWorkers(config: ModelConfig): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(config.hiddenSize / 8)));
}
