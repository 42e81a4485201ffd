import type { Command } from 'commander';
import { z } from 'zod';
import { EXPORT_FORMATS, exportState } from '../../checkpoint/convert.js';
import { grouped } from '../../input/counts.js';
import { type SettingTable, parseSettingTable, writtenPath } from '../../input/settings.js';
import { addSettingFlags } from '../flags.js';
import { RUN_FOLDER_READS, resolveCheckpointPath } from '../../checkpoint/find.js';

/** What --out takes. */
const OUT = writtenPath(z.string().min(1), 'the file to write: rnn-state/1 JSON, or .safetensors');

/**
 * `rnn export`'s flags. `--format torch` is the `rnn-state/1` interop JSON that PyTorch loads;
 * `safetensors` the weights as a .safetensors file (docs/interop.md). Without it, --out's extension decides.
 */
const EXPORT_FLAGS = {
  format: {
    schema: z.enum(EXPORT_FORMATS), input: z.enum(EXPORT_FORMATS), expected: `one of ${EXPORT_FORMATS.join(', ')}`, arg: '<format>',
    help: `export format: ${EXPORT_FORMATS.join(', ')}`, defaultText: 'safetensors for an --out ending in .safetensors, else torch',
  },
  out: { ...OUT, arg: '<file>', required: true, help: OUT.expected },
} as const satisfies SettingTable;

export function register(program: Command): void {
  const command = program
    .command('export')
    .summary('export a checkpoint for PyTorch')
    .description(
      'Write a checkpoint\'s model as rnn-state/1 JSON for PyTorch, or as a .safetensors file (see docs/interop.md); ' +
        'replaces --out only where it is an earlier export (or empty), never a checkpoint, a text or any other file.',
    )
    .argument('<checkpoint>', `checkpoint file, or a run folder (${RUN_FOLDER_READS})`);
  addSettingFlags(command, EXPORT_FLAGS)
    .addHelpText(
      'after',
      '\nExamples:\n  rnn export checkpoints/RUN/best.json --format torch --out state.json\n' +
        '  rnn export checkpoints/RUN/best.json --out model.safetensors',
    )
    .action((checkpoint: string, given: Record<string, unknown>) => {
      const flags = parseSettingTable(EXPORT_FLAGS, given);
      const model = exportState(resolveCheckpointPath(checkpoint), flags.out!, flags.format);
      const { cell, numLayers, hiddenSize } = model.config;
      process.stdout.write(`wrote ${flags.out} (${cell}, ${numLayers}×${hiddenSize}, ${grouped(model.params.length)} parameters)\n`);
    });
}
