import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parsedCheckpoint, readCheckpointBytes } from '../checkpoint/checkpoint.js';
import { BEST_FILE_END, RUN_FOLDER_FILES } from '../checkpoint/run-folder.js';
import { type Checkpoint, startsLikeCheckpoint } from '../checkpoint/schema.js';
import { refuseDdpFolder } from '../checkpoint/corpus.js';
import { CheckpointError } from '../checkpoint/errors.js';
import { CHECKPOINT_DIR } from '../checkpoint/find.js';
import { FIXED_ON_RESUME, type TrainSettings, settingsFromConfig } from '../checkpoint/settings.js';
import { WRITE_REMEDY, makeFolders, samePath, notFolderKind } from '../checkpoint/files.js';
import { SettingError, type SettingNamer } from '../input/settings.js';

/** Where a run writes: the checkpoint of its last state and the one with the best validation loss. */
export interface OutputPaths {
  latest: string;
  best: string;
}

/**
 * `--out` layouts:
 * - a path ending in `.json` is a file: `model.json` (latest) and `model.best.json` beside it;
 * - anything else is a folder: `DIR/latest.json` and `DIR/best.json`;
 * - `DIR/latest.json`, a run folder's own latest checkpoint, is the folder DIR (namedOutput), as a resume of it takes it.
 * Without `--out`, a fresh run writes to the folder
 * `checkpoints/<corpus>-<cell>-<L>x<H>-<YYYYMMDD-HHMMSS>/` under the current folder, and a
 * resumed run where the checkpoint it resumes was written (`resumedOut`).
 */
export function outputPaths(out: string): OutputPaths {
  if (namesFile(out)) {
    return { latest: out, best: out.replace(/\.json$/i, BEST_FILE_END) };
  }
  return { latest: join(out, RUN_FOLDER_FILES.latest), best: join(out, RUN_FOLDER_FILES.best) };
}

/**
 * The output `--out out` names: a run folder's own latest checkpoint, `DIR/latest.json`, is the folder DIR (its best
 * `DIR/best.json`, where a resume of `DIR/latest.json` writes it: resumedOut), any other path itself.
 */
export function namedOutput(out: string): string {
  return basename(out) === RUN_FOLDER_FILES.latest ? dirname(out) : out;
}

/** Whether an output path names a checkpoint file (`.json`) rather than a folder. */
function namesFile(path: string): boolean {
  return path.toLowerCase().endsWith('.json');
}

/** A fresh run's output folder when --out is not given (`outputPaths`), stamped with the local time `now`. */
export function defaultOut(corpus: string, settings: TrainSettings, now: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const stamp =
    `${now.getFullYear()}${pad(now.getMonth() + 1)}${pad(now.getDate())}-` +
    `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join(CHECKPOINT_DIR, `${corpus}-${settings.cell}-${settings.layers}x${settings.hidden}-${stamp}`);
}

/**
 * The folder a fresh run without --out writes to: `stamped` (defaultOut), or, where a run started in the same second
 * made that already (a sweep of runs started at once), the first of `stamped-2`, `stamped-3`, … that this run makes, each
 * made by one mkdir, which only one run can. A folder that cannot be made for another reason is left to the checks
 * before the first step (checkOutputWritable) to refuse, with their words.
 */
export function claimDefaultOut(stamped: string): string {
  try {
    makeFolders(dirname(stamped));
  } catch {
    return stamped;
  }
  for (let n = 1; ; n++) {
    const out = n === 1 ? stamped : `${stamped}-${n}`;
    try {
      mkdirSync(out);
      return out;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return out;
    }
  }
}

/**
 * Refuses to write over checkpoints already saved: the output may hold files only when this
 * run resumes its `latest` (the same run going on). Also refuses what `checkOutputIsFolder` does, a checkpoint path
 * that is a folder, and, unless the run goes on, the folder of a train_ddp.py run (`refuseDdpFolder`). A refusal names
 * `setting`, the flag that chose the output: --out, or --resume (with the output it writes to) where no --out was given;
 * where the output is the run of `initFrom` (the checkpoint a fine-tuned run starts from), it says so, not to resume it.
 */
export function checkOutputFree(
  paths: OutputPaths, out: string, resume: string | null, setting: 'out' | 'resume' = 'out', initFrom: string | null = null,
): void {
  checkOutputIsFolder(paths, out);
  // the checkpoint resumed, named by its own path or by a link to it: the file this run's latest writes
  const continuing = resume !== null && samePath(resume, paths.latest);
  if (!continuing && paths.latest === join(out, RUN_FOLDER_FILES.latest)) {
    refuseDdpFolder(out, setting, (name) => `give another ${name('out')}, a folder of its own`);
  }
  const where = (name: SettingNamer): string => (setting === 'resume' ? `${name('resume')} ${resume} writes to ${out}:` : `${name('out')}:`);
  for (const path of [paths.latest, paths.best]) {
    if (!existsSync(path)) continue;
    if (statSync(path).isDirectory()) {
      throw new SettingError(setting, out, (name) => `${where(name)} ${path} is a folder, not a checkpoint file`);
    }
    if (!continuing && !startsLikeCheckpoint(path)) {
      throw new SettingError(setting, out, (name) =>
        `${where(name)} ${path} already exists and is not a checkpoint; choose another ${name('out')}`);
    }
    if (!continuing) {
      throw new SettingError(setting, out, (name) => {
        if (initFrom !== null && samePath(outputPaths(resumedOut(initFrom)).latest, paths.latest)) {
          return `${where(name)} ${path} already exists and this run would overwrite it; it is the run ${name('initFrom')} ${initFrom} ` +
            `comes from, and a fine-tuned run is a new run: choose another ${name('out')}`;
        }
        // a best checkpoint alone has no latest to resume, and another run's best resumes into that run
        const hint = !existsSync(paths.latest) || !resumesHere(paths.latest) ? '' :
          resume === null ? `resume it with ${name('resume')} ${paths.latest}, or ` : `resume ${paths.latest} instead, or `;
        return `${where(name)} ${path} already exists and this run would overwrite it; ${hint}choose another ${name('out')}`;
      });
    }
  }
}

/**
 * Refuses to resume `latest`, the checkpoint read from `resume`, into its own output `paths` where the best checkpoint
 * there is damaged or is not this run's: the run's next improving evaluation would write over it, and with no
 * word where nothing improves. Missing (a run stopped before its first evaluation), it is written at the next one.
 */
export function checkResumedBest(paths: OutputPaths, resume: string | null, latest: Checkpoint | null): void {
  if (resume === null || latest === null || !samePath(resume, paths.latest) || !existsSync(paths.best)) return;
  let best: Checkpoint;
  try {
    best = parsedCheckpoint(readCheckpointBytes(paths.best), paths.best);
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    throw new CheckpointError(`${error.message}; ${paths.latest} is whole: move ${paths.best} away ` +
      'and the resumed run writes a new best at its next evaluation');
  }
  const difference = runDifference(best, latest);
  if (difference === null) return;
  throw new SettingError('resume', resume, (name) =>
    `${paths.best} is not the best checkpoint of ${paths.latest}, which ${name('resume')} goes on with: ${difference(name)}; ` +
    `move ${paths.best} away (the resumed run writes a new best at its next evaluation), ` +
    `or resume into another folder: ${name('resume')} ${paths.latest} ${name('out')} FOLDER`);
}

/**
 * How the checkpoint `best` shows it is not a best checkpoint of the run whose last is `latest`, in words; null where it
 * is one: the settings a resume keeps (FIXED_ON_RESUME) and the vocabulary the same, and its evaluations the run's,
 * up to the one more that a save stopped between the best checkpoint and the last leaves it ahead by.
 */
function runDifference(best: Checkpoint, latest: Checkpoint): ((name: SettingNamer) => string) | null {
  const its = settingsFromConfig(best.config), run = settingsFromConfig(latest.config);
  const differ = FIXED_ON_RESUME.filter((key) => its[key] !== run[key]);
  if (differ.length > 0) {
    const list = (settings: TrainSettings, name: SettingNamer) => differ.map((key) => `${name(key)} ${String(settings[key])}`).join(', ');
    return (name) => `it was trained with ${list(its, name)}, the run with ${list(run, name)}`;
  }
  const token = best.vocab.findIndex((entry, i) => entry !== latest.vocab[i]);
  if (token >= 0 || best.vocab.length !== latest.vocab.length) {
    return () => `its vocabulary of ${best.vocab.length} tokens is not the run's of ${latest.vocab.length}` +
      (token >= 0 ? `, from token ${token} on` : '');
  }
  const parted = best.history.slice(0, latest.history.length).findIndex((entry, i) => !isDeepStrictEqual(entry, latest.history[i]));
  const ahead = best.history.length - latest.history.length;
  if (parted < 0 && ahead <= 1) return null;
  if (parted >= 0) return () => `its evaluations are another run's, from the one at step ${best.history[parted]!.step} on`;
  return () => `it holds ${ahead} evaluations past the run's last (step ${latest.history.at(-1)?.step ?? 0}), ` +
    'where a stop between the two saves leaves one at most';
}

/** Whether a resume of the checkpoint `latest`, with no --out, writes to `latest` itself: not so another run's best checkpoint. */
function resumesHere(latest: string): boolean {
  return resolve(outputPaths(resumedOut(latest)).latest) === resolve(latest);
}

/**
 * Refuses a folder-layout output that names a file, and a file-layout output named as another
 * output's best checkpoint (`DIR/best.json`: a run on DIR's; `DIR/x.best.json`: one on DIR/x.json's),
 * which that run would overwrite while holding its own lock, not this one's.
 */
export function checkOutputIsFolder(paths: OutputPaths, out: string): void {
  const isFolderLayout = paths.latest === join(out, RUN_FOLDER_FILES.latest);
  if (isFolderLayout && existsSync(out) && !statSync(out).isDirectory()) {
    throw new SettingError('out', out, (name) => `${name('out')} ${out} is ${notFolderKind(out)}; give a folder, or a path ending in .json`);
  }
  const file = basename(paths.latest), dir = dirname(paths.latest), lower = file.toLowerCase();
  const owner = isFolderLayout ? null
    : lower === RUN_FOLDER_FILES.best ? `the folder ${dir}`
      : lower.endsWith(BEST_FILE_END) ? join(dir, `${file.slice(0, -BEST_FILE_END.length)}.json`) : null;
  if (owner !== null) {
    throw new SettingError('out', out, (name) => `${name('out')} ${out}: ${file} is where a run writing to ${owner} keeps its best checkpoint; ` +
      `name the file otherwise (not ${RUN_FOLDER_FILES.best}, nor ending in ${BEST_FILE_END})`);
  }
}

/**
 * A resumed run's default output: the one that wrote the checkpoint it resumes. A folder's
 * latest.json or best.json: the folder; FILE.best.json: FILE.json, whose best it is; any other
 * FILE.json: itself; a file not named .json: its folder.
 */
export function resumedOut(resume: string): string {
  const name = basename(resume);
  if (!namesFile(name) || name === RUN_FOLDER_FILES.latest || name === RUN_FOLDER_FILES.best) return dirname(resume);
  return name.toLowerCase().endsWith(BEST_FILE_END) ? `${resume.slice(0, -BEST_FILE_END.length)}.json` : resume;
}

/**
 * The refusal of the output `out`, named by `setting` (the flag that chose it), where `error` stops it being written: its
 * code, and what to do in words where the code has some (WRITE_REMEDY); `more` follows them.
 */
export function unwritableOutput(
  error: unknown, out: string, setting: 'out' | 'resume', more: (name: SettingNamer) => string = () => '',
): SettingError {
  const code = (error as NodeJS.ErrnoException).code ?? '';
  const remedy = WRITE_REMEDY[code] ?? (error instanceof Error ? error.message : String(error));
  return new SettingError(setting, out, (name) => `${name(setting)} ${out} cannot be written (${code || 'error'}): ${remedy}${more(name)}`);
}
