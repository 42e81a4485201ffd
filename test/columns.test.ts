import { describe, expect, it } from 'vitest';
import { shortened, textColumns } from '../src/text/columns.js';

const COMBINING_ACUTE = '\u0301';
const ZWJ = '\u200D';
const EMOJI_PRESENTATION = '\uFE0F';
const FRANCE = '\u{1F1EB}\u{1F1F7}';
const GERMANY = '\u{1F1E9}\u{1F1EA}';
/** 각 spelled in conjoining jamo: leading consonant ᄀ, vowel ᅡ, trailing consonant ᆨ. */
const GAK = '\u1100\u1161\u11A8';

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

  it('counts a conjoining jamo syllable as the one wide character its leading consonant begins', () => {
    expect(textColumns(GAK)).toBe(2);
    expect(textColumns(`${GAK} ok`)).toBe(5);
    expect(textColumns('\u1100\u1161\uD7CB')).toBe(2);
    expect(textColumns('\uAC00\u11A8')).toBe(2);
  });

  it('counts a pictograph with the emoji presentation selector after it as 2 columns, as a terminal draws it', () => {
    expect(textColumns(`\u2600${EMOJI_PRESENTATION}`)).toBe(2);
    expect(textColumns(`\u2764${EMOJI_PRESENTATION} ok`)).toBe(5);
    expect(textColumns(`\u2714${EMOJI_PRESENTATION}`)).toBe(2);
    expect(textColumns('\u2714')).toBe(1);
    expect(textColumns(`1${EMOJI_PRESENTATION}`)).toBe(1);
  });

  it('counts a pair of regional indicators as one flag 2 columns wide, a lone one as 1', () => {
    expect(textColumns(FRANCE)).toBe(2);
    expect(textColumns(`${FRANCE}${GERMANY}`)).toBe(4);
    expect(textColumns('\u{1F1EB}')).toBe(1);
    expect(textColumns(`${FRANCE}\u{1F1EB}`)).toBe(3);
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

  it('keeps a flag, an emoji with its presentation selector and a jamo syllable whole or leaves them out', () => {
    const flags = `a${FRANCE}${GERMANY}${FRANCE}`;
    expect(shortened(flags, 4)).toBe(`a${FRANCE}…`);
    expect(shortened(flags, 3)).toBe('a…');
    expect(shortened(flags, 6, 'middle')).toBe(`a${FRANCE}…${FRANCE}`);
    const sun = `\u2600${EMOJI_PRESENTATION}`;
    expect(shortened(`a${sun}${sun}`, 3)).toBe('a…');
    expect(shortened(`a${sun}${sun}`, 4)).toBe(`a${sun}…`);
    expect(shortened(`a${GAK}${GAK}`, 3)).toBe('a…');
    expect(shortened(`a${GAK}${GAK}`, 4)).toBe(`a${GAK}…`);
  });
});
