import { describeValue } from '../input/issues.js';
import { TOKEN_KIND, vocabularyFault } from '../text/vocab.js';
import { CheckpointError } from './errors.js';

/**
 * A stored vocabulary: exactly `vocabSize` tokens that follow the vocabulary's rules
 * (`vocabularyFault`). `vocabField`/`sizeField` name the fields in messages.
 */
export function checkVocab(vocab: readonly string[], vocabSize: number, source: string, vocabField: string, sizeField: string): void {
  if (vocab.length !== vocabSize) {
    throw new CheckpointError(`${source}: ${vocabField} has ${vocab.length} entries, expected ${sizeField} = ${vocabSize}`);
  }
  const fault = vocabularyFault(vocab);
  if (fault === null) return;
  const at = `${source}: ${vocabField}[${fault.id}]`;
  switch (fault.kind) {
    case 'special':
      throw new CheckpointError(`${at} is ${describeValue(vocab[fault.id])}, expected ${JSON.stringify(fault.expected)}`);
    case 'not-a-token':
      throw new CheckpointError(`${at} is ${describeValue(vocab[fault.id])}, not ${TOKEN_KIND.char}`);
    case 'repeat':
      throw new CheckpointError(`${at} ${describeValue(vocab[fault.id])} repeats ${vocabField}[${fault.earlier}]`);
  }
}
