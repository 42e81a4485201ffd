import type { ModelConfig } from '../engine/config.js';
import { Arena } from '../engine/kernels/arena.js';
import { createKernels } from '../engine/kernels/index.js';
import type { KernelsKind } from '../engine/kernels/kernels.js';
import { logSumExp } from '../engine/loss.js';
import { LanguageModel } from '../engine/model.js';
import { EOS, UNK, type Vocabulary } from '../text/vocab.js';
import { checkSampleSettings } from './settings.js';

export interface BeamOptions {
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
  /** Hypotheses kept at each step. */
  beam: number;
  /** Tokens to generate (the prime not counted). */
  length: number;
  /** Text the model reads after the opening `<EOS>`; unknown characters read as `<UNK>`. */
  prime?: string;
  /** A hypothesis that draws `<EOS>` ends there (its `<EOS>` counts in its log-probability, not in its text). */
  stopAtEos?: boolean;
  /**
   * Length normalisation α: hypotheses are ranked by logProb / tokens^α, so that those that
   * end early (with --stop-at-eos) are not preferred for their length alone. 0 (the default)
   * ranks by the log-probability itself.
   */
  lengthPenalty?: number;
  kernels?: KernelsKind;
}

export interface BeamResult {
  /** The generated text, without the prime. */
  text: string;
  /** Σ ln p of the generated tokens under the model, the closing `<EOS>` included. */
  logProb: number;
  /** Tokens generated, the closing `<EOS>` included. */
  tokens: number;
  /** Every hypothesis the search ended with (finished and live, and the greedy one), best first. */
  hypotheses: { text: string; logProb: number }[];
}

/**
 * Beam search: the continuation of the prime that a beam of N finds most probable under the
 * model, `<UNK>` never drawn (as in sampling). The N hypotheses advance together as one batch
 * of N rows through the model's forward pass (T = 1), with one row more that follows the
 * greedy path, so that the result is never less probable than `--temperature 0`'s: beam
 * search alone does not promise that. At each step every live hypothesis is extended by
 * every token, the N best extensions (ties: the earlier hypothesis, then the lower token id)
 * are kept, and each row takes the state of the hypothesis it extends. Hypotheses are
 * distinct sequences by construction, so none is kept twice. A beam of 1 is greedy decoding.
 */
export function beamSearch(opts: BeamOptions): BeamResult {
  const { config, vocab, beam: N, length } = opts;
  checkSampleSettings({ beam: N, length, lengthPenalty: opts.lengthPenalty }, { length: 'len' });
  const V = config.vocabSize, G = N; // row G follows the greedy path
  const kernels = createKernels(opts.kernels, new Arena(undefined, 4 * opts.params.length));
  const params = kernels.arena.floats(opts.params.length);
  params.set(opts.params);
  const model = new LanguageModel({ config, kernels, params, grads: null, batchSize: N + 1, seqLen: 1 });
  const rows = N + 1, scratch = kernels.arena.floats(rows * config.hiddenSize), parents = new Int32Array(rows);

  // every row reads <EOS> and the prime
  const feed = (tokens: ArrayLike<number>) => {
    model.tokens.set(tokens);
    model.forward(null);
    model.carryState(1);
  };
  for (const token of [EOS, ...vocab.encode(opts.prime ?? '')]) feed(new Int32Array(rows).fill(token));

  const penalty = opts.lengthPenalty ?? 0, stopAtEos = opts.stopAtEos === true;
  const rank = (h: Hypothesis) => (penalty === 0 || h.ids.length === 0 ? h.logProb : h.logProb / Math.pow(h.ids.length, penalty));
  let live: Hypothesis[] = [{ ids: [], logProb: 0 }];
  let greedy: Hypothesis = { ids: [], logProb: 0 }, greedyDone = length === 0;
  const finished: Hypothesis[] = [];
  const logProbs = new Float64Array(rows * V);
  for (let step = 0; step < length && (live.length > 0 || !greedyDone); step++) {
    // ln p(v | hypothesis in row b) = z_v − logsumexp(z)
    for (let b = 0; b < rows; b++) {
      const lse = logSumExp(model.logits, b * V, V);
      for (let v = 0; v < V; v++) logProbs[b * V + v] = model.logits[b * V + v]! - lse;
    }
    const candidates = bestExtensions(live, logProbs, V, N);
    const next: Hypothesis[] = [];
    for (const c of candidates) {
      const hypothesis = { ids: [...live[c.parent]!.ids, c.token], logProb: c.logProb };
      if (c.token === EOS && stopAtEos) finished.push(hypothesis);
      else {
        parents[next.length] = c.parent;
        next.push(hypothesis);
      }
    }
    if (!greedyDone) {
      const token = argmax(logProbs, G * V, V);
      greedy = { ids: [...greedy.ids, token], logProb: greedy.logProb + logProbs[G * V + token]! };
      greedyDone = token === EOS && stopAtEos;
    }
    live = next;
    for (let b = live.length; b < N; b++) parents[b] = 0;
    parents[G] = G;
    model.gatherState(parents, scratch);
    const tokens = new Int32Array(rows);
    live.forEach((h, b) => { tokens[b] = h.ids[h.ids.length - 1]!; });
    tokens[G] = greedy.ids[greedy.ids.length - 1] ?? EOS;
    feed(tokens);
  }
  // best first; ties keep the beam's order, and the greedy path after them
  const ranked = [...finished, ...live, greedy].map((h, order) => ({ h, order }))
    .sort((a, b) => rank(b.h) - rank(a.h) || a.order - b.order).map(({ h }) => h);
  const textOf = (h: Hypothesis) => {
    const ended = stopAtEos && h.ids[h.ids.length - 1] === EOS;
    return vocab.decode(ended ? h.ids.slice(0, -1) : h.ids, { eos: '\n' });
  };
  const best = ranked[0]!;
  return {
    text: textOf(best), logProb: best.logProb, tokens: best.ids.length,
    hypotheses: ranked.map((h) => ({ text: textOf(h), logProb: h.logProb })),
  };
}

interface Hypothesis {
  ids: number[];
  logProb: number;
}

interface Extension {
  parent: number;
  token: number;
  logProb: number;
}

/** The n best one-token extensions of the live hypotheses (`<UNK>` excluded), best first. */
function bestExtensions(live: Hypothesis[], logProbs: Float64Array, V: number, n: number): Extension[] {
  const best: Extension[] = [];
  // ties keep the earlier candidate: hypotheses in order, tokens in order
  const worse = (a: Extension, b: Extension) => a.logProb < b.logProb;
  live.forEach((h, parent) => {
    for (let token = 0; token < V; token++) {
      if (token === UNK) continue;
      const logProb = h.logProb + logProbs[parent * V + token]!;
      if (best.length === n && !(logProb > best[n - 1]!.logProb)) continue;
      const candidate = { parent, token, logProb };
      let at = best.length;
      while (at > 0 && worse(best[at - 1]!, candidate)) at--;
      best.splice(at, 0, candidate);
      if (best.length > n) best.pop();
    }
  });
  return best;
}

/** The most probable token of a row, `<UNK>` excluded (ties: the lower id), as sampling's argmax. */
function argmax(logProbs: Float64Array, off: number, V: number): number {
  let best = EOS;
  for (let v = 0; v < V; v++) if (v !== UNK && logProbs[off + v]! > logProbs[off + best]!) best = v;
  return best;
}
