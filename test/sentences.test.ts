import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCheckpoint, parseCheckpoint } from '../src/checkpoint/checkpoint.js';
import { checkpointVocabulary, modelFromCheckpoint } from '../src/checkpoint/load.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { importedCheckpoint } from '../src/checkpoint/convert.js';
import { contentChecksum } from '../src/checkpoint/integrity.js';
import { readPreparedData, readPreparedMeta, writePreparedFolder } from '../src/checkpoint/prepared.js';
import { CHUNK_BYTES, loadCorpusData } from '../src/text/corpus-stream.js';
import { splitDocuments } from '../src/text/documents.js';
import { SENTENCE_RULE_VERSION, splitSentences } from '../src/text/sentences.js';
import { ROOT, rnnIn } from './helpers/cli.js';
import { readCheckpointJson } from './helpers/checkpoint.js';
import { scratchFolder, sha256Of } from './helpers/files.js';

/*
 * The sentence rules' versions (`--docs sentence`, docs/words.md): version 2 ends sentences at
 * the terminators of other scripts too, version 1 is kept for what was cut under it.
 *
 * fixtures/sentence-rule-1 was written by rnn before the versions (commit 81970ef), whose rules
 * are version 1: step3.json is `rnn train corpus.txt --docs sentence --hidden 8 --layers 1
 * --embed 4 --seq-len 8 --batch 2 --kernels js --workers 1 --max-steps 3 --lr-schedule epoch`,
 * step6.json that run resumed to `--max-steps 6`. Its corpus reads as 275 tokens under either
 * version — each new end drops one space and adds one <EOS> — so only the rules tell the two
 * readings apart.
 */

const FIXTURES = join(ROOT, 'test', 'fixtures', 'sentence-rule-1');
const CORPUS = join(FIXTURES, 'corpus.txt');
const scratch = scratchFolder('rnn-sentences-');

describe('sentence rules version 2', () => {
  it('ends a sentence at the Chinese and Japanese terminators, white space after them or not', () => {
    expect(splitSentences('你好。今天天气很好！我们去公园吧？好的｡ 再见。')).toEqual(['你好。', '今天天气很好！', '我们去公园吧？', '好的｡', '再见。']);
    expect(splitSentences('「行こう。」彼は言った。本当？！うそ。。。')).toEqual(['「行こう。」', '彼は言った。', '本当？！', 'うそ。。。']);
    expect(splitSentences('“你好。”他说。（好。）')).toEqual(['“你好。”', '他说。', '（好。）']);
  });

  it('ends one at the Arabic question mark and full stop and at the Devanagari danda', () => {
    expect(splitSentences('مرحبا؟ كيف حالك؟ أنا بخير.')).toEqual(['مرحبا؟', 'كيف حالك؟', 'أنا بخير.']);
    expect(splitSentences('میں گھر گیا۔ وہ آیا۔')).toEqual(['میں گھر گیا۔', 'وہ آیا۔']);
    expect(splitSentences('यह एक वाक्य है। यह दूसरा है॥ और तीसरा।')).toEqual(['यह एक वाक्य है।', 'यह दूसरा है॥', 'और तीसरा।']);
  });

  it('ends one at ‼ and ⁇ in Latin text, but not before a lowercase letter', () => {
    expect(splitSentences('Wait‼ What⁇ Stop‼ now. Go‼')).toEqual(['Wait‼', 'What⁇', 'Stop‼ now.', 'Go‼']);
  });

  it('does not end one at a full-width dot before a digit', () => {
    expect(splitSentences('円周率は３．１４です．次へ')).toEqual(['円周率は３．１４です．', '次へ']);
    // nor where a closing mark comes between them, under each version that ends one at it
    for (const rule of [2, 3, 4] as const) {
      expect(splitSentences('「３．」１４です．次へ', rule), `${rule}`).toEqual(['「３．」１４です．', '次へ']);
    }
  });

  it('does not end one at the Greek question mark U+037E, which UAX #29 does not count as a terminator', () => {
    expect(splitSentences('Τι κάνεις\u037e Καλά.')).toEqual(['Τι κάνεις\u037e Καλά.']);
  });

  it('ends sentences only at Unicode sentence terminators', () => {
    const terminal = /^\p{Sentence_Terminal}$/u;
    const neverEnds = /^[\p{L}\p{M}\p{N}\p{Cn}\p{Co}\p{Cs}]$/u; // letters, marks, digits, unassigned, private, surrogates
    const ending: string[] = [];
    for (let code = 0; code <= 0x10ffff; code++) {
      const c = String.fromCodePoint(code);
      if (!neverEnds.test(c) && splitSentences(`Ab${c}Cd`).length > 1) ending.push(c);
    }
    expect(ending.filter((c) => !terminal.test(c))).toEqual([]);
    for (const c of ['。', '！', '？', '｡', '؟', '۔', '।', '॥', '‼', '⁇', '．', '։', '።']) expect(ending).toContain(c);
  });

  it('cuts text without the other terminators as version 1 does', () => {
    const texts = [
      readFileSync(join(ROOT, 'corpora', 'sotu.txt'), 'utf8'),
      'He said "Stop." Then he left. (It was late.) “Go!” she said. Use e.g. this. Mr. Smith came. 3.5 dollars.Really',
      '«Bonjour.» Il dit. ¿Qué? ¡Sí! Ça va… Oui. Τι κάνεις; Καλά. Wait... What?! No\nAll:\nSpeak!',
    ];
    for (const text of texts) {
      const cut = splitDocuments(text, 'sentence', 2);
      expect(cut.length).toBeGreaterThan(1);
      expect(cut).toEqual(splitDocuments(text, 'sentence', 1));
    }
  });

  it('is not version 1, which leaves the other terminators inside a sentence', () => {
    expect(splitSentences('你好。今天天气很好！ Yes. مرحبا؟ Fine.', 1)).toEqual(['你好。今天天气很好！ Yes.', 'مرحبا؟ Fine.']);
    expect(splitSentences('你好。今天天气很好！ Yes. مرحبا؟ Fine.', 2)).toEqual(['你好。', '今天天气很好！', 'Yes.', 'مرحبا؟', 'Fine.']);
  });
});

describe('sentence rules version 3', () => {
  it('ends a sentence inside any closing quotation mark or bracket after . ! or ?, where version 2 does not', () => {
    const texts: [string, string[]][] = [
      ['«Stop.» Then he left.', ['«Stop.»', 'Then he left.']],
      ['„Halt.“ Dann ging er.', ['„Halt.“', 'Dann ging er.']],
      ['‚Halt!‘ Dann ging er.', ['‚Halt!‘', 'Dann ging er.']],
      ['»Halt?« Dann ging er.', ['»Halt?«', 'Dann ging er.']],
      ['‹Non.› Puis il partit.', ['‹Non.›', 'Puis il partit.']],
      ['›Nej.‹ Så gik han.', ['›Nej.‹', 'Så gik han.']],
      ['See {this.} And ⟨that!⟩ Done.', ['See {this.}', 'And ⟨that!⟩', 'Done.']],
    ];
    for (const [text, sentences] of texts) {
      expect(splitSentences(text, 3), text).toEqual(sentences);
      expect(splitSentences(text, 2), text).toEqual([text]);
    }
  });

  it('keeps a sentence whole where a lowercase letter follows the closing mark, and keeps the ends version 2 has', () => {
    expect(splitSentences('«Stop.» then he left. „Halt.“ dann. (e.g.) this. Go.', 3)).toEqual(['«Stop.» then he left.', '„Halt.“ dann.', '(e.g.) this.', 'Go.']);
    const text = 'He said “Stop.” Then he left. He said "Stop." Then. (Yes.) Then. 「止まれ。」次へ。“你好。”他说。“我们走吧。”好。';
    const sentences =
      ['He said “Stop.”', 'Then he left.', 'He said "Stop."', 'Then.', '(Yes.)', 'Then.', '「止まれ。」', '次へ。', '“你好。”', '他说。', '“我们走吧。”', '好。'];
    expect(splitSentences(text, 3)).toEqual(sentences);
    expect(splitSentences(text, 2)).toEqual(sentences);
  });

  it('does not end one at a quotation mark that opens after a terminator with no white space after it', () => {
    expect(splitSentences('Er sagte.„Komm“ Dann.', 3)).toEqual(['Er sagte.„Komm“ Dann.']);
    expect(splitSentences('他说。“走吧。”', 3)).toEqual(['他说。', '“走吧。”']);
  });

  it('cuts text without those closing marks after a terminator as version 2 does', () => {
    for (const text of [readFileSync(join(ROOT, 'corpora', 'sotu.txt'), 'utf8'), readFileSync(CORPUS, 'utf8')]) {
      const cut = splitDocuments(text, 'sentence', 3);
      expect(cut.length).toBeGreaterThan(1);
      expect(cut).toEqual(splitDocuments(text, 'sentence', 2));
    }
  });
});

describe('sentence rules version 4', () => {
  it('is the version a new reading uses', () => {
    expect(SENTENCE_RULE_VERSION).toBe(4);
  });

  it('ends a sentence after a closing guillemet French sets a space before, where version 3 ends it before the guillemet', () => {
    for (const space of [' ', '\u00A0', '\u202F', '\u2009', '\u00A0 ', '  ']) {
      const texts: [string, string[], string[]][] = [
        [`«${space}Non.${space}» Puis il part.`, [`«${space}Non.${space}»`, 'Puis il part.'], [`«${space}Non.`, '» Puis il part.']],
        [`‹${space}Non !${space}› Puis.`, [`‹${space}Non !${space}›`, 'Puis.'], [`‹${space}Non !`, '› Puis.']],
        [`«${space}Quoi ?${space}» dit-il. Bon.`, [`«${space}Quoi ?${space}» dit-il.`, 'Bon.'], [`«${space}Quoi ?`, '» dit-il.', 'Bon.']],
      ];
      for (const [text, sentences, version3] of texts) {
        expect(splitSentences(text, 4), text).toEqual(sentences);
        expect(splitSentences(text, 3), text).toEqual(version3);
      }
    }
  });

  it('still starts the next sentence at a German or Danish quote that opens after an end', () => {
    for (const text of ['Er sagte. »Komm!« Dann ging er.', 'Han sagde. ›Kom!‹ Så gik han.', '« Non. »Puis']) {
      expect(splitSentences(text, 4), text).toEqual(splitSentences(text, 3));
    }
    expect(splitSentences('Er sagte. »Komm!« Dann ging er.', 4)).toEqual(['Er sagte.', '»Komm!«', 'Dann ging er.']);
  });

  it('ends a sentence across the Extend and Format characters after its end, which stay with it (UAX #29 SB5)', () => {
    const texts: [string, string[], string[]][] = [
      ['Stop.\u200F Then.', ['Stop.\u200F', 'Then.'], ['Stop.\u200F Then.']],
      ['Stop!\u200E Then.', ['Stop!\u200E', 'Then.'], ['Stop!\u200E Then.']],
      ['Stop?\u2060 Then.', ['Stop?\u2060', 'Then.'], ['Stop?\u2060 Then.']],
      ['Stop.\u200B Then.', ['Stop.\u200B', 'Then.'], ['Stop.\u200B Then.']],
      ['\u2068Stop.\u2069 Then.', ['\u2068Stop.\u2069', 'Then.'], ['\u2068Stop.\u2069 Then.']],
      ['“Stop.”\u200F Then. «Non.\u200F» Puis.', ['“Stop.”\u200F', 'Then.', '«Non.\u200F»', 'Puis.'], ['“Stop.”\u200F Then.', '«Non.\u200F» Puis.']],
      ['שלום.\u200F מה שלומך?', ['שלום.\u200F', 'מה שלומך?'], ['שלום.\u200F מה שלומך?']],
      ['مرحبا؟\u061C كيف حالك؟', ['مرحبا؟\u061C', 'كيف حالك؟'], ['مرحبا؟', '\u061C كيف حالك؟']],
      ['Wait‼\uFE0F What⁉\uFE0F Done', ['Wait‼\uFE0F', 'What⁉\uFE0F', 'Done'], ['Wait‼', '\uFE0F What⁉', '\uFE0F Done']],
      ['好。\u200B再见。', ['好。\u200B', '再见。'], ['好。', '\u200B再见。']],
      ['３．\u200B１４です．', ['３．\u200B１４です．'], ['３．', '\u200B１４です．']],
    ];
    for (const [text, sentences, version3] of texts) {
      expect(splitSentences(text, 4), text).toEqual(sentences);
      expect(splitSentences(text, 3), text).toEqual(version3);
    }
  });

  it('does not take a prepended concatenation mark, which comes before a number, as part of the end', () => {
    expect(splitSentences('Stop.\u0600 Then.', 4)).toEqual(['Stop.\u0600 Then.']);
    expect(splitSentences('مرحبا؟\u0600١٢', 4)).toEqual(['مرحبا؟', '\u0600١٢']);
  });

  it('keeps a sentence whole where a lowercase letter follows past Format characters, ¿ ¡ or a dash, where version 3 cuts it', () => {
    const texts: [string, string[], string[]][] = [
      ['—¿Vienes? —preguntó ella—. Es tarde.', ['—¿Vienes? —preguntó ella—.', 'Es tarde.'], ['—¿Vienes?', '—preguntó ella—.', 'Es tarde.']],
      ['¿Dónde estabas? ¿por qué no llamaste? Ya.', ['¿Dónde estabas? ¿por qué no llamaste?', 'Ya.'], ['¿Dónde estabas?', '¿por qué no llamaste?', 'Ya.']],
      ['¡Qué alegría! ¡cuánto tiempo!', ['¡Qué alegría! ¡cuánto tiempo!'], ['¡Qué alegría!', '¡cuánto tiempo!']],
      ['It was over. – or was it?', ['It was over. – or was it?'], ['It was over.', '– or was it?']],
      ['Stop. \u200Fthen go.', ['Stop. \u200Fthen go.'], ['Stop.', '\u200Fthen go.']],
    ];
    for (const [text, sentences, version3] of texts) {
      expect(splitSentences(text, 4), text).toEqual(sentences);
      expect(splitSentences(text, 3), text).toEqual(version3);
    }
    expect(splitSentences('¡Hola! ¿Qué tal? —Bien.', 4)).toEqual(['¡Hola!', '¿Qué tal?', '—Bien.']);
  });

  it('cuts a prime ending in a spaced closing guillemet as the whole text, one sentence that has not ended', () => {
    const { sha256: _, ...ckpt } = readCheckpointJson(join(FIXTURES, 'step3.json'));
    const vocab = checkpointVocabulary(parseCheckpoint({ ...ckpt, sha256: contentChecksum(ckpt) }, 'step3.json'));
    const version4 = vocab.withDocuments({ docs: 'sentence', sentenceRule: 4 });
    for (const text of ['« Non. »', 'Il dit. « Non. »']) {
      const whole = splitDocuments(text, 'sentence', 4);
      const read = version4.tokenize(text);
      expect(read.separators ?? [], text).toEqual(whole.slice(1).map(() => ' '));
      expect(read.primeTail, text).toBeUndefined();
    }
    expect(version4.tokenize('Er sagte. »Komm').separators).toEqual([' ']);
  });

  it('cuts text without those characters as version 3 does', () => {
    const texts = [readFileSync(join(ROOT, 'corpora', 'sotu.txt'), 'utf8'), readFileSync(CORPUS, 'utf8'),
      'He said “Stop.” Then he left. «Stop.» Then. „Halt.“ Dann. 「止まれ。」次へ。 ¿Qué? ¡Sí! Wait‼ What⁇ 3.5 dollars. Mr. Smith.'];
    for (const text of texts) {
      const cut = splitDocuments(text, 'sentence', 4);
      expect(cut.length).toBeGreaterThan(1);
      expect(cut).toEqual(splitDocuments(text, 'sentence', 3));
    }
  });

  it('leaves versions 1 to 3 cutting what version 4 cuts anew as they did', () => {
    const text = '« Non. » Puis. « Quoi ? » dit-il. Stop.\u200F Then. مرحبا؟\u061C كيف؟ —¿Vienes? —preguntó. Wait‼\uFE0F Go.';
    expect(splitSentences(text, 1)).toEqual(['« Non.', '» Puis.', '« Quoi ?', '» dit-il.', 'Stop.\u200F Then.', 'مرحبا؟\u061C كيف؟ —¿Vienes?',
      '—preguntó.', 'Wait‼\uFE0F Go.']);
    expect(splitSentences(text, 2)).toEqual(['« Non.', '» Puis.', '« Quoi ?', '» dit-il.', 'Stop.\u200F Then.', 'مرحبا؟', '\u061C كيف؟',
      '—¿Vienes?', '—preguntó.', 'Wait‼', '\uFE0F Go.']);
    expect(splitSentences(text, 3)).toEqual(splitSentences(text, 2));
    expect(splitSentences(text, 4)).toEqual(['« Non. »', 'Puis.', '« Quoi ? » dit-il.', 'Stop.\u200F', 'Then.', 'مرحبا؟\u061C', 'كيف؟',
      '—¿Vienes? —preguntó.', 'Wait‼\uFE0F', 'Go.']);
  });
});

describe('the sentence rules a corpus was read under', () => {
  const options = { valFrac: 0.1, minCount: 1 };
  const version1 = loadCorpusData([CORPUS], 'sentence', options, CHUNK_BYTES, undefined, 1);
  const version2 = loadCorpusData([CORPUS], 'sentence', options);

  it('are in the fingerprint, whose hash under version 1 is the one fingerprints made before the versions have', () => {
    const fileHash = sha256Of(CORPUS);
    const before = createHash('sha256').update(JSON.stringify({ files: [fileHash], docs: 'sentence', valFrac: 0.1 })).digest('hex');
    expect(version1.fingerprint).toMatchObject({ sentenceRule: 1, sha256: before, documents: 10, totalTokens: 275 });
    expect(version2.fingerprint).toMatchObject({ sentenceRule: 4, documents: 34, totalTokens: 275 });
    expect(version2.fingerprint.sha256).not.toBe(before);
    expect(version1.fingerprint.sha256).toBe(readCheckpointJson(join(FIXTURES, 'step3.json')).corpus!.sha256);
  });

  it('keep a corpus read under version 2 in version 2\'s sentences, as a resume of a version 2 checkpoint reads it', () => {
    const file = scratch.file('«Stop.» Then he left. „Halt.“ Dann ging er.\n');
    const read = (rule: 2 | 3) => loadCorpusData([file], 'sentence', options, CHUNK_BYTES, undefined, rule).fingerprint;
    expect(read(2)).toMatchObject({ sentenceRule: 2, documents: 2 });
    expect(read(3)).toMatchObject({ sentenceRule: 3, documents: 4 });
    expect(read(2).sha256).not.toBe(read(3).sha256);
  });

  it('are not recorded, nor hashed, for another documents mode', () => {
    const blank = loadCorpusData([CORPUS], 'blank', options);
    expect(blank.fingerprint.sentenceRule).toBeUndefined();
    expect(blank.fingerprint.sha256).toBe(loadCorpusData([CORPUS], 'blank', options, CHUNK_BYTES, undefined, 1).fingerprint.sha256);
  });
});

describe('a checkpoint\'s sentence rules', () => {
  const tiny = ['--hidden', '8', '--layers', '1', '--embed', '4', '--seq-len', '8', '--batch', '2', '--kernels', 'js', '--workers', '1'];

  it('resume a checkpoint that records none under version 1, as the rnn that wrote it did', async () => {
    const out = scratch.folder();
    const run = await rnnIn(out, ['train', CORPUS, '--resume', join(FIXTURES, 'step3.json'), '--max-steps', '6', '--out', out]);
    expect(run.stderr).not.toMatch(/^rnn: /m);
    expect(run.status).toBe(0);
    const resumed = readCheckpointJson(join(out, 'latest.json'));
    const before = readCheckpointJson(join(FIXTURES, 'step6.json'));
    expect(resumed.corpus).toEqual({ ...before.corpus, files: resumed.corpus!.files, sentenceRule: 1 });
    expect(resumed.weights).toEqual(before.weights);
    expect(resumed.optimizer).toEqual(before.optimizer);
    expect(resumed.training.carried).toEqual(before.training.carried);
    const losses = (ckpt: Checkpoint) => ckpt.history.map(({ seconds: _, ...entry }) => entry);
    expect(losses(resumed)).toEqual(losses(before));
  });

  it('are version 4 in a new run\'s checkpoint, which resumes under it', async () => {
    const out = scratch.folder();
    const first = await rnnIn(out, ['train', CORPUS, '--docs', 'sentence', ...tiny, '--max-steps', '3', '--lr-schedule', 'epoch', '--out', out]);
    expect(first.status).toBe(0);
    expect(readCheckpointJson(join(out, 'latest.json')).corpus).toMatchObject({ sentenceRule: 4, totalTokens: 275 });
    const resumed = await rnnIn(out, ['train', CORPUS, '--resume', join(out, 'latest.json'), '--max-steps', '6', '--out', out]);
    expect(resumed.status).toBe(0);
    expect(readCheckpointJson(join(out, 'latest.json')).corpus).toMatchObject({ sentenceRule: 4, sha256: expect.any(String) });
  });

  it('are version 2 where a checkpoint records version 2, and its model cuts a text it reads under them', () => {
    const { sha256: _, ...ckpt } = readCheckpointJson(join(FIXTURES, 'step3.json'));
    const recorded = { ...ckpt, corpus: { ...ckpt.corpus!, sentenceRule: 2 } };
    const vocab = checkpointVocabulary(parseCheckpoint({ ...recorded, sha256: contentChecksum(recorded) }, 'rule2.json'));
    expect(vocab.documents).toEqual({ docs: 'sentence', sentenceRule: 2 });
    expect(vocab.tokenize('«Stop.» Then.').separators).toBeUndefined();
    expect(vocab.withDocuments({ docs: 'sentence', sentenceRule: 3 }).tokenize('«Stop.» Then.').separators).toEqual([' ']);
  });

  it('refuse a checkpoint cut under rules newer than this rnn has, in one line', () => {
    const { sha256: _, ...ckpt } = readCheckpointJson(join(FIXTURES, 'step3.json'));
    const newer = { ...ckpt, corpus: { ...ckpt.corpus!, sentenceRule: SENTENCE_RULE_VERSION + 1 } };
    expect(() => parseCheckpoint({ ...newer, sha256: contentChecksum(newer) }, 'newer.json')).toThrow(
      `newer.json: corpus.sentenceRule is ${SENTENCE_RULE_VERSION + 1}: its sentences were cut by sentence rules version ` +
        `${SENTENCE_RULE_VERSION + 1}, newer than any this rnn has (versions 1 to ${SENTENCE_RULE_VERSION}): read it with a newer rnn`,
    );
  });

  it('are an imported model\'s file\'s, and one newer than this rnn has is refused in one line', () => {
    const imported = importedCheckpoint(modelFromCheckpoint(loadCheckpoint(join(FIXTURES, 'step3.json')), 'step3.json'), ['test']);
    expect([imported.corpus, imported.config.training.docs, imported.config.training.sentenceRule]).toEqual([null, 'sentence', 1]);
    const { sha256: _, ...ckpt } = imported;
    const newer = { ...ckpt, config: { ...ckpt.config, training: { ...ckpt.config.training, sentenceRule: SENTENCE_RULE_VERSION + 1 } } };
    expect(() => parseCheckpoint({ ...newer, sha256: contentChecksum(newer) }, 'newer.json')).toThrow(
      `newer.json: config.training.sentenceRule is ${SENTENCE_RULE_VERSION + 1}: its sentences were cut by sentence rules version ` +
        `${SENTENCE_RULE_VERSION + 1}, newer than any this rnn has (versions 1 to ${SENTENCE_RULE_VERSION}): read it with a newer rnn`,
    );
  });
});

describe('a prepared folder\'s sentence rules', () => {
  it('are recorded in its meta.json; one that records none was cut under version 1', async () => {
    const out = scratch.folder();
    const { meta } = await writePreparedFolder([CORPUS], { level: 'char', docs: 'sentence', valFrac: 0.1, minCount: 1 }, out);
    expect(meta.sentenceRule).toBe(4);
    expect(readPreparedData(out).fingerprint).toMatchObject({ sentenceRule: 4, documents: 34 });
    const metaPath = join(out, 'meta.json');
    const { sentenceRule: _, ...older } = JSON.parse(readFileSync(metaPath, 'utf8')) as Record<string, unknown>;
    writeFileSync(metaPath, JSON.stringify(older));
    expect(readPreparedData(out).fingerprint.sentenceRule).toBe(1);
    writeFileSync(metaPath, JSON.stringify({ ...older, sentenceRule: 2 }));
    expect(readPreparedData(out).fingerprint.sentenceRule).toBe(2);
    writeFileSync(metaPath, JSON.stringify({ ...older, sentenceRule: 5 }));
    expect(() => readPreparedMeta(out)).toThrow(/sentenceRule is 5: .* read it with a newer rnn$/);
  });

  it('are not recorded for another documents mode', async () => {
    const { meta } = await writePreparedFolder([CORPUS], { level: 'char', docs: 'line', valFrac: 0.1, minCount: 1 }, scratch.folder());
    expect(meta.sentenceRule).toBeUndefined();
  });
});
