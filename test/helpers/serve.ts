import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { saveCheckpoint } from '../../src/checkpoint/checkpoint.js';
import { importedCheckpoint } from '../../src/checkpoint/convert.js';
import type { ModelConfig } from '../../src/engine/config.js';
import { initParams } from '../../src/engine/model.js';
import { paramLayout } from '../../src/engine/params.js';
import { Rng } from '../../src/engine/random.js';
import { SENTENCE_RULE_VERSION } from '../../src/text/sentences.js';
import { EOS } from '../../src/text/vocab.js';
import { WORD_RULE_VERSION } from '../../src/text/words.js';
import { TINY_RUN, rnnIn, startRnn } from './cli.js';
import { EVAL_GRU } from './fixtures.js';
import { speeches } from './speeches.js';

/** A running `rnn serve` (the built CLI) on a free loopback port. */
export interface RunningServer {
  url: string;
  child: ChildProcess;
  /** stderr so far. */
  stderr: () => string;
  /** The exit code once it has ended. */
  exited: Promise<number | null>;
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>;
}

/** Starts `rnn serve --port 0 ARGS` in `cwd` and resolves once it says where it listens. */
export function serve(cwd: string, args: string[]): Promise<RunningServer> {
  const child = startRnn(cwd, ['serve', '--port', '0', ...args]);
  let stdout = '', stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (url) {
        resolve({
          url, child, exited, stderr: () => stderr,
          stop: () => {
            child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
    void exited.then((code) => reject(new Error(`rnn serve ended (${code}) before listening: ${stderr}`)));
  });
}

/** The `tiny` model's training: a few steps of a small LSTM, with evaluations for a loss history. */
export const TINY_TRAINING = ['--layers', '2', '--hidden', '24', '--embed', '8', '--batch', '4', '--seq-len', '16', '--max-steps', '40', '--eval-every', '8'];

/**
 * The models the server tests share, made in `dir`: `gru` (the fixture GRU 2×128, a char
 * model), `tiny` (a char LSTM trained here as `tinyTraining` says, with a loss history) and
 * `words` (a word-level model trained here).
 */
export async function makeModels(dir: string, tinyTraining = TINY_TRAINING): Promise<{ gru: string; tiny: string; words: string }> {
  const at = (name: string) => join(dir, name);
  writeFileSync(at('corpus.txt'), speeches(30_000));
  const runs = await Promise.all([
    rnnIn(dir, ['import', EVAL_GRU, '--out', at('gru.json')]),
    rnnIn(dir, ['train', at('corpus.txt'), '--cell', 'lstm', ...tinyTraining, '--workers', '1', '--out', at('tiny')]),
    rnnIn(dir, ['train', at('corpus.txt'), '--level', 'word', '--vocab-size', '400', ...TINY_TRAINING, '--workers', '1', '--max-steps', '10', '--out', at('words')]),
  ]);
  for (const run of runs) expect(run.stderr).not.toMatch(/internal error/);
  for (const run of runs) expect(run.status).toBe(0);
  return { gru: at('gru.json'), tiny: join(at('tiny'), 'latest.json'), words: join(at('words'), 'latest.json') };
}

/**
 * A word-level model of 40 words of 50 letters each (a few steps of TINY_RUN, made in `dir`): a
 * sample of it is some 50 bytes a token, so a streamed one fills the buffers of a connection whose
 * client has stopped reading within 100,000 tokens or so, a fraction of a second.
 */
export async function makeLongWordModel(dir: string): Promise<string> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz';
  const rotated = (i: number) => alphabet.slice(i % 26) + alphabet.slice(0, i % 26);
  const words = Array.from({ length: 40 }, (_, i) => rotated(i).repeat(2).slice(0, 49) + alphabet[i % 7]);
  const lines = Array.from({ length: 500 }, (_, line) => Array.from({ length: 8 }, (_, k) => words[(line * 8 + k) * 7 % 40]).join(' '));
  writeFileSync(join(dir, 'long-words.txt'), `${lines.join('\n')}\n`);
  const out = join(dir, 'long-words');
  const run = await rnnIn(dir, ['train', 'long-words.txt', '--level', 'word', ...TINY_RUN, '--max-steps', '5', '--out', out]);
  expect(run.stderr).not.toMatch(/internal error/);
  expect(run.status).toBe(0);
  return join(out, 'latest.json');
}

/**
 * A char model over "abcd" that cuts its texts into lines (`--docs line`), its weights random but
 * for `<EOS>`'s head bias: it draws `<EOS>` about one token in three, so its samples part many lines
 * and its line breaks are all drawn `<EOS>`s. Written to `dir` as eos.json.
 */
export function makeEosModel(dir: string): string {
  const config: ModelConfig = { cell: 'gru', vocabSize: 6, embedDim: 4, hiddenSize: 8, numLayers: 1, dropout: 0 };
  const params = initParams(config, new Rng(3));
  params[paramLayout(config).byName.get('head.bias')!.offset + EOS] = 0.5;
  const path = join(dir, 'eos.json');
  saveCheckpoint(path, importedCheckpoint({
    config, vocab: ['<EOS>', '<UNK>', 'a', 'b', 'c', 'd'], level: 'char', wordRule: WORD_RULE_VERSION,
    documents: { docs: 'line', sentenceRule: SENTENCE_RULE_VERSION }, params,
  }, ['test']));
  return path;
}

/** An HTTP answer: status, headers, and the body as text and (when it is JSON) parsed. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

export async function request(url: string, init: RequestInit = {}): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON: json stays null */
  }
  return { status: res.status, headers: res.headers, text, json };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return request(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers });
}
