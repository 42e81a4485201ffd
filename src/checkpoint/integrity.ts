import { createHash } from 'node:crypto';
import type { ParamLayout } from '../engine/params.js';
import { paramLayout } from '../engine/params.js';
import { UNK } from '../text/vocab.js';
import { CheckpointError } from './errors.js';
import { type EncodedTensors, carriedStateLayout, decodeTensors } from './tensors.js';

/**
 * The largest weight a trained model can hold: Adam moves a weight by about lr per step, so even
 * a million steps at lr 1 stay below it. Beyond it, a weight is damage (or a diverged run).
 */
export const WEIGHT_LIMIT = 1e6;

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

/**
 * The first value of the tensors that no training could have written (not finite; a weight beyond
 * ±WEIGHT_LIMIT; a negative second moment), as the field and what is wrong; null when all are sound.
 */
export function tensorValueFault(ckpt: CheckedParts, source: string): string | null {
  const layout = paramLayout(ckpt.config.model);
  const scan = (encoded: EncodedTensors | null | undefined, field: string, sound: (x: number) => boolean, rule: string,
    tensorLayout: ParamLayout = layout): string | null => {
    if (!encoded) return null;
    const values = decodeTensors(tensorLayout, encoded, source, field);
    for (const spec of tensorLayout.specs) {
      for (let i = spec.offset; i < spec.offset + spec.size; i++) {
        const x = values[i]!;
        if (!sound(x)) return `${field}.tensors[${JSON.stringify(spec.name)}][${i - spec.offset}] is ${x}, ${rule}`;
      }
    }
    return null;
  };
  const finite = 'expected a finite number';
  return scan(ckpt.weights, 'weights', (x) => Math.abs(x) <= WEIGHT_LIMIT, `expected a weight within ±${WEIGHT_LIMIT}`) ??
    scan(ckpt.optimizer.m, 'optimizer.m', Number.isFinite, finite) ??
    scan(ckpt.optimizer.v, 'optimizer.v', (x) => Number.isFinite(x) && x >= 0, 'expected a finite number >= 0') ??
    scan(ckpt.training.carried, 'training.carried', Number.isFinite, finite, carriedStateLayout(ckpt.config.model, ckpt.config.training.batchSize));
}

/**
 * What a checkpoint's fields mean, beyond their types: every tensor value one that training
 * writes, the content as `written` (the file's JSON, before any field read under an older
 * name was renamed) matching its checksum (when it has one: older checkpoints do not), the
 * characters of a character-level vocabulary in code-point order, and the history's steps
 * ascending and no later than the training step.
 */
export function checkMeaning(ckpt: CheckedParts, source: string, written: object = ckpt): void {
  const fail = (message: string): never => {
    throw new CheckpointError(`${source}: ${message}`);
  };
  for (let id = UNK + 2; ckpt.config.training.level !== 'word' && id < ckpt.vocab.length; id++) {
    if (ckpt.vocab[id - 1]!.codePointAt(0)! >= ckpt.vocab[id]!.codePointAt(0)!) {
      fail(`vocab[${id}] ${JSON.stringify(ckpt.vocab[id])} comes after vocab[${id - 1}] ${JSON.stringify(ckpt.vocab[id - 1])}, ` +
        'expected the characters in code-point order');
    }
  }
  let previous = -1;
  ckpt.history.forEach((entry, i) => {
    if (entry.step <= previous) fail(`history[${i}].step is ${entry.step}, expected more than history[${i - 1}].step ${previous}`);
    if (entry.step > ckpt.training.step) fail(`history[${i}].step is ${entry.step}, later than training.step ${ckpt.training.step}`);
    previous = entry.step;
  });
  const fault = tensorValueFault(ckpt, source);
  if (fault !== null) fail(`${fault}: the file is damaged`);
  if (ckpt.sha256 !== undefined && ckpt.sha256 !== contentChecksum(written)) {
    fail('sha256 does not match the content: the file is damaged or was edited');
  }
}
