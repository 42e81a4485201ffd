import { type ModelConfig, gateCount } from '../engine/config.js';
import { grouped } from '../input/counts.js';
import { carriedStateLayout } from './tensors.js';

/** V8's longest string (2^29 − 24 UTF-16 units): a checkpoint is written as one JSON string. */
export const MAX_CHECKPOINT_CHARS = 2 ** 29 - 24;
/** Room kept in a checkpoint's estimate for everything but its tensors: config, vocabulary, history, corpus. */
const CHECKPOINT_OVERHEAD_CHARS = 16 << 20;

const MIB = 1 << 20;
/** Bytes (or characters) as a rounded-up count of MiB, as size limits are quoted in messages. */
export const mib = (bytes: number): string => `${grouped(Math.ceil(bytes / MIB))} MiB`;
/** Bytes as a rounded-up count of KiB below a MiB, else of MiB: a disk's free space, a small model's checkpoints. */
export const diskSize = (bytes: number): string => (bytes < MIB ? `${grouped(Math.ceil(bytes / 1024))} KiB` : mib(bytes));

/**
 * The sizes of a model's tensors as [values per tensor, tensors of that size], in arithmetic
 * alone: a config read from a file may claim any number of layers, and `paramLayout` would
 * build every one of them. With G = gates × H: the embedding V×E; layer 0's input weights G×E;
 * the other layers' input weights and every layer's recurrent weights, G×H (L − 1 and L); two
 * biases of G a layer; the head V×H and its bias V.
 */
function tensorSizes(model: ModelConfig): [number, number][] {
  const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = model;
  const G = gateCount(model.cell) * H;
  return [[V * E, 1], [G * E, 1], [G * H, 2 * L - 1], [G, 2 * L], [V * H, 1], [V, 1]];
}

/** The model's parameter count, as `paramLayout(model).total`, without building the layout. */
export function parameterCount(model: ModelConfig): number {
  return tensorSizes(model).reduce((sum, [size, count]) => sum + size * count, 0);
}

/**
 * Characters of the JSON checkpoint's tensors: each tensor's float32 bytes as base64 (4
 * characters per 3 bytes), for the weights, Adam's two moments and the carried state.
 */
function tensorChars(model: ModelConfig, settings: { optimizer: string; batch: number }): number {
  const base64 = (floats: number): number => 4 * Math.ceil((4 * floats) / 3);
  const copies = settings.optimizer === 'adam' ? 3 : 1;
  const chars = tensorSizes(model).reduce((sum, [size, count]) => sum + copies * count * base64(size), 0);
  return chars + base64(carriedStateLayout(model, settings.batch).total);
}

/** Room in a checkpoint file for its config, its command line and a few hundred evaluations' history. */
const CHECKPOINT_RECORD_BYTES = 64 << 10;

/**
 * Bytes of a run's checkpoint file, for the disk it is written to: its tensors, and beside them
 * the vocabulary, the corpus and the history so far, with room for the rest. (`checkpointChars`
 * is the bound on what any checkpoint of the model may take, records unknown.)
 */
export function checkpointFileBytes(
  model: ModelConfig, settings: { optimizer: string; batch: number },
  records: { vocab: readonly string[]; corpus: unknown; history: readonly unknown[] },
): number {
  return tensorChars(model, settings) + Buffer.byteLength(JSON.stringify(records)) + CHECKPOINT_RECORD_BYTES;
}

/**
 * Bytes of checkpoint a save builds, checks, checksums and writes each second, before a run has
 * timed one of its own: 52 to 95 MB/s were measured (2-core Zen 5, checkpoints of 22 and 40 MB),
 * and 10 to 18 MB/s on a loaded 2-core machine (47 MB), so a run whose closing saves this puts at a
 * notable share of its --time times a save early (`EARLY_SAVE_SHARE`).
 */
const CHECKPOINT_BYTES_PER_SECOND = 40e6;

/**
 * The share of a run's --time above which the closing saves, as `CHECKPOINT_BYTES_PER_SECOND`
 * estimates them, are worth a save timed after the first step: an estimate 2 to 4× short then
 * ends the run past its --time by a few percent.
 */
export const EARLY_SAVE_SHARE = 0.01;

/** About how long a save of a checkpoint of `bytes` takes: at `bytesPerSecond`, a rate the run timed, else the estimate. */
export function checkpointWriteSeconds(bytes: number, bytesPerSecond: number | null = null): number {
  return bytes / (bytesPerSecond ?? CHECKPOINT_BYTES_PER_SECOND);
}

/** The most characters the JSON checkpoint of this model takes: its tensors, and room for the rest. */
export function checkpointChars(model: ModelConfig, settings: { optimizer: string; batch: number }): number {
  return tensorChars(model, settings) + CHECKPOINT_OVERHEAD_CHARS;
}

/**
 * The largest n from 0 to `max` for which `fits(n)` holds, where it holds for every smaller n
 * whenever it holds for a larger one (a binary search); 0 when it holds for none above 0.
 */
export function largestThatFits(max: number, fits: (n: number) => boolean): number {
  let low = 0, high = max;
  while (low < high) {
    const mid = Math.ceil((low + high) / 2);
    if (fits(mid)) low = mid;
    else high = mid - 1;
  }
  return low;
}

/**
 * The largest hidden size, at most `model.hiddenSize`, for which `fits` holds (it holds for
 * smaller sizes whenever it holds for a larger one); 0 when none does.
 */
export function largestHidden(model: ModelConfig, fits: (model: ModelConfig) => boolean): number {
  return largestThatFits(model.hiddenSize, (hiddenSize) => fits({ ...model, hiddenSize }));
}
