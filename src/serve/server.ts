import { readFileSync } from 'node:fs';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Model } from '../api/index.js';
import { beamWarnings } from '../generate/beam.js';
import {
  NOT_FOR_BEAM, ONLY_FOR_BEAM, SAMPLE_SETTINGS, greedyWarnings, notForBeam, refuseWithoutBeam,
} from '../generate/settings.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import { describeValue, likelyNames, optionMessage } from '../input/issues.js';
import { type InputError, type SettingSource, type SettingsInput, flagName, integerFrom, orList } from '../input/settings.js';
import { authorize, checkLoopbackHost, checkOrigin, isLoopback, listenAddress } from './access.js';
import {
  HttpError, type PlaygroundPage, allowOrigin, answerClientError, answerFailure, answerPreflight, drained, expectMethod, playgroundPage,
  queryFields, readJsonBody, refuseConnect, refuseExpectation, refuseQuery, requestUrl, sendEncoded, sendJson, sendPage, streamFromAccept,
  streamWriter,
} from './http.js';
import {
  type GenerateDone, type JobAnswers, type JobOf, type JobRequest, type ServedModel, servedModels, shareServedModel, warningsField,
} from './jobs.js';
import { JobError, JobStoppedError, NoThreadError, type OnPieces, type OnStart, QueueFullError, ShuttingDownError, ThreadLostError, ThreadStuckError, WorkerPool, stuckThreadFate } from './pool.js';
import { durationText } from '../input/duration.js';
import { lossCeiling, lossRange, niceTicks } from '../plot/scale.js';
import { formatTokenCount, offChartNote } from '../plot/svg.js';
import {
  ACTIVATIONS_FIELDS, BODY_FIELDS, COMPLETE_FIELDS, SCORE_FIELDS, type StreamMode, readActivations, readComplete, readGenerate,
  readLegacyGenerate, readScore,
} from './requests.js';
import { UnreadAnswers } from './unread.js';

export interface ServeOptions {
  models: ServedModel[];
  host: string;
  port: number;
  /** Bearer token every API request must carry; null: none. */
  token: string | null;
  /** The one origin CORS allows; null: no CORS headers. */
  cors: string | null;
  /** Bound to loopback, the names besides loopback's that a request's Host may give. */
  allowedHosts: string[];
  /** Largest request body, bytes. */
  maxBody: number;
  /** Largest `len` a request may ask. */
  maxLen: number;
  /** Widest `beam` a request may ask. */
  maxBeam: number;
  /** Longest text, in tokens, that a request may score or ask the activations of. */
  maxTextTokens: number;
  /** A request's time limit, milliseconds, its wait in the queue included. */
  timeLimitMs: number;
  /** Generation threads. */
  workers: number;
  /** Requests that may wait for a thread. */
  queue: number;
  /**
   * Connections open at once; one more takes the place of the connection idle longest since its answer, and is closed as it
   * comes where none is.
   */
  maxConnections: number;
  /** Most bytes the answers in flight may hold that their clients have not yet taken; default UNREAD_MAX_BYTES (unread.ts). */
  maxUnreadBytes?: number;
  kernels: KernelsKind;
}

/** The request fields the server caps, each by the flag (a ServeOptions setting) that sets its cap. */
const CAPS = { len: 'maxLen', beam: 'maxBeam' } as const satisfies Record<string, keyof ServeOptions>;

/** Seconds a client refused because the server was busy is asked to wait. */
const RETRY_AFTER_S = 1;

/** How much longer than a request's time limit node:http lets the request take to arrive. */
const ARRIVAL_MARGIN_MS = 5000;

/** The longest a request's headers may take to arrive. */
const HEADERS_TIMEOUT_MS = 10_000;

/**
 * How long a kept-alive connection may wait idle for its next request: node:http's own default, named beside the other
 * limits so that every timeout is set here. Idle, it holds one of --max-connections' places until a newcomer needs it
 * (makeRoom); a client's next request of a burst comes within it.
 */
const KEEP_ALIVE_TIMEOUT_MS = 5000;

/**
 * How often node:http looks for requests past those limits (its own default, 30 s, would let
 * connections that never finish their headers hold their places three times as long as the limit).
 */
const TIMEOUT_CHECK_MS = 1000;

/** A route of the API: its method, where its fields come from, and what answers it (`signal` aborts with 'time' or 'client'). */
interface ApiRoute {
  method: 'GET' | 'POST';
  /** A GET's query, a POST's JSON body, or none: a route that takes no fields refuses a query. */
  fields: 'query' | 'body' | 'none';
  run: (input: Record<string, unknown>, req: IncomingMessage, res: ServerResponse, signal: AbortSignal) => Promise<void> | void;
}

/**
 * `rnn serve`: the models over JSON/HTTP (docs/serve.md) on plain node:http. The event loop
 * only parses, validates and answers; every job that runs a model runs on the WorkerPool's
 * threads, so /healthz answers while a long generation runs.
 */
export class RnnServer {
  /** The requests in flight (handle), each with its connection. */
  private readonly answering = new Map<ServerResponse, Socket>();
  /** Of those, the answers ended but not yet written out whole, whose clients are dropped past the time limit or the cap. */
  private readonly unread: UnreadAnswers;
  /** close()'s waits, each woken once no request is in flight. */
  private readonly allAnswered: (() => void)[] = [];
  /** The connections open. */
  private readonly connections = new Set<Socket>();
  /**
   * The connections kept alive after an answer written out whole, the one idle longest first, each with the bytes it had
   * read then: one that has read more since has begun to send its next request. One whose next request has come is taken out.
   */
  private readonly keptAlive = new Map<Socket, number>();
  /**
   * Bound to loopback (the address it listens on, however --host named it): that address, and the
   * names a request's Host may give besides loopback's (the --allowed-host names, lower case); else null.
   */
  private loopback: { address: string; allowedHosts: ReadonlySet<string> } | null = null;

  /** /v1/models' list, made once: the models served do not change, and `Model.info` copies the vocabulary it leaves out. */
  private readonly modelList: ReturnType<typeof servedModelList>;

  private constructor(
    private readonly options: ServeOptions,
    private readonly models: Map<string, Model>,
    private readonly pool: WorkerPool,
    private readonly page: PlaygroundPage,
    private readonly server: Server,
    report: (line: string) => void,
  ) {
    this.modelList = servedModelList(models);
    this.unread = new UnreadAnswers(options.timeLimitMs, report, options.maxUnreadBytes);
    // node:http's own maxConnections would close a newcomer while idle connections hold every place
    server.on('connection', (socket: Socket) => {
      if (this.connections.size >= options.maxConnections && !this.makeRoom()) {
        socket.destroy();
        return;
      }
      this.connections.add(socket);
      socket.once('close', () => {
        this.connections.delete(socket);
        this.keptAlive.delete(socket);
      });
    });
    // node:http's close() destroys the connections it deems idle, among them one whose answer has
    // been ended but is still being written out (it asks `finished`, which end() sets): a large
    // answer would be cut off. Idle here is what carries no request in flight.
    server.closeIdleConnections = () => this.closeIdleConnections();
  }

  /** Loads each checkpoint once, builds its model over its weights here (shape, history) and in each thread, then listens. */
  static async start(options: ServeOptions): Promise<RnnServer> {
    const shared = options.models.map(shareServedModel);
    const models = servedModels(shared, options.kernels);
    const page = playgroundPage(pageFile('index.html'), pageFile);
    const { kernels, workers, queue } = options;
    const report = (line: string) => process.stderr.write(`rnn serve: ${line}\n`);
    const pool = await WorkerPool.start({ models: shared, kernels, workers, queue, report });
    try {
      // requestTimeout = time limit + ARRIVAL_MARGIN_MS for a whole request to arrive; headersTimeout = min(HEADERS_TIMEOUT_MS,
      // requestTimeout) for its headers, as node:http refuses a headersTimeout over the requestTimeout
      const requestTimeout = options.timeLimitMs + ARRIVAL_MARGIN_MS;
      const server = createServer({
        requestTimeout, headersTimeout: Math.min(HEADERS_TIMEOUT_MS, requestTimeout), keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
        connectionsCheckingInterval: TIMEOUT_CHECK_MS,
      });
      const rnn = new RnnServer(options, models, pool, page, server, report);
      server.on('request', (req, res) => void rnn.handle(req, res));
      // one that waits for 100 Continue is handled alike, told to go on only where its body is read (readJsonBody)
      server.on('checkContinue', (req, res) => void rnn.handle(req, res));
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => answerClientError(err, socket, rnn.answerBegun(socket)));
      server.on('connect', refuseConnect);
      server.on('checkExpectation', refuseExpectation);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, listenAddress(options.host), () => {
          server.off('error', reject);
          resolve();
        });
      });
      rnn.listening();
      return rnn;
    } catch (err) {
      await pool.close();
      throw err;
    }
  }

  /** Once listening: whether the address bound is loopback's, which a request's Host must then name. */
  private listening(): void {
    const { address } = this.server.address() as AddressInfo;
    const allowedHosts = new Set(this.options.allowedHosts.map((name) => name.toLowerCase()));
    this.loopback = isLoopback(address) ? { address, allowedHosts } : null;
  }

  /** Whether the address it listens on is loopback's, reached from this machine alone. */
  get onLoopback(): boolean {
    return this.loopback !== null;
  }

  /** Where it listens, as a URL (an IPv6 address in brackets). */
  get url(): string {
    const { address, port } = this.server.address() as AddressInfo;
    return `http://${address.includes(':') ? `[${address}]` : address}:${port}`;
  }

  /**
   * Stops accepting, lets every request in flight finish (its answer written out whole, or its
   * client dropped: see handle), then closes the threads and the connections.
   */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.pool.close();
    while (this.answering.size > 0) await new Promise<void>((resolve) => this.allAnswered.push(resolve));
    this.server.closeAllConnections();
    await closed;
    this.unread.close();
  }

  /** Closes the connections that carry no request in flight: kept alive for the next, or not yet sent one whole. */
  private closeIdleConnections(): void {
    const busy = new Set(this.answering.values());
    for (const socket of this.connections) if (!busy.has(socket)) socket.destroy();
  }

  /**
   * Closes the connection idle longest since its answer, to make room for a newcomer at --max-connections (as nginx and
   * HAProxy do): false where every connection carries a request in flight, begins one, or has sent none yet (a newcomer
   * itself, that the headers' time limit closes).
   */
  private makeRoom(): boolean {
    const busy = new Set(this.answering.values());
    for (const [socket, bytesRead] of this.keptAlive) {
      if (busy.has(socket) || socket.bytesRead !== bytesRead) continue;
      this.keptAlive.delete(socket);
      this.connections.delete(socket);
      socket.destroy();
      return true;
    }
    return false;
  }

  /** Whether an answer on `socket` has begun: its headers are written. */
  private answerBegun(socket: Socket): boolean {
    for (const [res, connection] of this.answering) if (connection === socket && res.headersSent) return true;
    return false;
  }

  /**
   * A request is in flight, and close() waits for it, until its answer has been written out
   * whole ('finish') or its connection has closed ('close'): not only until its route returns,
   * for a large answer may still be on its way then. From the moment its route has ended it, the
   * client has the time limit to take the rest; one that has not is dropped, so that a client that
   * stops reading cannot hold the server's shutdown (nor the answer's memory) for ever; and
   * sooner where the answers not taken hold too much (UnreadAnswers).
   */
  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    this.answering.set(res, socket);
    this.keptAlive.delete(socket);
    res.once('finish', () => {
      this.keptAlive.delete(socket);
      if (!socket.destroyed) this.keptAlive.set(socket, socket.bytesRead);
    });
    const settled = () => {
      this.unread.settled(res);
      if (this.answering.delete(res) && this.answering.size === 0) for (const wake of this.allAnswered.splice(0)) wake();
    };
    res.once('finish', settled).once('close', settled);
    try {
      await this.route(req, res);
    } catch (err) {
      answerFailure(res, err);
    }
    if (!this.answering.has(res)) return;
    this.unread.ended(res, this.answering.keys());
  }

  /**
   * The API: each route's method, and the handler that answers it (below, in this order); /healthz and the page: route.
   * Each endpoint of BODY_FIELDS is a route that reads a body.
   */
  private readonly routes: Record<string, ApiRoute> = {
    '/v1/models': { method: 'GET', fields: 'none', run: (_input, _req, res) => sendJson(res, 200, { models: this.modelList, limits: this.limits() }) },
    '/v1/generate': { method: 'POST', fields: 'body', run: (input, req, res, signal) => this.generate(this.capped(input, ['len', 'beam'], 'json'), req, res, signal) },
    '/v1/complete': { method: 'POST', fields: 'body', run: (input, _req, res, signal) => this.complete(readComplete(this.capped(input, ['len'], 'json')), res, signal) },
    '/generate': { method: 'GET', fields: 'query', run: (input, _req, res, signal) => this.legacyGenerate(this.capped(input, ['len'], 'text'), res, signal) },
    '/v1/score': { method: 'POST', fields: 'body', run: (input, _req, res, signal) => this.score(input, res, signal) },
    '/v1/activations': { method: 'POST', fields: 'body', run: (input, _req, res, signal) => this.activations(input, res, signal) },
  } satisfies Record<string, ApiRoute> & Record<keyof typeof BODY_FIELDS, ApiRoute & { fields: 'body' }>;

  /** A request from an allowed Host answered: a CORS preflight, an API route, /healthz or the page; another path 404, any method. */
  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url ?? '/');
    const path = url.pathname, method = req.method ?? 'GET';
    if (this.loopback !== null) checkLoopbackHost(req.headers.host, this.loopback.address, this.loopback.allowedHosts);
    if (this.options.cors !== null) allowOrigin(res, this.options.cors);
    const route = this.routes[path];
    if (route === undefined && path !== '/healthz' && path !== '/') throw new HttpError(404, this.noSuchRoute(path));
    if (this.options.cors !== null && method === 'OPTIONS') {
      answerPreflight(res);
    } else if (route !== undefined) {
      expectMethod(method, route.method, false);
      await this.callApi(route, url, req, res);
    } else if (path === '/healthz') {
      expectMethod(method, 'GET');
      this.health(res);
    } else {
      expectMethod(method, 'GET');
      sendPage(res, this.page);
    }
  }

  /**
   * The 404 of `path`: the route it most likely meant (likelyNames), and the routes there are; none meant where the path is a
   * folder that routes lie in (`/v1/`, `/v1`), which names no one of them.
   */
  private noSuchRoute(path: string): string {
    const routes = Object.keys(this.routes);
    const folder = path.endsWith('/') ? path : `${path}/`;
    const meant = routes.some((route) => route.startsWith(folder)) ? [] : likelyNames(path, [...routes, '/healthz', '/']);
    const suggestion = meant.length > 0 ? ` did you mean ${orList(meant)}?` : '';
    return `no such route: ${path};${suggestion} the API has ${routes.join(', ')}, /healthz and the page at /`;
  }

  /** The threads running, and the jobs running and waiting: 200 while any thread runs, else 503. */
  private health(res: ServerResponse): void {
    const load = this.pool.load;
    const status = load.threads === this.options.workers ? 'ok' : load.threads > 0 ? 'degraded' : 'down';
    sendJson(res, load.threads > 0 ? 200 : 503, { status, ...load });
  }

  /**
   * An API route run for a request from an allowed page that carries the token, on the fields
   * of its query or body, with a signal that stops it at the time limit or when its client goes.
   */
  private async callApi(route: ApiRoute, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkOrigin(req, this.options.cors);
    authorize(req, this.options.token);
    if (route.fields !== 'query') refuseQuery(url.search, route.fields);
    const input = route.fields === 'query' ? queryFields(url.search) : route.fields === 'body' ? await readJsonBody(req, res, this.options.maxBody) : {};
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort('time'), this.options.timeLimitMs);
    res.on('close', () => {
      if (!res.writableFinished) controller.abort('client');
    });
    try {
      await route.run(input, req, res, controller.signal);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The most each capped request field (CAPS) may ask, by its field's name, and the most tokens a
   * scored text may have (`textTokens`): what a client can offer before it asks.
   */
  private limits(): Record<keyof typeof CAPS | 'textTokens', number> {
    const caps = Object.entries(CAPS).map(([field, flag]) => [field, this.options[flag]]);
    return { ...Object.fromEntries(caps) as Record<keyof typeof CAPS, number>, textTokens: this.options.maxTextTokens };
  }

  /** The served model a request names, or the first when it names none; else 400. */
  private askedModel(name: string | undefined): string {
    if (name === undefined) return this.options.models[0]!.name;
    if (!this.models.has(name)) throw new HttpError(400, `model ${describeValue(name)} is not served; the server has ${[...this.models.keys()].join(', ')}`, 'model');
    return name;
  }

  /** A request's len: the one it gives (at most --max-len: `capped`); none given, the route's `fallback` cut to --max-len. */
  private len(given: number | undefined, fallback: number): number {
    return given ?? Math.min(fallback, this.options.maxLen);
  }

  /**
   * A request whose capped fields (CAPS: those of its route, `fields`), numbers (`from` a JSON
   * body) or numbers' text (a query), are at most their flags' values, else 400. They are checked
   * before the fields are read, so that a number past any the fields take (`"len": 1e308`) is told the cap.
   */
  private capped(input: Record<string, unknown>, fields: readonly (keyof typeof CAPS)[], from: SettingSource): Record<string, unknown> {
    for (const field of fields) {
      const given = input[field], value = from === 'text' && typeof given === 'string' ? Number(given) : given;
      const flag = CAPS[field], cap = this.options[flag];
      if (typeof value === 'number' && value > cap) throw fieldError(field, `at most ${cap} (the server's ${flagName(flag)})`, value);
    }
    return input;
  }

  /**
   * /v1/generate: with `beam`, a beam search; else a sample, whole or streamed (as `stream` asks, else the Accept header), either
   * saying how long it waited in the queue for a thread, which tells a sample the time limit cut short by its wait from a slow one.
   */
  private async generate(input: Record<string, unknown>, req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const fields = readGenerate(input);
    const { model: name, stream, beam, lengthPenalty, len: given, ...sampling } = fields;
    const model = this.askedModel(name);
    const len = this.len(given, SAMPLE_SETTINGS.len.default);
    if (beam !== undefined) {
      refuseDrawingFields(sampling, stream);
      const options = { prime: sampling.prime, len, beam, stopAtEos: sampling.stopAtEos, lengthPenalty };
      sendEncoded(res, await this.runJob({ kind: 'beam', model, options, warnings: warningMessages(beamWarnings(options)) }, signal));
      return;
    }
    refuseWithoutBeam(fields, ONLY_FOR_BEAM);
    const warnings = warningMessages(greedyWarnings(sampling));
    const seed = sampling.seed ?? SAMPLE_SETTINGS.seed.default();
    const mode = stream ?? streamFromAccept(req.headers.accept);
    const request: JobOf<'generate'> = { kind: 'generate', model, options: { ...sampling, len, seed }, stream: mode !== null };
    if (mode === null) {
      let queuedSeconds = 0;
      const done = await this.runJob(request, signal, undefined, (waited) => (queuedSeconds = waited));
      sendJson(res, 200, { text: done.text, queuedSeconds, ...generationEnd(done, seed, warnings, signal) });
      return;
    }
    await this.streamGeneration(request, mode, seed, warnings, res, signal);
  }

  /**
   * A sample streamed as server-sent events or NDJSON (streamWriter): how long it waited for a thread, its text as the thread
   * draws it, then how it ended (and its `warnings`). While the answer's buffer is full (its client is not reading), the job
   * is held, drawing nothing, until it drains: the time limit and a client that goes still stop it.
   */
  private async streamGeneration(
    request: JobOf<'generate'>, mode: StreamMode, seed: number, warnings: readonly string[], res: ServerResponse, signal: AbortSignal,
  ): Promise<void> {
    const write = streamWriter(res, mode);
    const done = await this.runJob(request, signal, (pieces) => {
      if (!write.pieces(pieces)) return drained(res);
    }, write.taken);
    write.done(generationEnd(done, seed, warnings, signal));
    res.end();
  }

  /** /v1/complete: `n` continuations of a prefix, each ending at its first `<EOS>` or at `len`. */
  private async complete(input: SettingsInput<typeof COMPLETE_FIELDS>, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { model: name, prefix, n = COMPLETE_FIELDS.n.default, len: given, ...sampling } = input;
    const warnings = warningMessages(greedyWarnings(sampling));
    const seed = sampling.seed ?? SAMPLE_SETTINGS.seed.default();
    const len = this.len(given, COMPLETE_FIELDS.len.default);
    const model = this.askedModel(name);
    const done = await this.runJob({ kind: 'complete', model, n, options: { ...sampling, prime: required(prefix, 'prefix'), len, seed, stopAtEos: true } }, signal);
    sendJson(res, 200, { ...done, seed, ...warningsField(warnings) });
  }

  /** torch-rnn-server's `GET /generate?start_text=…`: a /v1/complete whose prefix is start_text. */
  private legacyGenerate(input: Record<string, unknown>, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { start_text: prefix, ...rest } = readLegacyGenerate(input);
    return this.complete({ ...rest, prefix: required(prefix, 'start_text') }, res, signal);
  }

  /** /v1/score: the text's loss, and each prediction with its `top` alternatives. */
  private async score(input: Record<string, unknown>, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { model: name, text, top = SCORE_FIELDS.top.default } = readScore(input);
    const request: JobOf<'score'> = { kind: 'score', model: this.askedModel(name), text: required(text, 'text'), maxTokens: this.options.maxTextTokens, top };
    sendEncoded(res, await this.runJob(request, signal));
  }

  /** /v1/activations: a layer's hidden units after each token of the text: the one `unit` names, or the `top` that vary most. */
  private async activations(input: Record<string, unknown>, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const { model: name, text, layer = ACTIVATIONS_FIELDS.layer.default, unit, top } = readActivations(input);
    const model = this.askedModel(name);
    const { numLayers, hiddenSize } = this.models.get(model)!.config;
    const layerIndex = modelIndex('layer', layer, numLayers), unitIndex = unit === undefined ? null : modelIndex('unit', unit, hiddenSize);
    if (unit !== undefined && top !== undefined) throw new HttpError(400, 'top picks the most active units; unit names one: give one of them', 'top');
    const request: JobOf<'activations'> = {
      kind: 'activations', model, text: required(text, 'text'), maxTokens: this.options.maxTextTokens, layer: layerIndex, unit: unitIndex,
      top: top ?? ACTIVATIONS_FIELDS.top.default,
    };
    sendEncoded(res, await this.runJob(request, signal));
  }

  /** A job on the pool; how one that failed is answered: jobFailure (a stop by the client needs no answer). */
  private async runJob<R extends JobRequest>(request: R, signal: AbortSignal, onPieces?: OnPieces, onStart?: OnStart): Promise<JobAnswers[R['kind']]> {
    try {
      return await this.pool.run(request, signal, onPieces, onStart) as JobAnswers[R['kind']];
    } catch (err) {
      throw jobFailure(err, this.options.timeLimitMs);
    }
  }
}

/**
 * The answer to a job that failed on the pool. The server was busy, so that a retry may be
 * served: the queue was full, no thread runs, or every thread stayed taken for the request's
 * whole time limit while it waited (it never started): 503 with Retry-After. The server shutting
 * down: 503 that closes the connection, with no Retry-After (it will not be back). The job ran past the
 * time limit once a thread took it: 503 saying how much of the limit it waited for that thread (a
 * generation is not a failure: it ends early, `finish: "time"`).
 * A field the thread refused: 400. The thread running it ended, or was ended for it was still
 * running the job STOP_GRACE_MS after the time limit (a fault of the server's: a retry would
 * likely be stuck again): 500.
 */
export function jobFailure(err: unknown, timeLimitMs: number): unknown {
  const limit = durationText(timeLimitMs / 1000, true);
  if (err instanceof QueueFullError || err instanceof NoThreadError) return busy(err.message);
  if (err instanceof ShuttingDownError) return new HttpError(503, err.message, undefined, { Connection: 'close' });
  if (err instanceof JobStoppedError && err.queued) {
    return busy(`every generation thread was busy for the whole time limit of ${limit}, which the request spent waiting in the queue`);
  }
  if (err instanceof JobStoppedError) {
    const waited = err.queuedSeconds > 0 ? `, ${durationText(err.queuedSeconds, true)} of it waiting in the queue for a generation thread` : '';
    return new HttpError(503, `the request ran past the time limit of ${limit}${waited}`);
  }
  if (err instanceof JobError) return new HttpError(400, err.message, err.field);
  if (err instanceof ThreadStuckError) {
    return new HttpError(500, `the request ran past the time limit of ${limit}, and its generation thread had not stopped ` +
      `${durationText(err.graceMs / 1000, true)} later: ${stuckThreadFate(err.replaced)}`);
  }
  if (err instanceof ThreadLostError) return new HttpError(500, err.message);
  return err;
}

/** The server was too busy to serve a request, saying why: 503, to be asked again after Retry-After. */
function busy(why: string): HttpError {
  return new HttpError(503, `${why}: try again shortly`, undefined, { 'Retry-After': String(RETRY_AFTER_S) });
}

/** A field's value out of what it may be here (`expected`): 400 naming it. */
function fieldError(field: string, expected: string, value: unknown): HttpError {
  return new HttpError(400, optionMessage(field, { expected, value }), field);
}

/** A request's `index` of the model's `count` layers or units (`field`): an integer from 0 to count - 1, else 400 naming that range. */
function modelIndex(field: string, index: unknown, count: number): number {
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) throw fieldError(field, integerFrom(0, count - 1).expected, index);
  return index;
}

/** A field a request must give. */
function required<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new HttpError(400, `${field} is missing: give it as a string`, field);
  return value;
}

/**
 * How a sample ended, as its answer's last fields say it: a stop by the time limit is `finish: "time"`; and the fields its
 * request gave that changed nothing (`warnings`).
 */
function generationEnd(done: GenerateDone, seed: number, warnings: readonly string[], signal: AbortSignal) {
  const finish = done.finish === 'stopped' && signal.reason === 'time' ? 'time' : done.finish;
  return { tokens: done.tokens, finish, seed, unknownTokens: done.unknownTokens, ...warningsField(warnings) };
}

/** A request's warnings as its answer says them, each field named as the request names it. */
function warningMessages(warnings: readonly InputError[]): string[] {
  return warnings.map((warning) => warning.message);
}

/** A beam search's request giving a field that only drawing reads (NOT_FOR_BEAM, stream): 400 naming it. */
function refuseDrawingFields(sampling: Partial<Record<(typeof NOT_FOR_BEAM)[number], unknown>>, stream: StreamMode | undefined): void {
  for (const field of NOT_FOR_BEAM) {
    if (sampling[field] !== undefined) throw new HttpError(400, notForBeam(field, 'beam'), field);
  }
  if (stream !== undefined) throw new HttpError(400, notForBeam('stream', 'beam', 'a beam search answers once, when it ends'), 'stream');
}

/** The playground's folder: src/serve/page, beside this file in src/ or reached from dist/src/serve. */
function pageFolder(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('./page/', here) : new URL('../../../src/serve/page/', here);
}

/**
 * What the playground's script finds as `plot`: `rnn plot`'s rules for a loss chart's axes (the loss ceiling, the losses
 * spanned, the ticks) and labels (a token count, the losses above the chart), written at the script's head from their own
 * source, so that the page draws its loss chart by the rules `rnn plot` draws one by. Each uses nothing but its arguments
 * and the language's globals.
 */
const PAGE_PLOT = `const plot = { ${Object.entries({ lossCeiling, lossRange, niceTicks, formatTokenCount, offChartNote })
  .map(([name, rule]) => `${name}: ${rule.toString()}`).join(', ')} };\n`;

/** A file of the playground's folder, its script (playground.js) with PAGE_PLOT at its head. */
function pageFile(file: string): string {
  const text = readFileSync(new URL(file, pageFolder()), 'utf8');
  return file === 'playground.js' ? `${PAGE_PLOT}${text}` : text;
}

/**
 * /v1/models' list: each served model's info and loss history, without what names a file (its
 * checkpoint's path, its command line, its corpus, its base model's path) or its vocabulary, whose size it gives.
 */
function servedModelList(models: ReadonlyMap<string, Model>) {
  return [...models].map(([name, model]) => {
    const { config, path: _path, command: _command, corpus: _corpus, vocab: _vocab, initFrom, ...info } = model.info;
    return {
      name, ...info, initFrom: initFrom && { sha256: initFrom.sha256, step: initFrom.step }, model: config.model,
      history: model.history.map((h) => ({ step: h.step, tokensSeen: h.tokensSeen, trainLoss: h.trainLoss, valLoss: h.valLoss })),
    };
  });
}
