import type { Command } from 'commander';
import { writeFileAtomic } from '../../checkpoint/files.js';
import { RUN_FOLDER_FILES } from '../../checkpoint/find.js';
import { loadLossRuns } from '../../plot/runs.js';
import { DEFAULT_TITLES, bestPoint, lossChartSvg } from '../../plot/svg.js';
import { InputError, SettingError } from '../../input/settings.js';
import { optionMessage } from '../../input/issues.js';

interface PlotFlags {
  out: string;
  title?: string;
}

export function register(program: Command): void {
  program
    .command('plot')
    .summary('chart the loss curves of runs as SVG')
    .description(
      'Draw the training and validation loss of each run against the tokens it has seen (characters, or at the word level ' +
        'words and punctuation marks), as an SVG chart: ' +
        'one colour per run, training dashed, validation solid with a dot at each evaluation, and each run\'s best ' +
        `validation loss ringed and labelled. A run is a checkpoint file, or a run folder (its ${RUN_FOLDER_FILES.latest}); all of one level. ` +
        'Replaces --out if it exists.',
    )
    .argument('[checkpoints...]', 'checkpoint files or run folders (one or more)')
    .requiredOption('--out <file.svg>', 'where to write the chart')
    .option('--title <text>', `the chart's title (default "${DEFAULT_TITLES.validated}"; "${DEFAULT_TITLES.trainingOnly}" where no run has a validation loss)`)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn plot checkpoints/tinyshakespeare-gru-2x192-20261201-040000/ --out loss.svg\n' +
        '  rnn plot runs/gru/ runs/lstm/best.json --out compare.svg --title "GRU against LSTM"',
    )
    .action((checkpoints: string[], flags: PlotFlags) => {
      if (checkpoints.length === 0) {
        throw new InputError('plot needs at least one checkpoint file or run folder, e.g. rnn plot checkpoints/RUN/ --out loss.svg');
      }
      if (!flags.out.toLowerCase().endsWith('.svg')) {
        throw new SettingError('out', flags.out, (name) => optionMessage(name('out'), { expected: 'an .svg file', value: flags.out }));
      }
      const runs = loadLossRuns(checkpoints);
      writeFileAtomic(flags.out, lossChartSvg(runs, { title: flags.title }), 'plot ');
      for (const run of runs) {
        const best = bestPoint(run.val);
        process.stdout.write(
          `${run.name}: ${run.train.length} evaluation${run.train.length === 1 ? '' : 's'}, ` +
            `${best === null ? 'no validation loss' : `best validation loss ${best.loss.toFixed(4)}`}\n`,
        );
      }
      process.stdout.write(`wrote ${flags.out}\n`);
    });
}
