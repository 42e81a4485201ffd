import { Detokenizer } from './detokenize.js';
import { type DocumentRule, readDocuments, sameDocumentRule, textAsRead, WHOLE_TEXTS } from './documents.js';
import { NO_SPACING, type Spacing } from './spacing.js';
import { isWordToken, tokenizeWords, WORD_RULE_VERSION, type WordRule, wordWindows } from './words.js';
import { counted, grouped } from '../input/counts.js';
import { checkPositiveInteger } from '../input/settings.js';

/** The two levels a vocabulary cuts text at: code points ('char') or word tokens ('word'). */
export const TEXT_LEVELS = ['char', 'word'] as const;
export type TextLevel = (typeof TEXT_LEVELS)[number];

/**
 * What a level's tokens are called in messages: characters, or tokens (words and punctuation
 * marks alike); `per` as in nats/char, nats/word.
 */
export interface TokenUnit {
  one: string;
  many: string;
  rate: string;
  per: string;
}

/** Each level's `TokenUnit`. */
export const TOKEN_UNITS: Readonly<Record<TextLevel, TokenUnit>> = {
  char: { one: 'character', many: 'characters', rate: 'chars/s', per: 'char' },
  word: { one: 'token', many: 'tokens', rate: 'tok/s', per: 'word' },
};

/**
 * `88-token vocabulary`, `10,000-token word vocabulary`: a vocabulary's size as every line that names one words it (rnn info's
 * table, whose row is labelled vocabulary, gives `88 tokens`).
 */
export function vocabularyText(size: number, level?: TextLevel): string {
  return `${grouped(size)}-token ${level === 'word' ? 'word ' : ''}vocabulary`;
}

/** `1 character`, `4,096 tokens`: a count of a level's tokens. */
export function tokenCount(n: number, level: TextLevel): string {
  const unit = TOKEN_UNITS[level];
  return counted(n, unit.one, unit.many);
}

/** The ids every vocabulary begins with, and their tokens: a document's end (and a stream's start), and a token it lacks. */
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
  /** The texts the `<UNK>`s stand for, in order (`encode`'s `unknown`): each `<UNK>` writes the next, while any are left. */
  unknownTexts?: readonly string[];
  /**
   * The texts the `<EOS>`s stand for, in order (a read text's `separators`): each `<EOS>` writes
   * the next, while any are left, else `eos`; at the word level, the line breaks of it (the
   * detokeniser spaces the words itself).
   */
  eosTexts?: readonly string[];
}

/**
 * Writes ids one at a time as text, for text printed as it is generated: the concatenation of
 * `write`'s results and then `end`'s is `decode` of the same ids. At the word level what a
 * token writes depends on the tokens before it (spacing, quotes), so `read` a prime's ids first;
 * and a straight quote, a ’, a ! or a - waits for the token after it, so `write` may hold one back until the next id.
 */
export interface TextWriter {
  /** The text of `id`, and of an id held before it; an `<UNK>` writes the next of the writer's `unknownTexts`, else its `unk`. */
  write(id: number): string;
  /** Takes `id` as `write` does, and never writes its text: an id whose text the reader has (a prime's). */
  read(id: number): void;
  /** The text of an id held back for the one after it: call it where the ids end. */
  end(): string;
  /** Whether an id's text is held back for the one after it. */
  readonly holding: boolean;
}

/**
 * A text cut into a vocabulary's tokens once (`Vocabulary.tokenize`), for the calls that read it:
 * a scorer reads `<EOS>`, `ids` and predicts them and a closing `<EOS>`; a sampler reads `<EOS>`,
 * `ids` and `primeTail`, then draws. Its ids are that vocabulary's: `cutBy` says which one cut it.
 */
export interface TokenizedText {
  /** The text cut, as a model reads it (`textAsRead`: a leading BOM dropped, CRLF as LF). */
  text: string;
  /** Its token ids, its documents' joined by `<EOS>` (`Vocabulary.documents`); a token outside the vocabulary reads as `<UNK>`. */
  ids: Int32Array;
  /** The text of each `<UNK>` of `ids`, in order. */
  unknown: string[];
  /** Where `ids` hold an `<EOS>`: the text between each two documents, as written (`readDocuments`); absent, none. */
  separators?: string[];
  /**
   * What a prime reads after `ids` (absent: nothing): `<EOS>` where the text ends a document, then
   * the white space after its last document that a whole text leaves out (`ReadText.rest`), those of
   * its tokens the vocabulary has.
   */
  primeTail?: Int32Array;
}

/** The vocabulary whose `tokenize` made each TokenizedText, held beside it: its fields (and JSON) are only what `tokenize` made. */
const CUT_BY = new WeakMap<object, Vocabulary>();

/**
 * The vocabulary whose `tokenize` made `tokenized`; undefined for one it did not make (built by
 * hand, read back from JSON, or a copy), whose ids only the one who built it can vouch for.
 */
export function cutBy(tokenized: object): Vocabulary | undefined {
  return CUT_BY.get(tokenized);
}

/**
 * The vocabulary of a model, at one of two levels. Either way id 0 is `<EOS>` and id 1 is `<UNK>`.
 *  - 'char' (docs/text.md): a token is one Unicode code point; then come the training text's
 *    characters in code-point order (`Vocabulary.build`).
 *  - 'word' (docs/words.md): a token is a word, a punctuation mark or a line break as
 *    `tokenizeWords` cuts them under the vocabulary's `wordRule`; then come the training text's
 *    most frequent tokens, most frequent first (`buildWordVocabulary` in word-vocab.ts).
 * `tokenize`, `encode`, `decode`, `writer` and `idOf` work at the vocabulary's level; `tokenize`
 * cuts a text a model reads into documents as the model's corpus was (`documents`).
 */
export class Vocabulary {
  /** Token id → token: `<EOS>`, `<UNK>`, then one code point (char) or one word token (word) per entry. */
  readonly tokens: string[];
  readonly level: TextLevel;
  /**
   * Word level: the version of the tokenizer rules its ids were made under, which `encode` and
   * `tokenize` cut text by, so that a model reads text as it was trained to.
   */
  readonly wordRule: WordRule;
  /** How a text a model reads is cut into documents (`tokenize`): as the model's corpus was. */
  readonly documents: DocumentRule;
  /** Word level: the marks its corpus spaces where the detokeniser would write them against a neighbour (spacing.ts). */
  readonly spacing: Spacing;
  private readonly idByCodePoint: Map<number, number>;
  private readonly idByWord: Map<string, number>;
  /** `sameAs`'s verdict on each vocabulary compared with this one. */
  private readonly verdicts = new WeakMap<Vocabulary, boolean>();

  private constructor(
    tokens: string[], level: TextLevel, wordRule: WordRule = WORD_RULE_VERSION, documents = WHOLE_TEXTS, spacing = NO_SPACING,
  ) {
    this.tokens = tokens;
    this.level = level;
    this.wordRule = wordRule;
    this.documents = documents;
    this.spacing = spacing;
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
    checkPositiveInteger('minCount', minCount);
    const counts = new Map<number, number>();
    for (const text of trainingTexts) {
      for (let i = 0; i < text.length; ) {
        const cp = text.codePointAt(i)!;
        counts.set(cp, (counts.get(cp) ?? 0) + 1);
        i += cp > 0xffff ? 2 : 1;
      }
    }
    return Vocabulary.fromCodePointCounts(counts, minCount);
  }

  /** `build`'s vocabulary from the training text's counts of each code point. */
  static fromCodePointCounts(counts: ReadonlyMap<number, number>, minCount: number): Vocabulary {
    checkPositiveInteger('minCount', minCount);
    const kept = [...counts].filter(([, n]) => n >= minCount).map(([cp]) => cp);
    // Numeric sort: code-point order, which differs from JavaScript's UTF-16 string order above U+FFFF.
    kept.sort((a, b) => a - b);
    return new Vocabulary([EOS_TOKEN, UNK_TOKEN, ...kept.map((cp) => String.fromCodePoint(cp))], 'char');
  }

  /**
   * Rebuilds a vocabulary stored in a checkpoint or an `rnn-state/1` file, checking its shape:
   * `<EOS>`, `<UNK>` first, no token twice, and each token a single code point ('char') or a
   * non-empty word token without white space, or a line break ('word'), made under the tokenizer
   * rules of version `wordRule`; a text it reads is cut into documents by `documents`, and its tokens written back
   * spaced as `spacing` says.
   */
  static fromTokens(
    tokens: readonly string[], level: TextLevel = 'char', wordRule: WordRule = WORD_RULE_VERSION, documents: DocumentRule = WHOLE_TEXTS,
    spacing: Spacing = NO_SPACING,
  ): Vocabulary {
    if (!TEXT_LEVELS.includes(level)) throw new Error(`invalid vocabulary level ${JSON.stringify(level)}`);
    const fault = vocabularyFault(tokens, level);
    if (fault !== null) {
      const token = JSON.stringify(tokens[fault.id]);
      switch (fault.kind) {
        case 'special':
          throw new Error(
            `invalid vocabulary: it must start with "${EOS_TOKEN}", "${UNK_TOKEN}" but starts with ${JSON.stringify(tokens.slice(0, 2))}`,
          );
        case 'not-a-token':
          throw new Error(`invalid vocabulary: token ${fault.id} is ${token}, not ${TOKEN_KIND[level]}`);
        case 'repeat':
          throw new Error(`invalid vocabulary: token ${fault.id} ${token} appears twice`);
      }
    }
    return new Vocabulary([...tokens], level, wordRule, documents, level === 'word' ? spacing : NO_SPACING);
  }

  /**
   * This vocabulary with `tokens` (none of them in it) added, by symbol: at the char level each
   * character takes its place in code-point order, moving the ids above it up; at the word level
   * they follow the others, in the order given, under the same `wordRule` and `spacing`. Either way it cuts
   * documents as this one. Map ids between the two with `idOf`, never by number.
   */
  withTokens(tokens: readonly string[]): Vocabulary {
    const known = this.tokens.slice(UNK + 1);
    if (this.level === 'word') {
      return Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, ...known, ...tokens], 'word', this.wordRule, this.documents, this.spacing);
    }
    const codePoints = [...known, ...tokens].map((token) => token.codePointAt(0)!);
    codePoints.sort((a, b) => a - b);
    return Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, ...codePoints.map((cp) => String.fromCodePoint(cp))], 'char', WORD_RULE_VERSION, this.documents);
  }

  /** This vocabulary, its tokens and ids the same, cutting a text it reads into documents by `documents`. */
  withDocuments(documents: DocumentRule): Vocabulary {
    return new Vocabulary(this.tokens, this.level, this.wordRule, documents, this.spacing);
  }

  /** This vocabulary, its tokens and ids the same, writing its tokens back spaced as `spacing` says (word level). */
  withSpacing(spacing: Spacing): Vocabulary {
    return this.level === 'word' ? new Vocabulary(this.tokens, this.level, this.wordRule, this.documents, spacing) : this;
  }

  /** Throws unless a model with this `vocabSize` reads this vocabulary's ids. */
  checkModelSize(vocabSize: number): void {
    if (this.size !== vocabSize) {
      throw new RangeError(`the vocabulary has ${this.size} tokens, the model has vocabSize ${vocabSize}`);
    }
  }

  /**
   * Whether `other` cuts every text into the ids this one does: the same level, the same tokens
   * with the same ids, the same documents and, at the word level, the same `wordRule` (two loads of
   * one checkpoint, a model and its fine-tuned copy). Compared once per pair of vocabularies,
   * O(size), then recalled.
   */
  sameAs(other: Vocabulary): boolean {
    if (other === this) return true;
    let same = this.verdicts.get(other);
    if (same === undefined) {
      same = (this.level === 'char' || this.wordRule === other.wordRule) && sameDocumentRule(this.documents, other.documents) &&
        this.sameTokens(other.tokens, other.level);
      this.verdicts.set(other, same);
      other.verdicts.set(this, same);
    }
    return same;
  }

  /** Whether `tokens` at `level` are this vocabulary's tokens, each with its id. */
  sameTokens(tokens: readonly string[], level: TextLevel): boolean {
    return this.level === level && this.size === tokens.length && this.tokens.every((token, id) => token === tokens[id]);
  }

  /** The id of one token (a character, or a word token); `UNK` when it is not in the vocabulary. */
  idOf(token: string): number {
    if (this.level === 'word') return this.idByWord.get(token) ?? UNK;
    const cp = token.codePointAt(0);
    if (cp === undefined || token.length !== (cp > 0xffff ? 2 : 1)) return UNK;
    return this.idByCodePoint.get(cp) ?? UNK;
  }

  /**
   * The text `given`, read as every text a model reads is (`textAsRead`: a leading BOM dropped,
   * CRLF as LF), cut once into documents (`readDocuments` by `documents`) and each into this
   * vocabulary's tokens (`encode`), the text of each `<UNK>` with them: its documents' ids joined
   * by `<EOS>`, and what a prime reads after them; `cutBy` names this vocabulary. A white space
   * token of the prime's tail that the vocabulary lacks (a line break, in a model that never saw
   * one inside a document) is left out, not read as `<UNK>`.
   */
  tokenize(given: string): TokenizedText {
    const text = textAsRead(given), unknown: string[] = [];
    const read = readDocuments(text, this.documents);
    const ids = joinedByEos(read.documents.map((doc) => this.encode(doc, unknown)));
    const rest = read.rest === '' ? [] : this.encode(read.rest).filter((id) => id !== UNK);
    const tail = read.ended ? [EOS, ...rest] : rest;
    const tokenized: TokenizedText = {
      text, ids, unknown,
      ...(read.separators.length > 0 && { separators: read.separators }),
      ...(tail.length > 0 && { primeTail: Int32Array.from(tail) }),
    };
    CUT_BY.set(tokenized, this);
    return tokenized;
  }

  /**
   * One id per code point (char) or per `tokenizeWords` token under `wordRule` (word); tokens outside the
   * vocabulary read as `UNK`, and the text of each of them goes onto `unknown` where given (in
   * order: what a TextWriter writes for the text's n-th `<UNK>`). A long text's words are cut a
   * window at a time (`wordWindows`), never held as one array of tokens.
   */
  encode(text: string, unknown?: string[]): Int32Array {
    if (this.level === 'word') {
      const parts: Int32Array[] = [];
      const windows = wordWindows('', text, this.wordRule);
      let step = windows.next();
      for (; !step.done; step = windows.next()) parts.push(this.encodeWords(tokenizeWords(step.value, this.wordRule), unknown));
      parts.push(this.encodeWords(tokenizeWords(step.value, this.wordRule), unknown));
      return joined(parts);
    }
    const ids = new Int32Array(text.length);
    let n = 0;
    for (let i = 0; i < text.length; ) {
      const cp = text.codePointAt(i)!, id = this.idByCodePoint.get(cp) ?? UNK;
      ids[n++] = id;
      if (id === UNK) unknown?.push(String.fromCodePoint(cp));
      i += cp > 0xffff ? 2 : 1;
    }
    return n === ids.length ? ids : ids.slice(0, n);
  }

  /**
   * The ids of word tokens already cut by `tokenizeWords` under `wordRule` (word level only), the
   * unknown ones' texts onto `unknown` as `encode`.
   */
  encodeWords(tokens: readonly string[], unknown?: string[]): Int32Array {
    if (this.level !== 'word') throw new Error('encodeWords needs a word-level vocabulary');
    const ids = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const id = this.idByWord.get(tokens[i]!) ?? UNK;
      ids[i] = id;
      if (id === UNK) unknown?.push(tokens[i]!);
    }
    return ids;
  }

  /**
   * Text of a token sequence; `<EOS>` and `<UNK>` are written as `options` say. Characters are
   * concatenated; word tokens are spaced by the detokeniser (detokenize.ts), where `<UNK>`'s
   * text is spaced like a word and `<EOS>`'s as a document boundary (`Detokenizer.boundary`).
   */
  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    return this.tokenTexts(ids, options).join('');
  }

  /**
   * The text each id writes in `decode`'s text, which is their concatenation: for text shown
   * token by token. At the word level a token the detokeniser reads with the one after it (a
   * straight quote, a ’, a ! or a -) is read with the next id's.
   */
  tokenTexts(ids: ArrayLike<number>, options: DecodeOptions = {}): string[] {
    const textOf = this.idText(options), eos = this.eosText(options);
    if (this.level === 'char') return Array.from(ids, (id) => textOf(id) ?? eos());
    const texts = Array.from(ids, (id) => textOf(id));
    // the text after each, empty ones passed over: what a straight quote, a ’, a ! or a - is read with (null: <EOS> or the end)
    const after: (string | null)[] = new Array<string | null>(texts.length);
    for (let i = texts.length - 1, next: string | null = null; i >= 0; i--) {
      after[i] = next;
      if (texts[i] !== '') next = texts[i]!;
    }
    const detokenizer = new Detokenizer(this.wordRule, this.documents.docs, this.spacing);
    return texts.map((text, i) => (text === null ? detokenizer.boundary(eos()) : detokenizer.push(text, after[i] ?? null)));
  }

  /** A writer of ids as text, starting afresh; `decode` of the ids written so far, piece by piece. */
  writer(options: DecodeOptions = {}): TextWriter {
    const textOf = this.idText(options), eos = this.eosText(options);
    if (this.level === 'char') return { write: (id) => textOf(id) ?? eos(), read: (id) => void (textOf(id) ?? eos()), end: () => '', holding: false };
    const detokenizer = new Detokenizer(this.wordRule, this.documents.docs, this.spacing);
    return {
      write: (id) => {
        const text = textOf(id);
        return text === null ? detokenizer.boundary(eos()) : detokenizer.push(text);
      },
      read: (id) => {
        const text = textOf(id);
        if (text === null) detokenizer.boundary(eos());
        else detokenizer.read(text);
      },
      end: () => detokenizer.end(),
      get holding() {
        return detokenizer.holding;
      },
    };
  }

  /**
   * What an `<EOS>` that stands for `separator`, the text between two documents, writes: the
   * separator, at the word level its line breaks alone (the detokeniser spaces the words either side).
   */
  separatorText(separator: string): string {
    return this.level === 'word' ? separator.replaceAll(/[^\n]/g, '') : separator;
  }

  /** The text of each `<EOS>` in turn under `options`: the next of its texts (`separatorText`), else `eos`. */
  private eosText(options: DecodeOptions): () => string {
    const eos = options.eos ?? '', eosTexts = options.eosTexts ?? [];
    let eosSeen = 0;
    return () => {
      const text = eosTexts[eosSeen++];
      return text === undefined ? eos : this.separatorText(text);
    };
  }

  /** The text of each id in turn under `options`, null for `<EOS>`: an `<UNK>` takes the next of the unknown texts. */
  private idText(options: DecodeOptions): (id: number) => string | null {
    const unk = options.unk ?? '\uFFFD', unknownTexts = options.unknownTexts ?? [];
    let unknownSeen = 0;
    return (id) => {
      if (id === EOS) return null;
      if (id === UNK) return unknownTexts[unknownSeen++] ?? unk;
      const token = this.tokens[id];
      if (token === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (size ${this.size})`);
      return token;
    };
  }
}

/** The ids of each part, `<EOS>` between each two. */
function joinedByEos(parts: Int32Array[]): Int32Array {
  return joined(parts, true);
}

/** `parts` one after another, an `<EOS>` between each two where `byEos`. */
function joined(parts: Int32Array[], byEos = false): Int32Array {
  if (parts.length === 1) return parts[0]!;
  const ids = new Int32Array(parts.reduce((n, part) => n + part.length, byEos ? Math.max(0, parts.length - 1) : 0));
  let at = 0;
  for (const [i, part] of parts.entries()) {
    if (byEos && i > 0) ids[at++] = EOS;
    ids.set(part, at);
    at += part.length;
  }
  return ids;
}

/** What a token of each level must be, as messages say it. */
export const TOKEN_KIND: Readonly<Record<TextLevel, string>> = {
  char: 'a single character',
  word: 'a word token (it is empty or holds white space)',
};

/** How a token list breaks the vocabulary's rules: which id, and what is wrong there. */
export type VocabularyFault =
  | { id: number; kind: 'special'; expected: string }
  | { id: number; kind: 'not-a-token' }
  | { id: number; kind: 'repeat'; earlier: number };

/**
 * The first fault of `tokens` as a vocabulary of `level`, or null: ids 0 and 1 must be
 * `<EOS>` and `<UNK>`, every later token one code point ('char') or a word token ('word'),
 * none twice.
 */
export function vocabularyFault(tokens: readonly unknown[], level: TextLevel): VocabularyFault | null {
  const special: [number, string][] = [[EOS, EOS_TOKEN], [UNK, UNK_TOKEN]];
  for (const [id, expected] of special) {
    if (tokens[id] !== expected) return { id, kind: 'special', expected };
  }
  const seen = new Map<string, number>(special.map(([id, token]) => [token, id]));
  for (let id = UNK + 1; id < tokens.length; id++) {
    const token = tokens[id];
    if (typeof token !== 'string' || !(level === 'char' ? [...token].length === 1 : isWordToken(token))) return { id, kind: 'not-a-token' };
    const earlier = seen.get(token);
    if (earlier !== undefined) return { id, kind: 'repeat', earlier };
    seen.set(token, id);
  }
  return null;
}

/** Counts code points the way `Vocabulary.encode` steps through them at the char level. */
export function codePointCount(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; n++) i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  return n;
}

/** The first `count` code points of `text`. */
export function codePointPrefix(text: string, count: number): string {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    i += text.codePointAt(i)! > 0xffff ? 2 : 1;
  }
  return text.slice(0, i);
}
