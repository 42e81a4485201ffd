import { describeValue } from '../input/issues.js';
import { TOKEN_KIND, type TextLevel, vocabularyFault } from '../text/vocab.js';
import { recordedSentenceRule, SENTENCE_RULE_VERSION, type SentenceRule } from '../text/sentences.js';
import { knownWordRule, WORD_RULE_VERSION, type WordRule } from '../text/words.js';
import { CheckpointError } from './errors.js';

/**
 * A stored vocabulary: exactly `vocabSize` tokens that follow the rules of its level
 * (`vocabularyFault`). `vocabField`/`sizeField` name the fields in messages.
 */
export function checkVocab(
  vocab: readonly string[], vocabSize: number, level: TextLevel, source: string, vocabField: string, sizeField: string,
): void {
  if (vocab.length !== vocabSize) {
    throw new CheckpointError(`${source}: ${vocabField} has ${vocab.length} entries, expected ${sizeField} = ${vocabSize}`);
  }
  const fault = vocabularyFault(vocab, level);
  if (fault === null) return;
  const at = `${source}: ${vocabField}[${fault.id}]`;
  switch (fault.kind) {
    case 'special':
      throw new CheckpointError(`${at} is ${describeValue(vocab[fault.id])}, expected ${JSON.stringify(fault.expected)}`);
    case 'not-a-token':
      throw new CheckpointError(`${at} is ${describeValue(vocab[fault.id])}, not ${TOKEN_KIND[level]}`);
    case 'repeat':
      throw new CheckpointError(`${at} ${describeValue(vocab[fault.id])} repeats ${vocabField}[${fault.earlier}]`);
  }
}

/**
 * The tokenizer rules' version a word-level model or prepared folder records at `field`. Its ids
 * mean what the tokenizer of that version made of the text, so its text is read under the same
 * rules (`Vocabulary.wordRule`): one from a newer rnn, or one that records none, is refused.
 */
export function checkWordRule(rule: number | undefined, source: string, field: string): WordRule {
  if (rule === undefined) {
    throw new CheckpointError(`${source}: ${field} is missing: a word-level model must record its tokenizer rules' version`);
  }
  const known = knownWordRule(rule);
  if (known === null) throw newerRules(source, field, rule, 'words were cut by tokenizer rules', WORD_RULE_VERSION);
  return known;
}

/**
 * The sentence rules' version a checkpoint or prepared folder records at `field`, as
 * `recordedSentenceRule` reads it (absent: version 1, kept so that its corpus reads again as it
 * did); one from a newer rnn is refused.
 */
export function checkSentenceRule(rule: number | undefined, source: string, field: string): SentenceRule {
  const known = recordedSentenceRule(rule);
  if (known === null) throw newerRules(source, field, rule!, 'sentences were cut by sentence rules', SENTENCE_RULE_VERSION);
  return known;
}

/**
 * The refusal of a record whose text was cut under rules (`cut`: "words were cut by tokenizer
 * rules") of a version newer than `latest`, this rnn's: one wording for the word and sentence rules.
 */
function newerRules(source: string, field: string, rule: number, cut: string, latest: number): CheckpointError {
  return new CheckpointError(
    `${source}: ${field} is ${rule}: its ${cut} version ${rule}, newer than any this rnn has (versions 1 to ${latest}): read it with a newer rnn`,
  );
}

/**
 * The sentence rules' version a model file with sentence documents records at `field` (an
 * rnn-state/1 config's `sentence_rule`), which it must record: none was written before it, so
 * absent means no version at all. One from a newer rnn is refused as `checkSentenceRule` refuses it.
 */
export function requiredSentenceRule(rule: number | undefined, source: string, field: string): SentenceRule {
  if (rule === undefined) {
    throw new CheckpointError(
      `${source}: ${field} is missing: a model with sentence documents must record the version of the sentence rules that cut them ` +
        `(1 to ${SENTENCE_RULE_VERSION}: the sentenceRule of the prepared folder it was trained on, in its meta.json)`,
    );
  }
  return checkSentenceRule(rule, source, field);
}
