import { statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { loadCheckpoint } from '../checkpoint/checkpoint.js';
import { recordedLevel } from '../checkpoint/settings.js';
import { RUN_FOLDER_FILES } from '../checkpoint/run-folder.js';
import { CHECKPOINT_FORMAT, type Checkpoint, type HistoryEntry } from '../checkpoint/schema.js';
import { DDP_RESULT, ddpRunSummary } from '../checkpoint/corpus.js';
import { readDdpSummary } from '../checkpoint/ddp-summary.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { type ModelPathReader, runFolderFile } from '../checkpoint/find.js';
import { InputError } from '../input/settings.js';
import { fileIdentity } from '../text/corpus-files.js';
import { TOKEN_UNITS, type TextLevel } from '../text/vocab.js';
import { type LossRun, runLevel } from './scale.js';

/**
 * The file a plot argument means: a train_ddp.py run's summary.json where it names that run (ddpRunSummary), else a
 * checkpoint file as it is, a run folder's latest.json.
 */
export function runCheckpointPath(arg: string): string {
  return ddpRunSummary(arg) ?? checkpointPathOf(arg);
}

/** The checkpoint a plot argument that is no train_ddp.py run means: a file as it is, a run folder's latest.json. */
const checkpointPathOf = (arg: string): string => runFolderFile(arg, RUN_FOLDER_FILES.latest, PLOT_READER);

/** What `rnn plot` reads as a run, in its help and in the lines that refuse an argument (runCheckpointPath). */
export const PLOT_TAKES = `a checkpoint file or a run folder that \`rnn train\` wrote (its ${RUN_FOLDER_FILES.latest}), or a finished ` +
  `examples/pytorch/train_ddp.py run: its ${DDP_RESULT.summary}, its --out folder or its ${DDP_RESULT.model}`;

/** How `rnn plot` names the runs it reads, in the lines that refuse one. */
const PLOT_READER: ModelPathReader = {
  what: 'checkpoint', formats: [CHECKPOINT_FORMAT], takes: PLOT_TAKES,
  modelFile: (file) => `${file} records no losses to plot: name ${PLOT_READER.takes}`,
};

/**
 * The legend's name for a run: its folder's name for `latest.json` and a train_ddp.py run's summary.json or model (a
 * run fine-tuned from it names it so), the folder's name with "(best)" for `best.json`, else the file's name without `.json`.
 */
export function runName(path: string): string {
  const file = basename(path);
  const folder = basename(dirname(resolve(path)));
  if (file === RUN_FOLDER_FILES.latest || isDdpRunFile(path)) return folder;
  if (file === RUN_FOLDER_FILES.best) return `${folder} (best)`;
  return file.endsWith('.json') ? file.slice(0, -'.json'.length) : file;
}

/**
 * A checkpoint's evaluation history as the chart's series, and the run it started from; refuses one with no history,
 * an imported model's saying why.
 */
export function lossRunFromCheckpoint(checkpoint: Checkpoint, name: string, source: string): LossRun {
  if (checkpoint.history.length === 0 && checkpoint.corpus === null) {
    throw new CheckpointError(`${source} is an imported model (rnn import): it records no training by rnn, so no losses to plot; ` +
      `a run started from it has them (rnn train TEXT --init-from ${source})`);
  }
  if (checkpoint.history.length === 0) {
    throw new CheckpointError(`${source} has no history (no evaluation has run yet): nothing to plot; train it past its first evaluation`);
  }
  const { config: { training, model }, history } = checkpoint;
  return {
    ...lossRunFromHistory({ level: recordedLevel(training), vocabSize: model.vocabSize, history }, name),
    ...(checkpoint.initFrom !== undefined && { startedFrom: runName(checkpoint.initFrom.path) }),
  };
}

/** Whether `path` is a file of a train_ddp.py run's --out folder, its summary.json or its model (ddpRunSummary). */
function isDdpRunFile(path: string): boolean {
  const summary = ddpRunSummary(path);
  return summary !== null && dirname(summary) === dirname(path);
}

/** A train_ddp.py run's summary.json (`path`) as the chart's series; refuses one with no evaluation after a step taken. */
function lossRunFromDdpSummary(path: string, name: string): LossRun {
  const run = readDdpSummary(path);
  if (run.history.length === 0) throw new CheckpointError(`${path} records no evaluation after a step that was taken: nothing to plot`);
  return lossRunFromHistory(run, name);
}

/** What a run records of its training that a chart draws: what its tokens are, and its evaluations. */
interface RunHistory {
  level: TextLevel;
  vocabSize: number;
  history: readonly Pick<HistoryEntry, 'tokensSeen' | 'trainLoss' | 'valLoss'>[];
}

/** A run's evaluations as the chart's series: the training loss at each, the validation loss where there was one. */
function lossRunFromHistory({ level, vocabSize, history }: RunHistory, name: string): LossRun {
  return {
    name,
    level,
    vocabSize,
    train: history.map((h) => ({ tokensSeen: h.tokensSeen, loss: h.trainLoss })),
    val: history.flatMap((h) => (h.valLoss === null ? [] : [{ tokensSeen: h.tokensSeen, loss: h.valLoss }])),
  };
}

/**
 * One run per argument (a checkpoint file, a run folder, or a train_ddp.py run: its folder, model or summary.json), in
 * order. Two runs that would share a name are named by the path given instead. One checkpoint reached twice is refused
 * (refuseRunTwice), and so are runs of both levels: a loss per character and a loss per word are not on one scale, nor
 * are characters and words seen.
 */
export function loadLossRuns(args: readonly string[]): LossRun[] {
  // each argument's train_ddp.py summary.json, found once: it reads the model's header beside it
  const summaries = args.map(ddpRunSummary);
  const paths = args.map((arg, i) => summaries[i] ?? checkpointPathOf(arg));
  refuseRunTwice(args, paths);
  const names = paths.map(runName);
  const runs = paths.map((path, i) => {
    const name = names.filter((n) => n === names[i]).length > 1 ? args[i]! : names[i]!;
    if (summaries[i] !== null) return lossRunFromDdpSummary(path, name);
    return lossRunFromCheckpoint(loadCheckpoint(path), name, path);
  });
  const other = runs.findIndex((run) => runLevel(run) !== runLevel(runs[0]!));
  if (other > 0) {
    const level = (i: number) => (runLevel(runs[i]!) === 'word' ? 'word-level' : 'character-level');
    throw new InputError(
      `${args[0]} is a ${level(0)} run and ${args[other]} a ${level(other)} one: their losses (nats per ` +
        `${TOKEN_UNITS[runLevel(runs[0]!)].per}, nats per ${TOKEN_UNITS[runLevel(runs[other]!)].per}) are not on one scale; ` +
        'plot each level on a chart of its own');
  }
  return runs;
}

/**
 * Refuses one checkpoint that two arguments reach (`paths`, what `args` name): named twice, as a run folder
 * and its latest.json, or through a link. A run's best.json beside its folder is another checkpoint.
 */
function refuseRunTwice(args: readonly string[], paths: readonly string[]): void {
  const reached = new Map<string, number>();
  paths.forEach((path, i) => {
    const identity = fileIdentity(statSync(path));
    const first = reached.get(identity);
    if (first !== undefined) {
      throw new InputError(`${args[i]} is in the chart twice${args[first] === args[i] ? '' : ` (also as ${args[first]})`}: name each run once`);
    }
    reached.set(identity, i);
  });
}
