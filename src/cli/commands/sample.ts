import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { z } from 'zod';
import { resolveCheckpointPath } from '../../checkpoint/find.js';
import { loadModel } from '../../checkpoint/load.js';
import { type BeamOptions, beamSearch, beamWarnings } from '../../generate/beam.js';
import { UNK_MODES, samplePieces } from '../../generate/sample.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { SeedSchema, SettingError, numeric, parseSettings } from '../../input/settings.js';
import { createStepper, defaultStepperWorkers } from '../../parallel/inference.js';
import { readTextFile } from '../../text/corpus.js';
import { userMessage, warnUnknownTokens } from '../errors.js';
import { KERNELS_HELP, kernelsFlag, positiveIntegerFlag } from '../flags.js';
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
  unk: z.enum(UNK_MODES).optional().describe(UNK_MODES.join(' or ')),
  workers: positiveIntegerFlag,
  kernels: kernelsFlag,
  beam: positiveIntegerFlag,
  lengthPenalty: numeric(z.number().min(0)).optional().describe('a number >= 0'),
  json: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command('sample')
    .summary('generate text from a checkpoint')
    .description(
      'Generate text from a checkpoint, streamed to stdout: the prime (verbatim), then --len drawn tokens ' +
        '(characters, or at the word level words and punctuation marks). ' +
        'A drawn <EOS> (end of document) is printed as a line break unless --stop-at-eos stops there.',
    )
    .option('--checkpoint <file>', 'checkpoint to sample from (default: the newest under checkpoints/)')
    .option('--len <n>', 'tokens to generate, not counting the prime: characters, or words and punctuation marks at the word level (default 200)')
    .option('--temperature <t>', 'softmax temperature; 0 picks the most probable token (default 1)')
    .option('--top-k <k>', 'draw only among the k most probable tokens')
    .option('--top-p <p>', 'draw only among the most probable tokens whose probabilities add up to p (0 < p <= 1)')
    .option('--prime <text>', 'text the model reads before generating; printed first')
    .option('--prime-file <file>', 'read the prime from a UTF-8 file')
    .option('--seed <n>', `random seed, 0..${MAX_SEED} (default: a random one)`)
    .option('--stop-at-eos', 'stop when the model ends the document (<EOS>; with --docs sentence, the sentence)')
    .option('--unk <mode>', 'resample: <UNK> is never drawn; show: it may be, and prints as <UNK> (default resample)')
    .option('--workers <n>', 'threads that share each step (default: one per million multiply-adds of a step, at most every core)')
    .option('--kernels <kind>', KERNELS_HELP)
    .option('--beam <n>', 'beam search: the most probable continuation a beam of n hypotheses finds, instead of drawing at random')
    .option('--length-penalty <a>', 'with --beam and --stop-at-eos: rank hypotheses by log-probability / tokens^a, so short ones are not preferred for their length (default 0)')
    .option('--json', 'with --beam: print one JSON object {"text","logProb","tokens"}')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn sample --len 500 --temperature 0.8\n' +
        '  rnn sample --beam 8 --prime "KING" --stop-at-eos --json\n' +
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

  const kernels = resolveKernels(flags.kernels);
  const { path, config, params, vocab } = loadModel(resolveCheckpointPath(flags.checkpoint));
  warnUnknownTokens(vocab, path, flags.primeFile ?? '--prime', prime, 'the model reads them as <UNK>');
  if (flags.beam !== undefined) {
    runBeam(flags, { config, params, vocab, prime, kernels, beam: flags.beam, length });
    return;
  }
  for (const setting of ['json', 'lengthPenalty'] as const) {
    if (flags[setting] !== undefined) throw new SettingError(setting, flags[setting], (name) => `${name(setting)} needs ${name('beam')}`);
  }

  const out = process.stdout;
  out.write(prime);
  const workers = flags.workers ?? defaultStepperWorkers(config);
  const stepper = await createStepper(config, params, workers, kernels);
  // Stream in pieces (one write per character would cost more than drawing it), each handed
  // over before drawing on, so that a reader that goes (`| head`) stops the drawing at once.
  let pending = '', flushedAt = performance.now();
  try {
    const pieces = samplePieces({
      config, params, vocab, length, temperature, topK, topP, prime, seed, stepper,
      stopAtEos: flags.stopAtEos === true, unk: flags.unk,
    });
    for (const piece of pieces) {
      pending += piece;
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

/**
 * `--beam N`: the most probable continuation, streamed as it settles (prime first), or as JSON. A beam
 * is deterministic, so the flags that shape random draws do not apply to it.
 */
function runBeam(flags: z.output<typeof SampleFlagsSchema>, search: Omit<BeamOptions, 'stopAtEos' | 'lengthPenalty'>): void {
  for (const setting of ['temperature', 'topK', 'topP', 'seed'] as const) {
    if (flags[setting] !== undefined) {
      throw new SettingError(setting, flags[setting], (name) => `${name(setting)} shapes random draws; ${name('beam')} draws none: leave one out`);
    }
  }
  const settings = { stopAtEos: flags.stopAtEos === true, lengthPenalty: flags.lengthPenalty ?? 0 };
  for (const warning of beamWarnings(settings)) process.stderr.write(`rnn: warning: ${userMessage(warning)}\n`);
  const out = process.stdout;
  if (flags.json) {
    const result = beamSearch({ ...search, ...settings });
    out.write(`${JSON.stringify({ text: result.text, logProb: result.logProb, tokens: result.tokens })}\n`);
    return;
  }
  out.write(search.prime ?? '');
  beamSearch({ ...search, ...settings, onText: (piece) => out.write(piece) });
  if (out.isTTY) out.write('\n');
}
