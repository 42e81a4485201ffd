import type { Command } from 'commander';
import { writeFileAtomic } from '../../checkpoint/files.js';
import { RUN_FOLDER_FILES } from '../../checkpoint/find.js';
import { loadLossRuns } from '../../plot/runs.js';
import { DEFAULT_TITLES, bestPoint, lossChartSvg } from '../../plot/svg.js';
import { z } from 'zod';
import { InputError, type SettingTable, described, parseSettingTable } from '../../input/settings.js';
import { visible } from '../../input/issues.js';
import { addSettingFlags } from '../flags.js';

/** A path to an SVG file, read as text even where it looks like a number. */
const SVG_FILE = described(z.string().refine((path) => path.toLowerCase().endsWith('.svg')), 'an .svg file');

/** `rnn plot`'s flags. */
const PLOT_FLAGS = {
  out: { ...SVG_FILE, input: SVG_FILE.schema, arg: '<file.svg>', required: true, help: `where to write the chart, ${SVG_FILE.expected}` },
  title: {
    schema: z.string(), arg: '<text>', help: 'the chart\'s title',
    defaultText: `"${DEFAULT_TITLES.validated}"; "${DEFAULT_TITLES.trainingOnly}" where no run has a validation loss`,
  },
} as const satisfies SettingTable;

export function register(program: Command): void {
  const command = program
    .command('plot')
    .summary('chart the loss curves of runs as SVG')
    .description(
      'Draw the training and validation loss of each run against the tokens it has seen (characters, or at the word level ' +
        'words and punctuation marks), as an SVG chart: ' +
        'one colour per run, training dashed, validation solid with a dot at each evaluation, and each run\'s best ' +
        `validation loss ringed and labelled. A run is a checkpoint file, or a run folder (its ${RUN_FOLDER_FILES.latest}); all of one level. ` +
        'Replaces --out if it exists.',
    )
    .argument('[checkpoints...]', 'checkpoint files or run folders (one or more)');
  addSettingFlags(command, PLOT_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn plot checkpoints/tinyshakespeare-gru-2x192-20261201-040000/ --out loss.svg\n' +
        '  rnn plot runs/gru/ runs/lstm/best.json --out compare.svg --title "GRU against LSTM"',
    )
    .action((checkpoints: string[], given: Record<string, unknown>) => {
      if (checkpoints.length === 0) {
        throw new InputError('plot needs at least one checkpoint file or run folder, e.g. rnn plot checkpoints/RUN/ --out loss.svg');
      }
      const flags = parseSettingTable(PLOT_FLAGS, given);
      const runs = loadLossRuns(checkpoints);
      writeFileAtomic(flags.out!, lossChartSvg(runs, { title: flags.title }), 'plot ');
      // a run's name and --out are file names: a control character in one is shown, never sent to the terminal
      for (const run of runs) {
        const best = bestPoint(run.val);
        process.stdout.write(
          `${visible(run.name)}: ${run.train.length} evaluation${run.train.length === 1 ? '' : 's'}, ` +
            `${best === null ? 'no validation loss' : `best validation loss ${best.loss.toFixed(4)}`}\n`,
        );
      }
      process.stdout.write(`wrote ${visible(flags.out!)}\n`);
    });
}
