/*
 * Where a sentence ends (`--docs sentence`, docs/words.md), under each version of the rules.
 *
 * Version 1: after a run of ".", "!" or "?", with any closing quotes or brackets (" ' ” ’ ) ])
 * right after it, when white space (a space, a tab or a line break) or the end of the text
 * follows — unless the next character that is not white space is a lowercase letter ("e.g.
 * this", "What, ho! you men" stay whole).
 *
 * Version 2: as version 1, and also after a run of sentence terminators that holds one of the
 * others Unicode's sentence breaking (UAX #29) names, STerm and ATerm — "。", "！", "？", "｡",
 * "؟", "۔", "।", "॥", "‼", "⁇", "։", "።" and the rest (`OTHER_TERMINATORS`) — with any closing
 * quotes or brackets (", ', or a closing or final punctuation mark: 」 』 ） ” ») right after it,
 * whether white space follows or not (Chinese and Japanese put none between sentences) — unless
 * the next character that is not white space is a lowercase letter, or the run ends in one of
 * the ATerm dots ("．", "﹒", "․") and a digit follows ("３．１４"). A paragraph without any of
 * the other terminators is cut as version 1 cuts it.
 *
 * Version 3: as version 2, except that after a run of ".", "!" or "?" the sentence takes any
 * closing quotes or brackets — ", ', a closing or final punctuation mark (\p{Pe}, \p{Pf}: ) ] }
 * ” ’ » ›), and the opening marks that close a quote in German and Danish (“ ‘ « ‹: „so“ ‚so‘
 * »so« ›so‹) — before the white space or end of text that ends it: «Stop.» Then, „Halt.“ Dann.
 * Those opening marks close only there, with white space after them: after the other
 * terminators, which need none ("他说。“走吧。”"), they open the next sentence as in version 2.
 *
 * Version 4: as version 3, and
 *  - a closing guillemet (» ›) after a run of ".", "!" or "?" ends the sentence with it also where
 *    a space comes between them, as French sets one inside guillemets (a space, a no-break, a
 *    narrow no-break or a thin space: « Non. » Puis) — when white space or the end of text
 *    follows it, so that a German or Danish quote opening after an end (Er sagte. »Komm!«) still
 *    starts the next sentence;
 *  - the characters UAX #29 (rule SB5) reads as part of the one before them, Extend and Format
 *    (the direction marks U+200E U+200F U+061C, the word joiner U+2060, the zero width space, a
 *    variation selector, a combining mark), end the sentence with its terminator and closing
 *    marks where they follow them (Stop.\u200F Then, Wait‼\uFE0F What) — but the prepended
 *    concatenation marks (U+0600 …), which come before a number;
 *  - a lowercase letter keeps the sentence going also where those characters, the Spanish
 *    opening marks ¿ ¡ or a dash (— – ―) come between the white space and it: "—¿Vienes?
 *    —preguntó." and "¿Dónde estabas? ¿por qué no llamaste?" stay whole.
 */
import { knownRule, latestRule } from './rule-versions.js';

/** A version is added whenever `splitSentences` would cut some text differently; a record of a cut keeps the version it was made under. */
const SENTENCE_RULES = [1, 2, 3, 4] as const;
export type SentenceRule = (typeof SENTENCE_RULES)[number];
export const SENTENCE_RULE_VERSION = latestRule(SENTENCE_RULES);

/** The version a record made before versions were recorded was cut under. */
const SENTENCE_RULE_WHEN_ABSENT: SentenceRule = 1;

/** The version a record names, or `SENTENCE_RULE_WHEN_ABSENT` when it names none; null when it names one this code lacks. */
export function recordedSentenceRule(rule: number | undefined): SentenceRule | null {
  return rule === undefined ? SENTENCE_RULE_WHEN_ABSENT : knownRule(SENTENCE_RULES, rule);
}

/**
 * The sentence terminators of UAX #29 (Sentence_Break STerm and ATerm, Unicode 17.0) other than
 * ".", "!" and "?", listed here so that the rule does not move with the Unicode tables of the
 * Node that runs it.
 */
const OTHER_TERMINATORS = String.raw`\u0589\u061D-\u061F\u06D4\u0700-\u0702\u07F9\u0837\u0839\u083D\u083E\u0964\u0965` +
  String.raw`\u104A\u104B\u1362\u1367\u1368\u166E\u1735\u1736\u17D4\u17D5\u1803\u1809\u1944\u1945\u1AA8-\u1AAB` +
  String.raw`\u1B4E\u1B4F\u1B5A\u1B5B\u1B5E\u1B5F\u1B7D-\u1B7F\u1C3B\u1C3C\u1C7E\u1C7F\u2024\u203C\u203D\u2047-\u2049` +
  String.raw`\u2CF9-\u2CFB\u2E2E\u2E3C\u2E53\u2E54\u3002\uA4FF\uA60E\uA60F\uA6F3\uA6F7\uA876\uA877\uA8CE\uA8CF\uA92F` +
  String.raw`\uA9C8\uA9C9\uAA5D-\uAA5F\uAAF0\uAAF1\uABEB\uFE12\uFE15\uFE16\uFE52\uFE56\uFE57\uFF01\uFF0E\uFF1F\uFF61` +
  String.raw`\u{10A56}\u{10A57}\u{10F55}-\u{10F59}\u{10F86}-\u{10F89}\u{11047}\u{11048}\u{110BE}-\u{110C1}` +
  String.raw`\u{11141}-\u{11143}\u{111C5}\u{111C6}\u{111CD}\u{111DE}\u{111DF}\u{11238}\u{11239}\u{1123B}\u{1123C}` +
  String.raw`\u{112A9}\u{113D4}\u{113D5}\u{1144B}\u{1144C}\u{115C2}\u{115C3}\u{115C9}-\u{115D7}\u{11641}\u{11642}` +
  String.raw`\u{1173C}-\u{1173E}\u{11944}\u{11946}\u{11A42}\u{11A43}\u{11A9B}\u{11A9C}\u{11C41}\u{11C42}` +
  String.raw`\u{11EF7}\u{11EF8}\u{11F43}\u{11F44}\u{16A6E}\u{16A6F}\u{16AF5}\u{16B37}\u{16B38}\u{16B44}` +
  String.raw`\u{16D6E}\u{16D6F}\u{16E98}\u{1BC9F}\u{1DA88}`;
/** One of `OTHER_TERMINATORS` with the extenders after it (‼️): a token the detokeniser writes against the word before it. */
export const OTHER_TERMINATOR = new RegExp(`^[${OTHER_TERMINATORS}]\\p{Grapheme_Extend}*$`, 'u');
/** The ATerm dots among them: like ".", they do not end a sentence before a digit. */
const OTHER_DOTS = String.raw`\u2024\uFE52\uFF0E`;

/** The closing quotes and brackets that after a run of ".", "!" or "?" end the sentence with it: version 1's and 2's. */
const LATIN_CLOSING = String.raw`["'”’)\]]`;
/** Version 3: any closing or final mark, and the opening ones that close a German or Danish quote. */
const LATIN_CLOSING_3 = String.raw`["'\p{Pe}\p{Pf}“‘«‹]`;
/** The closing marks after one of the other terminators. */
const OTHER_CLOSING = String.raw`["'\p{Pe}\p{Pf}]`;
/** Version 4: a closing guillemet after the space French sets before it (one without is a closing mark already). */
const SPACED_GUILLEMET = String.raw`[ \u00A0\u202F\u2009]+[»›]`;
/**
 * Version 4: a character UAX #29 reads as part of the one before it (Sentence_Break Extend or
 * Format: Grapheme_Extend, a spacing mark, a format character), but a prepended concatenation mark.
 */
const EXTEND_OR_FORMAT = String.raw`(?![\u0600-\u0605\u06DD\u070F\u0890\u0891\u08E2\u{110BD}\u{110CD}])[\p{Grapheme_Extend}\p{Mc}\p{Cf}]`;

/** An end at a run of ".", "!" or "?", with what may follow it before the white space (or end of text) that must. */
function latinEnd(after: string): string {
  return String.raw`[.!?]+(?:${after})*(?=\s|$)`;
}
/** An end at a run of terminators holding one of the others, with what may follow it. */
function otherEnd(after: string): string {
  return String.raw`[.!?]*[${OTHER_TERMINATORS}][.!?${OTHER_TERMINATORS}]*(?:${after})*`;
}
const OTHER_END = otherEnd(OTHER_CLOSING);

const SENTENCE_ENDS: Record<SentenceRule, RegExp> = {
  1: new RegExp(latinEnd(LATIN_CLOSING), 'gu'),
  2: new RegExp(`${OTHER_END}|${latinEnd(LATIN_CLOSING)}`, 'gu'),
  3: new RegExp(`${OTHER_END}|${latinEnd(LATIN_CLOSING_3)}`, 'gu'),
  4: new RegExp(`${otherEnd(`${OTHER_CLOSING}|${EXTEND_OR_FORMAT}`)}|${latinEnd(`${LATIN_CLOSING_3}|${SPACED_GUILLEMET}|${EXTEND_OR_FORMAT}`)}`, 'gu'),
};

/**
 * What keeps a sentence going after an end: a lowercase letter next, past white space — in
 * version 4 past Extend and Format characters, ¿ ¡ and a dash too.
 */
const LOWERCASE_NEXT = /^\s*\p{Ll}/u;
const LOWERCASE_NEXT_4 = new RegExp(String.raw`^(?:\s|${EXTEND_OR_FORMAT}|[¿¡—–―])*\p{Ll}`, 'u');
const LOWERCASE_NEXTS: Record<SentenceRule, RegExp> = { 1: LOWERCASE_NEXT, 2: LOWERCASE_NEXT, 3: LOWERCASE_NEXT, 4: LOWERCASE_NEXT_4 };

/** An end in one of the ATerm dots and its closing marks: before a digit it is none (３．１４). */
const DOT_BEFORE_DIGIT = new RegExp(String.raw`[${OTHER_DOTS}]${OTHER_CLOSING}*$`, 'u');
const DOT_BEFORE_DIGIT_4 = new RegExp(String.raw`[${OTHER_DOTS}](?:${OTHER_CLOSING}|${EXTEND_OR_FORMAT})*$`, 'u');
const DOTS_BEFORE_DIGIT: Record<SentenceRule, RegExp> = {
  1: DOT_BEFORE_DIGIT, 2: DOT_BEFORE_DIGIT, 3: DOT_BEFORE_DIGIT, 4: DOT_BEFORE_DIGIT_4,
};
const DIGIT_NEXT = /^\p{Nd}/u;

/**
 * Cuts one paragraph into sentences at the ends the rules of version `rule` find. The white
 * space between sentences is dropped; line breaks inside a sentence stay. A paragraph without an
 * end is one sentence; text after the last end is one more.
 */
export function splitSentences(paragraph: string, rule: SentenceRule = SENTENCE_RULE_VERSION): string[] {
  const sentences: string[] = [];
  let start = 0;
  for (const match of paragraph.matchAll(SENTENCE_ENDS[rule])) {
    const end = match.index + match[0].length;
    const next = paragraph.slice(end);
    if (LOWERCASE_NEXTS[rule].test(next)) continue;
    if (DIGIT_NEXT.test(next) && DOTS_BEFORE_DIGIT[rule].test(match[0])) continue;
    sentences.push(paragraph.slice(start, end));
    start = end;
  }
  sentences.push(paragraph.slice(start));
  return sentences.map((s) => s.trim()).filter((s) => s.length > 0);
}
