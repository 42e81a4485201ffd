import { describe, expect, it } from 'vitest';
import { shortened, textColumns } from '../src/text/columns.js';

const COMBINING_ACUTE = '\u0301';
const ZWJ = '\u200D';

describe('textColumns (how wide a terminal draws text)', () => {
  it('gives a combining mark, a zero-width space or joiner and a variation selector no column', () => {
    expect(textColumns(`cafe${COMBINING_ACUTE}`)).toBe(4);
    expect(textColumns('a\u20DD')).toBe(1);
    expect(textColumns('a\u200Bb\u200Cc\u2060d\uFEFF')).toBe(4);
    expect(textColumns('\u845B\u{E0100}')).toBe(2);
    expect(textColumns('\u2764\uFE0E')).toBe(1);
  });

  it('counts an emoji sequence joined by ZWJ as the one wide character a terminal draws, a joiner between letters as nothing', () => {
    expect(textColumns(`👩${ZWJ}💻`)).toBe(2);
    expect(textColumns(`👨${ZWJ}👩${ZWJ}👧 family`)).toBe(9);
    expect(textColumns(`a${ZWJ}b`)).toBe(2);
  });
});

describe('shortened (a title or status line cut to a width)', () => {
  it('keeps a combining mark with the letter before it', () => {
    const accented = `e${COMBINING_ACUTE}`.repeat(12);
    for (const max of [3, 4, 7]) {
      for (const cut of ['end', 'middle'] as const) {
        const short = shortened(accented, max, cut);
        expect(textColumns(short)).toBeLessThanOrEqual(max);
        expect(short.replace('…', '')).toBe(`e${COMBINING_ACUTE}`.repeat(max - 1));
      }
    }
  });

  it('keeps an emoji sequence joined by ZWJ whole or leaves it out', () => {
    const coder = `👩${ZWJ}💻`;
    const text = `ab${coder}${coder}cd`;
    expect(shortened(text, 5)).toBe(`ab${coder}…`);
    expect(shortened(text, 4)).toBe('ab…');
    expect(shortened(text, 7, 'middle')).toBe(`ab${coder}…cd`);
  });
});
