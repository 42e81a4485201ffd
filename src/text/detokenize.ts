/**
 * The detokeniser of the word level (docs/words.md): word tokens back to text. Between two
 * tokens goes one space, except
 *  - none before a closing mark: . , ; : ! ? … % ) ] } ’ ” » › and a closing straight quote,
 *    and the Arabic, Greek and Devanagari marks that close likewise (، ؛ ؟ ۔ ; · । ॥);
 *  - none after an opening mark: ( [ { “ ‘ „ ‚ « ‹ ¿ ¡ $ £ € ¥ and an opening straight quote;
 *  - none either side of a hyphen, em dash or underscore standing alone (- — _), so "speak--it"
 *    and "snake_case" stay, of a zero-width joiner or non-joiner, or of a CJK or fullwidth
 *    punctuation mark (。 ， 「 」 …), since CJK text puts no spaces around its marks;
 *  - none before a token that continues the character before it: one that begins with a
 *    combining mark (a variation selector, a keycap, an accent), an emoji skin-tone modifier
 *    or a tag character, and the second regional indicator of a flag; so an emoji sequence
 *    (👍🏽, ❤️‍🔥, 🇫🇷), which the tokenizer rules of version 1 cut into code points, comes back whole;
 *  - none between two ASCII signs of code and markup (# & * + / < = > @ \\ ^ | ~): "=>", "/**";
 *    nor between "!" and a "=" after it: "!=", "!==";
 *  - none before or after a line break (a token of "\n"s), so a line starts without a space.
 * A straight quote (" ' or `) opens and closes in turn: the first one on a line opens, the next
 * one closes, and so on, counted for each apart; a line break or a document boundary starts
 * the count afresh. One exception: a ' right after a word while no ' is open is an apostrophe
 * ending that word ("farmers' savings", "o' the") — it closes and opens nothing.
 * A low-9 quote opens and its partner closes it: „so“, ‚so‘ (German). A guillemet opens when
 * none of its pair is open and its partner closes it, so both «so» and »so« (German, Danish)
 * come back whole, and ‹so› and ›so‹ likewise; these pairs stay open over line breaks, until the
 * partner or a document boundary.
 */

const CLOSING = new Set(['.', ',', ';', ':', '!', '?', '…', '%', ')', ']', '}', '’', '”', '»', '›', '،', '؛', '؟', '۔', '\u037e', '\u0387', '।', '॥']);
const OPENING = new Set(['(', '[', '{', '“', '‘', '„', '‚', '«', '‹', '¿', '¡', '$', '£', '€', '¥']);
/** A hyphen, em dash or underscore, a zero-width (non-)joiner or word joiner, a CJK or fullwidth punctuation mark. */
const JOINING = /^(?:[-—_\u200c\u2060\u30fb]|\u200d|(?=[\p{P}\p{S}])[\u3001-\u303f\uff01-\uff65])$/u;
/** Begins with what continues the character before it: a combining mark, an emoji modifier, a tag character. */
const CONTINUING = /^[\p{M}\p{Emoji_Modifier}\u{e0020}-\u{e007f}]/u;
const REGIONAL_INDICATOR = /^\p{Regional_Indicator}$/u;
/** The ASCII signs of code and markup; two of them side by side are written together (`=>`, `/**`, `***`). */
const OPERATORS = new Set(['#', '&', '*', '+', '/', '<', '=', '>', '@', '\\', '^', '|', '~']);
const STRAIGHT_QUOTES = ['"', "'", '`'] as const;
/** An opening mark of a pair, and the partner that closes it. */
const PARTNERS = new Map([['„', '“'], ['‚', '‘'], ['«', '»'], ['»', '«'], ['‹', '›'], ['›', '‹']]);
const PAIRED = new Set([...PARTNERS.keys(), ...PARTNERS.values()]);

type Kind = 'word' | 'operator' | 'opening' | 'closing' | 'joining' | 'lineBreak';

/**
 * Writes a token sequence one token at a time, for text that is printed as it is generated:
 * `push` returns what to append for the next token (the space before it, if any, and the
 * token), so the concatenation of its results is `detokenize` of the whole sequence.
 */
export class Detokenizer {
  /** Whether nothing is written yet, or the last thing written ends a line. */
  private atLineStart = true;
  /** The kind of the last token written (meaningless at a line start). */
  private previous: Kind = 'lineBreak';
  private readonly quoteOpen = new Map<string, boolean>();
  /** The opening marks of `PARTNERS` now open, and how many times each. */
  private readonly pairOpen = new Map<string, number>();
  /** Whether the last token written is "!", which a "=" after it joins. */
  private bang = false;
  /** Whether the last token written is a regional indicator that a second one would make a flag of. */
  private flagOpen = false;

  /** The text to append for `token`; an empty token writes nothing and changes nothing. */
  push(token: string): string {
    if (token === '') return '';
    const continuing = CONTINUING.test(token);
    const kind = continuing ? 'word' : this.kindOf(token);
    const regional = REGIONAL_INDICATOR.test(token);
    const flagClosed = this.flagOpen && regional;
    this.flagOpen = regional && !flagClosed;
    const space =
      !this.atLineStart && !continuing && !flagClosed && kind !== 'closing' && kind !== 'joining' && kind !== 'lineBreak' &&
      this.previous !== 'opening' && this.previous !== 'joining' && !(kind === 'operator' && this.previous === 'operator') &&
      !(token === '=' && this.bang);
    this.bang = token === '!';
    if (kind === 'lineBreak') this.quoteOpen.clear();
    this.previous = kind;
    this.atLineStart = kind === 'lineBreak';
    return space ? ' ' + token : token;
  }

  /**
   * The text to append for a document boundary written as `text` (e.g. "" or "\n" or
   * "<EOS>"): "" writes nothing and the next token is spaced as after the previous one;
   * any other text is written as a token. Either way the straight-quote count starts afresh.
   */
  boundary(text: string): string {
    const written = this.push(text);
    this.quoteOpen.clear();
    this.pairOpen.clear();
    this.flagOpen = false;
    return written;
  }

  private kindOf(token: string): Kind {
    if (/^\n+$/.test(token)) return 'lineBreak';
    const paired = this.pairedKind(token);
    if (paired !== null) return paired;
    if (CLOSING.has(token)) return 'closing';
    if (OPENING.has(token)) return 'opening';
    if (JOINING.test(token)) return 'joining';
    if (OPERATORS.has(token)) return 'operator';
    if ((STRAIGHT_QUOTES as readonly string[]).includes(token)) {
      const open = this.quoteOpen.get(token) === true;
      if (token === "'" && !open && !this.atLineStart && this.previous === 'word') return 'closing';
      this.quoteOpen.set(token, !open);
      return open ? 'closing' : 'opening';
    }
    return 'word';
  }

  /** The kind of a mark of `PARTNERS`: closing where it closes an open one, else opening (and now open); null for another token. */
  private pairedKind(token: string): Kind | null {
    if (!PAIRED.has(token)) return null;
    for (const [open, partner] of PARTNERS) {
      const count = this.pairOpen.get(open) ?? 0;
      if (partner !== token || count === 0) continue;
      if (count === 1) this.pairOpen.delete(open);
      else this.pairOpen.set(open, count - 1);
      return 'closing';
    }
    if (!PARTNERS.has(token)) return null;
    this.pairOpen.set(token, (this.pairOpen.get(token) ?? 0) + 1);
    return 'opening';
  }
}

/** The text of a token sequence under the detokeniser's spacing rule. */
export function detokenize(tokens: Iterable<string>): string {
  const writer = new Detokenizer();
  let text = '';
  for (const token of tokens) text += writer.push(token);
  return text;
}
