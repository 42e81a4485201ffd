import { CheckpointError, describeValue } from './errors.js';

export const EOS_TOKEN = '<EOS>';
export const UNK_TOKEN = '<UNK>';

/**
 * A model's vocabulary: exactly `vocabSize` distinct tokens, id 0 the end-of-document token and
 * id 1 the unknown-character token. `vocabField`/`sizeField` name the fields in messages.
 */
export function checkVocab(vocab: readonly string[], vocabSize: number, source: string, vocabField: string, sizeField: string): void {
  if (vocab.length !== vocabSize) {
    throw new CheckpointError(`${source}: ${vocabField} has ${vocab.length} entries, expected ${sizeField} = ${vocabSize}`);
  }
  const reserved: [number, string][] = [[0, EOS_TOKEN], [1, UNK_TOKEN]];
  for (const [id, token] of reserved) {
    if (vocabSize > id && vocab[id] !== token) {
      throw new CheckpointError(`${source}: ${vocabField}[${id}] is ${describeValue(vocab[id])}, expected ${JSON.stringify(token)}`);
    }
  }
  const seen = new Map<string, number>();
  vocab.forEach((token, id) => {
    const earlier = seen.get(token);
    if (earlier !== undefined) {
      throw new CheckpointError(`${source}: ${vocabField}[${id}] ${describeValue(token)} repeats ${vocabField}[${earlier}]`);
    }
    seen.set(token, id);
  });
}
