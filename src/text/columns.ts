/*
 * How wide text is drawn, in columns as a terminal counts them: what lines a table's columns up, and cuts a chart's title
 * and a terminal's status line to its width.
 */

/**
 * A character drawn about as wide as two Latin letters: Hangul, CJK, kana, fullwidth forms, emoji (U+1F300–U+1FAFF, and
 * those below drawn as emoji by default, East Asian Width W: ⌚ ☔ ✊ ⭐ 🀄). A regional indicator alone is narrow; two
 * are a flag (DRAWN_AS_EMOJI).
 */
const WIDE_CHARACTER = /(?!\p{Regional_Indicator})[\u1100-\u115F\u2E80-\u303E\u3041-\uA4CF\uA960-\uA97C\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1FAFF}\u{20000}-\u{3FFFD}\p{Emoji_Presentation}]/u;

/**
 * A character drawn in no column of its own: a combining mark (a variation selector is one), a zero-width space,
 * non-joiner, joiner or word joiner, a byte order mark.
 */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B\u200C\u2060\uFEFF]|\u200D/u;

/**
 * What begins a conjoining Hangul syllable: a leading consonant (choseong), conjoining or of the Jamo Extended-A block
 * (Old Hangul), or a precomposed syllable, after which vowels and trailing consonants complete it.
 */
const HANGUL_SYLLABLE_START = /[\u1100-\u115F\uA960-\uA97C\uAC00-\uD7A3]/u;

/**
 * A Hangul vowel (jungseong) or trailing consonant (jongseong), conjoining or of the Jamo Extended-B block: drawn in
 * no column of its own after the syllable's start, within the 2 columns of the syllable. With no syllable before it,
 * it takes no column either: so glibc's wcwidth counts it (U+1160–U+11FF as Markus Kuhn's wcwidth does, U+D7B0–U+D7FB
 * since glibc 2.32, bug 26120), and so xterm and VTE, whose widths come from wcwidth and GLib, draw it.
 */
const HANGUL_VOWEL_OR_TRAILING = /[\u1160-\u11FF\uD7B0-\uD7FF]/u;

/**
 * One of the 26 regional indicator letters: a pair of them spells a country's code and is drawn as its flag, one
 * 2-column emoji (🇫🇷 is 🇫 then 🇷); a run of them pairs from its start.
 */
const REGIONAL_INDICATOR = /\p{Regional_Indicator}/u;

/**
 * A pictograph with the emoji presentation selector U+FE0F after it, which asks for its emoji form: ☀️, ❤️ and ✔️ are
 * narrow alone but drawn 2 columns wide as emoji by most terminals, and so counted by wcwidth libraries that read it.
 */
const EMOJI_PRESENTATION = /\p{Extended_Pictographic}\uFE0F/u;

/**
 * An emoji modifier, one of the five skin tones U+1F3FB–U+1F3FF: after an emoji modifier base (👍, ☝) the two are drawn
 * as one 2-column emoji (👍🏽); alone, or after any other character, it is drawn as its own wide swatch.
 */
const SKIN_TONED_EMOJI = /\p{Emoji_Modifier_Base}\p{Emoji_Modifier}/u;

/**
 * A keycap sequence: a digit, # or *, the emoji presentation selector, then the combining enclosing keycap U+20E3 —
 * 1️⃣, drawn as one 2-column emoji where the digit alone takes 1.
 */
const KEYCAP = /[0-9#*]\uFE0F\u20E3/u;

/** One emoji of those a ZWJ sequence joins: a pictograph, or an emoji with its skin tone (👩🏽 of 👩🏽‍💻). */
const JOINED_EMOJI = `(?:${SKIN_TONED_EMOJI.source}|\\p{Extended_Pictographic})`;

/**
 * What a terminal draws in one place: a flag, a Hangul syllable, an emoji with the emoji that zero-width joiners
 * (U+200D) join to it (👩‍💻 is one wide character), or else one character; each with the zero-width ones after it.
 */
const DRAWN_TOGETHER = new RegExp(
  `(?:${REGIONAL_INDICATOR.source}{2}` +
  `|${HANGUL_SYLLABLE_START.source}${HANGUL_VOWEL_OR_TRAILING.source}*` +
  `|${JOINED_EMOJI}(?:\u200D${JOINED_EMOJI}|${ZERO_WIDTH.source})*` +
  `|[^])(?:${ZERO_WIDTH.source})*`, 'gu');

/** `text` split where a cut leaves every drawn character whole (DRAWN_TOGETHER). */
const drawnCharacters = (text: string): string[] => text.match(DRAWN_TOGETHER) ?? [];

/**
 * A drawn character that is a flag (REGIONAL_INDICATOR), a pictograph in its emoji form (EMOJI_PRESENTATION), an
 * emoji with a skin tone (SKIN_TONED_EMOJI) or a keycap (KEYCAP).
 */
const DRAWN_AS_EMOJI = new RegExp(
  `^(?:${REGIONAL_INDICATOR.source}{2}|${EMOJI_PRESENTATION.source}|${SKIN_TONED_EMOJI.source}|${KEYCAP.source})`, 'u');

/**
 * How wide a drawn character is: 2 columns for one drawn as an emoji (DRAWN_AS_EMOJI), else as its first code point,
 * 2 for a wide one, 0 for a zero-width one or a Hangul vowel or trailing consonant with no syllable before it, 1 for
 * the rest.
 */
function characterColumns(character: string): number {
  const first = String.fromCodePoint(character.codePointAt(0)!);
  if (DRAWN_AS_EMOJI.test(character) || WIDE_CHARACTER.test(first)) return 2;
  return ZERO_WIDTH.test(first) || HANGUL_VOWEL_OR_TRAILING.test(first) ? 0 : 1;
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
