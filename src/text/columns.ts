/*
 * How wide text is drawn, in columns as a terminal counts them: what lines a table's columns up, and cuts a chart's title
 * and a terminal's status line to its width.
 */

/** A character drawn about as wide as two Latin letters: Hangul, CJK, kana, fullwidth forms, emoji. */
const WIDE_CHARACTER = /[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

/**
 * A character drawn in no column of its own: a combining mark (a variation selector is one), a zero-width space,
 * non-joiner, joiner or word joiner, a byte order mark.
 */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B\u200C\u2060\uFEFF]|\u200D/u;

/**
 * What a terminal draws in one place: a character with the zero-width ones after it, and an emoji with the emoji that
 * zero-width joiners (U+200D) join to it (👩‍💻 is one wide character).
 */
const DRAWN_TOGETHER = new RegExp(
  `\\p{Extended_Pictographic}(?:\u200D\\p{Extended_Pictographic}|${ZERO_WIDTH.source})*|[^](?:${ZERO_WIDTH.source})*`, 'gu');

/** `text` split where a cut leaves every drawn character whole (DRAWN_TOGETHER). */
const drawnCharacters = (text: string): string[] => text.match(DRAWN_TOGETHER) ?? [];

/** How wide a drawn character is: as its first code point, 2 columns for a wide one, 0 for a zero-width one, else 1. */
function characterColumns(character: string): number {
  const first = String.fromCodePoint(character.codePointAt(0)!);
  return WIDE_CHARACTER.test(first) ? 2 : ZERO_WIDTH.test(first) ? 0 : 1;
}

/** The columns `text` takes. */
export const textColumns = (text: string): number =>
  drawnCharacters(text).reduce((sum, character) => sum + characterColumns(character), 0);

/** The first characters of `characters` that take at most `columns` columns. */
function leading(characters: readonly string[], columns: number): string[] {
  const kept: string[] = [];
  for (const character of characters) {
    columns -= characterColumns(character);
    if (columns < 0) break;
    kept.push(character);
  }
  return kept;
}

/**
 * `text` cut to at most `max` columns, an ellipsis marking the cut: at its end, or in its middle
 * (a run's name, whose end often tells it from another: `run-1`, `run-2`).
 */
export function shortened(text: string, max: number, cut: 'end' | 'middle' = 'end'): string {
  if (textColumns(text) <= max) return text;
  const characters = drawnCharacters(text);
  if (cut === 'end') return `${leading(characters, max - 1).join('')}…`;
  const tail = leading([...characters].reverse(), Math.floor((max - 1) / 2)).reverse();
  return `${leading(characters, max - 1 - textColumns(tail.join(''))).join('')}…${tail.join('')}`;
}
