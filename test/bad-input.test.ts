import { execFileSync } from 'node:child_process';
import { copyFileSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Model, loadModel } from '../src/api/index.js';
import { exportState, importState } from '../src/checkpoint/convert.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { parseJsonBytes, readFileBytes, writeFileAtomic } from '../src/checkpoint/files.js';
import { resolveCheckpointPath } from '../src/checkpoint/find.js';
import { userMessage } from '../src/cli/errors.js';
import { describeValue } from '../src/input/issues.js';
import { parseSettingTable, parseSettings, pickSettings, settingsSchema } from '../src/input/settings.js';
import { readGenerate } from '../src/serve/requests.js';
import { RnnServer } from '../src/serve/server.js';
import { SERVE_SETTINGS } from '../src/serve/settings.js';
import { RUN_OPTIONS } from '../src/train/options.js';
import { checkOutputFree, outputPaths } from '../src/train/output.js';
import { train } from '../src/train/trainer.js';
import { ROOT, TINY_RUN, expectOneLineError, rnnIn } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { collect } from './helpers/generation.js';
import { EVAL_GRU } from './helpers/fixtures.js';
import { speeches } from './helpers/speeches.js';

/*
 * Bad input of every kind a hostile user tries, each answered with one line that names the
 * flag, field or file and what would be valid, and nothing saved lost (docs/safety.md).
 */
const scratch = scratchFolder('rnn-bad-input-');
let checkpoint: string;
let model: Model;

beforeAll(() => {
  checkpoint = join(scratch.dir, 'gru.json');
  importState(EVAL_GRU, checkpoint, ['rnn', 'import'], false);
  model = loadModel(checkpoint, { kernels: 'js' });
});

/** What the command line says of an error: its one line, with flags for settings. */
function flagMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    const message = userMessage(err);
    if (message === null) throw err;
    return message;
  }
  throw new Error('no error');
}

describe('a setting given a value it cannot take', () => {
  it('--cors that is no URL at all is refused like one with a path, not as an internal error', () => {
    for (const cors of ['', 'not a url']) {
      expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { cors }))).toMatch(/^--cors: must be an origin such as https:\/\/example\.com .*\(got .*\)$/);
    }
  });

  it('--time-limit beyond what a timer holds is refused (a longer one would end every request at once)', () => {
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { timeLimit: '3000000' })))
      .toBe('--time-limit: must be a number of seconds > 0, at most 2147483 (about 24 days) (got 3000000)');
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { timeLimit: '9007199254740992' }))).toMatch(/^--time-limit: must be/);
    expect(parseSettingTable(SERVE_SETTINGS, { timeLimit: '2147483' })).toEqual({ timeLimit: 2147483 });
  });

  it('names an object, an array or an empty string as what it is, never [object Object]', () => {
    const message = (input: Record<string, unknown>) => flagMessage(() => readGenerate(input)).replace(/^--/, '');
    expect(message({ len: { a: 1 } })).toBe('len: must be a positive integer (got an object)');
    expect(message({ len: [5] })).toBe('len: must be a positive integer (got an array of 1)');
    expect(message({ stream: '' })).toBe('stream: must be sse or ndjson (got "")');
    expect(message({ stream: 'words' })).toBe('stream: must be sse or ndjson (got words)');
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { port: ' ' }))).toMatch(/\(got " "\)$/);
  });

  it('quotes a field it does not take where its name is empty or holds a space, so that "len " does not read as len', () => {
    // as the server says it: the field's own name
    const message = (input: Record<string, unknown>) => {
      try {
        readGenerate(input);
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('no error');
    };
    const valid = 'model, prime, len, temperature, topK, topP, seed, stopAtEos, unk, beam, lengthPenalty, stream';
    expect(message({ 'len ': 5 })).toBe(`unknown option "len "; the valid ones: ${valid}`);
    expect(message({ '': 5 })).toBe(`unknown option ""; the valid ones: ${valid}`);
    expect(message({ 'to\u001bp': 5 })).toBe(`unknown option "to\\u001bp"; the valid ones: ${valid}`);
    expect(message({ lenght: 5 })).toBe(`unknown option lenght; the valid ones: ${valid}`);
    expect(() => model.scoreSync('a', { 'top ': 1 } as never)).toThrow(new TypeError('unknown option "top "; the valid ones: tokens, top, signal, onProgress'));
  });

  it('says an empty path must not be empty, and counts in the singular where one is meant', () => {
    expect(flagMessage(() => parseSettingTable(RUN_OPTIONS, { out: '' }))).toBe('--out: must not be empty (got "")');
    expect(flagMessage(() => parseSettingTable(RUN_OPTIONS, { resume: '' }))).toBe('--resume: must not be empty (got "")');
  });
});

describe('a file that is not what it should be', () => {
  it('quotes its text with the characters a terminal acts on escaped', () => {
    const bytes = Buffer.from('\x1b]0;owned\x07\x1b[2J\u202e{', 'utf8');
    let message = '';
    try {
      parseJsonBytes(bytes, 'evil.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^evil\.json is not JSON: /);
    expect([...message].filter((c) => c < ' ' || c === '\x7f' || c === '\u202e')).toEqual([]);
    expect(message).toContain('\\u001b');
    expect(describeValue('a\u202eb')).toBe('"a\\u202eb"');
  });

  it('a folder is "not a model file"; an empty path to write is named as such', () => {
    expect(() => readFileBytes(scratch.dir, 'model file')).toThrow(`${scratch.dir} is a folder, not a model file`);
    expect(() => writeFileAtomic('', 'x', 'checkpoint ')).toThrow(/^cannot write checkpoint to an empty path: name a file$/);
  });

  it('- given as a file to read (rnn import -) is named as standard input, which no model file is read from', () => {
    expect(() => readFileBytes('-', 'model file', 'name an rnn-state/1 file')).toThrow(
      /^- names standard input, which rnn does not read a model file from: name an rnn-state\/1 file, or \.\/- for a file or folder named -$/);
  });

  it('an interop model read as a checkpoint gives a command that converts it, --out included, which does as given', () => {
    for (const name of ['state.json', 'model.json', 'model.safetensors']) {
      const folder = scratch.folder();
      const exported = join(folder, name);
      exportState(checkpoint, exported);
      let message = '';
      try {
        loadModel(exported);
      } catch (error) {
        message = (error as Error).message;
      }
      const command = /^(\S+) is a model file, not a checkpoint: convert it with `rnn import (\S+) --out (\S+)`, then name (\S+)$/.exec(message);
      expect(command, message).not.toBeNull();
      expect(command![1]).toBe(exported);
      expect(command![2]).toBe(exported);
      expect(command![4]).toBe(command![3]);
      // run in the file's folder
      const out = resolve(folder, command![3]!);
      importState(exported, out, ['rnn', 'import'], false);
      expect(loadModel(out).config).toEqual(loadModel(checkpoint).config);
    }
  });

  it('a checkpoint an editor saved with a BOM reads as the same checkpoint', () => {
    const withBom = join(scratch.dir, 'bom.json');
    writeFileSync(withBom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readFileSync(checkpoint)]));
    expect(loadModel(withBom, { kernels: 'js' }).scoreSync('To be').logProb).toBe(model.scoreSync('To be').logProb);
  });

  it('an empty checkpoint path is named as empty, not "not found: "', () => {
    expect(() => resolveCheckpointPath('')).toThrow(CheckpointError);
    expect(() => resolveCheckpointPath('')).toThrow(/^the checkpoint's path is empty: name a checkpoint file or a run folder$/);
  });
});

describe('the command line', () => {
  it('names the flag whose path is empty', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['export', checkpoint, '--out', '']),
      rnnIn(scratch.dir, ['import', EVAL_GRU, '--out', '']),
      rnnIn(scratch.dir, ['sample', '--checkpoint', checkpoint, '--prime-file', '']),
      rnnIn(scratch.dir, ['info', '']),
    ]);
    expectOneLineError(runs[0]!, /^rnn: --out: must not be empty \(got ""\)$/);
    expectOneLineError(runs[1]!, /^rnn: --out: must not be empty \(got ""\)$/);
    expectOneLineError(runs[2]!, /^rnn: --prime-file: must not be empty \(got ""\)$/);
    expectOneLineError(runs[3]!, /^rnn: the checkpoint's path is empty: name a checkpoint file or a run folder$/);
  });

  it('refuses - where a checkpoint goes as standard input, which rnn info and --checkpoint do not read, as --out - is refused', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['info', '-']),
      rnnIn(scratch.dir, ['sample', '--checkpoint', '-']),
    ]);
    const stream = '- names standard input, which rnn does not read a checkpoint from';
    const folder = 'a checkpoint or a run folder (its best.json, else latest.json), or ./- for a file or folder named -';
    expectOneLineError(runs[0]!, `rnn: ${stream}: name ${folder}`);
    expectOneLineError(runs[1]!, `rnn: --checkpoint: ${stream}: give ${folder}`);
  });

  it('names --prime-file where the file it names cannot be read as a prime', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['sample', '--checkpoint', checkpoint, '--prime-file', 'no-such-prime.txt']),
      rnnIn(scratch.dir, ['sample', '--checkpoint', checkpoint, '--prime-file', scratch.dir]),
    ]);
    expectOneLineError(runs[0]!, /^rnn: --prime-file: file not found: no-such-prime\.txt$/);
    expectOneLineError(runs[1]!, /^rnn: --prime-file: cannot read .*: it is a folder; give a text file$/);
  });

  it('a path to read that begins with a ~ no shell expanded, not found, says so and gives the home folder\'s path', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, 'corpus.txt'), speeches(2000));
    const runs = await Promise.all([
      rnnIn(folder, ['train', '~/notes.txt', '--max-steps', '1']),
      rnnIn(folder, ['train', 'corpus.txt', '--resume=~/runs/a']),
      rnnIn(folder, ['train', 'corpus.txt', '--init-from=~/runs/a']),
      rnnIn(folder, ['info', '~bob/runs/a']),
      rnnIn(folder, ['import', '~/state.json', '--out', 'imported.json']),
      rnnIn(folder, ['sample', '--checkpoint=~/runs/a']),
      rnnIn(folder, ['sample', '--checkpoint', checkpoint, '--prime-file=~/prime.txt']),
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', checkpoint, '~']),
    ]);
    const unexpanded = (path: string, meant: string) =>
      `${path} begins with ${path.split('/')[0]}, which no shell expanded (one expands it unquoted, at a word's start alone): ` +
      `give ${path.startsWith('~bob') ? "bob's" : 'the'} home folder's path${meant}`;
    expectOneLineError(runs[0]!, `rnn: corpus file not found: ${join(folder, '~/notes.txt')}; ${unexpanded('~/notes.txt', ' ($HOME/notes.txt)')}`);
    expectOneLineError(runs[1]!, `rnn: --resume: checkpoint not found: ~/runs/a; ${unexpanded('~/runs/a', ' ($HOME/runs/a)')}`);
    expectOneLineError(runs[2]!, `rnn: --init-from: model file not found: ~/runs/a; ${unexpanded('~/runs/a', ' ($HOME/runs/a)')}`);
    expectOneLineError(runs[3]!, `rnn: checkpoint not found: ~bob/runs/a; ${unexpanded('~bob/runs/a', '')}`);
    expectOneLineError(runs[4]!, `rnn: model file not found: ~/state.json; ${unexpanded('~/state.json', ' ($HOME/state.json)')}`);
    expectOneLineError(runs[5]!, `rnn: --checkpoint: checkpoint not found: ~/runs/a; ${unexpanded('~/runs/a', ' ($HOME/runs/a)')}`);
    expectOneLineError(runs[6]!, `rnn: --prime-file: file not found: ~/prime.txt; ${unexpanded('~/prime.txt', ' ($HOME/prime.txt)')}`);
    expectOneLineError(runs[7]!, `rnn: file not found: ~; ${unexpanded('~', ' ($HOME)')}`);
    expect(readdirSync(folder)).toEqual(['corpus.txt']);
  });

  it('a file named with a / after it, as a corpus, a text to score or a prime, is refused as a file, not a folder', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, 'corpus.txt'), speeches(2000));
    const runs = await Promise.all([
      rnnIn(folder, ['train', 'corpus.txt/', '--max-steps', '1']),
      rnnIn(folder, ['prepare', 'corpus.txt/', '--out', 'prepared']),
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', checkpoint, 'corpus.txt/']),
      rnnIn(folder, ['sample', '--checkpoint', checkpoint, '--prime-file', 'corpus.txt/']),
    ]);
    const file = join(folder, 'corpus.txt');
    const asFolder = (path: string) => `${path}/; ${path} is a file, not a folder: name it without the / after it`;
    expectOneLineError(runs[0]!, `rnn: corpus file not found: ${asFolder(file)}`);
    expectOneLineError(runs[1]!, `rnn: corpus file not found: ${asFolder(file)}`);
    expectOneLineError(runs[2]!, `rnn: file not found: ${asFolder('corpus.txt')}`);
    expectOneLineError(runs[3]!, `rnn: --prime-file: file not found: ${asFolder('corpus.txt')}`);
    expect(readdirSync(folder)).toEqual(['corpus.txt']);
  });

  it('gives no ~ hint for an absolute path that holds a folder named ~, which the user wrote as it is', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, 'corpus.txt'), speeches(2000));
    const [notes, run, state] = ['~/notes.txt', '~/runs/a', '~bob/state.json'].map((path) => join(folder, path));
    const elsewhere = join(folder, 'sub', '~', 'notes.txt');
    const runs = await Promise.all([
      rnnIn(folder, ['train', notes!, '--max-steps', '1']),
      rnnIn(folder, ['train', elsewhere, '--max-steps', '1']),
      rnnIn(folder, ['train', 'corpus.txt', '--init-from', run!]),
      rnnIn(folder, ['sample', '--checkpoint', run!]),
      rnnIn(folder, ['import', state!, '--out', 'imported.json']),
    ]);
    expectOneLineError(runs[0]!, `rnn: corpus file not found: ${notes}`);
    expectOneLineError(runs[1]!, `rnn: corpus file not found: ${elsewhere}`);
    expectOneLineError(runs[2]!, `rnn: --init-from: model file not found: ${run}; give a checkpoint, a run folder (its best.json, else ` +
      'latest.json), or an rnn-state/1 or .safetensors file');
    expectOneLineError(runs[3]!, `rnn: --checkpoint: checkpoint not found: ${run}; give a checkpoint or a run folder (its best.json, else latest.json)`);
    expectOneLineError(runs[4]!, `rnn: model file not found: ${state}; name an rnn-state/1 file or a .safetensors file`);
    expect(readdirSync(folder)).toEqual(['corpus.txt']);
  });

  it('refuses a device named as a text to read, which has no end (/dev/zero), where sample and eval read it for ever', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['sample', '--checkpoint', checkpoint, '--prime-file', '/dev/zero'], {}, undefined, 20_000),
      rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', checkpoint, '/dev/urandom'], {}, undefined, 20_000),
    ]);
    const refusal = (path: string) => `${path} is a device, not a text file: give a file, or its text on standard input as -`;
    expectOneLineError(runs[0]!, new RegExp(`^rnn: --prime-file: ${refusal('/dev/zero')}$`));
    expectOneLineError(runs[1]!, new RegExp(`^rnn: ${refusal('/dev/urandom')}$`));
  });

  it('refuses a device named as a model to read (/dev/zero), which import would read for ever', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['import', '/dev/zero', '--out', 'from-zero.json'], {}, undefined, 20_000),
      rnnIn(scratch.dir, ['sample', '--checkpoint', '/dev/zero'], {}, undefined, 20_000),
    ]);
    expectOneLineError(runs[0]!, 'rnn: /dev/zero is a device, not a model file; name an rnn-state/1 file or a .safetensors file');
    expectOneLineError(runs[1]!, /^rnn: --checkpoint \/dev\/zero is not a checkpoint \(it is a device\): give a checkpoint or a run folder/);
    expect(readdirSync(scratch.dir)).not.toContain('from-zero.json');
  });

  it('writes no export, import, plot, checkpoint or prepared folder over a named pipe, naming it so, and reads no pipe nobody writes to as a corpus', async () => {
    const folder = join(scratch.dir, 'pipes');
    mkdirSync(folder);
    const pipes = ['export.json', 'import.json', 'chart.svg', 'corpus.txt', 'run-out', 'prepared-out'].map((name) => join(folder, name));
    for (const pipe of pipes) execFileSync('mkfifo', [pipe]);
    const [exportPipe, importPipe, chartPipe, corpusPipe, runPipe, preparedPipe] =
      pipes as [string, string, string, string, string, string];
    writeFileSync(join(folder, 'text.txt'), speeches(4000));
    expect((await rnnIn(folder, ['train', 'text.txt', ...TINY_RUN, '--max-steps', '2', '--out', 'run'])).status).toBe(0);
    const runs = await Promise.all([
      rnnIn(folder, ['export', checkpoint, '--out', exportPipe], {}, undefined, 20_000),
      rnnIn(folder, ['import', EVAL_GRU, '--out', importPipe, '--force'], {}, undefined, 20_000),
      rnnIn(folder, ['plot', 'run', '--out', chartPipe], {}, undefined, 20_000),
      rnnIn(folder, ['train', corpusPipe, '--max-steps', '1'], {}, undefined, 20_000),
      rnnIn(folder, ['train', 'text.txt', '--max-steps', '1', '--out', runPipe], {}, undefined, 20_000),
      rnnIn(folder, ['prepare', 'text.txt', '--out', preparedPipe], {}, undefined, 20_000),
    ]);
    expectOneLineError(runs[0]!, `rnn: cannot write ${exportPipe}: it is a named pipe, not a file; name a file`);
    expectOneLineError(runs[1]!, `rnn: cannot write checkpoint ${importPipe}: it is a named pipe, not a file; name a file`);
    expectOneLineError(runs[2]!, `rnn: cannot write plot ${chartPipe}: it is a named pipe, not a file; name a file`);
    expectOneLineError(runs[3]!, /^rnn: \S+corpus\.txt is a named pipe: a corpus is files and folders, read more than once; give its text on standard input as - instead$/);
    expectOneLineError(runs[4]!, `rnn: --out ${runPipe} is a named pipe; give a folder, or a path ending in .json`);
    expectOneLineError(runs[5]!, `rnn: --out ${preparedPipe} is a named pipe, where --out takes the folder to write train.bin, val.bin and meta.json to`);
    for (const pipe of pipes) expect(lstatSync(pipe).isFIFO()).toBe(true);
  });

  it('an empty path to read or write is refused naming what it is, not read as the current folder, "not found: " or "(got )"', async () => {
    const runs = await Promise.all([
      rnnIn(scratch.dir, ['train', '', '--max-steps', '1']),
      rnnIn(scratch.dir, ['prepare', '', '--out', 'prepared']),
      rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', checkpoint, '']),
      rnnIn(scratch.dir, ['import', '', '--out', 'imported.json']),
      rnnIn(scratch.dir, ['plot', checkpoint, '--out', '']),
      rnnIn(scratch.dir, ['prepare', 'corpus.txt', '--out', '']),
      rnnIn(scratch.dir, ['serve', '--checkpoint', 'gru=', '--port', '0']),
    ]);
    expectOneLineError(runs[0]!, /^rnn: the corpus's path is empty: name a file, a folder, or - for standard input$/);
    expectOneLineError(runs[1]!, /^rnn: the corpus's path is empty: name a file, a folder, or - for standard input$/);
    expectOneLineError(runs[2]!, /^rnn: the text's path is empty: name a file, or - for standard input$/);
    expectOneLineError(runs[3]!, /^rnn: the model file's path is empty: name a file$/);
    expectOneLineError(runs[4]!, /^rnn: --out: must be an \.svg file \(got ""\)$/);
    expectOneLineError(runs[5]!, /^rnn: --out must not be empty: the folder to write train\.bin, val\.bin and meta\.json to$/);
    expectOneLineError(runs[6]!, /^rnn: the checkpoint's path is empty: name a checkpoint file or a run folder$/);
  });

  it('an rnn model named where a text is read is refused, saying where a model goes, not trained on or scored as JSON', async () => {
    const folder = scratch.folder();
    const model = join(folder, 'model.json');
    copyFileSync(checkpoint, model);
    const runs = await Promise.all([
      rnnIn(folder, ['train', 'model.json', '--max-steps', '1', '--out', 'run']),
      rnnIn(folder, ['train', 'model.json', '--max-steps', '1', '--out', 'tuned', '--init-from', 'model.json']),
      rnnIn(folder, ['prepare', 'model.json', '--out', 'prepared']),
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', 'model.json', 'model.json']),
    ]);
    const training = 'go on training it with --resume model\\.json, or fine-tune it on a text with --init-from model\\.json';
    expectOneLineError(runs[0]!, new RegExp(`^rnn: model\\.json is an rnn model, not a text to train on: ${training}$`));
    expectOneLineError(runs[1]!, new RegExp(`^rnn: model\\.json is an rnn model, not a text to train on: ${training}$`));
    expectOneLineError(runs[2]!, /^rnn: model\.json is an rnn model, not a text to prepare: name the text it was trained on$/);
    expectOneLineError(runs[3]!, /^rnn: model\.json is an rnn model, not a text to score: name the model with --checkpoint, the texts after it$/);
    expect(readdirSync(folder)).toEqual(['model.json']);
  });

  it('an rnn-state model named as a text to train on is offered --init-from alone: --resume reads only a checkpoint', async () => {
    const folder = scratch.folder();
    expect((await rnnIn(folder, ['export', checkpoint, '--out', 'state.json'])).status).toBe(0);
    const run = await rnnIn(folder, ['train', 'state.json', '--max-steps', '1', '--out', 'run']);
    expectOneLineError(run, /^rnn: state\.json is an rnn model, not a text to train on: fine-tune it on a text with --init-from state\.json$/);
    expect(readdirSync(folder)).toEqual(['state.json']);
  });

  it('a .safetensors rnn-state model named where a text is read is refused as a model, not as a binary file', async () => {
    const folder = scratch.folder();
    expect((await rnnIn(folder, ['export', checkpoint, '--out', 'model.safetensors'])).status).toBe(0);
    const runs = await Promise.all([
      rnnIn(folder, ['train', 'model.safetensors', '--max-steps', '1', '--out', 'run']),
      rnnIn(folder, ['prepare', 'model.safetensors', '--out', 'prepared']),
    ]);
    expectOneLineError(runs[0]!,
      /^rnn: model\.safetensors is an rnn model, not a text to train on: fine-tune it on a text with --init-from model\.safetensors$/);
    expectOneLineError(runs[1]!, /^rnn: model\.safetensors is an rnn model, not a text to prepare: name the text it was trained on$/);
    expect(readdirSync(folder)).toEqual(['model.safetensors']);
  });

  it('a prepared folder\'s meta.json named where a text is read is refused naming its folder, not trained on, prepared or scored as JSON', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, 'corpus.txt'), 'To be, or not to be, that is the question.\n'.repeat(200));
    expect((await rnnIn(folder, ['prepare', 'corpus.txt', '--out', 'data'])).status).toBe(0);
    const meta = join('data', 'meta.json');
    const runs = await Promise.all([
      rnnIn(folder, ['train', meta, '--max-steps', '1', '--out', 'run']),
      rnnIn(folder, ['prepare', meta, '--out', 'again']),
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', checkpoint, meta]),
    ]);
    const refusal = (purpose: string) =>
      new RegExp(`^rnn: data/meta\\.json is a prepared folder's meta\\.json, not ${purpose}: rnn train and rnn eval perplexity read its folder, data$`);
    expectOneLineError(runs[0]!, refusal('a text to train on'));
    expectOneLineError(runs[1]!, refusal('a text to prepare'));
    expectOneLineError(runs[2]!, refusal('a text to score'));
    expect(readdirSync(folder).sort()).toEqual(['corpus.txt', 'data']);
  });

  it('a prepared folder\'s train.bin or val.bin named where a text is read is refused naming its folder, not as a file with a NUL byte', async () => {
    const folder = scratch.folder();
    writeFileSync(join(folder, 'corpus.txt'), 'To be, or not to be, that is the question.\n'.repeat(200));
    expect((await rnnIn(folder, ['prepare', 'corpus.txt', '--out', 'data'])).status).toBe(0);
    const [train, val] = ['train.bin', 'val.bin'].map((file) => join('data', file));
    const runs = await Promise.all([
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', checkpoint, val]),
      rnnIn(folder, ['eval', 'perplexity', '--checkpoint', checkpoint, train]),
      rnnIn(folder, ['train', val, '--max-steps', '1', '--out', 'run']),
    ]);
    const refusal = (file: string, purpose: string) =>
      `rnn: data/${file} is a prepared folder's ${file}, not ${purpose}: rnn train and rnn eval perplexity read its folder, data`;
    expectOneLineError(runs[0]!, refusal('val.bin', 'a text to score'));
    expectOneLineError(runs[1]!, refusal('train.bin', 'a text to score'));
    expectOneLineError(runs[2]!, refusal('val.bin', 'a text to train on'));
    expect(readdirSync(folder).sort()).toEqual(['corpus.txt', 'data']);
  });

  it('an rnn model or a prepared folder\'s meta.json given as --prime-file is refused naming the flag, not read as a prime', async () => {
    const folder = scratch.folder();
    copyFileSync(checkpoint, join(folder, 'model.json'));
    expect((await rnnIn(folder, ['export', checkpoint, '--out', 'model.safetensors'])).status).toBe(0);
    writeFileSync(join(folder, 'corpus.txt'), 'To be, or not to be, that is the question.\n'.repeat(200));
    expect((await rnnIn(folder, ['prepare', 'corpus.txt', '--out', 'data'])).status).toBe(0);
    const runs = await Promise.all(['model.json', 'model.safetensors', join('data', 'meta.json')].map((prime) =>
      rnnIn(folder, ['sample', '--checkpoint', checkpoint, '--len', '5', '--prime-file', prime])));
    const model = (file: string) =>
      `rnn: --prime-file: ${file} is an rnn model, not a text to start from: name the model with --checkpoint, the prime's text file with --prime-file`;
    expectOneLineError(runs[0]!, model('model.json'));
    expectOneLineError(runs[1]!, model('model.safetensors'));
    expectOneLineError(runs[2]!,
      "rnn: --prime-file: data/meta.json is a prepared folder's meta.json, not a text to start from: rnn train and rnn eval perplexity read its folder, data");
  });

  it('a corpus folder that holds only what rnn wrote (a run\'s folder) is refused naming what was left out of it', async () => {
    const folder = scratch.folder();
    const run = join(folder, 'run');
    mkdirSync(run);
    for (const name of ['best.json', 'latest.json']) copyFileSync(checkpoint, join(run, name));
    expectOneLineError(await rnnIn(folder, ['train', 'run', '--max-steps', '1', '--out', 'new']), new RegExp(
      `^rnn: corpus folder has no text files: ${run}; left out of it: ${run}/best\\.json \\(an rnn model\\), ${run}/latest\\.json \\(an rnn model\\)$`));
  });

  it('a lock file that an ended rnn left in a corpus folder is left out of the corpus, not read as text; an interrupted prepare\'s own folder is named as such', async () => {
    const folder = scratch.folder();
    const lock = `{"pid":999999999,"host":"${hostname()}","startedAt":"2026-12-04T20:00:00.000Z"}\n`;
    mkdirSync(join(folder, 'data'));
    writeFileSync(join(folder, 'data', 'meta.json.lock'), lock);
    expectOneLineError(await rnnIn(folder, ['train', 'data', '--max-steps', '1', '--batch', '1', '--seq-len', '4', '--out', 'run']),
      new RegExp(`^rnn: data is a prepared folder left unfinished \\(rnn prepare, pid 999999999 on ${hostname()}, since 2026-12-04T20:00:00\\.000Z, ` +
        'ended before it wrote meta\\.json, leaving data/meta\\.json\\.lock\\): run rnn prepare again with --out data, which takes the lock over$'));
    mkdirSync(join(folder, 'notes', 'old'), { recursive: true });
    writeFileSync(join(folder, 'notes', 'a.txt'), speeches(3000));
    writeFileSync(join(folder, 'notes', 'old', 'latest.json.lock'), lock);
    const run = await rnnIn(folder, ['prepare', 'notes', '--out', 'prepared']);
    expect(run.stderr).toBe(`rnn: warning: left out of the corpus: ${folder}/notes/old/latest.json.lock (an rnn lock file)\n`);
    expect(JSON.parse(readFileSync(join(folder, 'prepared', 'meta.json'), 'utf8')).corpus.files.map((f: { path: string }) => f.path))
      .toEqual([join(folder, 'notes', 'a.txt')]);
  });

  it('prepare refuses to write into the corpus folder it reads, where the next prepare would read its files as text', async () => {
    const corpus = join(scratch.dir, 'texts');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), speeches(5000));
    expectOneLineError(await rnnIn(scratch.dir, ['prepare', 'texts', '--out', 'texts']),
      /^rnn: --out texts is the corpus folder itself, .* write them to a folder of their own \(texts\/prepared is left out of the corpus\)$/);
    expect(readdirSync(corpus)).toEqual(['a.txt']);
    const inside = await rnnIn(scratch.dir, ['prepare', 'texts', '--out', 'texts/prepared']);
    expect(inside.status).toBe(0);
  });

  it('prepare reads no prepared folder as text, and replaces no files but an older prepare\'s', async () => {
    writeFileSync(join(scratch.dir, 'a.txt'), speeches(5000));
    expect((await rnnIn(scratch.dir, ['prepare', 'a.txt', '--out', 'tokens'])).status).toBe(0);
    expectOneLineError(await rnnIn(scratch.dir, ['prepare', 'a.txt', 'tokens', '--out', 'again']),
      /^rnn: tokens is a prepared folder, token files and not text: prepare the text it was made from, or train on it as it is \(rnn train tokens\)$/);
    const notes = join(scratch.dir, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'meta.json'), '{"x":1}\n');
    writeFileSync(join(notes, 'train.bin'), 'abc');
    expectOneLineError(await rnnIn(scratch.dir, ['prepare', 'a.txt', '--out', 'notes']),
      /^rnn: --out: notes holds a meta\.json, train\.bin or val\.bin that no rnn prepare wrote, which this would replace; choose another --out$/);
    expect([readFileSync(join(notes, 'meta.json'), 'utf8'), readFileSync(join(notes, 'train.bin'), 'utf8')]).toEqual(['{"x":1}\n', 'abc']);
    expect((await rnnIn(scratch.dir, ['prepare', 'a.txt', '--level', 'word', '--out', 'tokens'])).status).toBe(0);
    expect(JSON.parse(readFileSync(join(scratch.dir, 'tokens', 'meta.json'), 'utf8')).level).toBe('word');
  });

  it('prepare knows the corpus folder through a link to it, and refuses a file given as --out naming --out and the folder it takes', async () => {
    const corpus = join(scratch.dir, 'linked');
    mkdirSync(corpus);
    writeFileSync(join(corpus, 'a.txt'), speeches(5000));
    symlinkSync('linked', join(scratch.dir, 'link'));
    const notes = join(scratch.folder(), 'notes.txt');
    writeFileSync(notes, 'kept\n');
    const [throughLink, fromLink, file, other] = await Promise.all([
      rnnIn(scratch.dir, ['prepare', 'linked', '--out', 'link']),
      rnnIn(scratch.dir, ['prepare', 'link', '--out', 'linked/']),
      rnnIn(scratch.dir, ['prepare', 'linked/a.txt', '--out', 'linked/a.txt']),
      rnnIn(scratch.dir, ['prepare', 'linked/a.txt', '--out', notes]),
    ]);
    expectOneLineError(throughLink, /^rnn: --out link is the corpus folder itself, /);
    expectOneLineError(fromLink, /^rnn: --out linked\/ is the corpus folder itself, /);
    const takes = 'where --out takes the folder to write train\\.bin, val\\.bin and meta\\.json to';
    expectOneLineError(file, new RegExp(`^rnn: --out linked/a\\.txt is a file, ${takes}$`));
    expectOneLineError(other, new RegExp(`^rnn: --out \\S+/notes\\.txt is a file, ${takes}$`));
    expect(readdirSync(corpus)).toEqual(['a.txt']);
    expect(readFileSync(notes, 'utf8')).toBe('kept\n');
  });
});

describe('nothing saved is lost', () => {
  it('an export onto a checkpoint is refused, and the checkpoint left as it was', () => {
    const other = join(scratch.folder(), 'latest.json');
    importState(EVAL_GRU, other, ['rnn', 'import'], false);
    const before = readFileSync(other);
    for (const format of ['torch', undefined] as const) {
      expect(flagMessage(() => exportState(checkpoint, other, format)))
        .toBe(`--out ${other} is a checkpoint: an export would replace it, and its training state with it; choose another file for the export`);
    }
    expect(readFileSync(other).equals(before)).toBe(true);
    const state = join(scratch.folder(), 'state.json');
    exportState(checkpoint, state);
    exportState(checkpoint, state);
    expect(readFileSync(state, 'utf8')).toMatch(/^\{"format":"rnn-state\/1"/);
  });

  it('an export replaces an earlier export or an empty file alone: a text, a prepared folder\'s meta.json or any other file is left as it was', () => {
    const dir = scratch.folder();
    const prepared = join(dir, 'meta.json');
    writeFileSync(prepared, '{"format":"rnn-prepared/1"}\n');
    const text = join(dir, 'corpus.txt');
    writeFileSync(text, 'The people of this country.\n');
    for (const path of [prepared, text]) {
      const before = readFileSync(path);
      expect(flagMessage(() => exportState(checkpoint, path, 'torch'))).toBe(
        `--out ${path} exists and is not an export (rnn-state/1 JSON or a .safetensors file), so an export would lose it: ` +
          'choose another file for the export, or remove it first');
      expect(readFileSync(path).equals(before)).toBe(true);
    }
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    exportState(checkpoint, empty);
    expect(readFileSync(empty, 'utf8')).toMatch(/^\{"format":"rnn-state\/1"/);
    const weights = join(dir, 'model.safetensors');
    exportState(checkpoint, weights);
    const first = readFileSync(weights);
    exportState(checkpoint, weights);
    expect(readFileSync(weights).equals(first)).toBe(true);
  });

  it('an import onto a training run\'s checkpoint is refused, --force or not; an earlier import or export --force replaces', async () => {
    const run = scratch.folder();
    const corpus = scratch.file(speeches(3000), 'run-corpus.txt');
    await train({ cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 4, seqLen: 8, workers: 1, maxSteps: 2, out: run }, [corpus]);
    for (const name of ['latest.json', 'best.json']) {
      const path = join(run, name);
      const before = readFileSync(path);
      for (const force of [true, false]) {
        expect(flagMessage(() => importState(EVAL_GRU, path, ['rnn', 'import'], force))).toBe(
          `--out ${path} is a training run's checkpoint: an import would replace it, and its training state with it; choose another file for the import`);
      }
      expect(readFileSync(path).equals(before)).toBe(true);
    }
    const imported = join(scratch.folder(), 'imported.json');
    importState(EVAL_GRU, imported, ['rnn', 'import'], false);
    const exported = join(scratch.folder(), 'exported.json');
    exportState(checkpoint, exported);
    for (const path of [imported, exported]) {
      expect(flagMessage(() => importState(EVAL_GRU, path, ['rnn', 'import'], false))).toBe(`${path} already exists: pass --force to replace it`);
      expect(importState(EVAL_GRU, path, ['rnn', 'import', 'again'], true).command).toEqual(['rnn', 'import', 'again']);
      expect(readFileSync(path, 'utf8')).toContain('"command":["rnn","import","again"]');
    }
  });

  it('an import replaces an earlier import or export or an empty file alone: a text, a prepared folder\'s meta.json or any other file is left as it was, --force or not', () => {
    const dir = scratch.folder();
    const others = {
      'corpus.txt': 'The people of this country.\n',
      'meta.json': '{"format":"rnn-prepared/1"}\n',
      'settings.json': '{"lr":0.003}\n',
    };
    for (const [name, content] of Object.entries(others)) {
      const path = join(dir, name);
      writeFileSync(path, content);
      for (const force of [true, false]) {
        expect(flagMessage(() => importState(EVAL_GRU, path, ['rnn', 'import'], force))).toBe(
          `--out ${path} exists and is not an earlier import or export (a checkpoint rnn import wrote, or rnn-state/1 JSON), ` +
            'so an import would lose it: choose another file for the import, or remove it first');
      }
      expect(readFileSync(path, 'utf8')).toBe(content);
    }
    const empty = join(dir, 'empty.json');
    writeFileSync(empty, '');
    importState(EVAL_GRU, empty, ['rnn', 'import'], true);
    expect(readFileSync(empty, 'utf8')).toMatch(/^\{"format":"rnn-checkpoint\/1"/);
  });
});

describe('a run whose --out holds checkpoints', () => {
  it('is refused, offering --resume only where there is a latest checkpoint to resume', () => {
    const folder = scratch.folder();
    const best = join(folder, 'best.json');
    copyFileSync(checkpoint, best);
    expect(flagMessage(() => checkOutputFree(outputPaths(folder), folder, null)))
      .toBe(`--out: ${best} already exists and this run would overwrite it; choose another --out`);
    const file = join(folder, 'model.json');
    copyFileSync(checkpoint, file);
    expect(flagMessage(() => checkOutputFree(outputPaths(file), file, null)))
      .toBe(`--out: ${file} already exists and this run would overwrite it; resume it with --resume ${file}, or choose another --out`);
  });

  it('names --resume where the output is the resumed run\'s own, no --out given', () => {
    const folder = scratch.folder();
    const best = join(folder, 'best.json');
    copyFileSync(checkpoint, best);
    expect(flagMessage(() => checkOutputFree(outputPaths(folder), folder, best, 'resume')))
      .toBe(`--resume ${best} writes to ${folder}: ${best} already exists and this run would overwrite it; choose another --out`);
  });

  it('offers no --resume of another run\'s best checkpoint, whose resume writes to that run (and is refused there)', () => {
    const folder = scratch.folder();
    const file = join(folder, 'model.json'), fileBest = join(folder, 'model.best.json');
    copyFileSync(checkpoint, file);
    copyFileSync(checkpoint, fileBest);
    const runBest = join(folder, 'best.json');
    copyFileSync(checkpoint, join(folder, 'latest.json'));
    copyFileSync(checkpoint, runBest);
    for (const [best, owner] of [[fileBest, file], [runBest, `the folder ${folder}`]] as const) {
      expect(flagMessage(() => checkOutputFree(outputPaths(best), best, null))).toBe(`--out ${best}: ${basename(best)} is where a run writing to ` +
        `${owner} keeps its best checkpoint; name the file otherwise (not best.json, nor ending in .best.json)`);
    }
  });
});

describe('a run whose --out is the folder of a train_ddp.py run', () => {
  it('is refused, naming the file that shows it, and writes nothing there; a checkpoint file named in it is free', async () => {
    const stopped = scratch.folder();
    writeFileSync(join(stopped, 'state.pt'), 'PK');
    expect(flagMessage(() => checkOutputFree(outputPaths(stopped), stopped, null))).toBe(
      `--out ${stopped} is the folder of an examples/pytorch/train_ddp.py run (it holds its state.pt): give another --out, a folder of its own`);
    const finished = scratch.folder();
    exportState(checkpoint, join(finished, 'model.safetensors'));
    writeFileSync(join(finished, 'summary.json'), '{"steps": []}\n');
    expect(flagMessage(() => checkOutputFree(outputPaths(finished), finished, null))).toBe(
      `--out ${finished} is the folder of an examples/pytorch/train_ddp.py run (it holds its model.safetensors): give another --out, a folder of its own`);
    const named = join(finished, 'tuned.json');
    expect(() => checkOutputFree(outputPaths(named), named, null)).not.toThrow();

    const corpus = join(scratch.dir, 'ddp-corpus.txt');
    writeFileSync(corpus, speeches(2000));
    const run = await rnnIn(scratch.dir, ['train', corpus, '--hidden', '8', '--embed', '4', '--max-steps', '1', '--out', stopped]);
    expectOneLineError(run, /^rnn: --out .* is the folder of an examples\/pytorch\/train_ddp\.py run \(it holds its state\.pt\): give another --out, a folder of its own$/);
    expect(readdirSync(stopped)).toEqual(['state.pt']);
  });
});

describe('a server that cannot start', () => {
  it('closes the generation threads it started (they kept the process alive)', async () => {
    const ports = () => process.getActiveResourcesInfo().filter((kind) => kind === 'MessagePort').length;
    const before = ports();
    const options = {
      models: [{ name: 'gru', path: checkpoint }], kernels: 'js' as const, workers: 1, queue: 4, timeLimitMs: 0.5,
      port: 0, host: '127.0.0.1', cors: null, allowedHosts: [], token: null, maxLen: 500, maxBeam: 64, maxBody: 65536, maxConnections: 512,
      maxTextTokens: 8192,
    };
    await expect(RnnServer.start(options)).rejects.toThrow(/requestTimeout/);
    expect(ports()).toBe(before);
  });
});

describe('the library API given what its types forbid', () => {
  it('an unknown kernels choice is one line naming kernels, a RangeError as every other option\'s (the package exports no SettingError)', () => {
    expect(() => loadModel(checkpoint, { kernels: 'gpu' as never })).toThrow(RangeError);
    expect(() => loadModel(checkpoint, { kernels: 'gpu' as never })).toThrow('kernels: must be one of auto, js, wasm, relaxed (got gpu)');
  });

  it('workers that are not a positive integer are refused, neither run (1.5 would wait at the first barrier) nor allocated (NaN)', async () => {
    await expect(collect(model.generate({ len: 2, workers: 1.5 }))).rejects.toThrow(/^workers: must be a positive integer \(got 1\.5\)$/);
    await expect(collect(model.generate({ len: 2, workers: 0 }))).rejects.toThrow(/^workers: must be a positive integer \(got 0\)$/);
    await expect(model.score('ab', { workers: Number.NaN })).rejects.toThrow(/^workers: must be a positive integer \(got NaN\)$/);
    await expect(model.scoreValidation(Number.NaN)).rejects.toThrow(/^workers: /);
    await expect(model.scorePreparedValidation(scratch.dir, Number.NaN)).rejects.toThrow(/^workers: /);
  });

  it('an onProgress of a validation split\'s scoring that is not a function is named, as score\'s is', async () => {
    await expect(model.scoreValidation(1, 5 as never)).rejects.toThrow(new TypeError('onProgress: must be a function (got 5)'));
    await expect(model.scorePreparedValidation(scratch.dir, 1, 'x' as never)).rejects.toThrow(new TypeError('onProgress: must be a function (got x)'));
  });

  it('a BigInt given for a number is written as one (10n), not as the number it would be, which the range takes', async () => {
    await expect(model.score('ab', { top: 10n as never })).rejects.toThrow(new RangeError('top: must be an integer from 0 to 10 (got 10n)'));
    expect(() => model.completeSync({ n: 1n as never, len: 2 })).toThrow(new RangeError('n: must be a positive integer (got 1n)'));
  });

  it('a prepared folder that is not a string is named dir, not left to node:fs to refuse as its "path" argument', async () => {
    await expect(model.scorePreparedValidation(5 as never, 1)).rejects.toThrow(new TypeError('dir: must be a string (got 5)'));
    await expect(model.scorePreparedValidation(undefined as never, 1)).rejects.toThrow(new TypeError('dir: must be a string (got missing)'));
  });

  it('a beam too wide for memory, refused by the library as rnn sample --beam calls it, is the command line\'s one line naming --beam', () => {
    expect(flagMessage(() => model.beamSync({ beam: 1e9, len: 10 })))
      .toMatch(/^--beam 1000000000: .*; --beam \d+ is the largest that fits with this model and --len$/);
  });

  it('a text that is not a string, and a beam search without a beam, are named', async () => {
    await expect(model.score(5 as never)).rejects.toThrow(new TypeError('text: must be a string, or what tokenize made of one (got 5)'));
    expect(() => model.scoreSync(['a'] as never)).toThrow('text: must be a string, or what tokenize made of one (got an array of 1)');
    await expect(model.activations(null as never, 0)).rejects.toThrow(new TypeError('text: must be a string, or what tokenize made of one (got null)'));
    expect(() => model.tokenize(undefined as never)).toThrow(new TypeError('text: must be a string (got missing)'));
    await expect(model.generate({ prime: 5 as never, len: 1 }).next()).rejects.toThrow('prime: must be a string, or what tokenize made of one (got 5)');
    await expect(model.beam({ len: 3 } as never)).rejects.toThrow(/^beam: is missing/);
  });

  it('a text\'s tokens that tokenize did not make, or that another model\'s tokenize made, are refused, never read out of bounds', async () => {
    const ids = Array.from(model.tokenize('KING').ids);
    const asArray = { text: 'KING', ids, unknown: [] };
    expect(() => model.scoreSync(asArray as never)).toThrow(new TypeError('text.ids: must be an Int32Array, as tokenize makes it (got an array of 4)'));
    expect(() => model.completeSync({ prime: asArray as never, n: 2 })).toThrow('prime.ids: must be an Int32Array, as tokenize makes it (got an array of 4)');
    expect(() => model.beamSync({ prime: { ids: Int32Array.from(ids) } as never, beam: 2 })).toThrow(
      new TypeError('prime.text: must be a string, as tokenize makes it (got missing)'));
    // a word-level model's vocabulary is larger than this one's 67 characters; copied by hand, its ids are checked for range only
    const other = loadModel(join(ROOT, 'test', 'fixtures', 'word-rule-1', 'step3.json'));
    const foreign = { ...other.tokenize(`KING ${other.vocab.tokens.at(-1)!}`) };
    const outside = `prime.ids[1] is ${other.config.vocabSize - 1}, not a token of this model's 67-token vocabulary: cut the text with this model's tokenize`;
    expect(() => model.completeSync({ prime: foreign, n: 2 })).toThrow(new RangeError(outside));
    expect(() => model.beamSync({ prime: foreign, beam: 2 })).toThrow(outside);
    await expect(model.generate({ prime: foreign, workers: 2 }).next()).rejects.toThrow(outside);
    expect(() => model.scoreSync(foreign, { tokens: false })).toThrow(outside.replace('prime', 'text'));
    const negative = { text: 'K', ids: Int32Array.of(-1), unknown: [] };
    await expect(model.score(negative)).rejects.toThrow(/^text\.ids\[0\] is -1, not a token of /);
    const pastTheEnd = { text: 'K', ids: Int32Array.of(67), unknown: [] };
    expect(() => model.scoreSync(pastTheEnd)).toThrow(new RangeError(
      "text.ids[0] is 67, not a token of this model's 67-token vocabulary: cut the text with this model's tokenize"));
  });

  it('another model\'s tokens are refused by generate, complete, beam and score though every id is in range, where they would read as other tokens', async () => {
    // the same weights under a vocabulary of as many characters, '$' left out and '~' added: 'keen' is cut into the ids of 'jddm'
    const state = JSON.parse(readFileSync(EVAL_GRU, 'utf8')) as { state: { vocab: string[] } };
    state.state.vocab = [...state.state.vocab.filter((token) => token !== '$'), '~'];
    writeFileSync(join(scratch.dir, 'shifted-state.json'), JSON.stringify(state));
    importState(join(scratch.dir, 'shifted-state.json'), join(scratch.dir, 'shifted.json'), ['rnn', 'import'], true);
    const shifted = loadModel(join(scratch.dir, 'shifted.json'), { kernels: 'js' });
    const foreign = shifted.tokenize('keen');
    expect(Array.from(foreign.ids)).toEqual(Array.from(model.tokenize('jddm').ids));
    const refused = (name: string) => new RangeError(
      `${name}: was tokenized by another model, whose vocabulary differs from this one's: tokenize the text with this model, or pass the string`);
    await expect(model.generate({ prime: foreign, len: 5 }).next()).rejects.toThrow(refused('prime'));
    await expect(model.complete({ prime: foreign, n: 2, len: 5 })).rejects.toThrow(refused('prime'));
    expect(() => model.completeSync({ prime: foreign, n: 2, len: 5 })).toThrow(refused('prime'));
    await expect(model.beam({ prime: foreign, beam: 2, len: 5 })).rejects.toThrow(refused('prime'));
    expect(() => model.beamSync({ prime: foreign, beam: 2, len: 5 })).toThrow(refused('prime'));
    await expect(model.score(foreign)).rejects.toThrow(refused('text'));
    expect(() => model.scoreSync(foreign)).toThrow(refused('text'));
    expect(() => shifted.scoreSync(model.tokenize('keen'))).toThrow(refused('text'));
    expect(shifted.scoreSync(foreign)).toEqual(shifted.scoreSync('keen'));
  });

  it('a text\'s tokens are taken from the model that cut them, from another load of its checkpoint, and built by hand (as from JSON)', async () => {
    const text = 'KING ☃ keen', options = { len: 12, seed: 3 };
    const byText = {
      generate: await collect(model.generate({ ...options, prime: text })),
      complete: model.completeSync({ ...options, prime: text, n: 2 }),
      beam: model.beamSync({ prime: text, beam: 2, len: 8 }),
      score: model.scoreSync(text, { top: 2 }),
    };
    const again = loadModel(checkpoint, { kernels: 'js' });
    expect(again.vocab).not.toBe(model.vocab);
    const sent = JSON.parse(JSON.stringify(model.tokenize(text))) as { text: string; ids: Record<string, number>; unknown: string[] };
    expect(Object.keys(sent)).toEqual(['text', 'ids', 'unknown']);
    const byHand = { text: sent.text, ids: Int32Array.from(Object.values(sent.ids)), unknown: sent.unknown };
    for (const tokens of [model.tokenize(text), again.tokenize(text), byHand]) {
      expect(await collect(model.generate({ ...options, prime: tokens }))).toEqual(byText.generate);
      expect(model.completeSync({ ...options, prime: tokens, n: 2 })).toEqual(byText.complete);
      expect(model.beamSync({ prime: tokens, beam: 2, len: 8 })).toEqual(byText.beam);
      expect(await model.score(tokens, { top: 2 })).toEqual(byText.score);
    }
    expect(again.scoreSync(model.tokenize(text), { top: 2 })).toEqual(byText.score);
    // score reads the ids and the unknown tokens' texts alone: a text's tokens as tokenize gave them before it kept the text too
    const { ids, unknown } = model.tokenize(text);
    expect(model.scoreSync({ ids, unknown } as never, { top: 2 })).toEqual(byText.score);
  });

  it('a sampling option the library refuses is told what it must be in the words /v1/generate uses for that field', async () => {
    const mustBe = (message: string) => /^\w+: (must be .*) \(got .*\)$/.exec(message)?.[1];
    const library = async (options: Record<string, unknown>) => {
      const refusal = await model.generate(options).next().then(() => null, (err: Error) => err.message);
      return mustBe(refusal ?? 'no error');
    };
    const server = (read: (input: Record<string, unknown>) => unknown, input: Record<string, unknown>) => {
      try {
        read(input);
      } catch (err) {
        return mustBe((err as Error).message);
      }
      return undefined;
    };
    // a request does not name its threads: the server's own setting of them, read as a body's field
    const serverWorkers = (input: Record<string, unknown>) => parseSettings(settingsSchema(pickSettings(SERVE_SETTINGS, ['workers']), 'json'), input);
    const fields = [...['temperature', 'topP', 'topK', 'len', 'seed'].map((name) => [name, readGenerate] as const), ['workers', serverWorkers] as const];
    for (const [name, read] of fields) {
      for (const value of [null, 'x', -1, Number.NaN]) {
        const told = server(read, { [name]: value });
        expect(told, `${name}: ${String(value)}`).toMatch(/^must be /);
        expect(await library({ [name]: value }), `${name}: ${String(value)}`).toBe(told);
      }
    }
  });

  it('options that are no plain object (a Map, an array, a typed array, a class\'s instance, keys inherited) are refused naming what a call takes, never read as {}', async () => {
    const takes = (names: string) => `options: must be a plain object of options by name: ${names}`;
    const generate = takes('prime, len, temperature, topK, topP, seed, stopAtEos, unk, signal, onWarning, workers');
    await expect(model.generate(Object.create({ len: 5 }) as never).next()).rejects.toThrow(
      new TypeError(`${generate} (got an object with inherited keys)`));
    await expect(model.generate(new Map([['len', 5]]) as never).next()).rejects.toThrow(new TypeError(`${generate} (got a Map)`));
    await expect(model.generate([] as never).next()).rejects.toThrow(new TypeError(`${generate} (got an array of 0)`));
    expect(() => model.completeSync(new Date() as never)).toThrow(new TypeError(`${takes('prime, len, temperature, topK, topP, seed, stopAtEos, unk, signal, onWarning, n')} (got a Date)`));
    expect(() => model.scoreSync('ab', new (class Settings {})() as never)).toThrow(new TypeError(`${takes('tokens, top, signal, onProgress')} (got a Settings)`));
    expect(() => loadModel(checkpoint, new Map() as never)).toThrow(new TypeError(`${takes('kernels')} (got a Map)`));
    expect(() => loadModel(checkpoint, new Uint8Array(2) as never)).toThrow(new TypeError(`${takes('kernels')} (got a Uint8Array)`));
    expect(() => loadModel(checkpoint, new Int32Array(2) as never)).toThrow(new TypeError(`${takes('kernels')} (got an Int32Array)`));
    // an object without a prototype holds its own keys alone, and is read as one made by { }
    const bare = Object.assign(Object.create(null) as object, { len: 3, seed: 1 });
    expect(await collect(model.generate(bare))).toEqual(await collect(model.generate({ len: 3, seed: 1 })));
  });

  it('an option no call takes is named with the valid ones, not ignored; options that are no object, and a path that is no string, are named', async () => {
    await expect(model.generate({ length: 5 } as never).next()).rejects.toThrow(
      new TypeError('unknown option length; the valid ones: prime, len, temperature, topK, topP, seed, stopAtEos, unk, signal, onWarning, workers'));
    await expect(model.score('ab', { top: 1, workers: 1, topX: 3 } as never)).rejects.toThrow(/^unknown option topX; /);
    // a name that every object inherits (toString, constructor) is no option either
    expect(() => model.scoreSync('ab', { constructor: 1 } as never)).toThrow(new TypeError('unknown option constructor; the valid ones: tokens, top, signal, onProgress'));
    await expect(model.generate({ toString: 'x' } as never).next()).rejects.toThrow(/^unknown option toString; the valid ones: prime, /);
    expect(() => model.activationsSync('ab', 0, { tops: 3 } as never)).toThrow(new TypeError('unknown option tops; the valid ones: signal'));
    await expect(model.generate(null as never).next()).rejects.toThrow(/^options: must be a plain object of options by name: prime, len, .* \(got null\)$/);
    // a signal that is none would never stop the call
    const notASignal = 'signal: must be an AbortSignal, or an object with aborted (got 5)';
    expect(() => model.completeSync({ n: 2, signal: 5 as never })).toThrow(new TypeError(notASignal));
    await expect(model.score('ab', { signal: { stopped: true } as never })).rejects.toThrow('signal: must be an AbortSignal, or an object with aborted (got an object)');
    expect(() => model.activationsSync('ab', 0, { signal: null as never })).toThrow('(got null)');
    expect(() => loadModel(checkpoint, { kernel: 'js' } as never)).toThrow('unknown option kernel; the valid ones: kernels');
    expect(() => loadModel(5 as never)).toThrow(new TypeError('path: must be a string (got 5)'));
  });

  it('an option of another call is refused naming the calls it is of, with the valid ones', async () => {
    const generate = 'prime, len, temperature, topK, topP, seed, stopAtEos, unk, signal, onWarning, workers';
    await expect(model.generate({ lengthPenalty: 1 } as never).next()).rejects.toThrow(
      new TypeError(`unknown option lengthPenalty: an option of beam(); the valid ones: ${generate}`));
    await expect(model.generatePieces({ beam: 2 } as never).next()).rejects.toThrow(
      new TypeError(`unknown option beam: an option of beam(); the valid ones: ${generate}`));
    await expect(model.generate({ kernels: 'js' } as never).next()).rejects.toThrow(/^unknown option kernels: an option of loadModel\(\); /);
    await expect(model.beam({ beam: 2, temperature: 1 } as never)).rejects.toThrow(
      new TypeError('unknown option temperature: an option of generate() or complete(); the valid ones: prime, len, beam, stopAtEos, lengthPenalty, onText, signal, onWarning'));
    await expect(model.score('ab', { top: 1, topK: 3 } as never)).rejects.toThrow(/^unknown option topK: an option of generate\(\) or complete\(\); /);
    expect(() => model.scoreSync('ab', { n: 2 } as never)).toThrow(new TypeError('unknown option n: an option of complete(); the valid ones: tokens, top, signal, onProgress'));
    expect(() => model.scoreSync('ab', { workers: 2 } as never)).toThrow(/^unknown option workers: an option of generate\(\) or score\(\); /);
    expect(() => model.activationsSync('ab', 0, { top: 3 } as never)).toThrow(new TypeError('unknown option top: an option of score(); the valid ones: signal'));
    expect(() => loadModel(checkpoint, { len: 5 } as never)).toThrow(/^unknown option len: an option of generate\(\), complete\(\) or beam\(\); the valid ones: kernels$/);
    // a name no call takes is refused as before, no call named
    await expect(model.generate({ lenght: 5 } as never).next()).rejects.toThrow(new TypeError(`unknown option lenght; the valid ones: ${generate}`));
    expect(() => model.completeSync({ n: 2, toString: 1 } as never)).toThrow(/^unknown option toString; the valid ones: /);
  });
});
