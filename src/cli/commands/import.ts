import type { Command } from 'commander';
import { z } from 'zod';
import { importState } from '../../checkpoint/convert.js';
import { parseSettings } from '../../input/settings.js';
import { grouped } from '../../text/vocab.js';
import { recordedCommand } from '../flags.js';

const ImportFlagsSchema = z.strictObject({
  out: z.string().min(1),
  force: z.boolean().optional(),
});

export function register(program: Command): void {
  program
    .command('import')
    .summary('import a model (rnn-state/1 or .safetensors)')
    .description(
      'Turn a model saved from PyTorch, as rnn-state/1 JSON or a .safetensors file (see docs/interop.md), into a checkpoint: ' +
        'step 0, no corpus, a fresh Adam optimizer and the default training settings.',
    )
    .argument('<state>', 'rnn-state/1 JSON file, or a .safetensors file that rnn export wrote')
    .requiredOption('--out <file>', 'checkpoint to write')
    .option('--force', 'replace --out if it exists')
    .addHelpText('after', '\nExamples:\n  rnn import state.json --out checkpoints/imported.json\n  rnn import model.safetensors --out checkpoints/big.json')
    .action((state: string, given: Record<string, unknown>) => {
      const flags = parseSettings(ImportFlagsSchema, given);
      const checkpoint = importState(state, flags.out, recordedCommand(), flags.force === true);
      const { cell, numLayers, hiddenSize, vocabSize } = checkpoint.config.model;
      process.stdout.write(`wrote ${flags.out} (${cell}, ${numLayers}×${hiddenSize}, vocabulary of ${grouped(vocabSize)})\n`);
    });
}
