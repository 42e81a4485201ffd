import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { Model } from '../src/api/index.js';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { exportState, importState } from '../src/checkpoint/convert.js';
import { loadModel } from '../src/checkpoint/load.js';
import { writePreparedFolder } from '../src/checkpoint/prepared.js';
import { detokenize } from '../src/text/detokenize.js';
import { type Spacing, SpacingMeasure } from '../src/text/spacing.js';
import { tokenizeWords, WORD_RULE_VERSION } from '../src/text/words.js';
import { type TrainResult, train } from '../src/train/trainer.js';
import { ROOT, rnnIn } from './helpers/cli.js';
import { prepareWhole, readCorpus } from './helpers/corpus.js';
import { scratchFolder } from './helpers/files.js';
import { FRENCH, FRENCH_SPACING, NBSP, NNBSP } from './helpers/french.js';
import { speeches } from './helpers/speeches.js';

vi.setConfig({ testTimeout: 60_000 });

/** The spacing `SpacingMeasure` finds in `documents`, each read whole as `wordUnits` hands it over. */
function measured(documents: readonly string[], docs: 'file' | 'sentence' = 'file'): Spacing {
  const measure = new SpacingMeasure(WORD_RULE_VERSION, docs);
  for (const document of documents) {
    measure.add(document, tokenizeWords(document));
    measure.endDocument();
  }
  return measure.spacing();
}

describe('the detokeniser with a spacing record', () => {
  const tokens = tokenizeWords('« Quoi ? » dit-il. Attention : non !');

  it('writes a recorded mark with its space, on the side recorded, and everything else as without one', () => {
    expect(detokenize(tokens)).toBe('«Quoi?» dit-il. Attention: non!');
    expect(detokenize(tokens, WORD_RULE_VERSION, FRENCH_SPACING))
      .toBe(`«${NBSP}Quoi${NNBSP}?${NBSP}» dit-il. Attention${NBSP}: non${NNBSP}!`);
    expect(detokenize(tokens, WORD_RULE_VERSION, { before: { '?': ' ' } })).toBe('«Quoi ?» dit-il. Attention: non!');
  });

  it('spaces nothing at a line start, and nothing a record does not name', () => {
    expect(detokenize(tokenizeWords('?\n« a » (b) c.'), WORD_RULE_VERSION, FRENCH_SPACING)).toBe(`?\n«${NBSP}a${NBSP}» (b) c.`);
  });
});

describe('measuring a corpus\'s spacing', () => {
  it('records the marks French spaces, each with the space it uses most, and none it writes against the word', () => {
    expect(measured(FRENCH.split('\n'))).toEqual(FRENCH_SPACING);
    // the same text cut into sentences: a mark at a document's start or end has no neighbour there
    expect(measured([FRENCH], 'sentence')).toEqual(FRENCH_SPACING);
  });

  it('records a mark spaced in more than half of five occurrences or more, within a line', () => {
    const marks = (spaced: number, joined: number) => [...Array(spaced).fill('a ?'), ...Array(joined).fill('a?')].join(' ');
    expect(measured([marks(3, 2)])).toEqual({ before: { '?': ' ' } });
    expect(measured([marks(4, 0)])).toEqual({});
    expect(measured([marks(3, 3)])).toEqual({});
    // a mark that begins a line has no neighbour before it
    expect(measured([Array(6).fill('a\n? b').join('\n')])).toEqual({});
  });

  it('records, of two spaces a mark has as often, the one with the lower code point', () => {
    const text = Array.from({ length: 6 }, (_, i) => `Quoi${i % 2 === 0 ? NNBSP : NBSP}? Oui.`).join('\n');
    expect(measured([text]).before?.['?']).toBe(NBSP);
  });

  it('carries white space across the pieces a text comes in', () => {
    const measure = new SpacingMeasure(WORD_RULE_VERSION, 'file');
    for (let i = 0; i < 5; i++) {
      measure.add('Quoi ', ['Quoi']);
      measure.add('?', ['?']);
    }
    measure.endDocument();
    expect(measure.spacing()).toEqual({ before: { '?': ' ' } });
  });

  it('records a tab as the space a mark has, and white space that is no space separator nor tab as a space', () => {
    expect(measured([Array(5).fill('Quoi\t? Oui.').join('\n')])).toEqual({ before: { '?': '\t' } });
    expect(measured([Array(5).fill('Quoi\f? Oui.').join('\n')])).toEqual({ before: { '?': ' ' } });
  });

  it('records the first character of the white space before a mark, however many pieces the white space runs over', () => {
    /** The spacing measured in five `Quoi ?`, each handed over in `pieces`, each piece cut on its own. */
    const inPieces = (...pieces: string[]): Spacing => {
      const measure = new SpacingMeasure(WORD_RULE_VERSION, 'file');
      for (let i = 0; i < 5; i++) for (const piece of [...pieces, ' ']) measure.add(piece, tokenizeWords(piece));
      measure.endDocument();
      return measure.spacing();
    };
    expect(inPieces(`Quoi${NNBSP} ?`)).toEqual({ before: { '?': NNBSP } });
    expect(inPieces(`Quoi${NNBSP} `, '?')).toEqual({ before: { '?': NNBSP } });
    expect(inPieces('Quoi', NNBSP, ' ?')).toEqual({ before: { '?': NNBSP } });
    expect(inPieces('Quoi', NNBSP, ' ', '?')).toEqual({ before: { '?': NNBSP } });
  });

  it('records the space before a Spanish dialogue dash that the corpus spaces', () => {
    const dialogue = Array(5).fill('—¿Vienes? —preguntó.').join('\n');
    expect(measured([dialogue])).toEqual({ before: { '—': ' ' } });
    expect(detokenize(tokenizeWords('—¿Vienes? —preguntó.'), WORD_RULE_VERSION, { before: { '—': ' ' } })).toBe('—¿Vienes? —preguntó.');
  });

  it('records the space after a section sign that the corpus spaces off its number, and writes it back so', () => {
    const sections = Array(5).fill('under § 3 and § 4.1').join('\n');
    expect(measured([sections])).toEqual({ after: { '§': ' ' } });
    expect(detokenize(tokenizeWords('see § 12'), WORD_RULE_VERSION, { after: { '§': ' ' } })).toBe('see § 12');
    expect(measured([sections.replace(/§ /g, '§')])).toEqual({});
  });

  it('writes a doubled section sign together, spaced off its number as the corpus spaces it', () => {
    const sections = Array(5).fill('under §§ 3 and §§ 4.1').join('\n');
    expect(measured([sections])).toEqual({ after: { '§': ' ' } });
    expect(detokenize(tokenizeWords(sections), WORD_RULE_VERSION, measured([sections]))).toBe(sections);
    const joined = sections.replace(/§ /g, '§');
    expect(measured([joined])).toEqual({});
    expect(detokenize(tokenizeWords(joined), WORD_RULE_VERSION, measured([joined]))).toBe(joined);
  });

  it('records nothing for a list\'s bullets, which the detokeniser spaces off their items, so a hyphen elsewhere stays joined', () => {
    const list = Array(5).fill('- buy milk').join('\n');
    expect(measured([list])).toEqual({});
    expect(detokenize(tokenizeWords(`${list}\nat (-5) degrees`), WORD_RULE_VERSION, measured([list]))).toBe(`${list}\nat (-5) degrees`);
  });

  it('records nothing for an English text, which the detokeniser writes as before', () => {
    const sotu = readCorpus([join(ROOT, 'corpora', 'sotu.txt')], 'file');
    for (const docs of ['file', 'sentence'] as const) {
      const data = prepareWhole({ ...sotu, docs }, { valFrac: 0.1, minCount: 1, level: 'word' });
      expect(data.vocab.spacing).toEqual({});
    }
  });
});

describe('a word model of a French text', () => {
  const scratch = scratchFolder('rnn-spacing-');
  const options = { cell: 'gru', layers: 1, hidden: 16, embed: 8, batch: 2, seqLen: 8, workers: 1, evalEvery: 0, level: 'word' } as const;
  let frenchRun: Promise<TrainResult> | undefined;
  /** A sentence model trained two steps on FRENCH, once for the tests that read it. */
  const french = (): Promise<TrainResult> =>
    (frenchRun ??= train({ ...options, docs: 'sentence', maxSteps: 2, out: join(scratch.dir, 'run') }, [scratch.file(FRENCH, 'fr.txt')]));
  const scoredText = (path: string, text: string): string =>
    new Model(loadModel(path), { kernels: 'js' }).scoreSync(text).tokens.map((t) => t.text).join('');
  const line = FRENCH.split('\n')[0]!;

  it('records the text\'s spacing in its checkpoint and writes its text back with it', async () => {
    const run = await french();
    expect(loadCheckpoint(run.latest).config.training.spacing).toEqual(FRENCH_SPACING);
    const model = new Model(loadModel(run.latest), { kernels: 'js' });
    expect(scoredText(run.latest, line)).toBe(line);
    // each of the marks the text spaces comes after white space, wherever the model draws it
    const [sample] = model.completeSync({ prime: `« Quoi${NNBSP}? » dit-il.`, len: 100, seed: 1, n: 1 });
    expect(sample!.match(/[?!;:»]/gu)?.length).toBeGreaterThan(3);
    expect(sample).not.toMatch(/\S[?!;:»]/u);
  });

  it('rnn info names the marks spaced, by side and space', async () => {
    const run = await french();
    const info = await rnnIn(scratch.dir, ['info', run.latest]);
    expect(info.stdout).toMatch(/^spacing +before "!" ";" "\?" \(U\+202F\), ":" "»" \(U\+00A0\); after "«" \(U\+00A0\)$/m);
  });

  it('keeps the record through rnn export and rnn import, as JSON and as safetensors', async () => {
    const run = await french();
    for (const name of ['fr.json', 'fr.safetensors']) {
      const exported = join(scratch.dir, name);
      exportState(run.latest, exported);
      const imported = join(scratch.dir, `${name}.checkpoint.json`);
      importState(exported, imported, ['test'], false);
      expect(loadCheckpoint(imported).config.training.spacing).toEqual(FRENCH_SPACING);
      expect(scoredText(imported, line)).toBe(line);
    }
    expect(JSON.parse(readFileSync(join(scratch.dir, 'fr.json'), 'utf8')).config.spacing).toEqual(FRENCH_SPACING);
  });

  it('reads a checkpoint without the record as one from before it: spaced by the detokeniser\'s rules alone', async () => {
    const run = await french();
    const old = JSON.parse(readFileSync(run.latest, 'utf8')) as Checkpoint;
    delete old.config.training.spacing;
    delete old.sha256;
    const path = join(scratch.dir, 'old.json');
    saveCheckpoint(path, old);
    expect(scoredText(path, line)).toBe(detokenize(tokenizeWords(line)));
    expect(scoredText(path, line)).toBe(`«Quoi?» dit-il. Elle répondit: «Rien!»`);
  });

  it('records in a prepared folder what a run on its text records, and a run on the folder records it too', async () => {
    const folder = join(scratch.dir, 'prepared');
    const { meta } = await writePreparedFolder([scratch.file(FRENCH, 'fr3.txt')], { level: 'word', docs: 'sentence', valFrac: 0.1, minCount: 1 }, folder);
    expect(meta.spacing).toEqual(FRENCH_SPACING);
    const run = await train({ ...options, maxSteps: 1, out: join(scratch.dir, 'from-folder') }, [folder]);
    expect(loadCheckpoint(run.latest).config.training.spacing).toEqual(FRENCH_SPACING);
    expect(scoredText(run.latest, line)).toBe(line);
  });

  it('records nothing for an English text, and a fine-tuned run records its new text\'s spacing', async () => {
    // English prose that writes each mark the French text spaces, « and » aside, against its word
    const text = scratch.file(speeches(150_000, 1_600_000), 'en.txt');
    const english = await train({ ...options, maxSteps: 1, out: join(scratch.dir, 'english') }, [text]);
    expect(loadCheckpoint(english.latest).config.training).not.toHaveProperty('spacing');
    const tuned = await train({ ...options, initFrom: english.latest, maxSteps: 1, out: join(scratch.dir, 'tuned') }, [scratch.file(FRENCH, 'fr2.txt')]);
    expect(loadCheckpoint(tuned.latest).config.training.spacing).toEqual(FRENCH_SPACING);
    const back = await train({ ...options, initFrom: tuned.latest, maxSteps: 1, out: join(scratch.dir, 'back') }, [text]);
    expect(loadCheckpoint(back.latest).config.training).not.toHaveProperty('spacing');
  });
});
