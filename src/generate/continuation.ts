import { documentSeparator, separatorAfter } from '../text/documents.js';
import { type DecodeOptions, EOS, type TextWriter, type TokenizedText, type Vocabulary } from '../text/vocab.js';

/** What generation reads of a prime: its text and its ids, and what a prime reads after them. */
export type PrimeTokens = Pick<TokenizedText, 'text' | 'ids' | 'primeTail'>;

/** A prime as generation reads it: its text, and every id read after the opening `<EOS>`. */
type PrimeReading = Pick<TokenizedText, 'text' | 'ids'>;

/**
 * A prime's reading: its tokens as given when already cut (`Vocabulary.tokenize`), else cut
 * here, its `ids` followed by its `primeTail`.
 */
export function primeTokens(vocab: Vocabulary, prime: string | PrimeTokens | undefined): PrimeReading {
  const { text, ids, primeTail } = typeof prime === 'object' ? prime : vocab.tokenize(prime ?? '');
  if (primeTail === undefined || primeTail.length === 0) return { text, ids };
  const read = new Int32Array(ids.length + primeTail.length);
  read.set(ids);
  read.set(primeTail, ids.length);
  return { text, ids: read };
}

/**
 * A writer of the tokens drawn after a prime: a drawn `<EOS>` writes what parts two of the
 * model's documents (`documentSeparator`, as `separatorText` writes it at the vocabulary's level).
 * At the word level it has read the prime's tokens first (their text not written), so that the
 * first drawn word is spaced after the prime as the detokeniser spaces it, except after a prime
 * that ends in a space, which spaces it already.
 */
export function continuationWriter(vocab: Vocabulary, prime: PrimeReading, options: Omit<DecodeOptions, 'eos'> = {}): TextWriter {
  if (vocab.level === 'char') return characterContinuation(vocab, prime, options);
  const writer = vocab.writer({ ...options, eos: vocab.separatorText(documentSeparator(vocab.documents)) });
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

/**
 * The character level's continuation writer: each token its character, and a drawn `<EOS>` what
 * parts two documents after the last character written, or the prime's (`separatorAfter`).
 */
function characterContinuation(vocab: Vocabulary, prime: PrimeReading, options: Omit<DecodeOptions, 'eos'>): TextWriter {
  const writer = vocab.writer({ ...options, eos: '' });
  // the last text written (the prime's to start), whose last character a drawn <EOS> reads
  let written = prime.text;
  const write = (id: number): string => {
    const text = id === EOS ? separatorAfter(vocab.documents, written.slice(-1)) : writer.write(id);
    if (text !== '') written = text;
    return text;
  };
  return {
    write,
    read: (id) => void write(id),
    end: () => '',
    holding: false,
  };
}
