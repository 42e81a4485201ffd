/**
 * The character vocabulary (docs/text.md): id 0 is `<EOS>`, id 1 is `<UNK>`, then the
 * training text's characters in code-point order. A token is one Unicode code point.
 */
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

export class Vocabulary {
  /** Token id → token: `<EOS>`, `<UNK>`, then one code point per entry. */
  readonly tokens: string[];
  private readonly idByCodePoint: Map<number, number>;

  private constructor(tokens: string[]) {
    this.tokens = tokens;
    this.idByCodePoint = new Map();
    for (let id = UNK + 1; id < tokens.length; id++) {
      this.idByCodePoint.set(tokens[id]!.codePointAt(0)!, id);
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
    return new Vocabulary([EOS_TOKEN, UNK_TOKEN, ...kept.map((cp) => String.fromCodePoint(cp))]);
  }

  /** Rebuilds a vocabulary stored in a checkpoint or an `rnn-state/1` file, checking its shape. */
  static fromTokens(tokens: readonly string[]): Vocabulary {
    const fault = vocabularyFault(tokens);
    if (fault !== null) {
      const token = JSON.stringify(tokens[fault.id]);
      switch (fault.kind) {
        case 'special':
          throw new Error(
            `invalid vocabulary: it must start with "${EOS_TOKEN}", "${UNK_TOKEN}" but starts with ${JSON.stringify(tokens.slice(0, 2))}`,
          );
        case 'not-a-character':
          throw new Error(`invalid vocabulary: token ${fault.id} is ${token}, not a single character`);
        case 'repeat':
          throw new Error(`invalid vocabulary: token ${fault.id} ${token} appears twice`);
      }
    }
    return new Vocabulary([...tokens]);
  }

  /** Throws unless a model with this `vocabSize` reads this vocabulary's ids. */
  checkModelSize(vocabSize: number): void {
    if (this.size !== vocabSize) {
      throw new RangeError(`the vocabulary has ${this.size} tokens, the model has vocabSize ${vocabSize}`);
    }
  }

  /** The id of one character; `UNK` when it is not in the vocabulary. */
  idOf(ch: string): number {
    const cp = ch.codePointAt(0);
    if (cp === undefined || ch.length !== (cp > 0xffff ? 2 : 1)) return UNK;
    return this.idByCodePoint.get(cp) ?? UNK;
  }

  /** One id per code point; characters outside the vocabulary read as `UNK`. */
  encode(text: string): Int32Array {
    const ids = new Int32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      ids[n++] = this.idByCodePoint.get(cp) ?? UNK;
      i += cp > 0xffff ? 2 : 1;
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /** Text of a token sequence; `<EOS>` and `<UNK>` are written as `options` say. */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const eos = options.eos ?? '';
    const unk = options.unk ?? '\uFFFD';
    const parts: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (id === EOS) parts.push(eos);
      else if (id === UNK) parts.push(unk);
      else {
        const token = this.tokens[id];
        if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.size})`);
        parts.push(token);
      }
    }
    return parts.join('');
  }

  /** How many code points of `text` are not in the vocabulary (and would read as `<UNK>`). */
  countUnknown(text: string): number {
    let unknown = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!;
      if (!this.idByCodePoint.has(cp)) unknown++;
      i += cp > 0xffff ? 2 : 1;
    }
    return unknown;
  }
}

/** How a token list breaks the vocabulary's rules: which id, and what is wrong there. */
export type VocabularyFault =
  | { id: number; kind: 'special'; expected: string }
  | { id: number; kind: 'not-a-character' }
  | { id: number; kind: 'repeat'; earlier: number };

/**
 * The first fault of `tokens` as a vocabulary, or null: ids 0 and 1 must be `<EOS>` and
 * `<UNK>`, and every later token one code point, none twice.
 */
export function vocabularyFault(tokens: readonly unknown[]): VocabularyFault | null {
  const special: [number, string][] = [[EOS, EOS_TOKEN], [UNK, UNK_TOKEN]];
  for (const [id, expected] of special) {
    if (tokens[id] !== expected) return { id, kind: 'special', expected };
  }
  const seen = new Map<string, number>();
  for (let id = UNK + 1; id < tokens.length; id++) {
    const token = tokens[id];
    if (typeof token !== 'string' || [...token].length !== 1) return { id, kind: 'not-a-character' };
    const earlier = seen.get(token);
    if (earlier !== undefined) return { id, kind: 'repeat', earlier };
    seen.set(token, id);
  }
  return null;
}
