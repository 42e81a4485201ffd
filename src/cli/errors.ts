import { CommanderError } from 'commander';
import { CheckpointError } from '../checkpoint/errors.js';
import { InputError, flagName } from '../input/settings.js';
import { grouped, tokenCount, type Vocabulary } from '../text/vocab.js';
import { byFrequency } from '../text/word-vocab.js';

/**
 * The one line a user sees for an error they can act on (bad input, a missing file, a flag out
 * of range), with every setting named as its flag; null for a fault of this program.
 */
export function userMessage(err: unknown): string | null {
  if (err instanceof InputError) return err.messageNaming(flagName);
  if (err instanceof CheckpointError) return err.message;
  return null;
}

/** One line on stderr for anything the user can act on; a stack only with RNN_DEBUG=1. Returns the exit status. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const message = userMessage(err);
  if (message !== null) {
    process.stderr.write(`rnn: ${message}\n`);
    return 1;
  }
  process.stderr.write(`rnn: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
  if (process.env.RNN_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return 70;
}

/** How many of a text's tokens outside the vocabulary a warning names. */
const UNKNOWN_NAMED = 5;

/**
 * Warns on stderr when `text` (named `source`) has tokens outside the model's vocabulary
 * (characters, or word tokens at the word level), naming the most frequent and saying that they
 * read as `<UNK>`.
 */
export function warnUnknownTokens(vocab: Vocabulary, modelPath: string, source: string, text: string): void {
  const unknown = vocab.unknownTokens(text);
  let occurrences = 0;
  for (const n of unknown.values()) occurrences += n;
  if (occurrences === 0) return;
  const named = byFrequency(unknown).slice(0, UNKNOWN_NAMED).map(([token, n]) => `${JSON.stringify(token)}${n > 1 ? ` ×${n}` : ''}`);
  const others = unknown.size - named.length;
  process.stderr.write(
    `rnn: warning: ${source} has ${tokenCount(occurrences, vocab.level)} outside the vocabulary of ${modelPath} ` +
      `(${named.join(', ')}${others > 0 ? ` and ${grouped(others)} other${others === 1 ? '' : 's'}` : ''}); ` +
      `${occurrences === 1 ? 'it reads' : 'they read'} as <UNK>\n`,
  );
}
