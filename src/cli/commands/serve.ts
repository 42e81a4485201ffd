import { basename, dirname, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import type { Command } from 'commander';
import { z } from 'zod';
import { CHECKPOINT_DIR, CHECKPOINT_FLAG, NEWEST_CHECKPOINT, RUN_FOLDER_READS } from '../../checkpoint/find.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { SettingError, type SettingTable, type SettingsInput, parseSettingTable, withDefaults } from '../../input/settings.js';
import type { ServedModel } from '../../serve/jobs.js';
import { RnnServer } from '../../serve/server.js';
import { SERVE_SETTINGS } from '../../serve/settings.js';
import { warn } from '../errors.js';
import { addSettingFlags, checkpointFlag, workersOnCores } from '../flags.js';
import { ENDING_SIGNALS, exitAfter, hangsUpAgain } from '../signals.js';

/** `rnn serve`'s flags: the models, then the server's settings. */
const SERVE_FLAGS = {
  checkpoint: {
    schema: z.array(z.string()), expected: `${CHECKPOINT_FLAG.takes}, as PATH or NAME=PATH`, arg: '<[name=]file>', repeatable: true,
    help: `a model to serve (a checkpoint, or a run folder: ${RUN_FOLDER_READS}), named in requests by name (default: the run folder's name, or the file's where a file is named); ` +
      `repeatable (default: ${NEWEST_CHECKPOINT})`,
  },
  ...SERVE_SETTINGS,
} as const satisfies SettingTable;

type ServeFlags = SettingsInput<typeof SERVE_FLAGS>;

/**
 * A model's name in requests: NAME of `NAME=PATH`, else the run folder's name (the one given,
 * or the newest checkpoint's under checkpoints/), or the file's without `.json`.
 */
function servedModel(arg: string | undefined): ServedModel {
  const named = arg === undefined ? null : /^([A-Za-z0-9_.-]+)=(.*)$/.exec(arg);
  const given = named ? named[2] : arg;
  const path = checkpointFlag(given);
  const runFolder = given === undefined ? (resolve(dirname(path)) !== resolve(CHECKPOINT_DIR) ? dirname(path) : null)
    : path !== given ? given : null;
  return { name: named ? named[1]! : basename(resolve(runFolder ?? path)).replace(/\.json$/, ''), path };
}

export function register(program: Command): void {
  const command = program
    .command('serve')
    .summary('serve models over HTTP, with a playground')
    .description(
      'Serve checkpoints over a JSON HTTP API (generate, complete, score, activations; docs/serve.md) and a playground page at /. ' +
        `Each model is loaded once; generation runs on worker threads. Binds ${SERVE_SETTINGS.host.default} unless --host says otherwise.`,
    );
  addSettingFlags(command, SERVE_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn serve --checkpoint checkpoints/RUN/best.json\n' +
        '  rnn serve --checkpoint shakespeare=a.json --checkpoint sotu=b.json --port 9000\n' +
        '  curl -s localhost:9000/v1/generate -d \'{"prime":"ROMEO:","len":100}\'',
    )
    .action((flags: Record<string, unknown>) => runServe(parseSettingTable(SERVE_FLAGS, flags)));
}

/** Why the server could not listen, as the flag to change: --port taken or not allowed, --host not this machine's. */
function listenError(err: unknown, host: string, port: number): unknown {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new SettingError('port', port, (name) => `${name('port')} ${port}: ${host}:${port} is already in use; choose another port, or 0 for any free one`);
    case 'EACCES':
      return new SettingError('port', port, (name) => `${name('port')} ${port}: not allowed to listen there (ports below 1024 need privileges); choose another`);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new SettingError('host', host, (name) =>
        `${name('host')} ${host}: not an address of this machine; ${SERVE_SETTINGS.host.default} (the default) serves this machine only, ` +
          '0.0.0.0 every network');
    default:
      return err;
  }
}

async function runServe(given: ServeFlags): Promise<void> {
  const flags = withDefaults(SERVE_FLAGS, given);
  const models = (flags.checkpoint ?? [undefined]).map(servedModel);
  const names = models.map((m) => m.name);
  const twice = names.find((name, i) => names.indexOf(name) !== i);
  if (twice !== undefined) {
    throw new SettingError('checkpoint', twice, (name) => `two models are named ${twice}: give each ${name('checkpoint')} a name, as NAME=FILE`);
  }
  const { host, port } = flags;
  const token = flags.token ?? (process.env.RNN_TOKEN || null);
  // A long-lived server under load: V8 then grows its heaps (the server's and each thread's)
  // only as far as what they hold needs, not as far as the garbage between collections.
  setFlagsFromString('--optimize-for-size');
  const server = await RnnServer.start({
    models, host, port, token, cors: flags.cors === undefined ? null : new URL(flags.cors).origin, allowedHosts: flags.allowedHost ?? [],
    maxBody: flags.maxBody, maxLen: flags.maxLen, maxBeam: flags.maxBeam, maxTextTokens: flags.maxTextTokens,
    timeLimitMs: flags.timeLimit * 1000,
    workers: workersOnCores(flags.workers)!, queue: flags.queue, maxConnections: flags.maxConnections,
    kernels: flags.kernels ?? resolveKernels(),
  }).catch((err: unknown) => {
    throw listenError(err, host, port);
  });
  // judged by the address bound, however --host named it (127.1, a name that resolves to loopback)
  if (!server.onLoopback) {
    warn(`--host ${host} lets other machines reach the models` +
      `${token === null ? '; anyone who can reach it may use them: set --token or RNN_TOKEN' : ''}`);
  }
  process.stdout.write(`rnn serve: listening on ${server.url} (models: ${names.join(', ')})\n`);
  let stoppedBy: NodeJS.Signals | null = null;
  const stop = (signal: NodeJS.Signals) => {
    if (stoppedBy !== null) {
      if (hangsUpAgain(stoppedBy, signal)) return;
      exitAfter(signal);
    }
    stoppedBy = signal;
    process.stdout.write(`rnn serve: ${signal}: finishing the requests in flight, then stopping\n`);
    // after a hang-up rnn ends by it (exitAfter), where exiting would abort on the closed terminal
    const end = (status: number) => (signal === 'SIGHUP' ? exitAfter(signal) : process.exit(status));
    server.close().then(() => end(0), () => end(1));
  };
  // a closed terminal (SIGHUP) stops it as Ctrl-C does: the answers in flight are finished, not cut off
  for (const signal of ENDING_SIGNALS) process.on(signal, stop);
}
