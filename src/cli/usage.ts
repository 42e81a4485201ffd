import { readFileSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Command, Option } from 'commander';
import { defaultText } from '../input/settings.js';
import { exitStatuses } from './exit.js';
import { settingOf, subcommandNamed } from './flags.js';
import { createProgram } from './main.js';

/*
 * docs/usage.md's flag tables, made from the commands themselves (whose flags are made from the
 * tables of settings), so the page says what the code does. Each table sits between
 * `<!-- flags: COMMAND -->` and `<!-- /flags -->`, the exit statuses (`rnn --help`'s) between
 * `<!-- exit statuses -->` and `<!-- /exit statuses -->`; `npm run docs` rewrites them.
 */

const BLOCK = /<!-- flags: ([a-z ]+) -->\n[\s\S]*?<!-- \/flags -->/g;

const EXIT_BLOCK = /<!-- exit statuses -->\n[\s\S]*?<!-- \/exit statuses -->/;

const cell = (text: string): string => text.replace(/\|/g, '\\|');

/** One table row: the flag, its default, what it does. */
function row(option: Option): string {
  const setting = settingOf(option);
  const help = setting?.help ?? option.description;
  const fallback = option.defaultValue === undefined ? '' : String(option.defaultValue);
  const value = setting ? defaultText(setting) ?? '' : fallback;
  const required = setting?.required ? ' (required)' : '';
  return `| \`${cell(option.flags)}\`${required} | ${cell(value)} | ${cell(help)} |`;
}

/** A command's flags as markdown tables, one per help group (Model, Training, …), in the order its help lists them. */
function flagTables(command: Command): string {
  const groups = new Map<string, Option[]>();
  for (const option of command.options) {
    if (option.hidden) continue;
    const group = option.helpGroupHeading?.replace(/ options:$/, '') ?? '';
    groups.set(group, [...(groups.get(group) ?? []), option]);
  }
  const tables = [...groups].map(([group, options]) => [
    ...(group === '' || groups.size === 1 ? [] : [`**${group}**`, '']),
    '| flag | default | meaning |',
    '|---|---|---|',
    ...options.map(row),
  ].join('\n'));
  return tables.join('\n\n');
}

/** The command a block names: `train`, `eval perplexity`. */
function findCommand(program: Command, path: string): Command {
  let command = program;
  for (const name of path.split(' ')) {
    const next = subcommandNamed(command, name);
    if (!next) throw new Error(`docs/usage.md names a command rnn does not have: ${path}`);
    command = next;
  }
  return command;
}

/** `doc` with every flag table made anew from the commands. */
export async function withFlagTables(doc: string): Promise<string> {
  const program = await createProgram();
  return doc.replace(BLOCK, (_, path: string) => `<!-- flags: ${path} -->\n${flagTables(findCommand(program, path))}\n<!-- /flags -->`);
}

/** `doc` with its table of exit statuses made anew from rnn's. */
export function withExitStatuses(doc: string): string {
  const rows = exitStatuses().map(([status, meaning]) => `| ${status} | ${cell(meaning)} |`);
  return doc.replace(EXIT_BLOCK, () => ['<!-- exit statuses -->', '| status | meaning |', '|---|---|', ...rows, '<!-- /exit statuses -->'].join('\n'));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const path = process.argv[2] ?? 'docs/usage.md';
  const doc = readFileSync(path, 'utf8');
  const made = withExitStatuses(await withFlagTables(doc));
  if (made !== doc) writeFileSync(path, made);
  process.stdout.write(`${path}: ${made === doc ? 'up to date' : 'tables rewritten'}\n`);
}
