import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkpointBytes, writeCheckpointBytes } from '../checkpoint/checkpoint.js';
import { TensorValueError } from '../checkpoint/errors.js';
import { weightFault } from '../checkpoint/integrity.js';
import { EARLY_SAVE_SHARE, checkpointWriteSeconds, diskSize } from '../checkpoint/size.js';
import type { ModelConfig } from '../engine/config.js';
import { smoothedLoss } from '../engine/loss.js';
import { paramLayout } from '../engine/params.js';
import { scheduledLr } from '../engine/optim.js';
import type { StepSettings } from '../engine/step.js';
import { Stepper } from '../engine/stepper.js';
import { sampleText } from '../generate/sample.js';
import { scoreBatches } from '../generate/score.js';
import type { TrainingEngine } from '../parallel/engine.js';
import { textTokens } from '../text/corpus.js';
import { emptyFiles } from '../text/corpus-files.js';
import { type TextLevel, tokenCount } from '../text/vocab.js';
import { createEngine } from '../parallel/pool.js';
import { type InputError, SettingError } from '../input/settings.js';
import type { DoneEvent, StartEvent, StopReason, TrainEvent } from './events.js';
import type { TrainOptions } from './options.js';
import { type RunSetup, setUpRun } from './setup.js';
import { type Progress, buildCheckpoint, epochsDone } from './state.js';
import { durationText } from '../input/duration.js';

export interface TrainHooks {
  onEvent?: (event: TrainEvent) => void;
  /** Aborting it ends the run after the current step, with a checkpoint; its reason names the signal. */
  signal?: AbortSignal;
  /**
   * Told what the user should know but need not stop for (a lowered worker count, a stale lock
   * taken over, a --time too short for the closing evaluation).
   */
  onWarning?: (warning: InputError) => void;
  /** Told, as an evaluation scores the validation split, the fraction scored so far: 1 once it is whole, before its `eval` event. */
  onEvalProgress?: (fraction: number) => void;
  /** Told, as a text (not a prepared folder) is tokenized, the fraction done so far: 1 once it is whole, before the `start` event. */
  onTokenizingProgress?: (fraction: number) => void;
}

/** How a run ended, as its `done` event tells it, with its final weights and history. */
export interface TrainResult extends Pick<
  DoneEvent, 'reason' | 'signal' | 'step' | 'epoch' | 'valLoss' | 'bestValLoss' | 'latest' | 'best' | 'skipped' | 'savedStep'
> {
  /** A copy of the final weights. */
  params: Float32Array;
  config: ModelConfig;
  history: Progress['history'];
  /** What made a diverged run diverge; null for any other. */
  divergence: Divergence | null;
}

/**
 * What ends a run as diverged: DIVERGED_AFTER steps in a row whose loss or gradient was not
 * finite, a validation loss that is not finite, or weights beyond what a checkpoint may hold
 * (WEIGHT_LIMIT), which no save writes.
 */
export type Divergence = 'steps' | 'validation' | 'weights';

/** Tokens of the sample shown at each evaluation (about as long a text at either level), and its temperature. */
const SAMPLE_LENGTH: Readonly<Record<TextLevel, number>> = { char: 100, word: 20 };
const SAMPLE_TEMPERATURE = 0.8;

/** A uint32 drawn from (seed, step, stream) alone (a murmur3-style mix), so a resumed run draws the same. */
function stepSeed(seed: number, step: number, stream: number): number {
  let x = (seed ^ Math.imul(step + 1, 0x9e3779b1) ^ Math.imul(stream + 1, 0x85ebca77)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * A periodic evaluation is skipped when, after it, the time left (less the closing
 * evaluation) holds fewer than half an interval of steps: the closing one comes soon enough.
 */
export function periodicEvalIsRedundant(secondsLeft: number, evalSeconds: number, stepSeconds: number, evalEvery: number): boolean {
  return (secondsLeft - 2 * evalSeconds) / stepSeconds < evalEvery / 2;
}

/** Skipped steps in a row that end a run as diverged: one or two can be a bad window; five are a model gone. */
export const DIVERGED_AFTER = 5;

const DROPOUT_STREAM = 1;
const SAMPLE_STREAM = 2;

/**
 * Trains a language model at the character or word level (or goes on training one, with `options.resume`) on the text
 * at `corpusPaths` (files or folders; none: the bundled corpus), reporting through `onEvent`.
 * Truncated BPTT as char-rnn: B contiguous rows, the next T tokens of each per step, the
 * state carried from step to step and reset at each epoch's start. Evaluates over the whole
 * validation split every `evalEvery` steps and at the end, writing `latest` (and `best` when
 * the validation loss improves) each time. N steps then a resume for M more give the weights
 * and losses of N + M steps in one run, bit for bit.
 */
export async function train(options: TrainOptions, corpusPaths: readonly string[] = [], hooks: TrainHooks = {}): Promise<TrainResult> {
  const setup = setUpRun(options, corpusPaths, hooks.onTokenizingProgress);
  try {
    for (const warning of setup.warnings) hooks.onWarning?.(warning);
    const { settings, model, start } = setup;
    const engine = await createEngine({
      config: model, params: start.params, optimizer: settings.optimizer, moments: start.optimizer,
      batchSize: settings.batch, seqLen: settings.seqLen, evalRows: setup.evalBatches?.rows ?? 0, workers: settings.workers,
      kernels: settings.kernels,
    });
    try {
      if (start.carried) engine.setTrainState(start.carried);
      return await new Run(setup, engine, hooks).go();
    } finally {
      await engine.close();
    }
  } finally {
    setup.lock.release();
  }
}

class Run {
  private readonly progress: Progress;
  private readonly emit: (event: TrainEvent) => void;
  private readonly startedAt = performance.now();
  private readonly elapsedBefore: number;
  /** B·T: the tokens each step trains on. */
  private readonly tokensPerStep: number;
  /** What draws each evaluation's sample, built at the first and given the weights at each. */
  private sampler: Stepper | null = null;
  /** The newest validation loss (resuming: the checkpoint's last); null before any. */
  private valLoss: number | null;
  /** The step of the newest checkpoint this run wrote that closed its step (`save`'s closesStep); −1 before its first. */
  private savedAtStep = -1;
  /** Whether the newest checkpoint written records that the run's --time is spent. */
  private savedTimeSpent = false;
  /**
   * Seconds the longest evaluation took, its sample and checkpoints included (null before the
   * first): what --time keeps for the closing one.
   */
  private evalSeconds: number | null = null;
  /** Bytes of checkpoint a second that this run's slowest save wrote; null before its first. */
  private saveRate: number | null = null;
  private bestExists: boolean;
  /** Steps skipped (not finite) in this run, and in a row up to now. */
  private skipped = 0;
  private skippedInARow = 0;
  private divergence: Divergence | null = null;
  /** The step of the newest checkpoint on disk. */
  private savedStep: number | null;

  constructor(private readonly setup: RunSetup, private readonly engine: TrainingEngine, private readonly hooks: TrainHooks) {
    this.progress = setup.start.progress;
    this.elapsedBefore = this.progress.elapsedSeconds;
    this.tokensPerStep = setup.settings.batch * setup.settings.seqLen;
    this.emit = hooks.onEvent ?? (() => {});
    this.bestExists = existsSync(setup.paths.best);
    // a best loss that no best checkpoint of the output holds (one moved away, a resume into a new --out) is no record to
    // beat: the run's next evaluation starts its best checkpoint
    if (!this.bestExists) this.progress.bestValLoss = null;
    this.savedStep = setup.resume !== null ? this.progress.step : null;
    this.valLoss = this.progress.history.at(-1)?.valLoss ?? null;
  }

  async go(): Promise<TrainResult> {
    this.emit(this.startEvent());
    if (this.setup.owesEvaluation) await this.evaluateAndSave();
    const stopped = await this.trainUntilStopped();
    return this.finish(await this.close(stopped));
  }

  private startEvent(): StartEvent {
    const { setup, progress } = this;
    const { data } = setup;
    const tokens = textTokens(data);
    return {
      event: 'start', resumedFrom: setup.resume, step: progress.step, model: { ...setup.model },
      parameters: this.engine.params.length, settings: { ...setup.settings }, limits: { ...setup.limits }, corpus: setup.corpus,
      emptyFiles: emptyFiles(data.fingerprint.files),
      trainTokens: tokens.train, valTokens: tokens.val, stepsPerEpoch: setup.batches.stepsPerEpoch,
      totalSteps: setup.totalSteps, out: { ...setup.paths }, skipped: this.skipped,
      ...(data.fingerprint.prepared !== undefined && { prepared: data.fingerprint.prepared }),
      ...(data.wordVocab && { wordVocab: { ...data.wordVocab } }),
      ...(setup.initFrom !== null && { initFrom: { ...setup.initFrom } }),
      ...(data.added && { vocabAdded: data.added.map(([token]) => token) }),
    };
  }

  /** Trains step after step, evaluating every --eval-every steps, until something stops the run: what did. */
  private async trainUntilStopped(): Promise<StopReason> {
    const { settings, batches, limits, totalSteps } = this.setup;
    const { engine, progress, tokensPerStep } = this;
    const signal = this.hooks.signal;
    const stepSettings: StepSettings = { lr: settings.lr, clip: settings.clip, clipValue: settings.clipValue };
    // tokens/s over the steps timed so far: speed ← speed + max(1/n, 0.1)·(rate − speed) at the n-th, their mean for the
    // first ten and an exponential average after; a run's first step (the JIT and the kernels warming up) is left out, so
    // one slow step cannot end a --time run early
    let speed = 0, timed = -1;
    // the run's seconds when the last step began, --time not yet found to run out
    let stepBegan = this.elapsed();
    for (;;) {
      const stopped = this.stopReason();
      if (stopped !== null) return stopped;
      const now = this.elapsed();
      if (this.timeRunsOut(speed, now)) {
        // warned when the closing evaluation could not end within the budget even from where the last step began: a step
        // that ran a little long ends the run a little late, no cause for a larger --time (known only once the speed is)
        const closingSeconds = this.closingEvalSeconds(speed);
        if (this.savedAtStep !== progress.step && closingSeconds > 0 && stepBegan + closingSeconds > limits.timeSeconds!) {
          this.hooks.onWarning?.(this.overrunWarning(closingSeconds));
        }
        progress.timeSpent = true;
        return 'time';
      }
      stepBegan = now;

      if (progress.cursor === 0) engine.resetTrainState();
      stepSettings.lr = this.lr();
      const t0 = performance.now();
      batches.fill(progress.cursor, engine.inputs, engine.targets);
      const dropoutSeed = settings.dropout > 0 ? stepSeed(settings.seed, progress.step, DROPOUT_STREAM) : null;
      const { loss, gradNorm, skipped } = engine.trainStep(stepSettings, dropoutSeed);
      const rate = tokensPerStep / Math.max(1e-6, (performance.now() - t0) / 1000);
      if (++timed > 0) speed += Math.max(0.1, 1 / timed) * (rate - speed);
      this.countStep(loss, skipped);
      this.emit({
        event: 'step', step: progress.step, epoch: this.epochs(), loss: skipped ? null : loss, smoothedLoss: progress.smoothedLoss,
        valLoss: this.valLoss, lr: stepSettings.lr, gradNorm: skipped ? null : gradNorm, tokensPerSecond: speed || rate,
        elapsedSeconds: this.elapsed(), etaSeconds: this.eta((speed || rate) / tokensPerStep), totalSteps, skipped: this.skipped,
      });
      if (settings.evalEvery > 0 && progress.step % settings.evalEvery === 0 && !this.closingSoon(speed)) {
        // what the loop's next turn will find, asked before the checkpoint is written so that it records a time spent
        const endsForTime = () => !signal?.aborted && (totalSteps === null || progress.step < totalSteps) && this.timeRunsOut(speed);
        await this.evaluateAndSave(endsForTime);
      }
      if (this.owesTimedSave()) this.save(false, false);
      await new Promise(setImmediate); // let signal handlers run
    }
  }

  /** Why the run stops before its next step (a signal, divergence, its --time spent, its steps done); null: it goes on. */
  private stopReason(): StopReason | null {
    const { totalSteps, limits } = this.setup;
    if (this.hooks.signal?.aborted) return 'interrupted';
    if (this.divergence !== null) return 'diverged';
    if (this.progress.timeSpent === true) return 'time';
    if (totalSteps !== null && this.progress.step >= totalSteps) return limits.maxSteps === totalSteps ? 'max-steps' : 'epochs';
    return null;
  }

  /** Counts a step done: its place in the epoch, the tokens seen, the smoothed loss (a skipped step's loss left out), divergence. */
  private countStep(loss: number, skipped: boolean): void {
    const { progress } = this;
    if (skipped) {
      this.skipped++;
      if (++this.skippedInARow === DIVERGED_AFTER) this.divergence = 'steps';
    } else this.skippedInARow = 0;
    progress.step++;
    progress.tokensSeen += this.tokensPerStep;
    if (++progress.cursor === this.setup.batches.stepsPerEpoch) {
      progress.cursor = 0;
      progress.epoch++;
    }
    if (!skipped) {
      progress.smoothedLoss = smoothedLoss(progress.smoothedLoss, loss);
    }
  }

  /**
   * The checkpoint and closing evaluation that a run stopped for `stopped` still owes, and the
   * reason it ends with. A diverged run keeps its last checkpoints: the state it reached produced
   * the failing steps.
   */
  private async close(stopped: StopReason): Promise<StopReason> {
    const { progress } = this;
    const signal = this.hooks.signal;
    if (this.savedAtStep === progress.step && stopped === 'time') {
      // the time ran out while this step's evaluation saved its checkpoint: the run's last records so
      if (!this.savedTimeSpent) this.save(false);
    } else if (this.savedAtStep !== progress.step && stopped !== 'diverged') {
      if (stopped === 'interrupted') this.save(false);
      else await this.evaluateAndSave();
      // a signal during the closing evaluation interrupts the run (its checkpoint owes that evaluation); a limit reached is no
      // success when the closing evaluation found the weights gone
      if (signal?.aborted) return 'interrupted';
      if (this.divergence !== null) return 'diverged';
    }
    return stopped;
  }

  /** Tells the run's end (the `done` event) and returns it. */
  private finish(reason: StopReason): TrainResult {
    const { progress, setup } = this;
    const signalName = reason === 'interrupted' ? String(this.hooks.signal?.reason ?? 'abort') : null;
    const best = this.bestExists ? setup.paths.best : null;
    this.emit({
      event: 'done', reason, signal: signalName, step: progress.step, epoch: this.epochs(), trainLoss: progress.smoothedLoss,
      valLoss: this.valLoss, bestValLoss: progress.bestValLoss, latest: setup.paths.latest, best, elapsedSeconds: this.elapsed(),
      skipped: this.skipped, savedStep: this.savedStep,
    });
    return {
      reason, signal: signalName, step: progress.step, epoch: progress.epoch, params: Float32Array.from(this.engine.params),
      config: { ...setup.model }, valLoss: this.valLoss, bestValLoss: progress.bestValLoss, latest: setup.paths.latest,
      best, history: progress.history.map((entry) => ({ ...entry })), skipped: this.skipped, savedStep: this.savedStep,
      divergence: reason === 'diverged' ? this.divergence : null,
    };
  }

  /**
   * How long the closing evaluation may take: the longest so far, and no less than the
   * validation tokens at twice the training speed (a forward pass is a third of a training
   * step's products, but runs at about two thirds of its speed: the measured ratio is 1/2) and
   * its checkpoints' writes (`closingWrites`).
   */
  private closingEvalSeconds(trainTokensPerSecond: number): number {
    const { evalBatches, data } = this.setup;
    const validation = evalBatches !== null && trainTokensPerSecond > 0 ? data.val.length / (2 * trainTokensPerSecond) : 0;
    return Math.max(validation + this.closingWrites() * this.writeSeconds(), this.evalSeconds ?? 0);
  }

  /** The checkpoints the closing evaluation writes: best and latest, or latest alone with no validation split. */
  private closingWrites(): number {
    return this.setup.evalBatches === null ? 1 : 2;
  }

  /** About how long writing one checkpoint of the run takes, from its size: at the rate its saves were timed, else estimated. */
  private writeSeconds(): number {
    return checkpointWriteSeconds(this.setup.checkpointBytes, this.saveRate);
  }

  /**
   * Whether the run saves now to time a save: it has timed none, and its closing saves, as
   * estimated, are a notable share of its --time (`EARLY_SAVE_SHARE`), where the estimate of a
   * machine slower than it assumes would end the run past its --time.
   */
  private owesTimedSave(): boolean {
    const { timeSeconds } = this.setup.limits;
    return timeSeconds !== null && this.saveRate === null && this.closingWrites() * this.writeSeconds() > EARLY_SAVE_SHARE * timeSeconds;
  }

  /** What the user is told when the closing evaluation, of about `closingSeconds`, will end past --time. */
  private overrunWarning(closingSeconds: number): SettingError {
    const { limits, data, resume, evalBatches, checkpointBytes } = this.setup;
    const estimate = durationText(closingSeconds < 10 ? Number(closingSeconds.toPrecision(2)) : Math.round(closingSeconds), true);
    const checkpoints = `${this.closingWrites() === 1 ? 'a checkpoint' : 'two checkpoints'} of ${diskSize(checkpointBytes)}`;
    const closing = evalBatches === null ? `the closing checkpoint, estimated at ${estimate} for ${checkpoints}`
      : `the closing evaluation, estimated at ${estimate} for the validation split's ${tokenCount(data.val.length, data.vocab.level)} ` +
        `and ${checkpoints}`;
    return new SettingError('time', limits.timeSeconds, (name) =>
      `${name('time')} of ${durationText(limits.timeSeconds!, true)} leaves no room for another step and ${closing}: ` +
        `the run stops at step ${this.progress.step} and is likely to end past its ${name('time')}; ` +
        `give a larger ${name('time')}${resume === null && evalBatches !== null ? ` or a smaller ${name('valFrac')}` : ''}`);
  }

  /**
   * Whether --time, the whole run's budget, has no room left for the next step and the closing
   * evaluation: known once the speed is.
   */
  private timeRunsOut(speed: number, elapsed = this.elapsed()): boolean {
    const { limits } = this.setup;
    if (limits.timeSeconds === null || speed <= 0) return false;
    return elapsed + this.tokensPerStep / speed + this.closingEvalSeconds(speed) >= limits.timeSeconds;
  }

  /** Whether --time will end the run, and evaluate, before half an evaluation interval. */
  private closingSoon(speed: number): boolean {
    const { limits, settings } = this.setup;
    if (limits.timeSeconds === null || speed <= 0) return false;
    const evalSeconds = this.closingEvalSeconds(speed);
    const stepSeconds = this.tokensPerStep / speed;
    return periodicEvalIsRedundant(limits.timeSeconds - this.elapsed(), evalSeconds, stepSeconds, settings.evalEvery);
  }

  private elapsed(): number {
    return this.elapsedBefore + (performance.now() - this.startedAt) / 1000;
  }

  /**
   * The fraction of the run done, by the limit nearest its end: steps of its total steps, or
   * seconds of its --time (a run limited by time follows its clock, and repeats only to that).
   * Past 1 where a run overruns its time; scheduledLr holds it to its end.
   */
  private fractionDone(): number {
    const { totalSteps, limits } = this.setup;
    const bySteps = totalSteps === null ? 0 : this.progress.step / totalSteps;
    const byTime = limits.timeSeconds === null ? 0 : this.elapsed() / limits.timeSeconds;
    return Math.max(bySteps, byTime);
  }

  /** The learning rate of the next step. */
  private lr(): number {
    const { lrSchedule, lr, lrDecay } = this.setup.settings;
    return scheduledLr(lrSchedule, lr, lrDecay, this.progress.epoch, this.fractionDone());
  }

  private epochs(): number {
    return epochsDone(this.progress, this.setup.batches.stepsPerEpoch);
  }

  /** Seconds to the nearest limit at `stepsPerSecond`, or null when no limit is known. */
  private eta(stepsPerSecond: number): number | null {
    const { totalSteps, limits } = this.setup;
    const left: number[] = [];
    if (totalSteps !== null && stepsPerSecond > 0) left.push((totalSteps - this.progress.step) / stepsPerSecond);
    if (limits.timeSeconds !== null) left.push(limits.timeSeconds - this.elapsed());
    return left.length > 0 ? Math.max(0, Math.min(...left)) : null;
  }

  /**
   * Mean validation loss over the whole split (Σ loss / predictions) from a zero state, the
   * state carried chunk to chunk; null when the run has no validation split or is interrupted.
   */
  private async validate(): Promise<number | null> {
    const batches = this.setup.evalBatches;
    if (batches === null) return null;
    const sum = await scoreBatches(this.engine, batches, () => this.hooks.signal?.aborted === true, this.hooks.onEvalProgress);
    return sum === null ? null : sum / batches.predictions;
  }

  /** `endsForTime`: whether the run stops for its --time once this evaluation is done; its checkpoint then records so. */
  private async evaluateAndSave(endsForTime: () => boolean = () => false): Promise<void> {
    const { progress, setup } = this;
    if (progress.smoothedLoss === null) {
      if (this.skipped > 0) return; // every step so far was skipped: nothing to record
      throw new Error('evaluation before the first step');
    }
    const t0 = performance.now();
    const valLoss = await this.validate();
    if (valLoss !== null && !Number.isFinite(valLoss)) {
      this.divergence = 'validation'; // the weights give no finite loss: nothing of this state is worth saving
      return;
    }
    if (weightFault(paramLayout(setup.model), this.engine.params, (name) => name) !== null) {
      this.divergence = 'weights'; // a loss no save would keep is not recorded, nor told as the best
      return;
    }
    this.evalSeconds = Math.max(this.evalSeconds ?? 0, (performance.now() - t0) / 1000);
    if (valLoss === null && setup.evalBatches !== null) {
      this.save(false); // interrupted mid-validation: keep the state, record no evaluation
      return;
    }
    this.valLoss = valLoss;
    const improved = valLoss !== null && (progress.bestValLoss === null || valLoss < progress.bestValLoss);
    if (improved) progress.bestValLoss = valLoss;
    progress.history.push({
      step: progress.step, epoch: progress.epoch, tokensSeen: progress.tokensSeen, trainLoss: progress.smoothedLoss,
      valLoss, lr: this.lr(), seconds: this.elapsed(),
    });
    this.sampler ??= new Stepper(setup.model, this.engine.params, setup.settings.kernels);
    this.sampler.setParams(this.engine.params);
    const { vocab } = setup.data;
    const sample = sampleText({
      config: setup.model, params: this.engine.params, vocab, length: SAMPLE_LENGTH[vocab.level],
      temperature: SAMPLE_TEMPERATURE, seed: stepSeed(setup.settings.seed, progress.step, SAMPLE_STREAM), stepper: this.sampler,
    });
    this.emit({
      event: 'eval', step: progress.step, epoch: this.epochs(), trainLoss: progress.smoothedLoss, valLoss,
      bestValLoss: progress.bestValLoss, improved, sample, seconds: (performance.now() - t0) / 1000,
    });
    if (endsForTime()) progress.timeSpent = true;
    this.save(improved);
    // the closing evaluation writes its checkpoints too, within --time: a large model's take a while
    this.evalSeconds = Math.max(this.evalSeconds, (performance.now() - t0) / 1000);
  }

  /**
   * Writes `best` when asked, then `latest`, each atomically: `latest` names a best loss only
   * once its checkpoint is saved, so a save that fails between them leaves the two agreeing.
   * `closesStep`: the step owes nothing more (its evaluation was saved, or the run keeps its state
   * as it stops); false for the save timed early (`owesTimedSave`), after which a closing evaluation is still owed.
   */
  private save(best: boolean, closesStep = true): void {
    const { progress, setup } = this;
    const began = progress.elapsedSeconds = this.elapsed();
    const checkpoint = buildCheckpoint({
      settings: setup.settings, limits: setup.limits, model: setup.model, vocab: setup.data.vocab, engine: this.engine,
      progress, fingerprint: setup.data.fingerprint, command: setup.command, initFrom: setup.initFrom, lr: this.lr(),
    });
    let bytes: Uint8Array;
    try {
      bytes = checkpointBytes(checkpoint, setup.paths.latest);
    } catch (error) {
      if (!(error instanceof TensorValueError)) throw error;
      this.divergence = 'weights'; // never write values no training should hold; the last checkpoints stay
      return;
    }
    if (best) {
      writeCheckpointBytes(setup.paths.best, bytes);
      this.bestExists = true;
      this.emit({ event: 'checkpoint', step: progress.step, kind: 'best', path: setup.paths.best });
    }
    writeCheckpointBytes(setup.paths.latest, bytes);
    this.emit({ event: 'checkpoint', step: progress.step, kind: 'latest', path: setup.paths.latest });
    if (closesStep) this.savedAtStep = progress.step;
    this.savedStep = progress.step;
    this.savedTimeSpent = progress.timeSpent === true;
    const rate = ((best ? 2 : 1) * setup.checkpointBytes) / Math.max(1e-6, this.elapsed() - began);
    this.saveRate = Math.min(this.saveRate ?? Infinity, rate);
  }
}
