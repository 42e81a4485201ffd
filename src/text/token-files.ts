import { closeSync, openSync, readSync, unlinkSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';
import {
  type CorpusSource, type DataFingerprint, type PrepareOptions, type TextTokens, VAL_FRAC, checkSomeTokenKept, corpusChanged,
  dataFingerprint, noWords, withProgress, wordUnits,
} from './corpus.js';
import { DOCUMENT_END } from './documents.js';
import { DTYPE_BYTES, type TokenDtype, tokenArrayFor, tokenDtype } from './tokens.js';
import { EOS, EOS_TOKEN, type TextLevel, Vocabulary } from './vocab.js';
import { DEFAULT_VOCAB_SIZE, type WordVocabularyBuild, wordVocabularyFromCounts } from './word-vocab.js';
import { LINE_BREAK, WORD_RULE_VERSION } from './words.js';
import { NO_SPACING, type Spacing, SpacingMeasure } from './spacing.js';
import { checkedOption } from '../input/settings.js';

/*
 * A corpus written as token files (`rnn prepare`), tokenized once: the first pass gives every
 * distinct token a provisional id as it first appears and writes the stream of provisional ids
 * to a scratch file, counting each id. Then the count of the validation part (read back from the
 * scratch file) is taken off, leaving the training part's counts, from which the vocabulary is
 * built exactly as `prepareData` builds it; a last pass maps provisional ids to the vocabulary's
 * and writes them. Memory holds the distinct tokens and buffers, never the stream.
 */

/** `prepareData`'s options for a text it builds the vocabulary of, at the level given. */
export type TokenFileOptions = Pick<PrepareOptions, 'valFrac' | 'minCount' | 'vocabSize'> & { level: TextLevel };

/** Where the token files go: the scratch file is removed before `writeTokenFiles` returns. */
export interface TokenFilePaths {
  train: string;
  val: string;
  scratch: string;
}

export interface WrittenTokens {
  vocab: Vocabulary;
  dtype: TokenDtype;
  fingerprint: DataFingerprint;
  textTokens: TextTokens;
  wordVocab?: Omit<WordVocabularyBuild, 'vocab'>;
}

/** Ids moved between the files and memory at a time. */
const BUFFER_TOKENS = 1 << 20;

/**
 * Writes the stream `prepareData(source, options)` would hold, `<EOS> d1 <EOS> … dn <EOS>` in
 * the vocabulary of its training part, as two files of little-endian ids: the training part and
 * the validation part. The event loop turns after every BUFFER_TOKENS ids read or written (a
 * signal's handler runs); `stop` aborted then, the writing ends by throwing its reason.
 */
export async function writeTokenFiles(
  source: CorpusSource, options: TokenFileOptions, paths: TokenFilePaths, onProgress?: (fraction: number) => void, stop?: AbortSignal,
): Promise<WrittenTokens> {
  const { valFrac, minCount, level } = options;
  checkedOption('valFrac', VAL_FRAC.schema, valFrac);
  await turn(stop);
  try {
    const provisional = await writeProvisional(onProgress ? withProgress(source, onProgress) : source, level, paths.scratch, stop);
    const totalTokens = provisional.total;
    if (level === 'char' && totalTokens !== source.totalTokens) throw corpusChanged(source);
    const trainTokens = Math.floor((1 - valFrac) * totalTokens);
    const counts = provisional.counts;
    const allEnds = counts[EOS]!;
    await forEachId(paths.scratch, trainTokens, totalTokens, stop, (ids) => {
      for (let i = 0; i < ids.length; i++) counts[ids[i]!]!--;
    });
    // the counts are now the training part's: its document ends are what is left of <EOS>'s
    const textTokens = { train: trainTokens - counts[EOS]!, val: totalTokens - trainTokens - (allEnds - counts[EOS]!) };
    const { vocab, wordVocab } = level === 'char'
      ? charVocabulary(provisional.tokens, counts, minCount)
      : wordVocabulary(provisional.tokens, counts, options.vocabSize ?? DEFAULT_VOCAB_SIZE, minCount, provisional.spacing);
    const dtype = tokenDtype(vocab.size);
    const finalId = new Int32Array(provisional.tokens.length);
    for (let id = EOS + 1; id < finalId.length; id++) finalId[id] = vocab.idOf(provisional.tokens[id]!);
    await writeFinal(paths, trainTokens, totalTokens, finalId, vocab.size, stop);
    const fingerprint = dataFingerprint(source, totalTokens, trainTokens, valFrac, vocab);
    return { vocab, dtype, fingerprint, textTokens, ...(wordVocab && { wordVocab }) };
  } finally {
    removeQuietly(paths.scratch);
  }
}

interface Provisional {
  /** Provisional id → token text; id 0 is `<EOS>` (its entry unused). */
  tokens: string[];
  /** Provisional id → occurrences in the whole stream. */
  counts: Float64Array;
  /** Ids written: the stream's tokens, `<EOS>`s included. */
  total: number;
  /** Word level: the text's spacing (`SpacingMeasure`), measured as `prepareData` measures it. */
  spacing: Spacing;
}

/** The one tokenizing pass: provisional ids to `scratch`, with each one's count. */
async function writeProvisional(source: CorpusSource, level: TextLevel, scratch: string, stop?: AbortSignal): Promise<Provisional> {
  const tokens: string[] = [EOS_TOKEN];
  const idOf = new Map<string, number>();
  let counts = new Float64Array(1024);
  const out = new IdWriter(scratch, Uint32Array);
  let spacing = NO_SPACING;
  const put = (token: string): void => {
    let id = idOf.get(token);
    if (id === undefined) {
      id = tokens.length;
      tokens.push(token);
      idOf.set(token, id);
      if (id === counts.length) {
        const grown = new Float64Array(2 * counts.length);
        grown.set(counts);
        counts = grown;
      }
    }
    counts[id]!++;
    out.push(id);
  };
  const end = (): void => {
    counts[EOS]!++;
    out.push(EOS);
  };
  let turnAt = BUFFER_TOKENS;
  /** Whether the event loop is to turn now (`turn`): after every BUFFER_TOKENS ids written. */
  const turnDue = (): boolean => {
    if (out.written < turnAt) return false;
    turnAt = out.written + BUFFER_TOKENS;
    return true;
  };
  try {
    end();
    if (level === 'char') {
      for (const piece of source.pieces()) {
        if (piece === DOCUMENT_END) end();
        else for (const char of piece) put(char);
        if (turnDue()) await turn(stop);
      }
    } else {
      const measure = new SpacingMeasure(WORD_RULE_VERSION, source.docs);
      for (const unit of wordUnits(source, WORD_RULE_VERSION, undefined, measure)) {
        if (unit === DOCUMENT_END) end();
        else for (const token of unit) put(token);
        if (turnDue()) await turn(stop);
      }
      if (!tokens.some((token, id) => id > EOS && token !== LINE_BREAK)) throw noWords(source);
      spacing = measure.spacing();
    }
  } finally {
    out.close();
  }
  return { tokens, counts: counts.subarray(0, tokens.length), total: out.written, spacing };
}

/** The training part's counts by token key, tokens it never holds left out. */
function trainingCounts<K>(tokens: readonly string[], counts: Float64Array, key: (token: string) => K): Map<K, number> {
  const byToken = new Map<K, number>();
  for (let id = EOS + 1; id < tokens.length; id++) if (counts[id]! > 0) byToken.set(key(tokens[id]!), counts[id]!);
  return byToken;
}

function charVocabulary(tokens: readonly string[], counts: Float64Array, minCount: number): { vocab: Vocabulary; wordVocab?: undefined } {
  const vocab = Vocabulary.fromCodePointCounts(trainingCounts(tokens, counts, (t) => t.codePointAt(0)!), minCount);
  checkSomeTokenKept(vocab, minCount > 1, minCount);
  return { vocab };
}

function wordVocabulary(
  tokens: readonly string[], counts: Float64Array, vocabSize: number, minCount: number, spacing: Spacing,
): { vocab: Vocabulary; wordVocab: Omit<WordVocabularyBuild, 'vocab'> } {
  const built = wordVocabularyFromCounts(trainingCounts(tokens, counts, (t) => t), { vocabSize, minCount });
  checkSomeTokenKept(built.vocab, built.distinct > 0, minCount);
  const { vocab, ...wordVocab } = built;
  return { vocab: vocab.withSpacing(spacing), wordVocab };
}

/** The scratch file mapped to final ids, the first `trainTokens` to `paths.train`, the rest to `paths.val`. */
async function writeFinal(
  paths: TokenFilePaths, trainTokens: number, totalTokens: number, finalId: Int32Array, vocabSize: number, stop?: AbortSignal,
): Promise<void> {
  const Ids = tokenArrayFor(vocabSize, 0).constructor as TokenArrayType;
  const train = new IdWriter(paths.train, Ids);
  const val = new IdWriter(paths.val, Ids);
  try {
    let at = 0;
    await forEachId(paths.scratch, 0, totalTokens, stop, (ids) => {
      for (let i = 0; i < ids.length; i++, at++) (at < trainTokens ? train : val).push(finalId[ids[i]!]!);
    });
  } finally {
    train.close();
    val.close();
  }
}

type TokenArrayType = Uint8ArrayConstructor | Uint16ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor;

/**
 * Ids appended to a file through a buffer; `written` counts them. A failed write throws the file
 * system's error, whose code the writer of the folder names.
 */
class IdWriter {
  private readonly fd: number;
  private readonly buffer: Uint8Array | Uint16Array | Int32Array | Uint32Array;
  private filled = 0;
  written = 0;
  private closed = false;

  constructor(path: string, Ids: TokenArrayType) {
    this.buffer = new Ids(BUFFER_TOKENS);
    this.fd = openSync(path, 'w', 0o644);
  }

  push(id: number): void {
    this.buffer[this.filled++] = id;
    this.written++;
    if (this.filled === this.buffer.length) this.flush();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private flush(): void {
    const width = this.buffer.BYTES_PER_ELEMENT;
    const bytes = littleEndian(new Uint8Array(this.buffer.buffer, 0, this.filled * width), width);
    for (let done = 0; done < bytes.length;) done += writeSync(this.fd, bytes, done);
    this.filled = 0;
  }
}

/**
 * Calls `each` with the uint32 ids of `path` from index `from` up to `to`, a buffer at a time (the same buffer), the
 * event loop turning after each (`turn`).
 */
async function forEachId(
  path: string, from: number, to: number, stop: AbortSignal | undefined, each: (ids: Uint32Array) => void,
): Promise<void> {
  const fd = openSync(path, 'r');
  try {
    const buffer = new Uint32Array(BUFFER_TOKENS);
    const bytes = new Uint8Array(buffer.buffer);
    for (let at = from; at < to;) {
      const want = Math.min(BUFFER_TOKENS, to - at);
      let got = 0;
      while (got < want * 4) {
        const n = readSync(fd, bytes, got, want * 4 - got, (at * 4) + got);
        if (n === 0) throw new Error(`${path} ended at token ${at + got / 4}, before ${to}`);
        got += n;
      }
      littleEndian(bytes.subarray(0, want * 4), 4);
      each(buffer.subarray(0, want));
      at += want;
      await turn(stop);
    }
  } finally {
    closeSync(fd);
  }
}

/** Lets the event loop turn, so that a signal's handler runs; `stop` aborted by it, throws its reason. */
export async function turn(stop?: AbortSignal): Promise<void> {
  await new Promise(setImmediate);
  stop?.throwIfAborted();
}

const BIG_ENDIAN = endianness() === 'BE';

/**
 * `bytes`, ids of `width` bytes each, swapped in place between this machine's order and
 * little-endian (the files' order): nothing to do on a little-endian machine.
 */
export function littleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (BIG_ENDIAN && width > 1) {
    const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (width === 2) view.swap16();
    else view.swap32();
  }
  return bytes;
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or never made
  }
}

/** Bytes of a token file of `tokens` ids of `dtype`. */
export function tokenFileBytes(dtype: TokenDtype, tokens: number): number {
  return DTYPE_BYTES[dtype] * tokens;
}
