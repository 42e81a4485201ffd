import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveCheckpointPath } from '../../checkpoint/find.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { SettingError, numeric, parseSettings } from '../../input/settings.js';
import type { ServedModel } from '../../serve/jobs.js';
import { RnnServer, isLoopback } from '../../serve/server.js';
import { KERNELS_HELP, kernelsFlag, positiveIntegerFlag } from '../flags.js';

const ServeFlagsSchema = z.strictObject({
  checkpoint: z.array(z.string()),
  port: numeric(z.int().min(0).max(65535)).optional().describe('a port number from 0 to 65535 (0: any free port)'),
  host: z.string().min(1).optional().describe('a host name or address'),
  token: z.string().min(1).optional().describe('a non-empty string'),
  cors: z.url().optional().describe('an origin such as https://example.com'),
  maxBody: positiveIntegerFlag,
  maxLen: positiveIntegerFlag,
  timeLimit: numeric(z.number().gt(0)).optional().describe('a number of seconds > 0'),
  workers: positiveIntegerFlag,
  queue: numeric(z.int().min(0)).optional().describe('an integer >= 0'),
  kernels: kernelsFlag,
});

/** A model's name in requests: NAME of `NAME=PATH`, else the file's name without `.json`. */
function servedModel(arg: string): ServedModel {
  const named = /^([A-Za-z0-9_.-]+)=(.+)$/.exec(arg);
  const path = resolveCheckpointPath(named ? named[2] : arg);
  return { name: named ? named[1]! : basename(path).replace(/\.json$/, ''), path };
}

export function register(program: Command): void {
  program
    .command('serve')
    .summary('serve models over HTTP, with a playground')
    .description(
      'Serve checkpoints over a JSON HTTP API (generate, complete, score, activations; docs/serve.md) and a playground page at /. ' +
        'Each model is loaded once; generation runs on worker threads. Binds 127.0.0.1 unless --host says otherwise.',
    )
    .option('--checkpoint <[name=]file>', 'a model to serve, by name (default: the file name); repeatable (default: the newest under checkpoints/)',
      (value: string, previous: string[]) => [...previous, value], [])
    .option('--port <n>', 'port to listen on; 0 picks a free one (default 8080)')
    .option('--host <address>', 'address to bind (default 127.0.0.1; 0.0.0.0 opens it to the network: set --token)')
    .option('--token <token>', 'require Authorization: Bearer TOKEN on every API request (default: RNN_TOKEN, else none)')
    .option('--cors <origin>', 'allow browser pages from this origin to call the API (default: none)')
    .option('--max-body <bytes>', 'largest request body (default 65536)')
    .option('--max-len <n>', 'largest len a request may ask (default 2000)')
    .option('--time-limit <seconds>', "a request's time limit, its wait included (default 60)")
    .option('--workers <n>', 'generation threads: requests that run at once (default: every core)')
    .option('--queue <n>', 'requests that may wait for a thread; more are answered 503 (default 32)')
    .option('--kernels <kind>', KERNELS_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn serve --checkpoint checkpoints/RUN/best.json\n' +
        '  rnn serve --checkpoint shakespeare=a.json --checkpoint sotu=b.json --port 9000\n' +
        '  curl -s localhost:8080/v1/generate -d \'{"prime":"ROMEO:","len":100}\'',
    )
    .action((flags: Record<string, unknown>) => runServe(parseSettings(ServeFlagsSchema, flags)));
}

async function runServe(flags: z.output<typeof ServeFlagsSchema>): Promise<void> {
  const models = (flags.checkpoint.length > 0 ? flags.checkpoint : [undefined]).map((arg) =>
    arg === undefined ? servedModel(resolveCheckpointPath(undefined)) : servedModel(arg));
  const names = models.map((m) => m.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new SettingError('checkpoint', twice, (name) => `two models are named ${twice}: give each ${name('checkpoint')} a name, as NAME=FILE`);
  }
  const host = flags.host ?? '127.0.0.1';
  const token = flags.token ?? (process.env.RNN_TOKEN || null);
  if (!isLoopback(host)) {
    process.stderr.write(`rnn serve: warning: --host ${host} lets other machines reach the models` +
      `${token === null ? '; anyone who can reach it may use them: set --token or RNN_TOKEN' : ''}\n`);
  }
  const server = await RnnServer.start({
    models, host, port: flags.port ?? 8080, token, cors: flags.cors ?? null,
    maxBody: flags.maxBody ?? 65536, maxLen: flags.maxLen ?? 2000, timeLimitMs: (flags.timeLimit ?? 60) * 1000,
    workers: flags.workers ?? availableParallelism(), queue: flags.queue ?? 32, kernels: resolveKernels(flags.kernels),
  });
  process.stdout.write(`rnn serve: listening on ${server.url} (models: ${names.join(', ')})\n`);
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(signal === 'SIGINT' ? 130 : 143);
    stopping = true;
    process.stdout.write(`rnn serve: ${signal}: finishing the requests in flight, then stopping\n`);
    server.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
