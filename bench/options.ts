/**
 * The bench's flags, each defined once: its name, what it takes, its default and its help,
 * from which both the parser and `npm run bench -- --help` are made.
 */
import { availableParallelism } from 'node:os';
import { availableKernels } from '../src/engine/kernels/index.js';
import { KERNELS_KINDS, type KernelsKind } from '../src/engine/kernels/kinds.js';
import { likelyNames } from '../src/input/issues.js';
import { orList } from '../src/input/settings.js';

interface Flag {
  /** What the flag takes, for the help ('' for a switch). */
  value: string;
  help: string;
  /** The default, as the flag would be given; null: none. */
  default: string | null;
  /** The flag (its name) without which this one is left unread: it is refused without it. */
  with?: string;
  /** Read by --serve, which measures `rnn serve` alone: every other flag is refused beside it. */
  serve?: true;
}

/**
 * The windows each measured configuration's --seconds is cut into: a window is seconds/ROUNDS
 * of one subject's work, timed, taken in turn with the other subjects' windows; the best of its
 * windows is a subject's rate.
 */
export const ROUNDS = 5;

/** How long --serve measures when --seconds is not given. */
export const SERVE_SECONDS = 30;

export const FLAGS = {
  seconds: { value: '<s>', default: '8', serve: true, help: `seconds each measured configuration gets, in ${ROUNDS} windows taken in turn` },
  workers: { value: '<n,…>', default: null, help: 'worker counts to measure (default 1 … every core)' },
  models: { value: '<name,…>', default: null, help: 'models to measure (default all)' },
  kernels: { value: '<kind,…>', default: null, help: 'kernel sets to measure (default every set this machine runs)' },
  batch: { value: '<B>', default: '50', help: 'rows per step of the character models (the word model keeps B = T = 32)' },
  peer: { value: 'torch', default: null, help: 'measure PyTorch beside rnn: the same models, threads and windows, taking turns' },
  race: { value: '<duration>', default: null, help: 'race `rnn train` with its defaults against PyTorch on --corpus, e.g. 3m (implies --peer torch)' },
  corpus: { value: '<file>', default: null, with: 'race', help: 'the text --race trains on' },
  against: { value: '<checkout>', default: null, help: 'another built checkout (e.g. a worktree of main) whose engine trains and samples beside this one, window for window: before and after in one run' },
  profile: { value: '', default: null, help: 'only the profile: where a step\'s time goes, per model and worker count' },
  serve: { value: '', default: null, serve: true, help: `instead: \`rnn serve\` under load from --clients clients for --seconds (default ${SERVE_SECONDS}) seconds (docs/serve.md)` },
  clients: { value: '<n>', default: '16', with: 'serve', serve: true, help: 'concurrent clients of --serve' },
  json: { value: '', default: null, serve: true, help: 'one JSON object per line' },
  help: { value: '', default: null, serve: true, help: 'print this and exit' },
} satisfies Record<string, Flag>;

export type FlagName = keyof typeof FLAGS;

const flagOf = (name: FlagName): Flag => FLAGS[name];

export function helpText(): string {
  const rows = Object.entries(FLAGS).map(([name, f]: [string, Flag]) => {
    const left = `  --${name}${f.value ? ` ${f.value}` : ''}`;
    return `${left.padEnd(26)}${f.help}${f.default === null ? '' : ` (default ${f.default})`}`;
  });
  return [
    'npm run bench -- [flags]: kernels, training, sampling and memory, on every kernel set side by side,',
    'and with --peer torch the same in PyTorch. Compare ratios within one run: the machine is shared.',
    '',
    ...rows,
    '',
    `  e.g. npm run bench -- --models gru-2x192 --workers 1,${availableParallelism()} --peer torch --seconds 4`,
  ].join('\n');
}

/** The flags given: a value for each flag that takes one, true for a switch. Exits with one line on a bad flag. */
export function parseFlags(args: string[]): Partial<Record<FlagName, string | true>> {
  const given: Partial<Record<FlagName, string | true>> = {};
  for (let i = 0; i < args.length; i++) {
    // -h, as rnn's commands take it
    if (args[i] === '-h') {
      given.help = true;
      continue;
    }
    // --name value, or --name=value
    const [written, attached] = args[i]!.split(/=(.*)/s) as [string, string | undefined];
    const name = written.replace(/^--/, '') as FlagName;
    const flag = FLAGS[name] as Flag | undefined;
    if (!written.startsWith('--') || flag === undefined) fail(unknownFlag(args[i]!));
    if (flag!.value === '') {
      if (attached !== undefined) fail(`--${name} takes no value (it is a switch), not '${attached}'`);
      given[name] = true;
      continue;
    }
    const value = attached ?? args[++i];
    if (value === undefined) fail(`--${name} needs a value: ${flag!.value}`);
    given[name] = value!;
  }
  for (const name of Object.keys(given) as FlagName[]) {
    const { with: needed, help } = flagOf(name);
    if (needed !== undefined && given[needed as FlagName] === undefined) fail(`--${name} goes with --${needed} (${help}): give --${needed} too, or leave --${name} out`);
    if (given.serve !== undefined && flagOf(name).serve === undefined) {
      const read = (Object.keys(FLAGS) as FlagName[]).filter((other) => other !== 'serve' && other !== 'help' && flagOf(other).serve);
      fail(`--${name} does not go with --serve, which measures rnn serve alone, with ${read.map((other) => `--${other}`).join(', ').replace(/, ([^,]*)$/, ' and $1')}`);
    }
  }
  return given;
}

/** `unknown flag '--model': did you mean --models? …`: the flags a word given as one likely meant (a bare word read as a flag). */
function unknownFlag(given: string): string {
  const meant = likelyNames(given.startsWith('-') ? given : `--${given}`, Object.keys(FLAGS).map((name) => `--${name}`));
  return `unknown flag '${given}'${meant.length > 0 ? `: did you mean ${orList(meant)}?` : ';'} npm run bench -- --help lists them`;
}

/** What a list flag's value `given` lacks where it holds an empty entry, as its refusal words it. */
export const emptyEntry = (given: string, what: string): string =>
  (given.split(',').every((value) => value === '') ? `'${given}' names no ${what}` : `an empty entry in '${given}'`);

/** `--kernels`'s entries, each a kernel set this machine runs. Exits with one line naming those where one is not. */
export function checkKernels(kinds: string[]): KernelsKind[] {
  const here = availableKernels().join(', ');
  for (const kind of kinds) {
    if (kind === '') fail(`--kernels: ${emptyEntry(kinds.join(','), 'kernel set')}; valid here: ${here}`);
    if (!(KERNELS_KINDS as readonly string[]).includes(kind)) fail(`--kernels: unknown kernel set '${kind}'; valid here: ${here}`);
    if (!availableKernels().includes(kind as KernelsKind)) fail(`--kernels: '${kind}' does not run here; valid: ${here}`);
  }
  return kinds as KernelsKind[];
}

export function fail(message: string): never {
  console.error(`bench: ${message}`);
  process.exit(2);
}
