import type { DecodeOptions, TextWriter, TokenizedText, Vocabulary } from '../text/vocab.js';

/** What generation reads of a prime: its text and its ids. */
export type PrimeTokens = Pick<TokenizedText, 'text' | 'ids'>;

/** A prime as tokens: as given when already cut (`Vocabulary.tokenize`), else cut here. */
export function primeTokens(vocab: Vocabulary, prime: string | PrimeTokens | undefined): PrimeTokens {
  if (typeof prime === 'object') return prime;
  const text = prime ?? '';
  return { text, ids: vocab.encode(text) };
}

/**
 * A writer of the tokens drawn after a prime: at the word level it has read the prime's tokens
 * first (their text not written), so that the first drawn word is spaced after the prime as the
 * detokeniser spaces it, except after a prime that ends in a space, which spaces it already.
 */
export function continuationWriter(vocab: Vocabulary, prime: PrimeTokens, options: DecodeOptions): TextWriter {
  const writer = vocab.writer(options);
  // a character writer keeps no state from token to token: the prime changes nothing it writes
  if (vocab.level === 'char') return writer;
  for (let i = 0; i < prime.ids.length; i++) writer.read(prime.ids[i]!);
  let spacedByPrime = /[ \t]$/.test(prime.text);
  const unspaced = (text: string): string => {
    if (!spacedByPrime || text === '') return text;
    spacedByPrime = false;
    return text.replace(/^ /, '');
  };
  return {
    write: (id) => unspaced(writer.write(id)),
    read: (id) => writer.read(id),
    end: () => unspaced(writer.end()),
    get holding() {
      return writer.holding;
    },
  };
}
