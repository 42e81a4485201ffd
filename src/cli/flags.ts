import { type Command, Option } from 'commander';
import { z } from 'zod';
import { CHECKPOINT_FLAG, NEWEST_CHECKPOINT, RUN_FOLDER_READS, resolveCheckpointPath } from '../checkpoint/find.js';
import { type Setting, type SettingTable, flagHelp, flagSpec, settingValues } from '../input/settings.js';
import { visible } from '../input/issues.js';
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
  return {
    schema: z.string(), expected: CHECKPOINT_FLAG.takes, arg: '<file>',
    help: `checkpoint ${purpose}, or a run folder (${RUN_FOLDER_READS}) (default: ${NEWEST_CHECKPOINT})`,
  };
}

/**
 * The checkpoint `--checkpoint` names (a run folder: resolveCheckpointPath), or with none the
 * newest run's under checkpoints/ (its best.json where it has one), which a line on stderr
 * names, so that the output says what made it.
 */
export function checkpointFlag(given: string | undefined): string {
  const path = resolveCheckpointPath(given, undefined, CHECKPOINT_FLAG);
  if (given === undefined) sayNewestTaken('--checkpoint', path);
  return path;
}

/** The line on stderr naming the newest run's `path`, taken where `missing` (`--checkpoint`, a run) was not given. */
export function sayNewestTaken(missing: string, path: string): void {
  process.stderr.write(`rnn: no ${missing} given: using ${visible(path)}, ${NEWEST_CHECKPOINT}\n`);
}

const settingOfFlag = new WeakMap<Option, Setting>();

/** The setting a flag was made from (its help and default apart, for docs/usage.md), if it was made from one. */
export function settingOf(option: Option): Setting | undefined {
  return settingOfFlag.get(option);
}

/**
 * Declares a flag for each setting of `table`, in its order, with its help line, listed under
 * its group. A required one missing is refused once the command's arguments are checked
 * (commander checks its mandatory flags first), so that a missing argument is named first.
 */
export function addSettingFlags(command: Command, table: SettingTable): Command {
  const required: Option[] = [];
  for (const [name, setting] of Object.entries(table)) {
    const option = new Option(flagSpec(name, setting), flagHelp(setting));
    if (setting.group !== undefined) option.helpGroup(`${setting.group} options:`);
    if (setting.repeatable) option.argParser((value: string, previous: string[] = []) => [...previous, value]);
    if (setting.required) required.push(option);
    settingOfFlag.set(option, setting);
    command.addOption(option);
  }
  if (required.length > 0) {
    command.hook('preAction', () => {
      const missing = required.find((option) => command.getOptionValue(option.attributeName()) === undefined);
      if (missing !== undefined) command.error(`error: required option '${missing.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    });
  }
  return command;
}

/** Whether `option` is spelt `word`, long or short. */
const spelt = (option: Option, word: string): boolean => option.long === word || option.short === word;

/** Whether `word` (`--out`, `--out=x`, `-h`) is a flag of `command`, of a command above it, or its help. */
function isFlagOf(command: Command, word: string): boolean {
  const name = word.split('=')[0]!;
  for (let c: Command | null = command; c !== null; c = c.parent) {
    if (c.options.some((option) => spelt(option, name))) return true;
  }
  return command.createHelp().visibleOptions(command).some((option) => spelt(option, name));
}

/**
 * Makes `command` refuse a flag that takes a value given none: the line ends after it, or the
 * next word is another of its flags (`--cell --out x` read --out as the cell), in one line that
 * names the flag and what it takes where its setting says: `--cell needs a value (lstm, gru or
 * rnn)`. Any other word is its value, one that begins with - too (`--prime -x`, `--lr -1`); a
 * value that is a flag's name is given joined (`--prime=--out`).
 */
export function refuseMissingValues(command: Command): void {
  const parseOptions = command.parseOptions.bind(command);
  command.parseOptions = (args) => {
    if (command.parent === null) refuseTypographicDashes(commandNamedIn(command, args), args);
    for (let i = 0; i < args.length && args[i] !== '--'; i++) {
      const option = command.options.find((flag) => spelt(flag, args[i]!));
      if (option === undefined || !option.required) continue;
      const value = args[i + 1];
      if (value === undefined || isFlagOf(command, value)) {
        const setting = settingOf(option);
        const values = setting === undefined ? undefined : settingValues(setting);
        command.error(`error: ${option.long ?? option.flags} needs a value${values === undefined ? '' : ` (${values})`}`,
          { code: 'commander.optionMissingArgument' });
      }
      i++;
    }
    return parseOptions(args);
  };
}

/** The command of `command`'s own that `word` names (by its name or an alias), if any. */
export function subcommandNamed(command: Command, word: string): Command | undefined {
  return command.commands.find((sub) => sub.name() === word || sub.aliases().includes(word));
}

/** The command that `args`, given to `program`, run: the commands they name first, one in another (`eval perplexity`). */
function commandNamedIn(program: Command, args: readonly string[]): Command {
  let command = program;
  for (const word of args) {
    const sub = subcommandNamed(command, word);
    if (sub === undefined) break;
    command = sub;
  }
  return command;
}

/** Dashes that a page or a word processor sets for `-` or `--`: figure, en and em dashes, the horizontal bar, the minus sign. */
const TYPOGRAPHIC_DASH = /^([\u2012-\u2015\u2212])\1?(?=[a-z])/;

/**
 * Refuses a word that is one of `command`'s flags but for a typographic dash in place of `--`
 * (`—hidden`, pasted from a page that set `--` as an em dash), naming the dash: else it would be
 * read as a corpus file not found, or an argument too many.
 */
function refuseTypographicDashes(command: Command, args: readonly string[]): void {
  for (const [i, word] of args.entries()) {
    if (word === '--') return;
    const dash = TYPOGRAPHIC_DASH.exec(word);
    // a flag's value is as given (`--prime —len`)
    if (dash === null || command.options.some((option) => option.required && spelt(option, args[i - 1] ?? ''))) continue;
    const flag = `--${word.slice(dash[0].length)}`;
    if (!isFlagOf(command, flag)) continue;
    const code = `U+${dash[1]!.codePointAt(0)!.toString(16).toUpperCase()}`;
    command.error(`error: ${word} begins with a dash that is not a hyphen (${dash[1]}, ${code}): did you mean ${flag}?`,
      { code: 'commander.unknownOption' });
  }
}
