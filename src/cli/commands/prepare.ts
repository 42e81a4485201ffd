import type { Command } from 'commander';
import { TRAIN_DEFAULTS as D } from '../../checkpoint/settings.js';
import { DOCS_MODES } from '../../text/corpus.js';
import { prepare } from '../../train/prepare.js';

export function register(program: Command): void {
  program
    .command('prepare')
    .summary('tokenize a corpus once into token files')
    .description(
      'Tokenize text files or folders once, as `rnn train` would, into a prepared folder: train.bin and val.bin (the token ids, ' +
        'little-endian uint8, uint16 or uint32 as the vocabulary needs) and meta.json (the vocabulary and how the ids were made). ' +
        '`rnn train DIR` trains on it with no tokenizing; examples/pytorch/train_ddp.py trains on it with PyTorch. The corpus is streamed, ' +
        'so any size fits.',
    )
    .argument('[corpus...]', 'text files or folders (default: the bundled corpora/sotu.txt)')
    .requiredOption('--out <dir>', 'the folder to write (an older prepared folder there is replaced)')
    .option('--level <level>', `what a token is: char (a character) or word (a word or punctuation mark) (default ${D.level})`)
    .option('--vocab-size <n>', `word level: vocabulary entries, <EOS> and <UNK> included, the most frequent tokens (default ${D.vocabSize})`)
    .option('--min-count <n>', `tokens (characters or words) seen fewer times read as <UNK> (default ${D.minCount})`)
    .option('--docs <mode>', `documents: ${DOCS_MODES.join(', ')} (default ${D.docs})`)
    .option('--val-frac <f>', `fraction of the text, from its end, held out for validation, 0 <= f < 1 (default ${D.valFrac})`)
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  rnn prepare corpus.txt --out data/corpus\n' +
        '  rnn prepare books/ --level word --vocab-size 20000 --out data/books\n' +
        '  rnn train data/books --time 10m',
    )
    .action((corpus: string[], flags: Record<string, string>) => {
      const started = performance.now();
      const meta = prepare(flags, corpus);
      const seconds = (performance.now() - started) / 1000;
      const count = (n: number): string => n.toLocaleString('en-US');
      process.stdout.write(
        `${flags['out']}: ${count(meta.trainTokens)} training and ${count(meta.valTokens)} validation ${meta.level === 'word' ? 'word ' : ''}tokens, ` +
          `${count(meta.vocabSize)}-entry vocabulary, ${meta.dtype}, in ${seconds.toFixed(1)} s\n`,
      );
    });
}
