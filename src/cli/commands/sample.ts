import type { Command } from 'commander';
import { z } from 'zod';
import { type Model, type TokenizedText, loadModel } from '../../api/index.js';
import { beamWarnings } from '../../generate/beam.js';
import {
  NOT_FOR_BEAM, ONLY_FOR_BEAM, SAMPLE_SETTINGS, greedyWarnings, notForBeam, refuseWithoutBeam,
} from '../../generate/settings.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { KERNELS_SETTING } from '../../checkpoint/settings.js';
import { InputError, POSITIVE_INTEGER, SettingError, type SettingTable, type SettingsInput, parseSettingTable } from '../../input/settings.js';
import { defaultStepperWorkers } from '../../parallel/inference.js';
import { readTextFile } from '../../text/utf8.js';
import { refuseRnnFiles } from '../../checkpoint/corpus.js';
import { fileName } from '../../text/corpus-files.js';
import { warn, warnUnknownTokens } from '../errors.js';
import { STEPPER_WORKERS_DEFAULT, addSettingFlags, checkpointFlag, checkpointSetting, workersOnCores } from '../flags.js';
import { outputClosed, writeStdout } from '../pipes.js';

/** `rnn sample`'s flags: the sampling settings, and what the command reads and how it runs. */
const SAMPLE_FLAGS = {
  checkpoint: checkpointSetting('to sample from'),
  prime: { schema: z.string(), expected: 'the text to start from', arg: '<text>', help: 'text the model reads before generating, cut into documents as its corpus was (--docs); printed first, as written (CRLF as LF, a leading BOM dropped)' },
  primeFile: {
    schema: z.string().min(1), expected: 'a UTF-8 text file, or - for standard input', arg: '<file>',
    help: 'read the prime from a UTF-8 file (- reads standard input)',
  },
  ...SAMPLE_SETTINGS,
  workers: {
    ...POSITIVE_INTEGER, arg: '<n>',
    help: 'threads that share each step (not with --beam: a beam search runs on one thread, and gives the same result at any --workers)',
    defaultText: STEPPER_WORKERS_DEFAULT,
  },
  kernels: KERNELS_SETTING,
  json: { schema: z.boolean(), input: z.boolean(), help: 'with --beam: print one JSON object {"text","logProb","tokens"}' },
} as const satisfies SettingTable;

type SampleFlags = SettingsInput<typeof SAMPLE_FLAGS>;

export function register(program: Command): void {
  const command = program
    .command('sample')
    .summary('generate text from a checkpoint')
    .description(
      'Generate text from a checkpoint, streamed to stdout: the prime (as written), then --len drawn tokens ' +
        '(characters, or at the word level words and punctuation marks). ' +
        'A drawn <EOS> (end of document) is printed as what parts the model\'s documents (a line break; with --docs blank a blank line, ' +
        'with --docs sentence a space) unless --stop-at-eos stops there.',
    );
  addSettingFlags(command, SAMPLE_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn sample --len 500 --temperature 0.8\n' +
        '  rnn sample --beam 8 --prime "KING" --stop-at-eos --json\n' +
        '  rnn sample --checkpoint checkpoints/RUN/best.json --prime "ROMEO:" --top-k 5 --seed 7 > romeo.txt',
    )
    .action((flags: Record<string, unknown>) => runSample(parseSettingTable(SAMPLE_FLAGS, flags)));
}

/** A streamed sample's next piece is written once it holds PIECE_CHARS UTF-16 units, or PIECE_MS after the last. */
const PIECE_CHARS = 256;
const PIECE_MS = 50;

/**
 * The text of the --prime-file `path`; one that cannot be read as a text, or is an rnn model (a checkpoint
 * named in the place of the prime), is refused naming the flag.
 */
function readPrimeFile(path: string): string {
  try {
    refuseRnnFiles([path], 'a text to start from', (_, name) => `name the model with ${name('checkpoint')}, the prime's text file with ${name('primeFile')}`);
    return readTextFile(path);
  } catch (err) {
    if (err instanceof InputError) throw new SettingError('primeFile', path, (name) => `${name('primeFile')}: ${err.messageNaming(name)}`);
    throw err;
  }
}

async function runSample(flags: SampleFlags): Promise<void> {
  const seed = flags.seed ?? SAMPLE_SETTINGS.seed.default();
  if (flags.prime !== undefined && flags.primeFile !== undefined) {
    throw new SettingError('primeFile', flags.primeFile, (name) => `use either ${name('prime')} or ${name('primeFile')}, not both`);
  }
  const primeText = flags.primeFile !== undefined ? readPrimeFile(flags.primeFile) : flags.prime ?? '';

  const model = loadModel(checkpointFlag(flags.checkpoint), { kernels: resolveKernels(flags.kernels) });
  const prime = model.tokenize(primeText);
  warnUnknownTokens(model.vocab, model.path, flags.primeFile !== undefined ? fileName(flags.primeFile) : '--prime', prime.unknown);
  if (flags.beam !== undefined) {
    await runBeam(flags, model, prime, flags.beam);
    return;
  }
  refuseWithoutBeam(flags, ['json', ...ONLY_FOR_BEAM]);
  for (const warning of greedyWarnings(flags)) warn(warning);

  // a seed drawn at random is named to whoever watches, so that a good sample can be drawn again; a file or pipe gets
  // nothing, nor does temperature 0, which draws nothing at random
  if (flags.seed === undefined && flags.temperature !== 0 && process.stderr.isTTY) process.stderr.write(`rnn: seed ${seed} (--seed ${seed} draws this sample again)\n`);
  const out = process.stdout;
  out.write(prime.text);
  let tail = prime.text.slice(-1);
  const workers = workersOnCores(flags.workers) ?? defaultStepperWorkers(model.config);
  // Stream in pieces (one write per token would cost more than drawing it), each handed
  // over before drawing on, so that a reader that goes (`| head`) stops the drawing at once.
  let pending = '', writtenAt = performance.now();
  const pieces = model.generate({
    prime, len: flags.len, temperature: flags.temperature, topK: flags.topK, topP: flags.topP, seed,
    stopAtEos: flags.stopAtEos === true, unk: flags.unk, workers,
  });
  for await (const piece of pieces) {
    pending += piece;
    if (pending.length >= PIECE_CHARS || performance.now() - writtenAt > PIECE_MS) {
      await writeStdout(pending);
      if (outputClosed('stdout')) return;
      tail = (tail + pending).slice(-1);
      pending = '';
      writtenAt = performance.now();
    }
  }
  out.write(pending);
  endLine(tail + pending);
}

/** A terminal gets a line break after the text, unless `tail`, the text's end, is one; a pipe or file gets exactly the text. */
function endLine(tail: string): void {
  if (process.stdout.isTTY && !tail.endsWith('\n')) process.stdout.write('\n');
}

/**
 * `--beam N`: the most probable continuation, streamed as it settles (prime first), or as JSON. A beam
 * is deterministic, so the flags that shape random draws do not apply to it. The search lets the event
 * loop run, so that a reader that goes (`| head`) ends it (guardOutput) rather than waiting for its end.
 */
async function runBeam(flags: SampleFlags, model: Model, prime: TokenizedText, beam: number): Promise<void> {
  for (const setting of NOT_FOR_BEAM) {
    if (flags[setting] !== undefined) {
      throw new SettingError(setting, flags[setting], (name) => notForBeam(name(setting), name('beam')));
    }
  }
  const settings = { stopAtEos: flags.stopAtEos === true, lengthPenalty: flags.lengthPenalty ?? SAMPLE_SETTINGS.lengthPenalty.default };
  for (const warning of beamWarnings(settings)) warn(warning);
  const search = { prime, len: flags.len, beam, ...settings };
  const out = process.stdout;
  if (flags.json) {
    const result = await model.beam(search);
    out.write(`${JSON.stringify({ text: result.text, logProb: result.logProb, tokens: result.tokens })}\n`);
    return;
  }
  out.write(prime.text);
  let tail = prime.text.slice(-1);
  await model.beam({
    ...search,
    onText: (piece) => {
      out.write(piece);
      tail = (tail + piece).slice(-1);
    },
  });
  endLine(tail);
}
