import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { createServer } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadModel } from '../src/checkpoint/load.js';
import { MAX_CHECKPOINT_CHARS, checkpointChars, largestHidden, mib, parameterCount } from '../src/checkpoint/size.js';
import type { ModelConfig } from '../src/engine/config.js';
import { readPreparedData } from '../src/checkpoint/prepared.js';
import { scoreStream, scoreSummary } from '../src/generate/score.js';
import { EOS } from '../src/text/vocab.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { takeRunLock } from '../src/train/lock.js';
import { outputPaths } from '../src/train/output.js';
import { tokenArrayFor } from '../src/text/tokens.js';
import { fromSafetensors } from '../src/checkpoint/safetensors.js';
import { loadLossRuns } from '../src/plot/runs.js';
import { ROOT, finish, rnnIn, signalOnce, stdoutShows } from './helpers/cli.js';
import { fileHashes, scratchFolder, sha256Of } from './helpers/files.js';
import { FRENCH, FRENCH_SPACING } from './helpers/french.js';
import { speeches } from './helpers/speeches.js';

/*
 * The run handed to PyTorch's DistributedDataParallel and back (examples/pytorch/train_ddp.py):
 * needs a Python with torch, safetensors and numpy — RNN_TORCH_PYTHON (.ci/run sets it), else
 * the repository's .venv. Without one the test fails, saying how to make it: it never skips.
 */
const PYTHON = process.env['RNN_TORCH_PYTHON'] ?? join(ROOT, '.venv', 'bin', 'python');

const { dir } = scratchFolder('rnn-torch-');
/** A folder whose `torch` cannot be imported: first on PYTHONPATH, it shows that a run answered without torch. */
const NO_TORCH = join(dir, 'no-torch');
beforeAll(() => {
  if (process.env['RNN_TORCH_PYTHON'] === undefined && !existsSync(PYTHON)) {
    throw new Error(`${PYTHON} is missing: python3 -m venv .venv && .venv/bin/pip install torch safetensors numpy, or set RNN_TORCH_PYTHON`);
  }
  mkdirSync(join(NO_TORCH, 'torch'), { recursive: true });
  writeFileSync(join(NO_TORCH, 'torch', '__init__.py'), 'raise ImportError("torch imported before the input was checked")\n');
});

/** Seconds a Python run may take before it is stopped (SIGTERM: torchrun stops its ranks), well inside the test's limit. */
const PYTHON_LIMIT_SECONDS = 240;

/** A Python run's exit status (null when it had to be stopped) and all it wrote, so that a failure shows it. */
function python(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, args, {
      cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: '1', ...env },
      timeout: PYTHON_LIMIT_SECONDS * 1000, killSignal: 'SIGTERM',
    }, (error, stdout, stderr) => {
      if (error?.killed) resolve({ status: null, output: `${stdout}${stderr}(stopped after ${PYTHON_LIMIT_SECONDS} s)\n` });
      else if (error && typeof error.code !== 'number') reject(error);
      else resolve({ status: error ? (error.code as number) : 0, output: stdout + stderr });
    });
  });
}

/** train_ddp.py's answer to `args` that end before training (--check, bad input), with torch unimportable (NO_TORCH). */
function withoutTorch(args: string[]): Promise<{ status: number | null; output: string }> {
  const path = process.env['PYTHONPATH'];
  return python(['examples/pytorch/train_ddp.py', ...args], { PYTHONPATH: path ? `${NO_TORCH}${delimiter}${path}` : NO_TORCH });
}

/** A .safetensors file's bytes with `fields` set in the rnn-state/1 config of its metadata. */
function withConfig(bytes: Buffer, fields: Record<string, unknown>): Buffer {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as { __metadata__: { config: string } };
  header.__metadata__.config = JSON.stringify({ ...JSON.parse(header.__metadata__.config) as object, ...fields });
  const json = Buffer.from(JSON.stringify(header));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([size, json, bytes.subarray(8 + length)]);
}

/** The rnn-state/1 config in the metadata of the .safetensors file at `path`. */
function configAt(path: string): Record<string, unknown> {
  const bytes = readFileSync(path);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString('utf8')) as { __metadata__: { config: string } };
  return JSON.parse(header.__metadata__.config) as Record<string, unknown>;
}

/** A .safetensors file's bytes with the float32 value at `index` of `tensor` set to `value`. */
function withWeight(bytes: Buffer, tensor: string, index: number, value: number): Buffer {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, { data_offsets: [number, number] }>;
  const changed = Buffer.from(bytes);
  changed.writeFloatLE(value, 8 + length + header[tensor]!.data_offsets[0] + 4 * index);
  return changed;
}

/** Runs rnn with `args` in the scratch folder, expecting it to succeed. */
async function rnnOk(args: string[]): Promise<void> {
  const run = await rnnIn(dir, args);
  expect(run.status, run.stderr).toBe(0);
}

/** A GRU 1×8 and its batch, as small as a run that only has to write a file is. */
const SMALL = ['--cell', 'gru', '--layers', '1', '--hidden', '8', '--embed', '4', '--batch', '4', '--seq-len', '8'];

/** A prepared folder `name` in the scratch folder, of a text long enough for a run that is stopped while it trains. */
async function stoppedData(name: string): Promise<string> {
  const corpus = join(dir, 'stopped.txt'), data = join(dir, name);
  writeFileSync(corpus, speeches(3_000));
  await rnnOk(['prepare', corpus, '--out', data]);
  return data;
}

/** An earlier run's files in the new folder `out`, which a stopped --force run would have replaced: their hashes. */
function earlierRun(out: string): Record<string, string> {
  mkdirSync(out);
  writeFileSync(join(out, 'model.safetensors'), 'an earlier model');
  writeFileSync(join(out, 'summary.json'), '{"steps": 1}\n');
  return fileHashes(out);
}

/** Changes the run's state saved at `path` (state.pt) by the Python `statement` on `state`, as another run would have saved it. */
async function editState(path: string, statement: string): Promise<void> {
  const edit = await python(['-c', `import sys, torch\nstate = torch.load(sys.argv[1], weights_only=True)\n${statement}\ntorch.save(state, sys.argv[1])`, path]);
  expect(edit.status, edit.output).toBe(0);
}

/** The bytes of the weights a model file holds (its metadata, which safetensors writes in no fixed order, left out). */
function weightBytes(path: string): Buffer {
  const { params } = fromSafetensors(readFileSync(path), path);
  return Buffer.from(params.buffer, params.byteOffset, params.byteLength);
}

/** A TCP port free on this machine now, for a process group's rendezvous. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Rank `rank` of `world` of an endless SMALL run on `data` (unless `args`, which come last, limit
 * it), started as torchrun starts one (its environment) but by itself, so that a signal goes to
 * it alone: a progress line every step.
 */
function startRank(data: string, args: string[], rank: number, world: number, port: number): ChildProcess {
  return spawn(PYTHON, ['examples/pytorch/train_ddp.py', data, ...SMALL, '--max-steps', '1000000', '--log-every', '1', ...args], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env, OMP_NUM_THREADS: '1', RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world),
      MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
    },
  });
}

const SCORED = 'Fellow citizens, the state of the Union is strong.\nWe have much to do.';

describe('an rnn run trained on by PyTorch DDP and brought back', () => {
  it('trains as rnn trains, and scores in rnn as PyTorch scores it, to 1e-4', async () => {
    const corpus = join(dir, 'corpus.txt');
    writeFileSync(corpus, speeches(8_000));
    const data = join(dir, 'data');
    const ok = async (args: string[]): Promise<string> => {
      const run = await rnnIn(dir, args);
      expect(run.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('rnn: warning: ')), args.join(' ')).toEqual([]);
      expect(run.status).toBe(0);
      return run.stdout;
    };
    await ok(['prepare', corpus, '--level', 'word', '--vocab-size', '400', '--out', data]);
    const model = ['--cell', 'lstm', '--layers', '2', '--hidden', '24', '--embed', '12', '--batch', '8', '--seq-len', '16', '--workers', '1'];
    // rnn's initial weights: one step at a rate far below a float32 weight's precision changes none of them
    await ok(['train', data, ...model, '--max-steps', '1', '--lr', '1e-30', '--out', join(dir, 'init'), '--json']);
    await ok(['export', join(dir, 'init', 'latest.json'), '--format', 'safetensors', '--out', join(dir, 'start.safetensors')]);
    // and the run PyTorch's should retrace: 16 steps (across an epoch's end) from those weights, a fresh Adam, the same rows and
    // windows, the rate falling from 1e-2 to 0 over them (a rate at which these 16 steps learn)
    const rate = ['--lr', '1e-2'];
    const events = (await ok(['train', data, ...model, ...rate, '--max-steps', '16', '--eval-every', '0', '--out', join(dir, 'rnn'), '--json']))
      .trim().split('\n').map((line) => JSON.parse(line) as { event: string; loss?: number; valLoss?: number });
    const rnnLosses = events.filter((e) => e.event === 'step').map((e) => e.loss!);
    const rnnValLoss = events.find((e) => e.event === 'done')!.valLoss!;

    // the scored text's ids in the folder's vocabulary and dtype: as they are, which --score frames as rnn eval perplexity
    // frames a text (<EOS> text <EOS>), and framed so already, which it scores as they are
    const { vocab, val } = readPreparedData(data);
    const encoded = vocab.encode(SCORED);
    const ids = tokenArrayFor(vocab.size, encoded.length + 2);
    ids.set(encoded, 1);
    ids[0] = ids[ids.length - 1] = EOS;
    const scored = join(dir, 'scored.bin'), framed = join(dir, 'framed.bin');
    const bytes = (array: typeof ids) => new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
    writeFileSync(scored, bytes(ids.subarray(1, -1)));
    writeFileSync(framed, bytes(ids));

    const torchOut = join(dir, 'torch');
    const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '2', 'examples/pytorch/train_ddp.py', data,
      '--init', join(dir, 'start.safetensors'), '--batch', '8', '--seq-len', '16', ...rate, '--max-steps', '16', '--score', scored, framed,
      '--out', torchOut]);
    expect(ddp.status, ddp.output).toBe(0);
    expect(ddp.output).toMatch(/^2 ranks on cpu;.* 8 rows of \d+, 1[0-5] steps per epoch, 16 steps$/m);
    const summary = JSON.parse(readFileSync(join(torchOut, 'summary.json'), 'utf8')) as {
      ranks: number; train_losses: number[]; val_loss: number; scores: Record<string, number>;
    };
    expect(summary.ranks).toBe(2);
    expect(summary.train_losses).toHaveLength(16);
    expect(summary.train_losses.at(-1)!).toBeLessThan(summary.train_losses[0]! - 0.1);
    summary.train_losses.forEach((loss, step) => expect(Math.abs(loss - rnnLosses[step]!), `step ${step + 1}`).toBeLessThan(1e-4));
    expect(Math.abs(summary.val_loss - rnnValLoss)).toBeLessThan(1e-4);

    await ok(['import', join(torchOut, 'model.safetensors'), '--out', join(dir, 'imported.json')]);
    const evaluated = JSON.parse(await ok(['eval', 'perplexity', '--checkpoint', join(dir, 'imported.json'), '--text', SCORED, '--json'])) as {
      loss: number; tokens: number;
    };
    expect(evaluated.tokens).toBe(ids.length - 1);
    expect(Math.abs(evaluated.loss - summary.scores[scored]!)).toBeLessThan(1e-4);
    expect(summary.scores[framed]).toBe(summary.scores[scored]);
    // PyTorch's validation loss is rnn's: val.bin in the run's 8 rows of windows of 16, each rank scoring its rows
    const imported = loadModel(join(dir, 'imported.json'));
    const validation = scoreSummary(await scoreStream(imported.config, imported.params, val, 8, 16, 1));
    expect(Math.abs(validation.loss - summary.val_loss)).toBeLessThan(1e-4);
  }, 300_000);

  it('trains alike on one rank and two, to 1e-5 in each step\'s loss over 30 steps and in the validation loss', async () => {
    const corpus = join(dir, 'ranks.txt'), data = join(dir, 'ranks-data'), start = join(dir, 'ranks-start.safetensors');
    writeFileSync(corpus, speeches(8_000));
    await rnnOk(['prepare', corpus, '--out', data]);
    const model = ['--cell', 'lstm', '--layers', '2', '--hidden', '24', '--embed', '12', '--batch', '8', '--seq-len', '16'];
    await rnnOk(['train', data, ...model, '--workers', '1', '--max-steps', '1', '--out', join(dir, 'ranks-run')]);
    await rnnOk(['export', join(dir, 'ranks-run', 'latest.json'), '--out', start]);
    const summaries = await Promise.all(['1', '2'].map(async (ranks) => {
      const out = join(dir, `ranks-${ranks}`);
      const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', ranks, 'examples/pytorch/train_ddp.py', data, '--init', start,
        '--batch', '8', '--seq-len', '16', '--lr', '1e-2', '--max-steps', '30', '--out', out]);
      expect(ddp.status, ddp.output).toBe(0);
      return JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { ranks: number; train_losses: number[]; val_loss: number };
    }));
    const [one, two] = summaries as [typeof summaries[0], typeof summaries[0]];
    expect([one.ranks, two.ranks]).toEqual([1, 2]);
    expect(one.train_losses).toHaveLength(30);
    one.train_losses.forEach((loss, step) => expect(Math.abs(loss - two.train_losses[step]!), `step ${step + 1}`).toBeLessThan(1e-5));
    expect(Math.abs(one.val_loss - two.val_loss)).toBeLessThan(1e-5);
    // trained without dropout, as its --init file was: the config names none, as rnn export writes it
    expect(Object.keys(configAt(join(dir, 'ranks-1', 'model.safetensors')))).not.toContain('dropout');
  }, 300_000);

  it('a run from --init drops out as the file records, unless --dropout is given, as rnn train --init-from does', async () => {
    const corpus = join(dir, 'dropout.txt'), data = join(dir, 'dropout-data'), start = join(dir, 'dropout-start.safetensors');
    writeFileSync(corpus, speeches(3_000));
    await rnnOk(['prepare', corpus, '--out', data]);
    await rnnOk(['train', data, '--cell', 'gru', '--layers', '2', '--hidden', '8', '--embed', '4', '--dropout', '0.1', '--batch', '4', '--seq-len', '8',
      '--workers', '1', '--max-steps', '1', '--out', join(dir, 'dropout-run')]);
    await rnnOk(['export', join(dir, 'dropout-run', 'latest.json'), '--out', start]);
    expect(configAt(start)['dropout']).toBe(0.1);
    const written = await Promise.all(([['dropout-kept', []], ['dropout-given', ['--dropout', '0']]] as const).map(async ([name, dropout]) => {
      const out = join(dir, name);
      const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '1', 'examples/pytorch/train_ddp.py', data, '--init', start,
        ...dropout, '--batch', '4', '--seq-len', '8', '--max-steps', '2', '--out', out]);
      expect(ddp.status, ddp.output).toBe(0);
      return configAt(join(out, 'model.safetensors'))['dropout'];
    }));
    // left out, the file's 0.1; given, --dropout 0, which the config names by no field
    expect(written).toEqual([0.1, undefined]);
  }, 300_000);

  it('a run to 20 steps and --resume to 40 train as one run to 40, to the bit, on two ranks; --resume refuses what would change the run', async () => {
    const corpus = join(dir, 'resumed.txt'), data = join(dir, 'resumed-data'), other = join(dir, 'resumed-other-data');
    writeFileSync(corpus, speeches(3_000));
    await rnnOk(['prepare', corpus, '--out', data]);
    await rnnOk(['prepare', corpus, '--val-frac', '0.2', '--out', other]);
    // an LSTM with dropout (the random state), over an epoch's end (the carried state reset, the rate decayed), the resume before it
    const model = ['--cell', 'lstm', '--layers', '2', '--hidden', '8', '--embed', '4', '--dropout', '0.1', '--batch', '8', '--seq-len', '16',
      '--lr', '1e-2', '--lr-schedule', 'epoch', '--lr-decay', '0.5'];
    const torchrun = (args: string[]) => python(['-m', 'torch.distributed.run', '--nproc_per_node', '2', 'examples/pytorch/train_ddp.py', ...args]);
    const straight = join(dir, 'resumed-straight'), parts = join(dir, 'resumed-parts');
    const trained = async (args: string[]) => {
      const ddp = await torchrun(args);
      expect(ddp.status, ddp.output).toBe(0);
    };
    // the straight run beside the first part, which --resume then goes on with
    await Promise.all([trained([data, ...model, '--max-steps', '40', '--out', straight]),
      trained([data, ...model, '--max-steps', '20', '--out', parts]).then(() => trained([data, '--resume', '--max-steps', '40', '--out', parts]))]);
    const summary = (out: string) => JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { steps: number; train_losses: number[] };
    expect(summary(straight).train_losses).toHaveLength(40);
    expect(summary(parts).train_losses).toEqual(summary(straight).train_losses);
    expect(weightBytes(join(parts, 'model.safetensors')).equals(weightBytes(join(straight, 'model.safetensors')))).toBe(true);
    // the model carries its dropout, as rnn export writes it, so that rnn train --init-from drops out as it did
    expect([configAt(join(straight, 'model.safetensors'))['dropout'], configAt(join(parts, 'model.safetensors'))['dropout']]).toEqual([0.1, 0.1]);
    // each part validates at its end, the first part's validation kept across --resume; rnn plot draws both runs at the
    // tokens of a step (8 rows of 16), and where the two evaluated alike the same losses
    const evaluations = (out: string) => (JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { evaluations: { step: number }[] })
      .evaluations.map((evaluation) => evaluation.step);
    expect([evaluations(parts), evaluations(straight)]).toEqual([[20, 40], [40]]);
    const [partsRun, straightRun] = loadLossRuns([parts, join(straight, 'summary.json')]);
    expect([partsRun!.name, partsRun!.level, partsRun!.train.map((point) => point.tokensSeen)]).toEqual(['resumed-parts', 'char', [20 * 128, 40 * 128]]);
    expect([partsRun!.train.at(-1), partsRun!.val.at(-1)]).toEqual([straightRun!.train[0], straightRun!.val[0]]);
    await rnnOk(['plot', parts, straight, '--out', join(dir, 'resumed.svg')]);
    expect(readFileSync(join(dir, 'resumed.svg'), 'utf8')).toContain('data-run="resumed-straight"');

    const script = 'examples/pytorch/train_ddp.py', saved = `the run saved in --out ${parts}`;
    const empty = join(dir, 'resumed-empty');
    mkdirSync(empty);
    const cases: [string[], string][] = [
      [[data, '--resume', '--batch', '4', '--cell', 'lstm', '--seq-len', '8', '--check', '2'],
        `--batch 4, --seq-len 8 contradict ${saved}, which has --batch 8, --seq-len 16: leave them out, a resumed run keeps its settings`],
      [[data, '--resume', '--dropout', '0', '--check', '2'], `--dropout 0.0 contradicts ${saved}, which has --dropout 0.1: leave it out, a resumed run keeps its settings`],
      [[data, '--resume', '--max-steps', '60', '--check', '1'],
        `--resume: ${saved} trained on 2 ranks, and this one has 1 rank: resume it on 2 (torchrun --nnodes × --nproc_per_node)`],
      [[other, '--resume', '--max-steps', '60', '--check', '2'], `${other} is not the data ${saved} trained on, ${data}: give that folder, or a copy of it`],
      [[data, '--resume', '--check', '2'], `--resume: ${saved} has taken 40 steps, and its limits end it at 40: give a larger --max-steps or --epochs`],
      [[data, '--resume', '--force', '--max-steps', '60', '--check', '2'],
        '--resume goes on with the run saved in --out, --force starts a new one over it: give one of them'],
      [[data, '--resume', '--init', join(straight, 'model.safetensors'), '--check', '2'],
        `--init ${join(straight, 'model.safetensors')}: ${saved} started from new weights, not from an --init file: leave --init out`],
      [[data, '--resume', '--out', empty, '--check', '2'], `--resume: --out ${empty} holds no saved run (no state.pt, which a run writes at its end or ` +
        'when a signal stops it while it trains): start it without --resume'],
      [[data, ...model, '--check', '2'],
        `--out ${parts} holds the model.safetensors of an earlier run: give another --out, or --force to replace it, or --resume to go on with it (state.pt)`],
    ];
    // torch reads the saved run (state.pt), so these checks load it
    const answers = await Promise.all(cases.map(([args]) => python([script, ...args, ...(args.includes('--out') ? [] : ['--out', parts])])));
    answers.forEach((answer, i) => expect([answer.status, answer.output], cases[i]![0].join(' ')).toEqual([2, `train_ddp.py: ${cases[i]![1]}\n`]));
    // the flags a resumed run may change, and its kept ones given with their values
    const good = await python([script, data, '--resume', '--cell', 'lstm', '--batch', '8', '--max-steps', '60', '--lr', '1e-3', '--eval-every', '5',
      '--out', parts, '--check', '2']);
    expect([good.status, good.output]).toEqual([0, expect.stringMatching(/, 60 steps, going on from step 40; the input is good\n$/)]);
    // a state saved before it recorded the run's --init file: --init is refused beside --resume, which goes on without it
    await editState(join(parts, 'state.pt'), 'del state["settings"]["init"]');
    const older = await Promise.all([['--init', join(straight, 'model.safetensors')], []].map((init) =>
      python([script, data, '--resume', ...init, '--max-steps', '60', '--out', parts, '--check', '2'])));
    expect(older.map((answer) => [answer.status, answer.output])).toEqual([
      [2, `train_ddp.py: --init ${join(straight, 'model.safetensors')}: a resumed run goes on from the weights saved in --out ${parts}: leave --init out\n`],
      [0, expect.stringMatching(/, 60 steps, going on from step 40; the input is good\n$/)]]);
  }, 300_000);

  it('writes the document rule of the folder\'s text, which the imported model then reads a text by', async () => {
    const corpus = join(dir, 'documents.txt');
    writeFileSync(corpus, speeches(3_000));
    // a --docs line model from new weights, and a --docs sentence one from --init, an export of a model rnn trained on its folder
    await Promise.all((['line', 'sentence'] as const).map(async (docs) => {
      const data = join(dir, `${docs}-data`), out = join(dir, `${docs}-torch`);
      await rnnOk(['prepare', corpus, '--docs', docs, '--out', data]);
      let init = SMALL;
      if (docs === 'sentence') {
        await rnnOk(['train', data, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', join(dir, `${docs}-run`)]);
        await rnnOk(['export', join(dir, `${docs}-run`, 'latest.json'), '--out', join(dir, `${docs}-start.safetensors`)]);
        init = ['--init', join(dir, `${docs}-start.safetensors`)];
      }
      const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '1', 'examples/pytorch/train_ddp.py', data,
        ...init, '--batch', '4', '--seq-len', '8', '--max-steps', '1', '--out', out]);
      expect(ddp.status, ddp.output).toBe(0);
      await rnnOk(['import', join(out, 'model.safetensors'), '--out', join(out, 'imported.json')]);
      expect(loadModel(join(out, 'imported.json')).vocab.documents, docs).toEqual({ docs, sentenceRule: 4 });
    }));
  }, 300_000);

  it('a run that diverges saves nothing and says so in one line, exit status 1, as rnn train does', async () => {
    const corpus = join(dir, 'diverging.txt'), data = join(dir, 'diverging-data'), out = join(dir, 'diverging-torch');
    writeFileSync(corpus, speeches(3_000));
    await rnnOk(['prepare', corpus, '--out', data]);
    const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '1', 'examples/pytorch/train_ddp.py', data, ...SMALL,
      '--batch', '4', '--seq-len', '8', '--max-steps', '20', '--lr', '1e30', '--clip', '0', '--out', out]);
    expect(ddp.status, ddp.output).toBe(1);
    expect(ddp.output).toMatch(new RegExp('^train_ddp\\.py: training diverged at step \\d+: .+; nothing was saved; ' +
      'lower --lr \\(it was 1e\\+30\\) or turn on --clip \\(e\\.g\\. --clip 5\\) and train again$', 'm'));
    expect(existsSync(join(out, 'model.safetensors'))).toBe(false);
  }, 300_000);

  it('writes the tokenizer rules\' version of the folder\'s ids, whatever the --init file records', async () => {
    const corpus = join(dir, 'rules.txt');
    writeFileSync(corpus, speeches(3_000));
    const data = join(dir, 'rules-data'), out = join(dir, 'rules-torch'), start = join(dir, 'rules-start.safetensors');
    await rnnOk(['prepare', corpus, '--level', 'word', '--out', data]);
    await rnnOk(['train', data, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', join(dir, 'rules-run')]);
    await rnnOk(['export', join(dir, 'rules-run', 'latest.json'), '--out', start]);
    // the same vocabulary, recorded as cut under version 1 of the rules and as of a text that spaces its ?: another model's export, say
    writeFileSync(start, withConfig(readFileSync(start), { word_rule: 1, spacing: { before: { '?': ' ' } } }));
    const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '1', 'examples/pytorch/train_ddp.py', data,
      '--init', start, '--batch', '4', '--seq-len', '8', '--max-steps', '1', '--out', out]);
    expect(ddp.status, ddp.output).toBe(0);
    await rnnOk(['import', join(out, 'model.safetensors'), '--out', join(out, 'imported.json')]);
    expect(loadModel(join(out, 'imported.json')).vocab.wordRule).toBe(WORD_RULE_VERSION);
    expect(loadModel(join(out, 'imported.json')).vocab.spacing).toEqual({});
  }, 300_000);

  it('writes the spacing of the folder\'s text, which the imported model then writes its text back with', async () => {
    const corpus = join(dir, 'french.txt'), data = join(dir, 'french-data'), out = join(dir, 'french-torch');
    writeFileSync(corpus, FRENCH);
    await rnnOk(['prepare', corpus, '--level', 'word', '--docs', 'line', '--out', data]);
    const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '1', 'examples/pytorch/train_ddp.py', data,
      ...SMALL, '--max-steps', '1', '--out', out]);
    expect(ddp.status, ddp.output).toBe(0);
    await rnnOk(['import', join(out, 'model.safetensors'), '--out', join(out, 'imported.json')]);
    const { vocab } = loadModel(join(out, 'imported.json'));
    expect(vocab.spacing).toEqual(FRENCH_SPACING);
    const line = FRENCH.split('\n')[0]!;
    expect(vocab.decode(vocab.encode(line))).toBe(line);
  }, 300_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('%s while it trains ends it after a step with one line and exit status 128 + the signal, its state saved, ' +
    'from which --resume trains as one run would, to the bit', async (stopping) => {
    const data = await stoppedData(`stopped-data-${stopping}`), out = join(dir, `stopped-torch-${stopping}`);
    const before = earlierRun(out);
    // one rank as torchrun starts it, without torchrun: the signal goes to the script alone; a rate that a run's length leaves alone
    const child = startRank(data, ['--force', '--lr-schedule', 'epoch', '--out', out], 0, 1, await freePort());
    const ended = await finish(child, signalOnce('\nstep 2/', stopping));
    const status = { SIGINT: 130, SIGTERM: 143 }[stopping];
    const state = join(out, 'state.pt');
    expect([ended.code, ended.stderr]).toEqual([status, expect.stringMatching(new RegExp(`^train_ddp\\.py: stopped by ${stopping} after step (\\d+) ` +
      `of 1,000,000; its state is saved in ${state}: give the same command with --resume in place of --force to go on\n$`))]);
    // the earlier run's files, which only the run's end replaces, as they were
    expect(fileHashes(out)).toEqual({ ...before, 'state.pt': expect.any(String) });
    const stoppedAt = Number(/after step (\d+) /.exec(ended.stderr)![1]);
    // a stopped run that had trained a day: the resumed run's step lines and summary.json go on from its time
    const day = 86_400;
    await editState(state, `state["seconds"] = ${day}.0`);
    const steps = String(stoppedAt + 3), straight = join(dir, `straight-torch-${stopping}`);
    const resumed = await finish(startRank(data, ['--resume', '--out', out, '--max-steps', steps], 0, 1, await freePort()));
    expect([resumed.code, resumed.stderr]).toEqual([0, '']);
    expect(resumed.stdout).toMatch(new RegExp(`, ${steps} steps, going on from step ${stoppedAt}\n`));
    const times = [...resumed.stdout.matchAll(/^step \d+\/\d+ .* ([\d.]+)s$/gm)].map((line) => Number(line[1]));
    const { seconds } = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { seconds: number };
    expect(times).toHaveLength(3);
    // each line's time to a tenth of a second, at most the whole run's time rounded up to it
    const shown = Math.ceil(seconds * 10) / 10;
    expect(times.every((time) => time >= day && time <= shown), `${times.join(', ')} s, and ${seconds} s in summary.json`).toBe(true);
    const whole = await finish(startRank(data, ['--lr-schedule', 'epoch', '--out', straight, '--max-steps', steps], 0, 1, await freePort()));
    expect([whole.code, whole.stderr]).toEqual([0, '']);
    expect(weightBytes(join(out, 'model.safetensors')).equals(weightBytes(join(straight, 'model.safetensors')))).toBe(true);
  }, 300_000);

  it.each(['SIGINT', 'SIGTERM'] as const)('%s to rank 1 alone ends every rank after a step with exit status 128 + the signal and rank 0\'s one line, ' +
    'the run\'s state saved', async (stopping) => {
    const data = await stoppedData(`rank-stopped-data-${stopping}`), out = join(dir, `rank-stopped-torch-${stopping}`);
    const before = earlierRun(out);
    // two ranks as torchrun starts them, without torchrun: the signal goes to rank 1 alone, as a scheduler's or a kill on one worker does
    // from --init, which --resume takes where it is the file the run started from; --force it refuses: the line says to give --resume
    // in its place
    const start = join(dir, `rank-stopped-start-${stopping}.safetensors`);
    await rnnOk(['train', data, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', join(dir, `rank-stopped-run-${stopping}`)]);
    await rnnOk(['export', join(dir, `rank-stopped-run-${stopping}`, 'latest.json'), '--out', start]);
    const port = await freePort(), args = ['--init', start, '--force', '--out', out];
    const first = startRank(data, args, 0, 2, port), second = startRank(data, args, 1, 2, port);
    const secondEnded = finish(second);
    const stopSecond = signalOnce('\nstep 2/', stopping);
    const firstEnded = await finish(first, (text) => stopSecond(text, second));
    const status = { SIGINT: 130, SIGTERM: 143 }[stopping];
    expect([firstEnded.code, firstEnded.stderr]).toEqual([status, expect.stringMatching(new RegExp(`^train_ddp\\.py: rank 1 was stopped by ${stopping} ` +
      `after step \\d+ of 1,000,000; its state is saved in ${join(out, 'state.pt')}: give the same command with --resume in place of ` +
      '--force to go on\n$'))]);
    expect([(await secondEnded).code, (await secondEnded).stderr]).toEqual([status, '']);
    expect(fileHashes(out)).toEqual({ ...before, 'state.pt': expect.any(String) });

    // the --init file the run started from, or a copy of it, is taken beside --resume; another (one weight apart, the same size) is refused
    const stoppedAt = Number(/after step (\d+) /.exec(firstEnded.stderr)![1]);
    const copy = join(dir, `rank-stopped-copy-${stopping}.safetensors`), other = join(dir, `rank-stopped-other-${stopping}.safetensors`);
    cpSync(start, copy);
    writeFileSync(other, withWeight(readFileSync(start), 'head.bias', 0, 123.25));
    const file = (path: string) => `${readFileSync(path).length.toLocaleString('en-US')} bytes, sha256 ${sha256Of(path).slice(0, 12)}…`;
    const checks = await Promise.all([copy, other].map((init) => python(['examples/pytorch/train_ddp.py', data, ...SMALL, '--init', init,
      '--resume', '--max-steps', '1000000', '--out', out, '--check', '2'])));
    expect(checks.map((check) => [check.status, check.output])).toEqual([
      [0, expect.stringMatching(new RegExp(`, going on from step ${stoppedAt}; the input is good\n$`))],
      [2, `train_ddp.py: --init ${other} (${file(other)}) is not the file the run saved in --out ${out} started from, ` +
        `${start} (${file(start)}): give that file or a copy of it, or leave --init out\n`]]);
    const resumedArgs = ['--init', start, '--resume', '--out', out, '--max-steps', String(stoppedAt + 2)], resumedPort = await freePort();
    const resumed = await Promise.all([0, 1].map((rank) => finish(startRank(data, resumedArgs, rank, 2, resumedPort))));
    expect(resumed.map((rank) => [rank.code, rank.stderr])).toEqual([[0, ''], [0, '']]);
    expect(resumed[0]!.stdout).toMatch(new RegExp(`, going on from step ${stoppedAt}\n`));
  }, 300_000);

  it('--out is locked as rnn train locks its output: a second run into it, of either tool, is refused naming the running pid, exit status 1 from both', async () => {
    const data = await stoppedData('locked-data'), out = join(dir, 'locked-torch');
    const first = startRank(data, ['--out', out], 0, 1, await freePort());
    const firstEnded = finish(first);
    onTestFinished(() => void first.kill('SIGKILL'));
    await stdoutShows(first, '\nstep 1/');
    const inUse = new RegExp(`^train_ddp\\.py: --out ${out} is in use by another run \\(pid ${first.pid} on ${hostname()}, since [-0-9T:.]+Z\\); ` +
      'wait for it to end, or choose another --out\n$');
    const second = await finish(startRank(data, ['--max-steps', '1', '--out', out], 0, 1, await freePort()));
    expect([second.code, second.stderr]).toEqual([1, expect.stringMatching(inUse)]);
    const checked = await withoutTorch([data, ...SMALL, '--out', out, '--check', '2']);
    expect([checked.status, checked.output]).toEqual([1, expect.stringMatching(inUse)]);
    const trained = await rnnIn(dir, ['train', data, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', out]);
    expect(trained.status).toBe(1);
    expect(trained.stderr).toMatch(new RegExp(`--out ${out} is in use by another run \\(pid ${first.pid} on `));
    first.kill('SIGTERM');
    expect((await firstEnded).code).toBe(143);
    expect(readdirSync(out)).toEqual(['state.pt']);
    rmSync(join(out, 'state.pt'));
    // rnn train's lock, taken by this process as rnn train takes it
    const rnnLock = takeRunLock(outputPaths(out), out, 'out');
    const refused = await withoutTorch([data, ...SMALL, '--out', out, '--check', '2']);
    rnnLock.release();
    expect([refused.status, refused.output]).toEqual([1, expect.stringMatching(new RegExp(
      `^train_ddp\\.py: --out ${out} is in use by another run \\(pid ${process.pid} on ${hostname()}, since [-0-9T:.]+Z\\); `))]);
    // the lock of a process that is gone (a run killed outright) is taken over, with a warning
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(out, 'latest.json.lock'), `${JSON.stringify({ pid: gone, host: hostname(), startedAt: new Date().toISOString() })}\n`);
    const after = await finish(startRank(data, ['--max-steps', '1', '--out', out], 0, 1, await freePort()));
    expect([after.code, after.stderr]).toEqual([0, `train_ddp.py: warning: took over ${join(out, 'latest.json.lock')}, left by pid ${gone}, which is no longer running\n`]);
    expect(readdirSync(out).sort()).toEqual(['model.safetensors', 'state.pt', 'summary.json']);
  }, 300_000);

  it('--out whose latest.json is a link is locked beside the file it leads to, where rnn train locks it: each refuses the other while it runs', async () => {
    const data = await stoppedData('linked-lock-data'), out = join(dir, 'linked-torch'), kept = join(dir, 'linked-kept', 'run.json');
    mkdirSync(out);
    mkdirSync(dirname(kept));
    symlinkSync(kept, join(out, 'latest.json'));
    // rnn train's lock on --out, taken by this process as rnn train takes it: beside run.json
    const rnnLock = takeRunLock(outputPaths(out), out, 'out');
    const refused = await withoutTorch([data, ...SMALL, '--out', out, '--check', '2']);
    rnnLock.release();
    expect([refused.status, refused.output]).toEqual([1, expect.stringMatching(new RegExp(
      `^train_ddp\\.py: --out ${out} is in use by another run \\(pid ${process.pid} on ${hostname()}, since [-0-9T:.]+Z\\); `))]);
    const first = startRank(data, ['--out', out], 0, 1, await freePort());
    const firstEnded = finish(first);
    onTestFinished(() => void first.kill('SIGKILL'));
    await stdoutShows(first, '\nstep 1/');
    expect(JSON.parse(readFileSync(`${kept}.lock`, 'utf8'))).toMatchObject({ pid: first.pid });
    // rnn train on --out, and on the file its latest.json leads to, which it would write
    for (const target of [out, kept]) {
      const trained = await rnnIn(dir, ['train', data, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', target]);
      expect([trained.status, trained.stderr]).toEqual([1, expect.stringMatching(new RegExp(`--out ${target} is in use by another run \\(pid ${first.pid} on `))]);
    }
    first.kill('SIGTERM');
    expect((await firstEnded).code).toBe(143);
    expect(readdirSync(dirname(kept))).toEqual([]);
    expect(readdirSync(out).sort()).toEqual(['latest.json', 'state.pt']);
  }, 300_000);

  it('--help says what each flag is for, with its default', async () => {
    const help = await python(['examples/pytorch/train_ddp.py', '--help']);
    expect(help.status, help.output).toBe(0);
    // argparse writes a flag's help beside it or on the lines under it, up to the next flag
    const options = help.output.slice(help.output.indexOf('\noptions:\n') + '\noptions:\n'.length);
    const entries = new Map(options.split(/\n(?= {2}-)/).map((entry) => {
      const [first, ...rest] = entry.split('\n');
      const [spec, ...beside] = first!.trim().split(/ {2,}/);
      return [spec!.split(/[ ,]/)[0]!, [...beside, ...rest.map((line) => line.trim())].join(' ').trim()];
    }));
    expect(entries.size).toBeGreaterThan(20);
    for (const [flag, text] of entries) expect(text, flag).not.toBe('');
    const defaults = { cell: 'gru', layers: 2, hidden: 192, embed: 64, batch: 32, 'seq-len': 50, lr: 0.003, 'log-every': 10, seed: 1337 };
    for (const [flag, value] of Object.entries(defaults)) expect(entries.get(`--${flag}`), flag).toContain(`(default ${value})`);
  });

  it('bad input is one line and exit status 2, from --check before torchrun (torch not imported) and from every process under it, with no traceback of its own', async () => {
    const corpus = join(dir, 'bad-corpus.txt');
    writeFileSync(corpus, speeches(4_000));
    const data = join(dir, 'bad-data'), out = join(dir, 'bad-out');
    const prepared = await rnnIn(dir, ['prepare', corpus, '--out', data]);
    expect(prepared.status, prepared.stderr).toBe(0);
    const script = 'examples/pytorch/train_ddp.py', run = [data, '--out', out, '--batch', '8', '--seq-len', '16'];
    const notSafetensors = `--init ${corpus}: not a safetensors file (write one with rnn export --format safetensors)`;
    // a model of the folder's vocabulary, gru 1×8 with embedding 4: an --init whose architecture flags must agree with it
    const start = join(dir, 'bad-start.safetensors'), init = [...run, '--init', start];
    for (const args of [
      ['train', data, '--cell', 'gru', '--layers', '1', '--hidden', '8', '--embed', '4', '--batch', '8', '--seq-len', '16', '--max-steps', '1',
        '--workers', '1', '--out', join(dir, 'bad-start')],
      ['export', join(dir, 'bad-start', 'latest.json'), '--format', 'safetensors', '--out', start],
    ]) {
      const made = await rnnIn(dir, args);
      expect(made.status, made.stderr).toBe(0);
    }
    const keeps = 'a run from --init keeps its architecture';
    // its config claims more layers than its tensors hold: refused before a model of that many is built
    const deep = join(dir, 'bad-deep.safetensors');
    writeFileSync(deep, withConfig(readFileSync(start), { num_layers: 1e9 }));
    // its config's vocab_size is not its vocabulary's length
    const miscounted = join(dir, 'bad-miscounted.safetensors');
    const startVocab = (JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')) as { vocab: string[] }).vocab.length;
    writeFileSync(miscounted, withConfig(readFileSync(start), { vocab_size: startVocab + 1 }));
    // its config's dropout is out of --dropout's range, so no run could take it as its own
    const overDropped = join(dir, 'bad-dropout.safetensors');
    writeFileSync(overDropped, withConfig(readFileSync(start), { dropout: 1.5 }));
    // weights no training writes, as rnn import refuses them: not finite, or beyond ±1e6
    const unsound = ([[Number.NaN, 'NaN'], [-Infinity, '-Infinity'], [3e6, '3000000']] as const).map(([value, shown], i) => {
      const file = join(dir, `bad-weight-${i}.safetensors`);
      writeFileSync(file, withWeight(readFileSync(start), 'rnn.weight_hh_l0', 17, value));
      return [[...run, '--init', file, '--check', '2'],
        `--init ${file}: "rnn.weight_hh_l0"[17] is ${shown}, expected a weight within ±1000000 (no training writes it: export the model again from a sound checkpoint)`] as [string[], string];
    });
    // models whose vocabulary is not the folder's id for id: one --extend-vocab grew from start's on a text with characters
    // start lacks, and one trained on another text; each named with the first id the two read apart
    const grownText = join(dir, 'bad-grown.txt'), otherText = join(dir, 'bad-other.txt');
    writeFileSync(grownText, `${'Ωμέγα ∑ ☃\n'.repeat(50)}${speeches(4_000)}`);
    writeFileSync(otherText, 'the quick brown fox jumps over the lazy dog\n'.repeat(100));
    const grown = join(dir, 'bad-grown.safetensors'), other = join(dir, 'bad-other.safetensors');
    for (const args of [
      ['train', grownText, '--init-from', join(dir, 'bad-start', 'latest.json'), '--extend-vocab', '--max-steps', '1', '--workers', '1',
        '--out', join(dir, 'bad-grown')],
      ['export', join(dir, 'bad-grown', 'latest.json'), '--out', grown],
      ['train', otherText, ...SMALL, '--workers', '1', '--max-steps', '1', '--out', join(dir, 'bad-other')],
      ['export', join(dir, 'bad-other', 'latest.json'), '--out', other],
    ]) {
      const made = await rnnIn(dir, args);
      expect(made.status, made.stderr).toBe(0);
    }
    const count = (n: number) => n.toLocaleString('en-US');
    const folderVocab = (JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')) as { vocab: string[] }).vocab;
    const apart = (file: string): [string[], string] => {
      const length = Number(readFileSync(file).readBigUInt64LE(0));
      const header = JSON.parse(readFileSync(file).subarray(8, 8 + length).toString('utf8')) as { __metadata__: { vocab: string } };
      const vocab = JSON.parse(header.__metadata__.vocab) as string[];
      const id = vocab.findIndex((token, i) => token !== folderVocab[i]);
      expect(id, file).toBeGreaterThan(1);
      const token = (tokens: string[]) => (id < tokens.length ? JSON.stringify(tokens[id]) : 'none');
      return [[...run, '--init', file, '--check', '2'],
        `--init ${file}: its vocabulary is not the one of ${data} id for id (${count(vocab.length)} tokens and ${count(folderVocab.length)}; ` +
        `id ${count(id)}: ${token(vocab)} in the model, ${token(folderVocab)} in the folder), and this script reads the folder's ids as the ` +
        'model\'s: prepare the folder from the text and settings the model\'s vocabulary was built from (one --extend-vocab grew has none), ' +
        `or fine-tune in rnn, which reads a folder by token: rnn train ${data} --init-from ${file}`];
    };
    // a word-level folder, uint16 ids, and a --score file that ends in half of one
    const words = join(dir, 'bad-words'), halfId = join(dir, 'half-id.bin');
    const wordsPrepared = await rnnIn(dir, ['prepare', corpus, '--level', 'word', '--out', words]);
    expect(wordsPrepared.status, wordsPrepared.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(words, 'meta.json'), 'utf8')) as { dtype: string }).dtype).toBe('uint16');
    writeFileSync(halfId, Buffer.from([5, 0, 7]));
    // copies of the folders with a field of meta.json damaged: one the script reads, so one line, never a traceback
    const damaged = (from: string, name: string, edit: (meta: Record<string, unknown>) => void): string => {
      const copy = join(dir, name);
      cpSync(from, copy, { recursive: true });
      const meta = JSON.parse(readFileSync(join(copy, 'meta.json'), 'utf8')) as Record<string, unknown>;
      edit(meta);
      writeFileSync(join(copy, 'meta.json'), JSON.stringify(meta));
      return copy;
    };
    const noRule = damaged(words, 'bad-no-rule', (meta) => delete meta['wordRule']);
    const listSettings = damaged(data, 'bad-settings', (meta) => (meta['settings'] = []));
    const noSize = damaged(data, 'bad-vocab-size', (meta) => (meta['vocabSize'] = null));
    let entries = 0;
    const shortVocab = damaged(data, 'bad-vocab', (meta) => {
      entries = meta['vocabSize'] as number;
      meta['vocab'] = (meta['vocab'] as string[]).slice(1);
    });
    const otherLevel = damaged(data, 'bad-level', (meta) => (meta['level'] = 'chars'));
    const damages: [string, string][] = [
      [noRule, 'no wordRule'], [listSettings, 'settings is [], expected an object'],
      [noSize, 'vocabSize is null, expected an integer >= 2'], [shortVocab, `vocab is not a list of vocabSize (${entries}) tokens`],
      [otherLevel, 'level is "chars", expected "char" or "word"'],
    ];
    // an earlier run's output, kept unless --force
    const used = join(dir, 'bad-used');
    mkdirSync(used, { recursive: true });
    writeFileSync(join(used, 'model.safetensors'), 'an earlier model');
    // flags beyond what the folder or rnn import takes, and the largest each may be
    const trainTokens = (JSON.parse(readFileSync(join(data, 'meta.json'), 'utf8')) as { trainTokens: number }).trainTokens;
    const tooFew = (batch: number, seqLen: number) =>
      `train.bin holds ${count(trainTokens)} tokens, too few for --batch ${batch} --seq-len ${seqLen}, whose step reads ${count(batch * seqLen + 1)}: `;
    // as rnn import would refuse the model it writes: its sizes and the largest hidden size that fits, as size.ts reckons them
    const importShape = { optimizer: 'adam', batch: 32 };
    const fits = (model: ModelConfig) => checkpointChars(model, importShape) <= MAX_CHECKPOINT_CHARS;
    const tooLarge = (flag: string, model: ModelConfig): string => {
      const largest = largestHidden(model, fits);
      return `${flag}: a ${model.numLayers}-layer gru of hidden size ${model.hiddenSize} (${count(parameterCount(model))} parameters) needs a ` +
        `checkpoint of about ${mib(checkpointChars(model, importShape))} of JSON in rnn import, more than the ${mib(MAX_CHECKPOINT_CHARS)} ` +
        'one file can hold; ' + (largest > 0
        ? `--hidden ${largest} (${count(parameterCount({ ...model, hiddenSize: largest }))} parameters) is the largest that fits`
        : 'its vocabulary, embedding and layers alone are too large: give a smaller --embed or fewer --layers');
    };
    const model: ModelConfig = { cell: 'gru', vocabSize: startVocab, embedDim: 64, hiddenSize: 192, numLayers: 2, dropout: 0 };
    const flagCases: [string[], string][] = [
      [[...run, '--init', join(dir, 'bad-start'), '--check', '2'],
        `--init ${join(dir, 'bad-start')} is a folder: name a .safetensors file (write one with rnn export --format safetensors)`],
      [[...run, '--init', used, '--check', '2'], `--init ${used} is a folder: name the file, e.g. --init ${join(used, 'model.safetensors')}`],
      [[...run, '--seq-len', '100000', '--check', '2'], `${tooFew(8, 100_000)}give --seq-len ${Math.floor((trainTokens - 1) / 8)} or less`],
      [[...run, '--batch', '100000', '--check', '2'],
        `${tooFew(100_000, 16)}give --batch ${Math.floor((trainTokens - 1) / 16 / 2) * 2} or less`],
      [[...run, '--seed', '4294967296', '--check', '2'], 'argument --seed: must be an integer from 0 to 4294967295 (got 4294967296) (see --help)'],
      [[...run, '--seed', '-1', '--check', '2'], 'argument --seed: must be an integer from 0 to 4294967295 (got -1) (see --help)'],
      [[...run, '--dropout', '1', '--check', '2'], 'argument --dropout: must be a number from 0 to below 1 (got 1) (see --help)'],
      [[...run, '--lr-decay', '1.5', '--check', '2'], 'argument --lr-decay: must be a number > 0 and <= 1 (got 1.5) (see --help)'],
      [[...run, '--lr-decay', '0', '--check', '2'], 'argument --lr-decay: must be a number > 0 and <= 1 (got 0) (see --help)'],
      [[...run, '--hidden', '5000', '--check', '2'], tooLarge('--hidden 5000', { ...model, hiddenSize: 5000 })],
      [[...run, '--layers', '1000000000', '--check', '2'], tooLarge('--layers 1000000000', { ...model, numLayers: 1e9 })],
    ];
    const cases: [string[], string][] = [
      ...flagCases,
      [[join(dir, 'nothing'), '--out', out, '--check', '2'], `${join(dir, 'nothing', 'meta.json')}: No such file or directory: give a folder made by rnn prepare`],
      [[...run, '--lr', '-1', '--check', '2'], 'argument --lr: must be a number > 0 (got -1) (see --help)'],
      [[...run, '--check', '3'], '--batch 8 must be a multiple of the 3 ranks'],
      [[...run, '--init', corpus, '--check', '2'], notSafetensors],
      // every flag that contradicts the file named with both values, one that agrees not; 64 is --embed's default, given here
      [[...init, '--cell', 'lstm', '--layers', '1', '--hidden', '32', '--check', '2'],
        `--cell lstm, --hidden 32 contradict --init ${start}, which has --cell gru, --hidden 8: leave them out, ${keeps}`],
      [[...init, '--embed', '64', '--check', '2'], `--embed 64 contradicts --init ${start}, which has --embed 4: leave it out, ${keeps}`],
      [[words, '--out', out, '--batch', '8', '--seq-len', '16', '--score', halfId, '--check', '2'],
        `--score ${halfId}: 3 bytes are not whole uint16 token ids (2 bytes each, as in train.bin)`],
      ...damages.map(([folder, problem]): [string[], string] => [[folder, '--out', out, '--batch', '8', '--seq-len', '16', '--check', '2'],
        `${join(folder, 'meta.json')}: ${problem}: prepare the folder again`]),
      [[words, '--out', out, '--batch', '8', '--seq-len', '16', '--init', start, '--check', '2'],
        `--init ${start}: a char-level model, and ${words} holds word-level tokens: prepare the corpus again with --level char`],
      [[...run, '--init', deep, '--check', '2'],
        `--init ${deep}: its tensors are not those its config describes (write one with rnn export --format safetensors)`],
      [[...run, '--init', overDropped, '--check', '2'],
        `--init ${overDropped}: its config's dropout is 1.5, expected a number from 0 to below 1 (write one with rnn export --format safetensors)`],
      [[...run, '--init', miscounted, '--check', '2'],
        `--init ${miscounted}: its config's vocab_size is ${startVocab + 1}, and its vocabulary holds ${startVocab} tokens ` +
        '(write one with rnn export --format safetensors)'],
      ...unsound,
      apart(grown), apart(other),
      [run, 'start it with torchrun (torchrun --standalone --nproc_per_node N train_ddp.py ...), or check its input with --check N'],
      ...[[], ['--force']].map((force): [string[], string] => [[data, '--out', join(dir, 'bad-start'), '--batch', '8', '--seq-len', '16', ...force, '--check', '2'],
        `--out ${join(dir, 'bad-start')} is the folder of an rnn train run (it holds its latest.json): give another --out, a folder of its own ` +
        '(--force replaces only what this script wrote)']),
      [[data, '--out', used, '--batch', '8', '--seq-len', '16', '--check', '2'],
        `--out ${used} holds the model.safetensors of an earlier run: give another --out, or --force to replace it`],
      ...[[], ['--force']].map((force): [string[], string] => [[data, '--out', data, '--batch', '8', '--seq-len', '16', ...force, '--check', '2'],
        `--out ${data} is a prepared folder (rnn prepare wrote its meta.json): give another --out, a folder of its own`]),
    ];
    const answers = await Promise.all(cases.map(([args]) => withoutTorch(args)));
    answers.forEach((answer, i) => expect([answer.status, answer.output], cases[i]![0].join(' ')).toEqual([2, `train_ddp.py: ${cases[i]![1]}\n`]));
    // a size beyond float64's integers, which the script counts exactly
    const huge = await withoutTorch([...run, '--hidden', '99999999999', '--check', '2']);
    const largest = largestHidden({ ...model, hiddenSize: 99_999 }, fits);
    expect([huge.status, huge.output]).toEqual([2, expect.stringMatching(new RegExp('^train_ddp\\.py: --hidden 99999999999: a 2-layer gru of hidden size ' +
      `99999999999 \\([\\d,]+ parameters\\) needs a checkpoint of about [\\d,]+ MiB of JSON in rnn import, more than the 512 MiB one file can hold; ` +
      `--hidden ${largest} \\(${count(parameterCount({ ...model, hiddenSize: largest }))} parameters\\) is the largest that fits\n$`))]);
    const good = await withoutTorch([...run, '--check', '2']);
    expect([good.status, good.output]).toEqual([0, expect.stringMatching(/^2 ranks: [\d,]+ training tokens, 8 rows of \d+, \d+ steps per epoch, \d+ steps; the input is good\n$/)]);
    const forced = await withoutTorch([data, '--out', used, '--batch', '8', '--seq-len', '16', '--force', '--check', '2']);
    expect([forced.status, forced.output]).toEqual([0, expect.stringMatching(/; the input is good\n$/)]);
    const one = await withoutTorch([...run, '--check', '1']);
    expect([one.status, one.output]).toEqual([0, expect.stringMatching(/^1 rank: [\d,]+ training tokens, 8 rows of \d+, /)]);
    // one row as long as a window: one step an epoch, a count of one in the singular, as rnn train writes it
    const row = Number(/, 1 rows? of ([\d,]+),/.exec((await withoutTorch([...run, '--batch', '1', '--check', '1'])).output)?.[1]?.replaceAll(',', ''));
    const single = await withoutTorch([...run, '--batch', '1', '--seq-len', String(row), '--max-steps', '1', '--check', '1']);
    expect([single.status, single.output]).toEqual([0, expect.stringMatching(
      new RegExp(`^1 rank: [\\d,]+ training tokens, 1 row of ${count(row)}, 1 step per epoch, 1 step; the input is good\n$`))]);
    const agreeing = await withoutTorch([...init, '--cell', 'gru', '--layers', '1', '--hidden', '8', '--embed', '4', '--check', '2']);
    expect([agreeing.status, agreeing.output]).toEqual([0, expect.stringMatching(/^2 ranks: .*; the input is good\n$/)]);

    // torchrun reports the processes that failed in its own words (its ChildFailedError, its own traceback); each process that
    // gets to it before torchrun stops it writes the one line
    const ddp = await python(['-m', 'torch.distributed.run', '--nproc_per_node', '2', script, ...run, '--init', corpus]);
    expect(ddp.status).not.toBe(0);
    const lines = ddp.output.split('\n').filter((line) => line.includes('train_ddp.py: '));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line).toBe(`train_ddp.py: ${notSafetensors}`);
    expect(ddp.output).toMatch(/exitcode\s*: 2 /);
    expect(ddp.output).not.toMatch(/train_ddp\.py", line \d+|\[rank\d\]/);
  }, 300_000);
});
