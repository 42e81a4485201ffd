import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { KERNELS_SETTING } from '../checkpoint/settings.js';
import { SCORE_TOP_MAX } from '../generate/score.js';
import { NON_NEGATIVE_INTEGER, POSITIVE_INTEGER, type SettingTable } from '../input/settings.js';
import { ACTIVATIONS_TOP_MAX } from './requests.js';

/** The longest time limit a timer can keep: node's timers hold at most 2^31 − 1 ms, and fire at once beyond. */
const MAX_TIME_LIMIT_S = Math.floor((2 ** 31 - 1) / 1000);

/**
 * The settings of `rnn serve`: the one home of each one's name, flag, range, default and help.
 * What a request may cost is capped here (body, len, beam, a scored text's tokens, time, queue, connections); the host and token say who
 * may send one.
 */
export const SERVE_SETTINGS = {
  port: {
    schema: z.int().min(0).max(65535), expected: 'a port number from 0 to 65535 (0: any free port)', arg: '<n>',
    help: 'port to listen on; 0 picks a free one', default: 8080,
  },
  host: {
    schema: z.string().min(1), expected: 'a host name or address', arg: '<address>',
    help: 'address to bind; any but loopback opens the models to the network (set --token)', default: '127.0.0.1',
  },
  token: {
    schema: z.string().min(1), expected: 'a non-empty string', arg: '<token>',
    help: 'require Authorization: Bearer TOKEN on every API request', defaultText: 'RNN_TOKEN, else none',
  },
  cors: {
    schema: z.url().refine(isOrigin), expected: 'an origin such as https://example.com (a scheme, a host and a port if any; no path)', arg: '<origin>',
    help: 'let browser pages from this origin call the API', defaultText: 'none',
  },
  allowedHost: {
    schema: z.array(z.string().regex(/^[^\s:/[\]]+$|^\[[0-9a-f:.]+\]$/i)), expected: 'a host name such as rnn.example: no scheme, no port', arg: '<name>',
    repeatable: true,
    help: 'bound to loopback, a name besides localhost and 127.0.0.0/8 that requests may give as Host (a reverse proxy\'s that passes its own); repeatable',
    defaultText: 'none',
  },
  maxBody: {
    ...POSITIVE_INTEGER, arg: '<bytes>', help: 'largest request body', default: 65536,
  },
  maxLen: {
    ...POSITIVE_INTEGER, arg: '<n>', help: 'largest len a request may ask', default: 2000,
  },
  maxBeam: {
    ...POSITIVE_INTEGER, arg: '<n>', help: 'widest beam a request may ask: a step costs beam × vocabulary', default: 64,
  },
  maxTextTokens: {
    ...POSITIVE_INTEGER, arg: '<n>',
    help: 'longest text, in tokens, that /v1/score and /v1/activations read: their answers hold for each token up to ' +
      `${SCORE_TOP_MAX + 1} tokens (score, top ${SCORE_TOP_MAX}), or its text, its name and up to ${ACTIVATIONS_TOP_MAX} values (activations)`,
    default: 8192,
  },
  timeLimit: {
    schema: z.number().gt(0).max(MAX_TIME_LIMIT_S), expected: `a number of seconds > 0, at most ${MAX_TIME_LIMIT_S} (about 24 days)`, arg: '<seconds>',
    help: "a request's time limit, its wait in the queue included", default: 60,
  },
  workers: {
    ...POSITIVE_INTEGER, arg: '<n>', help: 'generation threads: requests that run at once',
    default: () => availableParallelism(), defaultText: 'every core',
  },
  queue: {
    ...NON_NEGATIVE_INTEGER, arg: '<n>', help: 'requests that may wait for a thread; more are answered 503',
    default: 32,
  },
  maxConnections: {
    ...POSITIVE_INTEGER, arg: '<n>', help: 'open connections at once; one more takes the place of the connection idle longest since its answer, else is closed as it comes ' +
      '(the playground loads over one, and takes one more for each request it makes while a sample streams)',
    default: 512,
  },
  kernels: KERNELS_SETTING,
} as const satisfies SettingTable;

/** Whether a URL is an origin as browsers send it: no path beyond `/`, no query, no fragment. */
function isOrigin(url: string): boolean {
  if (!URL.canParse(url)) return false;
  const { pathname, search, hash } = new URL(url);
  return pathname === '/' && search === '' && hash === '';
}
