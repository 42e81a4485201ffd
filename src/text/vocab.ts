/**
 * The character vocabulary (spec/text.md): id 0 is `<EOS>`, id 1 is `<UNK>`, then the
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

/** `decode` options that print the special tokens by name, e.g. for debugging a stream. */
export const SPECIAL_NAMES: Readonly<Required<DecodeOptions>> = { eos: EOS_TOKEN, unk: UNK_TOKEN };

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
    if (tokens[EOS] !== EOS_TOKEN || tokens[UNK] !== UNK_TOKEN) {
      throw new Error(
        `invalid vocabulary: it must start with "${EOS_TOKEN}", "${UNK_TOKEN}" but starts with ` +
          JSON.stringify(tokens.slice(0, 2)),
      );
    }
    const seen = new Set<string>();
    for (let id = UNK + 1; id < tokens.length; id++) {
      const token = tokens[id];
      if (typeof token !== 'string' || [...token].length !== 1) {
        throw new Error(`invalid vocabulary: token ${id} is ${JSON.stringify(token)}, not a single character`);
      }
      if (seen.has(token)) {
        throw new Error(`invalid vocabulary: token ${id} ${JSON.stringify(token)} appears twice`);
      }
      seen.add(token);
    }
    return new Vocabulary([...tokens]);
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
