import { spawnSync } from 'node:child_process';
import { fsyncSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint, loadResumedCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import { RUN_FOLDER_FILES } from '../src/checkpoint/run-folder.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { importState, readModelFile } from '../src/checkpoint/convert.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { WEIGHT_LIMIT, checksummedFile, contentChecksum, writtenChecksum } from '../src/checkpoint/integrity.js';
import { CHECKPOINT_FLAG, latestCheckpoint, resolveCheckpointPath, runFolderFile } from '../src/checkpoint/find.js';
import { loadModel, modelFromCheckpoint } from '../src/checkpoint/load.js';
import { carriedStateLayout, decodeTensors, encodeTensors } from '../src/checkpoint/tensors.js';
import { type InteropState, fromInteropState, toInteropState } from '../src/checkpoint/interop.js';
import { toSafetensors } from '../src/checkpoint/safetensors.js';
import type { ModelConfig } from '../src/engine/config.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import type { Spacing } from '../src/text/spacing.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { SettingError } from '../src/input/settings.js';
import { INIT_FROM_READER, RESUME_READER } from '../src/train/options.js';
import { expectWrittenThrough, scratchFolder } from './helpers/files.js';
import { thrownBy } from './helpers/thrown.js';

vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  return { ...actual, fsyncSync: vi.fn(actual.fsyncSync) };
});

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'torch');
const FIXTURE_NAMES = ['lstm_small', 'lstm_one_layer', 'gru_small', 'gru_one_layer', 'rnn_small', 'rnn_one_layer'];

const LSTM: ModelConfig = { cell: 'lstm', vocabSize: 13, embedDim: 8, hiddenSize: 16, numLayers: 2, dropout: 0 };
const VOCAB = ['<EOS>', '<UNK>', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k'];

const EDGE_FLOATS = [
  -0, 0, 1e-38, -1e-38, 1.401298464324817e-45, 1.1754942106924411e-38, 3.4e38, -3.4e38,
  3.4028234663852886e38, Infinity, -Infinity, 1, -1, 0.1, Math.PI,
];

/** Random float32 bit patterns, preceded by the edge cases: no NaN, and no infinities if `finite`. */
function randomFloats(n: number, seed: number, finite = false): Float32Array {
  return randomFloatsWhere(n, seed, (x) => finite ? Number.isFinite(x) : !Number.isNaN(x));
}

/** Random float32 bit patterns for which `keep` holds, preceded by the edge cases that pass it. */
function randomFloatsWhere(n: number, seed: number, keep: (x: number) => boolean): Float32Array {
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const rng = new Rng(seed);
  const edges = EDGE_FLOATS.filter(keep);
  edges.forEach((x, i) => {
    if (i < n) out[i] = x;
  });
  for (let i = edges.length; i < n; i++) {
    do bits[i] = rng.nextUint32(); while (!keep(out[i]!));
  }
  return out;
}

/** Values a checkpoint may hold (integrity.ts): weights within ±WEIGHT_LIMIT, finite moments, second moments >= 0. */
const weightFloats = (n: number, seed: number) => randomFloatsWhere(n, seed, (x) => Math.abs(x) <= WEIGHT_LIMIT);
const momentFloats = (n: number, seed: number) => randomFloatsWhere(n, seed, Number.isFinite);
const squareFloats = (n: number, seed: number) => randomFloatsWhere(n, seed, (x) => Number.isFinite(x) && x >= 0);

function bitsOf(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

function sampleCheckpoint(config: ModelConfig = LSTM, vocab: string[] = VOCAB, seed = 1): Checkpoint {
  const layout = paramLayout(config);
  return {
    format: 'rnn-checkpoint/1',
    createdAt: new Date('2025-01-02T03:04:05.678Z').toISOString(),
    command: ['rnn', 'train', 'corpora/tiny.txt', '--cell', config.cell],
    config: {
      model: config,
      training: {
        seqLen: 50, batchSize: 50, lr: 2e-3, lrDecay: 1, clip: 5, clipValue: null, seed: 42, workers: 1,
        valFrac: 0.1, minCount: 1, docs: 'file', evalEvery: 100, optimizer: 'adam',
      },
    },
    vocab,
    weights: encodeTensors(layout, weightFloats(layout.total, seed)),
    optimizer: {
      kind: 'adam', step: 200, beta1: 0.9, beta2: 0.999, eps: 1e-8,
      m: encodeTensors(layout, momentFloats(layout.total, seed + 1)),
      v: encodeTensors(layout, squareFloats(layout.total, seed + 2)),
    },
    training: {
      step: 200, epoch: 1, cursor: 17, lr: 1.9e-3, rng: [1, 2, 0xffffffff, 0], bestValLoss: 1.75,
      tokensSeen: 500000, elapsedSeconds: 12.5,
    },
    history: [
      { step: 100, epoch: 0, tokensSeen: 250000, trainLoss: 2.1, valLoss: 2.2, lr: 2e-3, seconds: 6 },
      { step: 200, epoch: 1, tokensSeen: 500000, trainLoss: 1.7, valLoss: null, lr: 1.9e-3, seconds: 12.5 },
    ],
    corpus: {
      files: [{ path: 'corpora/tiny.txt', bytes: 1234, sha256: 'a'.repeat(64) }],
      docs: 'file', valFrac: 0.1, totalTokens: 1235, trainTokens: 1112, valTokens: 123, sha256: 'b'.repeat(64),
    },
  };
}

const scratch = scratchFolder('rnn-checkpoint-');
let dir: string;
beforeEach(() => {
  dir = scratch.folder();
});

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    const message = (error as Error).message;
    expect(message).not.toMatch(/\n/);
    return message;
  }
  throw new Error('expected a CheckpointError');
}

/** A sample checkpoint written as JSON after `edit` changes it, and the message loading it gives. */
function loadEdited(edit: (json: Checkpoint) => void): { path: string; message: string } {
  const path = join(dir, 'bad.json');
  const json = structuredClone(sampleCheckpoint());
  edit(json);
  writeFileSync(path, JSON.stringify(json));
  return { path, message: errorOf(() => loadCheckpoint(path)) };
}

function readFixtureState(name: string): unknown {
  return (JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { state: unknown }).state;
}

describe('tensor encoding', () => {
  it('round-trips float32 bit patterns exactly, edge cases included', () => {
    const layout = paramLayout(LSTM);
    const values = randomFloats(layout.total, 7);
    const decoded = decodeTensors(layout, encodeTensors(layout, values), 'mem', 'weights');
    expect(bitsOf(decoded)).toEqual(bitsOf(values));
    expect(Object.is(decoded[0], -0)).toBe(true);
  });

  it('rejects a tensor of the wrong shape, naming it', () => {
    const layout = paramLayout(LSTM);
    const encoded = encodeTensors(layout, new Float32Array(layout.total));
    const head = encoded.tensors['head.weight'];
    if (head) head.shape = [13, 15];
    expect(errorOf(() => decodeTensors(layout, encoded, 'ckpt.json', 'weights'))).toBe(
      'ckpt.json: weights.tensors["head.weight"].shape is [13,15], expected [13,16]',
    );
  });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips everything, weights and moments bit for bit', () => {
    const ckpt = sampleCheckpoint();
    const path = join(dir, 'nested', 'run', 'step-200.json');
    saveCheckpoint(path, ckpt);
    const loaded = loadCheckpoint(path);
    expect(loaded).toEqual({ ...ckpt, sha256: contentChecksum(ckpt) });
    expect(readFileSync(path, 'utf8').startsWith('{"format":"rnn-checkpoint/1"')).toBe(true);

    const layout = paramLayout(LSTM);
    const model = modelFromCheckpoint(loaded, path);
    expect(model.config).toEqual(LSTM);
    expect(model.vocab).toEqual(VOCAB);
    expect(bitsOf(model.params)).toEqual(bitsOf(weightFloats(layout.total, 1)));
    const m = loaded.optimizer.m;
    expect(m && bitsOf(decodeTensors(layout, m, path, 'optimizer.m'))).toEqual(bitsOf(momentFloats(layout.total, 2)));
  });

  it('a loaded model keeps what its checkpoint says of itself and its weights decoded, not the text of its tensors', () => {
    const sample = sampleCheckpoint(), stateLayout = carriedStateLayout(LSTM, sample.config.training.batchSize);
    const ckpt = { ...sample, training: { ...sample.training, carried: encodeTensors(stateLayout, momentFloats(stateLayout.total, 4)) } };
    const path = join(dir, 'step-200.json');
    saveCheckpoint(path, ckpt);
    const { checkpoint: record, params } = loadModel(path);
    const { weights: _weights, optimizer: _optimizer, training: { carried, ...training }, ...rest } = loadCheckpoint(path);
    expect(carried).toEqual(ckpt.training.carried);
    expect(record).toStrictEqual({ ...rest, training });
    expect(bitsOf(params)).toEqual(bitsOf(weightFloats(paramLayout(LSTM).total, 1)));
  });

  it('reads a checkpoint written before tokens seen had its name (charsSeen), its checksum as written', () => {
    const ckpt = sampleCheckpoint();
    const path = join(dir, 'old.json');
    saveCheckpoint(path, ckpt);
    const rename = (entry: Record<string, unknown>) =>
      Object.fromEntries(Object.entries(entry).map(([key, value]) => [key === 'tokensSeen' ? 'charsSeen' : key, value]));
    const { sha256: _, ...content } = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown> & Checkpoint;
    const old = { ...content, training: rename(content.training), history: content.history.map(rename) };
    writeFileSync(path, JSON.stringify({ ...old, sha256: contentChecksum(old) }));
    expect(readFileSync(path, 'utf8')).toContain('"charsSeen":500000');
    const loaded = loadCheckpoint(path);
    expect(loaded.training.tokensSeen).toBe(500000);
    expect(loaded.history.map((h) => h.tokensSeen)).toEqual([250000, 500000]);
    writeFileSync(path, JSON.stringify({ ...old, sha256: contentChecksum({ ...old, command: ['edited'] }) }));
    expect(() => loadCheckpoint(path)).toThrow('sha256 does not match the content');
  });

  it('checks a file it wrote on its bytes as they lie, and one written otherwise (reformatted) on its JSON written again', () => {
    const ckpt = sampleCheckpoint();
    const path = join(dir, 'checked.json');
    saveCheckpoint(path, ckpt);
    const bytes = readFileSync(path);
    const checksum = contentChecksum(ckpt);
    expect(writtenChecksum(bytes)).toBe(checksum);
    // the same bytes in a larger buffer, read from where they lie
    const shifted = new Uint8Array(bytes.length + 16);
    shifted.set(bytes, 8);
    expect(writtenChecksum(shifted.subarray(8, 8 + bytes.length))).toBe(checksum);
    // a base64 character of a tensor flipped in place: the same length, the same checksum's field at the end
    const damaged = Buffer.from(bytes), at = bytes.indexOf('"data":"') + '"data":"'.length;
    damaged[at] = damaged[at] === 0x41 ? 0x42 : 0x41;
    expect(writtenChecksum(damaged)).toBeNull();
    writeFileSync(path, damaged);
    expect(() => loadCheckpoint(path)).toThrow('sha256 does not match the content: the file is damaged or was edited');
    // the checksum's own field edited
    const edited = Buffer.from(bytes), digit = bytes.lastIndexOf('"}') - 1;
    edited[digit] = edited[digit] === 0x30 ? 0x31 : 0x30;
    expect(writtenChecksum(edited)).toBeNull();
    writeFileSync(path, edited);
    expect(() => loadCheckpoint(path)).toThrow('sha256 does not match the content');
    // reformatted, or saved without the last line break: the content as it was, found by its JSON written again
    const pretty = Buffer.from(`${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 2)}\n`);
    for (const other of [pretty, bytes.subarray(0, -1)]) {
      expect(writtenChecksum(other)).toBeNull();
      writeFileSync(path, other);
      expect(loadCheckpoint(path)).toEqual({ ...ckpt, sha256: contentChecksum(ckpt) });
    }
  });

  it('every reader of a checkpoint checks its checksum on the bytes it read: a number written otherwise than JSON.stringify writes it holds', () => {
    const ckpt = sampleCheckpoint();
    const { sha256: _, ...content } = ckpt;
    const json = JSON.stringify(content);
    expect(json).toContain('"lr":0.002,');
    // 0.0020 reads as the 0.002 written again: a checksum of these bytes, and not of the JSON written again
    const path = join(dir, 'written-otherwise.json');
    writeFileSync(path, checksummedFile(json.replace('"lr":0.002,', '"lr":0.0020,')));
    const loaded = loadCheckpoint(path);
    expect(loaded.config.training.lr).toBe(0.002);
    expect(loadResumedCheckpoint(path).checkpoint).toEqual(loaded);
    expect(loadModel(path).checkpoint.config).toEqual(loaded.config);
    expect(readModelFile(path).checkpoint).toEqual(loaded);
  });

  it('leaves no temp file after a successful save', () => {
    const path = join(dir, 'ckpt.json');
    saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 1));
    saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 2));
    expect(readdirSync(dir)).toEqual(['ckpt.json']);
    expect(loadCheckpoint(path).weights).toEqual(sampleCheckpoint(LSTM, VOCAB, 2).weights);
  });

  it('removes the temp file a writer killed mid-save left, and leaves the one of a writer that still runs', () => {
    const path = join(dir, 'ckpt.json');
    const gone = spawnSync(process.execPath, ['-e', '']).pid!;
    const running = process.ppid;
    writeFileSync(`${path}.tmp-${gone}`, '{"format": "rnn-checkpoint/1", "cut');
    writeFileSync(`${path}.tmp-${running}`, '{"format": "rnn-checkpoint/1", "being written');
    saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 1));
    expect(readdirSync(dir).sort()).toEqual(['ckpt.json', `ckpt.json.tmp-${running}`]);
  });

  it('keeps the previous file when the temp file cannot be created', () => {
    const path = join(dir, 'ckpt.json');
    saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 1));
    const before = readFileSync(path, 'utf8');
    mkdirSync(`${path}.tmp-${process.pid}`);
    const message = errorOf(() => saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 2)));
    expect(message).toContain(`cannot write checkpoint ${path}`);
    expect(readFileSync(path, 'utf8')).toBe(before);
  });

  it('keeps the previous file and removes the temp file when flushing fails mid-write', () => {
    const path = join(dir, 'ckpt.json');
    saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 1));
    const before = readFileSync(path, 'utf8');
    vi.mocked(fsyncSync).mockImplementationOnce(() => {
      throw new Error('EIO: i/o error, fsync');
    });
    const message = errorOf(() => saveCheckpoint(path, sampleCheckpoint(LSTM, VOCAB, 2)));
    expect(message).toBe(`cannot write checkpoint ${path}: EIO: i/o error, fsync`);
    expect(readFileSync(path, 'utf8')).toBe(before);
    expect(readdirSync(dir)).toEqual(['ckpt.json']);
  });

  it('writes through a link to a checkpoint, and the link stays a link to it', () => {
    mkdirSync(join(dir, 'archive'));
    saveCheckpoint(join(dir, 'archive', 'step-1.json'), sampleCheckpoint(LSTM, VOCAB, 1));
    symlinkSync(join('archive', 'step-1.json'), join(dir, 'latest.json'));
    saveCheckpoint(join(dir, 'latest.json'), sampleCheckpoint(LSTM, VOCAB, 2));
    expectWrittenThrough(join(dir, 'latest.json'), join('archive', 'step-1.json'));
    expect(loadCheckpoint(join(dir, 'archive', 'step-1.json')).weights).toEqual(sampleCheckpoint(LSTM, VOCAB, 2).weights);
    expect(readdirSync(join(dir, 'archive'))).toEqual(['step-1.json']);
  });

  it('makes the file a link to nothing names, through a link to that link, from the folder each link is in', () => {
    mkdirSync(join(dir, 'runs'));
    symlinkSync(join('..', 'kept', 'best.json'), join(dir, 'runs', 'pointer.json'));
    symlinkSync(join('runs', 'pointer.json'), join(dir, 'best.json'));
    saveCheckpoint(join(dir, 'best.json'), sampleCheckpoint(LSTM, VOCAB, 3));
    expectWrittenThrough(join(dir, 'best.json'), join('runs', 'pointer.json'));
    expectWrittenThrough(join(dir, 'runs', 'pointer.json'), join('..', 'kept', 'best.json'));
    expect(loadCheckpoint(join(dir, 'kept', 'best.json')).weights).toEqual(sampleCheckpoint(LSTM, VOCAB, 3).weights);
  });

  it('refuses a loop of links in one line, and writes nothing', () => {
    symlinkSync('b.json', join(dir, 'a.json'));
    symlinkSync('a.json', join(dir, 'b.json'));
    expect(errorOf(() => saveCheckpoint(join(dir, 'a.json'), sampleCheckpoint()))).toBe(`cannot write checkpoint ${join(dir, 'a.json')}: ` +
      'ELOOP: it is a link in a loop of links, which leads to no file; link it to a file, or remove the link');
    expect(readdirSync(dir).sort()).toEqual(['a.json', 'b.json']);
    expect(lstatSync(join(dir, 'a.json')).isSymbolicLink()).toBe(true);
  });

  it('refuses to write an inconsistent checkpoint', () => {
    const path = join(dir, 'ckpt.json');
    const ckpt = { ...sampleCheckpoint(), vocab: VOCAB.slice(0, 12) };
    expect(errorOf(() => saveCheckpoint(path, ckpt))).toContain(`${path}: vocab has 12 entries`);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('loadCheckpoint errors', () => {
  it('names a missing file', () => {
    const path = join(dir, 'nope.json');
    expect(errorOf(() => loadCheckpoint(path))).toBe(`checkpoint not found: ${path}`);
  });

  it('names the file or folder there whose name differs from the one given only in its Unicode form (NFD, as macOS writes)', () => {
    const [composed, decomposed] = ['caf\u00e9', 'cafe\u0301'];
    const run = join(dir, decomposed);
    mkdirSync(run);
    writeFileSync(join(run, 'best.json'), '{}');
    writeFileSync(join(dir, `${composed}.json`), '{}');
    const there = (path: string, form: string, given: string) =>
      `${JSON.stringify(path)} is there, the same but for its Unicode form (${form}, where the path given is ${given}): ` +
      "name it as it is written there (as a shell's Tab completes it)";
    // the whole path in the other form, and a name in its folder's listing whose form is neither
    expect(errorOf(() => loadCheckpoint(join(dir, composed, 'best.json')))).toBe(
      `checkpoint not found: ${join(dir, composed, 'best.json')}; ${there(join(run, 'best.json'), 'NFD', 'NFC')}`);
    expect(errorOf(() => resolveCheckpointPath(join(dir, composed)))).toBe(
      `checkpoint not found: ${join(dir, composed)}; ${there(run, 'NFD', 'NFC')}`);
    const mixed = `${decomposed}${composed}`;
    writeFileSync(join(dir, `${mixed}.json`), '{}');
    expect(errorOf(() => resolveCheckpointPath(join(dir, `${composed}${composed}.json`)))).toBe(
      `checkpoint not found: ${join(dir, `${composed}${composed}.json`)}; ${there(join(dir, `${mixed}.json`), 'neither NFC nor NFD', 'NFC')}`);
    expect(errorOf(() => loadCheckpoint(join(dir, 'cafe.json')))).toBe(`checkpoint not found: ${join(dir, 'cafe.json')}`);
  });

  it('names a file given with separators after it (/, //, \\) a file, not a folder, and names no file where there is none', () => {
    const path = join(dir, 'best.json');
    writeFileSync(path, '{}');
    for (const separator of ['//', '\\']) {
      expect(errorOf(() => loadCheckpoint(`${path}${separator}`))).toBe(
        `checkpoint not found: ${path}${separator}; ${path} is a file, not a folder: name it without the ${separator} after it`);
    }
    expect(errorOf(() => loadCheckpoint(join(dir, 'nope.json/')))).toBe(`checkpoint not found: ${join(dir, 'nope.json')}/`);
  });

  it('names a ~ no shell expanded where a user name holds a dot (~first.last), and no ~ that is a file name\'s first letter (~$budget)', () => {
    const path = '~first.last/runs/best.json';
    expect(errorOf(() => loadCheckpoint(path))).toBe(`checkpoint not found: ${path}; ${path} begins with ~first.last, which no shell ` +
      "expanded (one expands it unquoted, at a word's start alone): give first.last's home folder's path");
    expect(errorOf(() => loadCheckpoint('~$best.json'))).toBe('checkpoint not found: ~$best.json');
  });

  it('names a name there written with another code point that the same letter normalizes to (the ohm sign Ω for the omega Ω)', () => {
    const [omega, ohm] = ['\u03a9.json', '\u2126.json'];
    writeFileSync(join(dir, ohm), '{}');
    expect(errorOf(() => loadCheckpoint(join(dir, omega)))).toBe(`checkpoint not found: ${join(dir, omega)}; ` +
      `${JSON.stringify(join(dir, ohm))} is there, the same but for its Unicode form (neither NFC nor NFD, where the path given is ` +
      "NFC and NFD): name it as it is written there (as a shell's Tab completes it)");
  });

  it('names a file that is not JSON', () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{"format": "rnn-checkpoint/1",\n  "vocab": [');
    expect(errorOf(() => loadCheckpoint(path))).toMatch(new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not JSON: .+`));
  });

  it('names the run\'s latest.json beside a best.json that is damaged, where it begins as a checkpoint, and no other file', () => {
    const best = join(dir, RUN_FOLDER_FILES.best), latest = join(dir, RUN_FOLDER_FILES.latest), other = join(dir, 'other.json');
    saveCheckpoint(best, sampleCheckpoint());
    const text = readFileSync(best, 'utf8'), beside = `; ${latest} beside it is the run's last checkpoint`;
    writeFileSync(best, text.slice(0, 300));
    writeFileSync(other, text.slice(0, 300));
    const cutShort = errorOf(() => loadCheckpoint(best));
    expect(cutShort).toMatch(/ is not JSON: .*the file is cut short$/);
    writeFileSync(latest, '{"a":1}');
    expect(errorOf(() => loadCheckpoint(best))).toBe(cutShort);
    saveCheckpoint(latest, sampleCheckpoint());
    expect(errorOf(() => loadCheckpoint(best))).toBe(`${cutShort}${beside}`);
    expect(errorOf(() => loadModel(best))).toBe(`${cutShort}${beside}`);
    expect(errorOf(() => readModelFile(best)).endsWith(`the file is cut short; expected a checkpoint (rnn-checkpoint/1), an rnn-state/1 file or a .safetensors file${beside}`)).toBe(true);
    expect(errorOf(() => loadCheckpoint(other))).toBe(cutShort.replace(best, other));
    expect(text).toContain('"step":200');
    writeFileSync(best, text.replace('"step":200', '"step":201'));
    expect(errorOf(() => loadCheckpoint(best)).endsWith(beside)).toBe(true);
  });

  it('names the run\'s latest.json beside a best.json overwritten by what is no checkpoint, binary or text', () => {
    const best = join(dir, RUN_FOLDER_FILES.best), latest = join(dir, RUN_FOLDER_FILES.latest);
    saveCheckpoint(latest, sampleCheckpoint());
    const beside = `; ${latest} beside it is the run's last checkpoint`;
    writeFileSync(best, Buffer.from([0x8f, 0x00, 0xff, 0x13, 0x37, 0xc3]));
    expect(errorOf(() => resolveCheckpointPath(dir))).toBe(
      `${best} is not a checkpoint (it is binary, not JSON): name a checkpoint or a run folder (its best.json, else latest.json)${beside}`);
    writeFileSync(best, 'hello world\n');
    expect(thrownBy(() => resolveCheckpointPath(dir, undefined, CHECKPOINT_FLAG), SettingError).messageNaming((setting) => `--${setting}`)).toBe(
      `--checkpoint ${best} is not a checkpoint (it begins "hello world\\n"): give a checkpoint or a run folder (its best.json, else latest.json)${beside}`);
    writeFileSync(best, '{"a":1}');
    expect(errorOf(() => resolveCheckpointPath(best)).endsWith(beside)).toBe(true);
  });

  it('names the run\'s best.json beside a latest.json that is damaged, where it begins as a checkpoint', () => {
    const best = join(dir, RUN_FOLDER_FILES.best), latest = join(dir, RUN_FOLDER_FILES.latest);
    saveCheckpoint(latest, sampleCheckpoint());
    const text = readFileSync(latest, 'utf8'), beside = `; ${best} beside it is the run's best checkpoint`;
    writeFileSync(latest, text.slice(0, 300));
    const cutShort = errorOf(() => loadCheckpoint(latest));
    expect(cutShort).toMatch(/ is not JSON: .*the file is cut short$/);
    saveCheckpoint(best, sampleCheckpoint());
    expect(errorOf(() => loadCheckpoint(latest))).toBe(`${cutShort}${beside}`);
    expect(errorOf(() => loadResumedCheckpoint(latest))).toBe(`${cutShort}${beside}`);
  });

  // reads 512 MiB and scans them for a fault: 3.5–4 s on the 2-core machine, near vitest's default 5 s when CI is busy
  it('names a file too long to be read as text, and the most one can hold', () => {
    const path = join(dir, 'huge.json');
    writeFileSync(path, '');
    truncateSync(path, 2 ** 29); // sparse: 512 MiB of NULs, one character each, where V8's longest string is 2^29 − 24
    expect(errorOf(() => loadCheckpoint(path))).toBe(
      `${path}: 536,870,912 bytes is more text than one file can be read as (at most 2^29 characters, about 512 MB of ASCII)`);
  });

  it('refuses a claim of more layers than its tensors hold before building them (2^31 layers: at once)', () => {
    const { path, message } = loadEdited((json) => {
      json.config.model.numLayers = 2 ** 31;
    });
    expect(message).toBe(`${path}: config.model.numLayers is 2147483648, but the file holds the tensors of at most 2 layers`);
  });

  it('says a checkpoint cut short is cut short, wherever it ends, and not a file ending in something else', () => {
    const path = join(dir, 'cut.json');
    const whole = JSON.stringify(sampleCheckpoint());
    for (const length of [1, 10, whole.indexOf('"tensors"') + 3, whole.length >> 1, whole.length - 1]) {
      writeFileSync(path, whole.slice(0, length));
      expect(errorOf(() => loadCheckpoint(path))).toMatch(/ is not JSON: .+; it ends mid-way: the file is cut short$/);
    }
    writeFileSync(path, `${whole.slice(0, whole.length >> 1)}#${whole.slice(whole.length >> 1)}`);
    expect(errorOf(() => loadCheckpoint(path))).not.toContain('cut short');
  });

  it('says an empty checkpoint is empty, not cut short mid-way, and what to do', () => {
    const path = join(dir, 'empty.json');
    writeFileSync(path, '');
    expect(errorOf(() => loadCheckpoint(path))).toBe(`${path} is empty (0 bytes), not JSON: name another file, or copy this one again`);
    writeFileSync(path, ' \n\t\n');
    expect(errorOf(() => loadCheckpoint(path))).toBe(
      `${path} holds only white space (4 bytes), not JSON: name another file, or copy this one again`);
  });

  it('names a corpus record that lists no file', () => {
    const { path, message } = loadEdited((json) => {
      json.corpus!.files = [];
    });
    expect(message).toBe(`${path}: corpus.files must have at least 1 item (got an array of 0)`);
  });

  it('names another format version', () => {
    const { path, message } = loadEdited((json) => {
      (json as { format: string }).format = 'rnn-checkpoint/7';
    });
    expect(message).toBe(`${path}: format is "rnn-checkpoint/7", expected "rnn-checkpoint/1"`);
  });

  it('names a missing format', () => {
    const { path, message } = loadEdited((json) => {
      delete (json as Partial<Checkpoint>).format;
    });
    expect(message).toBe(`${path}: format is missing, expected "rnn-checkpoint/1"`);
  });

  it('points an interop file to rnn import', () => {
    const path = join(dir, 'model.json');
    writeFileSync(path, JSON.stringify(readFixtureState('lstm_small')));
    const message = errorOf(() => loadCheckpoint(path));
    expect(message).toContain(`${path}: format is "rnn-state/1", expected "rnn-checkpoint/1"`);
    expect(message).toContain(`rnn import ${path}`);
  });

  it('points a safetensors file to rnn import, by its name or after a rename', () => {
    const weights = toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: randomFloats(paramLayout(LSTM).total, 5, true) });
    const named = join(dir, 'model.safetensors');
    writeFileSync(named, weights);
    expect(errorOf(() => loadCheckpoint(named))).toBe(
      `${named} is a safetensors file, not a checkpoint: convert it with \`rnn import ${named} --out ${join(dir, 'model.checkpoint.json')}\` first`);
    const misnamed = join(dir, 'weights.bin');
    writeFileSync(misnamed, weights);
    expect(errorOf(() => loadCheckpoint(misnamed))).toBe(`${misnamed} is a safetensors file, not a checkpoint: ` +
      'name it *.safetensors (rnn import reads a file by its name), then convert it with `rnn import FILE.safetensors --out FILE.checkpoint.json`');
  });

  it('points a safetensors file named otherwise, given where a checkpoint goes, to a rename before rnn import', () => {
    const misnamed = join(dir, 'weights.bin');
    writeFileSync(misnamed, toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: randomFloats(paramLayout(LSTM).total, 5, true) }));
    expect(errorOf(() => resolveCheckpointPath(misnamed))).toBe(`${misnamed} is a model file, not a checkpoint: ` +
      'name it *.safetensors (rnn import reads a file by its name), then convert it with `rnn import FILE.safetensors --out FILE.checkpoint.json`, ' +
      'then name FILE.checkpoint.json');
  });

  it('points a model file whose checkpoint rnn import has written beside it to that checkpoint, not to an import again', () => {
    const weights = toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: randomFloats(paramLayout(LSTM).total, 5, true) });
    const named = join(dir, 'model.safetensors'), imported = join(dir, 'model.checkpoint.json');
    writeFileSync(named, weights);
    writeFileSync(imported, JSON.stringify({ format: 'rnn-checkpoint/1' }));
    expect(errorOf(() => loadCheckpoint(named))).toBe(`${named} is a safetensors file, not a checkpoint: its checkpoint is there already: name ${imported}`);
    expect(() => resolveCheckpointPath(dir, undefined, CHECKPOINT_FLAG)).toThrow(
      `checkpoint ${dir} is a folder with no checkpoint in it, neither best.json nor latest.json, but a model file: ` +
        `its checkpoint is there already: give checkpoint ${imported}`); // the setting as the caller spells it (--checkpoint)
    expect(() => resolveCheckpointPath(dir)).toThrow(`but a model file: its checkpoint is there already: name ${imported}`);
  });

  it('names a model file a folder holds whose extension is .safetensors in capitals, as rnn import reads it', () => {
    const folder = join(dir, 'upper');
    mkdirSync(folder);
    const named = join(folder, 'Model.SafeTensors'), imported = join(folder, 'Model.checkpoint.json');
    writeFileSync(named, toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: weightFloats(paramLayout(LSTM).total, 5) }));
    expect(errorOf(() => resolveCheckpointPath(folder))).toBe(
      `${folder} is a folder with no checkpoint in it, neither best.json nor latest.json, but a model file: ` +
        `convert it with \`rnn import ${named} --out ${imported}\`, then name ${imported}`);
    expect(() => importState(folder, join(dir, 'out.json'), [], false)).toThrow(`${folder} is a folder, not a model file: name ${named}`);
  });

  it('says a checkpoint rnn import wrote beside a model file that a later run has replaced is older, and to import again', () => {
    const weights = toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: randomFloats(paramLayout(LSTM).total, 5, true) });
    const folder = join(dir, 'retrained');
    mkdirSync(folder);
    const named = join(folder, 'model.safetensors'), imported = join(folder, 'model.checkpoint.json');
    writeFileSync(imported, JSON.stringify({ format: 'rnn-checkpoint/1' }));
    writeFileSync(named, weights);
    // the model a second train_ddp.py run wrote after the import of the first
    utimesSync(imported, new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(named, new Date(2026, 0, 2), new Date(2026, 0, 2));
    const again = `its checkpoint ${imported} is older than it (an import of an earlier model): convert it again with ` +
      `\`rnn import ${named} --out ${imported} --force\``;
    expect(errorOf(() => loadCheckpoint(named))).toBe(`${named} is a safetensors file, not a checkpoint: ${again} first`);
    expect(() => resolveCheckpointPath(folder, undefined, CHECKPOINT_FLAG)).toThrow(`but a model file: ${again}, then give checkpoint ${imported}`);
  });

  it.each([
    ['model.safetensors', () => toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: weightFloats(paramLayout(LSTM).total, 5) })],
    ['model.json', () => JSON.stringify(toInteropState(LSTM, VOCAB, weightFloats(paramLayout(LSTM).total, 5)))],
  ])('refuses an imported checkpoint named itself that is older than the model file beside it, %s, saying to import it again', (file, content) => {
    const named = join(dir, file), imported = join(dir, 'model.checkpoint.json');
    writeFileSync(named, content());
    importState(named, imported, ['rnn', 'import', named, '--out', imported], false);
    const readers = [loadCheckpoint, loadResumedCheckpoint, loadModel, readModelFile];
    for (const read of readers) expect(() => read(imported)).not.toThrow();
    // the model a second train_ddp.py run wrote after the import of the first
    utimesSync(imported, new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(named, new Date(2026, 0, 2), new Date(2026, 0, 2));
    const stale = `${imported} is an imported checkpoint older than the model file beside it, ${named} (an import of an earlier model): ` +
      `convert it again with \`rnn import ${named} --out ${imported} --force\``;
    for (const read of readers) expect(errorOf(() => read(imported))).toBe(stale);
    importState(named, imported, ['rnn', 'import', named, '--out', imported, '--force'], true);
    for (const read of readers) expect(() => read(imported)).not.toThrow();
  });

  it('reads a training run\'s checkpoint named as an import beside an older one\'s model file: no import, so never stale', () => {
    const named = join(dir, 'model.safetensors'), run = join(dir, 'model.checkpoint.json');
    saveCheckpoint(run, sampleCheckpoint());
    writeFileSync(named, toSafetensors({ config: LSTM, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: randomFloats(paramLayout(LSTM).total, 5, true) }));
    utimesSync(run, new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(named, new Date(2026, 0, 2), new Date(2026, 0, 2));
    expect(loadCheckpoint(run).training.step).toBe(200);
    expect(readModelFile(run).checkpoint?.training.step).toBe(200);
  });

  it('reads an import beside a newer JSON file of its name that is no rnn-state/1 file: not what it was imported from', () => {
    const other = join(dir, 'model.json'), imported = join(dir, 'model.checkpoint.json');
    const state = join(dir, 'state.json');
    writeFileSync(state, JSON.stringify(toInteropState(LSTM, VOCAB, weightFloats(paramLayout(LSTM).total, 5))));
    importState(state, imported, ['rnn', 'import', state, '--out', imported], false);
    saveCheckpoint(other, sampleCheckpoint());
    utimesSync(imported, new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(other, new Date(2026, 0, 2), new Date(2026, 0, 2));
    expect(loadCheckpoint(imported).training.step).toBe(0);
  });

  it('names a tensor with the wrong shape', () => {
    const { path, message } = loadEdited((json) => {
      json.weights.tensors['rnn.weight_hh_l0']!.shape = [64, 15];
    });
    expect(message).toBe(`${path}: weights.tensors["rnn.weight_hh_l0"].shape is [64,15], expected [64,16]`);
  });

  it('names a missing tensor', () => {
    const { path, message } = loadEdited((json) => {
      delete json.weights.tensors['rnn.bias_hh_l1'];
    });
    expect(message).toBe(`${path}: weights.tensors["rnn.bias_hh_l1"] is missing`);
  });

  it('names an unexpected tensor', () => {
    const { path, message } = loadEdited((json) => {
      json.weights.tensors['rnn.weight_ih_l2'] = { shape: [64, 16], data: '' };
    });
    expect(message).toBe(`${path}: weights.tensors["rnn.weight_ih_l2"] is not a tensor of this model`);
  });

  it('names tensor data of the wrong length', () => {
    const { path, message } = loadEdited((json) => {
      json.weights.tensors['head.bias']!.data = Buffer.alloc(12 * 4).toString('base64');
    });
    expect(message).toBe(`${path}: weights.tensors["head.bias"].data decodes to 48 bytes, expected 52 bytes (13 float32)`);
  });

  it('names tensor data that is not base64', () => {
    const { path, message } = loadEdited((json) => {
      json.optimizer.m!.tensors['head.bias']!.data = 'not base64!';
    });
    expect(message).toBe(`${path}: optimizer.m.tensors["head.bias"].data is not base64`);
  });

  it('names a vocabulary of the wrong length', () => {
    const { path, message } = loadEdited((json) => {
      json.vocab.pop();
    });
    expect(message).toBe(`${path}: vocab has 12 entries, expected config.model.vocabSize = 13`);
  });

  it('names a vocabulary without the reserved tokens', () => {
    const { path, message } = loadEdited((json) => {
      json.vocab[1] = 'z';
    });
    expect(message).toBe(`${path}: vocab[1] is "z", expected "<UNK>"`);
  });

  it('names a vocabulary entry that is not one character', () => {
    const { path, message } = loadEdited((json) => {
      json.vocab[2] = 'ab';
    });
    expect(message).toBe(`${path}: vocab[2] is "ab", not a single character`);
  });

  it('names an invalid field', () => {
    const cell = loadEdited((json) => {
      (json.config.model as { cell: string }).cell = 'transformer';
    });
    expect(cell.message).toBe(`${cell.path}: config.model.cell must be one of lstm, gru, rnn (got "transformer")`);
    const rng = loadEdited((json) => {
      delete (json.training as Partial<Checkpoint['training']>).rng;
    });
    expect(rng.message).toBe(`${rng.path}: training.rng is missing`);
    const loss = loadEdited((json) => {
      (json.history[1] as { valLoss: unknown }).valLoss = 'high';
    });
    expect(loss.message).toBe(`${loss.path}: history[1].valLoss must be a number (got "high")`);
    const moments = loadEdited((json) => {
      json.optimizer.v = null;
    });
    expect(moments.message).toBe(`${moments.path}: optimizer.v is null, but an adam optimizer needs its moments`);
    const beta = loadEdited((json) => {
      json.optimizer.beta1 = 1;
    });
    expect(beta.message).toBe(`${beta.path}: optimizer.beta1 must be < 1 (got 1)`);
    const eps = loadEdited((json) => {
      json.optimizer.eps = -0.5;
    });
    expect(eps.message).toBe(`${eps.path}: optimizer.eps must be >= 0 (got -0.5)`);
  });

  // the sample checkpoint has no sha256 (as older checkpoints have none): what it holds is checked value by value
  it.each([
    ['a weight beyond -WEIGHT_LIMIT', 'weights', -1e7, 3, 'weights.tensors["head.bias"][3] is -10000000, expected a weight within ±1000000'],
    ['a weight beyond +WEIGHT_LIMIT', 'weights', 3e38, 3, `weights.tensors["head.bias"][3] is ${Math.fround(3e38)}, expected a weight within ±1000000`],
    ['a weight that is not a number, first in its tensor', 'weights', NaN, 0, 'weights.tensors["head.bias"][0] is NaN, expected a weight within ±1000000'],
    ['a first moment that is not finite', 'm', -Infinity, 3, 'optimizer.m.tensors["head.bias"][3] is -Infinity, expected a finite number'],
    ['a first moment that is not a number', 'm', NaN, 3, 'optimizer.m.tensors["head.bias"][3] is NaN, expected a finite number'],
    ['a negative second moment', 'v', -0.5, 3, 'optimizer.v.tensors["head.bias"][3] is -0.5, expected a finite number >= 0'],
    ['an infinite second moment', 'v', Infinity, 3, 'optimizer.v.tensors["head.bias"][3] is Infinity, expected a finite number >= 0'],
    ['a second moment that is not a number', 'v', NaN, 3, 'optimizer.v.tensors["head.bias"][3] is NaN, expected a finite number >= 0'],
  ] as const)('names %s, as damage', (_, field, value, index, fault) => {
    const { path, message } = loadEdited((json) => {
      const tensors = field === 'weights' ? json.weights : json.optimizer[field]!;
      const bytes = Buffer.from(tensors.tensors['head.bias']!.data, 'base64');
      bytes.writeFloatLE(value, index * 4);
      tensors.tensors['head.bias']!.data = bytes.toString('base64');
    });
    expect(message).toBe(`${path}: ${fault}: the file is damaged`);
  });

  it('names a carried state that is not finite, as damage', () => {
    const layout = carriedStateLayout(LSTM, 50);
    const state = new Float32Array(layout.total);
    state[layout.byName.get('c')!.offset + 3] = NaN;
    const { path, message } = loadEdited((json) => {
      json.training.carried = encodeTensors(layout, state);
    });
    expect(message).toBe(`${path}: training.carried.tensors["c"][3] is NaN, expected a finite number: the file is damaged`);
  });

  it('names characters out of code-point order, and a repeated one', () => {
    const swapped = loadEdited((json) => {
      [json.vocab[3], json.vocab[4]] = [json.vocab[4]!, json.vocab[3]!];
    });
    expect(swapped.message).toBe(`${swapped.path}: vocab[4] "b" comes after vocab[3] "c", expected the characters in code-point order`);
    const first = loadEdited((json) => {
      [json.vocab[2], json.vocab[3]] = [json.vocab[3]!, json.vocab[2]!];
    });
    expect(first.message).toBe(`${first.path}: vocab[3] "a" comes after vocab[2] "b", expected the characters in code-point order`);
    const repeated = loadEdited((json) => {
      json.vocab[3] = 'a';
    });
    expect(repeated.message).toBe(`${repeated.path}: vocab[3] "a" repeats vocab[2]`);
  });

  it('names a history whose steps repeat, go back, or pass the training step', () => {
    const repeated = loadEdited((json) => {
      json.history[1]!.step = 100;
    });
    expect(repeated.message).toBe(`${repeated.path}: history[1].step is 100, expected more than history[0].step 100`);
    const back = loadEdited((json) => {
      json.history[1]!.step = 50;
    });
    expect(back.message).toBe(`${back.path}: history[1].step is 50, expected more than history[0].step 100`);
    const later = loadEdited((json) => {
      json.history[1]!.step = 201;
    });
    expect(later.message).toBe(`${later.path}: history[1].step is 201, later than training.step 200`);
  });
});

describe('resolveCheckpointPath: a checkpoint named near the name of one there', () => {
  /** The line refusing `find`'s path, its flag named as the CLI names it. */
  const flagLine = (find: () => unknown): string => thrownBy(find, SettingError).messageNaming((setting) => `--${setting}`);

  it('refuses - as standard input, which no checkpoint or model file is read from, naming the flag where one was given', () => {
    const stream = (reads: string, bids: string) =>
      `- names standard input, which rnn does not read ${reads} from: ${bids}, or ./- for a file or folder named -`;
    const folder = 'a checkpoint or a run folder (its best.json, else latest.json)';
    expect(errorOf(() => resolveCheckpointPath('-'))).toBe(stream('a checkpoint', `name ${folder}`));
    expect(flagLine(() => resolveCheckpointPath('-', undefined, CHECKPOINT_FLAG))).toBe(`--checkpoint: ${stream('a checkpoint', `give ${folder}`)}`);
    expect(flagLine(() => runFolderFile('-', RUN_FOLDER_FILES.latest, RESUME_READER))).toBe(
      `--resume: ${stream('a checkpoint', 'give a checkpoint that rnn train wrote, or its run folder (its latest.json)')}`);
    expect(flagLine(() => resolveCheckpointPath('-', undefined, INIT_FROM_READER))).toMatch(/^--initFrom: - names standard input, which rnn does not read a model file from: give a checkpoint, /);
  });

  it('names the run folder, or the file, of a run where a best.json named as a file run writes it (X.best.json) is not there', () => {
    const run = join(dir, 'run'), single = join(dir, 'single.json');
    mkdirSync(run);
    writeFileSync(join(run, RUN_FOLDER_FILES.latest), '{}');
    writeFileSync(single, '{}');
    expect(errorOf(() => resolveCheckpointPath(join(dir, 'run.best.json')))).toBe(
      `checkpoint not found: ${join(dir, 'run.best.json')}; ${run}/ is there, a run folder: name it`);
    expect(flagLine(() => resolveCheckpointPath(join(dir, 'single.best.json'), undefined, CHECKPOINT_FLAG))).toBe(
      `--checkpoint: checkpoint not found: ${join(dir, 'single.best.json')}; ${single} is there: name it`);
    expect(errorOf(() => resolveCheckpointPath(join(dir, 'other.best.json')))).toBe(
      `checkpoint not found: ${join(dir, 'other.best.json')}; name a checkpoint or a run folder (its best.json, else latest.json)`);
  });

  it('names the file whose name is the one given and .json (run/best: run/best.json)', () => {
    const run = join(dir, 'run');
    mkdirSync(run);
    writeFileSync(join(run, RUN_FOLDER_FILES.best), '{}');
    expect(errorOf(() => resolveCheckpointPath(join(run, 'best')))).toBe(
      `checkpoint not found: ${join(run, 'best')}; ${join(run, RUN_FOLDER_FILES.best)} is there: name it`);
    expect(flagLine(() => runFolderFile(join(run, 'latest'), RUN_FOLDER_FILES.latest, RESUME_READER))).toBe(
      `--resume: checkpoint not found: ${join(run, 'latest')}; give a checkpoint that rnn train wrote, or its run folder (its latest.json)`);
  });
});

describe('resolveCheckpointPath: JSON that is no checkpoint', () => {
  /** The line refusing a path where `find` refuses it, its flag named as the CLI names it. */
  const refusal = (find: () => unknown): string | null => {
    try {
      find();
      return null;
    } catch (error) {
      return (error as SettingError).messageNaming((setting) => `--${setting}`);
    }
  };
  /** The line refusing the file at `path` given to --checkpoint, where it is refused. */
  const flagLine = (path: string): string | null => refusal(() => resolveCheckpointPath(path, undefined, CHECKPOINT_FLAG));
  /** The line refusing the file at `path` given to --resume, where it is refused. */
  const resumeLine = (path: string): string | null => refusal(() => runFolderFile(path, RUN_FOLDER_FILES.latest, RESUME_READER));

  it('is refused naming the flag, with the parser\'s reason, and what to give', () => {
    const path = join(dir, 'other.json');
    writeFileSync(path, '{"a":1}');
    expect(flagLine(path)).toBe(`--checkpoint ${path} is not a checkpoint (format is missing, expected "rnn-checkpoint/1"): ` +
      'give a checkpoint or a run folder (its best.json, else latest.json)');
    writeFileSync(path, '{ not json');
    expect(flagLine(path)).toMatch(new RegExp(`^--checkpoint ${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} is not a checkpoint \\(not JSON: .+\\): give a checkpoint or a run folder`));
    writeFileSync(path, '{"format":"rnn-prepared/1","level":"char"}');
    // a prepared folder's meta.json, named as the folder is
    expect(errorOf(() => resolveCheckpointPath(path))).toBe(`${path} is not a checkpoint (format is "rnn-prepared/1", expected "rnn-checkpoint/1"; ` +
      'a prepared folder\'s meta.json: data to train on, not a model): name a checkpoint or a run folder (its best.json, else latest.json)');
  });

  it('leaves a checkpoint to its loader (in any order of fields, or cut short), and an rnn-state/1 file to a reader of model files', () => {
    const { format, ...rest } = sampleCheckpoint();
    const reordered = join(dir, 'reordered.json'), cut = join(dir, 'cut.json'), state = join(dir, 'state.json');
    writeFileSync(reordered, JSON.stringify({ ...rest, format }, null, 2));
    const whole = JSON.stringify(sampleCheckpoint());
    writeFileSync(cut, whole.slice(0, whole.length >> 1));
    const { format: stateFormat, ...stateRest } = readFixtureState('rnn_small') as Record<string, unknown>;
    writeFileSync(state, JSON.stringify({ ...stateRest, format: stateFormat }));
    for (const path of [reordered, cut]) expect(flagLine(path)).toBeNull();
    expect(errorOf(() => loadCheckpoint(cut))).toMatch(/ is not JSON: .+; it ends mid-way: the file is cut short$/);
    expect(resolveCheckpointPath(state, undefined, INIT_FROM_READER)).toBe(state);
    // where checkpoints alone are read, a model file is refused saying what to do with it, its format first or not
    const imported = join(dir, 'state.checkpoint.json');
    const convert = `convert it with \`rnn import ${state} --out ${imported}\`, then give --checkpoint ${imported}`;
    expect(flagLine(state)).toBe(`--checkpoint ${state} is a model file, not a checkpoint: ${convert}`);
    writeFileSync(state, JSON.stringify(readFixtureState('rnn_small')));
    expect(flagLine(state)).toBe(`--checkpoint ${state} is a model file, not a checkpoint: ${convert}`);
  });

  it('refuses a run folder\'s best.json or latest.json that is no checkpoint naming the flag, as a file named directly', () => {
    const run = join(dir, 'run-of-notes');
    mkdirSync(run, { recursive: true });
    const best = join(run, 'best.json'), latest = join(run, 'latest.json');
    writeFileSync(best, 'First Citizen:\n');
    writeFileSync(latest, '{"a":1}');
    expect(flagLine(run)).toBe(`--checkpoint ${best} is not a checkpoint (it begins "First Citizen:\\n"): ` +
      'give a checkpoint or a run folder (its best.json, else latest.json)');
    expect(resumeLine(run)).toBe(`--resume ${latest} is not a checkpoint (format is missing, expected "rnn-checkpoint/1"): ` +
      'give a checkpoint that rnn train wrote, or its run folder (its latest.json)');
    saveCheckpoint(best, sampleCheckpoint());
    saveCheckpoint(latest, sampleCheckpoint());
    expect(flagLine(run)).toBeNull();
    expect(resumeLine(run)).toBeNull();
  });

  it('refuses a binary file as binary, where a text that is not JSON is quoted, even one its first 256 bytes cut mid-character', () => {
    const png = join(dir, 'photo.png'), latin1 = join(dir, 'notes-latin1.txt'), cut = join(dir, 'notes-cut.txt');
    writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d]));
    writeFileSync(latin1, Buffer.from('Caf\xe9 au lait\n', 'latin1'));
    writeFileSync(cut, `${'a'.repeat(255)}é and more`);
    const advice = 'give a checkpoint or a run folder (its best.json, else latest.json)';
    expect(flagLine(png)).toBe(`--checkpoint ${png} is not a checkpoint (it is binary, not JSON): ${advice}`);
    expect(flagLine(latin1)).toBe(`--checkpoint ${latin1} is not a checkpoint (it is binary, not JSON): ${advice}`);
    expect(flagLine(cut)).toMatch(/^--checkpoint .*notes-cut\.txt is not a checkpoint \(it begins "a+\.\.\.\): /);
  });

  it('refuses a run folder\'s best.json or latest.json that is a link to nothing as the link named directly, naming where it leads', () => {
    const run = join(dir, 'run-of-links'), resumed = join(dir, 'resumed-of-links');
    mkdirSync(run, { recursive: true });
    mkdirSync(resumed, { recursive: true });
    const best = join(run, 'best.json'), latest = join(resumed, 'latest.json');
    saveCheckpoint(join(run, 'latest.json'), sampleCheckpoint());
    symlinkSync(join('..', 'gone', 'best.json'), best);
    symlinkSync(join('..', 'gone', 'latest.json'), latest);
    // not the folder's latest.json in best.json's place, nor a folder said to have no latest.json
    expect(flagLine(run)).toBe(flagLine(best));
    expect(flagLine(best)).toContain(`checkpoint not found: ${best} (a link to ${join('..', 'gone', 'best.json')}, which is not there)`);
    expect(resumeLine(resumed)).toBe(resumeLine(latest));
    expect(resumeLine(latest)).toContain(`not found: ${latest} (a link to ${join('..', 'gone', 'latest.json')}, which is not there)`);
  });

  it('goes by what a file named .safetensors holds where checkpoints alone are read (--checkpoint, --resume)', () => {
    const renamed = join(dir, 'renamed.safetensors'), other = join(dir, 'other.safetensors');
    saveCheckpoint(renamed, sampleCheckpoint());
    writeFileSync(other, '{"a":1}');
    expect(flagLine(renamed)).toBeNull();
    expect(resumeLine(renamed)).toBeNull();
    expect(loadCheckpoint(renamed).training.step).toBe(sampleCheckpoint().training.step);
    const formatMissing = 'is not a checkpoint (format is missing, expected "rnn-checkpoint/1")';
    expect(flagLine(other)).toBe(`--checkpoint ${other} ${formatMissing}: give a checkpoint or a run folder (its best.json, else latest.json)`);
    expect(resumeLine(other)).toBe(`--resume ${other} ${formatMissing}: give a checkpoint that rnn train wrote, or its run folder (its latest.json)`);
  });

  it('leaves a fixture that wraps an rnn-state/1 file to a reader of model files (--init-from), and refuses it for a checkpoint', () => {
    const fixture = join(dir, 'fixture.json');
    writeFileSync(fixture, JSON.stringify({ description: 'a model and the texts it scores', state: readFixtureState('rnn_small'), cases: [] }));
    expect(resolveCheckpointPath(fixture, undefined, INIT_FROM_READER)).toBe(fixture);
    expect(readModelFile(fixture).model.config.cell).toBe('rnn');
    expect(flagLine(fixture)).toBe(`--checkpoint ${fixture} is not a checkpoint (format is missing, expected "rnn-checkpoint/1"): ` +
      'give a checkpoint or a run folder (its best.json, else latest.json)');
  });
});

describe('latestCheckpoint', () => {
  const at = (path: string, seconds: number): void => utimesSync(path, seconds, seconds);

  it('is null for a missing or empty folder', () => {
    expect(latestCheckpoint(join(dir, 'missing'))).toBeNull();
    expect(latestCheckpoint(dir)).toBeNull();
  });

  it('picks the most recently written checkpoint, one folder deep, ignoring temp and other files', () => {
    const old = join(dir, 'old.json');
    const nested = join(dir, 'run-2', 'step-300.json');
    saveCheckpoint(old, sampleCheckpoint());
    saveCheckpoint(nested, sampleCheckpoint());
    at(old, 1_000_000);
    at(nested, 2_000_000);
    const temp = join(dir, 'newest.json.tmp-999');
    const exported = join(dir, 'exported.json');
    writeFileSync(temp, '{"format":"rnn-checkpoint/1"');
    writeFileSync(exported, JSON.stringify(readFixtureState('rnn_small')));
    at(temp, 3_000_000);
    at(exported, 3_000_000);
    expect(latestCheckpoint(dir)).toBe(nested);
    at(old, 4_000_000);
    expect(latestCheckpoint(dir)).toBe(old);
  });
});

describe('rnn-state/1 interop', () => {
  it('round-trips config, vocab and params through JSON (which keeps no sign on zero)', () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: 5, embedDim: 3, hiddenSize: 4, numLayers: 3, dropout: 0.25 };
    const vocab = ['<EOS>', '<UNK>', '\n', ' ', 'é'];
    const params = randomFloats(paramLayout(config).total, 3, true);
    const text = JSON.stringify(toInteropState(config, vocab, params));
    const back = fromInteropState(JSON.parse(text), 'model.json');
    expect(back.config).toEqual(config);
    expect(back.vocab).toEqual(vocab);
    const signless = params.map((x) => (x === 0 ? 0 : x));
    expect(bitsOf(back.params)).toEqual(bitsOf(signless));
  });

  it('writes a word model\'s spacing only where it spaces a mark, as a file without the field means none', () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: 4, embedDim: 3, hiddenSize: 4, numLayers: 1, dropout: 0 };
    const vocab = ['<EOS>', '<UNK>', 'word', ':'];
    const params = randomFloats(paramLayout(config).total, 3, true);
    const written = (spacing?: Spacing) => toInteropState(config, vocab, params, 'word', WORD_RULE_VERSION, WHOLE_TEXTS, spacing).config;
    expect(Object.keys(written())).not.toContain('spacing');
    expect(Object.keys(written({ before: {}, after: {} }))).not.toContain('spacing');
    expect(written({ before: { ':': ' ' } }).spacing).toEqual({ before: { ':': ' ' } });
  });

  it('refuses to export weights JSON cannot hold', () => {
    const params = new Float32Array(paramLayout(LSTM).total);
    params[paramLayout(LSTM).byName.get('head.bias')!.offset + 2] = Infinity;
    expect(() => toInteropState(LSTM, VOCAB, params)).toThrow('head.bias[2] is Infinity');
  });

  it.each(FIXTURE_NAMES)('loads the PyTorch fixture %s', (name) => {
    const state = readFixtureState(name) as {
      config: { cell: string; vocab_size: number; hidden_size: number; num_layers: number };
      vocab: string[];
      tensors: Record<string, { shape: number[]; data: number[] }>;
    };
    const model = fromInteropState(state, `${name}.json`);
    expect(model.config.cell).toBe(state.config.cell);
    expect(model.config.vocabSize).toBe(state.config.vocab_size);
    expect(model.config.dropout).toBe(0);
    expect(model.vocab).toEqual(state.vocab);
    const layout = paramLayout(model.config);
    expect(model.params.length).toBe(layout.total);
    for (const spec of layout.specs) {
      const expected = state.tensors[spec.name]?.data.map(Math.fround);
      expect(Array.from(model.params.subarray(spec.offset, spec.offset + spec.size))).toEqual(expected);
    }
  });

  function interopError(edit: (json: InteropState) => void): string {
    const json = structuredClone(readFixtureState('lstm_small')) as InteropState;
    edit(json);
    return errorOf(() => fromInteropState(json, 'bad.json'));
  }

  it('names what is wrong with a bad file', () => {
    expect(interopError((j) => ((j.config as { cell: string }).cell = 'transformer'))).toBe(
      'bad.json: config.cell must be one of lstm, gru, rnn (got "transformer")',
    );
    expect(interopError((j) => (j.tensors['rnn.weight_hh_l0']!.shape = [64, 15]))).toBe(
      'bad.json: tensors["rnn.weight_hh_l0"].shape is [64,15], expected [64,16]',
    );
    expect(interopError((j) => delete j.tensors['head.bias'])).toBe('bad.json: tensors["head.bias"] is missing');
    expect(interopError((j) => j.tensors['head.bias']!.data.pop())).toBe(
      'bad.json: tensors["head.bias"].data has 12 values, expected 13',
    );
    expect(interopError((j) => (j.tensors['extra'] = { shape: [1], data: [0] }))).toBe(
      'bad.json: tensors["extra"] is not a tensor of a 2-layer lstm, whose tensors are embed.weight, rnn.weight_ih_l0, rnn.weight_hh_l0, ' +
        'rnn.bias_ih_l0, rnn.bias_hh_l0, rnn.weight_ih_l1, rnn.weight_hh_l1, rnn.bias_ih_l1, rnn.bias_hh_l1, head.weight, head.bias',
    );
    expect(interopError((j) => ((j.tensors['head.bias']!.data as unknown[])[3] = 'x'))).toBe(
      'bad.json: tensors["head.bias"].data[3] must be a number (got "x")',
    );
    expect(interopError((j) => j.vocab.push('z'))).toBe('bad.json: vocab has 14 entries, expected config.vocab_size = 13');
    expect(interopError((j) => (j.vocab[0] = '<eos>'))).toBe('bad.json: vocab[0] is "<eos>", expected "<EOS>"');
    expect(interopError((j) => (j.vocab[5] = 'a'))).toBe('bad.json: vocab[5] "a" repeats vocab[2]');
    expect(interopError((j) => ((j as { format: string }).format = 'rnn-state/2'))).toBe('bad.json: format is "rnn-state/2", expected "rnn-state/1"');
    expect(interopError((j) => delete (j.config as Partial<InteropState['config']>).hidden_size)).toBe('bad.json: config.hidden_size is missing');
  });
});
