import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, cpSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option } from 'commander';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { exportState } from '../src/checkpoint/convert.js';
import { usageErrorLine } from '../src/cli/errors.js';
import { EXIT, SIGNAL_EXIT } from '../src/cli/exit.js';
import { settingOf } from '../src/cli/flags.js';
import { createProgram } from '../src/cli/main.js';
import { settingValues } from '../src/input/settings.js';
import { rnnCommand } from '../src/cli/train-summary.js';
import {
  BIN, expectOneLineError, finish, ROOT, rnnIn, rnnOnTerminal, type Run, startRnnOnTerminal, stdoutShows, TINY_RUN,
} from './helpers/cli.js';
import { allElements, parseXml } from './helpers/xml.js';
import { scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';
import { EVAL_GRU } from './helpers/fixtures.js';

/**
 * The CLI a user meets, run as the built `node bin/rnn.js` (`npm test` builds first): version,
 * help, `rnn plot`, colour on a terminal, and what `rnn sample` leaves on stdout.
 */
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * What decides colour for whoever runs the tests, unset, plus `extra`: the colour switches, and
 * the CI markers Node reads before TERM (with CI set, a terminal gets no colour).
 */
function colourFree(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { NO_COLOR: undefined, FORCE_COLOR: undefined, NODE_DISABLE_COLORS: undefined, CI: undefined, CI_NAME: undefined,
    TMUX: undefined, COLORTERM: undefined, ...extra };
}

/** The whole environment of a child started with spawnSync: this one, `RNN_DEBUG` off, colour as `colourFree` leaves it. */
const childEnv = (extra: Record<string, string> = {}) => ({ ...process.env, RNN_DEBUG: '', ...colourFree(extra) });

const scratch = scratchFolder('rnn-e2e-cli-');
const { dir } = scratch;
const at = (...parts: string[]) => join(dir, ...parts);
const rnn = (...args: string[]) => rnnIn(dir, args, colourFree());

beforeAll(async () => {
  writeFileSync(at('corpus.txt'), speeches(4000));
});

describe('rnn --version', () => {
  it.each(['--version', '-V'])('%s prints the package version, from any folder', async (flag) => {
    const run = await rnnIn(scratch.folder(), [flag], colourFree());
    expect(run).toEqual({ status: 0, stdout: `${VERSION}\n`, stderr: '' });
  });
});

describe('the modules a command line loads', () => {
  /** A module hook that appends the URL of every module the process loads to the file $LOADED, one a line. */
  const HOOKS = `import { appendFileSync } from 'node:fs';
export async function load(url, context, next) {
  appendFileSync(process.env.LOADED, url + '\\n');
  return next(url, context);
}
`;

  /**
   * The modules `rnn ARGS` loads, as its exit status and the rnn modules' paths under dist/src/ (`cli/commands/info.js`)
   * with the packages' names (`cli-progress`).
   */
  function modulesLoaded(...args: string[]): { status: number | null; modules: string[] } {
    const folder = scratch.folder();
    const hooks = join(folder, 'hooks.mjs'), register = join(folder, 'register.mjs'), log = join(folder, 'loaded.txt');
    writeFileSync(hooks, HOOKS);
    writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    writeFileSync(log, '');
    const run = spawnSync(process.execPath, ['--import', pathToFileURL(register).href, BIN, ...args],
      { cwd: folder, encoding: 'utf8', env: { ...childEnv(), LOADED: log } });
    const modules = readFileSync(log, 'utf8').split('\n').flatMap((url) => {
      const own = /\/dist\/src\/(.+)$/.exec(url), dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return own !== null ? [own[1]!] : dependency !== null ? [dependency[1]!] : [];
    });
    return { status: run.status, modules: [...new Set(modules)] };
  }

  const commandFiles = (modules: string[]) => modules.filter((module) => module.startsWith('cli/commands/'));

  it('loads no command for --version', () => {
    const { status, modules } = modulesLoaded('--version');
    expect(status).toBe(0);
    expect(modules).toContain('cli/main.js');
    expect(commandFiles(modules)).toEqual([]);
  });

  it.each([['info', '--help'], ['train', '--lr', '-1'], ['sample', '--len', '0']])(
    'loads for rnn %s the command it names alone: no server, and the trainer and its progress bar only for rnn train',
    (...args) => {
      const { modules } = modulesLoaded(...args);
      expect(commandFiles(modules)).toEqual([`cli/commands/${args[0]}.js`]);
      expect(modules).not.toContain('serve/server.js');
      expect(modules.includes('train/trainer.js')).toBe(args[0] === 'train');
      expect(modules.includes('cli-progress')).toBe(args[0] === 'train');
    });

  it('loads every command for --help, which lists them all', () => {
    const { status, modules } = modulesLoaded('--help');
    expect(status).toBe(0);
    expect(commandFiles(modules)).toHaveLength(9);
  });
});

describe('rnn --help', () => {
  const COMMANDS = ['train', 'prepare', 'sample', 'eval', 'plot', 'export', 'import', 'info', 'serve'];

  it('lists every command with a summary on one line', async () => {
    const run = await rnn('--help');
    expect(run.status).toBe(0);
    const section = run.stdout.split('Commands:\n')[1]!.split('\n\n')[0]!.split('\n');
    // a summary that wraps continues on a line of spaces; each line here is a command and its summary
    for (const line of section) expect(line).toMatch(/^ {2}\S.*\S {2,}\S.*$/);
    expect(section.map((line) => line.trim().split(' ')[0])).toEqual([...COMMANDS, 'help']);
    expect(section.length).toBe(COMMANDS.length + 1);
  });

  it.each([...COMMANDS.filter((c) => c !== 'eval'), 'eval perplexity'])('rnn %s --help gives the detail and an example', async (command) => {
    const run = await rnn(...command.split(' '), '--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Usage: rnn ${command} `));
    expect(run.stdout).toMatch(new RegExp(`\\nExamples?:\\n {2}rnn ${command.split(' ')[0]}\\b`));
  });

  it.each(['prepare', 'export', 'import', 'plot'])('rnn %s --help says (required) of a flag that must be given, and what each flag takes where its setting says', async (name) => {
    const command = (await createProgram()).commands.find((c) => c.name() === name)!;
    for (const option of command.options) {
      const setting = settingOf(option)!;
      expect([option.long, option.description.endsWith(' (required)')]).toEqual([option.long, setting.required === true]);
      const values = setting.schema instanceof z.ZodEnum ? setting.schema.options.map(String) : [settingValues(setting) ?? ''];
      for (const value of values) expect(option.description).toContain(value);
    }
  });

  it('has an Exit status: section with each status rnn exits with, and the signals\' 128+n', async () => {
    const run = await rnn('--help');
    const section = run.stdout.split('\nExit status:\n')[1]?.split('\n\n')[0] ?? '';
    // a meaning that wraps continues on a line of spaces; each line here begins with a status
    const statuses = section.split('\n').filter((line) => /^ {2}\S/.test(line)).map((line) => line.trim().split(' ')[0]);
    expect(statuses).toEqual([...Object.values(EXIT).sort((a, b) => a - b).map(String), '128+n']);
    for (const [signal, status] of Object.entries(SIGNAL_EXIT)) expect(section).toMatch(new RegExp(`\\b${status} ${signal}\\b`));
  });

  it('rnn import --help prints the line that says --out is required', async () => {
    expect((await rnn('import', '--help')).stdout).toMatch(/\n {2}--out <file> +the checkpoint file to write \(required\)\n/);
  });

  it.each(['eval perplexity', 'train'])('rnn help %s gives the help that its --help gives', async (command) => {
    const [help, flag] = await Promise.all([rnn('help', ...command.split(' ')), rnn(...command.split(' '), '--help')]);
    expect(help.stdout).toMatch(new RegExp(`^Usage: rnn ${command} `));
    expect(help).toEqual(flag);
  });

  it('rnn help help gives rnn\'s help, which tells what help does', async () => {
    const [help, flag] = await Promise.all([rnn('help', 'help'), rnn('--help')]);
    expect(help.stdout).toMatch(/\n {2}help \[command\.\.\.\] +display help for a command, nested ones too\n/);
    expect(help).toEqual(flag);
  });

  it.each([
    [['eval', 'perplexty'], /^rnn: unknown command 'eval perplexty'; did you mean eval perplexity\?$/],
    [['eval', 'bits'], /^rnn: unknown command 'eval bits'; the commands of rnn eval: perplexity$/],
    [['train', 'fast'], /^rnn: unknown command 'train fast'; rnn train has no commands$/],
    [['trian'], /^rnn: unknown command 'trian'; did you mean train\?$/],
    [['fly'], new RegExp(`^rnn: unknown command 'fly'; the commands of rnn: ${COMMANDS.join(', ')}$`)],
  ])('rnn help %j: one line naming the commands there are, exit status 2', async (names, message) => {
    const run = await rnn('help', ...names);
    expectOneLineError(run, message);
    expect(run.status).toBe(2);
  });
});

describe('a mistyped command line', () => {
  it.each([
    [['sample', '--temp', '0.5'], /^rnn: unknown option --temp: did you mean --temperature\? rnn sample --help lists the flags$/],
    [['train', '--hiden', '8'], /^rnn: unknown option --hiden: did you mean --hidden\? rnn train --help lists the flags$/],
    [['eval', 'perplexity', '--tex', 'a'], /^rnn: unknown option --tex: did you mean --text\? rnn eval perplexity --help lists the flags$/],
    [['sample', '--foo'], /^rnn: unknown option --foo; rnn sample --help lists the flags$/],
    // a value joined by =, a letter typed for another, flags as near as each other, --help too
    [['sample', '--temp=0.5'], /^rnn: unknown option --temp=0\.5: did you mean --temperature\? rnn sample --help lists the flags$/],
    [['sample', '--seef', '3'], /^rnn: unknown option --seef: did you mean --seed\? /],
    [['sample', '--top-x', '3'], /^rnn: unknown option --top-x: did you mean --top-k or --top-p\? /],
    [['sample', '--halp'], /^rnn: unknown option --halp: did you mean --help\? /],
    // a flag that begins the one given, with those the one given begins
    [['sample', '--length', '5'], /^rnn: unknown option --length: did you mean --len or --length-penalty\? rnn sample --help lists the flags$/],
    [['sample', '--seeds', '5'], /^rnn: unknown option --seeds: did you mean --seed\? /],
    [['sample', '--prime-files', 'x'], /^rnn: unknown option --prime-files: did you mean --prime-file\? /],
    // a flag's last words given alone
    [['train', '--steps', '5'], /^rnn: unknown option --steps: did you mean --max-steps\? rnn train --help lists the flags$/],
    [['sample', '--penalty', '1'], /^rnn: unknown option --penalty: did you mean --length-penalty\? /],
    // two letters swapped are one slip of the fingers, as one letter typed for another is
    [['sample', '--tpo-k', '3'], /^rnn: unknown option --tpo-k: did you mean --top-k\? /],
    [['sample', '--lne', '3'], /^rnn: unknown option --lne: did you mean --len\? /],
    // two edits are too many for a name of four letters, and one letter begins too many flags to suggest them
    [['sample', '--unit'], /^rnn: unknown option --unit; rnn sample --help lists the flags$/],
    [['sample', '--t', '1'], /^rnn: unknown option --t; rnn sample --help lists the flags$/],
    [['trian'], /^rnn: unknown command 'trian'; did you mean train\?$/],
    // a flag written with a typographic dash (pasted from a page that set -- as an em dash): the flag, not a file not found
    [['train', 'x.txt', '—hidden', '8'], /^rnn: —hidden begins with a dash that is not a hyphen \(—, U\+2014\): did you mean --hidden\?$/],
    [['sample', '–len', '8'], /^rnn: –len begins with a dash that is not a hyphen \(–, U\+2013\): did you mean --len\?$/],
    // an argument to a command that takes only commands: the commands it takes
    [['eval', 'notes.txt'], /^rnn: unknown command 'notes\.txt'; the commands of rnn eval: perplexity$/],
    [['fly'], /^rnn: unknown command 'fly'; the commands of rnn: train, prepare, sample, eval, plot, export, import, info, serve$/],
    // a flag of a command's command, given to the command (rnn eval's to rnn eval perplexity)
    [['eval', '--checkpoint', 'x.json'], /^rnn: unknown option --checkpoint: did you mean rnn eval perplexity --checkpoint\? rnn eval --help lists the flags$/],
    [['eval', '--text=a'], /^rnn: unknown option --text=a: did you mean rnn eval perplexity --text=a\? rnn eval --help lists the flags$/],
    // a checkpoint given as an argument to a command that takes it as a flag
    [['sample', 'ckpt.json'], /^rnn: sample takes no arguments \(got 1\); name a checkpoint with --checkpoint FILE; rnn sample --help lists the flags$/],
    [['info', 'a.json', 'b.json'], /^rnn: info takes at most 1 argument \(got 2\); rnn info --help lists the flags$/],
    // a flag that takes a value, followed by another flag (joined to its value or not) or by nothing: what it takes, as its setting says
    [['train', 'x.txt', '--cell', '--out', 'x'], /^rnn: --cell needs a value \(lstm, gru or rnn\)$/],
    [['train', '--cell', '--out=x'], /^rnn: --cell needs a value \(lstm, gru or rnn\)$/],
    [['train', '--layers'], /^rnn: --layers needs a value \(a positive integer\)$/],
    [['train', '--lr'], /^rnn: --lr needs a value \(a number > 0\)$/],
    [['train', '--dropout', '--lr-decay'], /^rnn: --dropout needs a value \(a number in \[0, 1\)\)$/],
    [['train', '--lr-decay'], /^rnn: --lr-decay needs a value \(a number in \(0, 1\]\)$/],
    [['train', '--clip', '--clip-value', '1'], /^rnn: --clip needs a value \(a number >= 0; 0: off\)$/],
    [['train', '--eval-every', '--time', '1m'], /^rnn: --eval-every needs a value \(an integer >= 0\)$/],
    [['train', '--time'], /^rnn: --time needs a value \(a positive duration up to 8760h \(a year\) such as 90s, 3m, 1h or 1h30m, or a number of seconds\)$/],
    [['sample', '--seed', '--len', '5'], /^rnn: --seed needs a value \(an integer from 0 to 4294967295\)$/],
    [['plot', 'run/', '--out', '--title', 'loss'], /^rnn: --out needs a value \(an \.svg file\)$/],
    [['sample', '--prime', '-h'], /^rnn: --prime needs a value \(the text to start from\)$/],
    [['train', 'x.txt', '--out'], /^rnn: --out needs a value \(a folder, or a \.json file, to write the checkpoints to\)$/],
    [['eval', 'perplexity', '--text'], /^rnn: --text needs a value \(a text to score\)$/],
    [['prepare', 'x.txt', '--out'], /^rnn: --out needs a value \(the folder to write train\.bin, val\.bin and meta\.json to\)$/],
    // a missing argument is named before a missing --out: it is what the command is about
    [['import'], /^rnn: import needs a <state> argument: rnn-state\/1 JSON file, or a \.safetensors file that rnn export wrote$/],
    [['export', '--format', 'torch'], /^rnn: export needs a <checkpoint> argument: checkpoint file, or a run folder \(its best\.json, else latest\.json\)$/],
  ])('%j: one line naming what it likely meant, exit status 2', async (args, message) => {
    const run = await rnn(...args);
    expectOneLineError(run, message);
    expect(run.status).toBe(2);
  });

  it('takes a value that begins with - but is no flag, or is joined to its flag, as the value', async () => {
    expectOneLineError(await rnn('train', '--lr', '-1'), /^rnn: --lr: must be a number > 0 \(got -1\)$/);
    expectOneLineError(await rnn('eval', 'perplexity', '--text', '-x', '--text=--json', '--checkpoint', at('missing.json')),
      /^rnn: --checkpoint: checkpoint not found: .*missing\.json; give /);
    expectOneLineError(await rnn('sample', '--prime', '-x', '--checkpoint', at('missing.json')), /^rnn: --checkpoint: checkpoint not found: .*missing\.json; give /);
    expectOneLineError(await rnn('sample', '--prime', '—len', '--checkpoint', at('missing.json')), /^rnn: --checkpoint: checkpoint not found: .*missing\.json; give /);
  });

  it('an unknown option that names a file or folder here says so and how to name it; named after --, it is read', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, '-notes.txt'), speeches(2000));
    mkdirSync(join(folder, '-runs'));
    const run = (...args: string[]) => rnnIn(folder, args, colourFree());
    const [file, inFolder, eval_, sample] = await Promise.all([
      run('train', '-notes.txt', '--max-steps', '1'),
      run('info', '-runs'),
      run('eval', 'perplexity', '--checkpoint', at('missing.json'), '-notes.txt'),
      run('sample', '-notes.txt'),
    ]);
    const named = (kind: string, name: string, command: string) => `${kind} here, but a word that begins with - reads as a flag: ` +
      `name it ./${name}, or last, after -- (rnn ${command} … -- ${name})`;
    expectOneLineError(file, `rnn: unknown option -notes.txt, which names a ${named('file', '-notes.txt', 'train')}`);
    expectOneLineError(inFolder, `rnn: unknown option -runs, which names a ${named('folder', '-runs', 'info')}`);
    expectOneLineError(eval_, `rnn: unknown option -notes.txt, which names a ${named('file', '-notes.txt', 'eval perplexity')}`);
    // a command that takes no arguments: the file is no argument of it either
    expectOneLineError(sample, 'rnn: unknown option -notes.txt; rnn sample --help lists the flags');
    const trained = await run('train', ...TINY_RUN, '--max-steps', '1', '--out', 'run', '--', '-notes.txt');
    expect(trained.status).toBe(0);
    expect(loadCheckpoint(join(folder, 'run', 'latest.json')).corpus?.files.map((each) => each.path)).toEqual([join(folder, '-notes.txt')]);
  });

  it('says what every flag that takes a value takes, of every command, where it is given none', async () => {
    const flags: string[][] = [];
    const walk = (command: Command, names: string[]): void => {
      for (const option of command.options) if (option.required) flags.push([...names, option.long!]);
      for (const sub of command.commands) walk(sub, [...names, sub.name()]);
    };
    walk(await createProgram(), []);
    expect(flags.length).toBeGreaterThan(60);
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      for (const args of flags) {
        const refused = await (await createProgram()).parseAsync(args, { from: 'user' }).then(() => null, (err: unknown) => (err as Error).message);
        expect(refused, args.join(' ')).toMatch(new RegExp(`^error: ${args.at(-1)} needs a value \\(\\S.*\\)$`));
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('suggests no flag that --help leaves out', () => {
    const command = new Command('sample').option('--seed <n>').addOption(new Option('--secret <n>').hideHelp());
    expect(usageErrorLine("error: unknown option '--secre'\n", command)).toBe('rnn: unknown option --secre; sample --help lists the flags\n');
  });
});

describe('with two trained runs', () => {
  beforeAll(async () => {
    const [withVal, noVal] = await Promise.all([
      rnn('train', at('corpus.txt'), ...TINY_RUN, '--max-steps', '20', '--eval-every', '5', '--out', at('runs', 'with-val')),
      rnn('train', at('corpus.txt'), ...TINY_RUN, '--max-steps', '10', '--eval-every', '5', '--val-frac', '0', '--out', at('runs', 'no-val.json')),
    ]);
    expect([withVal.status, noVal.status, withVal.stderr.includes('internal error')]).toEqual([0, 0, false]);
    // plain progress (stderr is a pipe) ends with the commands to try the run: its best checkpoint, else its latest
    // as it was run: node and the launcher's path
    const rnnAsRun = rnnCommand(BIN, dir);
    expect(withVal.stderr).toContain(`\nsample it:   ${rnnAsRun} sample --checkpoint ${at('runs', 'with-val', 'best.json')}\n`);
    expect(withVal.stderr).toContain(`\nevaluate it: ${rnnAsRun} eval perplexity --checkpoint ${at('runs', 'with-val', 'best.json')}\n`);
    expect(noVal.stderr).toContain(`\nsample it:   ${rnnAsRun} sample --checkpoint ${at('runs', 'no-val.json')}\n`);
    expect(noVal.stderr).not.toContain('evaluate it:');
  });

  describe('rnn plot', () => {
    it('draws both runs: a folder as its latest.json, a file as it is', async () => {
      const out = at('charts', 'loss.svg');
      const run = await rnn('plot', at('runs', 'with-val'), at('runs', 'no-val.json'), '--out', out, '--title', 'with & without');
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const history = loadCheckpoint(at('runs', 'with-val', 'latest.json')).history;
      const best = Math.min(...history.map((h) => h.valLoss!));
      expect(run.stdout).toBe(
        `with-val: ${history.length} evaluations, best validation loss ${best.toFixed(4)}\n` +
          'no-val: 2 evaluations, no validation loss\n' +
          `wrote ${out}\n`,
      );
      const elements = allElements(parseXml(readFileSync(out, 'utf8')));
      const groups = elements.filter((e) => e.attrs['class'] === 'run');
      expect(groups.map((g) => g.attrs['data-run'])).toEqual(['with-val', 'no-val']);
      const lines = (g: (typeof groups)[number], cls: string) => allElements(g).filter((e) => e.name === 'polyline' && e.attrs['class'] === cls);
      expect(groups.map((g) => [lines(g, 'train').length, lines(g, 'val').length])).toEqual([[1, 1], [1, 0]]);
      expect(lines(groups[0]!, 'val')[0]!.attrs['points']!.split(' ')).toHaveLength(history.length);
      expect(elements.filter((e) => e.attrs['class'] === 'best-label').map((e) => e.text)).toEqual([best.toFixed(3)]);
    });

    it('draws the newest run under checkpoints/ where none is named, as a run folder (its latest.json), saying which on stderr', async () => {
      const project = scratch.folder();
      const runs = join(project, 'checkpoints');
      cpSync(at('runs', 'with-val'), join(runs, 'a'), { recursive: true });
      mkdirSync(join(runs, 'b'));
      copyFileSync(at('runs', 'no-val.json'), join(runs, 'b', 'latest.json'));
      const written = (path: string, seconds: number) => utimesSync(path, seconds, seconds);
      written(join(runs, 'a', 'latest.json'), 1_000);
      written(join(runs, 'a', 'best.json'), 2_000);
      written(join(runs, 'b', 'latest.json'), 3_000);
      const newest = await rnnIn(project, ['plot', '--out', 'loss.svg'], colourFree());
      expect(newest).toEqual({
        status: 0, stdout: 'b: 2 evaluations, no validation loss\nwrote loss.svg\n',
        stderr: `rnn: no run given: using ${join('checkpoints', 'b')}, the newest run under checkpoints/\n`,
      });
      // a run's best.json written last stands for its folder, drawn from its latest.json
      written(join(runs, 'a', 'best.json'), 4_000);
      const history = loadCheckpoint(join(runs, 'a', 'latest.json')).history;
      const best = Math.min(...history.map((h) => h.valLoss!));
      expect(await rnnIn(project, ['plot', '--out', 'loss.svg'], colourFree())).toEqual({
        status: 0, stdout: `a: ${history.length} evaluations, best validation loss ${best.toFixed(4)}\nwrote loss.svg\n`,
        stderr: `rnn: no run given: using ${join('checkpoints', 'a')}, the newest run under checkpoints/\n`,
      });
    });

    it('replaces --out atomically, leaving no temp file', async () => {
      const out = at('again.svg');
      writeFileSync(out, 'old');
      expect((await rnn('plot', at('runs', 'with-val'), '--out', out)).status).toBe(0);
      expect(readFileSync(out, 'utf8')).toMatch(/^<svg /);
      expect(spawnSync('ls', [dir]).stdout.toString()).not.toMatch(/\.tmp-/);
    });

    it.each([
      ['none named, and no run under checkpoints/', () => ['plot', '--out', at('x.svg')],
        /^rnn: no checkpoint found under \/.*\/checkpoints\/: name one: rnn plot CHECKPOINT\.\.\. --out FILE\.svg, or train one first \(rnn train\)$/],
      ['one run twice, as a folder and its latest.json', () => ['plot', at('runs', 'with-val'), at('runs', 'with-val', 'latest.json'), '--out', at('x.svg')],
        /^rnn: .*with-val\/latest\.json is in the chart twice \(also as .*runs\/with-val\): name each run once$/],
      ['a missing checkpoint', () => ['plot', at('nope.json'), '--out', at('x.svg')], /^rnn: checkpoint not found: .*nope\.json; name a checkpoint file or a run folder that `rnn train` wrote \(its latest\.json\), or a finished examples\/pytorch\/train_ddp\.py run: its summary\.json, its --out folder or its model\.safetensors$/],
      ['a folder of runs, without latest.json', () => ['plot', at('runs'), '--out', at('x.svg')],
        /^rnn: .*runs is a folder of runs, not a run \(.*runs\/with-val\/.*\): name a checkpoint file or a run folder/],
      ['a train_ddp.py result (model.safetensors, summary.json) from before its summary recorded the tokens of a step', () => {
        mkdirSync(at('ddp'), { recursive: true });
        exportState(at('runs', 'with-val', 'latest.json'), at('ddp', 'model.safetensors'));
        writeFileSync(at('ddp', 'summary.json'), '{"ranks": 1, "steps": 1, "train_losses": [4.2], "val_loss": 4.1}\n');
        return ['plot', at('ddp'), '--out', at('x.svg')];
      }, /^rnn: .*ddp\/summary\.json is the summary of a train_ddp\.py run from before it recorded the tokens of a step \(its format is missing, expected "train_ddp-summary\/1"\): train the run again with examples\/pytorch\/train_ddp\.py to plot it$/],
      ['a train_ddp.py model with its run\'s state beside it, no summary', () => {
        mkdirSync(at('ddp-stopped'), { recursive: true });
        exportState(at('runs', 'with-val', 'latest.json'), at('ddp-stopped', 'model.safetensors'));
        writeFileSync(at('ddp-stopped', 'state.pt'), 'a saved run');
        return ['plot', at('ddp-stopped'), '--out', at('x.svg')];
      }, /^rnn: .*ddp-stopped is a folder without latest\.json, but a model file: .*ddp-stopped\/model\.safetensors records no losses to plot: name a checkpoint file or a run folder that `rnn train` wrote \(its latest\.json\), or a finished examples\/pytorch\/train_ddp\.py run: its summary\.json, its --out folder or its model\.safetensors$/],
      ['an imported model, which has no history', () => ['plot', at('imported.json'), '--out', at('x.svg')],
        /^rnn: .*imported\.json is an imported model \(rnn import\): it records no training by rnn, so no losses to plot; /],
      ['an --out that cannot be written', () => ['plot', at('runs', 'with-val'), '--out', at('corpus.txt', 'x.svg')],
        /^rnn: cannot write plot .*corpus\.txt\/x\.svg: /],
      ['an --out that is not .svg', () => ['plot', at('runs', 'with-val'), '--out', at('x.png')], /^rnn: --out: must be an \.svg file \(got .*x\.png\)$/],
      ['no --out', () => ['plot', at('runs', 'with-val')], /^rnn: required option '--out <file\.svg>' not specified$/],
    ])('%s: one line on stderr, no stack, non-zero exit, nothing written', async (_, args, message) => {
      if (!existsSync(at('imported.json'))) {
        // a model imported from PyTorch has trained no steps here: no history
        expect((await rnn('import', EVAL_GRU, '--out', at('imported.json'))).status).toBe(0);
      }
      expectOneLineError(await rnn(...args()), message);
      expect(existsSync(at('x.svg'))).toBe(false);
      expect(existsSync(at('x.png'))).toBe(false);
    });
  });

  describe('rnn sample > file', () => {
    it('leaves only the prime and the drawn text in the file; the warning goes to stderr', () => {
      const file = at('sample.txt');
      const prime = 'The ☃ ';
      const fd = openSync(file, 'w');
      let result;
      try {
        result = spawnSync(process.execPath, [BIN, 'sample', '--checkpoint', at('runs', 'with-val', 'latest.json'), '--len', '40',
          '--seed', '5', '--prime', prime], { cwd: dir, env: childEnv(), stdio: ['ignore', fd, 'pipe'], encoding: 'utf8' });
      } finally {
        closeSync(fd);
      }
      expect(result.status).toBe(0);
      expect(result.stderr).toMatch(/^rnn: warning: --prime has 1 character outside the vocabulary of .*latest\.json \("☃"\); it reads as <UNK>\n$/);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(prime)).toBe(true);
      expect([...text.slice(prime.length)]).toHaveLength(40);
      // the same run through a pipe gives the same bytes: nothing else is ever on stdout
      const piped = spawnSync(process.execPath, [BIN, 'sample', '--checkpoint', at('runs', 'with-val', 'latest.json'), '--len', '40',
        '--seed', '5', '--prime', prime], { cwd: dir, env: childEnv(), encoding: 'utf8' });
      expect(piped.stdout).toBe(text);
    });
  });

  it('rnn sample --temperature 0 names the flags beside it that shape random draws: it uses none of them', async () => {
    const run = await rnn('sample', '--checkpoint', at('runs', 'with-val', 'latest.json'), '--len', '5', '--temperature', '0', '--seed', '3', '--top-k', '2');
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('rnn: warning: --top-k has no effect with --temperature 0: it takes the most probable token, drawing nothing at random\n' +
      'rnn: warning: --seed has no effect with --temperature 0: it takes the most probable token, drawing nothing at random\n');
    expect([...run.stdout]).toHaveLength(5);
  });

  describe('a flag given twice', () => {
    it('takes its last value, so that a flag after an alias\'s overrides it', async () => {
      const run = await rnn('sample', '--checkpoint', at('runs', 'with-val', 'latest.json'), '--len', '5', '--seed', '3', '--len', '9');
      expect([run.status, run.stderr]).toEqual([0, '']);
      expect([...run.stdout]).toHaveLength(9);
    });
  });

  describe('rnn sample on a terminal', () => {
    it('names the seed it drew, which draws the same sample again; nothing where --seed is given, or off a terminal', async () => {
      const checkpoint = at('runs', 'with-val', 'latest.json');
      const sample = (...more: string[]) => ['sample', '--checkpoint', checkpoint, '--len', '40', ...more];
      /** What the terminal showed, its line ends as the text's. */
      const shown = (run: Run) => run.stdout.replace(/\r\n/g, '\n');
      const drawn = await rnnOnTerminal(dir, sample(), colourFree());
      expect(drawn.status).toBe(0);
      const line = /^rnn: seed (\d+) \(--seed \1 draws this sample again\)\n/.exec(shown(drawn));
      expect(line).not.toBeNull();
      const again = await rnn(...sample('--seed', line![1]!));
      expect(again.stderr).toBe('');
      expect(shown(drawn).slice(line![0].length)).toBe(`${again.stdout}\n`);
      expect(shown(await rnnOnTerminal(dir, sample('--seed', line![1]!), colourFree()))).toBe(`${again.stdout}\n`);
      const piped = await rnn(...sample());
      expect([piped.status, piped.stderr]).toEqual([0, '']);
    });

    it('names no seed at --temperature 0, which draws nothing at random: every seed draws that sample', async () => {
      const greedy = ['sample', '--checkpoint', at('runs', 'with-val', 'latest.json'), '--len', '40', '--temperature', '0'];
      const piped = await rnn(...greedy);
      expect([piped.status, piped.stderr]).toEqual([0, '']);
      const shown = await rnnOnTerminal(dir, greedy, colourFree());
      expect([shown.status, shown.stdout.replace(/\r\n/g, '\n')]).toEqual([0, `${piped.stdout}\n`]);
    });

    it('ends the text on a line of its own with no blank line after it, where the text ends with a line break itself', async () => {
      // a model of line breaks alone: every token it draws (a line break, or <EOS>, which parts its documents with one) prints as one
      writeFileSync(at('line-breaks.txt'), '\n'.repeat(2000));
      const trained = await rnn('train', at('line-breaks.txt'), ...TINY_RUN, '--max-steps', '2', '--out', at('line-breaks-run'));
      expect(trained.status).toBe(0);
      for (const how of [['--seed', '3'], ['--beam', '2']]) {
        const sample = ['sample', '--checkpoint', at('line-breaks-run'), '--len', '3', ...how];
        expect(await rnn(...sample)).toEqual({ status: 0, stdout: '\n\n\n', stderr: '' });
        const shown = await rnnOnTerminal(dir, sample, colourFree());
        expect([shown.status, shown.stdout.replace(/\r\n/g, '\n')]).toEqual([0, '\n\n\n']);
      }
    });
  });

  describe('rnn eval perplexity on a terminal', () => {
    it('tells on stderr how far it has come through each text, on one line cleared for the table; nothing off a terminal', async () => {
      const text = at('scored.txt');
      writeFileSync(text, 'to be or not to be\n'.repeat(20));
      const score = ['eval', 'perplexity', '--checkpoint', at('runs', 'with-val', 'latest.json'), text, '--text', 'to be'];
      const piped = await rnn(...score);
      expect([piped.status, piped.stderr]).toEqual([0, '']);
      const shown = await rnnOnTerminal(dir, score, colourFree({ TERM: 'xterm-256color' }));
      expect(shown.status).toBe(0);
      // each status drawn over the last from the line's start, the rest of the line cleared
      const drawn = [...shown.stdout.matchAll(new RegExp(`\\r([^\\r\\n]*)${ESC}\\[K`, 'g'))].map((m) => m[1]!);
      const percents = drawn.filter((line) => line.endsWith(` of ${text}`)).map((line) => Number(/^scoring: (\d+)% of /.exec(line)![1]));
      const told = drawn.filter((line) => line !== '');
      expect(told.slice(0, 3)).toEqual([`reading ${text}…`, `tokenizing ${text}…`, `scoring: 0% of ${text}`]);
      expect(percents.at(-1)).toBe(100);
      expect(percents.every((percent, i) => i === 0 || percent > percents[i - 1]!)).toBe(true);
      expect(told.slice(told.indexOf('tokenizing text 1…'))).toEqual(
        ['tokenizing text 1…', ...[0, 16, 33, 50, 66, 83, 100].map((percent) => `scoring: ${percent}% of text 1`)]);
      // cleared before the table, which follows as it is off a terminal
      expect(drawn.at(-1)).toBe('');
      expect(shown.stdout.slice(shown.stdout.lastIndexOf(`${ESC}[K`) + 3).replace(/\r\n/g, '\n')).toBe(piped.stdout);
      // a terminal that draws no line over another (TERM=dumb) gets no status
      const dumb = await rnnOnTerminal(dir, score, colourFree({ TERM: 'dumb' }));
      expect(dumb.stdout.replace(/\r\n/g, '\n')).toBe(piped.stdout);
    });

    it('clears its status line when Ctrl-C ends it while it scores, and exits 130', async () => {
      // a text long enough that its scoring is under way when Ctrl-C is typed, once its status shows 1%
      const text = at('long.txt');
      writeFileSync(text, 'to be or not to be\n'.repeat(100_000));
      const terminal = startRnnOnTerminal(dir, ['eval', 'perplexity', '--checkpoint', at('runs', 'with-val', 'latest.json'), text],
        colourFree({ TERM: 'xterm-256color' }));
      const ended = finish(terminal);
      await stdoutShows(terminal, `scoring: 1% of ${text}`);
      terminal.stdin!.write('\x03');
      const run = await ended;
      expect(run.code).toBe(130);
      expectClearedAfterCtrlC(run.stdout);
    });
  });
});

/** util-linux `script` runs a command on a pseudo-terminal, where `rnn train` shows its live display. */
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).stdout?.includes('util-linux') ?? false;
const ESC = String.fromCharCode(0x1b);
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`); // a colour or style: what NO_COLOR turns off (cursor movement stays)

/**
 * What a terminal shows of a command's status line from the ^C it echoes where the cursor is, at the line's end: the
 * line cleared, and nothing after it. Redraws of the status may come between: a draw can fall between the key and the
 * signal's handler, which runs at rnn's next turn of the event loop.
 */
function expectClearedAfterCtrlC(terminalOutput: string): void {
  const fromCtrlC = terminalOutput.slice(terminalOutput.indexOf('^C'));
  expect(fromCtrlC).toMatch(new RegExp(`^\\^C(\\r[^\\r\\n${ESC}]*${ESC}\\[K)*\\r${ESC}\\[K$`));
}

describe('rnn train on a terminal', () => {
  beforeAll(() => {
    if (!hasScript) throw new Error("util-linux's script(1) is missing: apt-get install -y bsdutils (Debian ships it with every system)");
  });
  let count = 0;
  const onTerminal = (env: Record<string, string>, columns?: number): Promise<Run> => rnnOnTerminal(dir,
    ['train', at('corpus.txt'), ...TINY_RUN, '--max-steps', '12', '--eval-every', '4', '--out', at(`tty-${count++}`)],
    colourFree({ TERM: 'xterm-256color', ...env }), columns === undefined ? undefined : `stty cols ${columns}`);
  /** What the terminal shows, escapes removed and carriage returns as line ends. */
  const visible = (text: string) => text.replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, 'g'), '').replace(/\r\n?/g, '\n');

  it('ends with a chart of the validation loss and the commands to sample and evaluate the best checkpoint', async () => {
    const run = await onTerminal({});
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(SGR);
    const shown = visible(run.stdout);
    expect(shown).toMatch(/\nvalidation loss, 3 evaluations from step 4 to 12:\n {2}\d\.\d{3} ┤[▁-█ ]*[▁-█]\n {8}│[▁-█ ]*\n {8}│[▁-█ ]*\n {2}\d\.\d{3} ┤[▁-█]{3}\n/);
    const best = join(at(`tty-${count - 1}`), 'best.json');
    const rnnAsRun = rnnCommand(BIN, dir);
    expect(shown).toContain(`\nsample it:   ${rnnAsRun} sample --checkpoint ${best}\nevaluate it: ${rnnAsRun} eval perplexity --checkpoint ${best}\n`);
    // each save says its step, as off a terminal
    expect(shown).toContain(`\nsaved best checkpoint ${best} (step 12)\n`);
  });

  it('wraps its first lines to a narrow terminal, which it would otherwise cut while the bar runs', async () => {
    const run = await onTerminal({}, 60);
    expect(run.status).toBe(0);
    const out = at(`tty-${count - 1}`);
    const shown = visible(run.stdout);
    const header = shown.slice(0, shown.indexOf('eval step'));
    for (const line of header.split('\n')) expect(line.length).toBeLessThanOrEqual(60);
    const joined = header.replace(/\n {2}(?=\S)/g, ' ');
    expect(joined).toMatch(/validation characters, \d+ steps per epoch \(batch 4 × 8\), 1 worker, (js|wasm|relaxed) kernels\n/);
    expect(joined).toContain(`checkpoints: ${join(out, 'latest.json')} (best: ${join(out, 'best.json')})\n`);
  });

  it('fits the bar and the step it shows to the terminal, which cuts a longer line while the bar runs', async () => {
    for (const columns of [40, 60, 80]) {
      const run = await onTerminal({}, columns);
      expect(run.status).toBe(0);
      // cli-progress draws the bar from the line's first column to a clear of its rest
      const drawn = [...run.stdout.matchAll(new RegExp(`${ESC}\\[1G([^\\r\\n]*?)${ESC}\\[0K`, 'g'))].map((m) => visible(m[1]!));
      const steps = drawn.filter((line) => line.includes('loss'));
      expect(steps.length).toBeGreaterThan(0);
      for (const line of steps) {
        expect([...line].length).toBeLessThanOrEqual(columns);
        expect(line).toMatch(/^([█░]{10,24} )?(epoch \d\.\d\d )?step \d+\/12 \| loss \d\.\d{3} \| (val (—|\d\.\d{3}) .*\| )?ETA \d+s$/);
      }
    }
  });

  it('writes no colour with NO_COLOR set, or FORCE_COLOR=0', async () => {
    const envs: Record<string, string>[] = [{ NO_COLOR: '1' }, { FORCE_COLOR: '0' }];
    for (const env of envs) {
      const run = await onTerminal(env);
      expect(run.status).toBe(0);
      expect(visible(run.stdout)).toContain('validation loss, 3 evaluations');
      expect(run.stdout).not.toMatch(SGR);
    }
  });

  it('writes plain lines to TERM=dumb, which cannot move its cursor to redraw a bar', async () => {
    const run = await onTerminal({ TERM: 'dumb' });
    expect(run.status).toBe(0);
    expect(run.stdout).not.toContain(ESC);
    expect(run.stdout).toMatch(/\nepoch 0\.\d\d step 2\/12 \| loss \d\.\d{3} \| val — \| /);
  });

  it('words each evaluation as off a terminal, one of a run with no validation split too', async () => {
    for (const valFrac of ['0.1', '0']) {
      const args = (out: string) => ['train', at('corpus.txt'), ...TINY_RUN, '--max-steps', '8', '--eval-every', '4', '--val-frac', valFrac, '--out', at(out)];
      // wide enough that no line is wrapped
      const shown = await rnnOnTerminal(dir, args(`tty-evals-${valFrac}`), colourFree({ TERM: 'xterm-256color' }), 'stty cols 500');
      const piped = await rnnIn(dir, args(`plain-evals-${valFrac}`), colourFree());
      expect(shown.status).toBe(0);
      expect(piped.status).toBe(0);
      // the bar is drawn over, not ended by a line end, before the line logged above it
      const evals = (text: string) => visible(text).split('\n').filter((line) => line.includes('eval step')).map((line) => line.slice(line.indexOf('eval step')));
      expect(evals(piped.stderr)).toHaveLength(2);
      expect(evals(shown.stdout)).toEqual(evals(piped.stderr));
    }
  });

  it('lets FORCE_COLOR win over NO_COLOR, as Node does', async () => {
    expect((await onTerminal({ NO_COLOR: '1', FORCE_COLOR: '1' })).stdout).toMatch(SGR);
  });
});

describe('rnn prepare on a terminal', () => {
  /**
   * `rnn prepare` of `lines` lines of text on a terminal, Ctrl-C typed once its status shows `status`: the run and its
   * --out folder.
   */
  async function stoppedOnStatus(name: string, lines: number, status: string) {
    if (!hasScript) throw new Error("util-linux's script(1) is missing: apt-get install -y bsdutils (Debian ships it with every system)");
    const text = at(`${name}.txt`), out = at(name);
    writeFileSync(text, 'to be or not to be\n'.repeat(lines));
    const terminal = startRnnOnTerminal(dir, ['prepare', text, '--out', out], colourFree({ TERM: 'xterm-256color' }));
    const ended = finish(terminal);
    await stdoutShows(terminal, status);
    terminal.stdin!.write('\x03');
    const run = await ended;
    return { run, out };
  }

  it('clears its status line when Ctrl-C ends it while it tokenizes, removes its temp files and lock, and exits 130', async () => {
    // a text long enough that its tokenizing is under way when Ctrl-C is typed, once its status shows a first percentage
    const { run, out } = await stoppedOnStatus('prepare-stopped', 1_000_000, 'tokenizing: ');
    expect(run.code).toBe(130);
    expectClearedAfterCtrlC(run.stdout);
    expect(readdirSync(out)).toEqual([]);
  });

  it('clears its status line when Ctrl-C ends it while it still reads the corpus, writes nothing, and exits 130', async () => {
    // a text long enough that it is still being read, before any tokenizing, when Ctrl-C is typed once its status shows:
    // 57 MB, whose reading outlasts this test's reply to the status, which a busy machine may delay
    const { run, out } = await stoppedOnStatus('prepare-stopped-reading', 3_000_000, 'reading the corpus…');
    expect(run.code).toBe(130);
    expect(run.stdout).not.toContain('tokenizing');
    expectClearedAfterCtrlC(run.stdout);
    expect(existsSync(out)).toBe(false);
  });

  it('clears its status line when Ctrl-C ends it while it waits on standard input, writes nothing, and exits 130', async () => {
    const pipe = at('prepare-stopped-stdin.pipe'), out = at('prepare-stopped-stdin');
    expect(spawnSync('mkfifo', [pipe]).status).toBe(0);
    const terminal = startRnnOnTerminal(dir, ['prepare', '-', '--out', out], colourFree({ TERM: 'xterm-256color' }), pipe);
    const ended = finish(terminal);
    // held open with part of the text written: rnn reads on, waiting for the rest
    const writer = await open(pipe, 'w');
    try {
      await writer.write('to be or not to be\n'.repeat(1000));
      await stdoutShows(terminal, 'reading the corpus…');
      terminal.stdin!.write('\x03');
      const run = await ended;
      expect(run.code).toBe(130);
      expectClearedAfterCtrlC(run.stdout);
      expect(existsSync(out)).toBe(false);
    } finally {
      await writer.close();
    }
  });
});

describe('colour off a terminal', () => {
  it('plain progress stays plain even with FORCE_COLOR', async () => {
    const run = await rnnIn(dir, ['train', at('corpus.txt'), ...TINY_RUN, '--max-steps', '4', '--out', at('plain-forced')], colourFree({ FORCE_COLOR: '3' }));
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain(ESC);
  });
});
