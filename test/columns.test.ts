import { describe, expect, it } from 'vitest';
import { shortened, textColumns } from '../src/text/columns.js';

const COMBINING_ACUTE = '\u0301';
const ZWJ = '\u200D';
const EMOJI_PRESENTATION = '\uFE0F';
const FRANCE = '\u{1F1EB}\u{1F1F7}';
const GERMANY = '\u{1F1E9}\u{1F1EA}';
/** 각 spelled in conjoining jamo: leading consonant ᄀ, vowel ᅡ, trailing consonant ᆨ. */
const GAK = '\u1100\u1161\u11A8';
/** 👍🏽: thumbs up, then the emoji modifier for medium skin tone. */
const THUMBS_UP_MEDIUM = '\u{1F44D}\u{1F3FD}';
/** 1️⃣: the digit, the emoji presentation selector, the combining enclosing keycap. */
const KEYCAP_ONE = `1${EMOJI_PRESENTATION}\u20E3`;
/** An Old Hangul syllable: the leading consonant ꥠ of the Jamo Extended-A block, vowel ᅡ, trailing consonant ᆨ. */
const OLD_HANGUL = '\uA960\u1161\u11A8';

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

  it('counts a conjoining jamo syllable begun by a Jamo Extended-A leading consonant as one wide character', () => {
    expect(textColumns('\uA960')).toBe(2);
    expect(textColumns('\uA97C')).toBe(2);
    expect(textColumns(OLD_HANGUL)).toBe(2);
    expect(textColumns(`${OLD_HANGUL} ok`)).toBe(5);
    expect(textColumns('\uA97C\u1160\uD7CB')).toBe(2);
  });

  it('gives a jamo vowel or trailing consonant with no syllable before it no column, as glibc wcwidth does', () => {
    expect(textColumns('\u1161')).toBe(0);
    expect(textColumns('\u11A8')).toBe(0);
    expect(textColumns('\uD7B0\uD7FB')).toBe(0);
    expect(textColumns('a\u1161b')).toBe(2);
  });

  it('counts an emoji with a skin tone modifier as the one wide character a terminal draws, a modifier alone as 2', () => {
    expect(textColumns(THUMBS_UP_MEDIUM)).toBe(2);
    expect(textColumns(`${THUMBS_UP_MEDIUM} ok`)).toBe(5);
    expect(textColumns('\u261D\u{1F3FB}')).toBe(2);
    expect(textColumns(`\u{1F469}\u{1F3FD}${ZWJ}\u{1F4BB}`)).toBe(2);
    expect(textColumns('\u{1F3FD}')).toBe(2);
    expect(textColumns('a\u{1F3FD}')).toBe(3);
  });

  it('counts a keycap sequence as the 2-column emoji a terminal draws', () => {
    expect(textColumns(KEYCAP_ONE)).toBe(2);
    expect(textColumns(`#${EMOJI_PRESENTATION}\u20E3*${EMOJI_PRESENTATION}\u20E3`)).toBe(4);
    expect(textColumns(`${KEYCAP_ONE} ok`)).toBe(5);
  });

  it('counts a pictograph with the emoji presentation selector after it as 2 columns, as a terminal draws it', () => {
    expect(textColumns(`\u2600${EMOJI_PRESENTATION}`)).toBe(2);
    expect(textColumns(`\u2764${EMOJI_PRESENTATION} ok`)).toBe(5);
    expect(textColumns(`\u2714${EMOJI_PRESENTATION}`)).toBe(2);
    expect(textColumns('\u2714')).toBe(1);
    expect(textColumns(`1${EMOJI_PRESENTATION}`)).toBe(1);
  });

  it('counts an emoji below U+1F300 that is drawn as an emoji by default as 2, one drawn as text unless U+FE0F follows as 1', () => {
    expect(textColumns('\u231A \u2614 \u270A \u2B50 \u{1F004}')).toBe(14);
    expect(textColumns('\u261D\u2764\u00A9')).toBe(3);
    expect(shortened('a\u231A\u231A', 3)).toBe('a…');
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

  it('cut in the middle, keeps as many columns of the start as of the end, the one an even width has over at the start', () => {
    const name = 'abcdefghijklmnop';
    for (const max of [5, 6, 7, 8]) {
      const [head, tail] = shortened(name, max, 'middle').split('…') as [string, string];
      expect(textColumns(head) + 1 + textColumns(tail), `${max}`).toBe(max);
      expect(textColumns(head) - textColumns(tail), `${max}`).toBe(max % 2 === 0 ? 1 : 0);
      expect(name.startsWith(head) && name.endsWith(tail), `${max}`).toBe(true);
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

  it('keeps an emoji with its skin tone, a keycap and an Old Hangul syllable whole or leaves them out', () => {
    for (const wide of [THUMBS_UP_MEDIUM, KEYCAP_ONE, OLD_HANGUL]) {
      expect(shortened(`a${wide}${wide}`, 3)).toBe('a…');
      expect(shortened(`a${wide}${wide}`, 4)).toBe(`a${wide}…`);
      expect(shortened(`a${wide}${wide}b`, 5, 'middle')).toBe(`a${wide}…b`);
    }
  });
});
