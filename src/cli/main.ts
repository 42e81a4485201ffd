import { Command } from 'commander';
import { reportError, unknownCommandLine, usageErrorLine } from './errors.js';
import { refuseMissingValues } from './flags.js';
import { guardOutput } from './pipes.js';
import * as evalCommand from './commands/eval.js';
import * as exportCommand from './commands/export.js';
import * as importCommand from './commands/import.js';
import * as infoCommand from './commands/info.js';
import * as plotCommand from './commands/plot.js';
import * as prepareCommand from './commands/prepare.js';
import * as sampleCommand from './commands/sample.js';
import * as serveCommand from './commands/serve.js';
import * as trainCommand from './commands/train.js';
import { packageVersion } from './version.js';

/** Each command lives in its own file under commands/ and adds itself to the program. */
const COMMANDS: { register(program: Command): void }[] = [
  trainCommand, prepareCommand, sampleCommand, evalCommand, plotCommand, exportCommand, importCommand, infoCommand, serveCommand,
];

/** The `rnn` program with every command, ready to parse. */
export function createProgram(): Command {
  const program = new Command('rnn')
    .description('Character- and word-level RNN / LSTM / GRU language models: train, sample, score.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addHelpText('after', '\nRun `rnn COMMAND --help` for the flags and examples of a command.')
    .helpCommand('help [command...]', 'display help for a command, nested ones too')
    .exitOverride();
  for (const command of COMMANDS) command.register(program);
  reportUsageErrors(program);
  return program;
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
    const next = command.commands.find((sub) => sub.name() === name || sub.aliases().includes(name));
    if (next === undefined) command.error(`error: ${unknownCommandLine(names.slice(0, i + 1), command)}`, { code: 'commander.unknownCommand' });
    command = next;
  }
  return command.help();
}

export async function main(argv: string[]): Promise<number> {
  const program = createProgram();
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
