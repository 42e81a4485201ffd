import type { Command } from 'commander';
import { z } from 'zod';
import { type SettingTable, parseSettingTable } from '../../input/settings.js';
import { shellWord, visible } from '../../input/issues.js';
import { addSettingFlags } from '../flags.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { addedText, escapeCharacters, quotedToken } from '../errors.js';
import { NEWEST_CHECKPOINT, RUN_FOLDER_READS, resolveCheckpointPath } from '../../checkpoint/find.js';
import { TRAIN_SETTINGS } from '../../checkpoint/settings.js';
import { type ModelInfo, loadModel } from '../../api/index.js';
import { counted, firstNamed, grouped, plural } from '../../input/counts.js';
import { TOKEN_UNITS, UNK, tokenCount } from '../../text/vocab.js';
import { documentRuleText } from '../../text/documents.js';
import { corpusFilesText, emptyFiles } from '../../text/corpus-files.js';
import type { Spacing } from '../../text/spacing.js';

/** `rnn info`'s flags. */
const INFO_FLAGS = {
  json: { schema: z.boolean(), help: 'print one JSON object' },
} as const satisfies SettingTable;

export function register(program: Command): void {
  const command = program
    .command('info')
    .summary('show what a checkpoint holds')
    .description('Show what a checkpoint holds: model, parameters, vocabulary, training progress, corpus.')
    .argument('[checkpoint]', `checkpoint file, or a run folder (${RUN_FOLDER_READS}) (default: ${NEWEST_CHECKPOINT})`);
  addSettingFlags(command, INFO_FLAGS)
    .addHelpText('after', '\nExamples:\n  rnn info\n  rnn info checkpoints/RUN/best.json --json')
    .action((path: string | undefined, given: Record<string, unknown>) => {
      const flags = parseSettingTable(INFO_FLAGS, given);
      // a model loads on kernels (RNN_KERNELS, else auto): resolved here, a bad RNN_KERNELS is named as sample and eval name it
      const { info } = loadModel(resolveCheckpointPath(path, 'rnn info FILE'), { kernels: resolveKernels() });
      process.stdout.write(flags.json ? `${JSON.stringify(info)}\n` : infoText(info));
    });
}

function infoText(info: ModelInfo): string {
  const m = info.config.model, t = info.config.training, best = info.bestValLoss;
  const word = info.level === 'word', per = TOKEN_UNITS[info.level].per;
  const rows: [string, string][] = [
    ['checkpoint', info.path],
    ['created', info.createdAt],
    ['command', info.command.map(shellWord).join(' ')],
    ['model', `${m.cell}, ${m.numLayers} ${plural(m.numLayers, 'layer')}, hidden ${m.hiddenSize}, embedding ${m.embedDim}, dropout ${m.dropout}`],
    ['parameters', grouped(info.parameters)],
    ['level', word ? `word (tokenizer rules version ${t.wordRule})` : 'char'],
    ['vocabulary', word ? wordVocabularyText(info.vocab) : charVocabularyText(info.vocab)],
    ...(word && t.spacing !== undefined ? [['spacing', spacingText(t.spacing)] as [string, string]] : []),
    ['training', info.corpus === null ? 'none by rnn (imported model: the steps it was trained elsewhere are not recorded)'
      : `step ${info.step}, epoch ${info.epochs.toFixed(2)}, ${tokenCount(info.tokensSeen, info.level)} seen`],
    ['best val loss', best === null ? 'none' : `${best.toFixed(4)} nats/${per} (${(best / Math.LN2).toFixed(4)} bits/${per})`],
  ];
  const schedule = t.lrSchedule ?? TRAIN_SETTINGS.lrSchedule.whenAbsent;
  const settings = `seq-len ${t.seqLen}, batch ${t.batchSize}, ${t.optimizer} lr ${t.lr}, lr-schedule ${schedule}` +
    `${schedule === 'epoch' ? `, lr-decay ${t.lrDecay}` : ''}, clip ${t.clip ?? 'off'}` +
    `${t.clipValue ? `, clip-value ${t.clipValue}` : ''}, seed ${t.seed}`;
  if (info.corpus === null) {
    // an imported model's settings are the defaults it was given, for a run from it: not how it was trained
    rows.push(['settings', `${settings} (the defaults for a run from it)`],
      ['corpus', `none recorded (imported model); it reads a text as ${documentRuleText(info.documents)}`]);
  } else {
    rows.push(['settings', settings], ['trained on', `${t.workers} ${plural(t.workers, 'worker')}, ${t.kernels ?? TRAIN_SETTINGS.kernels.whenAbsent} kernels`]);
    const corpus = info.corpus;
    rows.push([
      'corpus',
      // the token stream's counts, each document's <EOS> included (a run's data line counts the text alone)
      `${corpusFilesText(corpus.files.map((f) => f.path), emptyFiles(corpus.files))}, ${grouped(corpus.totalTokens)} tokens with <EOS> ` +
        `(${grouped(corpus.trainTokens)} train, ${grouped(corpus.valTokens)} validation), ${documentRuleText(info.documents)}, ` +
        `val-frac ${corpus.valFrac}`,
    ]);
    for (const f of corpus.files.slice(0, FILES_SHOWN)) rows.push(['', `${f.path} (${grouped(f.bytes)} bytes)`]);
    const more = corpus.files.length - FILES_SHOWN;
    if (more > 0) rows.push(['', `and ${counted(more, 'more file')} (rnn info --json lists each)`]);
    if (corpus.prepared !== undefined) rows.push(['prepared', `${corpus.prepared} (rnn prepare: the token ids it trained on)`]);
  }
  if (info.initFrom !== null) {
    const { path: from, step, sha256 } = info.initFrom;
    rows.push(['started from', `${from} (${step === null ? 'no training step recorded: an exported or imported model' : `step ${step}`}, ` +
      `sha256 ${sha256.slice(0, 12)}…)`]);
    const { added } = info.initFrom;
    if (added !== undefined && added.length > 0) {
      rows.push(['added', `${tokenCount(added.length, info.level)} to its base's vocabulary (--extend-vocab): ${addedText(added)}`]);
    }
  }
  const width = Math.max(...rows.map(([label]) => label.length));
  // the paths and command a checkpoint records: a control character in one is shown, never sent to the terminal
  return rows.map(([label, value]) => `${label.padEnd(width)}  ${visible(value)}\n`).join('');
}

/**
 * The marks a word model's corpus spaces (docs/words.md), by side and space:
 * `before "!" ";" "?" (U+202F), ":" "»" (U+00A0); after "«" (U+00A0)`, each quoted as the vocabulary's tokens are.
 */
function spacingText(spacing: Spacing): string {
  const side = (marks: Readonly<Record<string, string>>): string => {
    const bySpace = new Map<string, string[]>();
    for (const [mark, space] of Object.entries(marks)) bySpace.set(space, [...bySpace.get(space) ?? [], escapeCharacters(mark)]);
    const named = (space: string) => `U+${space.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    return [...bySpace].map(([space, shown]) => `${shown.join(' ')} (${named(space)})`).join(', ');
  };
  return (['before', 'after'] as const).flatMap((name) => (spacing[name] === undefined ? [] : [`${name} ${side(spacing[name])}`])).join('; ');
}

/** The special tokens, <EOS> and <UNK>, that open every vocabulary (ids 0 to UNK). */
const SPECIALS = UNK + 1;

/** Corpus files `info` lists, in the order read; the rest are counted (a corpus folder may hold thousands). */
const FILES_SHOWN = 10;

/** Word tokens `info` lists: the vocabulary is ordered by frequency, so these are the most frequent. */
const WORDS_SHOWN = 20;

/** A character vocabulary's size, its special tokens, then every other as one quoted string (escapeCharacters, each a token of its own). */
function charVocabularyText(vocab: readonly string[]): string {
  return `${grouped(vocab.length)} tokens: ${vocab.slice(0, SPECIALS).join(' ')} ${escapeCharacters(vocab.slice(SPECIALS).join(''), 'tokens')}`;
}

/** A word vocabulary's size and its most frequent tokens, each quoted as a warning quotes it (a line break shows as "\n"). */
function wordVocabularyText(vocab: readonly string[]): string {
  const frequent = firstNamed(vocab.slice(SPECIALS), WORDS_SHOWN, (token) => quotedToken(token), ' ');
  return `${grouped(vocab.length)} tokens: ${vocab.slice(0, SPECIALS).join(' ')}, then the most frequent: ${frequent}`;
}
