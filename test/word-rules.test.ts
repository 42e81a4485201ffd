import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, parseCheckpoint } from '../src/checkpoint/checkpoint.js';
import { contentChecksum } from '../src/checkpoint/integrity.js';
import { exportState } from '../src/checkpoint/convert.js';
import { fromInteropState } from '../src/checkpoint/interop.js';
import { checkpointVocabulary, loadModel } from '../src/checkpoint/load.js';
import { readPreparedData, writePreparedFolder } from '../src/checkpoint/prepared.js';
import { fromSafetensors } from '../src/checkpoint/safetensors.js';
import { Rng } from '../src/engine/random.js';
import { type CorpusSource, withVocabulary, wordUnits } from '../src/text/corpus.js';
import { DOCUMENT_END } from '../src/text/documents.js';
import { loadCorpusData } from '../src/text/corpus-stream.js';
import { EOS_TOKEN, UNK, UNK_TOKEN, Vocabulary } from '../src/text/vocab.js';
import { lastWordBreak, tokenizeWords, WORD_RULE_VERSION, WORD_WINDOW, type WordRule, wordWindows } from '../src/text/words.js';
import { ROOT, rnnIn } from './helpers/cli.js';
import { readCheckpointJson } from './helpers/checkpoint.js';
import { scratchFolder } from './helpers/files.js';

/*
 * The word tokenizer rules' versions (docs/words.md): version 2 keeps a grapheme cluster whole
 * (an emoji sequence, a flag, a character with its extenders, a word with a zero-width
 * non-joiner), version 1 is kept for the models and prepared folders made under it.
 *
 * fixtures/word-rule-1 was written by rnn at commit ffb5ae9, whose rules are version 1:
 * step3.json is `rnn train corpus.txt --level word --hidden 8 --layers 1 --embed 4 --seq-len 8
 * --batch 2 --kernels js --workers 1 --max-steps 3 --lr-schedule epoch --val-frac 0.2`,
 * step6.json that run resumed to `--max-steps 6`.
 */

const FIXTURES = join(ROOT, 'test', 'fixtures', 'word-rule-1');
const CORPUS = join(FIXTURES, 'corpus.txt');
const STEP3 = join(FIXTURES, 'step3.json');
const scratch = scratchFolder('rnn-word-rules-');

const FAMILY = '👨‍👩‍👧';
const PRIDE = '🏳️‍🌈';
const WANT = 'می‌خواهم'; // Persian "I want": می, U+200C, خواهم
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** The word units `text`, as the one document of a file `long.txt`, reads as under `rule`, a token allowed 8 characters. */
function readAsLongFile(text: string, rule: WordRule): unknown[] {
  const source: CorpusSource = {
    files: [{ path: 'long.txt', bytes: text.length, sha256: '' }], docs: 'file', sentenceRule: 1, documents: 1, totalTokens: text.length,
    pieces: () => [text, DOCUMENT_END],
  };
  return [...wordUnits(source, rule, 8)];
}

describe('tokenizer rules version 2', () => {
  it('keeps an emoji sequence, a skin tone, a flag, a keycap and a word with a zero-width non-joiner whole', () => {
    const text = `${FAMILY} ${PRIDE} ${WANT} 👍🏽👍 ❤️‍🔥 #️⃣ 🇫🇷🇯🇵🇩 🏴󠁧󠁢󠁳󠁣󠁴󠁿 don't 3.5!`;
    expect(tokenizeWords(text, 2)).toEqual(
      [FAMILY, PRIDE, WANT, '👍🏽', '👍', '❤️‍🔥', '#️⃣', '🇫🇷', '🇯🇵', '🇩', '🏴󠁧󠁢󠁳󠁣󠁴󠁿', "don't", '3.5', '!']);
    expect(tokenizeWords(text)).toEqual(tokenizeWords(text, 2));
  });

  it('is not version 1, which cuts them into code points', () => {
    expect(tokenizeWords(`${FAMILY} ${PRIDE} ${WANT} 👍🏽 #️⃣ 🇫🇷`, 1)).toEqual(
      ['👨', '\u200d', '👩', '\u200d', '👧', '🏳', '\ufe0f', '\u200d', '🌈', 'می', '\u200c', 'خواهم', '👍', '🏽', '#', '\ufe0f\u20e3', '🇫', '🇷']);
  });

  it('ends no token inside a grapheme cluster, and makes emoji text the clusters Unicode makes of it', () => {
    const emoji = ['👨', '👩', '🏽', '\u200d', '\u200c', '\ufe0f', '\u20e3', '#', '🇫', '🇷', '🏴', '\u{e0067}', '\u{e007f}', '❤', '🔥', ' '];
    const alphabet = [...emoji, 'a', 'é', '\u0301', '1', '!', "'", '-', '.', '\n', '\r', 'م', 'ی'];
    const rng = new Rng(11);
    const draw = (from: string[]): string =>
      Array.from({ length: 1 + Math.floor(rng.uniform() * 14) }, () => from[Math.floor(rng.uniform() * from.length)]!).join('');
    for (let trial = 0; trial < 2_000; trial++) {
      const text = draw(alphabet);
      const tokens = tokenizeWords(text, 2);
      const boundaries = new Set([...graphemes.segment(text)].map((s) => s.index).concat(text.length));
      let at = 0;
      for (const token of tokens) {
        if (token === '\n') {
          at = text.indexOf('\n', at) + 1;
        } else {
          while (/\s/u.test(text[at]!)) at++;
          expect(text.startsWith(token, at), JSON.stringify(text)).toBe(true);
          at += token.length;
        }
        expect(boundaries.has(at), `${JSON.stringify(text)} → ${JSON.stringify(tokens)}`).toBe(true);
      }
      expect(tokens.join('')).toBe(text.replace(/\r\n/g, '\n').replace(/[^\S\n]/gu, ''));
      const emojiText = draw(emoji);
      const clusters = [...graphemes.segment(emojiText)].map((s) => s.segment.replace(/\s/gu, '')).filter((s) => s !== '');
      expect(tokenizeWords(emojiText, 2), JSON.stringify(emojiText)).toEqual(clusters);
    }
  });

  it('cuts text without extenders, emoji or flags as version 1 does', () => {
    const sotu = readFileSync(join(ROOT, 'corpora', 'sotu.txt'), 'utf8');
    expect(tokenizeWords(sotu, 2)).toEqual(tokenizeWords(sotu, 1));
  });

  it('reads an emoji sequence of a million joins, in time and stack linear in its length', () => {
    const sequence = `${'👩\u200d'.repeat(1_000_000)}👧\ufe0f`;
    const tokens = tokenizeWords(`( ${sequence} ) ${FAMILY}`, 2);
    expect([tokens.length, tokens[0], tokens[1] === sequence, tokens[2], tokens[3]]).toEqual([4, '(', true, ')', FAMILY]);
    const word = `${'می\u200c'.repeat(1_000_000)}خواهم`;
    expect(tokenizeWords(`${word} ${WANT}`, 2)).toEqual([word, WANT]);
  });

  it('reads a word, an emoji or a character with millions of extenders, in a text not all Latin-1, without overflowing the stack', () => {
    // a regular expression's backtracking stack overflowed at about 4 million repeats of one class (one-byte text has room for more)
    const long = 6_000_000;
    for (const [rule, token] of [
      [1, 'д'.repeat(long)], [1, `a${'\u0301'.repeat(long)}`], [2, `a${'\u0301'.repeat(long)}`], [2, `😀${'\ufe0f'.repeat(long)}`],
      [2, '\u200d'.repeat(long)], [2, `🇫🇷${'\u{e0067}'.repeat(long)}`],
    ] as const) {
      const [open, read, close, ...after] = tokenizeWords(`( ${token} ) ${FAMILY}`, rule);
      expect([open, read === token, close, after], `${rule} ${JSON.stringify(token.slice(0, 3))}`).toEqual(
        ['(', true, ')', tokenizeWords(FAMILY, rule)]);
    }
  });

  it('finds where text may be cut under either version so that it tokenizes as its two halves do', () => {
    expect(lastWordBreak(`ab ${FAMILY}`, 2)).toBe(3); // the sequence may go on
    expect(lastWordBreak('ab 😀!', 2)).toBe(5); // after "😀": "!" extends nothing; after "!": an extender may follow
    expect(lastWordBreak('ab 😀!', 1)).toBe(6);
    expect(lastWordBreak('🇫🇷🇯', 2)).toBe(0);
    const alphabet = ['a', '1', 'é', '\u0301', "'", '-', '.', ' ', '\n', '\r', '!', '😀', '👩', '🏽', '\u200d', '\u200c', '\ufe0f', '🇫', '🇷',
      '\u{e0067}', 'م'];
    const rng = new Rng(13);
    for (const rule of [1, 2] as const) {
      for (let trial = 0; trial < 3_000; trial++) {
        const text = Array.from({ length: 1 + Math.floor(rng.uniform() * 12) }, () => alphabet[Math.floor(rng.uniform() * alphabet.length)]!).join('');
        const cut = lastWordBreak(text, rule);
        const halves = [...tokenizeWords(text.slice(0, cut), rule), ...tokenizeWords(text.slice(cut), rule)];
        expect(halves, `${rule} ${JSON.stringify(text)}`).toEqual(tokenizeWords(text, rule));
        // and as it does followed by anything: the cut holds whatever comes after the text
        for (const next of ['\u200d👩', '🏽', 'a', '🇷']) {
          const longer = text + next;
          expect([...tokenizeWords(longer.slice(0, cut), rule), ...tokenizeWords(longer.slice(cut), rule)], `${rule} ${JSON.stringify(longer)}`)
            .toEqual(tokenizeWords(longer, rule));
        }
      }
    }
  });

  it('refuses a token too long to hold naming the file and what its rule reads as one token', () => {
    expect(() => readAsLongFile('ok well-known-thing', 1)).toThrow(
      "long.txt: a token of more than 8 characters (under word rules version 1: letters, marks and digits joined by ' ’ - . , " +
        'with nothing else between them), which the word level cannot read');
    expect(() => readAsLongFile('ok well-known-thing', 2)).toThrow(/^long\.txt: a token of more than 8 characters \(under word rules version 2: letters, /);
    // runs that only version 2 holds as one token: an emoji sequence, a character with its extenders, regional indicators
    for (const run of [`${FAMILY}\u200d👦`, `!${'\u200c'.repeat(9)}`, '🇫🇷🇯🇵🇫🇷']) {
      expect(readAsLongFile(`ab ${run}`, 1).flat()).toContain('ab');
      expect(() => readAsLongFile(`ab ${run}`, 2)).toThrow(/zero-width joiners .* regional indicators/);
    }
  });
});

describe('tokenizer rules version 3', () => {
  const RLM = '\u200f', LRM = '\u200e', ALM = '\u061c';

  it('joins an Arabic-script number at its decimal and thousands separators, as "." and "," join one; version 2 splits it', () => {
    const text = '١٢٬٥٠٠ و ٣٫٥ and 12٫5 ١٢٬ x٫٥ ٫٥ ١٬٢٣٤٫٥٦';
    expect(tokenizeWords(text, 3)).toEqual(['١٢٬٥٠٠', 'و', '٣٫٥', 'and', '12٫5', '١٢', '٬', 'x', '٫', '٥', '٫', '٥', '١٬٢٣٤٫٥٦']);
    expect(tokenizeWords(text, 2)).toEqual(
      ['١٢', '٬', '٥٠٠', 'و', '٣', '٫', '٥', 'and', '12', '٫', '5', '١٢', '٬', 'x', '٫', '٥', '٫', '٥', '١', '٬', '٢٣٤', '٫', '٥٦']);
  });

  it('joins a Hebrew word at a geresh or gershayim between two letters, and keeps a geresh after its last letter; version 2 splits them', () => {
    const text = 'צה״ל ת״א ג׳ירפה ה׳ באייר, פרופ׳ כהן ה׳׳ צה"ל ״x y״ ׳';
    expect(tokenizeWords(text, 3)).toEqual(
      ['צה״ל', 'ת״א', 'ג׳ירפה', 'ה׳', 'באייר', ',', 'פרופ׳', 'כהן', 'ה׳', '׳', 'צה', '"', 'ל', '״', 'x', 'y', '״', '׳']);
    expect(tokenizeWords(text, 2)).toEqual(
      ['צה', '״', 'ל', 'ת', '״', 'א', 'ג', '׳', 'ירפה', 'ה', '׳', 'באייר', ',', 'פרופ', '׳', 'כהן', 'ה', '׳', '׳', 'צה', '"', 'ל', '״', 'x', 'y',
        '״', '׳']);
    expect(tokenizeWords('ה׳\u05b8 x', 3)).toEqual(['ה׳\u05b8', 'x']); // a mark after the geresh stays with it
  });

  it('joins a word at a direction mark between two letters, and leaves one anywhere else a token of its own, as version 2 does', () => {
    const text = `שלום${RLM}world a${LRM}b a${ALM}b Python${RLM} היא 5${RLM}% x ${RLM}y ${RLM}שלום a${RLM}${RLM}b (${RLM}c) d${RLM}`;
    expect(tokenizeWords(text, 3)).toEqual([`שלום${RLM}world`, `a${LRM}b`, `a${ALM}b`, 'Python', RLM, 'היא', '5', RLM, '%', 'x', RLM, 'y',
      RLM, 'שלום', 'a', RLM, RLM, 'b', '(', RLM, 'c', ')', 'd', RLM]);
    expect(tokenizeWords(text, 2)).toEqual(['שלום', RLM, 'world', 'a', LRM, 'b', 'a', ALM, 'b', 'Python', RLM, 'היא', '5', RLM, '%', 'x', RLM,
      'y', RLM, 'שלום', 'a', RLM, RLM, 'b', '(', RLM, 'c', ')', 'd', RLM]);
  });

  it('is the version new text is cut under, and cuts text without those characters as version 2 does', () => {
    expect(WORD_RULE_VERSION).toBe(3);
    const text = `${readFileSync(CORPUS, 'utf8')}\n${readFileSync(join(ROOT, 'corpora', 'sotu.txt'), 'utf8')}`;
    expect(tokenizeWords(text, 3)).toEqual(tokenizeWords(text, 2));
  });

  it('ends no token inside a grapheme cluster, and reads a token\'s characters in order, white space left out', () => {
    const alphabet = ['a', 'ש', 'ל', '1', '١', '\u0301', '\u05b8', '׳', '״', '٫', '٬', '.', ',', "'", '-', RLM, LRM, ALM, '\u200d', '😀', ' ', '\n'];
    const rng = new Rng(17);
    for (let trial = 0; trial < 2_000; trial++) {
      const text = Array.from({ length: 1 + Math.floor(rng.uniform() * 12) }, () => alphabet[Math.floor(rng.uniform() * alphabet.length)]!).join('');
      const tokens = tokenizeWords(text, 3);
      const boundaries = new Set([...graphemes.segment(text)].map((s) => s.index).concat(text.length));
      let at = 0;
      for (const token of tokens) {
        while (/[^\S\n]/u.test(text[at] ?? '')) at++;
        expect(text.startsWith(token, at), JSON.stringify(text)).toBe(true);
        at += token.length;
        expect(boundaries.has(at), `${JSON.stringify(text)} → ${JSON.stringify(tokens)}`).toBe(true);
      }
      expect(tokens.join('')).toBe(text.replace(/[^\S\n]/gu, ''));
    }
  });

  it('reads a number or word of a million joins, in time and stack linear in its length', () => {
    for (const run of ['١٬', '٣٫', 'א״', 'ב׳', `a${RLM}`]) {
      const word = `${run.repeat(1_000_000)}${run[0]}׳`;
      expect(tokenizeWords(`( ${word} ) ה׳`, 3)).toEqual(['(', word, ')', 'ה׳']);
    }
  });

  it('finds where text may be cut under each version so that it tokenizes as its two halves do, whatever follows', () => {
    const alphabet = ['a', 'ש', '1', '١', '\u0301', '׳', '״', '٫', '٬', '.', ',', "'", '-', RLM, LRM, ALM, '\u200d', '😀', ' ', '\n', '!'];
    const rng = new Rng(19);
    for (const rule of [1, 2, 3] as const) {
      for (let trial = 0; trial < 3_000; trial++) {
        const text = Array.from({ length: 1 + Math.floor(rng.uniform() * 12) }, () => alphabet[Math.floor(rng.uniform() * alphabet.length)]!).join('');
        const cut = lastWordBreak(text, rule);
        for (const next of ['', 'a', '١', '׳', RLM, '\u0301', '\u200d😀']) {
          const longer = text + next;
          expect([...tokenizeWords(longer.slice(0, cut), rule), ...tokenizeWords(longer.slice(cut), rule)], `${rule} ${JSON.stringify(longer)}`)
            .toEqual(tokenizeWords(longer, rule));
        }
      }
    }
  });

  it('tokenizes a text a window at a time as it does whole, where a window would end inside a surrogate pair', () => {
    const text = `${' '.repeat(WORD_WINDOW - 1)}😀 b`;
    for (const rule of [1, 2, 3] as const) {
      const windows = wordWindows('', text, rule);
      const pieces: string[] = [];
      for (let step = windows.next(); ; step = windows.next()) {
        pieces.push(step.value);
        if (step.done === true) break;
      }
      expect(pieces.flatMap((piece) => tokenizeWords(piece, rule)), `${rule}`).toEqual(tokenizeWords(text, rule));
    }
  });

  it('says what it reads as one token where a token is too long to hold', () => {
    for (const run of ['١٢٬٣٤٥٬٦٧٨٫٩', 'צה״ל׳ת״א׳בג', `ab${RLM}cd${LRM}ef${ALM}gh`]) {
      expect(readAsLongFile(`ab ${run}`, 2).flat()).toContain('ab');
      expect(() => readAsLongFile(`ab ${run}`, 3)).toThrow(/^long\.txt: a token of more than 8 characters \(under word rules version 3: letters, marks and digits joined by ' ’ - ׳ ״ . , ٫ ٬ /);
    }
  });
});

describe('a vocabulary\'s tokenizer rules', () => {
  const tokens = [EOS_TOKEN, UNK_TOKEN, '👨', '\u200d', '👩', '👧', FAMILY, 'می', '\u200c', 'خواهم', WANT];
  const ids = (vocab: Vocabulary, text: string): string[] => Array.from(vocab.encode(text), (id) => vocab.tokens[id]!);

  it('cut the text it encodes: a version 1 vocabulary as version 1 does, a version 2 one whole', () => {
    const old = Vocabulary.fromTokens(tokens, 'word', 1);
    const current = Vocabulary.fromTokens(tokens, 'word');
    expect([old.wordRule, current.wordRule]).toEqual([1, WORD_RULE_VERSION]);
    expect(ids(old, `${FAMILY} ${WANT}`)).toEqual(['👨', '\u200d', '👩', '\u200d', '👧', 'می', '\u200c', 'خواهم']);
    expect(ids(current, `${FAMILY} ${WANT}`)).toEqual([FAMILY, WANT]);
    expect(old.tokenize(PRIDE).unknown.length).toBe(3); // 🏳, U+FE0F, U+200D, 🌈: all but the joiner unknown
    expect(current.tokenize(PRIDE).unknown.length).toBe(1);
    expect(old.withTokens(['🏳']).wordRule).toBe(1);
    expect(ids(old.withTokens(['🏳']), '🏳️')).toEqual(['🏳', UNK_TOKEN]);
  });

  it('cut the text it encodes: a version 2 vocabulary as version 2 does, a version 3 one as version 3', () => {
    const words = [EOS_TOKEN, UNK_TOKEN, '١٢', '٬', '٥٠٠', '١٢٬٥٠٠', 'צה', '״', 'ל', 'צה״ל'];
    const [old, current] = [Vocabulary.fromTokens(words, 'word', 2), Vocabulary.fromTokens(words, 'word')];
    expect([old.wordRule, current.wordRule]).toEqual([2, 3]);
    expect(ids(old, '١٢٬٥٠٠ צה״ל')).toEqual(['١٢', '٬', '٥٠٠', 'צה', '״', 'ל']);
    expect(ids(current, '١٢٬٥٠٠ צה״ל')).toEqual(['١٢٬٥٠٠', 'צה״ל']);
    expect(old.withTokens(['x']).wordRule).toBe(2);
  });

  it('stay with the ids of data read with another vocabulary by symbol', () => {
    const data = loadCorpusData([CORPUS], 'file', { valFrac: 0.2, minCount: 1, vocab: checkpointVocabulary(loadCheckpoint(STEP3)) });
    expect(data.vocab.wordRule).toBe(1);
    const other = Vocabulary.fromTokens([EOS_TOKEN, UNK_TOKEN, '👨', 'the'], 'word', 2);
    const read = withVocabulary(data, other, { unknownTokens: 'count', minCount: 1 });
    expect(read.vocab.wordRule).toBe(1);
    expect(read.vocab.tokens).toEqual(other.tokens);
    expect(Array.from(read.train).filter((id) => id !== UNK).length).toBeGreaterThan(0);
  });
});

describe('a checkpoint cut under tokenizer rules version 1', () => {
  it('reads its corpus as the rnn that wrote it did: the same fingerprint, the same ids', () => {
    const ckpt = loadCheckpoint(STEP3);
    expect(ckpt.config.training.wordRule).toBe(1);
    const options = { valFrac: 0.2, minCount: 1 };
    const old = loadCorpusData([CORPUS], 'file', { ...options, vocab: checkpointVocabulary(ckpt) });
    expect(old.fingerprint).toMatchObject({ sha256: ckpt.corpus!.sha256, totalTokens: 185, trainTokens: 148 });
    const fresh = loadCorpusData([CORPUS], 'file', { ...options, level: 'word' });
    expect(fresh.vocab.wordRule).toBe(3);
    expect(fresh.vocab.tokens).toContain(FAMILY);
    expect(fresh.fingerprint.totalTokens).toBeLessThan(185);
    expect(fresh.fingerprint.sha256).not.toBe(ckpt.corpus!.sha256);
  });

  it('reads under version 2 where it records version 2: a prime with a Hebrew abbreviation as version 2 cuts it', () => {
    const { sha256: _, ...ckpt } = readCheckpointJson(STEP3);
    const recorded = { ...ckpt, config: { ...ckpt.config, training: { ...ckpt.config.training, wordRule: 2 } } };
    const vocab = checkpointVocabulary(parseCheckpoint({ ...recorded, sha256: contentChecksum(recorded) }, 'rule2.json'));
    expect(vocab.wordRule).toBe(2);
    expect(vocab.tokenize('the צה״ל').unknown).toEqual(['צה', '״', 'ל']);
  });

  it('tokenizes a prime or a text to score as it was trained to: a ZWJ sequence as its code points', () => {
    const model = loadModel(STEP3);
    expect(model.vocab.wordRule).toBe(1);
    expect(Array.from(model.vocab.encode(FAMILY), (id) => model.vocab.tokens[id])).toEqual(['👨', '\u200d', '👩', '\u200d', '👧']);
  });

  it('resumes under version 1 to the weights the rnn that wrote it reached', async () => {
    const out = scratch.folder();
    const run = await rnnIn(out, ['train', CORPUS, '--resume', STEP3, '--max-steps', '6', '--out', out]);
    expect(run.stderr).not.toMatch(/^rnn: /m);
    expect(run.status).toBe(0);
    const resumed = readCheckpointJson(join(out, 'latest.json'));
    const before = readCheckpointJson(join(FIXTURES, 'step6.json'));
    expect(resumed.config.training.wordRule).toBe(1);
    expect(resumed.corpus).toEqual({ ...before.corpus, files: resumed.corpus!.files });
    expect(resumed.vocab).toEqual(before.vocab);
    expect(resumed.weights).toEqual(before.weights);
    expect(resumed.optimizer).toEqual(before.optimizer);
  });

  it('says so in rnn info, and its exports and imports keep the version', async () => {
    const out = scratch.folder();
    const info = await rnnIn(out, ['info', STEP3]);
    expect(info.stdout).toMatch(/\nlevel +word \(tokenizer rules version 1\)\n/);
    const state = join(out, 'model.json'), weights = join(out, 'model.safetensors');
    exportState(STEP3, state);
    exportState(STEP3, weights);
    const exported = JSON.parse(readFileSync(state, 'utf8')) as { config: { word_rule: number } };
    expect(exported.config.word_rule).toBe(1);
    expect(fromInteropState(exported, state).wordRule).toBe(1);
    expect(fromSafetensors(readFileSync(weights), weights).wordRule).toBe(1);
    const imported = join(out, 'imported.json');
    const run = await rnnIn(out, ['import', state, '--out', imported]);
    expect(run.status).toBe(0);
    expect(loadModel(imported).vocab.wordRule).toBe(1);
  });

  it('is fine-tuned under the current rules, which the new run records', async () => {
    const out = scratch.folder();
    const run = await rnnIn(out, ['train', CORPUS, '--init-from', STEP3, '--max-steps', '2', '--seq-len', '8', '--batch', '2',
      '--kernels', 'js', '--workers', '1', '--extend-vocab', '--out', out]);
    expect(run.status).toBe(0);
    expect(run.stderr).toMatch(/14 added: "👨‍👩‍👧" /);
    const tuned = readCheckpointJson(join(out, 'latest.json'));
    expect(tuned.config.training.wordRule).toBe(3);
    expect(tuned.vocab).toContain(FAMILY);
  });
});

describe('a prepared folder\'s tokenizer rules', () => {
  it('are recorded in its meta.json, and its vocabulary reads text under them', async () => {
    const out = scratch.folder();
    const { meta } = await writePreparedFolder([CORPUS], { level: 'word', docs: 'file', valFrac: 0.2, minCount: 1 }, out);
    expect(meta.wordRule).toBe(3);
    expect(meta.vocab).toContain(FAMILY);
    expect(readPreparedData(out).vocab.wordRule).toBe(3);
    const metaPath = join(out, 'meta.json');
    writeFileSync(metaPath, JSON.stringify({ ...meta, wordRule: 1 satisfies WordRule }));
    expect(readPreparedData(out).vocab.wordRule).toBe(1);
  });

  it('are version 2 where its meta.json says so, and its vocabulary reads text as version 2 cuts it', async () => {
    const out = scratch.folder();
    const { meta } = await writePreparedFolder([CORPUS], { level: 'word', docs: 'file', valFrac: 0.2, minCount: 1 }, out);
    writeFileSync(join(out, 'meta.json'), JSON.stringify({ ...meta, wordRule: 2 satisfies WordRule }));
    const { vocab } = readPreparedData(out);
    expect(vocab.wordRule).toBe(2);
    expect(vocab.tokenize('the ١٢٬٥٠٠').unknown).toEqual(['١٢', '٬', '٥٠٠']);
  });
});
