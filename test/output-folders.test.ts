import { copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeFolders } from '../src/checkpoint/files.js';
import { lockPath, takeRunLock } from '../src/train/lock.js';
import type { TrainSettings } from '../src/checkpoint/settings.js';
import { defaultOut, outputPaths } from '../src/train/output.js';
import { type Run, expectOneLineError, rnnIn, TINY_RUN } from './helpers/cli.js';
import { readCheckpointJson } from './helpers/checkpoint.js';
import { expectWrittenThrough, scratchFolder } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';

/** Every command that writes a file or folder the user names (train, prepare, export, plot) makes the folders above it that are missing. */

const { dir } = scratchFolder('rnn-out-');
const at = (...names: string[]) => join(dir, ...names);
let corpus: string;

/** The CLI run to its end, or killed after 20 s: a command that cannot make its folder must say so, not spin. */
const rnn = (args: string[]): Promise<Run> => rnnIn(dir, args, {}, undefined, 20_000);

beforeAll(async () => {
  corpus = at('corpus.txt');
  writeFileSync(corpus, speeches(3000));
  const trained = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '2', '--out', at('new', 'runs', 'first')]);
  expect(trained.stderr).not.toMatch(/^rnn: (?!warning: )/m);
  expect(trained.status).toBe(0);
});

describe('output paths under folders that do not exist yet', () => {
  it('train, prepare, export and plot make the missing folders', async () => {
    expect(existsSync(at('new', 'runs', 'first', 'latest.json'))).toBe(true);
    const run = at('new', 'runs', 'first');
    const results = await Promise.all([
      rnn(['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', at('a', 'b', 'model.json')]),
      rnn(['prepare', corpus, '--out', at('c', 'd', 'prepared')]),
      rnn(['export', run, '--out', at('e', 'f', 'state.json')]),
      rnn(['export', run, '--out', at('g', 'h', 'model.safetensors')]),
      rnn(['plot', run, '--out', at('i', 'j', 'loss.svg')]),
    ]);
    for (const result of results) expect(result.status).toBe(0);
    for (const path of [['a', 'b', 'model.json'], ['c', 'd', 'prepared', 'meta.json'], ['e', 'f', 'state.json'], ['g', 'h', 'model.safetensors'], ['i', 'j', 'loss.svg']]) {
      expect(existsSync(at(...path))).toBe(true);
    }
  });

  // Linux's /proc takes no folder: a recursive mkdir there never returns (it retries the parent, which exists, forever)
  it.each([
    ['train', () => ['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', '/proc/rnn-no-such/run'],
      /^rnn: --out \/proc\/rnn-no-such\/run cannot be written \(ENOENT\): no folder can be made there; choose another path$/],
    ['prepare', () => ['prepare', corpus, '--out', '/proc/rnn-no-such/prepared'],
      /^rnn: cannot create \/proc\/rnn-no-such\/prepared: ENOENT: no folder can be made there; choose another path$/],
    ['export', () => ['export', at('new', 'runs', 'first'), '--out', '/proc/rnn-no-such/state.json'],
      /^rnn: cannot write \/proc\/rnn-no-such\/state\.json: ENOENT: no folder can be made there; choose another path$/],
    ['plot', () => ['plot', at('new', 'runs', 'first'), '--out', '/proc/rnn-no-such/loss.svg'],
      /^rnn: cannot write plot \/proc\/rnn-no-such\/loss\.svg: ENOENT: no folder can be made there; choose another path$/],
  ])('%s refuses, in one line, a folder that cannot be made, rather than spinning', async (_, args, message) => {
    expectOneLineError(await rnn(args()), message);
  });

  // a name the file system takes, to which rnn adds `.lock.stale-PID` (a name of 255 bytes at most), or a folder at 4,080 bytes of path
  it('train and prepare refuse, in one line before the first step, an output whose files would be named too long', async () => {
    let deep = at('deep');
    while (deep.length + 201 < 4_060) deep = join(deep, 'd'.repeat(200));
    mkdirSync(deep, { recursive: true });
    const prepared = join(deep, 'p'.repeat(4_080 - deep.length - 1));
    const runs = await Promise.all([
      rnn(['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', at(`${'n'.repeat(240)}.json`)]),
      rnn(['prepare', corpus, '--out', prepared]),
    ]);
    const tooLong = 'cannot be written \\(ENAMETOOLONG\\): the path is too long for its file system';
    expectOneLineError(runs[0]!, new RegExp(`^rnn: --out \\S+n{240}\\.json ${tooLong}`));
    expectOneLineError(runs[1]!, new RegExp(`^rnn: --out \\S+p+ ${tooLong}`));
    expect(existsSync(at(`${'n'.repeat(240)}.json`))).toBe(false);
  });

  // a file where a folder of the path should be: the file system says ENOTDIR, where the folder is looked into as much as where it is made
  it.each([
    ['train', (file: string) => ['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', join(file, 'run')],
      (file: string) => `rnn: --out ${join(file, 'run')} cannot be written (ENOTDIR): a part of the path is a file, not a folder; choose another path`],
    ['prepare', (file: string) => ['prepare', corpus, '--out', join(file, 'prepared')],
      (file: string) => `rnn: cannot create ${join(file, 'prepared')}: ENOTDIR: a part of the path is a file, not a folder; choose another path`],
  ])('%s refuses, in one line, an output below a file', async (command, args, message) => {
    const file = at(`${command}-file`);
    writeFileSync(file, 'a file');
    const run = await rnn(args(file));
    expectOneLineError(run, message(file));
  });
});

describe('an output path that begins with a ~ no shell expanded', () => {
  // `--out=~/runs` and `"~/runs"` reach rnn as they are: written there, they would make a folder named ~
  it.each([
    ['train', () => ['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out=~/runs/a'], '~/runs/a'],
    ['prepare', () => ['prepare', corpus, '--out', '~'], '~'],
    ['export', () => ['export', at('new', 'runs', 'first'), '--out=~/state.json'], '~/state.json'],
    ['import', () => ['import', at('new', 'runs', 'first', 'latest.json'), '--out', '~bob/imported.json'], '~bob/imported.json'],
    ['plot', () => ['plot', at('new', 'runs', 'first'), '--out=~/loss.svg'], '~/loss.svg'],
  ])('%s refuses it in one line, naming the home folder\'s path and ./~, and makes no folder named ~', async (_, args, out) => {
    const home = out.match(/^~\w*/)![0];
    const meant = home === '~' ? ` ($HOME${out.slice(1)})` : '';
    expectOneLineError(await rnn(args()), `rnn: --out: ${out} begins with ${home}, which no shell expanded (one expands it unquoted, ` +
      `at a word's start alone): give ${home === '~' ? 'the' : "bob's"} home folder's path${meant}, or ./${out} for a folder named ${home}`);
    expect(existsSync(at(home))).toBe(false);
  });

  it('writes to ./~/ where asked, a folder named ~', async () => {
    const run = await rnn(['export', at('new', 'runs', 'first'), '--out', './~/state.json']);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(at('~', 'state.json'))).toBe(true);
  });
});

describe('an output path of -', () => {
  // - is standard input where a corpus goes; no command writes its output to standard output, nor to a file named - unasked
  it.each([
    ['train', () => ['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', '-']],
    ['prepare', () => ['prepare', corpus, '--out', '-']],
    ['export', () => ['export', at('new', 'runs', 'first'), '--out', '-']],
    ['import', () => ['import', at('new', 'runs', 'first', 'latest.json'), '--out', '-']],
  ])('%s refuses it in one line, naming ./-, and writes nothing named -', async (_, args) => {
    expectOneLineError(await rnn(args()), 'rnn: --out: - names standard output, which rnn does not write to: name a path, or ./- for a file or folder named -');
    expect(existsSync(at('-'))).toBe(false);
  });

  it('writes to ./- where asked', async () => {
    const run = await rnn(['export', at('new', 'runs', 'first'), '--out', './-']);
    expect(run.status, run.stderr).toBe(0);
    expect(existsSync(at('-'))).toBe(true);
    rmSync(at('-'));
  });
});

describe('an output file named as another output\'s best checkpoint', () => {
  // a run on --out DIR writes DIR/best.json, and one on --out DIR/x.json writes DIR/x.best.json: a file of that name is theirs
  it.each([
    ['best.json', 'the folder'],
    ['x.best.json', 'x.json'],
  ])('refuses --out DIR/%s, which another run\'s output would write as its best, and writes nothing', async (name, owner) => {
    const out = at('shared', name);
    const run = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', out]);
    expectOneLineError(run, new RegExp(`^rnn: --out ${out.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${name} is where .*${owner}.* keeps its best checkpoint`));
    expect(existsSync(out)).toBe(false);
  });
});

describe('an output file named as a run folder\'s own latest checkpoint', () => {
  it('--out DIR/latest.json is the run folder DIR: its best is DIR/best.json, where a resume of DIR/latest.json writes it too', async () => {
    const run = at('named-latest');
    const trained = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '2', '--eval-every', '2', '--out', join(run, 'latest.json')]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(trained.stderr).toContain(`checkpoints: ${join(run, 'latest.json')} (best: ${join(run, 'best.json')})`);
    expect(readdirSync(run).sort()).toEqual(['best.json', 'latest.json']);
    const resumed = await rnn(['train', '--resume', join(run, 'latest.json'), '--max-steps', '4', '--eval-every', '2']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readdirSync(run).sort()).toEqual(['best.json', 'latest.json']);
    expect(readCheckpointJson(join(run, 'latest.json')).training.step).toBe(4);
  });
});

describe('the default output of a fresh run (no --out)', () => {
  it('is a folder of its own where a run started in the same second holds the stamped one (a sweep started at once): -2 after it', async () => {
    const cwd = at('sweep');
    mkdirSync(cwd);
    // the stamped folder of each second the run may start in, held by a run in progress (this process): as each lock taken
    // waits on the process's exit to remove itself, one is taken and its file copied into the other folders
    const settings = { cell: 'gru', layers: 1, hidden: 16 } as TrainSettings;
    const now = Date.now();
    const held = Array.from({ length: 60 }, (_, s) => defaultOut('corpus', settings, new Date(now + 1000 * s)));
    const folders = held.map((out) => join(cwd, out));
    for (const folder of folders) mkdirSync(folder, { recursive: true });
    const lock = takeRunLock(outputPaths(folders[0]!), held[0]!, 'out');
    const copies = folders.slice(1).map((folder) => lockPath(outputPaths(folder)));
    for (const copy of copies) copyFileSync(lock.path, copy);
    try {
      const run = await rnnIn(cwd, ['train', corpus, ...TINY_RUN, '--max-steps', '1'], {}, undefined, 20_000);
      expect(run.stderr).not.toMatch(/^rnn: (?!warning: )/m);
      expect(run.status).toBe(0);
      const written = held.map((out) => `${out}-2`).filter((out) => existsSync(join(cwd, out, 'latest.json')));
      expect(written).toHaveLength(1);
      expect(run.stderr).toContain(`checkpoints: ${join(written[0]!, 'latest.json')} `);
    } finally {
      for (const copy of copies) rmSync(copy);
      lock.release();
    }
  });
});

describe('makeFolders', () => {
  it('makes every missing folder, leaves those there, and throws the first failure with its own code', () => {
    makeFolders(at('k', 'l', 'm'));
    makeFolders(at('k', 'l', 'm'));
    expect(existsSync(at('k', 'l', 'm'))).toBe(true);
    writeFileSync(at('k', 'file'), '');
    expect(() => makeFolders(at('k', 'file', 'n'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
    expect(() => makeFolders('/proc/rnn-no-such/a/b')).toThrow(expect.objectContaining({ code: 'ENOENT', path: '/proc/rnn-no-such' }));
  });
});

describe('an output that is a symbolic link', () => {
  // `cp`, a shell's `>` and most editors write the file a link leads to: so does rnn, and the link stays a link
  it('a resumed run writes its checkpoints where the run folder\'s links lead, and keeps the links', async () => {
    const run = at('linked-run'), kept = at('kept');
    mkdirSync(run);
    mkdirSync(kept);
    copyFileSync(at('new', 'runs', 'first', 'latest.json'), join(kept, 'first.json'));
    symlinkSync(join('..', 'kept', 'first.json'), join(run, 'latest.json'));
    symlinkSync(join('..', 'kept', 'first.best.json'), join(run, 'best.json'));
    const resumed = await rnn(['train', '--resume', join(run, 'latest.json'), '--max-steps', '4', '--eval-every', '2']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readCheckpointJson(join(kept, 'first.json')).training.step).toBe(4);
    expectWrittenThrough(join(run, 'latest.json'), join('..', 'kept', 'first.json'));
    expect(existsSync(join(kept, 'first.best.json'))).toBe(true);
    expectWrittenThrough(join(run, 'best.json'), join('..', 'kept', 'first.best.json'));
    expect(readdirSync(run).sort()).toEqual(['best.json', 'latest.json']);
  });

  it('locks the file the latest checkpoint\'s link leads to, so a run on either path finds the other\'s lock', () => {
    const run = at('locked-run');
    mkdirSync(run);
    symlinkSync(at('kept', 'locked.json'), join(run, 'latest.json'));
    expect(lockPath(outputPaths(run))).toBe(`${at('kept', 'locked.json')}.lock`);
    const held = takeRunLock(outputPaths(at('kept', 'locked.json')), at('kept', 'locked.json'), 'out');
    try {
      expect(() => takeRunLock(outputPaths(run), run, 'out')).toThrow(`out ${run} is in use by another run (pid ${process.pid} `);
    } finally {
      held.release();
    }
  });

  it('a run resuming the file its --out\'s latest.json links to goes on there, as one resuming the link does', async () => {
    const run = at('resumed-by-target'), kept = at('kept-target');
    mkdirSync(run);
    mkdirSync(kept);
    copyFileSync(at('new', 'runs', 'first', 'latest.json'), join(kept, 'first.json'));
    symlinkSync(join(kept, 'first.json'), join(run, 'latest.json'));
    const resumed = await rnn(['train', '--resume', join(kept, 'first.json'), '--out', run, '--max-steps', '3']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(readCheckpointJson(join(kept, 'first.json')).training.step).toBe(3);
    expectWrittenThrough(join(run, 'latest.json'), join(kept, 'first.json'));
  });

  it('a fresh run makes the folder of the file its latest.json\'s link to nothing names, and takes its lock there', async () => {
    const run = at('fresh-linked');
    mkdirSync(run);
    symlinkSync(at('made', 'later', 'fresh.json'), join(run, 'latest.json'));
    const trained = await rnn(['train', corpus, ...TINY_RUN, '--max-steps', '1', '--out', run]);
    expect(trained.status, trained.stderr).toBe(0);
    expect(readCheckpointJson(at('made', 'later', 'fresh.json')).training.step).toBe(1);
    expectWrittenThrough(join(run, 'latest.json'), at('made', 'later', 'fresh.json'));
    expect(readdirSync(at('made', 'later'))).toEqual(['fresh.json']);
  });

  it('export and import write where --out leads, a file there or none yet, and keep the link', async () => {
    const exports = at('exports');
    mkdirSync(exports);
    symlinkSync(join('exports', 'state.json'), at('state-link.json'));
    symlinkSync(join('exports', 'model.safetensors'), at('model-link.safetensors'));
    const exported = await Promise.all([
      rnn(['export', at('new', 'runs', 'first'), '--out', at('state-link.json')]),
      rnn(['export', at('new', 'runs', 'first'), '--out', at('model-link.safetensors')]),
    ]);
    for (const result of exported) expect(result.status, result.stderr).toBe(0);
    expect(expectWrittenThrough(at('state-link.json'), join('exports', 'state.json'))).toMatch(/^\{"format":"rnn-state\/1"/);
    expectWrittenThrough(at('model-link.safetensors'), join('exports', 'model.safetensors'));
    writeFileSync(join(exports, 'imported.json'), '');
    symlinkSync(join('exports', 'imported.json'), at('imported-link.json'));
    const imported = await rnn(['import', at('state-link.json'), '--out', at('imported-link.json'), '--force']);
    expect(imported.status, imported.stderr).toBe(0);
    expect(expectWrittenThrough(at('imported-link.json'), join('exports', 'imported.json'))).toMatch(/^\{"format":"rnn-checkpoint\/1"/);
    expect(readdirSync(exports).sort()).toEqual(['imported.json', 'model.safetensors', 'state.json']);
  });

  it('rnn prepare writes a token file and meta.json where their links lead, and keeps the links', async () => {
    const prepared = at('linked-prepared'), store = at('store');
    expect((await rnn(['prepare', corpus, '--out', prepared])).status).toBe(0);
    mkdirSync(store);
    rmSync(join(prepared, 'train.bin'));
    writeFileSync(join(store, 'train.bin'), 'stale');
    symlinkSync(join(store, 'train.bin'), join(prepared, 'train.bin'));
    renameSync(join(prepared, 'meta.json'), join(store, 'meta.json'));
    symlinkSync(join(store, 'meta.json'), join(prepared, 'meta.json'));
    const again = await rnn(['prepare', corpus, '--out', prepared]);
    expect(again.status, again.stderr).toBe(0);
    expectWrittenThrough(join(prepared, 'train.bin'), join(store, 'train.bin'));
    expect(statSync(join(store, 'train.bin')).size).toBeGreaterThan(5);
    expect(expectWrittenThrough(join(prepared, 'meta.json'), join(store, 'meta.json'))).toMatch(/^\{"format":"rnn-prepared\/1"/);
    expect(readdirSync(store).sort()).toEqual(['meta.json', 'train.bin']);
    const trained = await rnn(['train', prepared, ...TINY_RUN, '--max-steps', '1', '--out', at('from-linked')]);
    expect(trained.status, trained.stderr).toBe(0);
  });
});
