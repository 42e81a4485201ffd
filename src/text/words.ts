/**
 * The word tokenizer of the word level (docs/words.md). Checkpoints record
 * `WORD_RULE_VERSION`: a text read under another version may give other tokens, so a model
 * trained under one version must not be fed ids made under another.
 */

/** Bumped whenever `tokenizeWords` would split some text differently. */
export const WORD_RULE_VERSION = 1;

/** The token a line break reads as; spaces and tabs are not tokens, line breaks are. */
export const LINE_BREAK = '\n';

/*
 * One match is one token, tried in this order:
 *  1. "\r\n" or "\n": a line break ("\r\n" reads as "\n").
 *  2. A word: a run of letters, marks and digits (\p{L}\p{M}\p{N}); a joiner — an apostrophe
 *     (' or ’) or a hyphen (-) — between two such runs joins them ("don't", "O’Brien",
 *     "well-known"), and so does a number joiner, "." or ",", between two decimal digits
 *     ("3.5", "10,000").
 *  3. Any other character that is not white space, one code point per token ("..." is three).
 * White space other than line breaks (spaces, tabs, U+00A0, a lone "\r") separates tokens.
 */
const JOINERS = "'’-";
const NUMBER_JOINERS = '.,';
const WORD_CHAR = String.raw`[\p{L}\p{M}\p{N}]`;
const WORD_RUN = `${WORD_CHAR}+`;
const JOINER = String.raw`(?:[${JOINERS}]|(?<=\p{Nd})[${NUMBER_JOINERS}](?=\p{Nd}))`;
const LINE_BREAK_MATCH = String.raw`\r?\n`;
const OTHER = String.raw`[^\s]`;

/**
 * Joins a match of `TOKEN` may take: bounded, so that the regular expression's backtracking
 * stack stays small whatever the text. A token that may have been stopped by the bound is longer
 * than 2·MAX_JOINS characters (each join adds a joiner and a run), and sends the text to
 * `tokenizeLinear`.
 */
const MAX_JOINS = 1000;
const TOKEN = new RegExp(`${LINE_BREAK_MATCH}|${WORD_RUN}(?:${JOINER}${WORD_RUN}){0,${MAX_JOINS}}|${OTHER}`, 'gu');

/**
 * Splits text into the word level's tokens, case kept: words, single punctuation marks and
 * other symbols, and `LINE_BREAK` for every line break (a blank line is two of them).
 */
export function tokenizeWords(text: string): string[] {
  // one match() call: a third faster than a loop of exec()
  const tokens = text.match(TOKEN) ?? [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.length > 2 * MAX_JOINS) return tokenizeLinear(text);
    if (token === '\r\n') tokens[i] = LINE_BREAK;
  }
  return tokens;
}

/** A token's first part: a line break, a run of word characters (group 1), or another character. */
const PART = new RegExp(`${LINE_BREAK_MATCH}|(${WORD_RUN})|${OTHER}`, 'gu');
/** A joiner and the run it joins, matched just where the run before it ends. */
const JOINED = new RegExp(`${JOINER}${WORD_RUN}`, 'uy');

/** `tokenizeWords` in time and stack linear in the text: each word's joins matched one at a time. */
function tokenizeLinear(text: string): string[] {
  const tokens: string[] = [];
  PART.lastIndex = 0;
  for (let part = PART.exec(text); part !== null; part = PART.exec(text)) {
    let token = part[0];
    if (part[1] !== undefined) {
      let end = PART.lastIndex;
      JOINED.lastIndex = end;
      while (JOINED.test(text)) end = JOINED.lastIndex;
      if (end !== PART.lastIndex) {
        token = text.slice(part.index, end);
        PART.lastIndex = end;
      }
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
 * cut. Only a word spans two characters (a line break "\r\n" cut in two reads as a lone "\r",
 * which is no token, and a line break, as it would whole), and a word holds word characters and
 * joiners only, a joiner between two word characters. So a cut is safe after any other
 * character (white space included), and after a joiner that no word character follows.
 */
const WORD = 0;
const JOINING = 1;
const APART = 2;
type CharKind = typeof WORD | typeof JOINING | typeof APART;

const WORD_CHAR_AT = new RegExp(WORD_CHAR, 'uy');
const ASCII_KINDS = Uint8Array.from({ length: 0x80 }, (_, code) => {
  const char = String.fromCharCode(code);
  WORD_CHAR_AT.lastIndex = 0;
  return JOINERS.includes(char) || NUMBER_JOINERS.includes(char) ? JOINING : WORD_CHAR_AT.test(char) ? WORD : APART;
});

function kindAt(text: string, at: number): CharKind {
  const code = text.charCodeAt(at);
  if (code < 0x80) return ASCII_KINDS[code] as CharKind;
  if (JOINERS.includes(text[at]!)) return JOINING;
  WORD_CHAR_AT.lastIndex = at;
  return WORD_CHAR_AT.test(text) ? WORD : APART;
}

/** The last index of `text` (> 0) where it may be cut so that no token spans the cut, or 0 when there is none. */
export function lastWordBreak(text: string): number {
  let next: CharKind | null = null; // the kind of the character at `end`; null past the text's end
  for (let end = text.length; end > 0;) {
    let start = end - 1;
    const code = text.charCodeAt(start);
    if (code >= 0xdc00 && code <= 0xdfff && start > 0) {
      const high = text.charCodeAt(start - 1);
      if (high >= 0xd800 && high <= 0xdbff) start--;
    }
    const kind = kindAt(text, start);
    if (kind === APART || (kind === JOINING && next !== null && next !== WORD)) return end;
    next = kind;
    end = start;
  }
  return 0;
}
