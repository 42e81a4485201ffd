import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { carriedStateLayout, encodeTensors } from '../src/checkpoint/tensors.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { scratchFolder } from './helpers/files.js';
import { type Json, parentOf, paths, pick, removeAt, retypeAt } from './helpers/json-paths.js';

/**
 * Seeded mutations of a real checkpoint: each must give a one-line CheckpointError naming the
 * file, or load a checkpoint identical in meaning to the original. Nothing else may happen.
 */
const MUTATIONS = 400;
const MODEL: ModelConfig = { cell: 'lstm', vocabSize: 7, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0 };
const BATCH = 2;

/** Fields an older checkpoint may lack: leaving one out changes what a resume does, so they are not deleted here. */
const OPTIONAL = new Set(['config.training.epochs', 'config.training.maxSteps', 'config.training.timeSeconds', 'training.carried',
  'training.smoothedLoss']);

const { dir } = scratchFolder('rnn-fuzz-');
let original: Checkpoint;
let text: string;
let path: string;

function originalCheckpoint(): Checkpoint {
  const layout = paramLayout(MODEL);
  const rng = new Rng(5);
  const params = initParams(MODEL, rng);
  const m = params.map((x) => x / 100), v = params.map((x) => x * x);
  const carried = new Float32Array(carriedStateLayout(MODEL, BATCH).total).map(() => 2 * rng.uniform() - 1);
  return {
    format: 'rnn-checkpoint/1',
    createdAt: '2026-01-02T03:04:05.678Z',
    command: ['rnn', 'train', 'tiny.txt'],
    config: {
      model: MODEL,
      training: {
        seqLen: 8, batchSize: BATCH, lr: 2e-3, lrDecay: 1, clip: 5, clipValue: null, seed: 42, workers: 1,
        valFrac: 0.1, minCount: 1, docs: 'file', evalEvery: 10, optimizer: 'adam', epochs: 2, maxSteps: null, timeSeconds: null,
      },
    },
    vocab: ['<EOS>', '<UNK>', '\n', ' ', 'a', 'b', 'é'],
    weights: encodeTensors(layout, params),
    optimizer: { kind: 'adam', step: 20, beta1: 0.9, beta2: 0.999, eps: 1e-8, m: encodeTensors(layout, m), v: encodeTensors(layout, v) },
    training: {
      step: 20, epoch: 1, cursor: 3, lr: 2e-3, rng: [1, 2, 3, 4], bestValLoss: 1.5, tokensSeen: 320, elapsedSeconds: 2.5,
      carried: encodeTensors(carriedStateLayout(MODEL, BATCH), carried), smoothedLoss: 1.6,
    },
    history: [
      { step: 10, epoch: 0, tokensSeen: 160, trainLoss: 1.9, valLoss: 1.8, lr: 2e-3, seconds: 1 },
      { step: 20, epoch: 1, tokensSeen: 320, trainLoss: 1.6, valLoss: 1.5, lr: 2e-3, seconds: 2.5 },
    ],
    corpus: {
      files: [{ path: 'tiny.txt', bytes: 340, sha256: 'a'.repeat(64) }],
      docs: 'file', valFrac: 0.1, totalTokens: 341, trainTokens: 307, valTokens: 34, sha256: 'b'.repeat(64),
    },
  };
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** The tensors' data strings: where a flipped character or a bad value goes. */
function tensorDataPaths(json: Json): (string | number)[][] {
  return paths(json).filter((at) => at.at(-1) === 'data');
}

/** One seeded mutation of the checkpoint's text: what it does, and the text. */
function mutate(rng: Rng): { what: string; text: string; sameMeaningIfLoaded: 'original' | 'unsigned' } {
  const json = JSON.parse(text) as Json;
  const kind = pick(rng, ['truncate', 'flip', 'delete', 'type', 'value', 'vocab', 'shape'] as const);
  const result = (what: string, sameMeaningIfLoaded: 'original' | 'unsigned' = 'original') =>
    ({ what, text: JSON.stringify(json), sameMeaningIfLoaded });
  switch (kind) {
    case 'truncate': {
      const at = Math.floor(rng.uniform() * text.length);
      return { what: `truncated at ${at}`, text: text.slice(0, at), sameMeaningIfLoaded: 'original' };
    }
    case 'flip': {
      const at = pick(rng, tensorDataPaths(json));
      const { parent, key } = parentOf(json, at);
      const data = parent[key] as string;
      const i = Math.floor(rng.uniform() * data.length);
      parent[key] = data.slice(0, i) + pick(rng, [...BASE64.replace(data[i]!, '')]) + data.slice(i + 1);
      return result(`flipped ${at.join('.')}[${i}]`);
    }
    case 'delete': {
      const at = pick(rng, paths(json).filter((p) => !OPTIONAL.has(p.join('.'))));
      removeAt(json, at);
      return result(`deleted ${at.join('.')}`, at.join('.') === 'sha256' ? 'unsigned' : 'original');
    }
    case 'type': {
      const at = pick(rng, paths(json));
      return result(`${at.join('.')} set to ${JSON.stringify(retypeAt(rng, json, at))}`);
    }
    case 'value': {
      const bad = pick(rng, [NaN, Infinity, -Infinity, 3e38, -3.4e38, 1e7]);
      const at = pick(rng, tensorDataPaths(json));
      const { parent, key } = parentOf(json, at);
      const bytes = Buffer.from(parent[key] as string, 'base64');
      const i = Math.floor(rng.uniform() * (bytes.length / 4));
      bytes.writeFloatLE(bad, 4 * i);
      parent[key] = bytes.toString('base64');
      // a value the tensor may hold (a huge moment or state is still finite) changes it: the checksum must say so
      return result(`${at.join('.')}[${i}] set to ${bad}`);
    }
    case 'vocab': {
      const vocab = (json as { vocab: string[] }).vocab;
      const i = Math.floor(rng.uniform() * vocab.length);
      let j = Math.floor(rng.uniform() * (vocab.length - 1));
      if (j >= i) j++;
      [vocab[i], vocab[j]] = [vocab[j]!, vocab[i]!];
      return result(`vocab[${i}] and vocab[${j}] swapped`);
    }
    case 'shape': {
      const shapes = paths(json).filter((at) => at.at(-2) === 'shape' || (at[0] === 'config' && at[1] === 'model' &&
        typeof parentOf(json, at).parent[at.at(-1)!] === 'number' && at.at(-1) !== 'dropout'));
      const at = pick(rng, shapes);
      const { parent, key } = parentOf(json, at);
      parent[key] = (parent[key] as number) + pick(rng, [-1, 1, 2]);
      return result(`${at.join('.')} changed to ${String(parent[key])}`);
    }
  }
}

beforeAll(() => {
  path = join(dir, 'ckpt.json');
  original = originalCheckpoint();
  saveCheckpoint(join(dir, 'original.json'), original);
  text = readFileSync(join(dir, 'original.json'), 'utf8');
});

describe('checkpoint fuzz', () => {
  it(`refuses or reads unchanged each of ${MUTATIONS} seeded mutations`, () => {
    const signed = loadCheckpoint(join(dir, 'original.json'));
    const { sha256: _, ...unsigned } = signed;
    const rng = new Rng(20261201);
    const outcomes = { refused: 0, loaded: 0 };
    for (let n = 0; n < MUTATIONS; n++) {
      const mutation = mutate(rng);
      writeFileSync(path, mutation.text);
      let loaded: Checkpoint;
      try {
        loaded = loadCheckpoint(path);
      } catch (error) {
        if (!(error instanceof CheckpointError)) throw new Error(`${mutation.what}: ${String(error)}`, { cause: error });
        expect(error.message.startsWith(path), `${mutation.what}: ${error.message}`).toBe(true);
        expect(error.message, mutation.what).not.toContain('\n');
        outcomes.refused++;
        continue;
      }
      expect(loaded, mutation.what).toEqual(mutation.sameMeaningIfLoaded === 'unsigned' ? unsigned : signed);
      outcomes.loaded++;
    }
    expect(outcomes.refused).toBeGreaterThan(MUTATIONS * 0.9);
  });
});
