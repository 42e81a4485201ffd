import type { Spacing } from '../../src/text/spacing.js';

/*
 * A French text as typeset, for the tests of a corpus's spacing (docs/words.md).
 */

export const NBSP = '\u00a0';
export const NNBSP = '\u202f';

/**
 * French as typeset: a no-break space inside guillemets and before a colon, a narrow one before
 * ? ! ; (as the Imprimerie nationale's rules have it), none before . and ,.
 */
export const FRENCH = [
  `« Quoi${NNBSP}? » dit-il. Elle répondit${NBSP}: « Rien${NNBSP}! »`,
  `Attention${NBSP}: non. Pourquoi${NNBSP}? Parce que${NNBSP}; voilà.`,
  `« Tu viens${NNBSP}? » demanda-t-elle. « Oui${NNBSP}! » Puis il partit.`,
  '',
  `Le ciel était gris${NNBSP}; la mer aussi. « Où vas-tu${NNBSP}? » Il ne dit rien${NBSP}: il marchait.`,
  `« Enfin${NNBSP}! » cria-t-il. Demain${NNBSP}? Peut-être${NNBSP}; qui sait${NNBSP}?`,
  `Il lut la lettre${NBSP}: « Reviens vite${NNBSP}! » Elle pleura${NNBSP}; puis elle rit.`,
  `Non${NNBSP}! Si${NNBSP}! La liste${NBSP}: pain${NNBSP}; vin${NNBSP}; sel. Note${NBSP}: rien.`,
].join('\n').replaceAll('« ', `«${NBSP}`).replaceAll(' »', `${NBSP}»`) + '\n';

/** What FRENCH records: each mark it spaces five times or more, with its space. */
export const FRENCH_SPACING: Spacing = {
  before: { '!': NNBSP, ':': NBSP, ';': NNBSP, '?': NNBSP, '»': NBSP },
  after: { '«': NBSP },
};
