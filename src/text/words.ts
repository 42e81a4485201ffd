/**
 * The word tokenizer of the word level (docs/words.md), under each version of its rules.
 * Checkpoints and prepared folders record the version their ids were made under: a text read
 * under another version may give other tokens, so a model keeps tokenizing as it was trained.
 */
import { knownRule, latestRule } from './rule-versions.js';

/** A version is added whenever `tokenizeWords` would split some text differently; every earlier one stays readable. */
const WORD_RULES = [1, 2, 3] as const;
export type WordRule = (typeof WORD_RULES)[number];
export const WORD_RULE_VERSION = latestRule(WORD_RULES);

/** `rule` as a version this code has, or null (a newer rnn's). */
export function knownWordRule(rule: number): WordRule | null {
  return knownRule(WORD_RULES, rule);
}

/** The token a line break reads as; spaces and tabs are not tokens, line breaks are. */
export const LINE_BREAK = '\n';

/*
 * Version 1. One match is one token, tried in this order:
 *  1. "\r\n" or "\n": a line break ("\r\n" reads as "\n").
 *  2. A word: a run of letters, marks and digits (\p{L}\p{M}\p{N}); a joiner — an apostrophe
 *     (' or ’) or a hyphen (-) — between two such runs joins them ("don't", "O’Brien",
 *     "well-known"), and so does a number joiner, "." or ",", between two decimal digits
 *     ("3.5", "10,000").
 *  3. Any other character that is not white space, one code point per token ("..." is three).
 * White space other than line breaks (spaces, tabs, U+00A0, a lone "\r") separates tokens.
 *
 * Version 2: as version 1, except that no token ends inside a grapheme cluster (UAX #29) but
 * where white space falls in one. A character that extends the one before it — a mark, another
 * grapheme extender (the zero-width non-joiner U+200C, a tag character), an emoji skin-tone
 * modifier, or the zero-width joiner U+200D — stays in the token of the character before it:
 *  2. A word run may hold extenders after its first character ("می‌خواهم" is one word).
 *  3. Two regional indicators are one token (a flag, "🇫🇷"), with the extenders after them.
 *  4. An emoji (\p{Extended_Pictographic}) with its extenders, and with each further emoji
 *     that a zero-width joiner joins to it, is one token ("👨‍👩‍👧", "🏳️‍🌈", "👍🏽").
 *  5. Any other character that is not white space is a token with the extenders after it
 *     ("#️⃣"); a character after white space starts a token whatever it is.
 *
 * Version 3: as version 2, and a word also holds
 *  - the Arabic decimal and thousands separators U+066B "٫" and U+066C "٬" between two decimal
 *    digits, as "." and "," ("١٢٬٥٠٠", "٣٫٥", "12٫5");
 *  - the Hebrew geresh U+05F3 "׳" and gershayim U+05F4 "״" between two runs, as an apostrophe
 *    ("צה״ל", "ג׳ירפה"), and a geresh after its last run, with the extenders after it ("ה׳",
 *    "פרופ׳"): Hebrew writes one there in numerals and abbreviations;
 *  - a direction mark (U+200E, U+200F, U+061C) between two runs ("שלום\u200Fworld"). One
 *    anywhere else stays a token of its own, as in version 2: a word reads as the same token
 *    whether a mark follows it or not, and the detokeniser writes the mark back against it.
 */
/** What each rule reads as one token however long, as a message says it: the runs no cut may split. */
export const UNBROKEN_RUNS: Record<WordRule, string> = {
  1: "letters, marks and digits joined by ' ’ - . , with nothing else between them",
  2: "letters, marks and digits joined by ' ’ - . , ; or any character with the marks, zero-width joiners and other " +
    "extenders after it, emoji joined by zero-width joiners, flags' regional indicators; with no white space between them",
  3: "letters, marks and digits joined by ' ’ - ׳ ״ . , ٫ ٬ or direction marks, and a ׳ after them; or any character with the " +
    "marks, zero-width joiners and other extenders after it, emoji joined by zero-width joiners, flags' regional indicators; " +
    'with no white space between them',
};

const JOINERS = "'’-";
const NUMBER_JOINERS = '.,';
/** Version 3: the Hebrew geresh, which may also end a word. */
const GERESH = '\u05F3';
/** Version 3: the geresh, the Hebrew gershayim, and the direction marks LRM, RLM and ALM. */
const LATER_JOINERS = `${GERESH}\u05F4\u200E\u200F\u061C`;
/** Version 3: the Arabic decimal and thousands separators. */
const LATER_NUMBER_JOINERS = '\u066B\u066C';
const WORD_CHARS = String.raw`\p{L}\p{M}\p{N}`;
const WORD_CHAR = `[${WORD_CHARS}]`;
/** Version 2: the characters that extend the one before them, but the zero-width joiner. */
const EXTENDERS_BUT_ZWJ = String.raw`\p{M}\p{Grapheme_Extend}\p{Emoji_Modifier}`;
const ZWJ = '\u200D';
const EXTENDERS = `${EXTENDERS_BUT_ZWJ}${ZWJ}`;
/** What joins two runs of a word: one of `joiners`, or one of `numberJoiners` between two decimal digits. */
function joiner(joiners: string, numberJoiners: string): string {
  return String.raw`(?:[${joiners.replace('-', '\\-')}]|(?<=\p{Nd})[${numberJoiners}](?=\p{Nd}))`;
}
const LINE_BREAK_MATCH = String.raw`\r?\n`;

/**
 * Joins a match of `token` may take, and characters a run of one class may take in it: bounded,
 * so that the regular expression's backtracking stack (which overflows at some millions of
 * repeats in one match) stays small whatever the text. A token that may have been stopped by a
 * bound is longer than MAX_MATCHED characters (each join adds a joiner and at least one
 * character; a run stopped holds MAX_RUN characters after the one it starts with), and sends
 * the text to `tokenizeLinear`.
 */
const MAX_JOINS = 1000;
const MAX_MATCHED = 2 * MAX_JOINS;
const MAX_RUN = MAX_MATCHED;

/** A run of the characters of a class (`chars`, its inside), at least `min` of them, at most MAX_RUN. */
function run(chars: string, min = 0): string {
  return `[${chars}]{${min},${MAX_RUN}}`;
}

/** A rule's tokens, as the parts of regular expressions' sources. */
interface TokenPattern {
  /** The characters a word goes on with after its first word character. */
  wordChars: string;
  /** What joins two runs of a word into one. */
  joiner: string;
  /** Version 3: a character a word may end with after its last run. */
  wordEnd?: string;
  /** Version 2: what a flag starts with, two regional indicators. */
  flag?: string;
  /** Version 2: what an emoji sequence starts with, an emoji; a zero-width joiner joins another to it. */
  emoji?: string;
  /** Version 2: the characters that extend the one before them, which follow a flag, an emoji or another character. */
  extenders?: string;
}

const GRAPHEME_CLUSTERS: TokenPattern = {
  wordChars: `${WORD_CHARS}${EXTENDERS}`,
  joiner: joiner(JOINERS, NUMBER_JOINERS),
  flag: String.raw`\p{Regional_Indicator}{2}`,
  emoji: String.raw`\p{Extended_Pictographic}`,
  extenders: EXTENDERS,
};

const PATTERNS: Record<WordRule, TokenPattern> = {
  1: { wordChars: WORD_CHARS, joiner: joiner(JOINERS, NUMBER_JOINERS) },
  2: GRAPHEME_CLUSTERS,
  3: {
    ...GRAPHEME_CLUSTERS,
    joiner: joiner(`${JOINERS}${LATER_JOINERS}`, `${NUMBER_JOINERS}${LATER_NUMBER_JOINERS}`),
    wordEnd: GERESH,
  },
};

/** Any other character that is not white space: a token (with the extenders after it). */
const OTHER = String.raw`[^\s]`;

/** A rule's regular expressions. */
interface Tokenizer {
  /** One token, its joins and runs bounded (MAX_JOINS, MAX_RUN). */
  token: RegExp;
  /** A token's first part: a line break, a word's first run (group 1), an emoji with its extenders (group 2), or another token. */
  part: RegExp;
  /** More of a word, matched just where the part before it ends: more of a run, or a joiner and the run it joins. */
  wordGoesOn: RegExp;
  /** What a word may end with after its last run, matched just where that run ends; null where the rule has none. */
  wordEnds: RegExp | null;
  /** More of an emoji sequence, matched just where its part before ends: more extenders, or a zero-width joiner and the emoji it joins. */
  emojiGoesOn: RegExp | null;
  /** More extenders after a flag, an emoji sequence or another character; null where the rule has none. */
  extended: RegExp | null;
}

function tokenizerOf({ wordChars, joiner, wordEnd, flag, emoji, extenders }: TokenPattern): Tokenizer {
  const wordRun = `${WORD_CHAR}${run(wordChars)}`;
  const tail = extenders === undefined ? '' : run(extenders);
  const ending = wordEnd === undefined ? '' : `(?:${wordEnd}${tail})?`;
  const oneEmoji = emoji && `${emoji}${run(EXTENDERS_BUT_ZWJ)}`;
  const alternatives = (word: string, emojiPart: string | undefined): RegExp =>
    new RegExp([LINE_BREAK_MATCH, word, flag && `${flag}${tail}`, emojiPart, `${OTHER}${tail}`].filter((a) => a !== undefined).join('|'), 'gu');
  return {
    token: alternatives(`${wordRun}(?:${joiner}${wordRun}){0,${MAX_JOINS}}${ending}`,
      oneEmoji && `${oneEmoji}(?:${ZWJ}${oneEmoji}){0,${MAX_JOINS}}${tail}`),
    part: alternatives(`(${wordRun})`, oneEmoji && `(${oneEmoji})`),
    wordGoesOn: new RegExp(`${run(wordChars, 1)}|${joiner}${wordRun}`, 'uy'),
    wordEnds: wordEnd === undefined ? null : new RegExp(wordEnd, 'uy'),
    emojiGoesOn: oneEmoji === undefined ? null : new RegExp(`${run(EXTENDERS_BUT_ZWJ, 1)}|${ZWJ}${oneEmoji}`, 'uy'),
    extended: extenders === undefined ? null : new RegExp(run(extenders, 1), 'uy'),
  };
}

const TOKENIZERS: Record<WordRule, Tokenizer> = { 1: tokenizerOf(PATTERNS[1]), 2: tokenizerOf(PATTERNS[2]), 3: tokenizerOf(PATTERNS[3]) };

/**
 * Splits text into the word level's tokens under the rules of version `rule`, case kept: words,
 * single punctuation marks and other symbols, and `LINE_BREAK` for every line break (a blank
 * line is two of them).
 */
export function tokenizeWords(text: string, rule: WordRule = WORD_RULE_VERSION): string[] {
  // one match() call: a third faster than a loop of exec()
  const tokens = text.match(TOKENIZERS[rule].token) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length > MAX_MATCHED) return tokenizeLinear(text, TOKENIZERS[rule]);
    if (token === '\r\n') tokens[i] = LINE_BREAK;
  }
  return tokens;
}

/** `tokenizeWords` in time and stack linear in the text: each token's joins and runs matched a bounded piece at a time. */
function tokenizeLinear(text: string, { part: PART, wordGoesOn, wordEnds, emojiGoesOn, extended }: Tokenizer): string[] {
  const tokens: string[] = [];
  /** Where the pieces `more` matches one after another from `end` on end. */
  const goesOn = (end: number, more: RegExp | null): number => {
    if (more === null) return end;
    more.lastIndex = end;
    while (more.test(text)) end = more.lastIndex;
    return end;
  };
  /** Where a word whose runs end at `end` ends: after the character it may end with and that character's extenders, if it has one there. */
  const wordEnd = (end: number): number => {
    if (wordEnds === null) return end;
    wordEnds.lastIndex = end;
    return wordEnds.test(text) ? goesOn(wordEnds.lastIndex, extended) : end;
  };
  PART.lastIndex = 0;
  for (let part = PART.exec(text); part !== null; part = PART.exec(text)) {
    let token = part[0];
    const first = token.charCodeAt(0), lineBreak = first === 0x0a || first === 0x0d;
    const end = part[1] !== undefined ? wordEnd(goesOn(PART.lastIndex, wordGoesOn))
      : part[2] !== undefined ? goesOn(goesOn(PART.lastIndex, emojiGoesOn), extended)
        : lineBreak ? PART.lastIndex : goesOn(PART.lastIndex, extended);
    if (end !== PART.lastIndex) {
      token = text.slice(part.index, end);
      PART.lastIndex = end;
    } else if (token === '\r\n') {
      token = LINE_BREAK;
    }
    tokens.push(token);
  }
  return tokens;
}

/**
 * Whether `token` could be one token of `tokenizeWords`' output: non-empty, and either a line
 * break or text without white space. (A checkpoint's word list is checked with this.)
 */
export function isWordToken(token: string): boolean {
  return token === LINE_BREAK || (token.length > 0 && !/\s/u.test(token));
}

/*
 * Where text may be cut so that it tokenizes as its two halves do: wherever no token spans the
 * cut. A line break "\r\n" cut in two reads as a lone "\r", which is no token, and a line break,
 * as it would whole; white space is in no token, so a cut after it is safe. Else only a word,
 * and under version 2 an emoji sequence, a flag or a character with its extenders, spans two
 * characters. Under version 1 a word holds word characters and joiners only, a joiner between
 * two word characters, so a cut is safe after any other character, and after a joiner that no
 * word character follows. Under version 2 a cut is also unsafe before an extender, after one
 * (its token may go on: a word, or an emoji that a zero-width joiner joins to the next), and
 * between two regional indicators. The joiners version 3 adds (׳ ״ ٫ ٬ and the direction
 * marks) are joiners under it as the others are, and under versions 1 and 2 characters apart.
 */
const LETTER = 0; // a word character (\p{L}, \p{N}) that extends nothing
const MARK = 1; // a word character that extends the one before it (\p{M})
const JOINING = 2;
const EXTENDING = 3; // an extender that is no word character (U+200C, U+200D, tags, skin tones)
const REGIONAL = 4;
const SPACE = 5;
const APART = 6;
const LATER_JOINING = 7; // a joiner from version 3 on
type CharKind =
  typeof LETTER | typeof MARK | typeof JOINING | typeof EXTENDING | typeof REGIONAL | typeof SPACE | typeof APART | typeof LATER_JOINING;

const CHAR_KINDS: [RegExp, CharKind][] = [
  [/\s/uy, SPACE], [/[\p{L}\p{N}]/uy, LETTER], [/\p{M}/uy, MARK], [new RegExp(`[${EXTENDERS}]`, 'uy'), EXTENDING],
  [/\p{Regional_Indicator}/uy, REGIONAL],
];

function kindOf(text: string, at: number): CharKind {
  if (JOINERS.includes(text[at]!) || NUMBER_JOINERS.includes(text[at]!)) return JOINING;
  if (LATER_JOINERS.includes(text[at]!) || LATER_NUMBER_JOINERS.includes(text[at]!)) return LATER_JOINING;
  for (const [pattern, kind] of CHAR_KINDS) {
    pattern.lastIndex = at;
    if (pattern.test(text)) return kind;
  }
  return APART;
}

const ASCII_KINDS = Uint8Array.from({ length: 0x80 }, (_, code) => kindOf(String.fromCharCode(code), 0));

function kindAt(text: string, at: number): CharKind {
  const code = text.charCodeAt(at);
  return code < 0x80 ? ASCII_KINDS[code] as CharKind : kindOf(text, at);
}

/**
 * Whether a cut between a character of kind `before` and one of kind `after` is safe under
 * `rule`; `after` null: the text ends there, and what may come after it is unknown.
 */
function safeCut(before: CharKind, after: CharKind | null, rule: WordRule): boolean {
  if (before === LATER_JOINING) before = rule >= 3 ? JOINING : APART;
  if (after === LATER_JOINING) after = rule >= 3 ? JOINING : APART;
  const word = (kind: CharKind | null): boolean => kind === LETTER || kind === MARK;
  if (before === SPACE) return true;
  if (rule === 1) return before === JOINING ? after !== null && !word(after) : !word(before);
  if (after === null || after === MARK || after === EXTENDING || (before === REGIONAL && after === REGIONAL)) return false;
  return !word(before) && before !== EXTENDING && (before !== JOINING || !word(after));
}

/** The last index of `text` (> 0) where it may be cut so that no token of `rule` spans the cut, or 0 when there is none. */
export function lastWordBreak(text: string, rule: WordRule = WORD_RULE_VERSION): number {
  let next: CharKind | null = null; // the kind of the character at `end`; null past the text's end
  for (let end = text.length; end > 0;) {
    let start = end - 1;
    const code = text.charCodeAt(start);
    if (code >= 0xdc00 && code <= 0xdfff && start > 0) {
      const high = text.charCodeAt(start - 1);
      if (high >= 0xd800 && high <= 0xdbff) start--;
    }
    const kind = kindAt(text, start);
    if (safeCut(kind, next, rule)) return end;
    next = kind;
    end = start;
  }
  return 0;
}

/** Characters of a text tokenized at once (`wordWindows`), so that a long text is not held as one array of tokens. */
export const WORD_WINDOW = 1 << 20;

/**
 * The texts that `held` then `piece` are tokenized in, so that no token is cut: a window of at most
 * `WORD_WINDOW` characters of `piece` at a time, after what is held, up to its last word break
 * (`lastWordBreak`). Returns the text held after the last break, for what follows or to be
 * tokenized whole at the end; `checkHeld` sees it after each window.
 */
export function* wordWindows(held: string, piece: string, rule: WordRule, checkHeld?: (held: string) => void): Generator<string, string> {
  for (let at = 0; at < piece.length;) {
    const end = windowEnd(piece, at);
    const window = piece.slice(at, end);
    at = end;
    const cutAt = lastWordBreak(window, rule);
    if (cutAt > 0) {
      yield held + window.slice(0, cutAt);
      held = window.slice(cutAt);
    } else {
      held += window;
    }
    checkHeld?.(held);
  }
  return held;
}

/** The end of the window of `text` from `at`: `WORD_WINDOW` characters on, or one less not to cut a surrogate pair. */
function windowEnd(text: string, at: number): number {
  const end = at + WORD_WINDOW;
  if (end >= text.length) return text.length;
  const code = text.charCodeAt(end - 1);
  return code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}
