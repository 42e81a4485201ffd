import { createHash } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { copyFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, ServerResponse, request as httpRequest } from 'node:http';
import { type Socket, connect } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadModel } from '../src/api/index.js';
import { resolveKernels } from '../src/engine/kernels/index.js';
import { lossCeiling, lossRange, niceTicks } from '../src/plot/scale.js';
import { formatTokenCount, offChartNote } from '../src/plot/svg.js';
import { isLoopback, listenAddress } from '../src/serve/access.js';
import { HttpError, drained } from '../src/serve/http.js';
import { type GenerateDone, type JobOf, servedModels, shareServedModel } from '../src/serve/jobs.js';
import {
  JobStoppedError, type PoolOptions, QueueFullError, STOP_GRACE_MS, ShuttingDownError, ThreadLostError, WORKER_SCRIPT, WorkerPool,
} from '../src/serve/pool.js';
import { RnnServer, type ServeOptions, jobFailure } from '../src/serve/server.js';
import { SERVE_SETTINGS } from '../src/serve/settings.js';
import { UnreadAnswers } from '../src/serve/unread.js';
import { ROOT, rnnIn } from './helpers/cli.js';
import { collect } from './helpers/generation.js';
import { scratchFolder } from './helpers/files.js';
import { type RunningServer, makeEosModel, makeLongWordModel, makeModels, post, request, serve } from './helpers/serve.js';

/**
 * `rnn serve` through real HTTP on a free loopback port: every endpoint against the CLI and
 * the library API on the same models, every kind of bad input, and the server's limits.
 */
vi.setConfig({ testTimeout: 60_000, hookTimeout: 120_000 });

const scratch = scratchFolder('rnn-serve-');
let models: Awaited<ReturnType<typeof makeModels>>;
let server: RunningServer;
const api = (path: string) => `${server.url}${path}`;
const servers: RunningServer[] = [];

async function started(args: string[]): Promise<RunningServer> {
  const s = await serve(scratch.dir, args);
  servers.push(s);
  return s;
}

/** makeLongWordModel's model, made once, by the first test that asks. */
let longWords: Promise<string> | undefined;
const longWordModel = () => (longWords ??= makeLongWordModel(scratch.dir));

beforeAll(async () => {
  models = await makeModels(scratch.dir);
  server = await started([
    '--checkpoint', `gru=${models.gru}`, '--checkpoint', `tiny=${models.tiny}`, '--checkpoint', `words=${models.words}`,
    '--workers', '2', '--max-len', '500', '--max-beam', '8',
  ]);
});

afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
});

/** A server in this process, its pool within reach, on a free loopback port: two threads, `--max-len` 100, else the defaults. */
function inProcess(served: ServeOptions['models'], options: Partial<ServeOptions> = {}): Promise<RnnServer> {
  return RnnServer.start({
    models: served, host: '127.0.0.1', port: 0, token: null, cors: null, allowedHosts: [], maxBody: 65536, maxLen: 100, maxBeam: 64,
    maxTextTokens: 8192, timeLimitMs: 60_000, workers: 2, queue: 4, maxConnections: 512, kernels: resolveKernels(), ...options,
  });
}

/**
 * An in-process server of the gru model on one thread whose pool starts with `pool` added to its
 * options (a misbehaving workerScript, a short stopGraceMs), and with `options` as inProcess's.
 */
async function withThreads(pool: Partial<PoolOptions>, options: Partial<ServeOptions> = {}): Promise<RnnServer> {
  const start = WorkerPool.start.bind(WorkerPool);
  const starts = vi.spyOn(WorkerPool, 'start').mockImplementation((given) => start({ ...given, ...pool }));
  return inProcess([{ name: 'gru', path: models.gru }], { workers: 1, ...options }).finally(() => starts.mockRestore());
}

/**
 * Runs `test` on the server `s` with what it writes to stderr held back (`said`: its lines so far), then
 * closes `s`, unless the test began to (`shutDown`: closes it, once, and gives what the test awaits).
 */
async function saying(s: RnnServer, test: (said: () => string[], shutDown: () => Promise<void>) => Promise<void>): Promise<void> {
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
  let closing: Promise<void> | undefined;
  try {
    await test(() => stderr.mock.calls.map(([line]) => String(line)), () => (closing ??= s.close()));
  } finally {
    stderr.mockRestore();
    if (!closing) await s.close();
  }
}

/** The generation threads of an in-process server, as its pool holds them. */
function poolOf(server: RnnServer): { slots: { worker: Worker }[]; spawn: () => Promise<unknown>; close: () => Promise<void>; run: WorkerPool['run'] } {
  return (server as unknown as { pool: ReturnType<typeof poolOf> }).pool;
}

/** The prime of a request that stuckWorker's thread is stuck in. */
const STUCK_PRIME = 'stuck';

/**
 * A generation thread's script that runs the pool's own (WORKER_SCRIPT) but is stuck, as in a
 * loop of synchronous code that never reads its control block, in a job whose prime is
 * STUCK_PRIME: at the job's first message, once it has sent it if it is pieces of text (a
 * stream begun), else before (an answer never sent).
 */
const stuckWorker = new URL(`data:text/javascript,${encodeURIComponent(`
  import { parentPort } from 'node:worker_threads';
  const post = parentPort.postMessage.bind(parentPort);
  let stuck = false;
  parentPort.on('message', ({ request }) => (stuck = request.options?.prime === ${JSON.stringify(STUCK_PRIME)}));
  parentPort.postMessage = (message, transfer) => {
    if (stuck && 'pieces' in message) post(message, transfer);
    if (stuck && 'id' in message) for (;;);
    post(message, transfer);
  };
  await import(${JSON.stringify(WORKER_SCRIPT.href)});
`)}`);

/** The prime of a request whose thread dyingWorker ends when the test says so. */
const DYING_PRIME = 'dying';

/**
 * A generation thread's script that runs the pool's own (WORKER_SCRIPT) but, handed a job whose
 * prime is DYING_PRIME, posts `{ dieWhen }`, a shared cell, waits until the test sets it, then
 * ends as a thread out of memory does (exit code 3), the job unanswered.
 */
const dyingWorker = new URL(`data:text/javascript,${encodeURIComponent(`
  import { parentPort } from 'node:worker_threads';
  parentPort.on('message', ({ request }) => {
    if (request.options?.prime !== ${JSON.stringify(DYING_PRIME)}) return;
    const dieWhen = new Int32Array(new SharedArrayBuffer(4));
    parentPort.postMessage({ dieWhen });
    Atomics.wait(dieWhen, 0, 0);
    process.exit(3);
  });
  await import(${JSON.stringify(WORKER_SCRIPT.href)});
`)}`);

/**
 * The shared cell a scripted thread posts as `{ [name]: cell }` (dyingWorker's `dieWhen`, lateTextWorker's `lateText`), once it
 * posts it: `next` moves it on by one and wakes the thread that waits on it.
 */
function threadCell(worker: Worker, name: 'dieWhen' | 'lateText'): Promise<{ next: () => void }> {
  return new Promise((resolve) => worker.on('message', (message: Record<string, unknown>) => {
    const cell = message[name];
    if (cell instanceof Int32Array) resolve({ next: () => (Atomics.add(cell, 0, 1), Atomics.notify(cell, 0)) });
  }));
}

/**
 * A generation thread's script that runs the pool's own (WORKER_SCRIPT) but posts a stream's first
 * text late, as a thread does that drew it before its job's stop and posts it after: it first posts
 * `{ lateText }`, a shared cell, and posts the text once the test sets the cell to 1, then goes on
 * (to its next wait point, where a held job waits) once the test sets it to 2.
 */
const lateTextWorker = new URL(`data:text/javascript,${encodeURIComponent(`
  import { parentPort } from 'node:worker_threads';
  const post = parentPort.postMessage.bind(parentPort);
  let first = true;
  parentPort.postMessage = (message, transfer) => {
    if (!first || !('pieces' in message)) return post(message, transfer);
    first = false;
    const lateText = new Int32Array(new SharedArrayBuffer(4));
    post({ lateText });
    Atomics.wait(lateText, 0, 0);
    post(message, transfer);
    Atomics.wait(lateText, 0, 1);
  };
  await import(${JSON.stringify(WORKER_SCRIPT.href)});
`)}`);

/** Resolves once the pool has taken a job (queued or started it), so that a close() after it waits for the job. */
function jobTaken(pool: ReturnType<typeof poolOf>): Promise<void> {
  const run = pool.run.bind(pool);
  return new Promise((resolve) => vi.spyOn(pool, 'run').mockImplementation((...job) => {
    const answer = run(...job);
    resolve();
    return answer;
  }));
}

/** Whether `closing` settles within `ms` (a close that waits for a job nobody ends would never). */
async function closesWithin(closing: Promise<void>, ms: number): Promise<boolean> {
  let bound: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (bound = setTimeout(() => resolve(false), ms)));
  return Promise.race([closing.then(() => true), late]).finally(() => clearTimeout(bound));
}

/** Sends `raw` bytes on a connection of their own and resolves with all the server answers before it closes. */
function rawExchange(url: string, raw: string, thenClose = false): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(raw);
      if (thenClose) socket.destroy();
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** The tokens of the sample a test holds: some 15 MB of makeLongWordModel's text, several times what a connection's buffers take. */
const HELD_LEN = 300_000;

/** The text of pausedLargeAnswer, and a --max-text-tokens that takes it (it is more tokens than the default). */
const LARGE_ANSWER_TEXT = 'To be, or not to be: that is the question. '.repeat(1400);
const LARGE_ANSWER_TOKENS = LARGE_ANSWER_TEXT.length;

/**
 * Asks `model` for the score of a 60 KB text with ten alternatives a prediction, an answer of some
 * 30 MB (more than the kernel's buffers of a connection hold), and resolves with the response
 * paused as its headers arrive (pausedAnswer).
 */
function pausedLargeAnswer(url: string, model: string): Promise<IncomingMessage> {
  return pausedAnswer(`${url}/v1/score`, { model, text: LARGE_ANSWER_TEXT, top: 10 });
}

/** POSTs `body` and resolves with the response paused as its headers arrive: its client reads nothing of the body until it resumes. */
function pausedAnswer(url: string, body: object): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST' }, (res) => {
      res.pause();
      res.on('error', () => {});
      resolve(res);
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

/** A paused response's body read from now on, and whether it arrived whole. */
function bodyOf(res: IncomingMessage): Promise<{ body: Buffer; complete: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('close', () => resolve({ body: Buffer.concat(chunks), complete: res.complete }));
    res.resume();
  });
}

/**
 * Watches the server's writes into its answers (ServerResponse.write, which still writes): `full`
 * resolves with the first answer a write found with its buffer full (it returned false: its
 * client had not taken what was written before).
 */
function watchWrites(): { full: Promise<ServerResponse>; restore: () => void } {
  const write = ServerResponse.prototype.write as (this: ServerResponse, ...args: unknown[]) => boolean;
  let filled!: (answer: ServerResponse) => void;
  const full = new Promise<ServerResponse>((resolve) => (filled = resolve));
  const spy = vi.spyOn(ServerResponse.prototype, 'write').mockImplementation(function (this: ServerResponse, ...args: unknown[]) {
    const room = write.apply(this, args);
    if (!room) filled(this);
    return room;
  } as never);
  return { full, restore: () => spy.mockRestore() };
}

/** A connection kept alive after one request it sent was answered: idle, open for the next. */
async function keptAlive(url: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  await askedAgain(socket, url);
  return socket;
}

/** Sends a GET /healthz on the kept-alive connection `socket` and resolves with its answer once whole, the connection kept alive. */
function askedAgain(socket: Socket, url: string): Promise<string> {
  const { host } = new URL(url);
  return new Promise((resolve, reject) => {
    let answer = '';
    const read = (chunk: Buffer) => {
      answer += chunk.toString();
      if (!/\r\n\r\n[^]*\n$/.test(answer)) return;
      socket.off('data', read);
      resolve(answer);
    };
    socket.on('data', read).on('error', reject);
    socket.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  });
}

/** Reads a streamed answer line by line until it ends, calling `onChunk` with the text so far. */
async function readStream(res: Response, onChunk: (text: string) => void = () => {}): Promise<string> {
  const reader = res.body!.getReader(), decoder = new TextDecoder();
  let text = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
    onChunk(text);
  }
}

/** Starts a streamed generation and resolves with its response once its first text has arrived. */
async function streamingGeneration(url: string, body: object, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const res = await fetch(`${url}/v1/generate`, { method: 'POST', body: JSON.stringify({ ...body, stream: 'ndjson' }), headers, signal: controller.signal });
  expect(res.status).toBe(200);
  const reader = res.body!.getReader();
  const first = await reader.read();
  expect(first.done).toBe(false);
  return { controller, reader };
}

describe('the endpoints', () => {
  it('GET /healthz and /v1/models: every model by name with its shape, level and loss history, no file paths, and the caps a request meets', async () => {
    expect((await request(api('/healthz'))).json).toEqual({ status: 'ok', threads: 2, running: 0, waiting: 0 });
    const answer = await request(api('/v1/models'));
    expect(answer.status).toBe(200);
    const list = (answer.json as { models: { name: string; level: string; model: { cell: string }; history: unknown[] }[] }).models;
    expect(list.map((m) => [m.name, m.level, m.model.cell])).toEqual([['gru', 'char', 'gru'], ['tiny', 'char', 'lstm'], ['words', 'word', 'gru']]);
    expect(list[1]!.history.length).toBeGreaterThanOrEqual(4);
    expect((answer.json as { limits: unknown }).limits).toEqual({ len: 500, beam: 8, textTokens: 8192 });
    expect(answer.text).not.toContain(scratch.dir);
  });

  it('POST /v1/generate: the text `rnn sample` draws with the same seed, and as server-sent events and NDJSON the same text in pieces', async () => {
    const body = { model: 'gru', prime: 'ROMEO:', len: 120, seed: 7, temperature: 0.8, topP: 0.9 };
    const whole = await post(api('/v1/generate'), body);
    expect(whole.status).toBe(200);
    const answer = whole.json as { text: string; tokens: number; finish: string; seed: number };
    expect(answer).toMatchObject({ tokens: 120, finish: 'length', seed: 7, unknownTokens: 0 });
    const cli = await rnnIn(scratch.dir, ['sample', '--checkpoint', models.gru, '--prime', 'ROMEO:', '--len', '120', '--seed', '7',
      '--temperature', '0.8', '--top-p', '0.9', '--workers', '1']);
    expect(cli.stdout).toBe(`ROMEO:${answer.text}`);

    const sse = await fetch(api('/v1/generate'), { method: 'POST', body: JSON.stringify(body), headers: { Accept: 'text/event-stream' } });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await readStream(sse)).split('\n\n').filter((e) => e !== '');
    const pieces = events.filter((e) => e.startsWith('data: ')).map((e) => (JSON.parse(e.slice(6)) as { text: string }).text);
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.join('')).toBe(answer.text);
    expect(events.at(-1)).toBe('event: done\ndata: {"tokens":120,"finish":"length","seed":7,"unknownTokens":0}');

    const ndjson = await fetch(api('/v1/generate'), { method: 'POST', body: JSON.stringify({ ...body, stream: 'ndjson' }) });
    const lines = (await readStream(ndjson)).trimEnd().split('\n').map((l) => JSON.parse(l) as { text?: string; done?: boolean; queuedSeconds?: number });
    expect(lines.slice(0, -1).map((l) => l.text).join('')).toBe(answer.text);
    expect(lines.at(-1)).toEqual({ done: true, tokens: 120, finish: 'length', seed: 7, unknownTokens: 0 });
    // the first event alone says how long the sample waited in the queue: not at all, a thread free for it
    const sent = events.map((e) => JSON.parse(e.slice(e.indexOf('data: ') + 6)) as { queuedSeconds?: number });
    for (const streamed of [sent, lines]) {
      expect(streamed.map((e) => e.queuedSeconds)).toEqual(streamed.map((_, i) => (i === 0 ? 0 : undefined)));
    }
  });

  it('POST /v1/generate streamed: each drawn <EOS> an event of its own, marked "eos": true, its text the line break that parts two of the model\'s lines', async () => {
    const path = makeEosModel(scratch.dir);
    const s = await inProcess([{ name: 'eos', path }], { workers: 1 });
    try {
      const body = { prime: 'ab', len: 100, seed: 5 };
      const pieces = await collect(loadModel(path).generatePieces(body));
      const drawn = pieces.filter((p) => p.eos).length;
      expect(drawn).toBeGreaterThan(5);
      const { text } = (await post(`${s.url}/v1/generate`, body)).json as { text: string };
      expect(text).toBe(pieces.map((p) => p.text).join(''));

      const ndjson = await fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ ...body, stream: 'ndjson' }) });
      const lines = (await readStream(ndjson)).trimEnd().split('\n').map((l) => JSON.parse(l) as { text?: string; eos?: boolean; done?: boolean });
      const sse = await fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify(body), headers: { Accept: 'text/event-stream' } });
      const events = (await readStream(sse)).split('\n\n').filter((e) => e.startsWith('data: ') && !e.startsWith('data: {"tokens"'))
        .map((e) => JSON.parse(e.slice(6)) as { text: string; eos?: boolean });
      for (const streamed of [lines.slice(0, -1), events] as { text?: string; eos?: boolean; queuedSeconds?: number }[][]) {
        // the first piece says too how long the sample waited for a thread (none here)
        expect(streamed[0]!.queuedSeconds).toBe(0);
        delete streamed[0]!.queuedSeconds;
        expect(streamed.map((e) => e.text).join('')).toBe(text);
        // the text between two <EOS>s comes in events of text alone, which hold no line break and no eos field
        expect(streamed.filter((e) => e.eos === true)).toEqual(Array.from({ length: drawn }, () => ({ text: '\n', eos: true })));
        for (const e of streamed.filter((e) => e.eos !== true)) expect(e).toEqual({ text: expect.stringMatching(/^[abcd]+$/) });
      }
      expect(lines.at(-1)).toMatchObject({ done: true, tokens: 100, finish: 'length' });
    } finally {
      await s.close();
    }
  });

  it('POST /v1/generate with stopAtEos ends at a drawn <EOS>; with beam: what `rnn sample --beam --json` finds', async () => {
    const eos = (await post(api('/v1/generate'), { model: 'tiny', len: 500, seed: 3, stopAtEos: true })).json as { tokens: number; finish: string };
    expect(eos.finish === 'eos' ? eos.tokens < 500 : eos.tokens === 500).toBe(true);
    const beam = await post(api('/v1/generate'), { model: 'gru', prime: 'KING', beam: 4, len: 30 });
    expect(beam.status).toBe(200);
    const cli = await rnnIn(scratch.dir, ['sample', '--checkpoint', models.gru, '--prime', 'KING', '--beam', '4', '--len', '30', '--json']);
    const expected = JSON.parse(cli.stdout) as { text: string; logProb: number; tokens: number };
    expect(beam.json).toMatchObject(expected);
  });

  it('POST /v1/score: ln P(text) as `rnn eval perplexity` gives it, each prediction with its most probable alternatives', async () => {
    const text = 'To be, or not to be: that is the question.';
    const answer = await post(api('/v1/score'), { model: 'gru', text, top: 5 });
    expect(answer.status).toBe(200);
    type Prediction = { token: string; text: string; logProb: number; top: { token: string; logProb: number }[] };
    const score = answer.json as { logProb: number; predictions: number; tokens: Prediction[] };
    const cli = await rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', models.gru, '--text', text, '--json', '--workers', '1']);
    const expected = JSON.parse(cli.stdout.split('\n')[0]!) as { logProb: number; tokens: number };
    expect(score.logProb).toBeCloseTo(expected.logProb, 9);
    expect(score.predictions).toBe(expected.tokens);
    expect(score.tokens.map((t) => t.text).join('')).toBe(text);
    expect(score.tokens.at(-1)!.token).toBe('<EOS>');
    expect(score.tokens.reduce((sum, t) => sum + t.logProb, 0)).toBeCloseTo(score.logProb, 9);
    for (const t of score.tokens) {
      expect(t.top).toHaveLength(5);
      for (let i = 1; i < 5; i++) expect(t.top[i]!.logProb).toBeLessThanOrEqual(t.top[i - 1]!.logProb);
      expect(t.logProb).toBeLessThanOrEqual(t.top[0]!.logProb);
      if (t.logProb > t.top[4]!.logProb) expect(t.top.map((a) => a.token)).toContain(t.token);
    }
  });

  it('a CRLF in a text given as a string reads as LF, as in a file: in a request, and in `rnn eval perplexity --text`', async () => {
    const lf = 'ROMEO:\nWhat light through yonder window breaks?\n', crlf = lf.replace(/\n/g, '\r\n');
    const [asLf, asCrlf] = await Promise.all([lf, crlf].map((text) => post(api('/v1/score'), { model: 'gru', text })));
    expect((asCrlf.json as { logProb: number }).logProb).toBe((asLf.json as { logProb: number }).logProb);
    writeFileSync(join(scratch.dir, 'crlf.txt'), crlf);
    const cli = await rnnIn(scratch.dir, ['eval', 'perplexity', '--checkpoint', models.gru, 'crlf.txt', '--text', crlf, '--json', '--workers', '1']);
    const [fromFile, fromFlag] = cli.stdout.trim().split('\n').map((line) => JSON.parse(line) as { logProb: number; tokens: number });
    expect(fromFlag!.logProb).toBe(fromFile!.logProb);
    expect(fromFlag!.tokens).toBe(lf.length + 1);
    expect(cli.stderr).toBe('');
  });

  it('POST /v1/activations: a unit (or the most active ones) after each token, as the library API reads them', async () => {
    const text = "Hello, 'world' again!";
    const one = (await post(api('/v1/activations'), { model: 'gru', text, layer: 1, unit: 17 })).json as {
      tokens: string[]; names: string[]; layer: number; hiddenSize: number; units: { unit: number; values: number[] }[];
    };
    expect(one.tokens.join('')).toBe(text);
    expect(one).toMatchObject({ layer: 1, hiddenSize: 128 });
    const local = loadModel(models.gru).activationsSync(text, 1);
    expect(one.names).toEqual(local.names);
    expect(one.names).toHaveLength(one.tokens.length);
    expect(one.units).toEqual([{ unit: 17, values: local.values.map((row) => row[17]) }]);
    const top = (await post(api('/v1/activations'), { model: 'gru', text, top: 3 })).json as typeof one;
    expect(top.units).toHaveLength(3);
    expect(new Set(top.units.map((u) => u.unit)).size).toBe(3);
    for (const u of top.units) for (const v of u.values) expect(Math.abs(v)).toBeLessThanOrEqual(1);
  });

  it('POST /v1/activations of a text with no token (empty; spaces alone at the word level): 200 with no token, no unit picked as most active', async () => {
    for (const [model, text] of [['gru', ''], ['words', ''], ['words', '   ']]) {
      const top = await post(api('/v1/activations'), { model, text, top: 3 });
      const none = expect.objectContaining({ tokens: [], names: [], units: [] });
      expect([model, text, top.status, top.json]).toEqual([model, text, 200, none]);
      const unit = await post(api('/v1/activations'), { model, text, unit: 2 });
      const asked = expect.objectContaining({ tokens: [], units: [{ unit: 2, values: [] }] });
      expect([model, text, unit.status, unit.json]).toEqual([model, text, 200, asked]);
    }
    // as /v1/score answers an empty text: its one prediction, the closing <EOS>
    const score = await post(api('/v1/score'), { model: 'gru', text: '' });
    const closing = expect.objectContaining({ token: '<EOS>', text: '' });
    expect([score.status, score.json]).toEqual([200, expect.objectContaining({ predictions: 1, tokens: [closing] })]);
  });

  it('POST /v1/complete and GET /generate?start_text=…&n=… answer the same n short continuations', async () => {
    const complete = await post(api('/v1/complete'), { model: 'gru', prefix: 'The ', n: 3, len: 12, seed: 5 });
    expect(complete.status).toBe(200);
    const answer = complete.json as { completions: string[]; seed: number };
    expect(answer.completions).toHaveLength(3);
    for (const c of answer.completions) expect([...c].length).toBeLessThanOrEqual(12);
    const legacy = await request(api('/generate?model=gru&start_text=The%20&n=3&len=12&seed=5'));
    expect(legacy.json).toEqual(answer);
    // no len: a completion's own default of 20 tokens, not a sample's 200
    const unbounded = await post(api('/v1/complete'), { model: 'gru', prefix: 'The ', n: 2, seed: 5 });
    const expected = loadModel(models.gru).completeSync({ prime: 'The ', n: 2, len: 20, seed: 5, stopAtEos: true });
    expect(unbounded.json).toEqual({ completions: expected, seed: 5, unknownTokens: 0 });
  });

  it('works at the word level: tokens are words, scored and generated', async () => {
    const words = loadModel(models.words).vocab.tokens.filter((t) => /^[a-z]{3,}$/.test(t)).slice(0, 6);
    const text = `The ${words.join(' ')}.`;
    const score = (await post(api('/v1/score'), { model: 'words', text })).json as { tokens: { token: string; text: string }[] };
    expect(score.tokens.map((t) => t.token)).toEqual(['The', ...words, '.', '<EOS>']);
    expect(score.tokens.map((t) => t.text).join('')).toBe(text);
    const sample = (await post(api('/v1/generate'), { model: 'words', prime: 'The', len: 15, seed: 1 })).json as { text: string; tokens: number };
    expect(sample.tokens).toBe(15);
    const cli = await rnnIn(scratch.dir, ['sample', '--checkpoint', models.words, '--prime', 'The', '--len', '15', '--seed', '1', '--workers', '1']);
    expect(cli.stdout).toBe(`The${sample.text}`);
  });

  it('says how many of a prime\'s tokens are outside the vocabulary, as `rnn sample` warns: sampled, streamed, completed and in a beam', async () => {
    const prime = 'The xyzzyq and the qwxzzy xyzzyq';
    const cli = await rnnIn(scratch.dir, ['sample', '--checkpoint', models.words, '--prime', prime, '--len', '3', '--seed', '1', '--workers', '1']);
    expect(cli.stderr).toMatch(/3 tokens/);
    const sample = (await post(api('/v1/generate'), { model: 'words', prime, len: 3, seed: 1 })).json as { unknownTokens: number };
    expect(sample.unknownTokens).toBe(3);
    const streamed = await fetch(api('/v1/generate'), { method: 'POST', body: JSON.stringify({ model: 'words', prime, len: 3, stream: 'ndjson' }) });
    expect(JSON.parse((await readStream(streamed)).trimEnd().split('\n').at(-1)!)).toMatchObject({ done: true, unknownTokens: 3 });
    expect((await post(api('/v1/complete'), { model: 'words', prefix: prime, n: 2, len: 3 })).json).toMatchObject({ unknownTokens: 3 });
    expect((await post(api('/v1/generate'), { model: 'words', prime, beam: 2, len: 3 })).json).toMatchObject({ unknownTokens: 3 });
    expect((await post(api('/v1/generate'), { model: 'words', prime: 'The', len: 3 })).json).toMatchObject({ unknownTokens: 0 });
  });

  it('says which fields given change nothing, as `rnn sample` warns of their flags: sampled, streamed, completed and in a beam; no warnings field where none', async () => {
    const noEffect = (field: string, temperature = 'temperature') =>
      `${field} has no effect with ${temperature} 0: it takes the most probable token, drawing nothing at random`;
    const body = { model: 'gru', prime: 'ROMEO:', len: 10, temperature: 0, topK: 5, seed: 7 };
    const cli = await rnnIn(scratch.dir, ['sample', '--checkpoint', models.gru, '--prime', 'ROMEO:', '--len', '10', '--temperature', '0',
      '--top-k', '5', '--seed', '7', '--workers', '1']);
    expect(cli.stderr).toContain(noEffect('--top-k', '--temperature'));
    const whole = (await post(api('/v1/generate'), body)).json as { text: string; warnings?: string[] };
    expect(whole.warnings).toEqual([noEffect('topK'), noEffect('seed')]);
    expect(cli.stdout).toBe(`ROMEO:${whole.text}`);
    const ndjson = await fetch(api('/v1/generate'), { method: 'POST', body: JSON.stringify({ ...body, stream: 'ndjson' }) });
    const lines = (await readStream(ndjson)).trimEnd().split('\n').map((l) => JSON.parse(l) as { warnings?: string[] });
    expect(lines.at(-1)).toMatchObject({ done: true, warnings: [noEffect('topK'), noEffect('seed')] });
    // in the done event alone
    expect(lines.slice(0, -1).filter((l) => l.warnings !== undefined)).toEqual([]);
    const sse = await fetch(api('/v1/generate'), { method: 'POST', body: JSON.stringify(body), headers: { Accept: 'text/event-stream' } });
    const events = (await readStream(sse)).split('\n\n').filter((e) => e !== '');
    expect(events.at(-1)).toBe(`event: done\ndata: {"tokens":10,"finish":"length","seed":7,"unknownTokens":0,"warnings":${JSON.stringify([noEffect('topK'), noEffect('seed')])}}`);

    // a completion's seed the server drew is none the request gave: topP alone is told
    const complete = (await post(api('/v1/complete'), { model: 'gru', prefix: 'The ', n: 2, len: 5, temperature: 0, topP: 0.9 })).json;
    expect(complete).toMatchObject({ warnings: [noEffect('topP')] });
    const legacy = await request(api('/generate?model=gru&start_text=The%20&n=2&len=5&seed=5&temperature=0&topK=3'));
    expect(legacy.json).toMatchObject({ warnings: [noEffect('topK'), noEffect('seed')] });

    const lengthPenalty = 'lengthPenalty has no effect without stopAtEos: every hypothesis then has the same length';
    const beam = { model: 'gru', prime: 'KING', beam: 2, len: 8 };
    const penalized = (await post(api('/v1/generate'), { ...beam, lengthPenalty: 0.5 })).json as { warnings?: string[] };
    expect(penalized.warnings).toEqual([lengthPenalty]);
    const { warnings: _, ...result } = penalized;
    expect(result).toEqual((await post(api('/v1/generate'), beam)).json);

    // fields that each change the result: no warnings field
    for (const [path, asked] of [
      ['/v1/generate', { ...body, temperature: 0.8 }], ['/v1/generate', { ...body, topK: undefined, seed: undefined }],
      ['/v1/complete', { model: 'gru', prefix: 'The ', n: 2, len: 5, temperature: 0 }], ['/v1/generate', { ...beam, stopAtEos: true, lengthPenalty: 0.5 }],
    ] as const) {
      const answer = await post(api(path), asked);
      expect(answer.status).toBe(200);
      expect(answer.json).not.toHaveProperty('warnings');
    }
  });

  it('serves the playground as one page, its style sheet and script written in and allowed by their hashes alone; nothing else by path', async () => {
    const page = await request(api('/'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    // nothing more to fetch from the server, on another connection
    expect(page.text.match(/(?:src|href)="[^"]+"/g)).toEqual(['href="data:,"']);
    const inline = (tag: string) => new RegExp(`<${tag}[^>]*>([^]*?)</${tag}>`).exec(page.text)![1]!;
    const hash = (text: string) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
    const folder = join(ROOT, 'src', 'serve', 'page');
    expect(inline('style')).toBe(readFileSync(join(folder, 'playground.css'), 'utf8'));
    // the script: playground.js, with rnn plot's tick rules written at its head as `plot`, each working alone
    const script = readFileSync(join(folder, 'playground.js'), 'utf8');
    expect(inline('script').endsWith(script)).toBe(true);
    const rules = { lossCeiling, lossRange, niceTicks, formatTokenCount, offChartNote };
    const plot = runInNewContext(`${inline('script').slice(0, -script.length)}; plot`) as typeof rules;
    expect(Object.keys(plot).sort()).toEqual(Object.keys(rules).sort());
    for (const sizes of [[], [74], [74, 10_000]]) expect(plot.lossCeiling(sizes)).toBe(lossCeiling(sizes));
    const spike = [[{ loss: 2000 }, { loss: 4.2 }, { loss: 3.9 }], [{ loss: 1500 }, { loss: 4.3 }]];
    for (const ceiling of [8.6, 1, Infinity]) expect(plot.lossRange(spike, ceiling)).toEqual(lossRange(spike, ceiling));
    for (const [lo, hi, target] of [[0, 1500, 6], [4.37, 4.52, 6], [4.37, 4.52, 4], [1.717, 1.717, 5], [0, 3e6, 4]] as const) {
      expect(plot.niceTicks(lo, hi, target)).toEqual(niceTicks(lo, hi, target));
    }
    for (const count of [0, 250, 1250, 999_999, 1_500_000, 12_345_678]) expect(plot.formatTokenCount(count)).toBe(formatTokenCount(count));
    expect(plot.offChartNote(2000, 3)).toBe(offChartNote(2000, 3));
    expect(page.headers.get('content-security-policy'))
      .toBe(`default-src 'self'; style-src ${hash(inline('style'))}; script-src ${hash(inline('script'))}; img-src 'self' data:`);
    for (const path of ['/playground.js', '/playground.css', '/../package.json', '/page/index.html', '/src/serve/page/index.html', '/%2e%2e/package.json']) {
      expect((await request(api(path))).status).toBe(404);
    }
  });
});

describe('bad input: one JSON line with a 4xx that names the field', () => {
  type Case = [string, string, string | null, number, string | null, RegExp];
  const cases: Case[] = [
    ['POST', '/v1/generate', '{"prime": "a",', 400, 'body', /not JSON/],
    ['POST', '/v1/generate', '[1, 2]', 400, 'body', /JSON object/],
    ['POST', '/v1/generate', '{"temperature": -1}', 400, 'temperature', /temperature: must be a number >= 0 \(got -1\)/],
    ['POST', '/v1/generate', '{"topP": 0}', 400, 'topP', /topP: must be a number in \(0, 1\]/],
    ['POST', '/v1/generate', '{"topK": 0.5}', 400, 'topK', /topK: must be a positive integer \(got 0.5\)/],
    ['POST', '/v1/generate', '{"len": 501}', 400, 'len', /len: must be at most 500/],
    ['POST', '/v1/generate', '{"len": 0}', 400, 'len', /len: must be a positive integer \(got 0\)/],
    ['POST', '/v1/generate', '{"beam": 9}', 400, 'beam', /beam: must be at most 8 \(the server's --max-beam\) \(got 9\)/],
    ['POST', '/v1/generate', '{"len": "lots"}', 400, 'len', /len: must be a positive integer \(got lots\)/],
    ['POST', '/v1/generate', '{"seed": -1}', 400, 'seed', /seed: must be an integer from 0/],
    ['POST', '/v1/generate', '{"unk": "hide"}', 400, 'unk', /resample or show/],
    ['POST', '/v1/generate', '{"stream": "xml"}', 400, 'stream', /sse or ndjson/],
    ['POST', '/v1/generate', '{"model": "nope"}', 400, 'model', /model "nope" is not served; the server has gru, tiny, words/],
    ['POST', '/v1/generate', '{"checkpoint": "/etc/passwd"}', 400, 'checkpoint', /unknown option checkpoint; the valid ones: model, prime, len, temperature/],
    // a long name comes back cut short, not echoed whole
    ['POST', '/v1/generate', `{"${'x'.repeat(200)}": 1}`, 400, 'x'.repeat(200), /^unknown option x{37}\.\.\.; the valid ones: model, /],
    // a field of another endpoint: the endpoints that take it, from their tables
    ['POST', '/v1/score', '{"text": "a", "n": 2}', 400, 'n', /^unknown option n: an option of \/v1\/complete or \/generate; the valid ones: model, text, top$/],
    ['POST', '/v1/score', '{"text": "a", "temperature": 1}', 400, 'temperature', /^unknown option temperature: an option of \/v1\/generate, \/v1\/complete or \/generate; the valid ones: model, text, top$/],
    ['POST', '/v1/complete', '{"prefix": "a", "text": "b"}', 400, 'text', /^unknown option text: an option of \/v1\/score or \/v1\/activations; the valid ones: model, prefix, n, len, /],
    ['POST', '/v1/activations', '{"text": "a", "prime": "b"}', 400, 'prime', /^unknown option prime: an option of \/v1\/generate; the valid ones: model, text, layer, unit, top$/],
    // torch-rnn-server's field, of GET /generate's query alone
    ['POST', '/v1/generate', '{"start_text": "a"}', 400, 'start_text', /^unknown option start_text: an option of \/generate; the valid ones: model, prime, len, /],
    ['GET', '/generate?start_text=a&beam=2', null, 400, 'beam', /^unknown option beam: an option of \/v1\/generate; the valid ones: start_text, model, n, /],
    ['POST', '/v1/generate', `{"model": "${'m'.repeat(200)}"}`, 400, 'model', /^model "m{36}\.\.\. is not served; the server has gru, tiny, words$/],
    ['POST', '/v1/generate', '{"beam": 2, "temperature": 1}', 400, 'temperature', /^temperature does not apply to beam \(a beam search draws nothing at random and never chooses <UNK>\): leave one out$/],
    ['POST', '/v1/generate', '{"beam": 2, "stream": "sse"}', 400, 'stream', /^stream does not apply to beam \(a beam search answers once, when it ends\): leave one out$/],
    ['POST', '/v1/generate', '{"lengthPenalty": 1}', 400, 'lengthPenalty', /^lengthPenalty needs beam$/],
    ['POST', '/v1/score', '{}', 400, 'text', /text is missing: give it as a string/],
    ['POST', '/v1/score', '{"text": "a", "top": 11}', 400, 'top', /top: must be an integer from 0 to 10/],
    // a layer or unit out of the model's, below, above or between two: one message, the model's range
    ['POST', '/v1/activations', '{"text": "a", "layer": -1}', 400, 'layer', /^layer: must be an integer from 0 to 1 \(got -1\)$/],
    ['POST', '/v1/activations', '{"text": "a", "layer": 0.5}', 400, 'layer', /^layer: must be an integer from 0 to 1 \(got 0.5\)$/],
    ['POST', '/v1/activations', '{"text": "a", "unit": 1.5}', 400, 'unit', /^unit: must be an integer from 0 to 127 \(got 1.5\)$/],
    ['POST', '/v1/activations', '{"model": "tiny", "text": "a", "unit": 2.5}', 400, 'unit', /^unit: must be an integer from 0 to 23 \(got 2.5\)$/],
    ['POST', '/v1/activations', '{"text": "a", "layer": 2}', 400, 'layer', /^layer: must be an integer from 0 to 1 \(got 2\)$/],
    ['POST', '/v1/activations', '{"text": "a", "unit": -1}', 400, 'unit', /^unit: must be an integer from 0 to 127 \(got -1\)$/],
    ['POST', '/v1/activations', '{"text": "a", "unit": 128}', 400, 'unit', /^unit: must be an integer from 0 to 127 \(got 128\)$/],
    ['POST', '/v1/activations', '{"model": "tiny", "text": "a", "unit": -1}', 400, 'unit', /^unit: must be an integer from 0 to 23 \(got -1\)$/],
    ['POST', '/v1/activations', '{"text": "a", "unit": 3, "top": 2}', 400, 'top', /top picks the most active units; unit names one/],
    ['POST', '/v1/complete', '{"prefix": "a", "n": 11}', 400, 'n', /n: must be an integer from 1 to 10/],
    ['POST', '/v1/complete', '{"n": 2}', 400, 'prefix', /prefix is missing/],
    ['POST', '/v1/complete', '{"prefix": "a", "len": 501}', 400, 'len', /len: must be at most 500/],
    // past what a number holds exactly, still the server's own cap
    ['POST', '/v1/generate', '{"len": 1e308}', 400, 'len', /^len: must be at most 500 \(the server's --max-len\) \(got 1e\+308\)$/],
    ['POST', '/v1/generate', '{"beam": 1e20}', 400, 'beam', /^beam: must be at most 8 \(the server's --max-beam\) \(got 100000000000000000000\)$/],
    ['POST', '/v1/score', '{"text": "a", "model": 5}', 400, 'model', /model: must be the name of a served model/],
    ['GET', '/generate?n=2', null, 400, 'start_text', /start_text is missing/],
    // a query's len, read from its text, meets the server's cap as a body's does
    ['GET', '/generate?start_text=a&len=501', null, 400, 'len', /^len: must be at most 500 \(the server's --max-len\) \(got 501\)$/],
    ['GET', '/v1/generate', null, 405, null, /GET is not allowed here; use POST/],
    ['POST', '/healthz', '{}', 405, null, /use GET/],
    ['GET', '/v1/nothing', null, 404, null, /^no such route: \/v1\/nothing; the API has \/v1\/models, /],
    // the nearest route, as the command line suggests a flag
    ['GET', '/v1/generat', null, 404, null, /^no such route: \/v1\/generat; did you mean \/v1\/generate\? the API has \/v1\/models, /],
    ['GET', '/v1/scores', null, 404, null, /^no such route: \/v1\/scores; did you mean \/v1\/score\? the API has /],
    ['GET', '/helthz', null, 404, null, /^no such route: \/helthz; did you mean \/healthz\? the API has /],
    // the folder the routes share is no near miss of one: the routes, plainly
    ...['/v1/', '/v1'].map((path): Case => ['GET', path, null, 404, null, new RegExp(`^no such route: ${path}; the API has /v1/models, /v1/generate, /v1/complete, /generate, /v1/score, /v1/activations, /healthz and the page at /$`)]),
    ['GET', '/v1/models/', null, 404, null, /^no such route: \/v1\/models\/; did you mean \/v1\/models\? the API has /],
  ];
  it.each(cases)('%s %s %s → %i (%s)', async (method, path, body, status, field, message) => {
    const answer = await request(api(path), { method, ...(body !== null && { body }) });
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.text).toMatch(/^[^\n]*\n$/);
    const json = answer.json as { error: string; field?: string };
    expect(json.error).toMatch(message);
    expect(json.field).toBe(field ?? undefined);
    expect(answer.text).not.toMatch(/ {4}at /);
  });

  it('answers each error docs/serve.md shows after its curl command, as the docs write it', async () => {
    const doc = readFileSync(join(ROOT, 'docs', 'serve.md'), 'utf8');
    const shown = [...doc.matchAll(/^ {4}curl -s (?:-X ([A-Z]+) )?localhost:8080(\/\S*).*\n {4}# (\{"error":.*\})$/gm)];
    expect(shown.map(([, method = 'GET', path]) => `${method} ${path}`)).toEqual(['GET /v1/generat', 'GET /v1/', 'GET /v1/generate', 'POST /healthz']);
    for (const [, method = 'GET', path, line] of shown) {
      const answer = await request(api(path!), { method });
      expect([method, path, answer.text]).toEqual([method, path, `${line}\n`]);
    }
  });

  it('HEAD of an API route is refused (405, Allow: GET), since it would run the job only to drop its answer; the page and /healthz take it', async () => {
    for (const path of ['/generate?start_text=a&n=2', '/v1/models']) {
      const answer = await request(api(path), { method: 'HEAD' });
      expect([path, answer.status, answer.headers.get('allow')]).toEqual([path, 405, 'GET']);
    }
    for (const path of ['/', '/healthz']) expect([path, (await request(api(path), { method: 'HEAD' })).status]).toEqual([path, 200]);
  });

  it('a 405 of the page or /healthz lists in its Allow header each method they answer: GET and HEAD', async () => {
    for (const path of ['/', '/healthz']) {
      const answer = await request(api(path), { method: 'POST', body: '{}' });
      expect([path, answer.status, answer.headers.get('allow')]).toEqual([path, 405, 'GET, HEAD']);
    }
  });

  it('a body\'s numbers and booleans are JSON\'s: each such field of every route given as a string is refused, naming it; a query\'s are read from its text', async () => {
    const given: [string, Record<string, unknown>, string, string, string][] = [
      ['/v1/generate', {}, 'len', '10', 'a positive integer'],
      ['/v1/generate', {}, 'temperature', '0.5', 'a number >= 0'],
      ['/v1/generate', {}, 'topK', '5', 'a positive integer'],
      ['/v1/generate', {}, 'topP', '0.9', 'a number in (0, 1]'],
      ['/v1/generate', {}, 'seed', '7', 'an integer from 0 to 4294967295'],
      ['/v1/generate', {}, 'stopAtEos', 'true', 'true or false'],
      ['/v1/generate', {}, 'beam', '2', 'a positive integer'],
      ['/v1/generate', { beam: 2 }, 'lengthPenalty', '1', 'a number >= 0'],
      ['/v1/complete', { prefix: 'a' }, 'n', '2', 'an integer from 1 to 10'],
      ['/v1/complete', { prefix: 'a' }, 'len', '5', 'a positive integer'],
      ['/v1/complete', { prefix: 'a' }, 'temperature', '0.5', 'a number >= 0'],
      ['/v1/complete', { prefix: 'a' }, 'topK', '5', 'a positive integer'],
      ['/v1/complete', { prefix: 'a' }, 'topP', '0.9', 'a number in (0, 1]'],
      ['/v1/complete', { prefix: 'a' }, 'seed', '7', 'an integer from 0 to 4294967295'],
      ['/v1/score', { text: 'a' }, 'top', '3', 'an integer from 0 to 10'],
      ['/v1/activations', { text: 'a' }, 'layer', '1', 'an integer from 0 to 1'],
      ['/v1/activations', { text: 'a' }, 'unit', '3', 'an integer from 0 to 127'],
      ['/v1/activations', { text: 'a' }, 'top', '2', 'an integer from 1 to 32'],
    ];
    for (const [path, rest, field, value, expected] of given) {
      const answer = await post(api(path), { model: 'gru', ...rest, [field]: value });
      expect([path, field, answer.status, answer.json]).toEqual([path, field, 400, { field, error: `${field}: must be ${expected} (got "${value}")` }]);
    }
    const legacy = await request(api('/generate?model=gru&start_text=a&n=2&len=5&temperature=0.5&topK=5&topP=0.9&seed=7'));
    expect(legacy.status).toBe(200);
    expect((legacy.json as { completions: string[] }).completions).toHaveLength(2);
  });

  it('a POST reads its fields from the JSON body alone: a field given in its query is refused naming it, not ignored', async () => {
    const answer = await post(api('/v1/generate?len=5'), { prime: 'a' });
    expect([answer.status, answer.json]).toEqual([400, { error: 'len: this route reads its fields from the JSON body, not from the query: give it there', field: 'len' }]);
    const unnamed = await post(api('/v1/score?=1'), { text: 'a' });
    expect([unnamed.status, unnamed.json]).toEqual([400, { error: '"": this route reads its fields from the JSON body, not from the query: give it there', field: '' }]);
    expect((await post(api('/v1/generate?'), { prime: 'a', len: 2 })).status).toBe(200);
  });

  it('GET /v1/models takes no fields: one given in its query is refused naming it, not ignored with every model listed', async () => {
    const answer = await request(api('/v1/models?name=gru'));
    expect([answer.status, answer.json]).toEqual([400, { error: 'name: this route takes no fields: leave the query out', field: 'name' }]);
    expect((await request(api('/v1/models?'))).status).toBe(200);
  });

  it('/healthz and the page read no query: one a probe or a link adds is answered as none is, where a health check refused would take a sound server out of service', async () => {
    const health = await request(api('/healthz'));
    for (const query of ['?_=1700000000', '?x=1', '?%FF']) {
      const answer = await request(api(`/healthz${query}`));
      expect([query, answer.status, answer.json]).toEqual([query, health.status, health.json]);
      expect([query, (await request(api(`/healthz${query}`), { method: 'HEAD' })).status]).toEqual([query, 200]);
    }
    const page = await request(api('/?utm_source=mail'));
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('a body that is not UTF-8 is refused naming the byte, not read with U+FFFD in its place', async () => {
    const body = Buffer.concat([Buffer.from('{"text": "ab'), Buffer.from([0xff]), Buffer.from('c"}')]);
    const answer = await request(api('/v1/score'), { method: 'POST', body });
    expect(answer.status).toBe(400);
    expect(answer.json).toEqual({ error: 'the body: not valid UTF-8 at byte offset 12 (line 1, byte 0xFF)', field: 'body' });
  });

  it('a query whose percent-decoded bytes are not UTF-8 is refused the same way, naming its field, the byte and its offset in the value', async () => {
    const advice = '; percent-encode it as UTF-8, as encodeURIComponent does';
    const refused: [string, object][] = [
      ['start_text=%ff&n=1', { error: `start_text: not valid UTF-8 once percent-decoded: %FF, byte 0 of its value${advice}`, field: 'start_text' }],
      ['start_text=ab%C3&n=1', { error: `start_text: not valid UTF-8 once percent-decoded: %C3, byte 2 of its value${advice}`, field: 'start_text' }],
      ['start_text=a&model=g%0Ar%ED%A0%80', { error: `model: not valid UTF-8 once percent-decoded: %ED, byte 3 of its value${advice}`, field: 'model' }],
      ['start_text=a&%FF=1', { error: `a name in the query: not valid UTF-8 once percent-decoded: %FF, byte 0 of the name${advice}`, field: 'query' }],
    ];
    for (const [query, json] of refused) {
      const answer = await request(api(`/generate?${query}`));
      expect([query, answer.status, answer.headers.get('content-type'), answer.json]).toEqual([query, 400, 'application/json; charset=utf-8', json]);
    }
    // UTF-8 percent-encoded, and '+' for a space, read as URLSearchParams reads them
    const accepted = await request(api('/generate?model=gru&start_text=%C3%A9t%C3%A9+%E2%82%AC&n=1&len=2&seed=1'));
    expect(accepted.status).toBe(200);
    const expected = loadModel(models.gru).completeSync({ prime: 'été €', n: 1, len: 2, seed: 1, stopAtEos: true });
    expect((accepted.json as { completions: string[] }).completions).toEqual(expected);
  });

  it('what node:http or the URL parser cannot read: one JSON line with a 4xx; a client gone mid-body is no error', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1']);
    const target = await rawExchange(s.url, 'GET http://[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(target).toMatch(/^HTTP\/1\.1 400 [^]*\r\n\r\n\{"error":"the request target must be a path such as \/v1\/generate \(got \\"http:\/\/\[\\"\)"\}\n$/);
    const path = await rawExchange(s.url, 'GET //[ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(path).toMatch(/^HTTP\/1\.1 404 [^]*\r\n\r\n\{"error":"no such route: \/\/\[; /);
    const length = await rawExchange(s.url, 'POST /v1/score HTTP/1.1\r\nHost: localhost\r\nContent-Length: abc\r\n\r\n');
    expect(length).toMatch(/^HTTP\/1\.1 400 Bad Request\r\nContent-Type: application\/json[^]*\r\n\r\n\{"error":"the request is not valid HTTP\/1\.1 \(HPE_[A-Z_]+\)"\}\n$/);
    expect((await request(`${s.url}//evil/healthz`)).status).toBe(404);
    await rawExchange(s.url, 'POST /v1/score HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n{"text": "abc', true);
    expect((await request(`${s.url}/healthz`)).status).toBe(200);
    expect(s.stderr()).toBe('');
  });

  it('a client whose headers never end is answered 408 as one JSON line once their time limit passes, not at node:http\'s check every 30 s', async () => {
    // the headers' limit is here the request's time limit and its margin, 5.3 s
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, timeLimitMs: 300 });
    try {
      const answer = await rawExchange(s.url, 'GET /healthz HTTP/1.1\r\nHost: localhost\r\n');
      expect(answer).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\nContent-Type: application\/json[^]*\r\n\r\n\{"error":"the request did not arrive in time"\}\n$/);
    } finally {
      await s.close();
    }
  });

  it('a connection refused for what node:http cannot read is closed whole, not left half-open for a client that never closes its end to hold a place', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxConnections: 1 });
    try {
      const { hostname, port } = new URL(s.url);
      // a client that reads the refusal to its end but never closes its own side
      const refused = await new Promise<string>((resolve, reject) => {
        const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true }, () => socket.write('NOT HTTP\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      expect(refused).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      const answer = await rawExchange(s.url, `GET /healthz HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`).catch((err: NodeJS.ErrnoException) => err.code);
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    } finally {
      await s.close();
    }
  });

  it('what node:http cannot read, sent while an answer on its connection streams, closes the connection with no status line written into that answer', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: HELD_LEN });
    try {
      const { hostname, port } = new URL(s.url);
      const body = JSON.stringify({ len: HELD_LEN, seed: 3, stream: 'ndjson' });
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => {
          socket.write(`POST /v1/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          if (text === '') socket.write('NOT HTTP\r\n\r\n');
          text += chunk.toString();
        });
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(answer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(answer.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 200']);
      expect((await request(`${s.url}/healthz`)).status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('a CONNECT, which node:http hands over as a bare connection, is refused with 405 as one JSON line, and the server still answers', async () => {
    for (const target of ['127.0.0.1:80', '/v1/score']) {
      const answer = await rawExchange(server.url, `CONNECT ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      expect(answer).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\nContent-Type: application\/json[^]*\r\nAllow: GET, POST\r\n[^]*\r\n\r\n/);
      expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({ error: 'CONNECT is not allowed: this server is no proxy, and its routes take GET or POST' });
    }
    expect((await request(api('/healthz'))).status).toBe(200);
  });

  it('an Expect header other than 100-continue is refused with 417 as one JSON line naming it; 100-continue is met', async () => {
    const body = '{"text":"a"}';
    const exchange = (expectation: string) => rawExchange(server.url, 'POST /v1/score HTTP/1.1\r\nHost: localhost\r\n' +
      `Expect: ${expectation}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    const refused = await exchange('x-wait');
    expect(refused).toMatch(/^HTTP\/1\.1 417 Expectation Failed\r\nContent-Type: application\/json[^]*\r\n\r\n/);
    expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toEqual({
      error: 'expect: this server meets only Expect: 100-continue (got "x-wait"); send the request without it', field: 'expect',
    });
    expect(await exchange('100-continue')).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 OK\r\n[^]*"predictions":2/);
  });

  it('a client that waits for 100 Continue is refused without it where its body would not be read: over --max-body, or no such route', async () => {
    const waiting = (path: string, bytes: number) => rawExchange(server.url, `POST ${path} HTTP/1.1\r\nHost: localhost\r\n` +
      `Expect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: ${bytes}\r\nConnection: close\r\n\r\n`);
    expect(await waiting('/v1/score', 10_000_000)).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n[^]*"field":"body"/);
    expect(await waiting('/v1/scores', 20)).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[^]*no such route/);
    expect((await request(api('/healthz'))).status).toBe(200);
  });

  it('a body in a Content-Encoding other than identity (gzip) is refused with 415 naming the header, never read as it came; identity is read', async () => {
    const body = JSON.stringify({ model: 'gru', len: 3, seed: 1 });
    for (const [encoding, bytes] of [['gzip', gzipSync(body)], ['br', body]] as const) {
      const answer = await request(api('/v1/generate'), { method: 'POST', body: bytes, headers: { 'Content-Encoding': encoding } });
      expect([encoding, answer.status, answer.headers.get('connection')]).toEqual([encoding, 415, 'close']);
      expect(answer.json).toEqual({
        field: 'content-encoding', error: `content-encoding: this server reads a body only as it is, not encoded (got "${encoding}"); send it without Content-Encoding`,
      });
    }
    // a content coding's name is case-insensitive (RFC 9110)
    for (const identity of ['identity', 'Identity']) {
      expect(await post(api('/v1/generate'), body, { 'Content-Encoding': identity })).toMatchObject({ status: 200, json: { tokens: 3 } });
    }
  });

  it('a body over 64 KB is refused with 413 before it is read whole, and the server still answers', async () => {
    const answer = await post(api('/v1/score'), { text: 'a'.repeat(70_000) });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ field: 'body', error: expect.stringMatching(/at most 65536/) });
    expect((await request(api('/healthz'))).status).toBe(200);
  });

  it('a body over 64 KB that declares no length (chunked) is refused with 413 once it passes the limit', async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ text: 'a'.repeat(70_000) }));
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += 8192) controller.enqueue(bytes.subarray(at, at + 8192));
        controller.close();
      },
    });
    const res = await fetch(api('/v1/score'), { method: 'POST', body, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(await res.json()).toEqual({ field: 'body', error: 'the body is over 65536 bytes, the most the server takes (its --max-body)' });
    expect((await request(api('/healthz'))).status).toBe(200);
  });
});

describe('limits, and threads that fail', () => {
  /** A pool of threads serving the gru model, with `options` (its workers, its queue…). */
  const gruPool = (options: Omit<PoolOptions, 'models' | 'kernels'>): Promise<WorkerPool> =>
    WorkerPool.start({ models: [shareServedModel({ name: 'gru', path: models.gru })], kernels: resolveKernels(), ...options });

  /** The lines a pool reports (its `report`), and `told`: once a line that matches `pattern` has been reported. */
  function poolReports(): { lines: string[]; report: (line: string) => void; told: (pattern: RegExp) => Promise<void> } {
    const lines: string[] = [], waiting: { pattern: RegExp; resolve: () => void }[] = [];
    const report = (line: string) => {
      lines.push(line);
      for (const wait of waiting.filter(({ pattern }) => pattern.test(line))) wait.resolve();
    };
    const told = (pattern: RegExp) => (lines.some((line) => pattern.test(line))
      ? Promise.resolve()
      : new Promise<void>((resolve) => waiting.push({ pattern, resolve })));
    return { lines, report, told };
  }

  /** A generation on `pool` that runs until `signal` stops it: `drawn` once its first text has come, a thread busy with it. */
  function endlessGeneration(pool: WorkerPool, signal: AbortSignal): { drawn: Promise<void>; done: ReturnType<WorkerPool['run']> } {
    let firstText!: () => void;
    const drawn = new Promise<void>((resolve) => (firstText = resolve));
    const done = pool.run({ kind: 'generate', model: 'gru', options: { len: 1_000_000, seed: 1 }, stream: true }, signal, () => firstText());
    return { drawn, done };
  }

  /**
   * `body` on a pool of one thread and a queue of `queue`, the thread busy with an endlessGeneration until `stop`
   * (`done` once it has stopped); the generation stopped and the pool closed after `body`, however it ends.
   */
  async function withBusyThread(
    queue: number, body: (pool: WorkerPool, busy: { stop: () => void; done: ReturnType<WorkerPool['run']> }) => Promise<void>,
  ): Promise<void> {
    const pool = await gruPool({ workers: 1, queue });
    const running = new AbortController();
    const stop = () => running.abort('time');
    try {
      const { drawn, done } = endlessGeneration(pool, running.signal);
      await drawn;
      await body(pool, { stop, done });
    } finally {
      stop();
      await pool.close();
    }
  }

  it("a held stream's pieces still in flight from its thread wait on one 'drain' of the answer, not a listener each", async () => {
    const res = new EventEmitter() as unknown as ServerResponse;
    const waits = Array.from({ length: 20 }, () => drained(res));
    expect(new Set(waits).size).toBe(1);
    expect([res.listenerCount('drain'), res.listenerCount('close')]).toEqual([1, 1]);
    res.emit('drain');
    await waits[0];
    expect([res.listenerCount('drain'), res.listenerCount('close')]).toEqual([0, 0]);
    expect(drained(res)).not.toBe(waits[0]);
  });

  it('a beam search that no memory holds, where --max-len lets its len through: 400 naming len, the longest that fits in the message', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: 1e12 });
    try {
      const answer = await post(`${s.url}/v1/generate`, { beam: 2, len: 1e12 });
      expect(answer.status).toBe(400);
      expect(answer.json).toMatchObject({ field: 'len', error: expect.stringMatching(/^len 1000000000000 with beam 2: .*; len \d+ is the longest that fits/) });
    } finally {
      await s.close();
    }
  });

  it('/healthz answers during a long generation, and a client that disconnects stops its generation', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--max-len', '1000000']);
    const { controller } = await streamingGeneration(s.url, { len: 1_000_000 });
    expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 1, waiting: 0 });
    const queued = fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ len: 5, seed: 1, stream: 'ndjson' }) });
    let waiting = 0;
    while (waiting !== 1) waiting = ((await request(`${s.url}/healthz`)).json as { waiting: number }).waiting;
    controller.abort();
    // the one thread is free again only once the generation has stopped; the one queued behind it says how long it waited
    const lines = (await readStream(await queued)).trimEnd().split('\n').map((l) => JSON.parse(l) as { queuedSeconds?: number; done?: boolean });
    expect(lines[0]!.queuedSeconds).toBeGreaterThan(0);
    expect(lines.at(-1)).toMatchObject({ tokens: 5, finish: 'length' });
  });

  it('a client that half-closes its side after its request is taken as gone: its generation stops, unanswered, as a closed one\'s would', async () => {
    // its FIN is the one a client that closed its socket whole sends: told apart from it, a long generation would run for nobody
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: 10_000_000, timeLimitMs: 30_000 });
    const jobs = vi.spyOn(poolOf(s), 'run');
    try {
      const { hostname, port } = new URL(s.url);
      const body = JSON.stringify({ len: 10_000_000, seed: 1 });
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true }, () => {
          socket.end(`POST /v1/generate HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        });
        let text = '';
        socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      // its status line, where one came
      expect(answer.split('\r\n')[0]).toBe('');
      const ended = await (jobs.mock.results[0]!.value as Promise<GenerateDone>).then(({ finish }) => finish, (err: unknown) => err instanceof JobStoppedError && 'stopped');
      expect(ended).toBe('stopped');
    } finally {
      await s.close();
    }
  });

  it('a sample answered whole says how long it waited in the queue for a thread, as a stream\'s first event does: 0 where one was free', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: 1_000_000 });
    try {
      const free = await post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      // the stream's fields in the order its events give them: the first's text and wait, then the end's
      expect(free.json).toEqual({ text: expect.any(String), queuedSeconds: 0, tokens: 5, finish: 'length', seed: 1, unknownTokens: 0 });
      expect(Object.keys(free.json as object)).toEqual(['text', 'queuedSeconds', 'tokens', 'finish', 'seed', 'unknownTokens']);
      const { controller } = await streamingGeneration(s.url, { len: 1_000_000 });
      const queued = post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      let waiting = 0;
      while (waiting !== 1) waiting = ((await request(`${s.url}/healthz`)).json as { waiting: number }).waiting;
      controller.abort();
      const answer = (await queued).json as { text: string; queuedSeconds: number };
      expect(answer).toMatchObject({ text: (free.json as { text: string }).text, tokens: 5, finish: 'length' });
      expect(answer.queuedSeconds).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('a streaming client that stops reading holds its generation: nothing more is drawn until it reads again, then the sample goes on whole', async () => {
    const s = await inProcess([{ name: 'long', path: await longWordModel() }], { workers: 2, maxLen: HELD_LEN });
    const writes = watchWrites();
    let res: IncomingMessage | undefined;
    try {
      res = await pausedAnswer(`${s.url}/v1/generate`, { len: HELD_LEN, seed: 3, stream: 'ndjson' });
      const answer = await writes.full;
      // the other thread draws the same sample meanwhile; one not held would be drawn whole too, all
      // but what the connection took held in the answer's buffer, for a client that is not reading
      const { text } = (await post(`${s.url}/v1/generate`, { len: HELD_LEN, seed: 3 })).json as { text: string };
      expect(answer.writableLength).toBeLessThan(text.length / 4);
      // a shutdown waits for the held stream, which its client now reads to its end
      const closing = s.close();
      const { body, complete } = await bodyOf(res);
      const lines = body.toString().trimEnd().split('\n').map((line) => JSON.parse(line) as { text?: string });
      const streamed = lines.slice(0, -1).map((line) => line.text).join('');
      expect([complete, streamed.length, streamed === text]).toEqual([true, text.length, true]);
      expect(lines.at(-1)).toEqual({ done: true, tokens: HELD_LEN, finish: 'length', seed: 3, unknownTokens: 0 });
      await closing;
    } finally {
      writes.restore();
      res?.destroy();
      await s.close();
    }
  });

  it('a held generation still ends at the time limit, its thread free for the next request; a client that reads again gets its end, finish "time"', async () => {
    const s = await inProcess([{ name: 'long', path: await longWordModel() }], { workers: 1, maxLen: 10_000_000, timeLimitMs: 2000 });
    const writes = watchWrites(), jobs = vi.spyOn(poolOf(s), 'run');
    let res: IncomingMessage | undefined;
    try {
      res = await pausedAnswer(`${s.url}/v1/generate`, { len: 10_000_000, seed: 4, stream: 'ndjson' });
      await writes.full;
      const stopped = await (jobs.mock.results[0]!.value as Promise<GenerateDone>);
      expect(stopped.finish).toBe('stopped');
      expect(await post(`${s.url}/v1/generate`, { len: 5, seed: 1 })).toMatchObject({ status: 200, json: { tokens: 5, finish: 'length' } });
      const { body, complete } = await bodyOf(res);
      expect(complete).toBe(true);
      expect(JSON.parse(body.toString().trimEnd().split('\n').at(-1)!)).toEqual({ done: true, tokens: stopped.tokens, finish: 'time', seed: 4, unknownTokens: 0 });
    } finally {
      writes.restore();
      res?.destroy();
      await s.close();
    }
  });

  it('beyond its queue it answers 503 with Retry-After; the time limit ends a generation early', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--queue', '0', '--max-len', '1000000', '--time-limit', '1']);
    const { controller, reader } = await streamingGeneration(s.url, { len: 1_000_000 });
    const refused = await post(`${s.url}/v1/score`, { text: 'abc' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.json).toMatchObject({ error: expect.stringMatching(/queue is full/) });
    let rest = '';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest += new TextDecoder().decode(value);
    }
    const end = JSON.parse(rest.trimEnd().split('\n').at(-1)!) as { done: boolean; finish: string; tokens: number };
    expect(end).toMatchObject({ done: true, finish: 'time' });
    expect(end.tokens).toBeLessThan(1_000_000);
    controller.abort();
  });

  it('a generation whose time limit passes while it waits in the queue is answered like a full queue: 503 with Retry-After, not finish "time"', async () => {
    await withBusyThread(1, async (pool, busy) => {
      const waiting = new AbortController();
      const queued = pool.run({ kind: 'generate', model: 'gru', options: { len: 5, seed: 2 }, stream: false }, waiting.signal);
      expect(pool.load).toEqual({ threads: 1, running: 1, waiting: 1 });
      const beyond = pool.run({ kind: 'score', model: 'gru', text: 'abc', maxTokens: 8192, top: 0 }, new AbortController().signal);
      await expect(beyond).rejects.toBeInstanceOf(QueueFullError);
      waiting.abort('time');
      const stopped = await queued.then(() => null, (err: unknown) => err);
      expect(stopped).toBeInstanceOf(JobStoppedError);
      expect(pool.load).toEqual({ threads: 1, running: 1, waiting: 0 });
      const answer = jobFailure(stopped, 300) as HttpError;
      expect(answer).toBeInstanceOf(HttpError);
      expect([answer.status, answer.headers, answer.message]).toEqual([503, { 'Retry-After': '1' },
        'every generation thread was busy for the whole time limit of 0.3s, which the request spent waiting in the queue: try again shortly']);
      busy.stop();
      expect(await busy.done).toMatchObject({ finish: 'stopped' });
    });
  });

  it('a request that reaches the pool while the server shuts down is answered 503 that closes the connection, not asked to try again', async () => {
    const pool = await gruPool({ workers: 1, queue: 1 });
    await pool.close();
    const refused = await pool.run({ kind: 'score', model: 'gru', text: 'abc', maxTokens: 8192, top: 0 }, new AbortController().signal)
      .then(() => null, (err: unknown) => err);
    expect(refused).toBeInstanceOf(ShuttingDownError);
    const answer = jobFailure(refused, 300) as HttpError;
    expect([answer.status, answer.headers, answer.message]).toEqual([503, { Connection: 'close' }, 'the server is shutting down: it starts no more requests']);
  });

  it('a job whose signal fired before it reached the pool is refused as stopped in the queue, never run; with a queue of 0, a free thread still takes a job and the next is refused', async () => {
    const pool = await gruPool({ workers: 1, queue: 0 });
    try {
      const score = { kind: 'score', model: 'gru', text: 'abc', maxTokens: 8192, top: 0 } as const;
      const gone = new AbortController();
      gone.abort('client gone');
      const stopped = await pool.run(score, gone.signal).then(() => null, (err: unknown) => err);
      expect(stopped).toBeInstanceOf(JobStoppedError);
      expect((stopped as JobStoppedError).queued).toBe(true);
      const [taken, beyond] = await Promise.allSettled([0, 1].map(() => pool.run(score, new AbortController().signal)));
      expect([taken.status, beyond.status === 'rejected' && beyond.reason instanceof QueueFullError]).toEqual(['fulfilled', true]);
    } finally {
      await pool.close();
    }
  });

  it('jobs waiting in the queue are taken by a thread in the order they came', async () => {
    await withBusyThread(2, async (pool, busy) => {
      const started: string[] = [];
      const queued = ['first', 'second'].map((text) =>
        pool.run({ kind: 'score', model: 'gru', text, maxTokens: 8192, top: 0 }, new AbortController().signal, undefined, () => started.push(text)));
      expect(pool.load).toEqual({ threads: 1, running: 1, waiting: 2 });
      busy.stop();
      await Promise.all([busy.done, ...queued]);
      expect(started).toEqual(['first', 'second']);
    });
  });

  it('text a thread posts after its job was stopped holds nothing, its client not reading: the thread ends the job as stopped, not ended as stuck a grace later', async () => {
    const { lines, report } = poolReports();
    const pool = await gruPool({ workers: 1, queue: 1, workerScript: lateTextWorker, stopGraceMs: 1000, report });
    const threads = pool as unknown as ReturnType<typeof poolOf>, running = new AbortController();
    try {
      const thread = threadCell(threads.slots[0]!.worker, 'lateText');
      let told!: () => void;
      const late = new Promise<void>((resolve) => (told = resolve));
      const unread = () => {
        told();
        return new Promise<never>(() => {});
      };
      const generation = { kind: 'generate', model: 'gru', options: { len: 1_000_000, seed: 1 }, stream: true } as const;
      const done = pool.run(generation, running.signal, unread);
      const { next } = await thread;
      running.abort('time');
      next();
      await late;
      next();
      expect(await done.then((answer) => answer, (err: unknown) => err)).toMatchObject({ finish: 'stopped' });
      expect(lines).toEqual([]);
    } finally {
      running.abort('time');
      await pool.close();
    }
  });

  it('a thread that cannot be started again while another still runs: the job waiting stays in the queue for the thread that runs, not refused', async () => {
    const { lines, report, told } = poolReports();
    const pool = await gruPool({ workers: 2, queue: 1, report });
    const threads = pool as unknown as ReturnType<typeof poolOf>, running = [new AbortController(), new AbortController()];
    try {
      const drawing = running.map((controller) => {
        const { drawn, done } = endlessGeneration(pool, controller.signal);
        return { drawn, ended: done.then(() => null, (err: unknown) => err) };
      });
      await Promise.all(drawing.map(({ drawn }) => drawn));
      const queued = pool.run({ kind: 'generate', model: 'gru', options: { len: 5, seed: 1 }, stream: false }, new AbortController().signal);
      vi.spyOn(threads, 'spawn').mockRejectedValue(new Error('out of file descriptors'));
      await threads.slots[0]!.worker.terminate();
      await told(/could not start/);
      expect(lines.at(-1)).toBe('a generation thread could not start (out of file descriptors): 1 of 2 run; another is tried at the next request');
      expect(pool.load).toEqual({ threads: 1, running: 1, waiting: 1 });
      running[1]!.abort('time');
      expect(await queued).toMatchObject({ tokens: 5, finish: 'length' });
      expect(await drawing[0]!.ended).toBeInstanceOf(ThreadLostError);
    } finally {
      for (const controller of running) controller.abort('time');
      await pool.close();
    }
  });

  it('close() while a thread is started in place of one that ended waits for it, then ends it too: no thread runs once close() has ended', async () => {
    const { lines, report, told } = poolReports();
    const pool = await gruPool({ workers: 1, queue: 1, report });
    const threads = pool as unknown as ReturnType<typeof poolOf>, spawn = threads.spawn.bind(threads);
    let fresh!: Promise<{ worker: Worker }>;
    vi.spyOn(threads, 'spawn').mockImplementation(() => (fresh = spawn() as Promise<{ worker: Worker }>));
    await threads.slots[0]!.worker.terminate();
    await told(/starting another/);
    expect(lines).toEqual(['a generation thread ended (exit code 1): starting another']);
    await pool.close();
    const { worker } = await fresh;
    expect([pool.load.threads, worker.threadId]).toEqual([0, -1]);
  });

  it('close() while a thread that will not start is tried in place of one that ended: close() ends once it has failed, said without a retry', async () => {
    const { lines, report, told } = poolReports();
    const pool = await gruPool({ workers: 1, queue: 1, report });
    const threads = pool as unknown as ReturnType<typeof poolOf>;
    let fail!: (err: Error) => void;
    vi.spyOn(threads, 'spawn').mockImplementation(() => new Promise((_, reject) => (fail = reject)));
    await threads.slots[0]!.worker.terminate();
    await told(/starting another/);
    const closing = pool.close();
    fail(new Error('out of file descriptors'));
    expect(await closesWithin(closing, 5000)).toBe(true);
    expect(lines).toEqual(['a generation thread ended (exit code 1): starting another', 'a generation thread could not start (out of file descriptors): 0 of 1 run']);
  });

  it('a pool one of whose threads cannot start is not started, and the threads that did start are ended', async () => {
    // of the two threads, the one that finds the mark the other made fails as it starts
    const mark = join(scratch.dir, 'one-thread-started');
    const halfStarting = new URL(`data:text/javascript,${encodeURIComponent(`
      import { openSync } from 'node:fs';
      try { openSync(${JSON.stringify(mark)}, 'wx'); } catch { throw new Error('out of memory'); }
      await import(${JSON.stringify(WORKER_SCRIPT.href)});
    `)}`);
    const spawn = vi.spyOn(WorkerPool.prototype as unknown as { spawn: () => Promise<{ worker: Worker }> }, 'spawn');
    try {
      const refused = await gruPool({ workers: 2, queue: 1, workerScript: halfStarting }).then(() => null, (err: unknown) => err);
      expect((refused as Error).message).toBe('out of memory');
      const slots = await Promise.allSettled(spawn.mock.results.map(({ value }) => value as Promise<{ worker: Worker }>));
      expect(slots.map((slot) => (slot.status === 'fulfilled' ? slot.value.worker.threadId : 'not started'))).toEqual(expect.arrayContaining([-1, 'not started']));
      expect(slots).toHaveLength(2);
    } finally {
      spawn.mockRestore();
    }
  });

  it('the time limit stops a beam search between tokens and a generation while it reads a long prime', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--max-len', '100000', '--time-limit', '0.3']);
    const beam = await post(`${s.url}/v1/generate`, { beam: 64, len: 100_000 });
    expect(beam.status).toBe(503);
    expect(beam.headers.get('retry-after')).toBeNull();
    expect(beam.json).toEqual({ error: 'the request ran past the time limit of 0.3s' });
    const primed = await post(`${s.url}/v1/generate`, { prime: 'ROMEO: '.repeat(9000), len: 1 });
    expect(primed.json).toMatchObject({ tokens: 0, finish: 'time' });
    // streamed, its one event is its end, which says too how long it waited for a thread
    const streamed = await fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ prime: 'ROMEO: '.repeat(9000), len: 1, stream: 'ndjson' }) });
    expect(JSON.parse(await streamed.text())).toEqual({ done: true, tokens: 0, finish: 'time', seed: expect.any(Number), unknownTokens: 0, queuedSeconds: 0 });
    // the thread is free for the next request as soon as the first has stopped
    expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 0, waiting: 0 });
  });

  it('a request the time limit stops once a thread took it, after a wait in the queue: its 503 says how much of the limit that wait took', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: 1_000_000, timeLimitMs: 1000 });
    try {
      const { controller } = await streamingGeneration(s.url, { len: 1_000_000 });
      const beam = post(`${s.url}/v1/generate`, { beam: 64, len: 100_000 });
      let waiting = 0;
      while (waiting !== 1) waiting = ((await request(`${s.url}/healthz`)).json as { waiting: number }).waiting;
      controller.abort();
      const answer = await beam;
      expect([answer.status, answer.headers.get('retry-after')]).toEqual([503, null]);
      const { error } = answer.json as { error: string };
      const said = /^the request ran past the time limit of 1s, (\d+(?:\.\d+)?)s of it waiting in the queue for a generation thread$/;
      expect(error).toMatch(said);
      expect(Number(said.exec(error)![1])).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });

  it('a thread that ends while it runs a request: that request ends without its end event, it is said on stderr, and a fresh thread serves the next', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxLen: 1_000_000 });
    await saying(s, async (said) => {
      const pool = poolOf(s);
      const { controller, reader } = await streamingGeneration(s.url, { len: 1_000_000 });
      await pool.slots[0]!.worker.terminate();
      let streamed = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) streamed += new TextDecoder().decode(chunk.value);
      controller.abort();
      expect(streamed).not.toMatch(/"done"/);
      expect(said()).toContain('rnn serve: a generation thread ended (exit code 1) while it ran a request: starting another\n');
      const next = await post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      expect(next.status).toBe(200);
      expect(next.json).toMatchObject({ tokens: 5 });
      expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 0, waiting: 0 });
    });
  });

  it('a thread stuck in a request (code that never reads the stop): ended a grace after the time limit, the request answered 500 or its stream ended, said on stderr, and a fresh thread serves the next', async () => {
    const s = await withThreads({ workerScript: stuckWorker, stopGraceMs: 200 }, { timeLimitMs: 300 });
    await saying(s, async (said) => {
      // each thread started in a stuck one's place, once it has loaded the model
      const pool = poolOf(s), spawn = pool.spawn.bind(pool), spawned: Promise<unknown>[] = [];
      vi.spyOn(pool, 'spawn').mockImplementation(() => {
        spawned.push(spawn());
        return spawned.at(-1)!;
      });
      const ended = 'the request ran past the time limit of 0.3s, and its generation thread had not stopped 0.2s later: ' +
        'the thread was ended, and another started in its place';
      const stuckThreadEnded = once(pool.slots[0]!.worker, 'exit').then(() => {});
      const asked = performance.now();
      const whole = await post(`${s.url}/v1/generate`, { prime: STUCK_PRIME, len: 5 });
      expect([whole.status, whole.headers.get('retry-after'), whole.json]).toEqual([500, null, { error: ended }]);
      // the pool's grace (0.2s), not STOP_GRACE_MS's
      expect(performance.now() - asked).toBeLessThan(STOP_GRACE_MS / 2);
      expect(await closesWithin(stuckThreadEnded, 5000)).toBe(true);
      await spawned[0];
      expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 0, waiting: 0 });
      const streamed = await fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ prime: STUCK_PRIME, len: 5, stream: 'ndjson' }) });
      expect(streamed.status).toBe(200);
      const lines = (await readStream(streamed)).trimEnd().split('\n').map((line) => JSON.parse(line) as object);
      expect(lines).toEqual([{ text: expect.any(String), queuedSeconds: 0 }]);
      await spawned[1];
      const next = await post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      expect([next.status, next.json]).toMatchObject([200, { tokens: 5, finish: 'length' }]);
      expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 0, waiting: 0 });
      const line = 'rnn serve: a generation thread was still running its request 0.2s after it was stopped: ending it, starting another\n';
      expect(said()).toEqual([line, line]);
    });
  });

  it('a thread that ends while the server shuts down: its request answered 500, the one waiting served by a fresh thread, and close() ends; the threads close() ends are not started again', async () => {
    const s = await withThreads({ workerScript: dyingWorker });
    await saying(s, async (said, shutDown) => {
      const pool = poolOf(s), spawned = vi.spyOn(pool, 'spawn');
      const thread = threadCell(pool.slots[0]!.worker, 'dieWhen');
      const dying = post(`${s.url}/v1/generate`, { prime: DYING_PRIME, len: 5 });
      const { next: die } = await thread;
      const queued = jobTaken(pool);
      const waiting = post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      await queued;
      expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'ok', threads: 1, running: 1, waiting: 1 });
      const closing = shutDown();
      die();
      expect(await closesWithin(closing, 20_000)).toBe(true);
      const lost = await dying;
      expect([lost.status, lost.json]).toEqual([500, { error: 'the generation thread running it ended (exit code 3)' }]);
      expect(await waiting).toMatchObject({ status: 200, json: { tokens: 5, finish: 'length' } });
      expect(spawned).toHaveBeenCalledTimes(1);
      expect(said()).toEqual([
        'rnn serve: a generation thread ended (exit code 3) while it ran a request: starting another\n',
      ]);
    });
  });

  it('a thread stuck in a request while the server shuts down with nothing waiting: ended a grace after the time limit, the request answered 500, none started in its place, and close() ends', async () => {
    const s = await withThreads({ workerScript: stuckWorker, stopGraceMs: 200 }, { timeLimitMs: 300 });
    await saying(s, async (said, shutDown) => {
      const pool = poolOf(s), spawned = vi.spyOn(pool, 'spawn'), taken = jobTaken(pool);
      const stuck = post(`${s.url}/v1/generate`, { prime: STUCK_PRIME, len: 5 });
      await taken;
      const closing = shutDown();
      expect(await closesWithin(closing, 20_000)).toBe(true);
      const ended = 'the request ran past the time limit of 0.3s, and its generation thread had not stopped 0.2s later: the thread was ended';
      expect(await stuck).toMatchObject({ status: 500, json: { error: ended } });
      expect(spawned).not.toHaveBeenCalled();
      expect(said()).toEqual([
        'rnn serve: a generation thread was still running its request 0.2s after it was stopped: ending it, none is started in its place, for the server is shutting down\n',
      ]);
    });
  });

  it('a thread that ends while the pool closes with nothing waiting: its job fails, none is started in its place, and close() ends', async () => {
    const { lines, report } = poolReports();
    const pool = await gruPool({ workers: 2, queue: 1, workerScript: dyingWorker, report });
    const threads = pool as unknown as ReturnType<typeof poolOf>, spawned = vi.spyOn(threads, 'spawn');
    const thread = Promise.race(threads.slots.map((slot) => threadCell(slot.worker, 'dieWhen')));
    const job = pool.run({ kind: 'generate', model: 'gru', options: { prime: DYING_PRIME, len: 5 }, stream: false }, new AbortController().signal);
    const failed = job.then(() => null, (err: unknown) => err);
    const { next: die } = await thread;
    const closing = pool.close();
    die();
    expect(await closesWithin(closing, 20_000)).toBe(true);
    const err = await failed;
    expect([err instanceof ThreadLostError, (err as Error).message]).toEqual([true, 'the generation thread running it ended (exit code 3)']);
    expect(spawned).not.toHaveBeenCalled();
    expect(lines).toEqual(['a generation thread ended (exit code 3) while it ran a request: none is started in its place, for the server is shutting down']);
  });

  it('a thread that cannot be started again: the pool says so, refuses what waits with 503, /healthz says down, and the next request tries again', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }]);
    await saying(s, async (said) => {
      const pool = poolOf(s);
      const spawn = vi.spyOn(pool, 'spawn').mockRejectedValue(new Error('out of file descriptors'));
      const lost = (count: number) => new Promise<void>((resolve) => {
        const check = () => (said().filter((line) => /could not start/.test(line)).length >= count ? resolve() : setImmediate(check));
        check();
      });
      await pool.slots[0]!.worker.terminate();
      await lost(1);
      expect((await request(`${s.url}/healthz`)).json).toEqual({ status: 'degraded', threads: 1, running: 0, waiting: 0 });
      await pool.slots[0]!.worker.terminate();
      await lost(2);
      const down = await request(`${s.url}/healthz`);
      expect([down.status, down.json]).toEqual([503, { status: 'down', threads: 0, running: 0, waiting: 0 }]);
      expect(said()).toContain(
        'rnn serve: a generation thread could not start (out of file descriptors): 0 of 2 run; another is tried at the next request\n');
      const refused = await post(`${s.url}/v1/generate`, { len: 5 });
      expect([refused.status, refused.headers.get('retry-after'), refused.json]).toEqual([503, '1', {
        error: 'no generation thread runs: the last could not start (out of file descriptors): try again shortly',
      }]);
      spawn.mockRestore();
      const served = await post(`${s.url}/v1/generate`, { len: 5, seed: 1 });
      expect([served.status, served.json]).toMatchObject([200, { tokens: 5 }]);
      // the request started both threads again; the one it did not run on may still be loading
      let health = await request(`${s.url}/healthz`);
      for (let asked = 1; (health.json as { threads: number }).threads < 2 && asked < 1000; asked++) health = await request(`${s.url}/healthz`);
      expect(health.json).toEqual({ status: 'ok', threads: 2, running: 0, waiting: 0 });
    });
  });

  it('--max-connections: a connection beyond a cap held by connections yet to send a request is closed unanswered, and one is served again once another has closed', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--max-connections', '2']);
    const { hostname, port } = new URL(s.url);
    const idle = await Promise.all([0, 1].map(() => new Promise<Socket>((resolve) => {
      const socket = connect(Number(port), hostname, () => resolve(socket));
    })));
    const health = `GET /healthz HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`;
    // closed by the server as it comes: an end, or a reset where the request was already sent
    const exchange = () => rawExchange(s.url, health).catch((err: NodeJS.ErrnoException) => err.code);
    expect(['', 'ECONNRESET']).toContain(await exchange());
    for (const socket of idle) socket.destroy();
    let answer = '';
    for (let tried = 0; !answer.startsWith('HTTP/1.1 200') && tried < 1000; tried++) {
      answer = await exchange() ?? '';
    }
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('--max-connections: a newcomer at the cap is served in the place of the connection idle longest since its answer, which is closed; the others stay open', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, maxConnections: 2 });
    try {
      const { host } = new URL(s.url);
      const [first, second] = [await keptAlive(s.url), await keptAlive(s.url)];
      // `first` opened first but asked again last: `second` is now the one idle longest
      expect(await askedAgain(first, s.url)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      const evicted = once(second, 'close');
      const newcomer = await rawExchange(s.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
        .catch((err: NodeJS.ErrnoException) => err.code);
      expect(newcomer).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      await evicted;
      expect(await askedAgain(first, s.url)).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      first.destroy();
    } finally {
      await s.close();
    }
  });

  it('--max-connections: a newcomer is refused only where every place carries a request in flight, never taking a streaming one\'s place', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 2, maxConnections: 2, maxLen: 1_000_000 });
    const streams: AbortController[] = [];
    try {
      const { host } = new URL(s.url);
      const exchange = () => rawExchange(s.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)
        .catch((err: NodeJS.ErrnoException) => err.code);
      const idle = await keptAlive(s.url);
      const first = await streamingGeneration(s.url, { len: 1_000_000, seed: 1 });
      streams.push(first.controller);
      // one place streams, the other is idle: the idle one makes room
      const evicted = once(idle, 'close');
      expect(await exchange()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      await evicted;
      const second = await streamingGeneration(s.url, { len: 1_000_000, seed: 2 });
      streams.push(second.controller);
      // closed by the server as it comes: an end, or a reset where the request was already sent
      expect(['', 'ECONNRESET']).toContain(await exchange());
      for (const { reader } of [first, second]) expect((await reader.read()).done).toBe(false);
    } finally {
      for (const stream of streams) stream.abort();
      await s.close();
    }
  });

  it('--max-len caps a request that gives no len too: the default len is cut to it, not drawn beyond it nor refused', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--max-len', '10']);
    expect((await post(`${s.url}/v1/generate`, { seed: 1 })).json).toMatchObject({ tokens: 10, finish: 'length' });
    const beam = await post(`${s.url}/v1/generate`, { beam: 2 });
    expect(beam.status).toBe(200);
    expect((beam.json as { tokens: number }).tokens).toBe(10);
    for (const answer of [await post(`${s.url}/v1/complete`, { prefix: 'a', n: 2, seed: 1 }), await request(`${s.url}/generate?start_text=a&n=2&seed=1`)]) {
      expect(answer.status).toBe(200);
      const { completions } = answer.json as { completions: string[] };
      expect(completions).toHaveLength(2);
      for (const text of completions) expect([...text].length).toBeLessThanOrEqual(10);
    }
    expect((await post(`${s.url}/v1/generate`, { len: 11 })).json).toMatchObject({ field: 'len', error: expect.stringMatching(/at most 10/) });
  });

  it('--max-text-tokens (default 8192) caps the tokens of a text /v1/score and /v1/activations read, their answers growing with them', async () => {
    const refusal = (n: number) => ({ field: 'text', error: `text: must be at most ${n} tokens (the server's --max-text-tokens) (got ${n + 1} tokens)` });
    for (const route of ['/v1/activations', '/v1/score']) {
      const over = await post(api(route), { model: 'gru', text: 'a'.repeat(8193), top: route === '/v1/score' ? 10 : 32 });
      expect([route, over.status, over.json]).toEqual([route, 400, refusal(8192)]);
    }
    const most = await post(api('/v1/activations'), { model: 'gru', text: 'a'.repeat(8192), top: 32 });
    expect(most.status).toBe(200);
    expect((most.json as { units: unknown[] }).units).toHaveLength(32);
    const scored = await post(api('/v1/score'), { model: 'gru', text: 'a'.repeat(8192), top: 10 });
    expect(scored.status).toBe(200);
    const s = await started(['--checkpoint', `gru=${models.gru}`, '--checkpoint', `words=${models.words}`, '--workers', '1', '--max-text-tokens', '8']);
    const read = (model: string, text: string) => post(`${s.url}/v1/activations`, { model, text });
    expect((await read('gru', 'abcdefgh')).status).toBe(200);
    expect((await read('gru', 'abcdefghi')).json).toEqual(refusal(8));
    expect((await post(`${s.url}/v1/score`, { model: 'gru', text: 'abcdefghi' })).json).toEqual(refusal(8));
    // tokens, not characters: eight words of many letters
    const words = await read('words', 'these words have many more letters than eight');
    expect(words.status).toBe(200);
    expect((words.json as { tokens: string[] }).tokens).toHaveLength(8);
  });

  it('--max-text-tokens\'s help states the most a score and an activations answer list for a token, as requests are held to them', async () => {
    const beyond = await Promise.all([
      post(api('/v1/score'), { model: 'gru', text: 'a', top: 11 }), post(api('/v1/activations'), { model: 'gru', text: 'a', top: 33 }),
    ]);
    expect(beyond.map((answer) => (answer.json as { error: string }).error)).toEqual([
      'top: must be an integer from 0 to 10 (got 11)', 'top: must be an integer from 1 to 32 (got 33)',
    ]);
    const stated = 'up to 11 tokens (score, top 10), or its text, its name and up to 32 values (activations)';
    expect(SERVE_SETTINGS.maxTextTokens.help).toContain(stated);
    // other limits: the help says them
    vi.resetModules();
    vi.doMock('../src/generate/score.js', async (original) => ({ ...await original<object>(), SCORE_TOP_MAX: 5 }));
    vi.doMock('../src/serve/requests.js', async (original) => ({ ...await original<object>(), ACTIVATIONS_TOP_MAX: 16 }));
    try {
      const changed = await import('../src/serve/settings.js');
      expect(changed.SERVE_SETTINGS.maxTextTokens.help).toContain('up to 6 tokens (score, top 5), or its text, its name and up to 16 values (activations)');
    } finally {
      vi.doUnmock('../src/generate/score.js');
      vi.doUnmock('../src/serve/requests.js');
      vi.resetModules();
    }
  });
});

describe('the models it lists', () => {
  it('a checkpoint replaced on disk while the server starts: it lists, and every thread serves, the version it read', async () => {
    const path = join(scratch.dir, 'changing.json'), next = join(scratch.dir, 'changing.next.json');
    copyFileSync(models.gru, path);
    copyFileSync(models.tiny, next);
    const starting = inProcess([{ name: 'changing', path }]);
    // as a training run saves its checkpoint: a new file renamed over the old, here while the threads start
    renameSync(next, path);
    const s = await starting;
    try {
      const listed = await request(`${s.url}/v1/models`);
      expect((listed.json as { models: { vocabSize: number }[] }).models[0]!.vocabSize).toBe(loadModel(models.gru).info.vocabSize);
      const options = { prime: 'ROMEO:', len: 40, seed: 5 };
      const expected = (await collect(loadModel(models.gru).generate(options))).join('');
      const answers = await Promise.all([0, 1].map(() => post(`${s.url}/v1/generate`, options)));
      for (const answer of answers) expect(answer.json).toMatchObject({ text: expected });
    } finally {
      await s.close();
    }
  });

  it('each thread builds its model over the weights the server loaded, shared with it, not over the file read again', async () => {
    const shared = shareServedModel({ name: 'gru', path: models.gru });
    const fromFile = loadModel(models.gru), weights = new Float32Array(shared.params);
    expect(weights).toEqual(fromFile.loaded.params);
    weights.fill(0); // every token then as likely as the next: no longer the file's model
    const kernels = resolveKernels(), options = { prime: 'ROMEO:', len: 40, seed: 5 };
    const pool = await WorkerPool.start({ models: [shared], kernels, workers: 1, queue: 0 });
    try {
      const served = await pool.run({ kind: 'generate', model: 'gru', options, stream: false }, new AbortController().signal) as GenerateDone;
      expect(served.text).toBe((await collect(servedModels([shared], kernels).get('gru')!.generate(options))).join(''));
      expect(served.text).not.toBe((await collect(fromFile.generate(options))).join(''));
    } finally {
      await pool.close();
    }
  });

  it('a fine-tuned model is listed with its base model\'s digest and step, not its path', async () => {
    const tuned = await rnnIn(scratch.dir, ['train', 'corpus.txt', '--init-from', models.tiny, '--max-steps', '1', '--batch', '4', '--seq-len', '16', '--out', 'tuned']);
    expect(tuned.status).toBe(0);
    const s = await started(['--checkpoint', 'tuned/latest.json', '--workers', '1']);
    const answer = await request(`${s.url}/v1/models`);
    const [listed] = (answer.json as { models: { initFrom: unknown }[] }).models;
    expect(listed!.initFrom).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), step: 40 });
    expect(answer.text).not.toContain(scratch.dir);
  });
});

describe('who may reach it: the address it binds, the host named, the token, the origin', () => {
  it('the address to bind: loopback by name or number needs no warning; a port in use is one line that names --port', async () => {
    for (const host of ['127.0.0.1', '127.0.0.2', '127.255.255.254', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1']) expect(isLoopback(host)).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.2', '::ffff:10.0.0.1', 'example.com']) expect(isLoopback(host)).toBe(false);
    const port = new URL(server.url).port;
    const taken = await rnnIn(scratch.dir, ['serve', '--checkpoint', models.gru, '--workers', '1', '--port', port]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toBe(`rnn: --port ${port}: 127.0.0.1:${port} is already in use; choose another port, or 0 for any free one\n`);
  });

  it('bound to loopback, it answers requests for a loopback name only: a page whose name was made to resolve here (DNS rebinding) is refused', async () => {
    const { port } = new URL(server.url);
    const ask = (host: string, path = '/v1/models') => rawExchange(server.url, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LocalHost:${port}`, 'localhost', `127.0.0.5:${port}`]) {
      expect(await ask(host)).toMatch(/^HTTP\/1\.1 200 /);
    }
    // HTTP/1.0 needs no Host, and no browser sends a request without one
    expect(await rawExchange(server.url, 'GET /v1/models HTTP/1.0\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    const empty = await ask('');
    expect(empty).toMatch(/^HTTP\/1\.1 403 /);
    expect(JSON.parse(empty.slice(empty.indexOf('\r\n\r\n') + 4)).error).toMatch(/^the Host header is empty: this server listens on loopback/);
    for (const host of [`evil.example:${port}`, 'evil.example', `10.0.0.1:${port}`, `localhost.evil.example:${port}`]) {
      for (const path of ['/v1/models', '/']) {
        const refused = await ask(host, path);
        expect(refused).toMatch(/^HTTP\/1\.1 403 /);
        expect(JSON.parse(refused.slice(refused.indexOf('\r\n\r\n') + 4))).toEqual({
          field: 'host', error: `the Host header names ${host.split(':')[0]}: this server listens on loopback (127.0.0.1) and answers ` +
            'requests for localhost, 127.0.0.0/8, [::1] or an --allowed-host only, so that a page of another site cannot reach it by a name ' +
            'of its own; connect to it by one of those, or give --host the address to serve',
        });
      }
    }
    // a reverse proxy that passes its own name on: --allowed-host
    const proxied = await started(['--checkpoint', models.gru, '--workers', '1', '--allowed-host', 'rnn.example', '--allowed-host', 'RNN2.example']);
    for (const host of ['rnn.example', 'rnn.example:443', 'Rnn2.Example', `127.0.0.1:${port}`]) {
      expect(await rawExchange(proxied.url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`)).toMatch(/^HTTP\/1\.1 200 /);
    }
    expect(await rawExchange(proxied.url, 'GET /healthz HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 403 /);
    const withPort = await rnnIn(scratch.dir, ['serve', '--checkpoint', models.gru, '--allowed-host', 'rnn.example:443']);
    expect(withPort.status).toBe(1);
    expect(withPort.stderr).toBe('rnn: --allowed-host: must be a host name such as rnn.example: no scheme, no port (got rnn.example:443)\n');
  });

  it('loopback is the address it binds, however --host spells it (127.1): it answers loopback names only', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { host: '127.1', workers: 1 });
    try {
      expect(s.url).toMatch('http://127.0.0.1:');
      const refused = await rawExchange(s.url, 'GET /v1/models HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
      expect(refused).toMatch(/^HTTP\/1\.1 403 /);
      expect(refused).toContain('this server listens on loopback (127.0.0.1)');
      expect(await rawExchange(s.url, 'GET /v1/models HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
    } finally {
      await s.close();
    }
  });

  it('--host 127.1 binds loopback, so rnn serve does not warn that other machines may reach it', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--host', '127.1']);
    expect((await request(`${s.url}/healthz`)).status).toBe(200);
    expect(s.stderr()).toBe('');
  });

  it('listens on an IPv6 --host as a URL writes it ([::1]) at the address inside the brackets', () => {
    // the address itself, not bound here: a machine may have no IPv6 loopback
    expect(listenAddress('[::1]')).toBe('::1');
    expect(listenAddress('::1')).toBe('::1');
    expect(listenAddress('127.1')).toBe('127.1');
  });

  it('--token: the API needs the bearer token (the page and /healthz do not); --host 0.0.0.0 warns', async () => {
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--token', 's3cret', '--host', '0.0.0.0']);
    const url = s.url.replace('0.0.0.0', '127.0.0.1');
    // the warning, written before the line that says it listens, has arrived once a request has been answered
    expect((await request(`${url}/healthz`)).status).toBe(200);
    expect(s.stderr()).toMatch(/warning: --host 0\.0\.0\.0 lets other machines reach the models\n/);
    const none = await post(`${url}/v1/score`, { text: 'a' });
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    expect(none.json).toMatchObject({ field: 'authorization' });
    expect((await post(`${url}/v1/score`, { text: 'a' }, { Authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await post(`${url}/v1/score`, { text: 'a' }, { Authorization: 'Bearer s3cret' })).status).toBe(200);
    expect((await post(`${url}/v1/score`, { text: 'a' }, { Authorization: 'bearer s3cret' })).status).toBe(200);
    // RFC 6750's credentials: "Bearer" 1*SP token
    expect((await post(`${url}/v1/score`, { text: 'a' }, { Authorization: 'Bearer  s3cret' })).status).toBe(200);
    // the scheme is Bearer itself, not a longer word that ends in it
    expect((await post(`${url}/v1/score`, { text: 'a' }, { Authorization: 'XBearer s3cret' })).status).toBe(401);
    expect((await request(`${url}/v1/models`, { headers: { Authorization: 'Bearer s3cret' } })).status).toBe(200);
    expect((await request(`${url}/healthz`)).status).toBe(200);
    expect((await request(`${url}/`)).status).toBe(200);
    // bound beyond loopback, the machine's other names are its own
    expect(await rawExchange(url, 'GET /healthz HTTP/1.1\r\nHost: rnn.example:8080\r\nConnection: close\r\n\r\n')).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('a page of another origin may not make the models work (it could not read the answer, but takes the threads): 403 naming origin', async () => {
    const own = new URL(server.url).origin;
    for (const origin of ['https://evil.example', 'null', own.replace('http:', 'https:').replace(/:\d+$/, ':1')]) {
      for (const [path, body] of [['/v1/generate', { len: 3 }], ['/v1/score', { text: 'a' }]] as const) {
        const refused = await post(api(path), body, { Origin: origin });
        expect(refused.status).toBe(403);
        expect(refused.json).toEqual({
          field: 'origin', error: `a page of ${origin} may not call this server: only its own pages may (and --cors's origin, when it is given)`,
        });
      }
    }
    expect((await request(api('/v1/models'), { headers: { Origin: 'https://evil.example' } })).status).toBe(403);
    // a page of the server itself, as the playground calls it (by another of its names it is another origin); a client that is no browser
    expect((await post(api('/v1/generate'), { len: 3 }, { Origin: own })).status).toBe(200);
    expect((await post(api('/v1/generate'), { len: 3 }, { Origin: own.replace('127.0.0.1', 'localhost') })).status).toBe(403);
    expect((await post(api('/v1/generate'), { len: 3 })).status).toBe(200);
    const { port } = new URL(server.url);
    const cased = `GET /v1/models HTTP/1.1\r\nHost: LOCALHOST:${port}\r\nOrigin: http://localhost:${port}\r\nConnection: close\r\n\r\n`;
    expect(await rawExchange(server.url, cased)).toMatch(/^HTTP\/1\.1 200 /);
    // the page's files and /healthz stay open
    expect((await request(api('/healthz'), { headers: { Origin: 'https://evil.example' } })).status).toBe(200);
    // a GET of another site's <img> or <script> names no Origin; the browser says whose it is in Sec-Fetch-Site
    const legacy = api('/generate?start_text=a&n=1&len=2');
    for (const site of ['cross-site', 'same-site']) {
      const refused = await request(legacy, { headers: { 'Sec-Fetch-Site': site } });
      expect(refused.status).toBe(403);
      expect(refused.json).toEqual({
        field: 'origin', error: `a page of another site (Sec-Fetch-Site: ${site}) may not call this server: only its own pages may (and --cors's origin, when it is given)`,
      });
    }
    for (const site of ['same-origin', 'none']) expect((await request(legacy, { headers: { 'Sec-Fetch-Site': site } })).status).toBe(200);
  });

  it('CORS headers only with --cors, for its origin', async () => {
    expect((await request(api('/v1/models'))).headers.get('access-control-allow-origin')).toBeNull();
    expect((await request(api('/v1/score'), { method: 'OPTIONS' })).status).toBe(405);
    const s = await started(['--checkpoint', models.gru, '--workers', '1', '--cors', 'https://example.com']);
    const preflight = await request(`${s.url}/v1/score`, { method: 'OPTIONS', headers: { Origin: 'https://example.com' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://example.com');
    // a preflight of a path that is no route: the 404 any method gets there, its CORS headers letting the page read it
    const nowhere = await request(`${s.url}/v1/scores`, { method: 'OPTIONS', headers: { Origin: 'https://example.com' } });
    expect([nowhere.status, nowhere.json]).toEqual([404, { error: expect.stringMatching(/^no such route: \/v1\/scores; did you mean \/v1\/score\?/) }]);
    expect(nowhere.headers.get('access-control-allow-origin')).toBe('https://example.com');
    for (const path of ['/', '/healthz']) expect([path, (await request(`${s.url}${path}`, { method: 'OPTIONS' })).status]).toEqual([path, 204]);
    expect((await request(`${s.url}/v1/models`)).headers.get('access-control-allow-origin')).toBe('https://example.com');
    expect((await post(`${s.url}/v1/score`, { text: 'a' }, { Origin: 'https://example.com' })).status).toBe(200);
    expect((await post(`${s.url}/v1/score`, { text: 'a' }, { Origin: 'https://example.org' })).status).toBe(403);
    expect((await post(`${s.url}/v1/score`, { text: 'a' }, { Origin: 'https://example.com.evil.example' })).status).toBe(403);
    const slash = await started(['--checkpoint', models.gru, '--workers', '1', '--cors', 'https://example.com:8443/']);
    expect((await request(`${slash.url}/v1/models`)).headers.get('access-control-allow-origin')).toBe('https://example.com:8443');
    const path = await rnnIn(scratch.dir, ['serve', '--checkpoint', models.gru, '--port', '0', '--cors', 'https://example.com/app/']);
    expect(path.status).toBe(1);
    expect(path.stderr).toMatch(/^rnn: --cors: must be an origin such as https:\/\/example\.com \(a scheme, a host and a port if any; no path\) \(got https:\/\/example\.com\/app\/\)\n$/);
  });

  it('with --cors, a page of its origin may read a busy answer\'s Retry-After, which a browser shows a page of another origin only where the answer exposes it', async () => {
    const s = await inProcess([{ name: 'gru', path: models.gru }], { workers: 1, queue: 0, maxLen: 1_000_000, cors: 'https://example.com' });
    try {
      const origin = { Origin: 'https://example.com' };
      const { controller } = await streamingGeneration(s.url, { len: 1_000_000 }, origin);
      const busy = await post(`${s.url}/v1/score`, { text: 'a' }, origin);
      controller.abort();
      expect([busy.status, busy.headers.get('retry-after')]).toEqual([503, '1']);
      const exposed = busy.headers.get('access-control-expose-headers')?.split(/\s*,\s*/).map((name) => name.toLowerCase()) ?? [];
      expect(exposed).toContain('retry-after');
    } finally {
      await s.close();
    }
  });
});

describe('starting and stopping', () => {
  it.each([
    ['SIGTERM', 'exits 0', 0, null],
    ['SIGHUP', 'ends by it (129 in a shell), where exiting would abort on a closed terminal', null, 'SIGHUP'],
  ] as const)('%s: stops accepting, finishes the generation in flight, then %s', async (signal, _, code, endedBy) => {
    const s = await serve(scratch.dir, ['--checkpoint', models.gru, '--workers', '1']);
    const res = await fetch(`${s.url}/v1/generate`, { method: 'POST', body: JSON.stringify({ len: 400, seed: 2, stream: 'ndjson' }) });
    let signalled = false;
    const text = await readStream(res, () => {
      if (!signalled) {
        signalled = true;
        s.child.kill(signal);
      }
    });
    expect(JSON.parse(text.trimEnd().split('\n').at(-1)!)).toEqual({ done: true, tokens: 400, finish: 'length', seed: 2, unknownTokens: 0 });
    expect([await s.exited, s.child.signalCode]).toEqual([code, endedBy]);
    await expect(fetch(`${s.url}/healthz`)).rejects.toThrow();
  });

  it('close() waits for an answer still being written out: read only once the threads have closed, it arrives whole; an idle connection closes at once', async () => {
    const s = await inProcess([{ name: 'tiny', path: models.tiny }], { workers: 1, maxTextTokens: LARGE_ANSWER_TOKENS });
    const pool = poolOf(s), closeThreads = pool.close.bind(pool);
    let threadsClosed!: () => void;
    const closedThreads = new Promise<void>((resolve) => (threadsClosed = resolve));
    vi.spyOn(pool, 'close').mockImplementation(async () => {
      await closeThreads();
      threadsClosed();
    });
    const idle = await keptAlive(s.url);
    const res = await pausedLargeAnswer(s.url, 'tiny');
    expect(res.statusCode).toBe(200);
    const length = Number(res.headers['content-length']);
    expect(length).toBeGreaterThan(20_000_000);
    let closed = false;
    const closing = s.close().then(() => (closed = true));
    await Promise.all([closedThreads, once(idle, 'close')]);
    expect(closed).toBe(false);
    const { body, complete } = await bodyOf(res);
    expect([body.length, complete]).toEqual([length, true]);
    await closing;
  });

  it('a client that stops reading its answer is dropped once the time limit has passed since the answer ended, so that close() still ends', async () => {
    const s = await inProcess([{ name: 'tiny', path: models.tiny }], { workers: 1, timeLimitMs: 3000, maxTextTokens: LARGE_ANSWER_TOKENS });
    // the answer is drawn beforehand, with no time limit: the request's job, drawn on a loaded host, could outlast the 3 s
    const pool = poolOf(s);
    const score: JobOf<'score'> = { kind: 'score', model: 'tiny', text: LARGE_ANSWER_TEXT, maxTokens: LARGE_ANSWER_TOKENS, top: 10 };
    const answer = await pool.run(score, new AbortController().signal);
    const run = vi.spyOn(pool, 'run').mockResolvedValueOnce(answer);
    const res = await pausedLargeAnswer(s.url, 'tiny');
    expect(res.statusCode).toBe(200);
    expect(run.mock.calls.map(([request]) => request)).toEqual([score]);
    run.mockRestore();
    await s.close();
    const { body, complete } = await bodyOf(res);
    expect(complete).toBe(false);
    expect(body.length).toBeLessThan(Number(res.headers['content-length']));
  });

  it('answers ended but not taken by their clients hold at most the server\'s cap: past it the oldest one\'s client is dropped, the newest kept whole', async () => {
    const s = await inProcess([{ name: 'tiny', path: models.tiny }], { workers: 1, maxTextTokens: LARGE_ANSWER_TOKENS, maxUnreadBytes: 1_000_000 });
    try {
      const oldest = await pausedLargeAnswer(s.url, 'tiny');
      const newest = await pausedLargeAnswer(s.url, 'tiny');
      expect([oldest.statusCode, newest.statusCode]).toEqual([200, 200]);
      const length = Number(newest.headers['content-length']);
      expect(length).toBeGreaterThan(20_000_000);
      expect((await request(`${s.url}/healthz`)).status).toBe(200);
      const [dropped, kept] = await Promise.all([bodyOf(oldest), bodyOf(newest)]);
      expect(dropped.complete).toBe(false);
      expect(dropped.body.length).toBeLessThan(length);
      expect([kept.body.length, kept.complete]).toEqual([length, true]);
    } finally {
      await s.close();
    }
  });

  it('says on stderr that the cap dropped a client, with the bytes held and the cap, and the further drops counted in one line later', async () => {
    const s = await inProcess([{ name: 'tiny', path: models.tiny }], { workers: 1, maxTextTokens: LARGE_ANSWER_TOKENS, maxUnreadBytes: 1_000_000 });
    await saying(s, async (said, shutDown) => {
      const dropLines = () => said().filter((line) => line.includes('dropped'));
      // each answer ended drops the one before it: three clients dropped, the last answer kept
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await pausedLargeAnswer(s.url, 'tiny'));
      expect((await request(`${s.url}/healthz`)).status).toBe(200);
      const [first, ...more] = dropLines();
      expect(more).toEqual([]);
      const [, held] = /^rnn serve: dropped a client that did not read its answer: the answers not taken held ([\d,]+) bytes, over the cap of 1,000,000 \(at most one such line a minute\)\n$/.exec(first ?? '') ?? [];
      expect(Number(held?.replaceAll(',', ''))).toBeGreaterThan(1_000_000);
      await Promise.all(answers.map(bodyOf));
      await shutDown();
      expect(dropLines().slice(1)).toEqual([expect.stringMatching(
        /^rnn serve: dropped 2 clients that did not read their answers: the answers not taken held up to [\d,]+ bytes, over the cap of 1,000,000 \(at most one such line a minute\)\n$/)]);
    });
  });

  it('close() with a stream held for a client that never reads again: its generation ends at the time limit, and the client is dropped one time limit later', async () => {
    const s = await inProcess([{ name: 'long', path: await longWordModel() }], { workers: 1, maxLen: 10_000_000, timeLimitMs: 1500 });
    // the stream's first text is some 15 MB, several times what a connection's buffers take (as HELD_LEN's): it
    // stays held, whatever the host's speed; the clock moves as the test says, once the stream is held and once it has ended
    const pool = poolOf(s), run = pool.run.bind(pool);
    vi.spyOn(pool, 'run').mockImplementation((request, signal, onPieces = () => {}, onStart) => {
      let filler = [{ text: 'a'.repeat(HELD_LEN * 50), eos: false }];
      return run(request, signal, (pieces) => {
        const held = [...filler, ...pieces];
        filler = [];
        return onPieces(held);
      }, onStart);
    });
    let answerEnded!: () => void;
    const ended = new Promise<void>((resolve) => (answerEnded = resolve)), end = UnreadAnswers.prototype.ended;
    const unread = vi.spyOn(UnreadAnswers.prototype, 'ended').mockImplementation(function (this: UnreadAnswers, ...args) {
      end.apply(this, args);
      answerEnded();
    });
    const writes = watchWrites();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const res = await pausedAnswer(`${s.url}/v1/generate`, { len: 10_000_000, seed: 5, stream: 'ndjson' });
      await writes.full;
      const closing = s.close();
      vi.advanceTimersByTime(1500);
      await ended;
      vi.advanceTimersByTime(1500);
      await closing;
      const { body, complete } = await bodyOf(res);
      expect(complete).toBe(false);
      expect(body.toString()).not.toMatch(/"done"/);
    } finally {
      vi.useRealTimers();
      writes.restore();
      unread.mockRestore();
    }
  });

  it('refuses to start with one clear line: a missing checkpoint, two models of one name', async () => {
    const missing = await rnnIn(scratch.dir, ['serve', '--checkpoint', 'nothing.json', '--port', '0']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^rnn: [^\n]*nothing\.json[^\n]*\n$/);
    const twice = await rnnIn(scratch.dir, ['serve', '--checkpoint', `a=${models.gru}`, '--checkpoint', `a=${models.tiny}`, '--port', '0']);
    expect(twice.stderr).toBe('rnn: two models are named a: give each --checkpoint a name, as NAME=FILE\n');
  });
});
