import type { ModelConfig } from '../engine/config.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import { logSumExp } from '../engine/loss.js';
import { Stepper, type TokenStepper } from '../engine/stepper.js';
import { integerFrom } from '../input/settings.js';
import type { TrainingEngine } from '../parallel/engine.js';
import { createEngine } from '../parallel/pool.js';
import { EvalBatches } from '../text/batches.js';
import type { TokenArray } from '../text/tokens.js';
import { EOS } from '../text/vocab.js';
import { type Work, finish } from './turns.js';

/**
 * The most of the likeliest next tokens a text's score lists at each prediction (`top`): the library's option and the
 * server's field alike, each token listed costing a search of the vocabulary and an entry.
 */
export const SCORE_TOP_MAX = 10;
/** A score's `top` (SCORE_TOP_MAX), how an error names it, and its default: no alternatives. */
export const SCORE_TOP = { ...integerFrom(0, SCORE_TOP_MAX), default: 0 } as const;

/** Σ of the cross-entropy (nats) and the number of predictions it sums over. */
export interface Score {
  lossSum: number;
  tokens: number;
}

/**
 * Scores one text, as its token ids (`Vocabulary.encode`: tokens outside the vocabulary read
 * as `<UNK>`), under the document convention (docs/text.md): inputs `<EOS> t1 … tN`, targets
 * `t1 … tN <EOS>`, from a zero state; N + 1 predictions. A batch of one, so it runs token by
 * token on a TokenStepper (an InferencePool splits each step over threads); by default a
 * Stepper on this thread. `onPrediction` sees each prediction's target, logits and
 * log-sum-exp as it is made.
 *
 *   loss_t = logsumexp(z_t) − z_t[target_t]
 */
export function scoreTokens(
  config: ModelConfig, params: Float32Array, ids: ArrayLike<number>, stepper?: TokenStepper,
  onPrediction?: (target: number, logits: Float32Array, logSumExp: number) => void,
): Score {
  return finish(scoreSteps(config, params, ids, stepper, onPrediction));
}

/** `scoreTokens` as work in pieces, one a prediction. */
export function scoreSteps(
  config: ModelConfig, params: Float32Array, ids: ArrayLike<number>, stepper?: TokenStepper,
  onPrediction?: (target: number, logits: Float32Array, logSumExp: number) => void,
): Work<Score> {
  return scoreChunkSteps(config, params, [ids], stepper, onPrediction);
}

/**
 * `scoreSteps` of a text whose ids come in chunks (`t1 … tN` the chunks' ids one after another), the state carried from
 * chunk to chunk: a long text scored as it is read, never held as one array of ids.
 */
export function* scoreChunkSteps(
  config: ModelConfig, params: Float32Array, chunks: Iterable<ArrayLike<number>>, stepper?: TokenStepper,
  onPrediction?: (target: number, logits: Float32Array, logSumExp: number) => void,
): Work<Score> {
  const model = stepper ?? new Stepper(config, params);
  model.reset();
  let lossSum = 0, tokens = 0, input = EOS;
  const predict = (target: number): void => {
    const logits = model.advance(input);
    const lse = logSumExp(logits, 0, config.vocabSize);
    lossSum += lse - logits[target]!;
    onPrediction?.(target, logits, lse);
    input = target;
    tokens++;
  };
  for (const ids of chunks) {
    for (let i = 0; i < ids.length; i++) {
      predict(ids[i]!);
      yield;
    }
  }
  predict(EOS);
  yield;
  return { lossSum, tokens };
}

/**
 * Σ loss over every prediction of `batches` (contiguous rows, chunks of up to T columns) on the
 * engine's validation window, from a zero state carried from chunk to chunk: the trainer's
 * validation and `rnn eval perplexity` of a split, on however many workers the engine has.
 * Yields to the event loop between chunks, telling `onProgress` the fraction of chunks scored; returns null if `stop()` says so.
 */
export async function scoreBatches(
  engine: TrainingEngine, batches: EvalBatches, stop: () => boolean = () => false, onProgress?: (fraction: number) => void,
): Promise<number | null> {
  engine.resetEvalState();
  let lossSum = 0;
  for (let chunk = 0; chunk < batches.chunks; chunk++) {
    const length = batches.fill(chunk, engine.evalInputs, engine.evalTargets);
    lossSum += engine.evalChunk(length);
    onProgress?.((chunk + 1) / batches.chunks);
    await new Promise(setImmediate);
    if (stop()) return null;
  }
  return lossSum;
}

/**
 * Σ loss of a token stream cut into at most `maxRows` rows of `seqLen` chunks, on `workers` threads, telling `onProgress`
 * the fraction of chunks scored.
 */
export async function scoreStream(
  config: ModelConfig, params: Float32Array, stream: TokenArray, maxRows: number, seqLen: number, workers: number, kernels?: KernelsKind,
  onProgress?: (fraction: number) => void,
): Promise<Score> {
  const batches = new EvalBatches(stream, maxRows, seqLen);
  if (batches.rows === 0) return { lossSum: 0, tokens: 0 };
  const engine = await createEngine({
    config, params, optimizer: 'sgd', batchSize: batches.rows, seqLen, evalRows: batches.rows, workers, ...(kernels && { kernels }),
  });
  try {
    return { lossSum: (await scoreBatches(engine, batches, undefined, onProgress))!, tokens: batches.predictions };
  } finally {
    await engine.close();
  }
}

/**
 * A score's figures per prediction (per character, or per word token at the word level):
 * mean loss (nats), bits (loss / ln 2) and perplexity (e^loss); and over the whole text its
 * log-probability, natural log: ln P(text) = Σ_t ln p(target_t) = −lossSum, over the N + 1
 * predictions the closing `<EOS>` included.
 */
export function scoreSummary(score: Score): { loss: number; bitsPerToken: number; perplexity: number; tokens: number; logProb: number } {
  const loss = score.tokens > 0 ? score.lossSum / score.tokens : NaN;
  return { loss, bitsPerToken: loss / Math.LN2, perplexity: Math.exp(loss), tokens: score.tokens, logProb: -score.lossSum };
}
