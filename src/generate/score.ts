import type { ModelConfig } from '../engine/config.js';
import { CharRnn } from '../engine/model.js';
import { Stepper } from '../engine/stepper.js';
import type { TokenStepper } from '../parallel/inference.js';
import { EvalBatches } from '../text/batches.js';
import { EOS, type Vocabulary } from '../text/vocab.js';

/** Σ of the cross-entropy (nats) and the number of predictions it sums over. */
export interface Score {
  lossSum: number;
  tokens: number;
}


/**
 * Scores one text under the document convention (spec/text.md): inputs `<EOS> c1 … cN`,
 * targets `c1 … cN <EOS>`, from a zero state; N + 1 predictions. Characters outside the
 * vocabulary read as `<UNK>`. A batch of one, so it runs token by token on a TokenStepper
 * (an InferencePool splits each step over threads); by default a Stepper on this thread.
 *
 *   loss_t = logsumexp(z_t) − z_t[target_t]
 */
export function scoreText(config: ModelConfig, params: Float32Array, vocab: Vocabulary, text: string, stepper?: TokenStepper): Score {
  checkVocabSize(config, vocab);
  const ids = vocab.encode(text);
  const model = stepper ?? new Stepper(config, params);
  model.reset();
  let lossSum = 0;
  for (let t = 0; t <= ids.length; t++) {
    const logits = model.advance(t === 0 ? EOS : ids[t - 1]!);
    const target = t < ids.length ? ids[t]! : EOS;
    let max = -Infinity;
    for (let v = 0; v < config.vocabSize; v++) if (logits[v]! > max) max = logits[v]!;
    let sum = 0;
    for (let v = 0; v < config.vocabSize; v++) sum += Math.exp(logits[v]! - max);
    lossSum += Math.log(sum) + max - logits[target]!;
  }
  return { lossSum, tokens: ids.length + 1 };
}

/**
 * Scores every next-token prediction of a token stream with the state carried from chunk to
 * chunk, cut into at most `maxRows` contiguous rows that each start from a zero state
 * (EvalBatches: with more than one row, fewer than `maxRows` trailing predictions are dropped).
 * One row scores the whole stream as one sequence.
 */
export function scoreStream(config: ModelConfig, params: Float32Array, stream: Int32Array, maxRows: number, seqLen: number): Score {
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
