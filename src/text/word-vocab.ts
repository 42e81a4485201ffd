import { z } from 'zod';
import { checkPositiveInteger, checkedOption, described, InputError } from '../input/settings.js';
import { grouped, percentOf, plural } from '../input/counts.js';
import { EOS_TOKEN, UNK_TOKEN, Vocabulary, vocabularyText } from './vocab.js';
import { WORD_RULE_VERSION, type WordRule } from './words.js';

/** The default word vocabulary size: `<EOS>`, `<UNK>` and the 9,998 most frequent tokens. */
export const DEFAULT_VOCAB_SIZE = 10_000;

/** A word vocabulary's entries in all: room for `<EOS>`, `<UNK>` and one token at least, and how an error names that. */
export const VOCAB_SIZE = described(z.int().min(3), `an integer of at least 3 (${EOS_TOKEN}, ${UNK_TOKEN} and one token)`);

export interface WordVocabularyOptions {
  /** Entries in all, `<EOS>` and `<UNK>` included (`VOCAB_SIZE`). */
  vocabSize: number;
  /** Tokens seen fewer times than this in the training text are left out (the `--min-count` rule). */
  minCount: number;
  /** The version of the tokenizer rules that cut the training text's tokens; default `WORD_RULE_VERSION`. */
  wordRule?: WordRule;
}

/** A word vocabulary and what the training text offered it, for the messages around it. */
export interface WordVocabularyBuild {
  vocab: Vocabulary;
  /** Distinct tokens in the training text. */
  distinct: number;
  /** Of those, the ones seen at least `minCount` times: the candidates for an entry. */
  eligible: number;
  /**
   * `vocabSize` − `vocab.size`: entries asked for that the text could not fill, because it has
   * fewer eligible tokens ("using what there is"); 0 when the vocabulary is full.
   */
  shortfall: number;
  /** Token occurrences in the training text. */
  occurrences: number;
  /** Of those, the ones that read as `<UNK>` under `vocab`. */
  unknown: number;
  /**
   * Of the distinct tokens, the ones seen exactly once in the training text (as many occurrences); absent where a
   * prepared folder's meta.json does not record it.
   */
  seenOnce?: number;
}

/**
 * The share of the training text's token occurrences that are tokens seen only once above which a word-level model
 * learns little of the text (`rareTokensWarning`). On the first 90% of each text, under word rules version 3:
 * tinyshakespeare 2.6%, corpora/sotu.txt 1.6%, this project's src/ concatenated 0.6% (its identifiers recur), the first
 * 10 KB of sotu.txt 23% and its first 2 KB 33%; generated Chinese (5–20-character runs of a 20,000-word lexicon
 * between ， and 。) 48%, and tinyshakespeare's distinct words one a line 50%.
 */
export const RARE_TOKENS_SHARE = 0.3;

/**
 * Builds the word vocabulary from the training text's tokens (`tokenizeWords` of each
 * document, under `options.wordRule`): `<EOS>`, `<UNK>`, then the tokens seen at least `minCount` times, most frequent
 * first, ties in code-point order of their text, cut at `vocabSize` entries in all. Every
 * other token reads as `<UNK>`.
 */
export function buildWordVocabulary(trainingTokens: Iterable<readonly string[]>, options: WordVocabularyOptions): WordVocabularyBuild {
  const counts = new Map<string, number>();
  for (const tokens of trainingTokens) {
    for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
  }
  return wordVocabularyFromCounts(counts, options);
}

/** `buildWordVocabulary`'s vocabulary from the training text's count of each token (every count at least 1). */
export function wordVocabularyFromCounts(counts: ReadonlyMap<string, number>, options: WordVocabularyOptions): WordVocabularyBuild {
  const { vocabSize, minCount } = options;
  checkedOption('vocabSize', VOCAB_SIZE.schema, vocabSize);
  checkPositiveInteger('minCount', minCount);
  let occurrences = 0;
  let seenOnce = 0;
  for (const n of counts.values()) {
    occurrences += n;
    if (n === 1) seenOnce++;
  }
  const eligible = byFrequency(counts).filter(([, n]) => n >= minCount);
  const kept = eligible.slice(0, vocabSize - 2);
  const known = kept.reduce((sum, [, n]) => sum + n, 0);
  const vocab = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, ...kept.map(([token]) => token)], 'word', options.wordRule ?? WORD_RULE_VERSION);
  return {
    vocab,
    distinct: counts.size,
    eligible: eligible.length,
    shortfall: vocabSize - vocab.size,
    occurrences,
    unknown: occurrences - known,
    seenOnce,
  };
}

/**
 * The warning for a word vocabulary smaller than the `vocabSize` asked for, the training text
 * offering fewer tokens seen `minCount` times or more; null for a full one.
 */
export function vocabShortfallWarning(built: Omit<WordVocabularyBuild, 'vocab'>, vocabSize: number, minCount: number): InputError | null {
  if (built.shortfall === 0) return null;
  return new InputError((name) =>
    `${name('vocabSize')} ${vocabSize} is more than the training text offers (${grouped(built.eligible)} distinct ` +
      `${plural(built.eligible, 'token')}${minCount > 1 ? ` seen ${minCount} times or more` : ''}): ` +
      `using what there is, the ${vocabularyText(vocabSize - built.shortfall)} it offers`);
}

/**
 * The warning for a training text more than `RARE_TOKENS_SHARE` of which is tokens seen only once (Chinese or Japanese
 * runs between two marks, names, identifiers), where a word-level model learns little; null below it, or uncounted.
 */
export function rareTokensWarning(built: Omit<WordVocabularyBuild, 'vocab'>): InputError | null {
  const { seenOnce, occurrences, distinct } = built;
  if (seenOnce === undefined || seenOnce <= RARE_TOKENS_SHARE * occurrences) return null;
  return new InputError((name) =>
    `${percentOf(seenOnce, occurrences)}% of the training text is tokens seen only once (${grouped(seenOnce)} of ${grouped(distinct)} ` +
      `distinct tokens): a word-level model learns little of them; ${name('level')} char reads every spelling`);
}

/**
 * What the training text's tokens outside a built word vocabulary of `entries` entries come to, for the line that
 * names the vocabulary: "of 18,001 distinct tokens; the other 8,003, 22% of the training text,
 * read as <UNK>"; null when every token of the training text has an entry.
 */
export function vocabularyCoverage(built: Omit<WordVocabularyBuild, 'vocab'>, entries: number): string | null {
  if (built.unknown === 0) return null;
  const left = built.distinct - (entries - 2);
  const share = percentOf(built.unknown, built.occurrences);
  return `of ${grouped(built.distinct)} distinct tokens; the other ${grouped(left)}, ${share}% of the training text, read as ${UNK_TOKEN}`;
}

/** Token counts, most frequent first, ties in code-point order of the tokens. */
export function byFrequency(counts: ReadonlyMap<string, number>): [string, number][] {
  return [...counts].sort(([a, m], [b, n]) => n - m || compareCodePoints(a, b));
}

/** Orders strings by code point, which differs from JavaScript's UTF-16 order above U+FFFF. */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(j)!;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1;
    j += y > 0xffff ? 2 : 1;
  }
  return (a.length - i) - (b.length - j);
}
