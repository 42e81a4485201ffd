import { describe, expect, it } from 'vitest';
import { escapeCharacters } from '../src/cli/commands/info.js';

describe("rnn info's quoted tokens", () => {
  it('escapes a combining mark with nothing of its own to combine with, so it does not join the quote or its neighbour', () => {
    // word tokens: U+FE0F alone (the tokenizer cuts ❤️ into ❤ and it), a keycap, a word with its accent
    expect(escapeCharacters('\ufe0f')).toBe('"\\u{fe0f}"');
    expect(escapeCharacters('\ufe0f\u20e3')).toBe('"\\u{fe0f}\\u{20e3}"');
    expect(escapeCharacters('cafe\u0301')).toBe('"cafe\u0301"');
    expect(escapeCharacters('\u200d\u0301')).toBe('"\\u{200d}\\u{301}"');
    // a character vocabulary: each character a token of its own, so no mark combines with the one before
    expect(escapeCharacters('ae\u0301\n\u0301', true)).toBe('"ae\\u{301}\\n\\u{301}"');
    expect(escapeCharacters('\n\u0301')).toBe('"\\n\\u{301}"');
  });
});
