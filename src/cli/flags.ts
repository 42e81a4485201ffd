import { type Command, Option } from 'commander';
import { z } from 'zod';
import { NEWEST_CHECKPOINT, RUN_FOLDER_READS, resolveCheckpointPath } from '../checkpoint/find.js';
import { type Setting, type SettingTable, flagHelp, flagSpec } from '../input/settings.js';
import { workersForCores } from '../train/preflight.js';
import { warn } from './errors.js';

/** The command line as a checkpoint records it: `rnn` and the arguments it was given. */
export function recordedCommand(): string[] {
  return ['rnn', ...process.argv.slice(2)];
}

/** How many threads share a step of one token when --workers is not given (defaultStepperWorkers). */
export const STEPPER_WORKERS_DEFAULT = 'one per million multiply-adds of a step, at most every core';

/** The threads a command runs for the `--workers` given: the cores at most (more only take turns), with a warning. */
export function workersOnCores(asked: number | undefined): number | undefined {
  if (asked === undefined) return undefined;
  const { workers, warning } = workersForCores(asked);
  if (warning) warn(warning);
  return workers;
}

/** The --checkpoint flag of a command that reads one model, `purpose` telling what for (`to sample from`). */
export function checkpointSetting(purpose: string): Setting<string> {
  return { schema: z.string(), arg: '<file>', help: `checkpoint ${purpose}, or a run folder (${RUN_FOLDER_READS}) (default: ${NEWEST_CHECKPOINT})` };
}

/**
 * The checkpoint `--checkpoint` names (a run folder: resolveCheckpointPath), or with none the
 * newest run's under checkpoints/ (its best.json where it has one), which a line on stderr
 * names, so that the output says what made it.
 */
export function checkpointFlag(given: string | undefined): string {
  const path = resolveCheckpointPath(given);
  if (given === undefined) process.stderr.write(`rnn: no --checkpoint given: using ${path}, ${NEWEST_CHECKPOINT}\n`);
  return path;
}

const settingOfFlag = new WeakMap<Option, Setting>();

/** The setting a flag was made from (its help and default apart, for docs/usage.md), if it was made from one. */
export function settingOf(option: Option): Setting | undefined {
  return settingOfFlag.get(option);
}

/** Declares a flag for each setting of `table`, in its order, with its help line, listed under its group. */
export function addSettingFlags(command: Command, table: SettingTable): Command {
  for (const [name, setting] of Object.entries(table)) {
    const option = new Option(flagSpec(name, setting), flagHelp(setting));
    if (setting.group !== undefined) option.helpGroup(`${setting.group} options:`);
    if (setting.repeatable) option.argParser((value: string, previous: string[] = []) => [...previous, value]);
    if (setting.required) option.makeOptionMandatory();
    settingOfFlag.set(option, setting);
    command.addOption(option);
  }
  return command;
}
