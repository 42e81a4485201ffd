import type { ModelConfig } from '../engine/config.js';
import { Stepper, type TokenStepper } from '../engine/stepper.js';
import { Rng } from '../engine/random.js';
import { EOS, UNK, UNK_TOKEN, type Vocabulary } from '../text/vocab.js';
import { optionMessage } from '../input/issues.js';
import { checkPositiveInteger } from '../input/settings.js';
import { type UnkMode, checkSampleSettings } from './settings.js';
import { type PrimeTokens, continuationWriter, primeTokens } from './continuation.js';
import { type StopSignal, StoppedError, checkStopped } from './stop.js';
import { type Work, finish } from './turns.js';
import type { SamplePiece } from './piece.js';

export interface SampleOptions {
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
  /** Tokens to draw (the prime not counted); a drawn `<EOS>` counts as one. */
  length: number;
  /** Softmax temperature; 0 means argmax. */
  temperature: number;
  /** Draw only among the k most probable tokens. */
  topK?: number;
  /** Draw only among the smallest set of most probable tokens whose mass reaches p (nucleus sampling). */
  topP?: number;
  /**
   * Text the model reads after the opening `<EOS>` before drawing, cut into its documents as the
   * start of a text (`Vocabulary.tokenize`, `primeTokens`), or its tokens as `tokenize` cut it (not
   * cut again); tokens outside the vocabulary read as `<UNK>`.
   */
  prime?: string | PrimeTokens;
  seed: number;
  /** Stop when `<EOS>` is drawn (it is not part of the result). */
  stopAtEos?: boolean;
  /** What becomes of `<UNK>`; default 'resample' (never drawn). */
  unk?: UnkMode;
  /** Receives the text of each drawn token as it is drawn. */
  onText?: (chunk: string) => void;
  /** What runs the model one token at a time (an InferencePool for several threads); default: a Stepper here. */
  stepper?: TokenStepper;
  /** Ends the sample before its next token (the prime's included). */
  signal?: StopSignal;
}

/**
 * Generates text from the model (docs/text.md): reads `<EOS>` and then the prime from a zero
 * state, then draws `length` tokens one at a time; `<UNK>` as `unk` says (by default never).
 * Tokens become text through the vocabulary's writer, which has read the prime's ids first
 * (`read`: none of their text written), so that at the word level the first drawn word is
 * spaced after the prime as the detokeniser spaces it. Returns the generated text without the prime.
 */
export function sampleText(opts: SampleOptions): string {
  const pieces: string[] = [];
  for (const { text } of samplePieces(opts)) {
    pieces.push(text);
    opts.onText?.(text);
  }
  return pieces.join('');
}

/**
 * The text of each token `sampleText` draws, one piece at a time as it is drawn, holding none
 * of them: a sample of any length in constant memory, which the caller may stop at any point.
 */
function* samplePieces(opts: SampleOptions): Generator<SamplePiece, void, undefined> {
  const { readPrime, pieces } = sampleParts(opts);
  if (finish(readPrime)) yield* pieces;
}

/**
 * `samplePieces` in its two parts, for a caller that runs the first in turns: the work of reading
 * `<EOS>` and the prime (its result false when stopped first), then the pieces drawn.
 */
export function sampleParts(opts: SampleOptions): { readPrime: Work<boolean>; pieces: Generator<SamplePiece, void, undefined> } {
  const sampling = startSampling(opts, opts.stepper ?? new Stepper(opts.config, opts.params));
  return { readPrime: sampling.readPrime(), pieces: sampling.draw(opts.seed) };
}

/**
 * The most samples `sampleCompletions` draws at once: they come back as one array, and V8 ends
 * the process, with no error to catch, when an array grows past some 1.1e8 elements.
 */
const COMPLETIONS_MAX = 2 ** 26;

export interface CompletionOptions extends Omit<SampleOptions, 'onText' | 'stepper'> {
  /** Samples of the prime: sample i draws with seed + i (mod 2^32). */
  n: number;
  stepper?: Stepper;
}

/**
 * `n` samples of one prime, as `n` calls of sampleText with seeds seed, seed + 1, …
 * would draw them, to the bit: the prime is read once, and each sample starts from the state
 * and logits it left (Stepper.save and restore), where each call would have read it again.
 * Throws StoppedError once `signal` is aborted.
 */
export function sampleCompletions(opts: CompletionOptions): string[] {
  return finish(completionSteps(opts));
}

/** `sampleCompletions` as work in pieces, one a token read or drawn; the options are checked at once. */
export function completionSteps(opts: CompletionOptions): Work<string[]> {
  if (checkPositiveInteger('n', opts.n) > COMPLETIONS_MAX) {
    throw new RangeError(optionMessage('n', { expected: `at most ${COMPLETIONS_MAX}, the most samples one call returns`, value: opts.n }));
  }
  const stepper = opts.stepper ?? new Stepper(opts.config, opts.params);
  return drawCompletions(startSampling(opts, stepper), stepper, opts);
}

function* drawCompletions(sampling: Sampling, stepper: Stepper, opts: CompletionOptions): Work<string[]> {
  if (!(yield* sampling.readPrime())) throw new StoppedError(opts.signal);
  stepper.save();
  const completions: string[] = [];
  for (let i = 0; i < opts.n; i++) {
    if (i > 0) stepper.restore();
    const pieces: string[] = [];
    for (const { text } of sampling.draw((opts.seed + i) >>> 0)) {
      pieces.push(text);
      yield;
    }
    checkStopped(opts.signal);
    completions.push(pieces.join(''));
  }
  return completions;
}

type Sampling = ReturnType<typeof startSampling>;

/**
 * A sample's parts over a stepper: it reads `<EOS>` and the prime from the zero state, a piece
 * of work a token (`readPrime`: false when stopped first), then draws from where that left it.
 */
function startSampling(opts: SampleOptions, stepper: TokenStepper) {
  const { config, vocab, length, temperature } = opts;
  checkSampleOptions(opts);
  vocab.checkModelSize(config.vocabSize);
  stepper.reset();
  const showUnk = opts.unk === 'show';
  const sampler = new TokenSampler(config.vocabSize, temperature, opts.topK ?? null, opts.topP ?? null, showUnk);
  const prime = primeTokens(vocab, opts.prime);
  const signal = opts.signal, stopAtEos = opts.stopAtEos === true;
  return {
    *readPrime(): Work<boolean> {
      for (let t = 0; t <= prime.ids.length; t++) {
        if (signal?.aborted) return false;
        stepper.advance(t === 0 ? EOS : prime.ids[t - 1]!);
        yield;
      }
      return true;
    },
    *draw(seed: number): Generator<SamplePiece, void, undefined> {
      const rng = new Rng(seed);
      const writer = continuationWriter(vocab, prime, showUnk ? { unk: UNK_TOKEN } : {});
      // the piece of a token the writer holds back for the one after it, yielded with that one's
      let waiting: string | null = null;
      for (let count = 0; count < length;) {
        if (signal?.aborted) break;
        const id = sampler.draw(stepper, rng);
        if (id === EOS && stopAtEos) break;
        count++;
        // a drawn <EOS> ends the text a held token waits for, as the sample's end does: the held
        // token's text goes in its own piece, so that the <EOS>'s is what parts the documents alone
        if (id === EOS && waiting !== null) waiting += writer.end();
        const piece = writer.write(id);
        if (waiting !== null) yield { text: waiting, eos: false };
        waiting = writer.holding ? piece : null;
        if (waiting === null) yield { text: piece, eos: id === EOS };
        if (count < length) stepper.advance(id);
      }
      if (waiting !== null) yield { text: waiting + writer.end(), eos: false };
    },
  };
}

function checkSampleOptions(opts: SampleOptions): void {
  const { length, temperature, topK, topP, seed, stopAtEos, unk } = opts;
  checkSampleSettings({ len: length, temperature, topK, topP, seed, stopAtEos, unk });
}

/**
 * The id of the largest of the `V` logits from `offset`, `excluded` (when >= 0) left out, the lowest
 * id of a tie: what temperature 0 draws, and the path beam search keeps beside its hypotheses.
 */
export function likeliestToken(logits: Float32Array, offset: number, V: number, excluded: number): number {
  let max = -Infinity, argmax = EOS;
  for (let v = 0; v < V; v++) {
    if (v !== excluded && logits[offset + v]! > max) {
      max = logits[offset + v]!;
      argmax = v;
    }
  }
  return argmax;
}

/** What a token is drawn from: the next token's logits, and its distribution (TokenStepper's). */
export type NextToken = Pick<TokenStepper, 'logits' | 'probabilities'>;

/**
 * Draws a token id from the next token's distribution with temperature, top-k and top-p,
 * `<UNK>` excluded unless `drawsUnk`. Every buffer is allocated once here, and the
 * distribution is the stepper's (its kernels' softmax); `draw` allocates nothing.
 */
export class TokenSampler {
  /** The distribution being drawn from (NextToken.probabilities'), while `draw` runs. */
  private probs: Float32Array = new Float32Array(0);
  /**
   * Its logits, which rank the tokens: p_v ∝ exp(z_v / T) orders them as z does, where float32
   * probabilities at a high temperature round to ties.
   */
  private logits: Float32Array = new Float32Array(0);
  /** Candidate ids; while filtering, a max-heap by logit (ties: lower id first). */
  private readonly heap: Int32Array;
  /** The kept ids, most probable first. */
  private readonly kept: Int32Array;
  /** How many of `kept` the last `filter` kept. */
  private keptCount = 0;
  /** The id never drawn: `UNK`, or none (-1) when `<UNK>` may be drawn. */
  private readonly excluded: number;
  /**
   * Whether top-k or top-p leaves a token out: top-p 1, or a top-k of every token that may be drawn, keeps
   * them all, and draws as no filter does, the same token for the same seed.
   */
  private readonly filters: boolean;

  constructor(
    readonly vocabSize: number,
    readonly temperature: number,
    readonly topK: number | null,
    readonly topP: number | null,
    drawsUnk = false,
  ) {
    this.excluded = drawsUnk ? -1 : UNK;
    const candidates = drawsUnk ? vocabSize : vocabSize - 1;
    this.filters = (topK !== null && topK < candidates) || (topP !== null && topP < 1);
    this.heap = new Int32Array(vocabSize);
    this.kept = new Int32Array(vocabSize);
  }

  /** A token id drawn from what `next` holds. */
  draw(next: NextToken, rng: Rng): number {
    if (this.temperature === 0) return likeliestToken(next.logits, 0, this.vocabSize, this.excluded);
    // p_v ∝ exp(z_v / T), with p_UNK = 0 unless <UNK> may be drawn
    const V = this.vocabSize, probs = (this.probs = next.probabilities(this.temperature, this.excluded));
    this.logits = next.logits;
    let total = 0;
    for (let v = 0; v < V; v++) total += probs[v]!;
    // z / T past float32's range (a temperature near 0) leaves NaN: the distribution there is its limit, the argmax
    if (Number.isNaN(total)) return likeliestToken(next.logits, 0, V, this.excluded);
    if (!this.filters) {
      // the first v whose cumulative mass passes u: Σ_{w ≤ v} p_w > u, u uniform in [0, total)
      let u = rng.uniform() * total;
      for (let v = 0; v < V; v++) {
        if (probs[v]! > 0 && (u -= probs[v]!) < 0) return v;
      }
      return likeliestToken(next.logits, 0, V, this.excluded); // u ran past the end by rounding
    }

    // p'_v = p_v / Σ_{w kept} p_w over the kept tokens, most probable first
    let u = rng.uniform() * this.filter(total);
    for (let i = 0; i < this.keptCount; i++) {
      if ((u -= probs[this.kept[i]!]!) < 0) return this.kept[i]!;
    }
    return this.kept[0]!;
  }

  /**
   * Fills `kept` with the ids v_1, v_2, … most probable first, as many as top-k and top-p keep (top-p's
   * nucleus: the fewest whose mass reaches p, the token that crosses it kept), and returns their mass:
   *   m = min(k, min{ j : Σ_{i ≤ j} p_{v_i} ≥ p · total }),   mass = Σ_{i ≤ m} p_{v_i}
   */
  private filter(total: number): number {
    const heap = this.heap;
    let n = 0;
    for (let v = 0; v < this.vocabSize; v++) if (v !== this.excluded) heap[n++] = v;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i, n);
    const k = this.topK ?? n, p = this.topP ?? 1;
    let count = 0, mass = 0;
    while (n > 0 && count < k) {
      const top = heap[0]!;
      this.kept[count++] = top;
      heap[0] = heap[--n]!;
      this.siftDown(0, n);
      mass += this.probs[top]!;
      if (mass >= p * total) break;
    }
    this.keptCount = count;
    return mass;
  }

  /** Whether id a ranks above id b: more probable (a larger logit), or as probable and lower. */
  private above(a: number, b: number): boolean {
    const za = this.logits[a]!, zb = this.logits[b]!;
    return za > zb || (za === zb && a < b);
  }

  private siftDown(i: number, n: number): void {
    const heap = this.heap;
    for (;;) {
      const left = 2 * i + 1, right = left + 1;
      let best = i;
      if (left < n && this.above(heap[left]!, heap[best]!)) best = left;
      if (right < n && this.above(heap[right]!, heap[best]!)) best = right;
      if (best === i) return;
      const t = heap[i]!;
      heap[i] = heap[best]!;
      heap[best] = t;
      i = best;
    }
  }
}
