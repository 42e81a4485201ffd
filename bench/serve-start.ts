/**
 * `rnn serve` started on a model's checkpoint as a user starts it (the built CLI, a process of its own), in this checkout
 * and in --against's: the time to its listening line, and its memory once each of its threads has drawn a sample.
 */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { endedWithBench } from './ending.js';
import { RNN_BIN } from './repo.js';

/** `rnn serve` with `args` (`bin`: a checkout's bin/rnn.js), ended with the bench, its stderr the bench's: once it listens, its URL. */
export function startedServer(args: string[], bin = RNN_BIN): { server: ChildProcessByStdio<null, Readable, null>; url: Promise<string> } {
  const server = endedWithBench(spawn(process.execPath, [bin, 'serve', ...args], { stdio: ['ignore', 'pipe', 'inherit'] }));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = /listening on (\S+)/.exec(out)?.[1];
      if (found) resolve(found);
    });
    server.on('exit', (code) => reject(new Error(`rnn serve ended (${code}) before it listened`)));
  });
  return { server, url };
}

export interface ServeStart {
  /** From the spawn to the listening line, milliseconds. */
  readyMs: number;
  /** Resident memory once every thread has drawn a sample, and its peak so far (VmRSS, VmHWM), MiB. */
  rssMiB: number;
  peakMiB: number;
}

/** A process's resident memory and its peak, MiB (Linux: /proc). */
export function memoryMiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

/** A short sample from the server at `url`, drawn by whichever thread is free. */
function generate(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/v1/generate`, { method: 'POST' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`/v1/generate answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ len: 20, seed: 1 }));
  });
}

/** `node bin` serving `checkpoint` on `workers` threads: started, a sample on each thread at once, measured, stopped. */
async function startOnce(bin: string, checkpoint: string, workers: number): Promise<ServeStart> {
  const started = performance.now();
  const { server, url: listening } = startedServer(['--checkpoint', checkpoint, '--workers', String(workers), '--port', '0'], bin);
  const ended = new Promise<void>((resolve) => server.on('exit', () => resolve()));
  try {
    const url = await listening;
    const readyMs = performance.now() - started;
    await Promise.all(Array.from({ length: workers }, () => generate(url)));
    const { rss, peak } = memoryMiB(server.pid!);
    return { readyMs, rssMiB: rss, peakMiB: peak };
  } finally {
    server.kill('SIGINT');
    await ended;
  }
}

/**
 * Each side's start (`bins`: each checkout's bin/rnn.js), the sides taking turns, `rounds` times after one to warm the
 * disk cache: the fastest start of each side, and the least memory (a neighbour's load slows a start; it does not shrink one).
 */
export async function serveStarts(bins: string[], checkpoint: string, workers: number, rounds: number): Promise<ServeStart[]> {
  const best = bins.map(() => ({ readyMs: Infinity, rssMiB: Infinity, peakMiB: Infinity }));
  for (let round = 0; round <= rounds; round++) {
    for (const [i, bin] of bins.entries()) {
      const start = await startOnce(bin, checkpoint, workers);
      if (round === 0) continue;
      const { readyMs, rssMiB, peakMiB } = best[i]!;
      best[i] = {
        readyMs: Math.min(readyMs, start.readyMs), rssMiB: Math.min(rssMiB, start.rssMiB), peakMiB: Math.min(peakMiB, start.peakMiB),
      };
    }
  }
  return best;
}
