import type { ModelConfig } from '../engine/config.js';
import { CharRnn } from '../engine/model.js';
import { EvalBatches } from '../text/batches.js';
import { EOS, type Vocabulary } from '../text/vocab.js';

/** Σ of the cross-entropy (nats) and the number of predictions it sums over. */
export interface Score {
  lossSum: number;
  tokens: number;
}

/** Time steps per forward pass when scoring; the state carries across chunks, so it changes nothing but speed. */
export const SCORE_CHUNK = 256;

/**
 * Scores one text under the document convention (spec/text.md): inputs `<EOS> c1 … cN`,
 * targets `c1 … cN <EOS>`, from a zero state; N + 1 predictions. Characters outside the
 * vocabulary read as `<UNK>`.
 */
export function scoreText(config: ModelConfig, params: Float32Array, vocab: Vocabulary, text: string): Score {
  checkVocabSize(config, vocab);
  const ids = vocab.encode(text);
  const stream = new Int32Array(ids.length + 2);
  stream[0] = EOS;
  stream.set(ids, 1);
  stream[ids.length + 1] = EOS;
  return scoreStream(config, params, stream, 1);
}

/**
 * Scores every next-token prediction of a token stream with the state carried from chunk to
 * chunk, cut into at most `maxRows` contiguous rows that each start from a zero state
 * (EvalBatches: with more than one row, fewer than `maxRows` trailing predictions are dropped).
 * One row scores the whole stream as one sequence.
 */
export function scoreStream(config: ModelConfig, params: Float32Array, stream: Int32Array, maxRows: number, seqLen = SCORE_CHUNK): Score {
  const batches = new EvalBatches(stream, maxRows, seqLen);
  if (batches.rows === 0) return { lossSum: 0, tokens: 0 };
  const B = batches.rows, T = Math.min(seqLen, batches.rowLength);
  const model = new CharRnn(config, params, null, B, T);
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  let lossSum = 0;
  for (let chunk = 0; chunk < batches.chunks; chunk++) {
    const steps = batches.fill(chunk, inputs, targets);
    // fill writes [B, steps] rows; the model's rows are T long, and columns past `steps` are not scored.
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < steps; t++) {
        model.tokens[b * T + t] = inputs[b * steps + t]!;
        model.targets[b * T + t] = targets[b * steps + t]!;
      }
    }
    model.forward(null);
    lossSum += model.lossSum(steps);
    model.carryState(steps);
  }
  return { lossSum, tokens: batches.predictions };
}

/** Mean loss (nats per prediction), bits per character and perplexity of a score. */
export function scoreSummary(score: Score): { loss: number; bpc: number; perplexity: number; tokens: number } {
  const loss = score.tokens > 0 ? score.lossSum / score.tokens : NaN;
  return { loss, bpc: loss / Math.LN2, perplexity: Math.exp(loss), tokens: score.tokens };
}

function checkVocabSize(config: ModelConfig, vocab: Vocabulary): void {
  if (vocab.size !== config.vocabSize) {
    throw new RangeError(`the vocabulary has ${vocab.size} tokens, the model has vocabSize ${config.vocabSize}`);
  }
}
