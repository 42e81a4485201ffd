/**
 * --race's side of rnn: the --corpus it trains on, checked before the bench measures anything,
 * and `rnn train` on it as a user runs it, its loop's speed read from its --json events. The
 * race's report, and the PyTorch side it asks for (bench/torch_peer.py), are bench.ts's.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';
import { CorpusError } from '../src/text/corpus.js';
import { streamCorpus } from '../src/text/corpus-stream.js';
import { endedWithBench, removedWithBench } from './ending.js';
import { fail } from './options.js';
import { RNN_BIN } from './repo.js';

/**
 * Exits with one line unless `file` is one text file `rnn train` reads (text, not empty): the
 * race's PyTorch side reads it whole, as one text.
 */
export function checkCorpus(file: string): void {
  if (!existsSync(file)) fail(`--corpus: no file '${file}'`);
  if (statSync(file).isDirectory()) fail(`--corpus: '${file}' is a folder, and --race trains on one text file`);
  try {
    streamCorpus([file], 'file');
  } catch (error) {
    if (error instanceof CorpusError) fail(`--corpus: ${error.message}`);
    throw error;
  }
}

/** What each side of the race reports. */
export interface RaceResult { steps: number; valLoss: number | null; seconds: number }

/**
 * rnn's side also reports its loop's speed, in the bench's terms: the best and the mean of
 * windows of the bench's length cut from its steps between evaluations (tokens a second).
 */
interface RnnRaceResult extends RaceResult { loop: { best: number; mean: number; windows: number } }

/**
 * `rnn train corpus --time …` with every other setting its default, as a user runs it; its closing event and its loop's
 * speed in windows of `windowSeconds`.
 */
export async function rnnRace(file: string, budget: number, windowSeconds: number): Promise<RnnRaceResult> {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-race-')), scratch = removedWithBench(dir);
  const tokensPerStep = TRAIN_DEFAULTS.batch * TRAIN_DEFAULTS.seqLen;
  try {
    const child = endedWithBench(spawn(process.execPath, [RNN_BIN, 'train', file, '--time', `${budget}s`, '--json', '--out', join(dir, 'run')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    let done: { step: number; valLoss: number | null; elapsedSeconds: number } | null = null;
    const rates: number[] = [];
    let from: { step: number; at: number } | null = null;
    for await (const line of createInterface({ input: child.stdout })) {
      const event = JSON.parse(line) as { event: string; step: number; valLoss: number | null; elapsedSeconds: number };
      if (event.event === 'done') done = event;
      // a window never spans an evaluation: the next one starts at the step after it
      if (event.event === 'eval') from = null;
      if (event.event !== 'step') continue;
      if (from === null) {
        from = { step: event.step, at: event.elapsedSeconds };
      } else if (event.elapsedSeconds - from.at >= windowSeconds) {
        rates.push(((event.step - from.step) * tokensPerStep) / (event.elapsedSeconds - from.at));
        from = { step: event.step, at: event.elapsedSeconds };
      }
    }
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (done === null) throw new Error(`rnn train ended without a result (code ${code}): ${stderr.trim().split('\n').pop()}`);
    const mean = rates.reduce((sum, r) => sum + r, 0) / Math.max(1, rates.length);
    const loop = { best: Math.max(0, ...rates), mean, windows: rates.length };
    return { steps: done.step, valLoss: done.valLoss, seconds: done.elapsedSeconds, loop };
  } finally {
    scratch.removed();
  }
}
