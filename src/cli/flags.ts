import { type Command, Option } from 'commander';
import { KERNELS_SETTING } from '../checkpoint/settings.js';
import { PositiveIntegerSchema, type Setting, type SettingTable, flagHelp, flagSpec, inputSchema } from '../input/settings.js';
import { workersForCores } from '../train/preflight.js';
import { userMessage } from './errors.js';

/*
 * Flags shared by several commands, for parseSettings: a described flag reports a bad value as
 * `--workers must be a positive integer (got 0)`.
 */

/** A flag that takes a positive integer, such as `--workers`. */
export const positiveIntegerFlag = PositiveIntegerSchema.optional().describe('a positive integer');

/** `--kernels auto|js|wasm|relaxed`: which implementation of the kernels runs (auto: the fastest this machine runs). */
export const kernelsFlag = inputSchema(KERNELS_SETTING);

/** The threads a command runs for the `--workers` given: the cores at most (more only take turns), with a warning. */
export function workersOnCores(asked: number | undefined): number | undefined {
  if (asked === undefined) return undefined;
  const { workers, warning } = workersForCores(asked);
  if (warning) process.stderr.write(`rnn: warning: ${userMessage(warning)}\n`);
  return workers;
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
    settingOfFlag.set(option, setting);
    command.addOption(option);
  }
  return command;
}
