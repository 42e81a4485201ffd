import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromInteropState, type ModelState } from '../../src/checkpoint/interop.js';
import type { CellKind, ModelConfig } from '../../src/engine/config.js';
import { paramLayout } from '../../src/engine/params.js';

/** A PyTorch reference case of test/fixtures/README.md ("torch/*.json"). */
export interface TorchFixture {
  name: string;
  description: string;
  state: {
    config: { cell: CellKind; vocab_size: number; embed_dim: number; hidden_size: number; num_layers: number };
    tensors: Record<string, { shape: number[]; data: number[] }>;
  };
  input: { tokens: number[][]; targets: number[][]; h0: number[]; c0?: number[]; shape_h0: number[] };
  expect: {
    logits: number[]; loss: number; h_n: number[]; c_n?: number[];
    grads: Record<string, number[]>; grad_h0: number[]; grad_c0?: number[];
    grad_norm: number; clipped_grads: Record<string, number[]>;
  };
  clip_max_norm: number;
  train: {
    stream: number[][]; seq_len: number; clip_max_norm: number;
    optimizer: { name: string; lr: number; betas: [number, number]; eps: number; weight_decay: number };
    steps: { loss: number; grad_norm_before_clip: number }[];
    params_after: Record<string, { shape: number[]; data: number[] }>;
  };
}

export const FIXTURE_DIR = join(import.meta.dirname, '..', 'fixtures', 'torch');

/** The bundled fixtures, plus every *.json in $RNN_FIXTURES when that is set. */
export function torchFixtureFiles(): string[] {
  const dirs = [FIXTURE_DIR, ...(process.env.RNN_FIXTURES ? [process.env.RNN_FIXTURES] : [])];
  return dirs.flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => join(dir, f)));
}

export function loadTorchFixture(path: string): TorchFixture {
  const json = JSON.parse(readFileSync(path, 'utf8'));
  return { name: path, ...json };
}

export function fixtureConfig(f: TorchFixture): ModelConfig {
  const c = f.state.config;
  return { cell: c.cell, vocabSize: c.vocab_size, embedDim: c.embed_dim, hiddenSize: c.hidden_size, numLayers: c.num_layers, dropout: 0 };
}

/** The fixture's tensors packed into the flat layout (float64 → float32). */
export function packParams(config: ModelConfig, tensors: Record<string, { data: number[] }>): Float32Array {
  const layout = paramLayout(config);
  const params = new Float32Array(layout.total);
  for (const spec of layout.specs) params.set(tensors[spec.name].data, spec.offset);
  return params;
}

/**
 * test/fixtures/eval/gru_2x128.json (its README): a briefly trained GRU 2×128, a character model, as
 * rnn-state/1 in `state`, and in `cases` texts with the mean loss PyTorch gives each.
 */
export const EVAL_GRU = join(import.meta.dirname, '..', 'fixtures', 'eval', 'gru_2x128.json');

export interface EvalFixture {
  state: { config: { cell: string; vocab_size: number; embed_dim: number; hidden_size: number; num_layers: number }; vocab: string[] };
  cases: { text: string; loss: number }[];
}

/** EVAL_GRU as it is on disk. */
export function readEvalFixture(): EvalFixture {
  return JSON.parse(readFileSync(EVAL_GRU, 'utf8')) as EvalFixture;
}

/** EVAL_GRU's model, as rnn reads an rnn-state/1 file. */
export function evalGruState(): ModelState {
  return fromInteropState(readEvalFixture().state, 'gru_2x128.json');
}
