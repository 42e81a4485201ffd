import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importState } from '../src/checkpoint/convert.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { toInteropState } from '../src/checkpoint/interop.js';
import { type LoadedModel, loadModel } from '../src/checkpoint/load.js';
import { toSafetensors } from '../src/checkpoint/safetensors.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { scratchFolder } from './helpers/files.js';
import { type Json, paths, pick, removeAt, retypeAt } from './helpers/json-paths.js';

/**
 * Seeded mutations of a valid .safetensors file and of a valid rnn-state/1 file, each imported
 * as `rnn import` does: each must give a one-line CheckpointError naming the input, or a model
 * equal to the original's. None may allocate typed arrays of more than a small multiple of the
 * file's size (a header that claims a huge model must be refused before it is allocated).
 */
const MUTATIONS = 300;
/** Typed-array bytes an import may allocate, per byte of its input: the weights, the zero moments, the checks on saving. */
const ALLOCATION_PER_FILE_BYTE = 16;
const MODEL: ModelConfig = { cell: 'lstm', vocabSize: 7, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0 };
const VOCAB = ['<EOS>', '<UNK>', '\n', ' ', 'a', 'b', 'é'];

const below = (rng: Rng, n: number): number => Math.floor(rng.uniform() * n);

/** Values a config number becomes: off by one, far too large, or not a positive integer. */
const CONFIG_VALUES = (n: number): Json[] => [n - 1, n + 1, n * 1000, 1e9, 2 ** 31, 0, -1, 1.5, 'x', null];
const BAD_FLOATS = [NaN, Infinity, -Infinity, 3e38, -1e7, 1e7];

/** Mutations both formats share, of the config, the vocabulary and the tensors' shapes, on the parsed JSON they hold. */
function mutateConfig(rng: Rng, config: Record<string, Json>): string {
  const key = pick(rng, ['cell', 'vocab_size', 'embed_dim', 'hidden_size', 'num_layers', 'level', 'dropout', 'word_rule']);
  const value = key === 'cell' ? pick(rng, ['gru', 'rnn', 'LSTM', 3]) : key === 'level' ? pick(rng, ['word', 'byte', 1])
    : key === 'dropout' ? pick(rng, [-0.5, 1, 'x']) : key === 'word_rule' ? pick(rng, [0, 'x'])
      : pick(rng, CONFIG_VALUES(typeof config[key] === 'number' ? config[key] : 1));
  config[key] = value;
  return `config.${key} set to ${JSON.stringify(value)}`;
}

function mutateVocab(rng: Rng, vocab: string[]): string {
  const i = below(rng, vocab.length);
  switch (pick(rng, ['swap', 'replace', 'drop', 'add'] as const)) {
    case 'swap': {
      let j = below(rng, vocab.length - 1);
      if (j >= i) j++;
      [vocab[i], vocab[j]] = [vocab[j]!, vocab[i]!];
      return `vocab[${i}] and vocab[${j}] swapped`;
    }
    case 'replace':
      vocab[i] = pick(rng, ['', 'ab', 'a', '<UNK>', '\uD800']);
      return `vocab[${i}] replaced by ${JSON.stringify(vocab[i])}`;
    case 'drop':
      vocab.splice(i, 1);
      return `vocab[${i}] dropped`;
    case 'add':
      vocab.push('z');
      return 'vocab gains "z"';
  }
}

function mutateShape(rng: Rng, shape: number[]): string {
  const i = below(rng, shape.length);
  const edit = pick(rng, ['delta', 'huge', 'extra'] as const);
  if (edit === 'extra') shape.push(1);
  else shape[i] = edit === 'huge' ? 1e9 : shape[i]! + pick(rng, [-1, 1]);
  return `shape ${edit}`;
}

const { dir } = scratchFolder('rnn-import-fuzz-');
let original: LoadedModel;
let safetensors: Buffer;
let stateText: string;

/** One seeded mutation of the .safetensors file. */
function mutateSafetensors(rng: Rng): { what: string; bytes: Buffer } {
  const headerLength = Number(safetensors.readBigUInt64LE(0));
  const header = JSON.parse(safetensors.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, Record<string, Json>>;
  const data = Buffer.from(safetensors.subarray(8 + headerLength));
  const meta = header['__metadata__']!;
  const config = JSON.parse(meta['config'] as string) as Record<string, Json>;
  const vocab = JSON.parse(meta['vocab'] as string) as string[];
  const tensor = () => pick(rng, Object.keys(header).filter((k) => k !== '__metadata__'));
  let lengthField: bigint | null = null;
  let what: string;
  switch (pick(rng, ['truncate', 'length', 'config', 'vocab', 'delete', 'shape', 'offsets', 'dtype', 'value', 'extra'] as const)) {
    case 'truncate': {
      const at = below(rng, safetensors.length);
      return { what: `truncated at ${at}`, bytes: safetensors.subarray(0, at) };
    }
    case 'length':
      lengthField = pick(rng, [0n, BigInt(headerLength - 1), BigInt(headerLength + 1), 2n ** 60n, 2n ** 64n - 1n]);
      what = `header length set to ${lengthField}`;
      break;
    case 'config':
      what = mutateConfig(rng, config);
      break;
    case 'vocab':
      what = mutateVocab(rng, vocab);
      break;
    case 'delete': {
      const key = pick(rng, [...Object.keys(header), '__metadata__.config', '__metadata__.vocab']);
      if (key.startsWith('__metadata__.')) delete meta[key.slice('__metadata__.'.length)];
      else delete header[key];
      what = `deleted ${key}`;
      break;
    }
    case 'shape': {
      const name = tensor();
      what = `${name}: ${mutateShape(rng, header[name]!['shape'] as number[])}`;
      break;
    }
    case 'offsets': {
      const name = tensor();
      const offsets = header[name]!['data_offsets'] as number[];
      const i = below(rng, 2);
      offsets[i] = pick(rng, [offsets[i]! + 4, offsets[i]! - 4, 2 ** 40, -4]);
      what = `${name}.data_offsets[${i}] set to ${offsets[i]}`;
      break;
    }
    case 'dtype': {
      const name = tensor();
      header[name]!['dtype'] = pick(rng, ['F16', 'F64', 'I32', 'f32']);
      what = `${name}.dtype set to ${String(header[name]!['dtype'])}`;
      break;
    }
    case 'value': {
      const i = below(rng, data.length / 4), bad = pick(rng, BAD_FLOATS);
      data.writeFloatLE(bad, 4 * i);
      what = `data float ${i} set to ${bad}`;
      break;
    }
    case 'extra':
      header['rnn.weight_ih_l9'] = { dtype: 'F32', shape: [1], data_offsets: [0, 4] };
      what = 'an extra tensor';
      break;
  }
  if (meta['config'] !== undefined) meta['config'] = JSON.stringify(config);
  if (meta['vocab'] !== undefined) meta['vocab'] = JSON.stringify(vocab);
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthField ?? BigInt(json.length));
  return { what, bytes: Buffer.concat([prefix, lengthField === null ? json : safetensors.subarray(8, 8 + headerLength), data]) };
}

/** One seeded mutation of the rnn-state/1 file. */
function mutateState(rng: Rng): { what: string; text: string } {
  const json = JSON.parse(stateText) as Json;
  const state = json as { config: Record<string, Json>; vocab: string[]; tensors: Record<string, { shape: number[]; data: number[] }> };
  const tensor = () => state.tensors[pick(rng, Object.keys(state.tensors))]!;
  let what: string;
  switch (pick(rng, ['truncate', 'delete', 'type', 'config', 'vocab', 'shape', 'value'] as const)) {
    case 'truncate': {
      const at = below(rng, stateText.length);
      return { what: `truncated at ${at}`, text: stateText.slice(0, at) };
    }
    case 'delete': {
      const at = pick(rng, paths(json));
      removeAt(json, at);
      what = `deleted ${at.join('.')}`;
      break;
    }
    case 'type': {
      const at = pick(rng, paths(json));
      what = `${at.join('.')} set to ${JSON.stringify(retypeAt(rng, json, at))}`;
      break;
    }
    case 'config':
      what = mutateConfig(rng, state.config);
      break;
    case 'vocab':
      what = mutateVocab(rng, state.vocab);
      break;
    case 'shape':
      what = mutateShape(rng, tensor().shape);
      break;
    case 'value': {
      const data = tensor().data, i = below(rng, data.length), bad = pick(rng, [5e38, -1e39, 1e7, -2e6]);
      data[i] = bad;
      what = `a value set to ${bad}`;
      break;
    }
  }
  return { what, text: JSON.stringify(json) };
}

/** The typed-array bytes `run` asks for, in all (the global constructors counted while it runs, failed requests too). */
function typedArrayBytes(run: () => void): number {
  const saved = { Float32Array, Float64Array, Int32Array, Uint8Array };
  let bytes = 0;
  const counting = <T extends object>(Type: T & { BYTES_PER_ELEMENT: number }): T => new Proxy(Type, {
    construct(target, args: unknown[]) {
      if (typeof args[0] === 'number') bytes += args[0] * Type.BYTES_PER_ELEMENT;
      return Reflect.construct(target as never, args) as object;
    },
  });
  Object.assign(globalThis, {
    Float32Array: counting(Float32Array), Float64Array: counting(Float64Array),
    Int32Array: counting(Int32Array), Uint8Array: counting(Uint8Array),
  });
  try {
    run();
  } finally {
    Object.assign(globalThis, saved);
  }
  return bytes;
}

function fuzz(name: string, mutate: (rng: Rng) => { what: string; content: string | Buffer }, seed: number) {
  const input = join(dir, name), out = join(dir, `${name}.ckpt.json`);
  const rng = new Rng(seed);
  const outcomes = { refused: 0, loaded: 0 };
  for (let n = 0; n < MUTATIONS; n++) {
    const { what, content } = mutate(rng);
    writeFileSync(input, content);
    rmSync(out, { force: true });
    let error: unknown = null;
    const allocated = typedArrayBytes(() => {
      try {
        importState(input, out, ['rnn', 'import'], true);
      } catch (caught) {
        error = caught;
      }
    });
    expect(allocated, `${what}: allocated ${allocated} bytes`).toBeLessThanOrEqual(ALLOCATION_PER_FILE_BYTE * Math.max(statSync(input).size, 1024));
    if (error !== null) {
      if (!(error instanceof CheckpointError)) throw new Error(`${what}: ${String(error)}`, { cause: error });
      expect(error.message.startsWith(input) || error.message.endsWith(input), `${what}: ${error.message}`).toBe(true);
      expect(error.message, what).not.toContain('\n');
      outcomes.refused++;
      continue;
    }
    const model = loadModel(out);
    expect(model.config, what).toEqual(original.config);
    expect(model.checkpoint.vocab, what).toEqual(original.checkpoint.vocab);
    expect(model.vocab.level, what).toBe(original.vocab.level);
    expect(Buffer.from(model.params.buffer).equals(Buffer.from(original.params.buffer)), what).toBe(true);
    outcomes.loaded++;
  }
  expect(outcomes.refused).toBeGreaterThan(MUTATIONS * 0.8);
}

beforeAll(() => {
  const params = initParams(MODEL, new Rng(5));
  safetensors = toSafetensors({ config: MODEL, vocab: VOCAB, level: 'char', wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params });
  stateText = JSON.stringify(toInteropState(MODEL, VOCAB, params));
  writeFileSync(join(dir, 'original.safetensors'), safetensors);
  importState(join(dir, 'original.safetensors'), join(dir, 'original.json'), ['rnn', 'import'], false);
  original = loadModel(join(dir, 'original.json'));
});

describe('import fuzz', () => {
  it(`refuses or imports unchanged each of ${MUTATIONS} seeded mutations of a .safetensors file`, () => {
    fuzz('model.safetensors', (rng) => {
      const { what, bytes } = mutateSafetensors(rng);
      return { what, content: bytes };
    }, 20261201);
  });

  it(`refuses or imports unchanged each of ${MUTATIONS} seeded mutations of an rnn-state/1 file`, () => {
    fuzz('state.json', (rng) => {
      const { what, text } = mutateState(rng);
      return { what, content: text };
    }, 20261202);
  });

  it('reads the original files back as the same model', () => {
    writeFileSync(join(dir, 'same.json'), stateText);
    importState(join(dir, 'same.json'), join(dir, 'same.ckpt.json'), ['rnn', 'import'], true);
    expect(loadModel(join(dir, 'same.ckpt.json')).params).toEqual(original.params);
    expect(readFileSync(join(dir, 'original.safetensors')).equals(safetensors)).toBe(true);
  });
});
