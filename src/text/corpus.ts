import { createHash } from 'node:crypto';
import { FRACTION, InputError, SettingError, checkedOption } from '../input/settings.js';
import { type TokenArray, tokenArrayFor } from './tokens.js';
import { grouped } from '../input/counts.js';
import { codePointCount, codePointPrefix, EOS, type TextLevel, UNK, UNK_TOKEN, Vocabulary } from './vocab.js';
import { buildWordVocabulary, byFrequency, DEFAULT_VOCAB_SIZE, type WordVocabularyBuild } from './word-vocab.js';
import { LINE_BREAK, tokenizeWords, UNBROKEN_RUNS, WORD_RULE_VERSION, type WordRule, wordWindows } from './words.js';
import { type CorpusPiece, type DocsMode, DOCUMENT_END } from './documents.js';
import type { SentenceRule } from './sentences.js';
import { SpacingMeasure } from './spacing.js';

/*
 * A corpus — files cut into documents, read as pieces (corpus-stream.ts) — made into a
 * vocabulary and the train/validation token streams, with the fingerprint a checkpoint keeps.
 */

/** A problem with the input text; the message is one line that names the file. */
export class CorpusError extends InputError {
  override name = 'CorpusError';
}

export interface CorpusFile {
  path: string;
  bytes: number;
  /** Hex SHA-256 of the file's bytes as read. */
  sha256: string;
}

/**
 * A corpus as a sequence of pieces to read again and again (a streamed corpus rereads its files):
 * text, each piece part of the current document, and `DOCUMENT_END` after each document's last.
 * A piece never cuts a surrogate pair.
 */
export interface CorpusSource {
  files: CorpusFile[];
  docs: DocsMode;
  /** The version of the sentence rules that cut its 'sentence' documents (`SENTENCE_RULE_VERSION`, or a checkpoint's). */
  sentenceRule: SentenceRule;
  /** Documents, and tokens of the char-level stream `<EOS> d1 <EOS> … dn <EOS>`. */
  documents: number;
  totalTokens: number;
  pieces(): Iterable<CorpusPiece>;
}

/** What reading a source's pieces needs (`wordUnits`, `documentIds`): the pieces, and the files a refusal names. */
export type PieceSource = Pick<CorpusSource, 'pieces'> & { files: readonly Pick<CorpusFile, 'path'>[] };

/** What a checkpoint records about the data it was trained on, to tell on resume whether it changed. */
export interface DataFingerprint {
  files: CorpusFile[];
  docs: DocsMode;
  /** With `docs` 'sentence': the version of the sentence rules that cut the documents. */
  sentenceRule?: SentenceRule;
  documents: number;
  totalTokens: number;
  trainTokens: number;
  valTokens: number;
  valFrac: number;
  /** Present at the word level only, where the tokens above are word tokens. */
  level?: 'word';
  /**
   * The prepared folder (`rnn prepare`) the ids were read from, absolute: a run fine-tuned on it
   * reads as `<UNK>` what the folder does, which its text read again with the run's vocabulary
   * may not.
   */
  prepared?: string;
  /**
   * Over the files' hashes in order, the docs mode and valFrac — not the paths, so a moved corpus
   * still matches; with sentence rules other than version 1, over their version; at the word level
   * also over the level and the version of the tokenizer rules (`Vocabulary.wordRule`).
   */
  sha256: string;
}

export interface PreparedData {
  vocab: Vocabulary;
  /** The training and validation parts: views of one compact token stream (`TokenArray`). */
  train: TokenArray;
  val: TokenArray;
  fingerprint: DataFingerprint;
  /** When `prepareData` built a word vocabulary: what the training text offered it (for warnings). */
  wordVocab?: Omit<WordVocabularyBuild, 'vocab'>;
  /** With `unknownTokens`: the tokens of the whole stream outside `vocab`, which read as `<UNK>`. */
  unknown?: UnknownTokens;
  /** With `unknownTokens` 'extend': the tokens added to the given vocabulary and their counts in the training part, most frequent first. */
  added?: [token: string, count: number][];
  /**
   * With `unknownTokens` 'extend': the tokens the training part offered to add (those the given vocabulary lacks, seen
   * `minCount` times or more); at the word level `added` holds only those `vocabSize` had room for.
   */
  addable?: number;
}

/** Tokens of a text that a vocabulary lacks. */
export interface UnknownTokens {
  /** Their occurrences. */
  occurrences: number;
  /** How many distinct tokens. */
  distinct: number;
  /** The most frequent, most frequent first (ties in code-point order), at most `UNKNOWN_SHOWN` of them. */
  top: [token: string, count: number][];
  /** The occurrences of the line break among them: line breaks inside documents (the stream holds no other). */
  lineBreaks: number;
}

/** How many unknown tokens `UnknownTokens.top` keeps. */
const UNKNOWN_SHOWN = 5;

/** The fraction of the token stream, taken from its end, held out for validation: 0 ≤ valFrac < 1, and how an error names it. */
export const VAL_FRAC = FRACTION;

export interface PrepareOptions {
  /** Fraction of the token stream, taken from its end, held out for validation (`VAL_FRAC`). */
  valFrac: number;
  /** Tokens (characters, or word tokens) seen fewer times than this in the training split read as `<UNK>`. */
  minCount: number;
  /**
   * Reuse this vocabulary (resume, eval) instead of building one; `minCount` and `vocabSize` are
   * then ignored. At the word level the text is cut under its `wordRule`, else under `WORD_RULE_VERSION`.
   */
  vocab?: Vocabulary;
  /**
   * With `vocab`, a text it was not built from (fine-tuning): 'count' reports the tokens it
   * lacks (`PreparedData.unknown`); 'extend' first adds those of the training part seen at least
   * `minCount` times (`Vocabulary.withTokens`), at the word level the most frequent, up to
   * `vocabSize` entries in all, and reports the rest.
   */
  unknownTokens?: 'count' | 'extend';
  /** What a token is; default 'char', or `vocab`'s level when `vocab` is given (they must agree). */
  level?: TextLevel;
  /** Word level: entries of the vocabulary built, `<EOS>` and `<UNK>` included; default `DEFAULT_VOCAB_SIZE`. Ignored at the char level. */
  vocabSize?: number;
  /** Told, as the text is tokenized, the fraction of its passes over the text done so far, rising to 1 (`withProgress`). */
  onProgress?: (fraction: number) => void;
}

/**
 * Builds the vocabulary and the train/validation streams. The whole stream (N tokens) is cut
 * at floor((1 − valFrac)·N): the first part trains, the rest validates. The vocabulary comes
 * from the training part's tokens only, so a token that appears only in the validation part
 * reads there as `<UNK>`. A token is a code point at the char level and a `tokenizeWords`
 * token at the word level (under the given vocabulary's rules, else the current ones), so N,
 * the cut and the vocabulary are counted in those. The corpus is read piece by piece, a pass
 * for each of these, and never held whole.
 */
export function prepareData(source: CorpusSource, options: PrepareOptions): PreparedData {
  checkedOption('valFrac', VAL_FRAC.schema, options.valFrac);
  const level = options.vocab?.level ?? options.level ?? 'char';
  if (options.level !== undefined && options.level !== level) {
    throw new RangeError(`level '${options.level}' does not match the vocabulary's level '${level}'`);
  }
  // the passes over the text: at the word level one that counts its tokens; one that builds or extends the vocabulary,
  // unless it is given whole; one that encodes
  const passes = (level === 'word' ? 1 : 0) + (options.vocab !== undefined && options.unknownTokens !== 'extend' ? 1 : 2);
  const read = options.onProgress ? withProgress(source, options.onProgress, passes) : source;
  return level === 'word' ? prepareWords(read, options) : prepareChars(read, options);
}

/**
 * The source, telling `onProgress` the fraction of the text its pieces have given so far over `passes` passes, each an
 * equal share (of UTF-16 units against code points: at most a little ahead), at most every 4 M characters and at each
 * pass's start and end, each fraction above the last.
 */
export function withProgress(source: CorpusSource, onProgress: (fraction: number) => void, passes = 1): CorpusSource {
  const total = Math.max(1, source.totalTokens - source.documents - 1);
  let told = 0;
  const tell = (fraction: number): void => {
    if (fraction > told) onProgress(told = Math.min(1, fraction));
  };
  let started = 0;
  return {
    ...source,
    *pieces() {
      const done = started++;
      tell(done / passes);
      let read = 0;
      let readTold = 0;
      for (const piece of source.pieces()) {
        if (piece !== DOCUMENT_END) read += piece.length;
        if (read - readTold >= PROGRESS_CHARS) {
          readTold = read;
          tell((done + Math.min(1, read / total)) / passes);
        }
        yield piece;
      }
      tell((done + 1) / passes);
    },
  };
}

const PROGRESS_CHARS = 4 << 20;

/** `prepareData` at the char level, where the first pass over the corpus counted its code points. */
function prepareChars(source: CorpusSource, options: PrepareOptions): PreparedData {
  const { totalTokens } = source;
  const trainTokens = Math.floor((1 - options.valFrac) * totalTokens);
  if (options.vocab !== undefined && options.unknownTokens !== undefined) {
    return prepareForeign(CHARS, source, options, totalTokens, trainTokens);
  }
  const vocab = options.vocab ?? Vocabulary.build(trainingUnits(CHARS, source, trainTokens), options.minCount);
  if (options.vocab === undefined) checkSomeTokenKept(vocab, options.minCount > 1, options.minCount);
  return { vocab, ...split(source, encodeStream(CHARS, source, vocab, totalTokens), trainTokens, options.valFrac, vocab) };
}

/** `prepareData` at the word level: a pass to count the word tokens, one for the vocabulary, one to encode. */
function prepareWords(source: CorpusSource, options: PrepareOptions): PreparedData {
  const { valFrac, minCount } = options;
  const wordRule = options.vocab?.wordRule ?? WORD_RULE_VERSION;
  const words = wordsReading(wordRule);
  // a resumed run writes as it did; a fresh or fine-tuned one as the text it learns is spaced (`SpacingMeasure`)
  const resumed = options.vocab !== undefined && options.unknownTokens === undefined;
  const measure = resumed ? undefined : new SpacingMeasure(wordRule, source.docs);
  const totalTokens = wordStreamLength(wordUnits(source, wordRule, MAX_HELD_WORD_TEXT, measure), source);
  const spacing = measure?.spacing();
  const trainTokens = Math.floor((1 - valFrac) * totalTokens);
  const encoded = (vocab: Vocabulary) => split(source, encodeStream(words, source, vocab, totalTokens), trainTokens, valFrac, vocab);
  if (options.vocab !== undefined) {
    if (options.unknownTokens === undefined) return { vocab: options.vocab, ...encoded(options.vocab) };
    const vocab = options.vocab.withSpacing(spacing!);
    return prepareForeign(words, source, { ...options, vocab }, totalTokens, trainTokens);
  }
  const vocabSize = options.vocabSize ?? DEFAULT_VOCAB_SIZE;
  const built = buildWordVocabulary(trainingUnits(words, source, trainTokens), { vocabSize, minCount, wordRule });
  const { vocab: unspaced, ...wordVocab } = built;
  const vocab = unspaced.withSpacing(spacing!);
  checkSomeTokenKept(vocab, wordVocab.distinct > 0, minCount);
  return { vocab, ...encoded(vocab), wordVocab };
}

/**
 * N, the tokens of the word level's stream `<EOS> d1 <EOS> … dn <EOS>`, from a pass over the corpus's `units`.
 * Refuses a corpus whose text holds no word token but line breaks.
 */
function wordStreamLength(units: Iterable<string[] | typeof DOCUMENT_END>, source: CorpusSource): number {
  let totalTokens = 1; // the opening <EOS>
  let anyWord = false;
  for (const unit of units) {
    if (unit === DOCUMENT_END) {
      totalTokens++;
    } else {
      totalTokens += unit.length;
      anyWord ||= unit.some((token) => token !== LINE_BREAK);
    }
  }
  if (!anyWord) throw noWords(source);
  return totalTokens;
}

/** A corpus's files as a message lists them: `a.txt, b.txt`. */
function fileList(source: Pick<PieceSource, 'files'>): string {
  return source.files.map((f) => f.path).join(', ');
}

/** The refusal of a corpus whose text holds no word token but line breaks. */
export function noWords(source: Pick<CorpusSource, 'files'>): CorpusError {
  return new CorpusError(`corpus has no words: ${whiteSpaceOnly(source.files.map((f) => f.path))}`);
}

/** `a.txt holds only white space`, `a.txt, b.txt hold only white space`: files or folders whose text is white space. */
export function whiteSpaceOnly(names: readonly string[]): string {
  return `${names.join(', ')} ${names.length === 1 ? 'holds' : 'hold'} only white space`;
}

/** The refusal of a corpus whose pass over its files read other tokens than the first pass counted. */
export function corpusChanged(source: Pick<CorpusSource, 'files'>): CorpusError {
  return new CorpusError(`the corpus changed while it was read: ${fileList(source)}`);
}

/**
 * `prepareData` with a vocabulary made for another text (`PrepareOptions.unknownTokens`): the
 * training part's unknown tokens counted and, for 'extend', added; the stream encoded with the
 * result, its unknown tokens counted as it is.
 */
function prepareForeign<U>(
  reading: Reading<U>, source: CorpusSource, options: PrepareOptions, totalTokens: number, trainTokens: number,
): PreparedData {
  let vocab = options.vocab!;
  const prepared: Partial<PreparedData> = {};
  if (options.unknownTokens === 'extend') {
    const counts = new Map<string, number>();
    const texts: string[] = [];
    for (const unit of trainingUnits(reading, source, trainTokens)) {
      reading.encode(vocab, unit, texts);
      countTexts(texts, counts);
    }
    ({ vocab, added: prepared.added, addable: prepared.addable } = extendVocabulary(vocab, counts, options));
  }
  const unknown = new Map<string, number>();
  const data = split(source, encodeStream(reading, source, vocab, totalTokens, unknown), trainTokens, options.valFrac, vocab);
  prepared.unknown = unknownTokens(unknown);
  return { vocab, ...data, ...prepared };
}

/**
 * `vocab` with the tokens of `counts` (the training part's tokens it lacks, each with its count)
 * seen at least `minCount` times added, at the word level the most frequent up to `vocabSize`
 * entries in all (`PrepareOptions.unknownTokens` 'extend'); `addable`, how many were seen that often.
 */
function extendVocabulary(
  vocab: Vocabulary, counts: ReadonlyMap<string, number>, options: Pick<PrepareOptions, 'minCount' | 'vocabSize'>,
): { vocab: Vocabulary; added: [string, number][]; addable: number } {
  const room = vocab.level === 'word' ? Math.max(0, (options.vocabSize ?? DEFAULT_VOCAB_SIZE) - vocab.size) : Infinity;
  const addable = byFrequency(counts).filter(([, n]) => n >= options.minCount);
  const added = addable.slice(0, room);
  return { vocab: vocab.withTokens(added.map(([token]) => token)), added, addable: addable.length };
}

/** The report of the tokens that read as `<UNK>`, from each one's count. */
export function unknownTokens(counts: ReadonlyMap<string, number>): UnknownTokens {
  const occurrences = [...counts.values()].reduce((sum, n) => sum + n, 0);
  return { occurrences, distinct: counts.size, top: byFrequency(counts).slice(0, UNKNOWN_SHOWN), lineBreaks: counts.get(LINE_BREAK) ?? 0 };
}

/**
 * Data already in ids (a prepared folder's) read with another vocabulary, by symbol, as
 * `prepareData` with `vocab` and `unknownTokens` reads a text: each token keeps its id's symbol,
 * and one `vocab` lacks reads as `<UNK>` ('count') or, seen often enough in the training part,
 * is added first ('extend'). A token the data already reads as `<UNK>` stays `<UNK>`. The ids were
 * made under the data's tokenizer rules, which the result's vocabulary keeps.
 */
export function withVocabulary(
  data: PreparedData, vocab: Vocabulary, options: Required<Pick<PrepareOptions, 'unknownTokens'>> & Pick<PrepareOptions, 'minCount' | 'vocabSize'>,
): PreparedData {
  const from = data.vocab;
  vocab = Vocabulary.fromTokens(vocab.tokens, vocab.level, from.wordRule, vocab.documents, vocab.spacing);
  const countIds = (ids: TokenArray, into: Float64Array): void => {
    for (let i = 0; i < ids.length; i++) into[ids[i]!]!++;
  };
  const trainCounts = new Float64Array(from.size), allCounts = new Float64Array(from.size);
  countIds(data.train, trainCounts);
  allCounts.set(trainCounts);
  countIds(data.val, allCounts);
  const lacking = (counts: Float64Array, to: Vocabulary): Map<string, number> => {
    const found = new Map<string, number>();
    from.tokens.forEach((token, id) => {
      if (id > UNK && counts[id]! > 0 && to.idOf(token) === UNK) found.set(token, counts[id]!);
    });
    return found;
  };
  const result: Partial<PreparedData> = {};
  if (options.unknownTokens === 'extend') {
    ({ vocab, added: result.added, addable: result.addable } = extendVocabulary(vocab, lacking(trainCounts, vocab), options));
  }
  result.unknown = unknownTokens(lacking(allCounts, vocab));
  const idMap = Int32Array.from(from.tokens, (token, id) => (id <= UNK ? id : vocab.idOf(token)));
  const remap = (ids: TokenArray): TokenArray => {
    const out = tokenArrayFor(vocab.size, ids.length);
    for (let i = 0; i < ids.length; i++) out[i] = idMap[ids[i]!]!;
    return out;
  };
  const { wordVocab: _, ...rest } = data;
  return { ...rest, vocab, train: remap(data.train), val: remap(data.val), ...result };
}

/**
 * A built vocabulary holds a token besides `<EOS>` and `<UNK>`: with none, every token of the
 * text reads as `<UNK>` and there is nothing to learn. `leftOut`: the training text has tokens
 * that `minCount` may have left out (else it has none).
 */
export function checkSomeTokenKept(vocab: Vocabulary, leftOut: boolean, minCount: number): void {
  if (vocab.size > UNK + 1) return;
  const units = vocab.level === 'word' ? 'words' : 'characters';
  if (!leftOut) throw new CorpusError((name) => `the training part of the corpus has no ${units}: lower ${name('valFrac')}`);
  throw new SettingError('minCount', minCount, (name) =>
    `no token of the training text is seen ${minCount} times or more, so every one would read as ${UNK_TOKEN}: lower ${name('minCount')}`);
}

/**
 * How a level reads a corpus's pieces: as units of its tokens (at the char level the pieces'
 * text, at the word level the word tokens of text cut where no token spans the cut), each
 * counted in tokens, cut to its first tokens, and encoded.
 */
interface Reading<U> {
  units(source: PieceSource): Iterable<U | typeof DOCUMENT_END>;
  length(unit: U): number;
  prefix(unit: U, count: number): U;
  /** The unit's ids; the text of each `<UNK>` among them goes onto `unknown` where given (`Vocabulary.encode`). */
  encode(vocab: Vocabulary, unit: U, unknown?: string[]): Int32Array;
}

/** Each of `texts` counted into `counts`; `texts` left empty, for the next unit's. */
function countTexts(texts: string[], counts: Map<string, number>): void {
  for (const text of texts) counts.set(text, (counts.get(text) ?? 0) + 1);
  texts.length = 0;
}

const CHARS: Reading<string> = {
  units: (source) => source.pieces(),
  length: codePointCount,
  prefix: codePointPrefix,
  encode: (vocab, text, unknown) => vocab.encode(text, unknown),
};

/** The word level's reading, under the tokenizer rules of version `rule`. */
function wordsReading(rule: WordRule): Reading<string[]> {
  return {
    units: (source) => wordUnits(source, rule),
    length: (tokens) => tokens.length,
    prefix: (tokens, count) => tokens.slice(0, count),
    encode: (vocab, tokens, unknown) => vocab.encodeWords(tokens, unknown),
  };
}

/**
 * The source's pieces as word tokens under the rules of version `rule`: each piece tokenized a
 * window at a time up to its last word break (`wordWindows`), the rest held for the next piece or
 * the document's end, so that no token is cut; a token of
 * more than `maxHeld` characters is refused, naming the files and what the rule reads as one.
 * `measure`, where given, is handed each text with its tokens, and each document's end.
 */
export function* wordUnits(
  source: PieceSource, rule: WordRule, maxHeld = MAX_HELD_WORD_TEXT, measure?: SpacingMeasure,
): Generator<string[] | typeof DOCUMENT_END> {
  const cut = (text: string): string[] => {
    const tokens = tokenizeWords(text, rule);
    measure?.add(text, tokens);
    return tokens;
  };
  let held = '';
  for (const piece of source.pieces()) {
    if (piece === DOCUMENT_END) {
      if (held.length > 0) yield cut(held);
      held = '';
      measure?.endDocument();
      yield DOCUMENT_END;
      continue;
    }
    const windows = wordWindows(held, piece, rule, (text) => {
      if (text.length > maxHeld) {
        throw new CorpusError(`${fileList(source)}: a token of more than ` +
          `${grouped(maxHeld)} characters (under word rules version ${rule}: ${UNBROKEN_RUNS[rule]}), which the word level cannot read`);
      }
    });
    let step = windows.next();
    for (; !step.done; step = windows.next()) yield cut(step.value);
    held = step.value;
  }
  if (held.length > 0) yield cut(held);
}

/**
 * The ids of `source`'s documents joined by `<EOS>` (`d1 <EOS> d2 … dn`, as `Vocabulary.tokenize` gives a whole text's), a
 * unit at a time; each token read as `<UNK>` counted into `unknown` where given.
 */
export function documentIds(
  source: PieceSource, vocab: Vocabulary, unknown?: Map<string, number>,
): Generator<Int32Array> {
  return vocab.level === 'word' ? readingIds(wordsReading(vocab.wordRule), source, vocab, unknown) : readingIds(CHARS, source, vocab, unknown);
}

/** `documentIds`, read a unit at a time by `reading`. */
function* readingIds<U>(
  reading: Reading<U>, source: PieceSource, vocab: Vocabulary, unknown?: Map<string, number>,
): Generator<Int32Array> {
  // a document's end writes its <EOS> once a next document begins: none after the last
  let ended = false;
  for (const ids of encodedUnits(reading, source, vocab, unknown)) {
    if (ids === DOCUMENT_END) {
      ended = true;
      continue;
    }
    if (ended) yield DOCUMENT_SEPARATOR;
    ended = false;
    yield ids;
  }
}

/** The source's units encoded one at a time, its document ends as they come; each `<UNK>` counted into `unknown` where given. */
function* encodedUnits<U>(
  reading: Reading<U>, source: PieceSource, vocab: Vocabulary, unknown?: Map<string, number>,
): Generator<Int32Array | typeof DOCUMENT_END> {
  const texts: string[] = [];
  for (const unit of reading.units(source)) {
    if (unit === DOCUMENT_END) {
      yield DOCUMENT_END;
      continue;
    }
    const ids = reading.encode(vocab, unit, unknown && texts);
    if (unknown !== undefined) countTexts(texts, unknown);
    yield ids;
  }
}

/** The `<EOS>` between two documents, as `documentIds` yields it. */
const DOCUMENT_SEPARATOR = Int32Array.of(EOS);

/** Characters of one word the word level holds before it refuses the corpus (a quarter of V8's longest string). */
const MAX_HELD_WORD_TEXT = 1 << 27;

/**
 * The units of the first `trainTokens` tokens of the stream: every unit that starts before the
 * cut, the one it falls in cut to its first tokens.
 */
function* trainingUnits<U>(reading: Reading<U>, source: CorpusSource, trainTokens: number): Generator<U> {
  let at = 1; // after the opening <EOS>
  for (const unit of reading.units(source)) {
    if (at >= trainTokens) return;
    if (unit === DOCUMENT_END) {
      at++;
    } else {
      const len = reading.length(unit);
      yield at + len <= trainTokens ? unit : reading.prefix(unit, trainTokens - at);
      at += len;
    }
  }
}

/**
 * The spec's stream `<EOS> d1 <EOS> d2 <EOS> … dn <EOS>`, encoded one unit at a time into a compact array
 * of `totalTokens`; each token read as `<UNK>` counted into `unknown` when it is given.
 */
function encodeStream<U>(
  reading: Reading<U>, source: CorpusSource, vocab: Vocabulary, totalTokens: number, unknown?: Map<string, number>,
): TokenArray {
  const stream = tokenArrayFor(vocab.size, totalTokens);
  let at = 0;
  stream[at++] = EOS;
  for (const ids of encodedUnits(reading, source, vocab, unknown)) {
    if (ids === DOCUMENT_END) {
      if (at >= totalTokens) throw corpusChanged(source);
      stream[at++] = EOS;
    } else {
      if (at + ids.length > totalTokens) throw corpusChanged(source);
      stream.set(ids, at);
      at += ids.length;
    }
  }
  if (at !== totalTokens) throw corpusChanged(source);
  return stream;
}

/** The tokens of each part of a stream that are its text's: all but the document ends (`<EOS> d1 <EOS> … dn <EOS>`). */
export interface TextTokens {
  train: number;
  val: number;
}

/** The text's tokens in `data`'s training and validation parts (`TextTokens`). */
export function textTokens(data: Pick<PreparedData, 'train' | 'val'>): TextTokens {
  return { train: data.train.length - documentEnds(data.train), val: data.val.length - documentEnds(data.val) };
}

/** The `<EOS>` tokens of `part` of a stream: its document ends (and the opening one, where the part begins the stream). */
export function documentEnds(part: TokenArray): number {
  let ends = 0;
  for (let i = 0; i < part.length; i++) if (part[i] === EOS) ends++;
  return ends;
}

/** The train/validation streams cut at `trainTokens`, and the fingerprint of the data and split, encoded with `vocab`. */
function split(
  corpus: Pick<CorpusSource, 'files' | 'docs' | 'sentenceRule' | 'documents'>, stream: TokenArray, trainTokens: number, valFrac: number,
  vocab: Pick<Vocabulary, 'level' | 'wordRule'>,
): Pick<PreparedData, 'train' | 'val' | 'fingerprint'> {
  const fingerprint = dataFingerprint(corpus, stream.length, trainTokens, valFrac, vocab);
  return { train: stream.subarray(0, trainTokens), val: stream.subarray(trainTokens), fingerprint };
}

/** The fingerprint of a corpus's token stream of `totalTokens`, cut at `trainTokens`, its tokens those of `vocab`'s level and rules. */
export function dataFingerprint(
  corpus: Pick<CorpusSource, 'files' | 'docs' | 'sentenceRule' | 'documents'>, totalTokens: number, trainTokens: number, valFrac: number,
  { level, wordRule }: Pick<Vocabulary, 'level' | 'wordRule'>,
): DataFingerprint {
  const sentences = corpus.docs === 'sentence';
  // version 1 is left out of the hash, which fingerprints made before there were versions did not cover
  const hashed = {
    files: corpus.files.map((f) => f.sha256), docs: corpus.docs, valFrac,
    ...(sentences && corpus.sentenceRule !== 1 && { sentenceRule: corpus.sentenceRule }),
  };
  const fingerprint: DataFingerprint = {
    files: corpus.files.map((f) => ({ ...f })),
    docs: corpus.docs,
    ...(sentences && { sentenceRule: corpus.sentenceRule }),
    documents: corpus.documents,
    totalTokens,
    trainTokens,
    valTokens: totalTokens - trainTokens,
    valFrac,
    sha256: createHash('sha256')
      .update(JSON.stringify(level === 'char' ? hashed : { ...hashed, level, wordRule }))
      .digest('hex'),
  };
  if (level === 'word') fingerprint.level = 'word';
  return fingerprint;
}

/** Whether two fingerprints describe the same data and split (file paths aside). */
export function fingerprintMatches(a: FingerprintKey, b: FingerprintKey): boolean {
  return a.sha256 === b.sha256 && a.totalTokens === b.totalTokens && a.trainTokens === b.trainTokens;
}

/** What identifies a corpus and its split (a checkpoint records these). */
export type FingerprintKey = Pick<DataFingerprint, 'sha256' | 'totalTokens' | 'trainTokens'>;
