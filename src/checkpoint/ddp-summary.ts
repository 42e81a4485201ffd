import { z } from 'zod';
import { smoothedLoss } from '../engine/loss.js';
import { zodErrorMessage } from '../input/issues.js';
import { TEXT_LEVELS, type TextLevel } from '../text/vocab.js';
import type { HistoryEntry } from './schema.js';
import { CheckpointError, formatProblem, isJsonObject } from './errors.js';
import { readJsonFile } from './files.js';

/** The format of the summary.json that examples/pytorch/train_ddp.py writes (its SUMMARY_FORMAT). */
export const DDP_SUMMARY_FORMAT = 'train_ddp-summary/1';

const loss = z.number().nonnegative();

/** The fields of a train_ddp.py summary.json that its losses are read from (the rest, its scores and time, are left unread). */
const DdpSummarySchema = z.object({
  format: z.literal(DDP_SUMMARY_FORMAT),
  level: z.enum(TEXT_LEVELS),
  vocab_size: z.int().positive(),
  /** B × T: the tokens a step trains on, over every rank. */
  tokens_per_step: z.int().positive(),
  /** The mean loss of each step, null for a step skipped (its loss or gradient not finite). */
  train_losses: z.array(loss.nullable()),
  /** Each validation, in order: the steps trained by then and the loss, null where the folder holds no validation split. */
  evaluations: z.array(z.object({ step: z.int().positive(), val_loss: loss.nullable() })),
});

/** A train_ddp.py run as its summary.json records it: what its text is, and its evaluations as rnn's history has them. */
export interface DdpRun {
  level: TextLevel;
  vocabSize: number;
  history: Pick<HistoryEntry, 'tokensSeen' | 'trainLoss' | 'valLoss'>[];
}

/**
 * The run whose summary.json is at `path`, its history as rnn train makes it: an entry at each evaluation after a step
 * that was not skipped, its training loss the moving average of the step losses (smoothedLoss). A summary from before
 * the format, which records no tokens a step, and a field out of place are refused in one line naming the file.
 */
export function readDdpSummary(path: string): DdpRun {
  const json = readJsonFile(path, 'train_ddp.py summary');
  if (isJsonObject(json) && json['format'] === undefined && Array.isArray(json['train_losses'])) {
    throw new CheckpointError(`${path} is the summary of a train_ddp.py run from before it recorded the tokens of a step ` +
      `(its ${formatProblem(json, [DDP_SUMMARY_FORMAT])!}): train the run again with examples/pytorch/train_ddp.py to plot it`);
  }
  const problem = formatProblem(json, [DDP_SUMMARY_FORMAT]);
  if (problem !== null) throw new CheckpointError(`${path}: ${problem}`);
  const parsed = DdpSummarySchema.safeParse(json, { reportInput: true });
  if (!parsed.success) throw new CheckpointError(zodErrorMessage(path, parsed.error));
  const { level, vocab_size: vocabSize, tokens_per_step: tokensPerStep, train_losses: losses, evaluations } = parsed.data;
  evaluations.forEach(({ step }, i) => {
    const earlier = i === 0 ? 0 : evaluations[i - 1]!.step;
    if (step > losses.length) throw new CheckpointError(`${path}: evaluations[${i}].step is ${step}, past the run's ${losses.length} steps (train_losses)`);
    if (step <= earlier) throw new CheckpointError(`${path}: evaluations[${i}].step is ${step}, not after evaluations[${i - 1}].step ${earlier}`);
  });
  // the smoothed loss after each step, null while every step so far was skipped
  const smoothed: (number | null)[] = [];
  losses.reduce<number | null>((average, stepLoss) => {
    const next = stepLoss === null ? average : smoothedLoss(average, stepLoss);
    smoothed.push(next);
    return next;
  }, null);
  const history = evaluations.flatMap(({ step, val_loss: valLoss }) => {
    const trainLoss = smoothed[step - 1]!;
    return trainLoss === null ? [] : [{ tokensSeen: step * tokensPerStep, trainLoss, valLoss }];
  });
  return { level, vocabSize, history };
}
