import { basename, isAbsolute, relative } from 'node:path';
import { shellWord } from '../input/issues.js';
import { textLossChart } from '../plot/text-chart.js';
import { STDIN_NAME } from '../text/corpus-files.js';
import type { DoneEvent, StartEvent } from '../train/events.js';

/** One evaluation's validation loss, as the end-of-run chart plots it. */
export interface ValidationPoint {
  step: number;
  valLoss: number;
}

/**
 * The command as the user ran it, for commands printed to paste: `rnn` where it was run by that
 * name (npm link, a global install), else `node` and the launcher's path from here.
 */
export function rnnCommand(script = process.argv[1] ?? '', cwd = process.cwd()): string {
  if (basename(script) !== 'rnn.js') return 'rnn';
  const path = relative(cwd, script);
  return `node ${shellWord(path.startsWith('..') || isAbsolute(path) ? script : path)}`;
}

/**
 * Whether a run read its text from standard input, which no later command can read again (a
 * prepared folder made from it keeps its ids, and is read instead).
 */
export function readStandardInput(start: StartEvent | null): start is StartEvent {
  return start !== null && start.prepared === undefined && start.corpus.includes(STDIN_NAME);
}

/**
 * What to run next: sample from the run's best checkpoint (its latest without one), and score its
 * validation split where it has one that `rnn eval perplexity` can rebuild (not from standard
 * input); nothing when none was saved.
 */
export function nextCommands(done: DoneEvent, start: StartEvent | null): string[] {
  if (done.savedStep === null) return [];
  const checkpoint = shellWord(done.best ?? done.latest);
  const rnn = rnnCommand();
  const evaluable = start?.valTokens !== 0 && !readStandardInput(start);
  return [
    `sample it:   ${rnn} sample --checkpoint ${checkpoint}`,
    ...(evaluable ? [`evaluate it: ${rnn} eval perplexity --checkpoint ${checkpoint}`] : []),
  ];
}

/** What the end-of-run chart's lines begin with, under its heading. */
const CHART_INDENT = '  ';

/**
 * The validation loss of this run's evaluations as a small block chart under a heading, its lines
 * no wider than `columns` (the terminal's, which would break a wider chart's rows), or no lines
 * when fewer than two evaluations had a validation loss.
 */
export function validationChart(points: readonly ValidationPoint[], columns: number): string[] {
  const chart = textLossChart(points.map((p) => p.valLoss), { lineWidth: Math.max(1, columns - CHART_INDENT.length) });
  if (chart.length === 0) return [];
  const first = points[0]!.step, last = points.at(-1)!.step;
  return [`validation loss, ${points.length} evaluations from step ${first} to ${last}:`, ...chart.map((line) => `${CHART_INDENT}${line}`)];
}
