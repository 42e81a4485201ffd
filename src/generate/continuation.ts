import type { DecodeOptions, TextWriter, Vocabulary } from '../text/vocab.js';

/**
 * A writer of the tokens drawn after a prime: at the word level it has written the prime's
 * tokens first (that text discarded), so that the first drawn word is spaced after the prime as
 * the detokeniser spaces it, except after a prime that ends in a space, which spaces it already.
 */
export function continuationWriter(vocab: Vocabulary, prime: string, primeIds: ArrayLike<number>, options: DecodeOptions): TextWriter {
  const writer = vocab.writer(options);
  // a character writer keeps no state from token to token: the prime changes nothing it writes
  if (vocab.level === 'char') return writer;
  for (let i = 0; i < primeIds.length; i++) writer.write(primeIds[i]!);
  let spacedByPrime = /[ \t]$/.test(prime);
  return {
    write(id: number): string {
      const text = writer.write(id);
      if (!spacedByPrime) return text;
      spacedByPrime = false;
      return text.replace(/^ /, '');
    },
  };
}
