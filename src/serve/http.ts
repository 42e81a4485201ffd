import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SamplePiece } from '../api/index.js';
import { hexByte } from '../input/issues.js';
import { SettingError, optionLabel } from '../input/settings.js';
import { CorpusError } from '../text/corpus.js';
import { decodeUtf8, firstInvalidUtf8Offset } from '../text/utf8.js';
import type { EncodedAnswer } from './jobs.js';
import type { StreamMode } from './requests.js';

/*
 * HTTP as `rnn serve` speaks it on node:http, below its routes (server.ts): a request's target,
 * method, JSON body and query read, every refusal an HttpError; answers written as one JSON line,
 * a thread's encoded JSON, the playground page or a stream of events; and a request that failed
 * answered `{"error", "field"?}`.
 */

/** An answer other than 200: status, one JSON line `{"error", "field"?}`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

/** How many characters of a client's value a refusal quotes: a request target, a Content-Encoding, an Expect. */
const QUOTED_CHARS = 80;

/** A client's value as a refusal quotes it: its first QUOTED_CHARS characters, as a JSON string. */
const quotedValue = (value: string | undefined): string => JSON.stringify(value?.slice(0, QUOTED_CHARS));

/** A request's target, which must be a path (`//host/…` is a path here, not a host). */
export function requestUrl(target: string): URL {
  const refused = () => new HttpError(400, `the request target must be a path such as /v1/generate (got ${quotedValue(target)})`);
  if (!target.startsWith('/')) throw refused();
  try {
    return new URL(`http://server${target}`);
  } catch {
    throw refused();
  }
}

/**
 * `method` is `allowed`, or HEAD for a GET where `headAsGet` (not for the API, whose GETs may run a job only to drop its answer);
 * else 405, its Allow header each method answered.
 */
export function expectMethod(method: string, allowed: string, headAsGet = true): void {
  const answered = headAsGet && allowed === 'GET' ? [allowed, 'HEAD'] : [allowed];
  if (!answered.includes(method)) throw new HttpError(405, `${method} is not allowed here; use ${allowed}`, undefined, { Allow: answered.join(', ') });
}

/** The client went away while its request arrived: nobody to answer. */
class ClientGoneError extends Error {}

/**
 * The request body as a JSON object; too large: 413; encoded (a Content-Encoding but identity): 415; not UTF-8, not
 * JSON or not an object: 400. A client that waits for `100 Continue` (`Expect: 100-continue`) is told to go on here,
 * once its body is wanted and its declared size and encoding taken: a request refused before sends no body.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBody: number): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length']);
  if (declared > maxBody) throw tooLarge(`the body is ${declared} bytes; the server takes at most ${maxBody} (its --max-body)`);
  refuseEncoding(req.headers['content-encoding']);
  if (CONTINUE.test(req.headers.expect ?? '')) res.writeContinue();
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBody) throw tooLarge(`the body is over ${maxBody} bytes, the most the server takes (its --max-body)`);
      chunks.push(chunk);
    }
  } catch (err) {
    throw err instanceof HttpError ? err : new ClientGoneError();
  }
  let text: string;
  try {
    text = decodeUtf8('the body', Buffer.concat(chunks));
  } catch (err) {
    throw err instanceof CorpusError ? new HttpError(400, err.message, 'body') : err;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`, 'body');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpError(400, 'the body must be a JSON object', 'body');
  return body as Record<string, unknown>;
}

/**
 * A body's Content-Encoding, which must be none or identity: a compressed body (gzip) is 415 naming the header, its
 * body unread, so the connection closes; never read as it came, where its bytes would be told not UTF-8 or not JSON.
 */
function refuseEncoding(encoding: string | undefined): void {
  if (encoding === undefined || /^\s*(?:identity)?\s*$/i.test(encoding)) return;
  throw new HttpError(415, `content-encoding: this server reads a body only as it is, not encoded (got ${quotedValue(encoding)}); ` +
    'send it without Content-Encoding', 'content-encoding', { Connection: 'close' });
}

/** A body over --max-body: 413, and the connection closes rather than read the rest. */
function tooLarge(message: string): HttpError {
  return new HttpError(413, message, 'body', { Connection: 'close' });
}

/**
 * A query's fields as URLSearchParams reads them (percent-escapes decoded, `+` a space, the last
 * of a name given twice), but a name or value whose bytes are not UTF-8 is refused (400 naming
 * the field, the byte and its offset in the field's value), as a body is, never read with U+FFFD.
 */
export function queryFields(search: string): Record<string, string> {
  const pairs = search.replace(/^\?/, '').split('&').filter((pair) => pair !== '').map((pair) => {
    const at = pair.indexOf('=');
    const name = queryText(at < 0 ? pair : pair.slice(0, at), null);
    return [name, queryText(at < 0 ? '' : pair.slice(at + 1), name)];
  });
  return Object.fromEntries(pairs) as Record<string, string>;
}

/**
 * The query of a route that does not read one: a POST, whose fields come from its JSON body alone (`fields` 'body'), or a
 * route that takes none ('none'): a field given there is refused (400 naming it), never ignored.
 */
export function refuseQuery(search: string, fields: 'body' | 'none'): void {
  const [name] = Object.keys(queryFields(search));
  if (name === undefined) return;
  const why = fields === 'body' ? 'this route reads its fields from the JSON body, not from the query: give it there' : 'this route takes no fields: leave the query out';
  throw new HttpError(400, `${optionLabel(name)}: ${why}`, name);
}

/**
 * A query's name (`field` null) or the value of its field `field`, percent-decoded; bytes that are not UTF-8: 400 naming
 * the escape that breaks them, as a URL writes it, and its byte offset in the decoded name or value.
 */
function queryText(raw: string, field: string | null): string {
  const encoded = Buffer.from(raw.replace(/\+/g, ' '));
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    const hex = encoded[i] === 0x25 ? encoded.subarray(i + 1, i + 3).toString('latin1') : '';
    if (/^[0-9a-f]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(encoded[i]!);
    }
  }
  const decoded = Buffer.from(bytes), at = firstInvalidUtf8Offset(decoded);
  if (at >= 0) {
    // what is not an escape is a string's own UTF-8, so the byte that breaks it is always an escape's
    const escape = `%${hexByte(decoded[at]!)}`;
    throw new HttpError(400, `${field ?? 'a name in the query'}: not valid UTF-8 once percent-decoded: ${escape}, byte ${at} of ` +
      `${field === null ? 'the name' : 'its value'}; percent-encode it as UTF-8, as encodeURIComponent does`, field ?? 'query');
  }
  return decoded.toString('utf8');
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** `body` as one JSON line, with `status` and any `headers`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** A 200 whose JSON body a generation thread wrote (jobs.ts's EncodedAnswer). */
export function sendEncoded(res: ServerResponse, { json }: EncodedAnswer): void {
  res.writeHead(200, { 'Content-Type': JSON_TYPE, 'Content-Length': json.byteLength });
  res.end(json);
}

/** The playground, made once when the server starts (playgroundPage): its HTML, and the policy that lets it run. */
export interface PlaygroundPage {
  body: Buffer;
  /** Its Content-Security-Policy: the page's own style sheet and script, by their hashes, and requests to the server alone. */
  policy: string;
}

/** The tags of the page's HTML that link its style sheet and its script, each by the name of its file in the page's folder. */
const PAGE_LINKS = /<link rel="stylesheet" href="\/([\w.-]+\.css)">|<script type="module" src="\/([\w.-]+\.js)"><\/script>/g;

/**
 * The playground as one answer: its HTML with the style sheet and the script it links written into it, so that a browser
 * loads it over one connection (a server of --max-connections 1 serves it whole); `read` gives a file of the page's folder.
 */
export function playgroundPage(html: string, read: (file: string) => string): PlaygroundPage {
  const hashes = { style: [] as string[], script: [] as string[] };
  const page = html.replace(PAGE_LINKS, (_tag, styleFile: string | undefined, scriptFile: string | undefined) => {
    const [kind, file] = styleFile !== undefined ? ['style', styleFile] as const : ['script', scriptFile!] as const;
    const text = read(file);
    if (text.toLowerCase().includes(`</${kind}`)) throw new Error(`${file} holds </${kind}, which would end it early written into the page`);
    hashes[kind].push(`'sha256-${createHash('sha256').update(text).digest('base64')}'`);
    return kind === 'style' ? `<style>${text}</style>` : `<script type="module">${text}</script>`;
  });
  return {
    body: Buffer.from(page),
    policy: `default-src 'self'; style-src ${hashes.style.join(' ')}; script-src ${hashes.script.join(' ')}; img-src 'self' data:`,
  };
}

/** The playground answered: under its policy, and asked again each time rather than taken from a cache (no-cache). */
export function sendPage(res: ServerResponse, { body, policy }: PlaygroundPage): void {
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, 'Cache-Control': 'no-cache', 'Content-Security-Policy': policy,
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/**
 * The CORS headers of an answer to a page of the --cors origin, which may read a busy answer's Retry-After: a browser
 * shows another origin's page no header of an answer beyond a few (Content-Type, Content-Length…) but those it exposes.
 */
export function allowOrigin(res: ServerResponse, origin: string): void {
  res.setHeader('Access-Control-Allow-Origin', origin);
  res.setHeader('Access-Control-Expose-Headers', 'Retry-After');
  res.setHeader('Vary', 'Origin');
}

/** Seconds a browser may keep the answer to a CORS preflight. */
const PREFLIGHT_MAX_AGE_S = 600;

/** A browser's CORS preflight (OPTIONS) answered: the methods and headers the API takes. */
export function answerPreflight(res: ServerResponse): void {
  res.writeHead(204, {
    'Access-Control-Allow-Methods': 'GET, POST', 'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_S),
  });
  res.end();
}

/** The stream a request's Accept header asks for: server-sent events, NDJSON, or none (one JSON answer). */
export function streamFromAccept(accept: string | undefined): StreamMode | null {
  if (accept?.includes('text/event-stream')) return 'sse';
  if (accept?.includes('application/x-ndjson')) return 'ndjson';
  return null;
}

/** A streamed sample's writes, each false when the answer's buffer is full (streamWriter). */
export interface StreamWriter {
  /** A thread took the sample after `queuedSeconds` in the server's queue (0: one was free), which the first event says. */
  taken: (queuedSeconds: number) => void;
  pieces: (pieces: readonly SamplePiece[]) => boolean;
  done: (end: object) => boolean;
}

/**
 * How a streamed sample writes its events: its pieces, an event each, in one write (`{"text"}`,
 * and `"eos": true` for a drawn `<EOS>`'s), then its end. As server-sent events, the end is
 * `event: done`; as NDJSON lines, `{"done": true, …}`. The first event (a piece, or the end where
 * none was drawn) says too how long the sample waited in the queue for a thread, `queuedSeconds`.
 * The headers go with the first write, so that a job refused before it draws any is answered with
 * its JSON error. False, as res.write says it: the answer's buffer is full, and 'drain' will say when it has room.
 */
export function streamWriter(res: ServerResponse, mode: StreamMode): StreamWriter {
  const event = mode === 'sse'
    ? (name: 'text' | 'done', data: object) => `${name === 'text' ? '' : `event: ${name}\n`}data: ${JSON.stringify(data)}\n\n`
    : (name: 'text' | 'done', data: object) => `${JSON.stringify(name === 'text' ? data : { [name]: true, ...data })}\n`;
  /** The fields the first event adds to its own; null once it is written. */
  let opening: { queuedSeconds: number } | null = { queuedSeconds: 0 };
  const withOpening = (data: object) => {
    if (opening === null) return data;
    const first = { ...data, ...opening };
    opening = null;
    return first;
  };
  let started = false;
  const write = (text: string) => {
    if (!started) {
      started = true;
      res.writeHead(200, {
        'Content-Type': mode === 'sse' ? 'text/event-stream; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
        'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no',
      });
    }
    return res.write(text);
  };
  return {
    taken: (queuedSeconds) => {
      if (opening !== null) opening.queuedSeconds = queuedSeconds;
    },
    pieces: (pieces) => write(pieces.map(({ text, eos }) => event('text', withOpening(eos ? { text, eos } : { text }))).join('')),
    done: (end) => write(event('done', withOpening(end))),
  };
}

/** Each answer's wait for room (drained), while one is pending. */
const roomWaits = new WeakMap<ServerResponse, Promise<void>>();

/**
 * Resolves once an answer whose buffer is full has room again ('drain'), or has closed. The pieces a thread sent before it
 * saw its stream held each wait on the one wait of their answer, not a listener each.
 */
export function drained(res: ServerResponse): Promise<void> {
  let wait = roomWaits.get(res);
  if (wait === undefined) {
    wait = new Promise((resolve) => {
      const settled = () => {
        res.off('drain', settled).off('close', settled);
        roomWaits.delete(res);
        resolve();
      };
      res.on('drain', settled).on('close', settled);
    });
    roomWaits.set(res, wait);
  }
  return wait;
}

/**
 * A request that failed, answered with one JSON line `{"error", "field"?}` (httpError): unless
 * its answer had begun (a stream), which then ends, or its client went away.
 */
export function answerFailure(res: ServerResponse, err: unknown): void {
  if (err instanceof ClientGoneError) {
    res.destroy();
    return;
  }
  const { status, message, field, headers } = httpError(err);
  if (res.headersSent) {
    res.end();
    return;
  }
  sendJson(res, status, { error: message, ...(field !== undefined && { field }) }, headers);
}

/** The answer to an error: an HttpError's own; a field a request broke (SettingError): 400; anything else: 500, its stack on stderr. */
function httpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof SettingError) return new HttpError(400, err.message, err.setting);
  process.stderr.write(`rnn serve: internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
  return new HttpError(500, 'internal error');
}

/**
 * What node:http could not read as a request gets one JSON line too, then the connection closes; closed with none
 * where an answer on the connection has begun (`answerBegun`), into whose body a status line would be written.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket, answerBegun: boolean): void {
  if (!socket.writable || err.code === 'ECONNRESET' || answerBegun) {
    socket.destroy();
    return;
  }
  const [status, reason, message] =
    err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'the request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'the request did not arrive in time']
        : [400, 'Bad Request', `the request is not valid HTTP/1.1 (${err.code ?? err.message})`];
  endSocket(socket, `${status} ${reason}`, message);
}

/** A CONNECT, which node:http hands over as a bare connection (a proxy's tunnel): 405 as one JSON line, then the connection closes. */
export function refuseConnect(_req: IncomingMessage, socket: Socket): void {
  // node:http has taken its own listeners off the connection, its 'error' one among them
  socket.on('error', () => socket.destroy());
  endSocket(socket, '405 Method Not Allowed', 'CONNECT is not allowed: this server is no proxy, and its routes take GET or POST', 'Allow: GET, POST\r\n');
}

/**
 * A connection that carries no ServerResponse answered with `status` and one JSON line `{"error"}`, then closed whole: node:http's
 * connections are half-open, so one only ended would stay open, holding a place under --max-connections, until its client closed its side.
 */
function endSocket(socket: Socket, status: string, message: string, headers = ''): void {
  const body = `${JSON.stringify({ error: message })}\n`;
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: ${JSON_TYPE}\r\n${headers}` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () => socket.destroy());
}

/** The Expect header of a client that waits for `100 Continue` before it sends its body, as node:http reads it. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;

/**
 * A request whose Expect header asks for anything but `100-continue` (which readJsonBody meets): 417
 * as one JSON line naming the header, its body unread, so the connection closes.
 */
export function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  const message = `expect: this server meets only Expect: 100-continue (got ${quotedValue(req.headers.expect)}); send the request without it`;
  answerFailure(res, new HttpError(417, message, 'expect', { Connection: 'close' }));
}
