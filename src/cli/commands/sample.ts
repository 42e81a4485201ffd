import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveCheckpointPath } from '../../checkpoint/find.js';
import { loadModel } from '../../checkpoint/load.js';
import { EOS_TEXT, sampleTokens } from '../../generate/sample.js';
import { SeedSchema, SettingError, numeric, parseSettings } from '../../input/settings.js';
import { createStepper, defaultStepperWorkers } from '../../parallel/inference.js';
import { readTextFile } from '../../text/corpus.js';
import { EOS } from '../../text/vocab.js';
import { warnUnknownCharacters } from '../errors.js';
import { positiveIntegerFlag } from '../flags.js';
import { stdoutClosed, writeStdout } from '../pipes.js';

const MAX_SEED = 0xffffffff;

const SampleFlagsSchema = z.strictObject({
  checkpoint: z.string().optional(),
  len: positiveIntegerFlag,
  temperature: numeric(z.number().min(0)).optional().describe('a number >= 0'),
  topK: positiveIntegerFlag,
  topP: numeric(z.number().gt(0).max(1)).optional().describe('a number in (0, 1]'),
  prime: z.string().optional(),
  primeFile: z.string().optional(),
  seed: SeedSchema.optional().describe(`an integer from 0 to ${MAX_SEED}`),
  stopAtEos: z.boolean().optional(),
  workers: positiveIntegerFlag,
});

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
    .action((flags: Record<string, unknown>) => runSample(parseSettings(SampleFlagsSchema, flags)));
}

async function runSample(flags: z.output<typeof SampleFlagsSchema>): Promise<void> {
  const { len: length = 200, temperature = 1, topK, topP } = flags;
  const seed = flags.seed ?? randomInt(MAX_SEED + 1);
  if (flags.prime !== undefined && flags.primeFile !== undefined) {
    throw new SettingError('primeFile', flags.primeFile, (name) => `use either ${name('prime')} or ${name('primeFile')}, not both`);
  }
  const prime = flags.primeFile !== undefined ? readTextFile(flags.primeFile) : flags.prime ?? '';

  const { path, config, params, vocab } = loadModel(resolveCheckpointPath(flags.checkpoint));
  warnUnknownCharacters(vocab, path, flags.primeFile ?? '--prime', prime, 'the model reads them as <UNK>');

  const out = process.stdout;
  out.write(prime);
  const workers = flags.workers ?? defaultStepperWorkers(config);
  const stepper = await createStepper(config, params, workers);
  // Stream in pieces (one write per character would cost more than drawing it), each handed
  // over before drawing on, so that a reader that goes (`| head`) stops the drawing at once.
  let pending = '', flushedAt = performance.now();
  try {
    const tokens = vocab.tokens;
    const draws = sampleTokens({
      config, params, vocab, length, temperature, topK, topP, prime, seed, stepper, stopAtEos: flags.stopAtEos === true,
    });
    for (const id of draws) {
      pending += id === EOS ? EOS_TEXT : tokens[id]!;
      if (pending.length >= 256 || performance.now() - flushedAt > 50) {
        await writeStdout(pending);
        if (stdoutClosed()) return;
        pending = '';
        flushedAt = performance.now();
      }
    }
  } finally {
    await stepper.close();
  }
  out.write(pending);
  // A terminal gets a final line break; a pipe or file gets exactly the text.
  if (out.isTTY) out.write('\n');
}
