import { Detokenizer } from './detokenize.js';
import { isWordToken, tokenizeWords } from './words.js';

/**
 * The vocabulary of a model, at one of two levels. Either way id 0 is `<EOS>` and id 1 is `<UNK>`.
 *  - 'char' (spec/text.md): a token is one Unicode code point; then come the training text's
 *    characters in code-point order (`Vocabulary.build`).
 *  - 'word' (docs/words.md): a token is a word, a punctuation mark or a line break as
 *    `tokenizeWords` cuts them; then come the training text's most frequent tokens, most
 *    frequent first (`buildWordVocabulary` in word-vocab.ts).
 * `encode`, `decode`, `writer`, `countUnknown` and `idOf` work at the vocabulary's level.
 */
export type TextLevel = 'char' | 'word';

export const TEXT_LEVELS: readonly TextLevel[] = ['char', 'word'];

export const EOS = 0;
export const UNK = 1;
export const EOS_TOKEN = '<EOS>';
export const UNK_TOKEN = '<UNK>';

/** What `decode` writes for the two special ids. */
export interface DecodeOptions {
  /** Default '' — `<EOS>` ends a document and is not part of its text. */
  eos?: string;
  /** Default U+FFFD, the replacement character. */
  unk?: string;
}

/** `decode` options that print the special tokens by name, e.g. for debugging a stream. */
export const SPECIAL_NAMES: Readonly<Required<DecodeOptions>> = { eos: EOS_TOKEN, unk: UNK_TOKEN };

/**
 * Writes ids one at a time as text, for text printed as it is generated: the concatenation of
 * `write`'s results is `decode` of the same ids. At the word level what a token writes depends
 * on the tokens before it (spacing, quotes), so write a prime's ids too and discard the text.
 */
export interface TextWriter {
  write(id: number): string;
}

export class Vocabulary {
  /** Token id → token: `<EOS>`, `<UNK>`, then one code point (char) or one word token (word) per entry. */
  readonly tokens: string[];
  readonly level: TextLevel;
  private readonly idByCodePoint: Map<number, number>;
  private readonly idByWord: Map<string, number>;

  private constructor(tokens: string[], level: TextLevel) {
    this.tokens = tokens;
    this.level = level;
    this.idByCodePoint = new Map();
    this.idByWord = new Map();
    for (let id = UNK + 1; id < tokens.length; id++) {
      if (level === 'char') this.idByCodePoint.set(tokens[id]!.codePointAt(0)!, id);
      else this.idByWord.set(tokens[id]!, id);
    }
  }

  get size(): number {
    return this.tokens.length;
  }

  /**
   * Builds the vocabulary from the training text. A character seen fewer than
   * `minCount` times is left out, so it reads as `<UNK>` (the `--min-count` rule).
   */
  static build(trainingTexts: Iterable<string>, minCount = 1): Vocabulary {
    if (!Number.isInteger(minCount) || minCount < 1) {
      throw new RangeError(`minCount must be a positive integer, got ${minCount}`);
    }
    const counts = new Map<number, number>();
    for (const text of trainingTexts) {
      for (let i = 0; i < text.length; ) {
        const cp = text.codePointAt(i)!;
        counts.set(cp, (counts.get(cp) ?? 0) + 1);
        i += cp > 0xffff ? 2 : 1;
      }
    }
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([cp]) => cp);
    // Numeric sort: code-point order, which differs from JavaScript's UTF-16 string order above U+FFFF.
    kept.sort((a, b) => a - b);
    return new Vocabulary([EOS_TOKEN, UNK_TOKEN, ...kept.map((cp) => String.fromCodePoint(cp))], 'char');
  }

  /**
   * Rebuilds a vocabulary stored in a checkpoint or an `rnn-state/1` file, checking its shape:
   * `<EOS>`, `<UNK>` first, no token twice, and each token a single code point ('char') or a
   * non-empty word token without white space, or a line break ('word').
   */
  static fromTokens(tokens: readonly string[], level: TextLevel = 'char'): Vocabulary {
    if (tokens[EOS] !== EOS_TOKEN || tokens[UNK] !== UNK_TOKEN) {
      throw new Error(
        `invalid vocabulary: it must start with "${EOS_TOKEN}", "${UNK_TOKEN}" but starts with ` +
          JSON.stringify(tokens.slice(0, 2)),
      );
    }
    if (!TEXT_LEVELS.includes(level)) throw new Error(`invalid vocabulary level ${JSON.stringify(level)}`);
    const seen = new Set<string>([EOS_TOKEN, UNK_TOKEN]);
    for (let id = UNK + 1; id < tokens.length; id++) {
      const token = tokens[id];
      if (typeof token !== 'string' || !(level === 'char' ? [...token].length === 1 : isWordToken(token))) {
        const expected = level === 'char' ? 'a single character' : 'a word token (it is empty or holds white space)';
        throw new Error(`invalid vocabulary: token ${id} is ${JSON.stringify(token)}, not ${expected}`);
      }
      if (seen.has(token)) {
        throw new Error(`invalid vocabulary: token ${id} ${JSON.stringify(token)} appears twice`);
      }
      seen.add(token);
    }
    return new Vocabulary([...tokens], level);
  }

  /** The id of one token (a character, or a word token); `UNK` when it is not in the vocabulary. */
  idOf(token: string): number {
    if (this.level === 'word') return this.idByWord.get(token) ?? UNK;
    const cp = token.codePointAt(0);
    if (cp === undefined || token.length !== (cp > 0xffff ? 2 : 1)) return UNK;
    return this.idByCodePoint.get(cp) ?? UNK;
  }

  /** One id per code point (char) or per `tokenizeWords` token (word); tokens outside the vocabulary read as `UNK`. */
  encode(text: string): Int32Array {
    if (this.level === 'word') return this.encodeWords(tokenizeWords(text));
    const ids = new Int32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      ids[n++] = this.idByCodePoint.get(cp) ?? UNK;
      i += cp > 0xffff ? 2 : 1;
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** The ids of word tokens already cut by `tokenizeWords` (word level only). */
  encodeWords(tokens: readonly string[]): Int32Array {
    if (this.level !== 'word') throw new Error('encodeWords needs a word-level vocabulary');
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) ids[i] = this.idByWord.get(tokens[i]!) ?? UNK;
    return ids;
  }

  /**
   * Text of a token sequence; `<EOS>` and `<UNK>` are written as `options` say. Characters are
   * concatenated; word tokens are spaced by the detokeniser (detokenize.ts), where `<UNK>`'s
   * text is spaced like a word and `<EOS>`'s as a document boundary (`Detokenizer.boundary`).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const writer = this.writer(options);
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) parts.push(writer.write(ids[i]!));
    return parts.join('');
  }

  /** A writer of ids as text, starting afresh; `decode` of the ids written so far, piece by piece. */
  writer(options: DecodeOptions = {}): TextWriter {
    const eos = options.eos ?? '';
    const unk = options.unk ?? '\uFFFD';
    const tokenText = (id: number): string => {
      const token = this.tokens[id];
      if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.size})`);
      return token;
    };
    if (this.level === 'char') {
      return { write: (id) => (id === EOS ? eos : id === UNK ? unk : tokenText(id)) };
    }
    const detokenizer = new Detokenizer();
    return {
      write: (id) =>
        id === EOS ? detokenizer.boundary(eos) : detokenizer.push(id === UNK ? unk : tokenText(id)),
    };
  }

  /** How many code points (char) or word tokens (word) of `text` are not in the vocabulary (and would read as `<UNK>`). */
  countUnknown(text: string): number {
    if (this.level === 'word') return tokenizeWords(text).filter((token) => !this.idByWord.has(token)).length;
    let unknown = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      if (!this.idByCodePoint.has(cp)) unknown++;
      i += cp > 0xffff ? 2 : 1;
    }
    return unknown;
  }
}
