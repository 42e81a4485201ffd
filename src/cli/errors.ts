import { CommanderError } from 'commander';
import { CheckpointError } from '../checkpoint/errors.js';
import { InputError, flagName } from '../input/settings.js';
import type { Vocabulary } from '../text/vocab.js';

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

/** A warning as its line reads: `rnn: warning: …`. */
export function warningLine(message: string): string {
  return `rnn: warning: ${message}`;
}

/** One line on stderr for what the user should know but need not stop for, its settings named as flags. */
export function warn(warning: InputError | string): void {
  process.stderr.write(`${warningLine(typeof warning === 'string' ? warning : warning.messageNaming(flagName))}\n`);
}

/**
 * Warns on stderr when a text (named `source`) has `unknown` tokens outside the model's
 * vocabulary (characters, or words at the word level), saying what becomes of them.
 */
export function warnUnknownTokens(vocab: Vocabulary, modelPath: string, source: string, unknown: number, outcome: string): void {
  if (unknown > 0) {
    const unit = vocab.level === 'word' ? 'word' : 'character';
    warn(`${source} has ${unknown} ${unit}${unknown === 1 ? '' : 's'} outside the vocabulary of ${modelPath}; ${outcome}`);
  }
}
