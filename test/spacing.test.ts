import { describe, expect, it } from 'vitest';
import { detokenize } from '../src/text/detokenize.js';
import { type Spacing, SpacingMeasure } from '../src/text/spacing.js';
import { tokenizeWords, WORD_RULE_VERSION } from '../src/text/words.js';
import { FRENCH, FRENCH_SPACING, NBSP, NNBSP } from './helpers/french.js';

/** The spacing `SpacingMeasure` finds in `documents`, each read whole as `wordUnits` hands it over. */
function measured(documents: readonly string[], docs: 'file' | 'sentence' = 'file'): Spacing {
  const measure = new SpacingMeasure(WORD_RULE_VERSION, docs);
  for (const document of documents) {
    measure.add(document, tokenizeWords(document));
    measure.endDocument();
  }
  return measure.spacing();
}

describe('the detokeniser with a spacing record', () => {
  const tokens = tokenizeWords('« Quoi ? » dit-il. Attention : non !');

  it('writes a recorded mark with its space, on the side recorded, and everything else as without one', () => {
    expect(detokenize(tokens)).toBe('«Quoi?» dit-il. Attention: non!');
    expect(detokenize(tokens, WORD_RULE_VERSION, FRENCH_SPACING))
      .toBe(`«${NBSP}Quoi${NNBSP}?${NBSP}» dit-il. Attention${NBSP}: non${NNBSP}!`);
    expect(detokenize(tokens, WORD_RULE_VERSION, { before: { '?': ' ' } })).toBe('«Quoi ?» dit-il. Attention: non!');
  });

  it('spaces nothing at a line start, and nothing a record does not name', () => {
    expect(detokenize(tokenizeWords('?\n« a » (b) c.'), WORD_RULE_VERSION, FRENCH_SPACING)).toBe(`?\n«${NBSP}a${NBSP}» (b) c.`);
  });
});

describe('measuring a corpus\'s spacing', () => {
  it('records the marks French spaces, each with the space it uses most, and none it writes against the word', () => {
    expect(measured(FRENCH.split('\n'))).toEqual(FRENCH_SPACING);
    // the same text cut into sentences: a mark at a document's start or end has no neighbour there
    expect(measured([FRENCH], 'sentence')).toEqual(FRENCH_SPACING);
  });

  it('records a mark spaced in more than half of five occurrences or more, within a line', () => {
    const marks = (spaced: number, joined: number) => [...Array(spaced).fill('a ?'), ...Array(joined).fill('a?')].join(' ');
    expect(measured([marks(3, 2)])).toEqual({ before: { '?': ' ' } });
    expect(measured([marks(4, 0)])).toEqual({});
    expect(measured([marks(3, 3)])).toEqual({});
    // a mark that begins a line has no neighbour before it
    expect(measured([Array(6).fill('a\n? b').join('\n')])).toEqual({});
  });

  it('carries white space across the pieces a text comes in', () => {
    const measure = new SpacingMeasure(WORD_RULE_VERSION, 'file');
    for (let i = 0; i < 5; i++) {
      measure.add('Quoi ', ['Quoi']);
      measure.add('?', ['?']);
    }
    measure.endDocument();
    expect(measure.spacing()).toEqual({ before: { '?': ' ' } });
  });

  it('records the space before a Spanish dialogue dash that the corpus spaces', () => {
    const dialogue = Array(5).fill('—¿Vienes? —preguntó.').join('\n');
    expect(measured([dialogue])).toEqual({ before: { '—': ' ' } });
    expect(detokenize(tokenizeWords('—¿Vienes? —preguntó.'), WORD_RULE_VERSION, { before: { '—': ' ' } })).toBe('—¿Vienes? —preguntó.');
  });
});
