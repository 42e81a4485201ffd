import { checkPositiveInteger, SettingError } from '../input/settings.js';
import { documentEnds } from './corpus.js';
import type { TokenArray } from './tokens.js';
import { grouped, plural } from '../input/counts.js';
import { EOS_TOKEN, TOKEN_UNITS, type TextLevel, tokenCount } from './vocab.js';

/**
 * Training batches as char-rnn / torch-rnn cut them: the stream is split into B contiguous
 * rows of `rowLength` tokens; step s feeds columns s·T … s·T+T−1 of every row and targets the
 * tokens one to the right, so the hidden state a step leaves is the right start for the next.
 * Per epoch N − B·stepsPerEpoch·T tokens go unused (each row's tail past its last full step).
 */
export class BatchSource {
  readonly rowLength: number;
  readonly stepsPerEpoch: number;

  constructor(
    private readonly stream: TokenArray,
    readonly batchSize: number,
    readonly seqLen: number,
    level: TextLevel = 'char',
  ) {
    checkPositiveInteger('batchSize', batchSize);
    checkPositiveInteger('seqLen', seqLen);
    this.rowLength = rowLength(stream.length, batchSize);
    this.stepsPerEpoch = stepsPerEpoch(stream.length, batchSize, seqLen);
    if (this.stepsPerEpoch < 1) {
      const ends = documentEnds(stream);
      throw new SettingError('batch', batchSize, (name) =>
        `the training split is too short for ${name('batch')} ${batchSize} ${name('seqLen')} ${seqLen}: ` +
          `one batch needs ${grouped(batchSize * seqLen + 1)} tokens and it has ${grouped(stream.length)}: ` +
          `${tokenCount(stream.length - ends, level)} of text and ${grouped(ends)} ${EOS_TOKEN}, the token that ends each document and opens the next; ` +
          `use a smaller ${name('batch')} or ${name('seqLen')}, a smaller ${name('valFrac')}, or more text`);
    }
  }

  /** Writes step `step`'s inputs and targets, each `[B·T]` row-major (index b·T + t). */
  fill(step: number, inputs: Int32Array, targets: Int32Array): void {
    const { batchSize: B, seqLen: T, stream } = this;
    checkIndex('step', step, this.stepsPerEpoch);
    checkLength(inputs, targets, B * T);
    copyColumns(stream, this.rowLength, B, step * T, T, inputs, targets);
  }
}

/**
 * Validation batches: the split, deterministically, with the state carried from chunk
 * to chunk. The stream is cut into `rows` = min(maxRows, ⌊(N−1)/T⌋) contiguous rows of equal
 * length (at least one row when N ≥ 2, so rows are at least T long when the split allows),
 * then into `chunks` of T columns, the last one shorter. Of the N − 1 predictions the split
 * offers, (N − 1) mod rows are dropped — fewer than `rows`.
 */
export class EvalBatches {
  readonly rows: number;
  readonly rowLength: number;
  readonly chunks: number;

  constructor(
    private readonly stream: TokenArray,
    maxRows: number,
    readonly seqLen: number,
  ) {
    checkPositiveInteger('maxRows', maxRows);
    checkPositiveInteger('seqLen', seqLen);
    const positions = Math.max(0, stream.length - 1);
    this.rows = positions === 0 ? 0 : Math.max(1, Math.min(maxRows, Math.floor(positions / seqLen)));
    this.rowLength = this.rows === 0 ? 0 : Math.floor(positions / this.rows);
    this.chunks = Math.ceil(this.rowLength / seqLen);
  }

  /** Number of predictions one pass scores: the denominator of the mean validation loss. */
  get predictions(): number {
    return this.rows * this.rowLength;
  }

  /**
   * Writes chunk `chunk`'s inputs and targets, each `[rows·Tc]` row-major (index b·Tc + t),
   * and returns its length Tc (T, or less for the last chunk).
   */
  fill(chunk: number, inputs: Int32Array, targets: Int32Array): number {
    const { rows, seqLen: T, stream } = this;
    checkIndex('chunk', chunk, this.chunks);
    const Tc = Math.min(T, this.rowLength - chunk * T);
    checkLength(inputs, targets, rows * Tc);
    copyColumns(stream, this.rowLength, rows, chunk * T, Tc, inputs, targets);
    return Tc;
  }
}

/** Tokens of each of B rows of a training stream of `tokens`: targets run one past the inputs, so the rows share N − 1 input positions. */
function rowLength(tokens: number, batchSize: number): number {
  return Math.floor(Math.max(0, tokens - 1) / batchSize);
}

/** Steps in an epoch of a training stream of `tokens` at batch B and window T (BatchSource's). */
export function stepsPerEpoch(tokens: number, batchSize: number, seqLen: number): number {
  return Math.floor(rowLength(tokens, batchSize) / seqLen);
}

/**
 * Refuses a validation split of `tokens` tokens, held out by `valFrac` above 0, too short to
 * score: one prediction takes two tokens, so `EvalBatches` has no row to make of fewer.
 */
export function checkValidationSplit(tokens: number, valFrac: number, level: TextLevel): void {
  if (valFrac === 0 || tokens >= 2) return;
  throw new SettingError('valFrac', valFrac, (name) =>
    `${name('valFrac')} ${valFrac} leaves only ${validationCount(tokens, level)}, too few to score: ` +
      `raise ${name('valFrac')}, use ${name('valFrac')} 0 for none, or give more text`);
}

/**
 * The warning for a validation split that scores fewer predictions than one training step,
 * B·T: its mean loss is noisier than a single step's, so the best checkpoint is picked by
 * chance; null where it scores as many or more. The split `val` is told by its text's tokens,
 * its `<EOS>` apart, as the run's data line counts it.
 */
export function smallValidationWarning(
  val: TokenArray, evalBatches: EvalBatches, valFrac: number, batchSize: number, seqLen: number, level: TextLevel,
): SettingError | null {
  const stepPredictions = batchSize * seqLen;
  if (evalBatches.predictions >= stepPredictions) return null;
  const tokens = val.length - documentEnds(val);
  return new SettingError('valFrac', valFrac, (name) =>
    `${name('valFrac')} ${valFrac} leaves ${validationCount(tokens, level)}, fewer than the ` +
      `${grouped(stepPredictions)} a training step scores (${name('batch')} ${batchSize} × ${name('seqLen')} ${seqLen}): ` +
      `its loss, and so which checkpoint is best, is mostly noise; raise ${name('valFrac')}, or give 0 for none`);
}

/** `1 validation character`, `2,636 validation tokens`. */
function validationCount(tokens: number, level: TextLevel): string {
  const unit = TOKEN_UNITS[level];
  return `${grouped(tokens)} validation ${plural(tokens, unit.one, unit.many)}`;
}

/** Refuses an index (a step, a chunk) outside 0 … count − 1. */
function checkIndex(name: string, index: number, count: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= count) throw new RangeError(`${name} ${index} is outside 0..${count - 1}`);
}

function checkLength(inputs: Int32Array, targets: Int32Array, needed: number): void {
  if (inputs.length < needed || targets.length < needed) {
    throw new RangeError(`inputs and targets need ${needed} entries, got ${inputs.length} and ${targets.length}`);
  }
}

/**
 * inputs[b·width + t] = row b's token at column start + t, targets the one after it, for
 * `rows` rows of `rowLength` laid end to end in the stream.
 */
function copyColumns(
  stream: TokenArray, rowLength: number, rows: number, start: number, width: number, inputs: Int32Array, targets: Int32Array,
): void {
  for (let b = 0; b < rows; b++) {
    const from = b * rowLength + start;
    for (let t = 0; t < width; t++) {
      inputs[b * width + t] = stream[from + t]!;
      targets[b * width + t] = stream[from + t + 1]!;
    }
  }
}
