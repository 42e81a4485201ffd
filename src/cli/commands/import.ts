import type { Command } from 'commander';
import { z } from 'zod';
import { importState } from '../../checkpoint/convert.js';
import { type SettingTable, parseSettingTable, writtenPath } from '../../input/settings.js';
import { vocabularyText } from '../../text/vocab.js';
import { addSettingFlags, recordedCommand } from '../flags.js';

/** What --out takes. */
const OUT = writtenPath(z.string().min(1), 'the checkpoint file to write');

/** `rnn import`'s flags. */
const IMPORT_FLAGS = {
  out: { ...OUT, arg: '<file>', required: true, help: OUT.expected },
  force: { schema: z.boolean(), help: 'replace --out if it is an earlier import or export (never a training run\'s checkpoint or another file)' },
} as const satisfies SettingTable;

export function register(program: Command): void {
  const command = program
    .command('import')
    .summary('import a model (rnn-state/1 or .safetensors)')
    .description(
      'Turn a model saved from PyTorch, as rnn-state/1 JSON or a .safetensors file (see docs/interop.md), into a checkpoint: ' +
        'step 0, no corpus, a fresh Adam optimizer and the default training settings.',
    )
    .argument('<state>', 'rnn-state/1 JSON file, or a .safetensors file that rnn export wrote');
  addSettingFlags(command, IMPORT_FLAGS)
    .addHelpText('after', '\nExamples:\n  rnn import state.json --out checkpoints/imported.json\n  rnn import model.safetensors --out checkpoints/big.json')
    .action((state: string, given: Record<string, unknown>) => {
      const flags = parseSettingTable(IMPORT_FLAGS, given);
      const checkpoint = importState(state, flags.out!, recordedCommand(), flags.force === true);
      const { cell, numLayers, hiddenSize, vocabSize } = checkpoint.config.model;
      process.stdout.write(`wrote ${flags.out} (${cell}, ${numLayers}×${hiddenSize}, ${vocabularyText(vocabSize)})\n`);
    });
}
