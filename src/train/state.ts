import { type Checkpoint, type HistoryEntry, type InitFrom, CHECKPOINT_FORMAT } from '../checkpoint/schema.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { type RunLimits, type TrainSettings, trainingConfig } from '../checkpoint/settings.js';
import { carriedStateLayout, decodeTensors, encodeTensors } from '../checkpoint/tensors.js';
import type { ModelConfig } from '../engine/config.js';
import { ADAM_DEFAULTS, type OptimizerKind } from '../engine/optim.js';
import { paramLayout } from '../engine/params.js';
import type { RngState } from '../engine/random.js';
import type { OptimizerMoments, RecurrentState, TrainingEngine } from '../parallel/engine.js';
import type { DataFingerprint } from '../text/corpus.js';
import type { Vocabulary } from '../text/vocab.js';

/** Where a run stands: everything besides the weights and optimizer that exact resume needs. */
export interface Progress {
  /** Updates done. */
  step: number;
  /** Whole epochs done. */
  epoch: number;
  /** The next step's index within its epoch (BatchSource.fill's `step`). */
  cursor: number;
  tokensSeen: number;
  elapsedSeconds: number;
  smoothedLoss: number | null;
  bestValLoss: number | null;
  history: HistoryEntry[];
  /** Whether the run stopped because its --time was spent (the next step and the closing evaluation would not fit). */
  timeSpent?: boolean;
  /** The trainer's generator after initialising the weights (later draws derive from seed and step). */
  rng: RngState;
}

/** The epochs `progress` has trained, fractional: its whole epochs and its place in the next, of `stepsPerEpoch` steps. */
export function epochsDone(progress: Pick<Progress, 'epoch' | 'cursor'>, stepsPerEpoch: number): number {
  return progress.epoch + progress.cursor / stepsPerEpoch;
}

/**
 * Whether a checkpoint at `progress.step` owes the evaluation that was due there: one was due
 * (every `evalEvery` steps, or at the end of the run: `atEnd`) and its history has none, a signal
 * having stopped it while it ran. A resumed run does it before its next step, as the run
 * would have without the signal.
 */
export function owesEvaluation(progress: Progress, evalEvery: number, validated: boolean, atEnd: boolean): boolean {
  if (!validated || progress.smoothedLoss === null || progress.history.at(-1)?.step === progress.step) return false;
  return atEnd || (evalEvery > 0 && progress.step % evalEvery === 0);
}

/** An optimizer's state before its first step: Adam's moments all zero, none for SGD. */
export function freshMoments(model: ModelConfig, optimizer: OptimizerKind): OptimizerMoments {
  const size = optimizer === 'adam' ? paramLayout(model).total : 0;
  return { step: 0, m: new Float32Array(size), v: new Float32Array(size) };
}

/** Where a new run starts: nothing done, `rng` as the weights' initialisation left it. */
export function startingProgress(rng: RngState): Progress {
  return { step: 0, epoch: 0, cursor: 0, tokensSeen: 0, elapsedSeconds: 0, smoothedLoss: null, bestValLoss: null, history: [], rng };
}

export interface Snapshot {
  settings: TrainSettings;
  limits: RunLimits;
  model: ModelConfig;
  vocab: Vocabulary;
  engine: TrainingEngine;
  progress: Progress;
  fingerprint: DataFingerprint;
  command: string[];
  /** The model a fine-tuned run started from; null for a run from random weights. */
  initFrom: InitFrom | null;
  /** The learning rate of the next step. */
  lr: number;
}

/** The whole run as a checkpoint: weights and moments exact, carried state included. */
export function buildCheckpoint(snapshot: Snapshot): Checkpoint {
  const { settings, limits, model, vocab, engine, progress, fingerprint, initFrom } = snapshot;
  const layout = paramLayout(model);
  const optimizer = engine.optimizerMoments();
  const carried = engine.trainState();
  const stateLayout = carriedStateLayout(model, settings.batch);
  const stateBuffer = new Float32Array(stateLayout.total);
  stateBuffer.set(carried.h);
  if (carried.c) stateBuffer.set(carried.c, carried.h.length);
  const adam = settings.optimizer === 'adam';
  return {
    format: CHECKPOINT_FORMAT,
    createdAt: new Date().toISOString(),
    command: snapshot.command,
    config: { model: { ...model }, training: trainingConfig(settings, vocab.wordRule, limits, vocab.spacing) },
    vocab: [...vocab.tokens],
    weights: encodeTensors(layout, engine.params),
    optimizer: {
      kind: settings.optimizer, step: optimizer.step, ...ADAM_DEFAULTS,
      m: adam ? encodeTensors(layout, optimizer.m) : null,
      v: adam ? encodeTensors(layout, optimizer.v) : null,
    },
    training: {
      step: progress.step, epoch: progress.epoch, cursor: progress.cursor, lr: snapshot.lr,
      rng: [...progress.rng], bestValLoss: progress.bestValLoss, tokensSeen: progress.tokensSeen,
      elapsedSeconds: progress.elapsedSeconds, carried: encodeTensors(stateLayout, stateBuffer),
      smoothedLoss: progress.smoothedLoss, ...(progress.timeSpent === true && { timeSpent: true }),
    },
    history: progress.history.map((entry) => ({ ...entry })),
    corpus: {
      files: fingerprint.files.map((f) => ({ ...f })), docs: fingerprint.docs,
      ...(fingerprint.sentenceRule !== undefined && { sentenceRule: fingerprint.sentenceRule }), valFrac: fingerprint.valFrac,
      totalTokens: fingerprint.totalTokens, trainTokens: fingerprint.trainTokens, valTokens: fingerprint.valTokens,
      sha256: fingerprint.sha256, ...(fingerprint.prepared !== undefined && { prepared: fingerprint.prepared }),
    },
    ...(initFrom !== null && { initFrom: { ...initFrom } }),
  };
}

export interface Restored {
  params: Float32Array;
  optimizer: OptimizerMoments;
  carried: RecurrentState | null;
  progress: Progress;
}

/** What a checkpoint holds for going on training: weights, optimizer, carried state, progress. */
export function restoreRun(ckpt: Checkpoint, source: string, stepsPerEpoch: number): Restored {
  const model = ckpt.config.model;
  const layout = paramLayout(model);
  const training = ckpt.training;
  if (training.cursor >= stepsPerEpoch || training.step !== training.epoch * stepsPerEpoch + training.cursor) {
    throw new CheckpointError(
      `${source}: training.step ${training.step}, epoch ${training.epoch}, cursor ${training.cursor} ` +
        `do not fit ${stepsPerEpoch} steps per epoch of this corpus`,
    );
  }
  const saved = ckpt.optimizer;
  if (saved.beta1 !== ADAM_DEFAULTS.beta1 || saved.beta2 !== ADAM_DEFAULTS.beta2 || saved.eps !== ADAM_DEFAULTS.eps) {
    throw new CheckpointError(
      `${source}: optimizer betas (${saved.beta1}, ${saved.beta2}) and eps ${saved.eps} differ from ` +
        `the trainer's (${ADAM_DEFAULTS.beta1}, ${ADAM_DEFAULTS.beta2}) and ${ADAM_DEFAULTS.eps}`,
    );
  }
  const empty = new Float32Array(0);
  const optimizer: OptimizerMoments = {
    step: saved.step,
    m: saved.m ? decodeTensors(layout, saved.m, source, 'optimizer.m') : empty,
    v: saved.v ? decodeTensors(layout, saved.v, source, 'optimizer.v') : empty,
  };
  let carried: RecurrentState | null = null;
  if (training.carried) {
    const stateLayout = carriedStateLayout(model, ckpt.config.training.batchSize);
    const buffer = decodeTensors(stateLayout, training.carried, source, 'training.carried');
    const n = stateLayout.specs[0]!.size;
    carried = { h: buffer.subarray(0, n), c: model.cell === 'lstm' ? buffer.subarray(n, 2 * n) : null };
  } else if (training.cursor > 0) {
    throw new CheckpointError(`${source}: training.carried is missing, and resuming mid-epoch (cursor ${training.cursor}) needs it`);
  }
  return {
    params: decodeTensors(layout, ckpt.weights, source, 'weights'),
    optimizer,
    carried,
    progress: {
      step: training.step, epoch: training.epoch, cursor: training.cursor, tokensSeen: training.tokensSeen,
      elapsedSeconds: training.elapsedSeconds, smoothedLoss: training.smoothedLoss ?? null,
      bestValLoss: training.bestValLoss, history: ckpt.history.map((entry) => ({ ...entry })),
      rng: [...training.rng] as RngState, timeSpent: training.timeSpent === true,
    },
  };
}
