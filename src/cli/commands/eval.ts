import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { z } from 'zod';
import { loadModel } from '../../api/index.js';
import { resolveKernels } from '../../engine/kernels/index.js';
import { KERNELS_SETTING } from '../../checkpoint/settings.js';
import { type Score, scoreSummary } from '../../generate/score.js';
import { POSITIVE_INTEGER, type SettingTable, type SettingsInput, parseSettingTable } from '../../input/settings.js';
import { defaultStepperWorkers } from '../../parallel/inference.js';
import { type ReachedFiles, STDIN_PATH, fileName, reachOnce, refuseEmptyPath } from '../../text/corpus-files.js';
import { isPreparedFolder } from '../../checkpoint/prepared.js';
import { isFolder } from '../../checkpoint/files.js';
import { RUN_FOLDER_FILES } from '../../checkpoint/run-folder.js';
import { CorpusError } from '../../text/corpus.js';
import { refuseRnnFiles } from '../../checkpoint/corpus.js';
import { readTextFile, textFileStats } from '../../text/utf8.js';
import { checkTextFile } from '../../text/corpus-stream.js';
import { refuseUnfinishedPrepared } from '../../train/data.js';
import { formatProbability } from '../../text/probability.js';
import { textColumns } from '../../text/columns.js';
import { grouped } from '../../input/counts.js';
import { TOKEN_UNITS, type TextLevel } from '../../text/vocab.js';
import { visible } from '../../input/issues.js';
import { unknownSummaryWarning, warn, warnUnknownTokens } from '../errors.js';
import { STEPPER_WORKERS_DEFAULT, addSettingFlags, checkpointFlag, checkpointSetting, workersOnCores } from '../flags.js';
import { clearedOnSignal } from '../signals.js';
import { statusLine, wholePercents } from '../terminal.js';

/** `rnn eval perplexity`'s flags: what it scores, how it prints, and how it runs. */
const PERPLEXITY_FLAGS = {
  checkpoint: checkpointSetting('to evaluate'),
  text: { schema: z.array(z.string()), expected: 'a text to score', arg: '<text>', repeatable: true, help: 'a text to score (repeatable)' },
  json: {
    schema: z.boolean(), input: z.boolean(), help: 'one JSON object per line: {"name","loss","bitsPerToken","perplexity","tokens","logProb"}',
  },
  kernels: KERNELS_SETTING,
  workers: {
    ...POSITIVE_INTEGER, arg: '<n>',
    help: `threads: they share the validation split's rows (default: every core), or each step of a text (default: ${STEPPER_WORKERS_DEFAULT})`,
  },
} as const satisfies SettingTable;

type PerplexityFlags = SettingsInput<typeof PERPLEXITY_FLAGS>;

interface Row extends Score {
  name: string;
  /** Whether the row is one text (a file or --text), whose probability P(text) is worth showing. */
  text: boolean;
}

export function register(program: Command): void {
  const evalCommand = program
    .command('eval')
    .summary('score a checkpoint (eval perplexity)')
    .description(
      'Evaluate a checkpoint. `rnn eval perplexity` gives loss, bits and perplexity per token (character or word), ' +
        'and the probability of each text, on texts or on its validation split.',
    )
    .addHelpText('after', '\nExamples:\n  rnn eval perplexity\n  rnn eval perplexity --text "The war is over." --text "The war is ever."');
  const perplexity = evalCommand
    .command('perplexity')
    .summary('loss, bits and perplexity per token, and P(text), of texts')
    .description(
      'Loss (nats per token), bits per token and perplexity of a checkpoint on texts, a token being a character, or ' +
        'a word or punctuation mark at the word level; and for each text its log-probability ln P(text) (natural log, ' +
        'the closing <EOS> included) and P(text) (e.g. 5.7e-10). Each file or --text is scored as one document ' +
        '(<EOS> text <EOS>, from a zero state), or for a model trained with --docs line, blank or sentence as the documents ' +
        'that rule cuts it into (<EOS> d1 <EOS> d2 ... dn <EOS>); tokens outside the vocabulary read as <UNK>. ' +
        'A prepared folder (rnn prepare) is scored on its validation split, as the checkpoint\'s own split is, read in the ' +
        "model's vocabulary; one cut into documents by another --docs than the model's is refused. With neither, scores the checkpoint's validation split, rebuilt from its corpus files.",
    )
    .argument('[files...]', 'UTF-8 text files, each scored as one document or as the model\'s --docs cut it (- reads standard input), or prepared folders ' +
      '(rnn prepare), each scored on its validation split');
  addSettingFlags(perplexity, PERPLEXITY_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn eval perplexity --checkpoint checkpoints/RUN/best.json\n' +
        '  rnn eval perplexity --text "The apple and pear salad." --text "The apple and pair salad."\n' +
        '  rnn eval perplexity chapter1.txt chapter2.txt --json\n' +
        '  rnn eval perplexity --checkpoint imported.json data/   # a prepared folder\'s validation split',
    )
    .action((files: string[], flags: Record<string, unknown>) => runPerplexity(files, parseSettingTable(PERPLEXITY_FLAGS, flags)));
}

/**
 * A file to score, refused as `readTextFile` refuses it, a folder that is not a prepared one saying what a folder to
 * score is: checked through (`checkTextFile`) to be read again as it is scored, or its text where it cannot be read twice
 * (a named pipe).
 */
function checkedScoredFile(path: string): { file: string } | { text: string } {
  if (path !== STDIN_PATH) {
    if (isFolder(path)) {
      refuseUnfinishedPrepared(path);
      throw new CorpusError(`cannot read ${path}: it is a folder, and not a prepared one (rnn prepare); give a text file or a prepared folder`);
    }
    if (!textFileStats(path).isFile()) return { text: readTextFile(path) };
  }
  checkTextFile(path);
  return { file: path };
}

/** The checkpoints a run folder holds (its best.json and latest.json): a folder given as a text may be one. */
function runFolderCheckpoints(path: string): string[] {
  return Object.values(RUN_FOLDER_FILES).map((file) => join(path, file));
}

async function runPerplexity(files: string[], flags: PerplexityFlags): Promise<void> {
  // a run folder given as a text is refused as its checkpoints are, saying where the model goes
  const named = files.flatMap((file) => (file !== STDIN_PATH && isFolder(file) ? runFolderCheckpoints(file) : [file]));
  refuseRnnFiles(named, 'a text to score', (_, name) => `name the model with ${name('checkpoint')}, the texts after it`);
  // a text named twice would be two rows, and twice in the total
  const reached: ReachedFiles = new Map();
  for (const file of files) {
    refuseEmptyPath(file, 'text');
    reachOnce(reached, file, 'file', { where: 'among the texts to score', each: 'text' });
  }
  // on a terminal, one line that tells what is read and how far each text's scoring has come, cleared for a warning, the
  // table or an error
  const status = statusLine();
  let scored: { rows: Row[]; level: TextLevel };
  try {
    scored = await scoredRows(files, flags, status);
  } finally {
    status?.('');
  }
  process.stdout.write(flags.json ? jsonLines(scored.rows) : table(scored.rows, scored.level));
}

/** What is scored: a prepared folder's validation split, a file read as it is scored, or a text. */
type ScoredInput = { folder: string } | { name: string; file: string } | { name: string; text: string };

/** The row of each input (the validation split where none is named) and their total, at the model's level; `status` told of each step. */
async function scoredRows(
  files: string[], flags: PerplexityFlags, status: ((text: string) => void) | null,
): Promise<{ rows: Row[]; level: TextLevel }> {
  // Check every input before the (slow) scoring, so a missing file fails at once; a file is read again as it is scored, a
  // prepared folder's split as it is scored.
  const inputs: ScoredInput[] = [
    ...files.map((file): ScoredInput => {
      if (file !== STDIN_PATH && isPreparedFolder(file)) return { folder: file };
      const name = fileName(file);
      status?.(`reading ${name}…`);
      return { name, ...checkedScoredFile(file) };
    }),
    ...(flags.text ?? []).map((text, i) => ({ name: `text ${i + 1}`, text })),
  ];
  status?.('');
  const model = loadModel(checkpointFlag(flags.checkpoint), { kernels: resolveKernels(flags.kernels) });
  const asked = workersOnCores(flags.workers);
  // Ctrl-C while a split or a text is scored clears the status line first
  const scoring = <T>(work: () => Promise<T>): Promise<T> => (status ? clearedOnSignal(work, () => status('')) : work());
  const rows: Row[] = [];
  if (inputs.length === 0) {
    const onProgress = status ? scoringProgress(status, 'the validation split') : undefined;
    const { lossSum, predictions } = await scoring(() => model.scoreValidation(asked ?? availableParallelism(), onProgress));
    rows.push({ name: 'validation', text: false, lossSum, tokens: predictions });
  }
  for (const input of inputs) {
    if ('folder' in input) {
      const threads = asked ?? availableParallelism();
      const onProgress = status ? scoringProgress(status, `${input.folder}'s validation split`) : undefined;
      const { lossSum, predictions, unknown } = await scoring(() => model.scorePreparedValidation(input.folder, threads, onProgress));
      status?.('');
      const warning = unknownSummaryWarning(model.vocab.level, model.path, `${input.folder}'s validation split`, unknown);
      if (warning !== null) warn(warning);
      rows.push({ name: `${input.folder} (validation)`, text: false, lossSum, tokens: predictions });
      continue;
    }
    const workers = asked ?? defaultStepperWorkers(model.config);
    status?.(`tokenizing ${input.name}…`);
    if ('file' in input) {
      let onProgress: ((fraction: number) => void) | undefined;
      const { lossSum, predictions } = await scoring(() => model.scoreTextFile(input.file, {
        workers,
        onRead: ({ unknown }) => {
          status?.('');
          const warning = unknownSummaryWarning(model.vocab.level, model.path, input.name, unknown);
          if (warning !== null) warn(warning);
          if (status) onProgress = scoringProgress(status, input.name);
        },
        onProgress: (fraction) => onProgress?.(fraction),
      }));
      rows.push({ name: input.name, text: true, lossSum, tokens: predictions });
      continue;
    }
    const tokens = model.tokenize(input.text);
    status?.('');
    warnUnknownTokens(model.vocab, model.path, input.name, tokens.unknown);
    const { lossSum, predictions } = await scoring(() => model.score(tokens, {
      tokens: false, workers,
      ...(status && { onProgress: scoringProgress(status, input.name) }),
    }));
    rows.push({ name: input.name, text: true, lossSum, tokens: predictions });
  }
  if (rows.length > 1) {
    const total: Row = { name: 'total', text: false, lossSum: 0, tokens: 0 };
    for (const row of rows) {
      total.lossSum += row.lossSum;
      total.tokens += row.tokens;
    }
    rows.push(total);
  }
  return { rows, level: model.vocab.level };
}

/** A score's onProgress that shows on `status` how far the scoring of `name` has come: 0% first, then each whole percentage reached. */
function scoringProgress(status: (text: string) => void, name: string): (fraction: number) => void {
  const show = wholePercents((percent) => status(`scoring: ${percent}% of ${name}`));
  show(0);
  return show;
}

function jsonLines(rows: Row[]): string {
  return rows.map((row) => `${JSON.stringify({ name: row.name, ...scoreSummary(row) })}\n`).join('');
}

/**
 * The rows as a table, per character or per word as the level is, each name's control characters shown (visible). P(text)
 * is shown for each text; the validation split and the total are no one text, so theirs is a dash.
 */
function table(rows: Row[], level: TextLevel): string {
  const per = TOKEN_UNITS[level].per;
  const header = ['', `loss (nats/${per})`, `bits/${per}`, 'perplexity', 'predictions', 'ln P(text)', 'P(text)'];
  const cells = rows.map((row) => {
    const s = scoreSummary(row);
    return [
      visible(row.name), s.loss.toFixed(4), s.bitsPerToken.toFixed(4), s.perplexity.toFixed(3), grouped(s.tokens),
      row.text ? s.logProb.toFixed(2) : '—', row.text ? formatProbability(s.logProb) : '—',
    ];
  });
  const widths = header.map((h, c) => Math.max(textColumns(h), ...cells.map((r) => textColumns(r[c]!))));
  const pad = (cell: string, c: number): string => ' '.repeat(widths[c]! - textColumns(cell));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell + pad(cell, c) : pad(cell, c) + cell)).join('  ');
  return [header, ...cells].map((r) => `${line(r).trimEnd()}\n`).join('');
}
