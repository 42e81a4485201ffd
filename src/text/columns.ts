/*
 * How wide text is drawn, in columns as a terminal counts them: what lines a table's columns up, and cuts a chart's title.
 */

/** A character drawn about as wide as two Latin letters: Hangul, CJK, kana, fullwidth forms, emoji. */
const WIDE_CHARACTER = /[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

/** How wide a character is drawn: 2 columns for a wide one, else 1. */
export const characterColumns = (character: string): number => (WIDE_CHARACTER.test(character) ? 2 : 1);

/** The columns `text` takes. */
export const textColumns = (text: string): number => [...text].reduce((sum, character) => sum + characterColumns(character), 0);
