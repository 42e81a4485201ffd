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
 *  2. A word: a run of letters, marks and digits (\p{L}\p{M}\p{N}); an apostrophe (' or ’) or
 *     a hyphen (-) between two such runs joins them ("don't", "O’Brien", "well-known"), and
 *     so does a "." or "," between two decimal digits ("3.5", "10,000").
 *  3. Any other character that is not white space, one code point per token ("..." is three).
 * White space other than line breaks (spaces, tabs, U+00A0, a lone "\r") separates tokens.
 */
const WORD_CHARS = String.raw`[\p{L}\p{M}\p{N}]+`;
const JOINER = String.raw`(?:['’-]|(?<=\p{Nd})[.,](?=\p{Nd}))`;
const TOKEN = new RegExp(String.raw`\r?\n|${WORD_CHARS}(?:${JOINER}${WORD_CHARS})*|[^\s]`, 'gu');

/**
 * Splits text into the word level's tokens, case kept: words, single punctuation marks and
 * other symbols, and `LINE_BREAK` for every line break (a blank line is two of them).
 */
export function tokenizeWords(text: string): string[] {
  // one match() call: a third faster than a matchAll() loop on large texts
  const tokens = text.match(TOKEN) ?? [];
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === '\r\n') tokens[i] = LINE_BREAK;
  return tokens;
}

/**
 * Whether `token` could be one token of `tokenizeWords`' output: non-empty, and either a line
 * break or text without white space. (A checkpoint's word list is checked with this.)
 */
export function isWordToken(token: string): boolean {
  return token === LINE_BREAK || (token.length > 0 && !/\s/u.test(token));
}
