import { Detokenizer, type JoinedSides, type Spacing } from './detokenize.js';
import type { DocsMode } from './documents.js';
import type { WordRule } from './words.js';

export type { Spacing } from './detokenize.js';

/*
 * A corpus's spacing around the marks the detokeniser writes against a neighbour (docs/words.md,
 * "Spacing a corpus writes"): measured where a word vocabulary is made, recorded with it, and
 * followed when its tokens are written back.
 */

/** The record of a corpus that spaces none of its marks: the detokeniser's rules as they are. */
export const NO_SPACING: Spacing = {};

/**
 * What a mark's side must have for a record: at least `SPACED_MIN_OCCURRENCES` occurrences
 * where the detokeniser would write it against a neighbour on the same line, and white space
 * between the two in more than half of them.
 */
export const SPACED_MIN_OCCURRENCES = 5;

/** A space a record may hold: one space separator (U+0020, U+00A0, U+202F, U+2009, …) or a tab. */
export const RECORDED_SPACE = /^[\t\p{Zs}]$/u;

/** Whether `spacing` records no mark. */
export function spacesNone(spacing: Spacing): boolean {
  return Object.keys(spacing.before ?? {}).length === 0 && Object.keys(spacing.after ?? {}).length === 0;
}

/** A side of a mark as measured: its occurrences against a neighbour, and of those, the ones spaced, by the space. */
interface SideCount {
  occurrences: number;
  spaced: Map<string, number>;
}

/**
 * Measures a corpus's spacing (`Spacing`) as its text is cut into word tokens: `add` each piece
 * of text with the tokens cut from it, `endDocument` after each document, then `spacing()`.
 * The detokeniser reads the tokens as it would write them back; wherever it would write a token
 * against the one before it (a closing or joining mark) or the one after (an opening or joining
 * mark), with nothing else in the way (the start of a line, a path, a sign of code after another),
 * the white space the text has there is counted for that mark's side. Only white space within a
 * line counts: a mark at a line's start or end, or a document's, has no neighbour there.
 */
export class SpacingMeasure {
  private readonly detokenizer: Detokenizer;
  private readonly before = new Map<string, SideCount>();
  private readonly after = new Map<string, SideCount>();
  /** The first character of the white space before each token handed to the detokeniser and not yet written ('': none), in order. */
  private readonly gaps: string[] = [];
  /** The first character of the white space since the last token of the text added so far ('': none). */
  private gap = '';

  constructor(wordRule: WordRule, docs: DocsMode) {
    this.detokenizer = new Detokenizer(wordRule, docs, NO_SPACING, (sides) => this.count(sides));
  }

  /** `tokens`, cut from `text` (which follows the text added before it, in the same document). */
  add(text: string, tokens: readonly string[]): void {
    let at = 0;
    for (const token of tokens) {
      const start = text.indexOf(token, at);
      this.gaps.push(this.gap !== '' || start === at ? this.gap : text[at]!);
      this.gap = '';
      at = start + token.length;
      this.detokenizer.push(token);
    }
    if (this.gap === '' && at < text.length) this.gap = text[at]!;
  }

  /** The end of a document: the tokens either side of it are no neighbours. */
  endDocument(): void {
    this.gaps.push('');
    this.gap = '';
    this.detokenizer.boundary('\n');
  }

  /** The marks measured as spaced, each with its space used most (ties: the lower code point). */
  spacing(): Spacing {
    this.gaps.push('');
    this.detokenizer.boundary('\n');
    const before = spacedMarks(this.before), after = spacedMarks(this.after);
    return { ...(before && { before }), ...(after && { after }) };
  }

  private count(sides: JoinedSides): void {
    const gap = this.gaps.shift() ?? '';
    if (sides.before !== null) countSide(this.before, sides.before, gap);
    if (sides.after !== null) countSide(this.after, sides.after, gap);
  }
}

/** One occurrence of `mark`'s side into `counts`, spaced by `gap`, the white space's first character, where there is one. */
function countSide(counts: Map<string, SideCount>, mark: string, gap: string): void {
  let side = counts.get(mark);
  if (side === undefined) counts.set(mark, (side = { occurrences: 0, spaced: new Map() }));
  side.occurrences++;
  if (gap === '') return;
  const space = RECORDED_SPACE.test(gap) ? gap : ' ';
  side.spaced.set(space, (side.spaced.get(space) ?? 0) + 1);
}

/** The marks of `counts` spaced in more than half of at least `SPACED_MIN_OCCURRENCES` occurrences, with their space; none: undefined. */
function spacedMarks(counts: ReadonlyMap<string, SideCount>): Record<string, string> | undefined {
  const marks: [string, string][] = [];
  for (const [mark, { occurrences, spaced }] of counts) {
    let total = 0;
    for (const n of spaced.values()) total += n;
    if (occurrences < SPACED_MIN_OCCURRENCES || 2 * total <= occurrences) continue;
    const [space] = [...spaced].sort(([a, m], [b, n]) => n - m || a.codePointAt(0)! - b.codePointAt(0)!)[0]!;
    marks.push([mark, space]);
  }
  if (marks.length === 0) return undefined;
  marks.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(marks);
}
