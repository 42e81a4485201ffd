import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { exportState, importState } from '../src/checkpoint/convert.js';
import * as files from '../src/checkpoint/files.js';
import { writePreparedFolder } from '../src/checkpoint/prepared.js';
import { userMessage } from '../src/cli/errors.js';
import { loadModel } from '../src/checkpoint/load.js';
import { sampleText } from '../src/generate/sample.js';
import { scoreTokens } from '../src/generate/score.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { skipRunOutput } from '../src/train/data.js';
import { fineTuneStart, loadBaseModel, loadFineTuneData } from '../src/train/finetune.js';
import { freshSettings, parseOptions, type TrainOptions } from '../src/train/options.js';
import { type TrainResult, train } from '../src/train/trainer.js';
import { expectOneLineError, ROOT, rnnIn } from './helpers/cli.js';
import { scratchFolder, sha256Of } from './helpers/files.js';
import { speeches } from './helpers/speeches.js';
import { trainUntilStep } from './helpers/train.js';

// runs the CLI too, a process per refused case

const scratch = scratchFolder('rnn-finetune-');
const { dir } = scratch;
/** Prose (the bundled speeches) for the base model, and verse for it to be fine-tuned on. */
let prose: string;
let verse: string;
let base: TrainResult;
/** A base that read the prose a line to a document (--docs line): its vocabulary has no line break. */
let lineBase: TrainResult;

/** Small enough for seconds on two cores, large enough to learn the letters of English in a few hundred steps. */
const SMALL: TrainOptions = { cell: 'gru', layers: 1, hidden: 64, embed: 16, batch: 8, seqLen: 32, workers: 1, lr: 3e-3, evalEvery: 0 };

let outCount = 0;
const freshOut = (): string => join(dir, `run-${++outCount}`);
const textFile = (name: string, text: string): string => scratch.file(text, name);

beforeAll(async () => {
  prose = textFile('prose.txt', speeches(40_000));
  verse = join(ROOT, 'test', 'fixtures', 'finetune', 'sonnets.txt');
  base = await train({ ...SMALL, maxSteps: 300, out: freshOut() }, [prose]);
  lineBase = await train({ ...SMALL, docs: 'line', maxSteps: 2, out: freshOut() }, [prose]);
});

describe('fine-tuning', () => {
  // Measured: after 40 steps on the sonnets the fine-tuned model's validation loss is 2.34
  // nats/char, the model from scratch's 3.02 (uniform guessing over its 58 tokens: ln 58 = 4.06).
  it('reaches a lower validation loss than the same model from scratch after the same steps', async () => {
    const steps = { ...SMALL, maxSteps: 40 };
    const tuned = await train({ ...steps, initFrom: base.latest, seed: 1, out: freshOut() }, [verse]);
    const scratch = await train({ ...steps, seed: 1, out: freshOut() }, [verse]);
    expect(tuned.step).toBe(40);
    expect(tuned.valLoss!).toBeLessThan(scratch.valLoss! - 0.5);
  });

  it('reads a text whose characters are a subset, in another order, with the base model\'s ids', () => {
    const model = loadBaseModel(base.latest);
    // every other character of the base's, last first
    const line = model.vocab.tokens.slice(2).filter((_, i) => i % 2 === 1).reverse().join('');
    const text = textFile('subset.txt', `${line}\n`.repeat(40));
    const settings = freshSettings(parseOptions({ ...SMALL }));
    const data = loadFineTuneData([text], settings, model, false, skipRunOutput(null, []));
    expect(data.vocab.tokens).toEqual(model.vocab.tokens);
    const ids = [...data.train, ...data.val];
    const expected = [0, ...model.vocab.encode(`${line}\n`.repeat(40)), 0];
    expect(ids).toEqual(expected);
    // a vocabulary of its own would give the text's first character id 2 or so; the base's is its place among the prose's characters
    const first = [...line][0]!;
    expect(data.vocab.idOf(first)).toBe(model.vocab.tokens.indexOf(first));
    expect(data.vocab.idOf(first)).toBeGreaterThan(20);
    expect(data.unknown).toEqual({ occurrences: 0, distinct: 0, top: [], lineBreaks: 0 });
    // without new tokens the run starts from the base's weights exactly
    const start = fineTuneStart(model, data, { ...model.file.model.config }, settings, false);
    expect(start.params).toEqual(model.file.model.params);
    expect(start.optimizer.step).toBe(0);
    expect(start.progress.step).toBe(0);
  });

  it('reads characters the base lacks as <UNK>, with one warning naming the most frequent', async () => {
    const text = textFile('unknown.txt', 'the cat sat on the mat ∞∞∞ and ¶ then ∞\n'.repeat(30));
    const warnings: string[] = [];
    const result = await train({ ...SMALL, initFrom: base.latest, maxSteps: 2, out: freshOut() }, [text], {
      onWarning: (warning) => warnings.push(warning.message),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^150 of the text's 1,200 characters \(13%\) read as <UNK>: 2 distinct characters .* lacks, most often "∞" ×120, "¶" ×30; extendVocab adds them$/);
    expect(loadCheckpoint(result.latest).vocab).toEqual(loadCheckpoint(base.latest).vocab);
  });

  it('groups each token\'s count in the <UNK> warning as every count is written: ×1,200', async () => {
    const text = textFile('thousands-unknown.txt', 'the cat ∞∞∞∞ sat ¶\n'.repeat(300));
    const warnings: string[] = [];
    await train({ ...SMALL, initFrom: base.latest, maxSteps: 1, out: freshOut() }, [text], {
      onWarning: (warning) => warnings.push(warning.message),
    });
    expect(warnings).toEqual([expect.stringMatching(/^1,500 of the text's 5,700 characters \(26%\) read as <UNK>: .*, most often "∞" ×1,200, "¶" ×300; /)]);
  });

  it('says a text that reads wholly as <UNK> is 100% of it, written as a percentage', async () => {
    const text = textFile('all-unknown.txt', '∞¶'.repeat(600));
    const warnings: string[] = [];
    await train({ ...SMALL, initFrom: base.latest, maxSteps: 1, out: freshOut() }, [text], {
      onWarning: (warning) => warnings.push(warning.message),
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^1,200 of the text's 1,200 characters \(100%\) read as <UNK>: /);
  });

  it('--extend-vocab adds exactly the new characters, starts from the base\'s loss on the known ones, and can sample them', async () => {
    const line = 'Shall I compare thee to a summer’s day, thou art more lovely and more temperate ∞\n';
    const text = textFile('extend.txt', line.repeat(60));
    const baseModel = loadBaseModel(base.latest);
    const known = new Set(baseModel.vocab.tokens);
    const fresh = [...new Set(line)].filter((ch) => !known.has(ch)).sort();
    expect(fresh).toHaveLength(2);

    const result = await train({ ...SMALL, initFrom: base.latest, extendVocab: true, maxSteps: 1, lr: 1e-9, out: freshOut() }, [text]);
    const tuned = loadModel(result.latest);
    const tokens = tuned.vocab.tokens;
    expect(tokens.filter((t) => !known.has(t)).sort()).toEqual(fresh);
    expect(tokens.length).toBe(baseModel.vocab.size + fresh.length);
    // every known token keeps its rows (moved to its new id): the embeddings of 'a' agree
    const E = SMALL.embed!;
    const rowOf = (params: Float32Array, id: number) => [...params.subarray(id * E, (id + 1) * E)];
    const a = baseModel.vocab.idOf('a');
    expect(rowOf(tuned.params, tuned.vocab.idOf('a'))).toEqual(rowOf(baseModel.file.model.params, a));
    // an added character starts at the mean embedding of the base's characters, its reserved tokens left out
    const characters = baseModel.vocab.tokens.flatMap((token, id) => (token === '<EOS>' || token === '<UNK>' ? [] : [id]));
    const meanRow = Array.from({ length: E }, (_, e) =>
      characters.reduce((sum, id) => sum + baseModel.file.model.params[id * E + e]!, 0) / characters.length);
    rowOf(tuned.params, tuned.vocab.idOf(fresh[0]!)).forEach((x, e) => expect(x).toBeCloseTo(meanRow[e]!, 5));

    // on text with only known characters, the extended model scores within −log(1 − F) of the base (F: the added share)
    const check = 'Thou art more lovely and more temperate, and the winds do shake the buds of May.';
    const before = scoreTokens(baseModel.file.model.config, baseModel.file.model.params, baseModel.vocab.encode(check));
    const after = scoreTokens(tuned.config, tuned.params, tuned.vocab.encode(check));
    const share = 2 / line.length; // ’ and ∞: the added characters of each line
    // The added rows take about F of the probability at every position, so the loss on known
    // characters rises by about −log(1 − F): by more where the base's softmax sum Z_t is below its
    // mean, by less where above (measured: 0.030 for −log(1 − F) = 0.025).
    const rise = after.lossSum / after.tokens - before.lossSum / before.tokens;
    expect(rise).toBeGreaterThan(-0.5 * Math.log(1 - share));
    expect(rise).toBeLessThan(-1.5 * Math.log(1 - share));

    const sample = sampleText({ config: tuned.config, params: tuned.params, vocab: tuned.vocab, length: 2000, temperature: 1, seed: 3 });
    expect(sample).toContain('∞');
  });

  it('--vocab-size on a character-level base is refused with advice that a run then takes: --extend-vocab with --min-count', async () => {
    const options = { ...SMALL, initFrom: base.latest, maxSteps: 1 };
    const refused = await train({ ...options, vocabSize: 100, out: freshOut() }, [verse]).catch((e: unknown) => e);
    expect(userMessage(refused)).toMatch(/^--vocab-size applies to --level word only, and .* is a character-level model: a fine-tuned run keeps its vocabulary, /);
    expect(userMessage(refused)).toMatch(/, and --extend-vocab adds the text's characters it lacks \(those seen --min-count times or more\): leave --vocab-size out$/);
    expect((await train({ ...options, out: freshOut() }, [verse])).step).toBe(1);
    expect((await train({ ...options, extendVocab: true, minCount: 2, out: freshOut() }, [verse])).step).toBe(1);
  });

  it('--extend-vocab at the word level adds the most frequent new words, up to --vocab-size entries', async () => {
    const wordBase = await train({ ...SMALL, level: 'word', vocabSize: 300, maxSteps: 5, out: freshOut() }, [prose]);
    const baseVocab = loadCheckpoint(wordBase.latest).vocab;
    expect(baseVocab).toHaveLength(300);
    const options = { ...SMALL, initFrom: wordBase.latest, extendVocab: true, vocabSize: 320, maxSteps: 1, out: freshOut() };
    const warned = async (given: TrainOptions): Promise<{ vocab: string[]; warnings: string[] }> => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => void warnings.push(userMessage(warning)!);
      const result = await train({ ...given, out: freshOut() }, [verse], { onWarning });
      return { vocab: loadCheckpoint(result.latest).vocab, warnings };
    };
    const { vocab, warnings: capped } = await warned(options);
    expect(vocab).toHaveLength(320);
    expect(vocab.slice(0, 300)).toEqual(baseVocab);
    expect(vocab.slice(300)).toContain('thee');
    // with room for them all, every new word of the training part: the --vocab-size the warnings name
    const all = (await warned({ ...options, vocabSize: 100_000 })).vocab.length;
    expect(all).toBeGreaterThan(320);
    const addable = (all - 300).toLocaleString('en-US');
    expect(capped).toEqual([expect.stringMatching(new RegExp(`, up to --vocab-size 320 entries; give --vocab-size ${all} to add all ${addable}$`))]);
    // without a larger --vocab-size a full vocabulary takes nothing, and the warning says so
    const full = await warned({ ...options, vocabSize: undefined });
    expect(full.vocab).toEqual(baseVocab);
    expect(full.warnings).toEqual([expect.stringMatching(new RegExp('; --extend-vocab added none: the vocabulary is full at --vocab-size 300; ' +
      `give --vocab-size ${all} to add the ${addable} tokens of the training part seen --min-count 1 times or more$`))]);
    // a --vocab-size of the base's own size is no smaller than it: taken, adding none
    expect((await warned({ ...options, vocabSize: 300 })).vocab).toEqual(baseVocab);
    // a --vocab-size below the base's vocabulary is refused, the sizes written as every count is
    const largeBase = await train({ ...SMALL, level: 'word', vocabSize: 1_200, maxSteps: 1, out: freshOut() }, [prose]);
    expect(loadCheckpoint(largeBase.latest).vocab).toHaveLength(1_200);
    const refused = await train({ ...options, initFrom: largeBase.latest, vocabSize: 1_100 }, [verse]).catch((e: unknown) => e);
    expect(userMessage(refused)).toMatch(/^--vocab-size 1100 is smaller than .*'s 1,200-token vocabulary, which a fine-tuned model keeps whole: /);
  });

  it('--extend-vocab at the word level without --vocab-size fills the base\'s recorded --vocab-size where its vocabulary is smaller', async () => {
    const roomyBase = await train({ ...SMALL, level: 'word', vocabSize: 100_000, maxSteps: 1, out: freshOut() }, [prose]);
    const baseVocab = loadCheckpoint(roomyBase.latest).vocab;
    expect(baseVocab.length).toBeLessThan(100_000);
    const tuned = await train({ ...SMALL, initFrom: roomyBase.latest, extendVocab: true, maxSteps: 1, out: freshOut() }, [verse]);
    const vocab = loadCheckpoint(tuned.latest).vocab;
    expect(vocab.slice(0, baseVocab.length)).toEqual(baseVocab);
    expect(vocab.length).toBeGreaterThan(baseVocab.length);
  });

  it('--extend-vocab\'s advice on a vocabulary of 1,000 or more writes --vocab-size as the flag takes it: 1000, not 1,000', async () => {
    const words = (prefix: string, count: number): string => Array.from({ length: count }, (_, i) => `${prefix}${i}`).join(' ');
    const tiny = { ...SMALL, hidden: 4, embed: 2, batch: 2, seqLen: 8, level: 'word' as const, maxSteps: 1 };
    const corpus = textFile('thousand-words.txt', `${words('w', 1_100)}\n`.repeat(3));
    const wordBase = await train({ ...tiny, vocabSize: 1_000, out: freshOut() }, [corpus]);
    expect(loadCheckpoint(wordBase.latest).vocab).toHaveLength(1_000);
    const fresh = textFile('new-words.txt', `${words('new', 20)}\n`.repeat(10));
    const warned = async (vocabSize?: number): Promise<string[]> => {
      const warnings: string[] = [];
      const onWarning = (warning: Error) => void warnings.push(userMessage(warning)!);
      await train({ ...tiny, initFrom: wordBase.latest, extendVocab: true, vocabSize, out: freshOut() }, [fresh], { onWarning });
      return warnings;
    };
    // each line holds the 20 new words, so the training part holds them all: 1,020 entries take them
    expect(await warned()).toEqual([expect.stringMatching(
      /; --extend-vocab added none: the vocabulary is full at --vocab-size 1000; give --vocab-size 1020 to add the 20 tokens of the training part /)]);
    expect(await warned(1_005)).toEqual([expect.stringMatching(/, up to --vocab-size 1005 entries; give --vocab-size 1020 to add all 20$/)]);
  });

  it('reads the new text into documents as the base read its own (--docs), unless told otherwise where the vocabulary allows', async () => {
    const warnings: string[] = [];
    const tuned = await train({ ...SMALL, initFrom: lineBase.latest, maxSteps: 1, out: freshOut() }, [verse], {
      onWarning: (warning) => warnings.push(userMessage(warning)!),
    });
    const byLines = loadCheckpoint(tuned.latest);
    expect(byLines.corpus!.docs).toBe('line');
    expect(byLines.config.training.docs).toBe('line');
    expect(byLines.vocab).toEqual(loadCheckpoint(lineBase.latest).vocab);
    // the sonnets' roman numerals read as <UNK> in the prose's vocabulary, their line breaks as the ends of documents
    expect(warnings.filter((w) => w.includes('<UNK>') && w.includes('"\\n"'))).toEqual([]);
    // and so does a base exported (rnn-state/1 and .safetensors carry the rule)
    const dir = scratch.folder();
    for (const name of ['line.json', 'line.safetensors']) {
      const exported = join(dir, name);
      const format = name.endsWith('.json') ? 'torch' : 'safetensors';
      expect((await rnnIn(dir, ['export', lineBase.latest, '--format', format, '--out', exported])).status).toBe(0);
      const fromExported = await train({ ...SMALL, initFrom: exported, maxSteps: 1, out: freshOut() }, [verse]);
      expect(loadCheckpoint(fromExported.latest).corpus!.docs, name).toBe('line');
    }
    // a base whose vocabulary has the line break reads a text by any rule
    const fromWhole = await train({ ...SMALL, initFrom: base.latest, docs: 'line', maxSteps: 1, out: freshOut() }, [verse]);
    expect(loadCheckpoint(fromWhole.latest).corpus!.docs).toBe('line');
    // and one without reads a text whose documents hold line breaks once --extend-vocab adds it
    const extended = await train({ ...SMALL, initFrom: lineBase.latest, docs: 'blank', extendVocab: true, maxSteps: 1, out: freshOut() }, [verse]);
    expect(loadCheckpoint(extended.latest).corpus!.docs).toBe('blank');
    expect(loadCheckpoint(extended.latest).vocab).toContain('\n');
    // a prepared folder's documents are cut already: its rule is refused as a flag is
    const folder = join(dir, 'prepared-whole-files');
    await writePreparedFolder([verse], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, folder);
    const refused = await train({ ...SMALL, initFrom: lineBase.latest, maxSteps: 1, out: freshOut() }, [folder]).catch((e: unknown) => e);
    expect(userMessage(refused)).toMatch(new RegExp(`^the prepared folder ${folder} is cut by --docs file: its documents hold [\\d,]+ line breaks, and .* ` +
      'reads documents by --docs line and has no line break in its vocabulary, so each would be <UNK>: prepare the corpus again with --docs line, ' +
      'or add --extend-vocab to add the line break$'));
  });

  it('cuts the new text under the newest sentence and word rules, whatever versions the base was cut under, and records them', async () => {
    const sentenceBase = await train({ ...SMALL, level: 'word', docs: 'sentence', vocabSize: 200, maxSteps: 1, out: freshOut() }, [prose]);
    const folder = scratch.folder();
    const exported = join(folder, 'sentences.json');
    expect((await rnnIn(folder, ['export', sentenceBase.latest, '--out', exported])).status).toBe(0);
    // as an export of an rnn with version 1 of both would have it
    const state = JSON.parse(readFileSync(exported, 'utf8')) as { config: Record<string, unknown> };
    const older = join(folder, 'sentences-v1.json');
    writeFileSync(older, JSON.stringify({ ...state, config: { ...state.config, sentence_rule: 1, word_rule: 1 } }));
    const tuned = loadCheckpoint((await train({ ...SMALL, initFrom: older, maxSteps: 1, out: freshOut() }, [verse])).latest);
    expect(tuned.corpus!.docs).toBe('sentence');
    expect(tuned.corpus!.sentenceRule).toBe(SENTENCE_RULE_VERSION);
    expect(tuned.config.training.wordRule).toBe(WORD_RULE_VERSION);
  });

  it('takes any --docs for a base without the line break where the documents it cuts hold none, and names how many it refuses', async () => {
    // one long line, no line break anywhere: no rule puts a line break inside a document
    const unbroken = textFile('unbroken.txt', speeches(6_000).replace(/\s+/g, ' '));
    for (const docs of ['file', 'blank', 'sentence'] as const) {
      const warnings: string[] = [];
      const tuned = await train({ ...SMALL, initFrom: lineBase.latest, docs, maxSteps: 1, out: freshOut() }, [unbroken], {
        onWarning: (warning) => warnings.push(userMessage(warning)!),
      });
      expect(loadCheckpoint(tuned.latest).corpus!.docs, docs).toBe(docs);
      expect(warnings.filter((w) => w.includes('"\\n"')), docs).toEqual([]);
    }
    const folder = join(scratch.folder(), 'prepared-unbroken');
    await writePreparedFolder([unbroken], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, folder);
    const fromFolder = await train({ ...SMALL, initFrom: lineBase.latest, maxSteps: 1, out: freshOut() }, [folder]);
    expect(loadCheckpoint(fromFolder.latest).corpus!.docs).toBe('file');
    // the sonnets' stanzas hold line breaks: refused, with how many
    const stanzaBreaks = readFileSync(verse, 'utf8').split(/\n[ \t]*\n/).map((stanza) => stanza.trim().split('\n').length - 1)
      .reduce((sum, n) => sum + n, 0);
    const refused = await train({ ...SMALL, initFrom: lineBase.latest, docs: 'blank', maxSteps: 1, out: freshOut() }, [verse]).catch((e: unknown) => e);
    expect(userMessage(refused)).toMatch(new RegExp(`^--docs blank: the documents it cuts the text into hold ${stanzaBreaks.toLocaleString('en-US')} line breaks, `));
  });

  it('where line breaks read as <UNK> in a base that reads documents by a rule, the warning says which --docs reads them', async () => {
    // a paragraph of one line each: the base's paragraphs (--docs blank) hold no line break, the sonnets' stanzas do
    const lines = textFile('one-line-paragraphs.txt', speeches(20_000).split('\n').filter((line) => line.trim() !== '').join('\n\n'));
    const blankBase = await train({ ...SMALL, docs: 'blank', maxSteps: 1, out: freshOut() }, [lines]);
    expect(loadCheckpoint(blankBase.latest).vocab).not.toContain('\n');
    const warnings: string[] = [];
    const tuned = await train({ ...SMALL, initFrom: blankBase.latest, maxSteps: 1, out: freshOut() }, [verse], {
      onWarning: (warning) => warnings.push(userMessage(warning)!),
    });
    expect(loadCheckpoint(tuned.latest).corpus!.docs).toBe('blank');
    expect(warnings.filter((w) => w.includes('<UNK>'))).toEqual([expect.stringMatching(new RegExp(
      '^[\\d,]+ of the text\'s [\\d,]+ characters \\([\\d.]+%\\) read as <UNK>: [\\d,]+ distinct characters? .* lacks, most often "\\\\n" ×\\d+.*; ' +
        '--docs line reads each line break as the end of a document \\(.*latest\\.json reads documents by --docs blank\\); --extend-vocab adds them$'))]);
  });

  it('records where it started; rnn info shows it, a resumed run keeps it, export and import carry the extended vocabulary', async () => {
    const text = textFile('lineage.txt', 'a line with ∞ in it\n'.repeat(80));
    const out = freshOut();
    const result = await train({ ...SMALL, initFrom: base.latest, extendVocab: true, keepOptimizer: true, maxSteps: 3, out }, [text]);
    const ckpt = loadCheckpoint(result.latest);
    const baseCkpt = loadCheckpoint(base.latest);
    // the tokens --extend-vocab added, as the start event lists them: added characters sort by code point among the base's,
    // so its vocabulary alone cannot tell which they are
    expect(ckpt.initFrom).toEqual({
      path: base.latest, sha256: sha256Of(base.latest), step: 300, added: ['∞'],
    });
    expect(ckpt.training.step).toBe(3);
    expect(ckpt.optimizer.step).toBe(baseCkpt.optimizer.step + 3); // --keep-optimizer: the base's moments go on
    expect(ckpt.vocab).toContain('∞');

    const resumed = await train({ resume: out, maxSteps: 5 }, []);
    expect(loadCheckpoint(resumed.latest).initFrom).toEqual(ckpt.initFrom);

    const info = await rnnIn(dir, ['info', resumed.latest]);
    expect(info.stdout).toMatch(new RegExp(`^started from +${base.latest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(step 300, sha256 [0-9a-f]{12}…\\)$`, 'm'));
    expect(info.stdout).toMatch(/^added +1 character to its base's vocabulary \(--extend-vocab\): "∞"$/m);
    const infoJson = JSON.parse((await rnnIn(dir, ['info', resumed.latest, '--json'])).stdout) as { initFrom: Record<string, unknown> };
    expect(infoJson.initFrom.added).toEqual(['∞']);
    const usage = readFileSync(join(ROOT, 'docs', 'usage.md'), 'utf8');
    const infoSection = usage.slice(usage.indexOf('## `rnn export`, `rnn import`, `rnn info`'), usage.indexOf('## `rnn plot'));
    expect(Object.keys(infoJson.initFrom).filter((name) => !infoSection.includes(`\`${name}\``))).toEqual([]);
    const exported = join(dir, 'lineage.safetensors');
    expect((await rnnIn(dir, ['export', resumed.latest, '--format', 'safetensors', '--out', exported])).status).toBe(0);
    const imported = join(dir, 'imported.json');
    expect((await rnnIn(dir, ['import', exported, '--out', imported])).status).toBe(0);
    expect(loadCheckpoint(imported).vocab).toEqual(ckpt.vocab);
    // an exported model is a base too: its lineage records no step
    const again = await train({ ...SMALL, initFrom: exported, maxSteps: 1, out: freshOut() }, [text]);
    expect(loadCheckpoint(again.latest).initFrom).toEqual({ path: exported, sha256: sha256Of(exported), step: null });
    // so is a model imported into a checkpoint (rnn import), trained elsewhere: its step 0 there is not how far it was trained
    const fromImported = await train({ ...SMALL, initFrom: imported, maxSteps: 1, out: freshOut() }, [text]);
    expect(loadCheckpoint(fromImported.latest).initFrom).toMatchObject({ path: imported, step: null });
    const importedInfo = await rnnIn(dir, ['info', fromImported.latest]);
    expect(importedInfo.stdout).toMatch(/^started from +.*imported\.json \(no training step recorded: an exported or imported model, sha256 [0-9a-f]{12}…\)$/m);
    // resumed, an imported model starts a run from its weights just as well: the run records it so, not as one from random weights,
    // from the one reading of its file
    const reads = vi.spyOn(files, 'readFileBytes');
    let resumedImported: TrainResult;
    try {
      resumedImported = await train({ resume: imported, maxSteps: 1, workers: 1, out: freshOut() }, [prose]);
      expect(reads.mock.calls.filter(([path]) => path === imported)).toHaveLength(1);
    } finally {
      reads.mockRestore();
    }
    expect(loadCheckpoint(resumedImported.latest).initFrom).toEqual({
      path: imported, sha256: sha256Of(imported), step: null,
    });
    expect((await rnnIn(dir, ['info', imported])).stdout).toMatch(
      /^training +none by rnn \(imported model: the steps it was trained elsewhere are not recorded\)$/m);
    // a run folder is its best.json
    const fromFolder = await train({ ...SMALL, initFrom: dirname(base.latest), maxSteps: 1, out: freshOut() }, [text]);
    expect(loadCheckpoint(fromFolder.latest).initFrom).toMatchObject({ path: join(dirname(base.latest), 'best.json'), step: 300 });
  });

  it('resumes an imported model on a prepared folder as on the text it was made from, warning of the tokens its vocabulary lacks', async () => {
    const exported = join(dir, 'to-import.safetensors');
    expect((await rnnIn(dir, ['export', base.latest, '--format', 'safetensors', '--out', exported])).status).toBe(0);
    const imported = join(dir, 'to-resume.json');
    expect((await rnnIn(dir, ['import', exported, '--out', imported])).status).toBe(0);
    // ∞ is no character of the base's text
    const text = textFile('imported-resume.txt', `${readFileSync(verse, 'utf8')}${'a line with ∞ in it\n'.repeat(40)}`);
    const prepared = join(dir, 'imported-prepared');
    await writePreparedFolder([text], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, prepared);
    const resumed = async (corpus: string) => {
      const warnings: string[] = [];
      const result = await train({ resume: imported, maxSteps: 3, out: freshOut() }, [corpus], {
        onWarning: (warning) => warnings.push(userMessage(warning)!),
      });
      return { ckpt: loadCheckpoint(result.latest), warnings, out: result.latest };
    };
    const fromText = await resumed(text), fromFolder = await resumed(prepared);
    expect(fromFolder.ckpt.weights).toEqual(fromText.ckpt.weights);
    expect(fromFolder.ckpt.history.map((h) => h.valLoss)).toEqual(fromText.ckpt.history.map((h) => h.valLoss));
    for (const { warnings } of [fromText, fromFolder]) {
      expect(warnings).toEqual([expect.stringMatching(new RegExp(
        '^[\\d,]+ of the text\'s [\\d,]+ characters \\([\\d.]+%\\) read as <UNK>: \\d+ distinct characters .*to-resume\\.json\'s vocabulary lacks, ' +
          'most often "∞" ×40, .*; a resumed run keeps its vocabulary: to add them, start a new run with --init-from .*to-resume\\.json --extend-vocab$'))]);
    }
    // the run records the folder and where it started: resumed again on it, it reads it as before
    const again = await train({ resume: fromFolder.out, maxSteps: 5 }, [prepared]);
    expect(again.step).toBe(5);
    const words = join(dir, 'imported-prepared-words');
    await writePreparedFolder([text], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 500 }, words);
    const otherLevel = await train({ resume: imported, maxSteps: 3, out: freshOut() }, [words]).catch((e: unknown) => e);
    expect(userMessage(otherLevel)).toMatch(
      /^the prepared folder .* holds word-level tokens, --resume \S*to-resume\.json is char-level: prepare the corpus again with --level char$/);
  });

  it('fine-tunes on a prepared folder as on the text it was made from, and resumes there', async () => {
    const text = textFile('prepared-source.txt', `${readFileSync(verse, 'utf8')}${'a line with ∞ in it\n'.repeat(40)}`);
    const prepared = join(dir, 'prepared');
    await writePreparedFolder([text], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, prepared);
    const options = { ...SMALL, initFrom: base.latest, extendVocab: true };
    const fromText = await train({ ...options, maxSteps: 6, out: freshOut() }, [text]);
    const out = freshOut();
    await trainUntilStep({ ...options, maxSteps: 6, out }, [prepared], 3);
    const fromFolder = await train({ resume: out }, [prepared]);
    expect(loadCheckpoint(fromFolder.latest).vocab).toEqual(loadCheckpoint(fromText.latest).vocab);
    expect(loadCheckpoint(fromFolder.latest).vocab).toContain('∞');
    expect(Array.from(fromFolder.params)).toEqual(Array.from(fromText.params));
    expect(fromFolder.valLoss).toBe(fromText.valLoss);

    const words = join(dir, 'prepared-words');
    await writePreparedFolder([text], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 500 }, words);
    const refused = await train({ ...options, maxSteps: 1, out: freshOut() }, [words]).catch((e: unknown) => e);
    expect(userMessage(refused)).toBe(`the prepared folder ${words} holds word-level tokens, --init-from ${base.latest} is char-level: ` +
      'prepare the corpus again with --level char');
  });

  it('resumes a run fine-tuned on a prepared folder on that folder, and scores its split there, with no corpus named', async () => {
    // the folder's 40 words read the rest of the verse as <UNK>, which the base's 300 words of prose partly have: the text read
    // again with the run's vocabulary would be other data
    const wordBase = await train({ ...SMALL, level: 'word', vocabSize: 300, maxSteps: 2, out: freshOut() }, [prose]);
    const folder = join(dir, 'prepared-few-words');
    await writePreparedFolder([verse], { level: 'word', docs: 'file', valFrac: 0.1, minCount: 1, vocabSize: 40 }, folder);
    const options = { ...SMALL, initFrom: wordBase.latest, maxSteps: 4, evalEvery: 2 };
    const whole = await train({ ...options, out: freshOut() }, [folder]);
    const out = freshOut();
    await trainUntilStep({ ...options, out }, [folder], 2);
    const resumed = await train({ resume: out }, []);
    expect(resumed.valLoss).toBe(whole.valLoss);
    expect(Array.from(resumed.params)).toEqual(Array.from(whole.params));
    const scored = await rnnIn(dir, ['eval', 'perplexity', '--checkpoint', resumed.latest, '--json', '--workers', '1']);
    expect(Math.abs((JSON.parse(scored.stdout) as { loss: number }).loss - resumed.valLoss!)).toBeLessThanOrEqual(1e-9);
    // --extend-vocab cannot add what the folder itself reads as <UNK>: said once, with what would
    const warnings: string[] = [];
    await train({ ...options, extendVocab: true, vocabSize: 400, maxSteps: 1, out: freshOut() }, [folder], {
      onWarning: (warning) => warnings.push(userMessage(warning)!),
    });
    expect(warnings.filter((w) => w.startsWith('--extend-vocab cannot add'))).toEqual([expect.stringMatching(new RegExp(
      `^--extend-vocab cannot add what the prepared folder .*prepared-few-words reads as <UNK>: its 40-token vocabulary \\(of [\\d,]+ ` +
        'distinct tokens; the other [\\d,]+, [\\d.]+% of the training text, read as <UNK>\\); prepare the corpus again with a larger --vocab-size to add them$'))]);

    renameSync(folder, `${folder}-moved`);
    const gone = await train({ resume: out }, []).catch((e: unknown) => e);
    expect(userMessage(gone)).toMatch(/was fine-tuned on the prepared folder .*prepared-few-words, which is gone: prepare its corpus into that folder again/);
    expect((await train({ resume: out, maxSteps: 5 }, [`${folder}-moved`])).step).toBe(5);
  });

  it('warns that a base a run is still writing is taken as saved now, and takes a base whose run has ended without a word', async () => {
    const out = freshOut();
    const running = await train({ ...SMALL, maxSteps: 2, out }, [prose]);
    const lock = `${running.latest}.lock`;
    const fineTune = async (): Promise<string[]> => {
      const warnings: string[] = [];
      await train({ ...SMALL, initFrom: out, maxSteps: 1, out: freshOut() }, [prose], {
        onWarning: (warning) => void warnings.push(userMessage(warning)!),
      });
      return warnings;
    };
    // the lock a live run holds on its output: this process's
    writeFileSync(lock, `${JSON.stringify({ pid: process.pid, host: hostname(), startedAt: '2026-12-06T10:00:00.000Z' })}\n`);
    expect(await fineTune()).toEqual([`--init-from ${join(out, 'best.json')} is still being written ` +
      `(a training run, pid ${process.pid} on ${hostname()}, since 2026-12-06T10:00:00.000Z): fine-tuning it as saved at step 2, ` +
      'which that run will replace as it goes on; to start from where it ends, wait for that run to end']);
    // a lock left by a process that has ended holds nothing
    writeFileSync(lock, `${JSON.stringify({ pid: 2 ** 22 + 1, host: hostname(), startedAt: '2026-12-06T10:00:00.000Z' })}\n`);
    expect(await fineTune()).toEqual([]);
  });

  it('refuses an --out that is the base\'s own run saying a fine-tuned run is a new one, and one it wrote before saying to resume it', async () => {
    const folder = dirname(base.latest);
    const saved = [base.latest, base.best!].map((path) => readFileSync(path));
    const onBase = await train({ ...SMALL, initFrom: folder, maxSteps: 1, out: folder }, [verse]).catch((err: unknown) => err);
    expect(userMessage(onBase)).toBe(`--out: ${base.latest} already exists and this run would overwrite it; ` +
      `it is the run --init-from ${base.best} comes from, and a fine-tuned run is a new run: choose another --out`);
    expect([base.latest, base.best!].map((path) => readFileSync(path))).toEqual(saved);
    // an output an earlier fine-tuned run wrote is that run, to go on with
    const out = freshOut();
    const tuned = await train({ ...SMALL, initFrom: folder, maxSteps: 1, out }, [verse]);
    const again = await train({ ...SMALL, initFrom: folder, maxSteps: 1, out }, [verse]).catch((err: unknown) => err);
    expect(userMessage(again)).toBe(`--out: ${tuned.latest} already exists and this run would overwrite it; ` +
      `resume it with --resume ${tuned.latest}, or choose another --out`);
  });

  it('refuses --extend-vocab and --keep-optimizer on a resumed fine-tuned run, saying it goes on with its own vocabulary and optimizer', async () => {
    const out = freshOut();
    const tuned = await train({ ...SMALL, initFrom: base.latest, extendVocab: true, maxSteps: 1, out }, [verse]);
    const before = readFileSync(tuned.latest);
    const what = { extendVocab: 'the vocabulary', keepOptimizer: 'the optimizer state' } as const;
    for (const key of ['extendVocab', 'keepOptimizer'] as const) {
      const flag = key === 'extendVocab' ? '--extend-vocab' : '--keep-optimizer';
      const refused = await train({ resume: out, [key]: true, maxSteps: 2 }, []).catch((err: unknown) => err);
      expect(userMessage(refused)).toBe(`${flag} applies to a new fine-tuned run (--init-from MODEL); --resume goes on with ` +
        `${what[key]} its checkpoint has: leave ${flag} out`);
    }
    expect(readFileSync(tuned.latest)).toEqual(before);
  });

  it('refuses what cannot work, in one line each', async () => {
    const wordBase = await train({ ...SMALL, level: 'word', vocabSize: 50, maxSteps: 1, out: freshOut() }, [prose]);
    const damaged = textFile('damaged.json', readFileSync(base.latest, 'utf8').replace('"step":300', '"step":301'));
    const exported = join(dir, 'state.json');
    exportState(base.latest, exported);
    const imported = join(dir, 'state-imported.json');
    importState(exported, imported, ['rnn', 'import'], false);
    const folder = join(dir, 'prepared-not-a-model');
    await writePreparedFolder([verse], { level: 'char', docs: 'file', valFrac: 0.1, minCount: 1 }, folder);
    // what examples/pytorch/train_ddp.py leaves: a folder with model.safetensors in it (and summary.json, which this test leaves out)
    const ddpResult = scratch.folder();
    exportState(base.latest, join(ddpResult, 'model.safetensors'));
    const cases: [string[], RegExp][] = [
      [['--init-from', wordBase.latest, '--level', 'char'],
        /^rnn: --level char contradicts .*, which has --level word: leave it out, a fine-tuned model keeps its base's architecture and level$/],
      [['--init-from', base.latest, '--hidden', '99', '--layers', '3', '--cell', 'gru'],
        /^rnn: --layers 3, --hidden 99 contradict .*, which has --layers 1, --hidden 64: leave them out, a fine-tuned model keeps its base's architecture and level$/],
      [['--init-from', damaged], /^rnn: .*damaged\.json: sha256 does not match the content: the file is damaged or was edited$/],
      [['--init-from', join(dir, 'missing.json')],
        /^rnn: --init-from: model file not found: .*missing\.json; give a checkpoint, a run folder \(its best\.json, else latest\.json\), or an rnn-state\/1 or \.safetensors file$/],
      [['--init-from', verse],
        /^rnn: --init-from .*sonnets\.txt is not a model file \(it begins "[^"]+\.\.\.\): give a checkpoint, a run folder \(its best\.json, else latest\.json\), or an rnn-state\/1 or \.safetensors file$/],
      [['--init-from', textFile('other.json', '{"a":1}\n')],
        /^rnn: --init-from .*other\.json is not a model file \(format is missing, expected "rnn-checkpoint\/1" or "rnn-state\/1"\): give a checkpoint, a run folder \(its best\.json, else latest\.json\), or an rnn-state\/1 or \.safetensors file$/],
      [['--init-from', textFile('broken.json', '{ not json')],
        /^rnn: --init-from .*broken\.json is not a model file \(not JSON: [^)]+ at position 2\b.*\): give a checkpoint, a run folder \(its best\.json, else latest\.json\), or an rnn-state\/1 or \.safetensors file$/],
      [['--init-from', folder],
        /^rnn: --init-from .*prepared-not-a-model is a folder with no checkpoint in it, neither best\.json nor latest\.json \(a prepared folder: data to train on, not a model\): give a checkpoint, a run folder \(its best\.json, else latest\.json\), or an rnn-state\/1 or \.safetensors file$/],
      [['--init-from', ddpResult],
        new RegExp(`^rnn: --init-from ${ddpResult} is a folder with no checkpoint in it, neither best\\.json nor latest\\.json, but a model file: give --init-from ${ddpResult}/model\\.safetensors$`)],
      [['--init-from', lineBase.latest, '--docs', 'blank'],
        /^rnn: --docs blank: the documents it cuts the text into hold [\d,]+ line breaks, and .* reads documents by --docs line and has no line break in its vocabulary, so each would be <UNK>: leave --docs out to read each line as a document, as it does, or add --extend-vocab to add the line break$/],
      [['--extend-vocab'], /^rnn: --extend-vocab applies to fine-tuning only: give --init-from MODEL with it$/],
      [['--init-from', base.latest, '--min-count', '3'],
        /^rnn: --min-count bounds --extend-vocab when fine-tuning \(the vocabulary is .*'s\): add --extend-vocab or leave it out$/],
      [['--init-from', wordBase.latest, '--vocab-size', '60'],
        /^rnn: --vocab-size bounds --extend-vocab when fine-tuning \(the vocabulary is .*'s\): add --extend-vocab or leave it out$/],
      [['--init-from', base.latest, '--resume', base.latest], /^rnn: --init-from starts a new run from a model, --resume goes on with one: give one of them$/],
      [['--init-from', exported, '--keep-optimizer'],
        /^rnn: --keep-optimizer: .*state\.json is an exported model, which holds no optimizer state; leave --keep-optimizer out$/],
      [['--init-from', imported, '--keep-optimizer'],
        /^rnn: --keep-optimizer: .*state-imported\.json is an imported model \(rnn import\), whose optimizer rnn never trained: its moments are zeros, as a fresh run's; leave --keep-optimizer out$/],
    ];
    const runs = await Promise.all(cases.map(([args]) => rnnIn(dir, ['train', verse, ...args, '--out', freshOut()])));
    runs.forEach((result, i) => expectOneLineError(result, cases[i]![1]));
  });
});
