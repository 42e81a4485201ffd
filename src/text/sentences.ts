/*
 * Where a sentence ends (`--docs sentence`, docs/words.md): after a run of ".", "!" or "?",
 * with any closing quotes or brackets (" ' ” ’ ) ]) right after it, when white space (a space,
 * a tab or a line break) or the end of the text follows — unless the next character that is
 * not white space is a lowercase letter ("e.g. this", "What, ho! you men" stay whole).
 */
const SENTENCE_END = /[.!?]+["'”’)\]]*(?=\s|$)/gu;
const LOWERCASE_NEXT = /^\s*\p{Ll}/u;

/**
 * Cuts one paragraph into sentences at the ends the rule above finds. The white space between
 * sentences is dropped; line breaks inside a sentence stay. A paragraph without an end is one
 * sentence; text after the last end is one more.
 */
export function splitSentences(paragraph: string): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of paragraph.matchAll(SENTENCE_END)) {
    const end = match.index + match[0].length;
    if (LOWERCASE_NEXT.test(paragraph.slice(end))) continue;
    sentences.push(paragraph.slice(start, end));
    start = end;
  }
  sentences.push(paragraph.slice(start));
  return sentences.map((s) => s.trim()).filter((s) => s.length > 0);
}
