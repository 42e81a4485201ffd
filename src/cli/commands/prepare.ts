import type { Command } from 'commander';
import { TEXT_SETTINGS } from '../../checkpoint/settings.js';
import type { SettingTable } from '../../input/settings.js';
import { DEFAULT_CORPUS } from '../../train/data.js';
import { PREPARED_OUT, PREPARED_OUT_PATH, prepare } from '../../train/prepare.js';
import { grouped } from '../../input/counts.js';
import { TOKEN_UNITS, vocabularyText } from '../../text/vocab.js';
import { vocabularyCoverage } from '../../text/word-vocab.js';
import { warn } from '../errors.js';
import { addSettingFlags } from '../flags.js';
import { stoppedOnSignal } from '../signals.js';
import { statusLine, tokenizingProgress } from '../terminal.js';
import { durationText } from '../../input/duration.js';
import { visible } from '../../input/issues.js';

/** `rnn prepare`'s own flag; the text settings follow it. An empty --out is refused by `prepare`, which says what it is for. */
const PREPARE_FLAGS = {
  out: { ...PREPARED_OUT_PATH, arg: '<dir>', required: true, help: `${PREPARED_OUT} (an older prepared folder there is replaced)` },
} as const satisfies SettingTable;

export function register(program: Command): void {
  const command = program
    .command('prepare')
    .summary('tokenize a corpus once into token files')
    .description(
      'Tokenize text files or folders once, as `rnn train` would, into a prepared folder: train.bin and val.bin (the token ids, ' +
        'little-endian uint8, uint16 or uint32 as the vocabulary needs) and meta.json (the vocabulary and how the ids were made). ' +
        '`rnn train DIR` trains on it with no tokenizing; examples/pytorch/train_ddp.py trains on it with PyTorch. The corpus is streamed, ' +
        'so any size fits.',
    )
    .argument('[corpus...]', `text files or folders, - for standard input (default: the bundled ${DEFAULT_CORPUS})`);
  addSettingFlags(addSettingFlags(command, PREPARE_FLAGS), TEXT_SETTINGS)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn prepare corpus.txt --out data/corpus\n' +
        '  rnn prepare books/ --level word --vocab-size 20000 --out data/books\n' +
        '  rnn train data/books --time 10m',
    )
    .action(async (corpus: string[], flags: Record<string, string>) => {
      const started = performance.now();
      // on a terminal, one line that tells how far the tokenizing has come
      const status = statusLine();
      const clear = (): void => status?.('');
      let written;
      try {
        written = await stoppedOnSignal(async (stop) => {
          // drawn once the ending signals are listened to (after this first await), where each clears it
          await Promise.resolve();
          status?.('reading the corpus…');
          return prepare(flags, corpus, {
            onProgress: status ? tokenizingProgress(status) : undefined,
            onWarning: (warning) => {
              clear();
              warn(warning);
            },
            stop,
          });
        }, clear);
      } finally {
        clear();
      }
      const seconds = (performance.now() - started) / 1000;
      const { meta, textTokens } = written;
      const coverage = meta.wordVocab && vocabularyCoverage(meta.wordVocab, meta.vocabSize);
      process.stdout.write(
        `${visible(flags['out']!)}: ${grouped(textTokens.train)} training and ${grouped(textTokens.val)} validation ${meta.level === 'word' ? 'word ' : ''}${TOKEN_UNITS[meta.level].many}, ` +
          `${vocabularyText(meta.vocabSize)}${coverage ? ` (${coverage})` : ''}, ${meta.dtype}, in ${durationText(Number(seconds.toFixed(1)), true)}\n`,
      );
    });
}
