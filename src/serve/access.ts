import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import { HttpError } from './http.js';

/*
 * Who may reach `rnn serve` and make its models work: the address it binds (loopback's, or one
 * that lets other machines in), the Host a request names when it is bound to loopback, the page
 * a browser's request comes from, and the bearer token.
 */

/** Whether an address to bind is loopback only (localhost, 127.0.0.0/8, ::1): any other lets other machines in, and `rnn serve` warns. */
export function isLoopback(host: string): boolean {
  const address = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (address === 'localhost' || address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isIPv4(v4) && v4.startsWith('127.');
}

/** The address `host` names to listen on: an IPv6 address as a URL writes it (`[::1]`) without its brackets. */
export function listenAddress(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1');
}

/**
 * A server bound to loopback answers requests for a loopback name only. A browser sends a page's
 * own name as Host: a page of another site whose name its owner made resolve to 127.0.0.1 (DNS
 * rebinding) would otherwise reach the models, and read the answers, as a page of this machine.
 * No Host at all (HTTP/1.0) is no browser's.
 */
export function checkLoopbackHost(host: string | undefined, bound: string, allowedHosts: ReadonlySet<string>): void {
  if (host === undefined) return;
  const name = URL.canParse(`http://${host}`) ? new URL(`http://${host}`).hostname : host;
  if (isLoopback(name) || allowedHosts.has(name)) return;
  throw new HttpError(403, `the Host header ${name === '' ? 'is empty' : `names ${name}`}: this server listens on loopback (${bound}) and answers requests for ` +
    'localhost, 127.0.0.0/8, [::1] or an --allowed-host only, so that a page of another site cannot reach it by a name of its own; ' +
    'connect to it by one of those, or give --host the address to serve', 'host');
}

/**
 * An API request a browser sends from a page of another origin than the server's own (or
 * --cors's) is refused before it runs. Any site a user visits could otherwise make the models
 * work: it could not read the answer, but it would take the threads. A page's fetch names its
 * origin (Origin); a GET of its <img> or <script> names none, but says whose it is (Sec-Fetch-Site).
 */
export function checkOrigin(req: IncomingMessage, cors: string | null): void {
  const { origin, host } = req.headers, site = req.headers['sec-fetch-site'];
  let page: string;
  if (origin !== undefined) {
    if (origin === cors || (host !== undefined && URL.canParse(origin) && new URL(origin).host === host.toLowerCase())) return;
    page = origin;
  } else if (site === 'cross-site' || site === 'same-site') {
    page = `another site (Sec-Fetch-Site: ${site})`;
  } else {
    return;
  }
  throw new HttpError(403, `a page of ${page} may not call this server: only its own pages may (and --cors's origin, when it is given)`, 'origin');
}

/** A request that carries the bearer token, when the server has one (--token, RNN_TOKEN); else 401. */
export function authorize(req: IncomingMessage, token: string | null): void {
  if (token === null) return;
  const given = /^Bearer +(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
  if (!timingSafeEqual(digest(given), digest(token))) {
    throw new HttpError(401, 'this server needs the header Authorization: Bearer TOKEN (its --token or RNN_TOKEN)', 'authorization', {
      'WWW-Authenticate': 'Bearer',
    });
  }
}

/** A text's SHA-256, so that tokens of any length compare in constant time. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
