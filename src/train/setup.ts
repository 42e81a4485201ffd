import { loadResumedCheckpoint } from '../checkpoint/checkpoint.js';
import { RUN_FOLDER_FILES } from '../checkpoint/run-folder.js';
import type { Checkpoint, InitFrom } from '../checkpoint/schema.js';
import { type RunLimits, type TrainSettings, modelConfig, recordedLevel } from '../checkpoint/settings.js';
import { runFolderFile } from '../checkpoint/find.js';
import { checkpointFileBytes } from '../checkpoint/size.js';
import type { ModelConfig } from '../engine/config.js';
import { initParams } from '../engine/model.js';
import { Rng } from '../engine/random.js';
import { InputError, SettingError } from '../input/settings.js';
import { poolWorkers } from '../parallel/pool.js';
import { BatchSource, EvalBatches, checkValidationSplit, smallValidationWarning } from '../text/batches.js';
import type { PreparedData } from '../text/corpus.js';
import { rareTokensWarning, vocabShortfallWarning } from '../text/word-vocab.js';
import { type PreparedFolder, recordedPreparedFolder, skippedNotice, type SkippedFile } from '../checkpoint/corpus.js';
import { corpusName, loadRunData, preparedFolderOf, skipRunOutput, withPreparedSettings } from './data.js';
import {
  type BaseModel, checkDocumentsForBase, fineTuneSettings, fineTuneStart, fineTuneUnknownWarning, fineTunedFrom, liveBaseWarning,
  loadBaseModel, preparedUnknownWarning, unknownShareWarning,
} from './finetune.js';
import {
  RESUME_READER, type ParsedOptions, type TrainOptions, defaultEvalEvery, freshSettings, limitsGiven, parseOptions, resumedSettings,
  runLimits,
} from './options.js';
import { type RunLock, takeRunLock } from './lock.js';
import { type OutputPaths, checkOutputFree, checkOutputIsFolder, checkResumedBest, claimDefaultOut, defaultOut, namedOutput, outputPaths, resumedOut } from './output.js';
import { checkModelFits, checkOutputWritable, workersForCores } from './preflight.js';
import { type Restored, epochsDone, freshMoments, owesEvaluation, restoreRun, startingProgress } from './state.js';
import { durationText } from '../input/duration.js';

/** Everything a run needs before its first step, all checked before anything is written. */
export interface RunSetup {
  settings: TrainSettings;
  limits: RunLimits;
  model: ModelConfig;
  data: PreparedData;
  batches: BatchSource;
  evalBatches: EvalBatches | null;
  start: Restored;
  resume: string | null;
  /** The model a fine-tuned run started from (this run, or the run it resumes); null for one from random weights. */
  initFrom: InitFrom | null;
  paths: OutputPaths;
  /** The output's lock, held from here to the end of the run: release it when the run ends. */
  lock: RunLock;
  /** About how many bytes each checkpoint of the run takes (checkpointFileBytes). */
  checkpointBytes: number;
  /** What the user should know but need not stop for (a lowered worker count, a stale lock taken over). */
  warnings: InputError[];
  /** Whether the resumed checkpoint owes the evaluation due at its step (owesEvaluation): the run's first work. */
  owesEvaluation: boolean;
  corpus: string[];
  totalSteps: number | null;
  command: string[];
}

/**
 * Reads the options, the checkpoint to resume and the corpus (telling `onTokenizingProgress` how far its tokenizing has
 * come), checks that the model fits (its
 * checkpoint, its memory) and that the output can be written, and takes the output's lock, so
 * that a run fails on bad input before it writes anything and no two runs write one output.
 */
export function setUpRun(
  options: TrainOptions, corpusPaths: readonly string[], onTokenizingProgress?: (fraction: number) => void,
): RunSetup {
  const given = [...corpusPaths];
  const parsedOptions = parseOptions({ ...options });
  const resume = parsedOptions.resume === undefined ? null : resumedCheckpointPath(parsedOptions.resume);
  checkFineTuneFlags(parsedOptions);
  const resumed = resume === null ? null : loadResumedCheckpoint(resume);
  const ckpt = resumed?.checkpoint ?? null;
  // resumed with no corpus named: the prepared folder it was trained on, where it records one
  const prepared = preparedFolderOf(given) ?? (ckpt !== null && given.length === 0 ? recordedPreparedFolder(ckpt, resume!) : null);
  const base = parsedOptions.initFrom === undefined ? null : loadBaseModel(parsedOptions.initFrom);
  // a fresh run on a prepared folder takes the folder's text settings (fine-tuning: those of its data, not its vocabulary)
  const parsed = prepared === null || ckpt !== null ? parsedOptions
    : withPreparedSettings(parsedOptions, prepared, base ?? undefined);
  const settings = ckpt ? resumedSettings(parsed, ckpt, resume!)
    : base ? fineTuneSettings(parsed, base) : freshSettings(parsed);
  const limits = runLimits(parsed, ckpt);
  const skipped: SkippedFile[] = [];
  // where the run writes, when known before the corpus is read: given, or where the resumed run wrote
  const knownOut = parsed.out !== undefined ? namedOutput(parsed.out) : resume === null ? null : resumedOut(resume);
  const skip = skipRunOutput(knownOut, skipped);
  const extend = parsed.extendVocab === true;
  const data = loadRunData(
    given, prepared, settings, ckpt ? { ckpt, source: resume! } : base ? { base, extend } : null, skip, onTokenizingProgress,
  );
  if (base) checkDocumentsForBase(data, settings, base, extend, prepared?.dir ?? null);
  if (!ckpt && parsed.evalEvery === undefined) settings.evalEvery = defaultEvalEvery(data.val.length, settings.batch, settings.seqLen);
  const corpus = data.fingerprint.files.map((f) => f.path);
  const batches = new BatchSource(data.train, settings.batch, settings.seqLen, data.vocab.level);
  checkValidationSplit(data.val.length, settings.valFrac, data.vocab.level);
  const evalBatches = settings.valFrac > 0 ? new EvalBatches(data.val, settings.batch, settings.seqLen) : null;
  const model: ModelConfig = ckpt ? { ...ckpt.config.model } : modelConfig(settings, data.vocab.size);
  const warnings = dataWarnings({ data, settings, asked: parsedOptions, ckpt, resume, base, extend, prepared, skipped, evalBatches });
  fitWorkers(settings, parsed.workers, warnings);
  if (parsed.dropout !== undefined && parsed.dropout > 0 && model.numLayers === 1) warnings.push(idleDropoutWarning(parsed.dropout));
  checkModelFits(model, settings);
  const start = ckpt ? restoreRun(ckpt, resume!, batches.stepsPerEpoch)
    : base ? fineTuneStart(base, data, model, settings, parsed.keepOptimizer === true) : freshStart(model, settings);
  const initFrom = base ? fineTunedFrom(base, data) : ckpt?.initFrom ?? resumed?.importedFrom ?? null;

  const totalSteps = runSteps(limits, batches.stepsPerEpoch);
  // a run that stopped for its --time has time again only under another --time: given the same, it stopped
  // short of it to fit its closing evaluation, and has nothing left to do
  if (limitsGiven(parsed) && limits.timeSeconds !== (ckpt?.config.training.timeSeconds ?? null)) start.progress.timeSpent = false;
  const { step, elapsedSeconds } = start.progress;
  // a --time used up already: the run ends at once, after the closing evaluation it may owe
  if (limits.timeSeconds !== null && elapsedSeconds >= limits.timeSeconds) start.progress.timeSpent = true;
  const atEnd = (totalSteps !== null && step >= totalSteps) || (limits.timeSeconds !== null && start.progress.timeSpent === true);
  const owed = ckpt !== null && owesEvaluation(start.progress, settings.evalEvery, evalBatches !== null, atEnd);
  if (atEnd && !owed) {
    throw new SettingError('resume', resume, (name) =>
      `${resume} has already trained to its end (step ${step}, epoch ${epochsDone(start.progress, batches.stepsPerEpoch).toFixed(2)}, ` +
        `${durationText(elapsedSeconds)}): ` +
        `give a larger ${name('maxSteps')}, ${name('epochs')} or ${name('time')} to go on`);
  }

  const out = knownOut ?? claimDefaultOut(defaultOut(corpusName(given.length > 0 ? given : corpus), settings, new Date()));
  const records = { vocab: data.vocab.tokens, corpus: data.fingerprint, history: start.progress.history };
  const outSetting = parsed.out === undefined && resume !== null ? 'resume' : 'out';
  const checkpointBytes = checkpointFileBytes(model, settings, records);
  const initFromRun = base?.file.checkpoint ? base.file.path : null;
  const { paths, lock } = holdOutput(out, outSetting, resume, ckpt, initFromRun, checkpointBytes, warnings);
  const command = parsed.command ?? ['rnn', 'train', ...corpusPaths];
  return {
    settings, limits, model, data, batches, evalBatches, start, resume, initFrom, paths, lock, checkpointBytes, warnings,
    owesEvaluation: owed, corpus, totalSteps, command,
  };
}

/**
 * The warnings of what a run read before its first step: a base model still being written, files
 * left out of the corpus, tokens read as <UNK>, a word vocabulary the text could not fill or mostly
 * of rare tokens, a validation split too small to choose the best checkpoint by. `asked`: the
 * options as given, before a prepared folder's settings fill them in.
 */
function dataWarnings({ data, settings, asked, ckpt, resume, base, extend, prepared, skipped, evalBatches }: {
  data: PreparedData; settings: TrainSettings; asked: ParsedOptions; ckpt: Checkpoint | null; resume: string | null;
  base: BaseModel | null; extend: boolean; prepared: PreparedFolder | null; skipped: SkippedFile[]; evalBatches: EvalBatches | null;
}): InputError[] {
  const warnings: InputError[] = [];
  const live = base ? liveBaseWarning(base) : null;
  if (live !== null) warnings.push(live);
  const notice = skippedNotice(skipped);
  if (notice !== null) warnings.push(new InputError(notice));
  const unknownWarning = base ? fineTuneUnknownWarning(data, base, extend, settings)
    : ckpt !== null && ckpt.corpus === null ? importedUnknownWarning(data, ckpt, resume!) : null;
  if (unknownWarning !== null) warnings.push(unknownWarning);
  const folderWarning = base && extend && prepared !== null ? preparedUnknownWarning(prepared) : null;
  if (folderWarning !== null) warnings.push(folderWarning);
  // a vocabulary this run builds from its text (a prepared folder's is told at its prepare; a fine-tune's is its base's)
  const built = prepared === null && base === null ? data.wordVocab : undefined;
  // a --vocab-size given that the text could not fill
  const shortfall = asked.vocabSize !== undefined && built !== undefined
    ? vocabShortfallWarning(built, settings.vocabSize, settings.minCount) : null;
  if (shortfall !== null) warnings.push(shortfall);
  const rare = built === undefined ? null : rareTokensWarning(built);
  if (rare !== null) warnings.push(rare);
  // a --val-frac given (not the default, which no one asked for) that leaves too little to choose the best checkpoint by
  const fewScored = asked.valFrac === undefined || evalBatches === null ? null : smallValidationWarning(
    data.val, evalBatches, settings.valFrac, settings.batch, settings.seqLen, data.vocab.level);
  if (fewScored !== null) warnings.push(fewScored);
  return warnings;
}

/** The checkpoint --resume names: a file, or a folder's latest.json, the folder layout's running checkpoint. */
function resumedCheckpointPath(given: string): string {
  return runFolderFile(given, RUN_FOLDER_FILES.latest, RESUME_READER);
}

/**
 * The warning of the text's tokens that an imported model's vocabulary lacks, read as <UNK> in
 * its first run (which records no corpus yet): a resumed run keeps its vocabulary, so they are
 * added by fine-tuning it instead.
 */
function importedUnknownWarning(data: PreparedData, ckpt: Checkpoint, source: string): InputError | null {
  return unknownShareWarning(data, recordedLevel(ckpt.config.training), source, (name) =>
    `a resumed run keeps its vocabulary: to add them, start a new run with ${name('initFrom')} ${source} ${name('extendVocab')}`);
}

/** The warning for a --dropout given to a one-layer model: it drops out what a layer passes to the next, and there is none. */
function idleDropoutWarning(dropout: number): SettingError {
  return new SettingError('dropout', dropout, (name) =>
    `${name('dropout')} ${dropout} does nothing with ${name('layers')} 1: dropout applies between layers; give ${name('layers')} 2 or more to use it`);
}

/**
 * Sets the workers a run uses: no more than the cores, where asked for (more only take turns),
 * nor than the batch's rows (each worker trains whole rows); lowering what was asked is warned of.
 */
function fitWorkers(settings: TrainSettings, asked: number | undefined, warnings: InputError[]): void {
  if (asked !== undefined) {
    const fitted = workersForCores(settings.workers);
    settings.workers = fitted.workers;
    if (fitted.warning) warnings.push(fitted.warning);
  }
  const pooled = poolWorkers(settings.workers, settings.batch);
  if (pooled < settings.workers) {
    if (asked !== undefined) {
      warnings.push(new SettingError('workers', asked, (name) =>
        `${name('workers')} ${asked} is more than ${name('batch')} ${settings.batch}: each worker trains whole rows of the batch; using ${pooled}`));
    }
    settings.workers = pooled;
  }
}

/** The step a run ends at by its --max-steps or --epochs, whichever comes first; null when only --time bounds it. */
function runSteps(limits: RunLimits, stepsPerEpoch: number): number | null {
  const bySteps = [limits.maxSteps, limits.epochs === null ? null : limits.epochs * stepsPerEpoch].filter((n) => n !== null);
  return bySteps.length > 0 ? Math.min(...bySteps) : null;
}

/**
 * Checks that the output `out` can be written and holds room for checkpoints of `checkpointBytes`,
 * takes its lock (its notice among the `warnings`; a run holding it refused by `outSetting`, the
 * flag that chose `out`), and refuses checkpoints there this run would overwrite (those of the run
 * `initFrom`, the checkpoint a fine-tuned run starts from, named so) or a best checkpoint there that is damaged or not
 * the run's of `resumed` (checkResumedBest): the output's paths and its lock, held.
 */
function holdOutput(
  out: string, outSetting: 'out' | 'resume', resume: string | null, resumed: Checkpoint | null, initFrom: string | null,
  checkpointBytes: number, warnings: InputError[],
): { paths: OutputPaths; lock: RunLock } {
  const paths = outputPaths(out);
  checkOutputIsFolder(paths, out);
  checkOutputWritable(paths, out, checkpointBytes, outSetting);
  const lock = takeRunLock(paths, out, outSetting);
  if (lock.notice !== null) warnings.push(new InputError(lock.notice));
  try {
    checkOutputFree(paths, out, resume, outSetting, initFrom);
    checkResumedBest(paths, resume, resumed);
  } catch (error) {
    lock.release();
    throw error;
  }
  return { paths, lock };
}

/** What a resumed run goes on with in place of what each flag that qualifies --init-from gives a new one. */
const KEPT_ON_RESUME = { extendVocab: 'the vocabulary', keepOptimizer: 'the optimizer state' } as const;

/**
 * The fine-tuning flags: --init-from starts a new run, so it cannot resume one; the others only
 * qualify it, and a resumed run (fine-tuned or not) keeps what they would set.
 */
function checkFineTuneFlags(parsed: ParsedOptions): void {
  if (parsed.initFrom !== undefined && parsed.resume !== undefined) {
    throw new SettingError('initFrom', parsed.initFrom, (name) =>
      `${name('initFrom')} starts a new run from a model, ${name('resume')} goes on with one: give one of them`);
  }
  for (const key of ['extendVocab', 'keepOptimizer'] as const) {
    if (parsed[key] !== true || parsed.initFrom !== undefined) continue;
    throw new SettingError(key, true, (name) => (parsed.resume === undefined
      ? `${name(key)} applies to fine-tuning only: give ${name('initFrom')} MODEL with it`
      : `${name(key)} applies to a new fine-tuned run (${name('initFrom')} MODEL); ${name('resume')} goes on with ` +
        `${KEPT_ON_RESUME[key]} its checkpoint has: leave ${name(key)} out`));
  }
}

function freshStart(model: ModelConfig, settings: TrainSettings): Restored {
  const rng = new Rng(settings.seed);
  const params = initParams(model, rng);
  return {
    params,
    optimizer: freshMoments(model, settings.optimizer),
    carried: null,
    progress: startingProgress(rng.state()),
  };
}
