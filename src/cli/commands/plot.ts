import type { Command } from 'commander';
import { writeFileAtomic } from '../../checkpoint/files.js';
import { NEWEST_CHECKPOINT, newestRun } from '../../checkpoint/find.js';
import { PLOT_TAKES, loadLossRuns } from '../../plot/runs.js';
import { DEFAULT_TITLES, RUN_STYLES, bestPoint, highestLossesOffChart, lossChartSvg, offChartNote, runsDrawnAlike, runsDrawnOver, startedFromNote } from '../../plot/svg.js';
import { z } from 'zod';
import { type SettingTable, described, parseSettingTable, writtenPath } from '../../input/settings.js';
import { firstNamed, plural } from '../../input/counts.js';
import { visible } from '../../input/issues.js';
import { warn } from '../errors.js';
import { addSettingFlags, sayNewestTaken } from '../flags.js';

/** A path to an SVG file, read as text even where it looks like a number. */
const SVG_FILE = writtenPath(z.string().refine((path) => path.toLowerCase().endsWith('.svg')), 'an .svg file');

/** What --title takes. */
const TITLE = described(z.string(), 'the chart\'s title');

/** `rnn plot`'s flags. */
const PLOT_FLAGS = {
  out: { ...SVG_FILE, input: SVG_FILE.schema, arg: '<file.svg>', required: true, help: `where to write the chart, ${SVG_FILE.expected}` },
  title: {
    ...TITLE, arg: '<text>', help: TITLE.expected,
    defaultText: `"${DEFAULT_TITLES.validated}"; "${DEFAULT_TITLES.trainingOnly}" where no run has a validation loss`,
  },
} as const satisfies SettingTable;

/** Pairs of runs a warning names; the rest are counted. */
const PAIRS_NAMED = 8;

/** `r29 is drawn as r1, r30 as r2`: each run and the earlier one it is drawn `how` (as, over), the first PAIRS_NAMED named. */
function drawnPairs(names: readonly string[], pairs: readonly [number, number][], how: string): string {
  return firstNamed(pairs, PAIRS_NAMED, ([run, earlier], k) => `${names[run]}${k === 0 ? ' is drawn' : ''} ${how} ${names[earlier]}`);
}

/** The warning for a chart of more runs than styles: which runs are drawn as which, and how many a chart tells apart. */
function drawnAlikeWarning(names: readonly string[], alike: readonly [number, number][]): string {
  return `${names.length} runs, and ${RUN_STYLES} styles to tell them apart: ${drawnPairs(names, alike, 'as')}; ` +
    `plot at most ${RUN_STYLES} runs at once to tell each apart`;
}

/** The warning for runs with an earlier one's losses at every evaluation: which runs are drawn over which. */
function drawnOverWarning(names: readonly string[], over: readonly [number, number][]): string {
  return `${drawnPairs(names, over, 'over')}, with the same losses at every evaluation: the chart shows one line for them, in the last one's style`;
}

export function register(program: Command): void {
  const command = program
    .command('plot')
    .summary('chart the loss curves of runs as SVG')
    .description(
      'Draw the training and validation loss of each run against the tokens it has seen (characters, or at the word level ' +
        'words and punctuation marks), as an SVG chart: ' +
        'a colour per run, training broken, validation solid with a marker at each evaluation, and each run\'s best ' +
        `validation loss ringed and labelled. ${RUN_STYLES} runs are told apart by colour, training dash and marker; ` +
        'the styles repeat from the next, and a warning names the runs drawn alike. ' +
        `A run is ${PLOT_TAKES}; all of one level. ` +
        'Replaces --out if it exists.',
    )
    .argument('[checkpoints...]', `checkpoint files, run folders or train_ddp.py runs (default: ${NEWEST_CHECKPOINT})`);
  addSettingFlags(command, PLOT_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn plot --out loss.svg\n' +
        '  rnn plot checkpoints/tinyshakespeare-gru-2x192-20261201-040000/ --out loss.svg\n' +
        '  rnn plot runs/gru/ runs/lstm/best.json --out compare.svg --title "GRU against LSTM"',
    )
    .action((checkpoints: string[], given: Record<string, unknown>) => {
      const flags = parseSettingTable(PLOT_FLAGS, given);
      const newest = checkpoints.length === 0 ? newestRun('rnn plot CHECKPOINT... --out FILE.svg') : null;
      const runs = loadLossRuns(newest === null ? checkpoints : [newest]);
      writeFileAtomic(flags.out!, lossChartSvg(runs, { title: flags.title }), 'plot ');
      if (newest !== null) sayNewestTaken('run', newest);
      const alike = runsDrawnAlike(runs.length);
      if (alike.length > 0) warn(drawnAlikeWarning(runs.map((run) => run.name), alike));
      const over = runsDrawnOver(runs);
      if (over.length > 0) warn(drawnOverWarning(runs.map((run) => run.name), over));
      const highest = highestLossesOffChart(runs);
      // a run's name and --out are file names: a control character in one is shown, never sent to the terminal
      runs.forEach((run, i) => {
        const best = bestPoint(run.val);
        process.stdout.write(
          `${visible(run.name)}: ${run.train.length} ${plural(run.train.length, 'evaluation')}, ` +
            `${best === null ? 'no validation loss' : `best validation loss ${best.loss.toFixed(4)}`}` +
            `${highest[i] === null ? '' : `; ${offChartNote(highest[i]!, 4)}`}${visible(startedFromNote(run))}\n`,
        );
      });
      process.stdout.write(`wrote ${visible(flags.out!)}\n`);
    });
}
