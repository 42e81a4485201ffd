import { createHash } from 'node:crypto';
import type { ParamLayout } from '../engine/params.js';
import { paramLayout } from '../engine/params.js';
import { UNK } from '../text/vocab.js';
import { CheckpointError, TensorValueError } from './errors.js';
import { type EncodedTensors, carriedStateLayout, decodeTensors } from './tensors.js';

/**
 * The largest weight a trained model can hold: Adam moves a weight by about lr per step, so even
 * a million steps at lr 1 stay below it. Beyond it, a weight is damage (or a diverged run).
 */
export const WEIGHT_LIMIT = 1e6;
/** What a refusal of a weight beyond WEIGHT_LIMIT, or not finite, says is valid. */
export const WEIGHT_RULE = `expected a weight within ±${WEIGHT_LIMIT}`;

/** The parts of a checkpoint its meaning checks read. */
export interface CheckedParts {
  /** `training.level`: the text level where a checkpoint records one; the code-point order is the character level's. */
  config: { model: Parameters<typeof paramLayout>[0]; training: { batchSize: number; level?: string | undefined } };
  vocab: readonly string[];
  weights: EncodedTensors;
  optimizer: { m: EncodedTensors | null; v: EncodedTensors | null };
  training: { step: number; carried?: EncodedTensors | null | undefined };
  history: readonly { step: number }[];
  sha256?: string | undefined;
}

/**
 * SHA-256 (hex) of a checkpoint's JSON without its own `sha256`, keys in the order written
 * (schema order): a flipped character, a deleted entry or an edited value anywhere changes it.
 */
export function contentChecksum(ckpt: object): string {
  const { sha256: _, ...content } = ckpt as { sha256?: string };
  return createHash('sha256').update(JSON.stringify(content)).digest('hex');
}

/** How a checkpoint file rnn writes ends, after its content less the closing `}`: the checksum's field, the `}`, a line break. */
const checksumTail = (checksum: string): string => `,"sha256":"${checksum}"}\n`;

/** The bytes of a checksumTail: a SHA-256 is 64 hex digits. */
const CHECKSUM_TAIL_BYTES = checksumTail('0'.repeat(64)).length;

/**
 * A checkpoint's file as rnn writes it (checkpointBytes): its content's JSON in UTF-8, the checksum of those bytes
 * written before the closing `}` as the last field (checksumTail).
 */
export function checksummedFile(contentJson: string): Buffer {
  const content = Buffer.from(contentJson);
  const checksum = createHash('sha256').update(content).digest('hex');
  return Buffer.concat([content.subarray(0, -1), Buffer.from(checksumTail(checksum))]);
}

/**
 * The checksum of a checkpoint file's bytes where they are its content as checksummedFile wrote it, to the byte (a
 * checksumTail at its end, whose checksum the bytes before it and the closing `}` hash to); else null. The content's JSON
 * is hashed where it lies, not written again from the parsed file (contentChecksum): on a file rnn wrote, the same text,
 * in a fraction of the time.
 */
export function writtenChecksum(bytes: Uint8Array): string | null {
  const cut = bytes.length - CHECKSUM_TAIL_BYTES;
  const tail = Buffer.from(bytes.subarray(Math.max(0, cut))).toString('latin1');
  const claimed = /[0-9a-f]{64}/.exec(tail)?.[0];
  if (claimed === undefined || tail !== checksumTail(claimed)) return null;
  return createHash('sha256').update(bytes.subarray(0, cut)).update('}').digest('hex') === claimed ? claimed : null;
}

/**
 * Whether `sha256` is the checksum of the content: of the file's `bytes` where rnn wrote them (writtenChecksum), else
 * of `written`, the parsed file, written again (contentChecksum).
 */
function checksumHolds(sha256: string, written: object, bytes: Uint8Array | undefined): boolean {
  return (bytes !== undefined && writtenChecksum(bytes) === sha256) || contentChecksum(written) === sha256;
}

/** A value of a tensor, named as its file names it (e.g. `weights.tensors["head.bias"][3]`). */
type ValueName = (tensor: string, index: number) => string;

/**
 * What a tensor's values must be, and the index of the first that is not (-1 where none is): each rule a loop of its own,
 * its test inline, where one loop calling a rule's test for each value runs several times slower.
 */
interface ValueRule {
  says: string;
  firstUnsound(values: Float32Array): number;
}

const WEIGHT: ValueRule = {
  says: WEIGHT_RULE,
  firstUnsound(values) {
    for (let i = 0; i < values.length; i++) if (!(Math.abs(values[i]!) <= WEIGHT_LIMIT)) return i;
    return -1;
  },
};

const FINITE: ValueRule = {
  says: 'expected a finite number',
  firstUnsound(values) {
    for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return i;
    return -1;
  },
};

const FINITE_NOT_NEGATIVE: ValueRule = {
  says: 'expected a finite number >= 0',
  firstUnsound(values) {
    for (let i = 0; i < values.length; i++) if (!(values[i]! >= 0 && values[i]! < Infinity)) return i;
    return -1;
  },
};

/** The first value of a flat buffer in `layout` that breaks `rule`, as its name, its value and what the rule says; null when none does. */
function valueFault(layout: ParamLayout, values: Float32Array, at: ValueName, rule: ValueRule): string | null {
  const i = rule.firstUnsound(values);
  if (i < 0) return null;
  const spec = layout.specs.find((tensor) => i < tensor.offset + tensor.size)!;
  return `${at(spec.name, i - spec.offset)} is ${values[i]}, ${rule.says}`;
}

/** The first weight no training could have written (beyond ±WEIGHT_LIMIT, or not finite); null when all are sound. */
export function weightFault(layout: ParamLayout, weights: Float32Array, at: ValueName): string | null {
  return valueFault(layout, weights, at, WEIGHT);
}

/** The first character of a character-level vocabulary out of code-point order (after the specials), as `field`[id]; null when none is. */
export function vocabOrderFault(vocab: readonly string[], level: string | undefined, field: string): string | null {
  for (let id = UNK + 2; level !== 'word' && id < vocab.length; id++) {
    if (vocab[id - 1]!.codePointAt(0)! >= vocab[id]!.codePointAt(0)!) {
      return `${field}[${id}] ${JSON.stringify(vocab[id])} comes after ${field}[${id - 1}] ${JSON.stringify(vocab[id - 1])}, ` +
        'expected the characters in code-point order';
    }
  }
  return null;
}

/**
 * The first value of the tensors that no training could have written (not finite; a weight beyond
 * ±WEIGHT_LIMIT; a negative second moment), as the field and what is wrong; null when all are sound.
 */
function tensorValueFault(ckpt: CheckedParts, source: string): string | null {
  const layout = paramLayout(ckpt.config.model);
  const scan = (encoded: EncodedTensors | null | undefined, field: string, rule: ValueRule, tensorLayout = layout): string | null => {
    if (!encoded) return null;
    const values = decodeTensors(tensorLayout, encoded, source, field);
    return valueFault(tensorLayout, values, (name, i) => `${field}.tensors[${JSON.stringify(name)}][${i}]`, rule);
  };
  return scan(ckpt.weights, 'weights', WEIGHT) ??
    scan(ckpt.optimizer.m, 'optimizer.m', FINITE) ??
    scan(ckpt.optimizer.v, 'optimizer.v', FINITE_NOT_NEGATIVE) ??
    scan(ckpt.training.carried, 'training.carried', FINITE, carriedStateLayout(ckpt.config.model, ckpt.config.training.batchSize));
}

/**
 * What a checkpoint's fields mean, beyond their types: every tensor value one that training
 * writes, the content as `written` (the file's JSON, before any field read under an older
 * name was renamed) matching its checksum (when it has one: older checkpoints do not), the
 * characters of a character-level vocabulary in code-point order, and the history's steps
 * ascending and no later than the training step.
 */
export function checkMeaning(ckpt: CheckedParts, source: string, written: object, bytes?: Uint8Array): void {
  const fail = (message: string): never => {
    throw new CheckpointError(`${source}: ${message}`);
  };
  const order = vocabOrderFault(ckpt.vocab, ckpt.config.training.level, 'vocab');
  if (order !== null) fail(order);
  let previous = -1;
  ckpt.history.forEach((entry, i) => {
    if (entry.step <= previous) fail(`history[${i}].step is ${entry.step}, expected more than history[${i - 1}].step ${previous}`);
    if (entry.step > ckpt.training.step) fail(`history[${i}].step is ${entry.step}, later than training.step ${ckpt.training.step}`);
    previous = entry.step;
  });
  const fault = tensorValueFault(ckpt, source);
  if (fault !== null) throw new TensorValueError(`${source}: ${fault}: the file is damaged`);
  if (ckpt.sha256 !== undefined && !checksumHolds(ckpt.sha256, written, bytes)) {
    fail('sha256 does not match the content: the file is damaged or was edited');
  }
}
