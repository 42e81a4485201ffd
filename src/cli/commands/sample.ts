import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { loadModel, resolveCheckpointPath } from '../../generate/load.js';
import { sampleText } from '../../generate/sample.js';
import { createStepper, defaultStepperWorkers } from '../../parallel/inference.js';
import { readTextFile } from '../../text/corpus.js';
import { UserError, positiveInteger } from '../errors.js';

interface SampleFlags {
  checkpoint?: string;
  len?: string;
  temperature?: string;
  topK?: string;
  topP?: string;
  prime?: string;
  primeFile?: string;
  seed?: string;
  stopAtEos?: boolean;
  workers?: string;
}

const MAX_SEED = 0xffffffff;

export function register(program: Command): void {
  program
    .command('sample')
    .summary('generate text from a checkpoint')
    .description(
      'Generate text from a checkpoint, streamed to stdout: the prime (verbatim), then --len drawn characters. ' +
        'A drawn <EOS> (end of document) is printed as a line break unless --stop-at-eos stops there.',
    )
    .option('--checkpoint <file>', 'checkpoint to sample from (default: the newest under checkpoints/)')
    .option('--len <n>', 'characters to generate, not counting the prime (default 200)')
    .option('--temperature <t>', 'softmax temperature; 0 picks the most probable character (default 1)')
    .option('--top-k <k>', 'draw only among the k most probable characters')
    .option('--top-p <p>', 'draw only among the most probable characters whose probabilities add up to p (0 < p <= 1)')
    .option('--prime <text>', 'text the model reads before generating; printed first')
    .option('--prime-file <file>', 'read the prime from a UTF-8 file')
    .option('--seed <n>', `random seed, 0..${MAX_SEED} (default: a random one)`)
    .option('--stop-at-eos', 'stop when the model ends the document (<EOS>)')
    .option('--workers <n>', 'threads that share each step (default: every core, at least 8 hidden units each)')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn sample --len 500 --temperature 0.8\n' +
        '  rnn sample --checkpoint checkpoints/RUN/best.json --prime "ROMEO:" --top-k 5 --seed 7 > romeo.txt',
    )
    .action((flags: SampleFlags) => runSample(flags));
}

async function runSample(flags: SampleFlags): Promise<void> {
  const length = positiveInteger('--len', flags.len ?? '200');
  const temperature = parseNumber('--temperature', flags.temperature ?? '1', (t) => t >= 0, 'a number >= 0');
  const topK = flags.topK === undefined ? undefined : positiveInteger('--top-k', flags.topK);
  const topP = flags.topP === undefined ? undefined : parseNumber('--top-p', flags.topP, (p) => p > 0 && p <= 1, 'a number in (0, 1]');
  const workersFlag = flags.workers === undefined ? undefined : positiveInteger('--workers', flags.workers);
  const seed = flags.seed === undefined ? randomInt(MAX_SEED + 1) : parseSeed(flags.seed);
  if (flags.prime !== undefined && flags.primeFile !== undefined) throw new UserError('use either --prime or --prime-file, not both');
  const prime = flags.primeFile !== undefined ? readTextFile(flags.primeFile) : flags.prime ?? '';

  const { path, config, params, vocab } = loadModel(resolveCheckpointPath(flags.checkpoint));
  const unknown = vocab.countUnknown(prime);
  if (unknown > 0) {
    const source = flags.primeFile ?? '--prime';
    process.stderr.write(
      `rnn: warning: ${source} has ${unknown} character${unknown === 1 ? '' : 's'} outside the vocabulary of ${path}; ` +
        'the model reads them as <UNK>\n',
    );
  }

  const out = process.stdout;
  // A reader that closes the pipe early (`| head`) has all it wants.
  out.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
  out.write(prime);
  const workers = workersFlag ?? defaultStepperWorkers(config);
  const stepper = await createStepper(config, params, workers);
  // Stream in pieces: one write per character would cost more than drawing it.
  let pending = '', flushedAt = performance.now();
  try {
    sampleText({
      config, params, vocab, length, temperature, topK, topP, prime, seed, stepper,
      stopAtEos: flags.stopAtEos === true,
      onText: (chunk) => {
        pending += chunk;
        if (pending.length >= 256 || performance.now() - flushedAt > 50) {
          out.write(pending);
          pending = '';
          flushedAt = performance.now();
        }
      },
    });
  } finally {
    await stepper.close();
  }
  out.write(pending);
  // A terminal gets a final line break; a pipe or file gets exactly the text.
  if (out.isTTY) out.write('\n');
}

function parseNumber(flag: string, raw: string, ok: (x: number) => boolean, expected: string): number {
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x) || !ok(x)) throw new UserError(`${flag} must be ${expected} (got ${raw})`);
  return x;
}

function parseSeed(raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(n) || n < 0 || n > MAX_SEED) {
    throw new UserError(`--seed must be an integer from 0 to ${MAX_SEED} (got ${raw})`);
  }
  return n;
}
