import { rmSync, statfsSync, writeFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { type ModelConfig, gateCount } from '../engine/config.js';
import { ARENA_LIMIT_BYTES } from '../engine/kernels/arena.js';
import { type InputError, SettingError } from '../input/settings.js';
import { threadsOnCores } from '../parallel/threads.js';
import { TEMP_SUFFIX, WIDEST_PID, makeFolders, removeAbandonedTemps, tempFileWriter, writeTarget } from '../checkpoint/files.js';
import type { TrainSettings } from '../checkpoint/settings.js';
import { MAX_CHECKPOINT_CHARS, checkpointChars, diskSize, largestHidden, mib, parameterCount } from '../checkpoint/size.js';
import { lockPath, lockWorkNames } from './lock.js';
import { type OutputPaths, unwritableOutput } from './output.js';

/**
 * Bytes the training engine allocates in its arena: the shared parameters, one gradient per
 * worker, Adam's moments, and the activations of B·T rows (and of the validation rows) with
 * their gradients: logits, embeddings, and per layer the states, gates and dropout masks.
 */
export function engineBytes(model: ModelConfig, settings: Pick<TrainSettings, 'optimizer' | 'batch' | 'seqLen' | 'workers'>): number {
  const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = model;
  const G = gateCount(model.cell) * H;
  const P = parameterCount(model);
  const W = settings.workers;
  const rows = settings.batch * settings.seqLen;
  const perRow = 2 * V + 2 * E + L * (2 * G + 6 * H);
  const floats = P * (1 + W + (settings.optimizer === 'adam' ? 2 : 0)) + 2 * rows * perRow + W * V * G;
  return 4 * floats;
}

/**
 * Checks, before the first step, that the model can be trained and saved here: its checkpoint
 * within the longest string V8 can write, the engine within a WebAssembly memory (4 GiB) and
 * within this machine's memory. Each refusal names the model's layers and hidden size, and
 * the largest hidden size that fits.
 */
export function checkModelFits(model: ModelConfig, settings: TrainSettings): void {
  const memory = Math.min(ARENA_LIMIT_BYTES, totalmem());
  const limits = [
    {
      fits: (m: ModelConfig) => checkpointChars(m, settings) <= MAX_CHECKPOINT_CHARS,
      problem: (m: ModelConfig) =>
        `its checkpoint would be about ${mib(checkpointChars(m, settings))} of JSON, more than the ${mib(MAX_CHECKPOINT_CHARS)} ` +
        'one file can hold (the longest string Node.js can write)',
    },
    {
      fits: (m: ModelConfig) => engineBytes(m, settings) <= memory,
      problem: (m: ModelConfig) =>
        `training it needs about ${mib(engineBytes(m, settings))} of memory, more than the ${mib(memory)} ` +
        (memory === ARENA_LIMIT_BYTES ? 'an engine can address (a WebAssembly memory)' : 'this machine has'),
    },
  ];
  for (const { fits, problem } of limits) {
    if (fits(model)) continue;
    const largest = largestHidden(model, (m) => limits.every((limit) => limit.fits(m)));
    throw new SettingError('hidden', model.hiddenSize, (name) =>
      `${name('layers')} ${model.numLayers} × ${name('hidden')} ${model.hiddenSize}: ${problem(model)}; ` +
        (largest > 0 ? `${name('hidden')} ${largest} is the largest that fits with these settings` :
          `no ${name('hidden')} fits: lower ${name('embed')}, ${name('batch')} or ${name('seqLen')}`));
  }
}

/**
 * More threads than cores only take turns: the worker count a run uses for the `workers` asked,
 * and the warning when it is lowered.
 */
export function workersForCores(workers: number): { workers: number; warning: InputError | null } {
  const fitted = threadsOnCores(workers);
  if (fitted === workers) return { workers, warning: null };
  return {
    workers: fitted,
    warning: new SettingError('workers', workers, (name) => `${name('workers')} ${workers} is more than the ${fitted} cores here; using ${fitted}`),
  };
}

/**
 * Creates the folders the output's checkpoints are written in (where `latest` or `best` is a link, the folder of the file
 * it leads to: `writeTarget`) and writes and removes a probe file in each, so that an output that
 * cannot be written fails before training rather than at the first save; removes the temp files
 * of its checkpoints that a run killed mid-save left (latest's and best's alike: the next save
 * may be of either); then checks that the disk has room for the checkpoints (latest, best and a
 * temp file while one is written). A refusal names `setting`, the flag that chose the output.
 */
export function checkOutputWritable(paths: OutputPaths, out: string, checkpointBytes: number, setting: 'out' | 'resume'): void {
  const latest = writeTarget(paths.latest, 'checkpoint '), best = writeTarget(paths.best, 'checkpoint ');
  const dir = dirname(latest);
  // a resumed run writes where its checkpoint is unless --out says otherwise: that flag is the way to another disk
  const elsewhere = (name: (key: 'out') => string): string => (setting === 'resume' ? ` (${name('out')})` : '');
  // as long a name as the longest the run writes there, so that one too long for the file system is refused now
  const written = [...lockWorkNames(lockPath(paths)), ...[latest, best].map((path) => `${basename(path)}${TEMP_SUFFIX}${WIDEST_PID}`)];
  const probeName = `.rnn-probe-${process.pid}`.padEnd(Math.max(...written.map((name) => Buffer.byteLength(name))), '_');
  for (const folder of new Set([dir, dirname(best)])) {
    const probe = join(folder, probeName);
    try {
      makeFolders(folder);
      writeFileSync(probe, 'probe', { flag: 'wx' });
    } catch (error) {
      throw unwritableOutput(error, out, setting, elsewhere);
    }
    rmSync(probe, { force: true });
  }
  for (const path of [latest, best]) removeAbandonedTemps(dirname(path), (name) => tempFileWriter(name, [basename(path)]));
  let free: number;
  try {
    const stats = statfsSync(dir);
    free = stats.bavail * stats.bsize;
  } catch {
    return; // no figures on this system: the save itself will say
  }
  const needed = 3 * checkpointBytes; // latest, best, and the temp file of the one being written
  if (free < needed) {
    throw new SettingError(setting, out, (name) =>
      `${name(setting)} ${out} cannot hold this run's checkpoints (ENOSPC): about ${diskSize(needed)} are needed ` +
        `and ${diskSize(free)} are free; free some space or choose another disk${elsewhere(name)}`);
  }
}
