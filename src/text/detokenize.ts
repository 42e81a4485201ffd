/**
 * The detokeniser of the word level (docs/words.md): word tokens back to text. Between two
 * tokens goes one space, except
 *  - none before a closing mark: . , ; : ? … % ‰ ° ™ ® ′ ″ ) ] } ’ ” » ›, a ! that ends a sentence and a closing straight quote,
 *    the Arabic, Greek, Devanagari, Hebrew and Ethiopic marks that close likewise (، ؛ ؟ ۔ ٪ ; · । ॥ ׳ ፣), a sentence
 *    terminator of another script that the sentence splitter knows (‼ ։ ። ။ ។), and the end of a bidi isolate or embedding;
 *  - none after an opening mark: ( [ { “ ‘ „ ‚ « ‹ ¿ ¡, a currency sign ($ £ € ¥ ₹ …) but one after a number and before
 *    none (1 000 € or), a numero sign, section sign or pilcrow before a number (№5 §3 ¶2), an opening straight quote and
 *    the start of a bidi isolate, embedding or override;
 *  - none either side of a hyphen, em dash or underscore standing alone (- — _), so "speak--it"
 *    and "snake_case" stay, but of a hyphen between two words that it would join into one word
 *    (a - b: the tokenizer joins a-b, so a lone hyphen there was spaced) or at a line's start before
 *    a word (a bullet: - item); none either side of a
 *    zero-width joiner, non-joiner or space, a soft hyphen, of the Hebrew maqaf (־), of the Hebrew gershayim (״) and
 *    the Arabic decimal and thousands separators (٫ ٬) under the tokenizer rules before version
 *    3, which cut a word at them, or of a CJK or fullwidth punctuation mark (。 ， 「 」 …), since
 *    CJK text puts no spaces around its marks; but one that begins a sentence of a 'sentence' model is spaced off
 *    the sentence before, whose end white space followed (pan. —¿Vienes?), unless that one ends in a CJK mark;
 *  - none before an invisible directional mark (U+200E, U+200F, U+061C), and the token after it
 *    spaced as if it were not there;
 *  - none before a token that continues the character before it: one that begins with a
 *    combining mark (a variation selector, a keycap, an accent), an emoji skin-tone modifier
 *    or a tag character, and the second regional indicator of a flag; so an emoji sequence
 *    (👍🏽, ❤️‍🔥, 🇫🇷), which the tokenizer rules of version 1 cut into code points, comes back whole;
 *  - none between a numero sign, section sign or pilcrow and the same sign after it, its plural (№№5 §§3 ¶¶2);
 *  - none between two ASCII signs of code and markup (# & * + / < = > @ \\ ^ | ~): "=>", "/**";
 *  - none inside a straight quote that opens with a path: a / first, or after the . and ~ it opens with
 *    ('./x', "../y/z", '~/a'); a quote whose dots go on without one is prose ("... no");
 *  - none before or after a line break (a token of "\n"s), so a line starts without a space.
 * Under the tokenizer rules from version 3 on, which join ״ ٫ ٬ inside a word (צה״ל, ١٢٬٥٠٠), one standing alone
 * is punctuation: a ״ is a Hebrew quotation mark, which pairs as a " does, and a ٫ or ٬ a closing mark.
 * A straight quote (" ' or `) opens and closes in turn: the first one opens, the next one
 * closes, and so on, counted for each apart; one before a line break or the text's end closes.
 * A " or ' left open at a line's end stays open over a few line breaks, for the first of its
 * kind on a later line to close unless a new quote is as likely there (`PAIRING`); a blank
 * line or a document boundary starts the count afresh, but for one between two sentences of a
 * paragraph. A straight quote, a ’, a !, a -, a № § ¶ and a currency sign are read with the token after them, by `READINGS`
 * and `CURRENCY_READINGS` below.
 * A low-9 quote opens and its partner closes it: „so“, ‚so‘ (German). A guillemet opens when
 * none of its pair is open and its partner closes it, so both «so» and »so« (German, Danish)
 * come back whole, and ‹so› and ›so‹ likewise; these pairs stay open over line breaks, until the
 * partner or a document boundary that is not one between two sentences of a paragraph.
 * A corpus's spacing record (`Spacing`, spacing.ts) changes one thing: where a mark it names would be written against
 * its neighbour on the side it names, and nothing else keeps the two together, the recorded space goes between them
 * (« Quoi ? » for a French corpus).
 */
import { CJK_MARK, type DocsMode } from './documents.js';
import { OTHER_TERMINATOR } from './sentences.js';
import { tokenizeWords, WORD_RULE_VERSION, type WordRule } from './words.js';

/**
 * The closing marks, and the signs written against what comes before them (° ‰ ‱ ™ ® ′ ″); U+2069 and U+202C end
 * a bidi isolate and embedding, U+05F3 is the Hebrew geresh, U+066A the Arabic percent sign, U+1363–U+1366 the
 * Ethiopic comma, semicolon and colons. (The sentence terminators of other scripts, `OTHER_TERMINATOR`, close too.)
 */
const CLOSING = new Set([
  '.', ',', ';', ':', '?', '…', '%', ')', ']', '}', '’', '”', '»', '›', '،', '؛', '؟', '۔', '\u037e', '\u0387', '।', '॥',
  '\u2069', '\u202c', '\u05f3', '\u066a', '°', '‰', '‱', '™', '®', '′', '″', '\u1363', '\u1364', '\u1365', '\u1366',
]);
/**
 * The opening marks; U+2066–U+2068 and U+202A, U+202B, U+202D, U+202E begin a bidi isolate, embedding or override. (A
 * currency sign opens too, but after a number: `CURRENCY`.)
 */
const OPENING = new Set([
  '(', '[', '{', '“', '‘', '„', '‚', '«', '‹', '¿', '¡', '\u2066', '\u2067', '\u2068', '\u202a', '\u202b', '\u202d', '\u202e',
]);
/**
 * An em dash or underscore, a zero-width (non-)joiner, space or word joiner, a soft hyphen, the Hebrew maqaf and
 * gershayim, the Arabic decimal and thousands separators, a CJK or fullwidth punctuation mark. (A hyphen is read by
 * `READINGS`; under the tokenizer rules from version 3 on, `MARKS_FROM_3` reads the gershayim and the separators first.)
 */
const JOINING = new RegExp(`^(?:[—_\u200b\u200c\u2060\u00ad\u05be\u05f4\u066b\u066c]|\u200d|${CJK_MARK.source})$`, 'u');
/**
 * An invisible directional mark (left-to-right U+200E, right-to-left U+200F, Arabic letter U+061C): written against
 * the token before it, and the token after it spaced as if it were not there.
 */
const DIRECTIONAL_MARK = /^[\u200e\u200f\u061c]$/;
/** Begins with what continues the character before it: a combining mark, an emoji modifier, a tag character. */
const CONTINUING = /^[\p{M}\p{Emoji_Modifier}\u{e0020}-\u{e007f}]/u;
const REGIONAL_INDICATOR = /^\p{Regional_Indicator}$/u;
/** The ASCII signs of code and markup; two of them side by side are written together (`=>`, `/**`, `***`). */
const OPERATORS = new Set(['#', '&', '*', '+', '/', '<', '=', '>', '@', '\\', '^', '|', '~']);
/** A token of line breaks: "\n", or more of them together. */
const LINE_BREAKS = /^\n+$/;
/** What ends a paragraph: a blank line. */
const PARAGRAPH_BREAK = /\n\n/;
/** What a path may begin with before its first / ('./', '../', '~/'): a straight quote that opens with these and then a / holds a path. */
const PATH_LEAD = new Set(['.', '~']);
/** An opening mark of a pair, and the partner that closes it. */
const PARTNERS = new Map([['„', '“'], ['‚', '‘'], ['«', '»'], ['»', '«'], ['‹', '›'], ['›', '‹']]);
const PAIRED = new Set([...PARTNERS.keys(), ...PARTNERS.values()]);
/** Words that an apostrophe begins ('tis, 'twas, 'em, rock 'n' roll), whatever their case; also any that begins with a digit ('90s). */
const ELIDED_BEFORE = new Set([
  'tis', 'twas', 'twere', 'twill', 'twould', 'twixt', 't', 'em', 'n', 'fore', 'gainst', 'mongst', 'scape', 'scaped', 'scapes', 'longs',
]);
/** A year that a curly apostrophe begins (’90s, ’76): a ’ before another number closes a quote (‘no’ 5 times). */
const ELIDED_YEAR = /^\d\ds?$/;
/**
 * Words that an apostrophe ends (o' the, i' the, th' end, rock 'n' roll, ha' done, wi' the, gi'
 * god-den, a' will: he will), whatever their case, unless a quote opened right before them ('a').
 */
const ELIDED_AFTER = new Set(['o', 'i', 'th', 'n', 'ha', 'wi', 'gi', 'a']);
/**
 * Words that end in s but are no plural a possessive could follow: "it was 'fine'", "he says
 * 'yes'" open a quote. Function words, adverbs, and the verbs that introduce what is said.
 */
const NOT_PLURAL = new Set([
  'as', 'is', 'was', 'has', 'his', 'its', 'this', 'thus', 'us', 'yes', 'does', 'goes', 'always', 'perhaps', 'unless', 'across',
  'besides', 'afterwards', 'towards', 'sometimes', 'says', 'asks', 'cries', 'replies', 'answers', 'writes', 'sings', 'shouts',
  'whispers', 'swears', 'prays', 'bids', 'thinks', 'tells', 'reads',
]);
/** The straight quotes that stay open over a line break: not `, which quotes code; the Hebrew gershayim where it is one. */
const QUOTES_OVER_LINES = new Set(['"', "'", '\u05f4']);
/**
 * The line breaks a quote left open at the end of its line stays open over, at most, so that
 * the first quote of a later line may close it: a quote open longer is likelier one misread.
 */
const QUOTE_LINE_BREAKS = 5;
/** What a quote that opened for its line only counts in place of its line breaks: the next line break closes it. */
const FOR_LINE = -1;
/** What a word that may begin a sentence begins with: a capital or a digit. */
const SENTENCE_START = /^[\p{Lu}\p{Nd}]/u;
/** The marks that end a sentence where they are read as closing marks (a ! that is no prefix "not"). */
const SENTENCE_ENDS = new Set(['.', '?', '!']);
/**
 * Pronouns and determiners: no possessive comes before them, so a ' between a plural and one
 * of them opens a quote ("the hearts 'we thank").
 */
const PRONOUNS_AND_DETERMINERS = new Set([
  'i', 'me', 'we', 'us', 'you', 'he', 'him', 'she', 'her', 'it', 'they', 'them', 'thou', 'thee', 'ye',
  'my', 'mine', 'our', 'your', 'his', 'its', 'their', 'thy', 'thine', 'a', 'an', 'the', 'this', 'that', 'these', 'those',
]);
/**
 * A word that begins with a capital. After a ' that follows a plural in lower case it starts a
 * quoted sentence ("cries 'God"); after a capitalised plural it is a name ("Patients' Bill").
 */
const CAPITALISED = /^\p{Lu}/u;

type Kind = 'word' | 'operator' | 'opening' | 'closing' | 'joining' | 'lineBreak';

/** What a token that is read with the token after it sees. */
interface Surroundings {
  /** The token before, if it is a word on this line; else null. */
  word: string | null;
  /** Whether a quote opened right before that word ('a', 'o'). */
  wordQuoted: boolean;
  /** The kind of the token before; 'lineBreak' at a line start. */
  previous: Kind;
  /** Whether a quote of the token's own kind is open. */
  quoteOpen: boolean;
  /** Whether that quote was left open on an earlier line, and none of its kind has come on this one. */
  quoteCarried: boolean;
  /** Whether that quote opened right after a sentence's end (`now. "The`). */
  quoteOpenedAfterSentence: boolean;
  /** Whether the token before ends a sentence (SENTENCE_ENDS). */
  sentenceEnded: boolean;
  /** The token after, or null where the text ends. */
  next: string | null;
  /** The tokenizer rules the tokens were cut under. */
  wordRule: WordRule;
  /** Whether the token before is a number that a ' began ('5, '76). */
  numberElided: boolean;
}

/** How a token reads: its kind, and what it does to the count of its open quotes (none: leaves it). */
interface Reading {
  kind: Kind;
  /** 'opensForLine': opens a quote that a line break closes, not left open over it. */
  quote?: 'opens' | 'opensForLine' | 'closes';
}

/** A rule of `READINGS`: the reading of a token where `when` holds. */
interface Rule {
  when: (s: Surroundings) => boolean;
  reading: Reading;
}

/** The reading of a ' that begins the word after it ('tis, '90s). */
const BEGINS_WORD: Reading = { kind: 'opening' };
const CLOSES: Reading = { kind: 'closing', quote: 'closes' };
const OPENS: Reading = { kind: 'opening', quote: 'opens' };
/** The reading of a hyphen spaced on both sides, as a word is. */
const SPACED: Reading = { kind: 'word' };

/**
 * How a straight quote (" ' `) pairs, the last rules of each: before a line break or the end
 * of the text it closes (one that is open, or none), since a quote never opens on nothing;
 * one left open on an earlier line (" and ' only, for QUOTE_LINE_BREAKS line breaks, none
 * a blank line) it closes, except at a line start, before a word that may begin a sentence,
 * or beside a sign of code or after an opening mark, where a new quote is as likely or likelier:
 * there it opens one for its line only. Between a sentence's end and a capital it closes the one
 * left open (`peace." All`), unless that one itself opened after a sentence's end (`now. "The`),
 * as each paragraph of a quote running over paragraphs does: there a new one opens, the next
 * paragraph's (`action. "This`). Else it closes the one that is open, or opens one.
 */
const PAIRING: readonly Rule[] = [
  { when: ({ next }) => next === null || LINE_BREAKS.test(next), reading: CLOSES },
  {
    when: ({ quoteCarried, quoteOpenedAfterSentence, sentenceEnded, next }) =>
      quoteCarried && sentenceEnded && !quoteOpenedAfterSentence && next !== null && CAPITALISED.test(next),
    reading: CLOSES,
  },
  {
    when: ({ quoteCarried, previous, next }) =>
      quoteCarried && (previous === 'lineBreak' || previous === 'operator' || previous === 'opening' ||
        (next !== null && (SENTENCE_START.test(next) || OPERATORS.has(next)))),
    reading: { kind: 'opening', quote: 'opensForLine' },
  },
  { when: ({ quoteOpen }) => quoteOpen, reading: CLOSES },
  { when: () => true, reading: OPENS },
];

/** What a number ends with, and what one begins with. */
const NUMBER_END = /\p{Nd}$/u;
const NUMBER_START = /^\p{Nd}/u;

/** What an item of a list begins with after its bullet: a letter, an opening bracket or quote (- item, - "quoted", - (a)). */
const LIST_ITEM_START = /^[\p{L}([{"'`“‘«]/u;

/**
 * A numero sign, section sign or pilcrow before a number is written against it (№5, §3, ¶2); before anything else, spaced as a
 * word. The same sign after one makes their plural (§§3, ¶¶2, №№12) and is written against it (`Detokenizer.write`).
 */
const NUMBERING: readonly Rule[] = [
  { when: ({ next }) => next !== null && NUMBER_START.test(next), reading: { kind: 'opening' } },
  { when: () => true, reading: SPACED },
];

/**
 * The tokens read with the token after them, and their readings: the first rule that holds.
 * A straight quote pairs by `PAIRING`. A ' in prose is a quote or an apostrophe; the word after it or before it tells which:
 *   a number that a ' began precedes ('5', '10')     closes that ': spaced as a closing mark, closes no quote
 *   an elided word follows ('tis, 'twas, '90s)        begins it: spaced as an opening mark, opens no quote
 *   an elided word precedes (o' the, rock 'n' roll),  ends it: spaced as a closing mark, closes no quote
 *   not one a quote opened right before ('o')
 *   none is open, the word before ends in s (and is   a plural possessive (the farmers' savings): likewise
 *   no NOT_PLURAL, nor ends in 's), and the word after is neither
 *   a capital after a word in lower case nor one of
 *   PRONOUNS_AND_DETERMINERS
 *   else                                              pairs as " does, by PAIRING (said 'no', from './x', 'Hail!'\n)
 * The ambiguous case is a ' after a plural with none open and another word in lower case after it:
 * a possessive in "the students' books", an opening quote in "the hearts 'thank"; it is read as the possessive.
 * A ’ before an elided word or a two-digit year (’tis, ’90s, ’76) begins it, as a ' does; else it closes.
 * A ! before a = is the first sign of != or !==; after a sign, an opening mark or at a line
 * start it is a prefix "not", written against what follows (=> !x, if (!x)); else it ends a sentence.
 * A - between two words that it would join into one word (a-b, 1-2) came from a spaced hyphen, and is
 * spaced as a word is (a - b), and so is one at a line's start before a word, a list's bullet (- item); any other
 * is written against both sides (speak--it, -5, (-x), --flag).
 * A № § or ¶ reads by `NUMBERING`.
 */
const READINGS: ReadonlyMap<string, readonly Rule[]> = new Map([
  ["'", [
    { when: ({ numberElided }) => numberElided, reading: { kind: 'closing' } },
    { when: ({ next }) => next !== null && (ELIDED_BEFORE.has(next.toLowerCase()) || /^\d/.test(next)), reading: BEGINS_WORD },
    { when: ({ word, wordQuoted }) => word !== null && !wordQuoted && ELIDED_AFTER.has(word.toLowerCase()), reading: { kind: 'closing' } },
    {
      when: ({ word, quoteOpen, next }) =>
        !quoteOpen && word !== null && /s$/i.test(word) && !/['’]s$/i.test(word) && !NOT_PLURAL.has(word.toLowerCase()) &&
        !(next !== null && ((CAPITALISED.test(next) && !CAPITALISED.test(word)) || PRONOUNS_AND_DETERMINERS.has(next.toLowerCase()))),
      reading: { kind: 'closing' },
    },
    ...PAIRING,
  ]],
  ['’', [
    { when: ({ next }) => next !== null && (ELIDED_BEFORE.has(next.toLowerCase()) || ELIDED_YEAR.test(next)), reading: BEGINS_WORD },
    { when: () => true, reading: { kind: 'closing' } },
  ]],
  ['"', PAIRING],
  ['`', PAIRING],
  ['-', [
    { when: ({ word, next, wordRule }) => word !== null && next !== null && tokenizeWords(`${word}-${next}`, wordRule).length === 1, reading: SPACED },
    { when: ({ previous, next }) => previous === 'lineBreak' && next !== null && LIST_ITEM_START.test(next), reading: SPACED },
    { when: () => true, reading: { kind: 'joining' } },
  ]],
  ['!', [
    { when: ({ next }) => next === '=', reading: { kind: 'operator' } },
    { when: ({ previous }) => previous === 'operator' || previous === 'opening' || previous === 'lineBreak', reading: { kind: 'opening' } },
    { when: () => true, reading: { kind: 'closing' } },
  ]],
  ['№', NUMBERING],
  ['§', NUMBERING],
  ['¶', NUMBERING],
]);

/** A currency sign ($ £ € ¥ ₹ …), read by `CURRENCY_READINGS`. */
const CURRENCY = /^\p{Sc}$/u;
/**
 * A currency sign after a number and before no number is written after the price, spaced as a word is (1 000 € or,
 * 20 $ each, 5 ₽); any other opens, written against the number after it ($5, €10, 1947 $35, $HOME).
 */
const CURRENCY_READINGS: readonly Rule[] = [
  { when: ({ word, next }) => word !== null && NUMBER_END.test(word) && !(next !== null && NUMBER_START.test(next)), reading: SPACED },
  { when: () => true, reading: { kind: 'opening' } },
];

/** The marks that read otherwise under some versions of the tokenizer rules (words.ts): the closing marks and `READINGS`. */
interface Marks {
  closing: ReadonlySet<string>;
  readings: ReadonlyMap<string, readonly Rule[]>;
}

/** The marks under the tokenizer rules before version 3, which cut a word at ״ ٫ ٬, so the detokeniser joins one to both sides. */
const MARKS_BEFORE_3: Marks = { closing: CLOSING, readings: READINGS };

/**
 * The marks under the tokenizer rules from version 3 on, which join ״ ٫ ٬ inside a word: one standing alone is a
 * Hebrew quotation mark (״), which pairs as a " does, or an Arabic separator (٫ ٬), which closes as a , does.
 */
const MARKS_FROM_3: Marks = {
  closing: new Set([...CLOSING, '\u066b', '\u066c']),
  readings: new Map([...READINGS, ['\u05f4', PAIRING]]),
};

/**
 * The sides of a written token the detokeniser writes against what is beside it, where only a mark's kind keeps the two
 * together: `before`, the token itself, written against the token before (a closing or joining mark); `after`, the
 * token before, written against this one (an opening or joining mark); null where that side does not hold.
 */
export interface JoinedSides {
  before: string | null;
  after: string | null;
}

/**
 * The marks a corpus sets off by a space where the detokeniser writes them against a neighbour,
 * each with that space: `before`, against the token before (`?` `:` `»` in French, a dash that opens
 * a Spanish line); `after`, against the token after (`«`). A side or mark not named is written as
 * the detokeniser writes it without a record.
 */
export interface Spacing {
  before?: Readonly<Record<string, string>>;
  after?: Readonly<Record<string, string>>;
}

const NOT_JOINED: JoinedSides = { before: null, after: null };

/**
 * Writes a token sequence one token at a time, for text that is printed as it is generated:
 * `push` returns what to append for the next token (the space before it, if any, and the
 * token), so the concatenation of its results and of `end`'s is `detokenize` of the whole
 * sequence. A token of `READINGS` waits for the token after it: `push` holds it back and
 * writes it with the next push, or `end`, unless it is told the next token. It writes the
 * tokens of the tokenizer rules of version `wordRule` (a word-level model's `Vocabulary.wordRule`).
 */
export class Detokenizer {
  /** The marks that read as the tokenizer rules the tokens were cut under have them. */
  private readonly marks: Marks;
  /** Whether nothing is written yet, or the last thing written ends a line. */
  private atLineStart = true;
  /** The kind of the last token written ('lineBreak' before the first). */
  private previous: Kind = 'lineBreak';
  /** The last token written, if it is a word. */
  private word: string | null = null;
  /** Whether a quote opened right before that word. */
  private wordQuoted = false;
  /**
   * The straight quotes now open, each with the line breaks it has stayed open over (0: it
   * opened on this line), or FOR_LINE where it opened for its line only.
   */
  private readonly quoteOpen = new Map<string, number>();
  /** The straight quotes now open that opened right after a sentence's end. */
  private readonly quotesAfterSentence = new Set<string>();
  /** Whether the last token written ends a sentence (SENTENCE_ENDS). */
  private sentenceEnded = false;
  /**
   * Whether the next token begins a sentence of a 'sentence' model, after one whose end white space followed: a
   * joining mark there (—¿Vienes?, 「) is spaced off that end.
   */
  private sentenceBoundary = false;
  /** The straight quote that has just opened, or whose tokens since are all of PATH_LEAD: a / now makes it a path; null otherwise. */
  private pathMayOpen: string | null = null;
  /** The straight quote that holds a path now open; null when none is. */
  private pathQuote: string | null = null;
  /** The opening marks of `PARTNERS` now open, and how many times each. */
  private readonly pairOpen = new Map<string, number>();
  /** The reading of the last token written, if `READINGS` read it. */
  private reading: Reading | null = null;
  /** Whether the last token written is a number that a ' began ('5, '76). */
  private numberElided = false;
  /** Whether the last token written is a regional indicator that a second one would make a flag of. */
  private flagOpen = false;
  /** The last token written, but a directional mark. */
  private lastToken: string | null = null;
  /** `Spacing.before` and `Spacing.after`. */
  private readonly spacedBefore: ReadonlyMap<string, string>;
  private readonly spacedAfter: ReadonlyMap<string, string>;
  /** A token of `READINGS` waiting for the token after it. */
  private held: string | null = null;
  /** Whether the held token came by `read`, so that its text is not written. */
  private heldRead = false;
  /** What a token of `READINGS` sees, filled in place for each one (kindOf). */
  private readonly surroundings: Surroundings = {
    word: null, wordQuoted: false, previous: 'lineBreak', quoteOpen: false, quoteCarried: false, quoteOpenedAfterSentence: false,
    sentenceEnded: false, next: null, numberElided: false, wordRule: WORD_RULE_VERSION,
  };

  /**
   * `wordRule`: the tokenizer rules the tokens were cut under; `docs`: how their documents were cut (`boundary`);
   * `spacing`: the marks the corpus spaces; `onWrite`, told the sides each token written is joined by (`SpacingMeasure`).
   */
  constructor(
    wordRule: WordRule = WORD_RULE_VERSION, private readonly docs: DocsMode = 'file', spacing: Spacing = {},
    private readonly onWrite?: (sides: JoinedSides) => void,
  ) {
    this.marks = wordRule >= 3 ? MARKS_FROM_3 : MARKS_BEFORE_3;
    this.surroundings.wordRule = wordRule;
    this.spacedBefore = new Map(Object.entries(spacing.before ?? {}));
    this.spacedAfter = new Map(Object.entries(spacing.after ?? {}));
  }

  /**
   * The text to append for `token` (and for a token held before it); an empty token writes
   * nothing and changes nothing. `next`, where given, is the token after (null: none), so that
   * nothing is held.
   */
  push(token: string, next?: string | null): string {
    if (token === '') return '';
    const before = this.release(token);
    if (next === undefined && this.rulesOf(token) !== undefined) {
      this.held = token;
      this.heldRead = false;
      return before;
    }
    return before + this.write(token, next ?? null);
  }

  /** Takes `token` as `push` does, and never writes its text: a token the reader has already (a prime's). */
  read(token: string): void {
    this.push(token);
    this.heldRead = this.held !== null;
  }

  /** Whether a token is held back for the token after it. */
  get holding(): boolean {
    return this.held !== null;
  }

  /** The text of a held token, read with nothing after it: call it where the text ends. */
  end(): string {
    return this.release(null);
  }

  /** The text of the held token, if any, read with `next` after it; none for a token `read` holds. */
  private release(next: string | null): string {
    const held = this.held;
    if (held === null) return '';
    this.held = null;
    const text = this.write(held, next);
    return this.heldRead ? '' : text;
  }

  /**
   * The text to append for a document boundary written as `text` (e.g. "" or "\n" or
   * "<EOS>"): "" writes nothing and the next token is spaced as after the previous one;
   * any other text is written as a token. The quotes and pairs open start afresh after it, but
   * between two sentences of a paragraph (documents cut by 'sentence', `text` no blank line),
   * where a quote opened in one sentence may close in a later one: there they stay open.
   */
  boundary(text: string): string {
    const ended = this.end();
    const spaceFollowed = this.previous !== 'joining';
    const written = ended + this.push(text, null);
    if (this.docs !== 'sentence' || PARAGRAPH_BREAK.test(text)) {
      this.quoteOpen.clear();
      this.quotesAfterSentence.clear();
      this.pairOpen.clear();
    }
    this.pathQuote = this.pathMayOpen = this.reading = null;
    this.numberElided = false;
    this.flagOpen = false;
    this.sentenceBoundary = this.docs === 'sentence' && spaceFollowed;
    return written;
  }

  /**
   * The text for `token`, read with `next` after it: the space before it, then the token. None before a directional
   * mark, a line break, a token at a line's start, one that continues the last one's character or closes its flag, a
   * doubled numbering sign, a token inside a quoted path, or a sign of code after another; else one, but where a side
   * joins (a closing or joining token, an opening or joining one before it) the space the corpus records for that side
   * (`Spacing`), none where it records none; where both sides join, both must record one, and the token's is written.
   */
  private write(token: string, next: string | null): string {
    if (DIRECTIONAL_MARK.test(token)) {
      this.onWrite?.(NOT_JOINED);
      return token;
    }
    const continuing = CONTINUING.test(token);
    const quote = this.pathMayOpen;
    this.pathMayOpen = null;
    if (quote !== null && token === '/') this.pathQuote = quote;
    else if (quote !== null && PATH_LEAD.has(token)) this.pathMayOpen = quote;
    const inPath = this.pathQuote !== null;
    const before = this.reading;
    this.reading = null;
    const kind = continuing ? 'word' : this.kindOf(token, next);
    this.numberElided = before === BEGINS_WORD && /^\d/.test(token);
    const regional = REGIONAL_INDICATOR.test(token);
    const flagClosed = this.flagOpen && regional;
    this.flagOpen = regional && !flagClosed;
    const doubled = token === this.lastToken && this.marks.readings.get(token) === NUMBERING;
    const apart = !this.atLineStart && !continuing && !flagClosed && !doubled && !inPath && kind !== 'lineBreak' &&
      !(kind === 'operator' && this.previous === 'operator');
    const joinedBefore = apart && (kind === 'closing' || (kind === 'joining' && !this.sentenceBoundary));
    const joinedAfter = apart && (this.previous === 'opening' || this.previous === 'joining');
    // each side that joins keeps the two together, unless the corpus spaces its mark there: then that space
    let space = apart ? ' ' : '';
    if (joinedAfter) space = this.spacedAfter.get(this.lastToken!) ?? '';
    if (joinedBefore && space !== '') space = this.spacedBefore.get(token) ?? '';
    if (this.onWrite !== undefined) {
      const joined = joinedBefore || joinedAfter;
      this.onWrite(joined ? { before: joinedBefore ? token : null, after: joinedAfter ? this.lastToken : null } : NOT_JOINED);
    }
    this.sentenceBoundary = false;
    if (kind === 'lineBreak') {
      this.carryQuotes(token);
      this.pathQuote = null;
    }
    this.previous = kind;
    this.sentenceEnded = kind === 'closing' && SENTENCE_ENDS.has(token);
    this.word = kind === 'word' ? token : null;
    this.wordQuoted = this.word !== null && before?.kind === 'opening' && before.quote !== undefined;
    this.atLineStart = kind === 'lineBreak';
    this.lastToken = token;
    return space + token;
  }

  /**
   * How `token` is spaced, read with `next` after it: a line break; the closing quote of a path; as its rules read it
   * (`rulesOf`, its quote opened or closed); a mark of `PARTNERS`; a closing, opening or joining mark; a sign of code;
   * else a word.
   */
  private kindOf(token: string, next: string | null): Kind {
    if (LINE_BREAKS.test(token)) return 'lineBreak';
    if (token === this.pathQuote) {
      this.closeQuote(token);
      this.pathQuote = null;
      return 'closing';
    }
    const rules = this.rulesOf(token);
    if (rules !== undefined) {
      const seen = this.surroundings;
      seen.word = this.word;
      seen.wordQuoted = this.wordQuoted;
      seen.previous = this.previous;
      seen.next = next;
      seen.numberElided = this.numberElided;
      seen.quoteOpen = this.quoteOpen.has(token);
      seen.quoteCarried = (this.quoteOpen.get(token) ?? 0) > 0;
      seen.quoteOpenedAfterSentence = this.quotesAfterSentence.has(token);
      seen.sentenceEnded = this.sentenceEnded;
      let at = 0;
      while (!rules[at]!.when(seen)) at++;
      const reading = (this.reading = rules[at]!.reading);
      if (reading.quote !== undefined) this.setQuote(token, reading.quote);
      return reading.kind;
    }
    const paired = this.pairedKind(token);
    if (paired !== null) return paired;
    if (this.marks.closing.has(token)) return 'closing';
    if (OPENING.has(token)) return 'opening';
    if (JOINING.test(token)) return 'joining';
    if (OTHER_TERMINATOR.test(token)) return 'closing';
    if (OPERATORS.has(token)) return 'operator';
    return 'word';
  }

  /** The rules that read `token` with the token after it (`READINGS`, `CURRENCY_READINGS`), if any. */
  private rulesOf(token: string): readonly Rule[] | undefined {
    return this.marks.readings.get(token) ?? (CURRENCY.test(token) ? CURRENCY_READINGS : undefined);
  }

  /** Opens or closes straight quote `quote`; one that opens may start a path. */
  private setQuote(quote: string, change: NonNullable<Reading['quote']>): void {
    if (change === 'closes') {
      this.closeQuote(quote);
      return;
    }
    this.quoteOpen.set(quote, change === 'opens' ? 0 : FOR_LINE);
    if (this.sentenceEnded) this.quotesAfterSentence.add(quote);
    else this.quotesAfterSentence.delete(quote);
    this.pathMayOpen = quote;
  }

  /** Closes straight quote `quote`. */
  private closeQuote(quote: string): void {
    this.quoteOpen.delete(quote);
    this.quotesAfterSentence.delete(quote);
  }

  /**
   * At line break `lineBreak`: each quote of QUOTES_OVER_LINES open stays open over it, for
   * QUOTE_LINE_BREAKS line breaks at most, unless it opened for its line only or a blank line
   * ends the paragraph.
   */
  private carryQuotes(lineBreak: string): void {
    const paragraphEnds = this.atLineStart || lineBreak.length > 1;
    for (const [quote, lineBreaks] of this.quoteOpen) {
      const staysOpen = QUOTES_OVER_LINES.has(quote) && !paragraphEnds && lineBreaks !== FOR_LINE && lineBreaks < QUOTE_LINE_BREAKS;
      if (staysOpen) this.quoteOpen.set(quote, lineBreaks + 1);
      else this.closeQuote(quote);
    }
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

/**
 * The text of a token sequence cut under the tokenizer rules of version `wordRule`, by the detokeniser's spacing rule
 * and the corpus's `spacing`.
 */
export function detokenize(tokens: Iterable<string>, wordRule: WordRule = WORD_RULE_VERSION, spacing: Spacing = {}): string {
  const writer = new Detokenizer(wordRule, 'file', spacing);
  let text = '';
  for (const token of tokens) text += writer.push(token);
  return text + writer.end();
}
