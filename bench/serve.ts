/**
 * `npm run bench -- --serve`: `rnn serve` under load, on loopback only. The server runs as its
 * own process (the built CLI) on the GRU 2×128 fixture the tests use; this process is the
 * clients. It measures:
 *   - the first streamed piece of a warm server (time from request to first text),
 *   - a 200-token sample through HTTP beside the same sample drawn in-process by the library
 *     API (what `rnn sample` runs), one client,
 *   - N concurrent clients for S seconds (a mix of generate, score and complete): requests/s,
 *     p50/p99 latency, errors, 503s of a busy server (queue full or time limit spent queued), the server's RSS before and after,
 *   - 1,000 malformed requests: every answer must be a 4xx, and the server must still answer.
 *
 *   npm run bench -- --serve                          16 clients × 30 s
 *   npm run bench -- --serve --clients 4 --seconds 5 --json
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/api/index.js';
import { RNN_BIN, ROOT } from './repo.js';
import { endedWithBench, removedWithBench } from './ending.js';
import { memoryMiB, startedServer } from './serve-start.js';

const FIXTURE = join(ROOT, 'test', 'fixtures', 'eval', 'gru_2x128.json');

/** Tokens a sample of the comparison served/in-process draws, and a first streamed piece's request asks for. */
const SAMPLE_TOKENS = 200;
/** The comparison's alternating blocks, and the samples each side draws in a block. */
const BLOCKS = 24, SAMPLES_PER_BLOCK = 5;

export interface ServeOptions {
  clients: number;
  seconds: number;
  json: boolean;
}

function rnn(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = endedWithBench(spawn(process.execPath, [RNN_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let stdout = '', stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Adds one to `key`'s count. */
function tally<K>(counts: Map<K, number>, key: K): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const value of values) total += value;
  return total;
}

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

/** Connections kept open between requests, as a client of an API keeps them. */
const agent = new Agent({ keepAlive: true });

/**
 * One request on node:http (lighter than fetch, so that the client takes less of the cores
 * the server shares); `onFirst` runs when the first bytes of the body arrive.
 */
function send(url: string, method: string, body: string | null, onFirst: () => void = () => {}): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        if (text === '') onFirst();
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode!, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  return send(url, 'POST', typeof body === 'string' ? body : JSON.stringify(body));
}

/** Milliseconds from the request to its first streamed text. */
async function firstPiece(url: string): Promise<number> {
  const started = performance.now();
  let ms = NaN;
  await send(`${url}/v1/generate`, 'POST', JSON.stringify({ len: SAMPLE_TOKENS, stream: 'ndjson', seed: 1 }), () => (ms = performance.now() - started));
  return ms;
}

const MIX = [
  (url: string, i: number) => post(`${url}/v1/generate`, { prime: 'KING:', len: 100, seed: i }),
  (url: string) => post(`${url}/v1/score`, { text: 'To be, or not to be, that is the question.', top: 5 }),
  (url: string, i: number) => post(`${url}/v1/complete`, { prefix: 'The ', n: 3, len: 16, seed: i }),
];

/** `clients` loops of requests for `seconds`: every answer's latency and status. */
async function load(url: string, clients: number, seconds: number) {
  const latencies: number[] = [], statuses = new Map<number, number>();
  let failures = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    for (let i = c; performance.now() < until; i += clients) {
      const started = performance.now();
      try {
        const { status } = await MIX[i % MIX.length]!(url, i);
        tally(statuses, status);
        if (status === 200) latencies.push(performance.now() - started);
      } catch {
        failures++;
      }
    }
  }));
  latencies.sort((a, b) => a - b);
  return { latencies, statuses, failures };
}

/** 1,000 requests a server must refuse: bad JSON, bad fields, an oversized body, wrong methods and routes. */
async function malformed(url: string): Promise<Map<number, number>> {
  const big = 'x'.repeat(70_000);
  const bad: [string, string, string | null][] = [
    ['POST', '/v1/generate', '{"prime":'],
    ['POST', '/v1/generate', '[]'],
    ['POST', '/v1/generate', '{"temperature":-3}'],
    ['POST', '/v1/generate', '{"len":100000000}'],
    ['POST', '/v1/generate', '{"checkpoint":"/etc/passwd"}'],
    ['POST', '/v1/score', JSON.stringify({ text: big })],
    ['POST', '/v1/score', '{"text":5}'],
    ['POST', '/v1/activations', '{"text":"a","layer":99}'],
    ['GET', '/v1/generate', null],
    ['GET', '/v1/../../etc/passwd', null],
  ];
  const statuses = new Map<number, number>();
  for (let round = 0; round < 100; round++) {
    await Promise.all(bad.map(async ([method, path, body]) => {
      tally(statuses, (await send(`${url}${path}`, method, body)).status);
    }));
  }
  return statuses;
}

export async function benchServe(options: ServeOptions): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-bench-serve-')), scratch = removedWithBench(dir);
  const checkpoint = join(dir, 'gru.json');
  const imported = await rnn(['import', FIXTURE, '--out', checkpoint]);
  if (imported.code !== 0) throw new Error(imported.stderr);
  const { server, url: listening } = startedServer(['--checkpoint', checkpoint, '--port', '0']);
  try {
    const url = await listening;
    const report: Record<string, unknown> = { bench: 'serve', model: 'gru-2x128 (test/fixtures/eval)', clients: options.clients, seconds: options.seconds };

    for (let i = 0; i < 5; i++) await firstPiece(url); // warm
    const firsts: number[] = [];
    for (let i = 0; i < 30; i++) firsts.push(await firstPiece(url));
    firsts.sort((a, b) => a - b);
    report.firstPieceMs = { p50: percentile(firsts, 0.5), p99: percentile(firsts, 0.99) };

    // a sample through HTTP (one client), and drawn in-process by the library API as `rnn sample` draws it
    const model = loadModel(checkpoint);
    const drawDirect = async () => {
      for await (const piece of model.generate({ len: SAMPLE_TOKENS, seed: 1 })) void piece;
    };
    const drawServed = () => post(`${url}/v1/generate`, { len: SAMPLE_TOKENS, seed: 1 });
    for (let i = 0; i < 10; i++) await drawDirect();
    // short alternating blocks, each a ratio, and their median: a neighbour's burst of load on a
    // shared machine falls on a block or two, not on one side of the comparison
    let directMs = 0, servedMs = 0;
    const ratios: number[] = [];
    for (let block = 0; block < BLOCKS; block++) {
      let started = performance.now();
      for (let i = 0; i < SAMPLES_PER_BLOCK; i++) await drawDirect();
      const direct = performance.now() - started;
      started = performance.now();
      for (let i = 0; i < SAMPLES_PER_BLOCK; i++) await drawServed();
      const served = performance.now() - started;
      directMs += direct;
      servedMs += served;
      ratios.push(direct / served);
    }
    const tokensDrawn = SAMPLE_TOKENS * BLOCKS * SAMPLES_PER_BLOCK;
    const directTokensPerSecond = tokensDrawn / (directMs / 1000), servedTokensPerSecond = tokensDrawn / (servedMs / 1000);
    report.sample200 = { servedTokensPerSecond, directTokensPerSecond, ratio: percentile(ratios.sort((a, b) => a - b), 0.5) };

    const rssBefore = memoryMiB(server.pid!).rss;
    const { latencies, statuses, failures } = await load(url, options.clients, options.seconds);
    const rssAfter = memoryMiB(server.pid!).rss;
    const total = sum(statuses.values());
    const errors = failures + sum([...statuses].filter(([s]) => s !== 200 && s !== 503).map(([, n]) => n));
    report.load = {
      requests: total, requestsPerSecond: total / options.seconds, p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99),
      errors, busy503: statuses.get(503) ?? 0, rssBeforeMb: rssBefore, rssAfterMb: rssAfter, rssGrowthMb: rssAfter - rssBefore,
    };

    const refused = await malformed(url);
    const healthy = (await send(`${url}/healthz`, 'GET', null)).status === 200;
    report.malformed = {
      requests: sum(refused.values()), statuses: Object.fromEntries(refused),
      all4xx: [...refused.keys()].every((s) => s >= 400 && s < 500), stillAnswers: healthy,
    };
    print(report, options.json);
  } finally {
    agent.destroy();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    scratch.removed();
  }
}

function print(report: Record<string, unknown>, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const r = report as {
    clients: number; seconds: number; firstPieceMs: { p50: number; p99: number };
    sample200: { servedTokensPerSecond: number; directTokensPerSecond: number; ratio: number };
    load: {
      requests: number; requestsPerSecond: number; p50Ms: number; p99Ms: number; errors: number; busy503: number;
      rssBeforeMb: number; rssAfterMb: number; rssGrowthMb: number;
    };
    malformed: { requests: number; statuses: Record<string, number>; all4xx: boolean; stillAnswers: boolean };
  };
  const lines = [
    `rnn serve on loopback, GRU 2×128 (${r.clients} clients × ${r.seconds} s)`,
    `  first streamed piece (warm)   p50 ${r.firstPieceMs.p50.toFixed(1)} ms, p99 ${r.firstPieceMs.p99.toFixed(1)} ms   (target < 50 ms)`,
    `  ${SAMPLE_TOKENS}-token sample, one client  ${r.sample200.servedTokensPerSecond.toFixed(0)} tokens/s served, ${r.sample200.directTokensPerSecond.toFixed(0)} in-process: ` +
      `${(100 * r.sample200.ratio).toFixed(0)} % (median of ${BLOCKS} alternating blocks)   (target >= 80 %)`,
    `  load                          ${r.load.requests} requests, ${r.load.requestsPerSecond.toFixed(1)} req/s, p50 ${r.load.p50Ms.toFixed(1)} ms, p99 ${r.load.p99Ms.toFixed(1)} ms`,
    `                                errors ${r.load.errors}, 503 (busy: queue full or time spent queued) ${r.load.busy503}   (target: 0 errors)`,
    `  server RSS                    ${r.load.rssBeforeMb.toFixed(1)} MB before, ${r.load.rssAfterMb.toFixed(1)} MB after: ` +
      `${r.load.rssGrowthMb >= 0 ? '+' : ''}${r.load.rssGrowthMb.toFixed(1)} MB   (target < 50 MB)`,
    `  malformed                     ${r.malformed.requests} requests: ${Object.entries(r.malformed.statuses).map(([s, n]) => `${n}× ${s}`).join(', ')}; ` +
      `all 4xx: ${r.malformed.all4xx ? 'yes' : 'NO'}; still answers: ${r.malformed.stillAnswers ? 'yes' : 'NO'}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
