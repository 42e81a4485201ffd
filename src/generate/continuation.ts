import type { DecodeOptions, TextWriter, Vocabulary } from '../text/vocab.js';

/**
 * A writer of the tokens drawn after a prime: it has written the prime's tokens first (that
 * text discarded), so that at the word level the first drawn word is spaced after the prime as
 * the detokeniser spaces it, except after a prime that ends in a space, which spaces it already.
 */
export function continuationWriter(vocab: Vocabulary, prime: string, primeIds: ArrayLike<number>, options: DecodeOptions): TextWriter {
  const writer = vocab.writer(options);
  for (let i = 0; i < primeIds.length; i++) writer.write(primeIds[i]!);
  let spacedByPrime = vocab.level === 'word' && /[ \t]$/.test(prime);
  return {
    write(id: number): string {
      const text = writer.write(id);
      if (!spacedByPrime) return text;
      spacedByPrime = false;
      return text.replace(/^ /, '');
    },
  };
}
