/*
 * How wide text is drawn, in columns as a terminal counts them: what lines a table's columns up, and cuts a chart's title
 * and a terminal's status line to its width.
 */

/** A character drawn about as wide as two Latin letters: Hangul, CJK, kana, fullwidth forms, emoji. */
const WIDE_CHARACTER = /[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u;

/** How wide a character is drawn: 2 columns for a wide one, else 1. */
export const characterColumns = (character: string): number => (WIDE_CHARACTER.test(character) ? 2 : 1);

/** The columns `text` takes. */
export const textColumns = (text: string): number => [...text].reduce((sum, character) => sum + characterColumns(character), 0);

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
  const characters = [...text];
  if (cut === 'end') return `${leading(characters, max - 1).join('')}…`;
  const tail = leading([...characters].reverse(), Math.floor((max - 1) / 2)).reverse();
  return `${leading(characters, max - 1 - textColumns(tail.join(''))).join('')}…${tail.join('')}`;
}
