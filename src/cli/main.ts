import { Command, Help } from 'commander';
import { reportError, unknownCommandLine, usageErrorLine } from './errors.js';
import { exitStatuses } from './exit.js';
import { refuseMissingValues, subcommandNamed } from './flags.js';
import { guardOutput } from './pipes.js';
import { packageVersion } from './version.js';

/** What a command's file gives the program. */
interface CommandFile {
  register(program: Command): void;
}

/** The commands, in the order help lists them, each with its file under commands/, which adds it to the program. */
const COMMANDS = {
  train: () => import('./commands/train.js'),
  prepare: () => import('./commands/prepare.js'),
  sample: () => import('./commands/sample.js'),
  eval: () => import('./commands/eval.js'),
  plot: () => import('./commands/plot.js'),
  export: () => import('./commands/export.js'),
  import: () => import('./commands/import.js'),
  info: () => import('./commands/info.js'),
  serve: () => import('./commands/serve.js'),
} satisfies Record<string, () => Promise<CommandFile>>;

type CommandName = keyof typeof COMMANDS;

const COMMAND_NAMES = Object.keys(COMMANDS) as CommandName[];

/** The flags that print the version. */
const VERSION_FLAGS = ['-V', '--version'];

/**
 * The `rnn` program with the commands `names` (every one by default), ready to parse. Each
 * command's file is loaded here, and with it the modules it runs on: a command line loads those
 * it needs alone (commandsNeeded).
 */
export async function createProgram(names: readonly CommandName[] = COMMAND_NAMES): Promise<Command> {
  const files: CommandFile[] = await Promise.all(names.map((name) => COMMANDS[name]()));
  const program = new Command('rnn')
    .description('Character- and word-level RNN / LSTM / GRU language models: train, sample, score.')
    .version(packageVersion(), VERSION_FLAGS.join(', '), 'print the version')
    .configureHelp({ formatHelp: helpWithExitStatuses })
    .addHelpText('after', '\nRun `rnn COMMAND --help` for the flags and examples of a command.')
    .helpCommand('help [command...]', 'display help for a command, nested ones too')
    .exitOverride();
  for (const file of files) file.register(program);
  reportUsageErrors(program);
  return program;
}

/**
 * A command's help as commander makes it; rnn's (the commands inherit this) with an `Exit status:` section after its
 * commands, wrapped as they are.
 */
function helpWithExitStatuses(command: Command, helper: Help): string {
  const help = Help.prototype.formatHelp.call(helper, command, helper);
  if (command.parent !== null) return help;
  const statuses = exitStatuses();
  const width = Math.max(...statuses.map(([status]) => status.length));
  const items = statuses.map(([status, meaning]) => helper.formatItem(status, width, meaning, helper));
  return [help, ...helper.formatItemList('Exit status:', items, helper)].join('\n');
}

/**
 * Each command's errors in its command line as `usageErrorLine` words them, its own flags
 * suggested, a flag left without its value among them (refuseMissingValues).
 */
function reportUsageErrors(command: Command): void {
  command.showSuggestionAfterError(true).configureOutput({
    outputError: (text, write) => write(text.startsWith('error:') ? usageErrorLine(text, command) : text),
  });
  refuseMissingValues(command);
  for (const sub of command.commands) reportUsageErrors(sub);
}

/**
 * `rnn help eval perplexity`: the help of the command the names lead to, a nested one too
 * (commander's help command looks up the first name alone); a name that leads nowhere is one
 * line naming the commands there are.
 */
function showHelpOf(program: Command, names: readonly string[]): never {
  // `rnn help help`: the help command is rnn's own, told of in rnn's help
  if (names.length === 1 && names[0] === 'help') return program.help();
  let command: Command = program;
  for (const [i, name] of names.entries()) {
    const next = subcommandNamed(command, name);
    if (next === undefined) command.error(`error: ${unknownCommandLine(names.slice(0, i + 1), command)}`, { code: 'commander.unknownCommand' });
    command = next;
  }
  return command.help();
}

/**
 * The commands a command line (its words after `rnn`) needs: the one it names first (`rnn info …`); none where it
 * asks for the version first; else every one, which help lists and an unknown command is told of.
 */
function commandsNeeded([first = '']: readonly string[]): readonly CommandName[] {
  if (VERSION_FLAGS.includes(first)) return [];
  return Object.hasOwn(COMMANDS, first) ? [first as CommandName] : COMMAND_NAMES;
}

export async function main(argv: string[]): Promise<number> {
  const program = await createProgram(commandsNeeded(argv.slice(2)));
  guardOutput();
  try {
    const [first, ...names] = argv.slice(2);
    if (first === 'help' && names.length > 0 && names.every((name) => !name.startsWith('-'))) showHelpOf(program, names);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    return reportError(err);
  }
}
