import { totalmem } from 'node:os';
import { largestThatFits, mib, parameterCount } from '../checkpoint/size.js';
import { type ModelConfig, gateCount } from '../engine/config.js';
import { ARENA_LIMIT_BYTES, Arena } from '../engine/kernels/arena.js';
import { createKernels } from '../engine/kernels/index.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import { logSumExp } from '../engine/loss.js';
import { LanguageModel } from '../engine/model.js';
import { type InputError, SettingError } from '../input/settings.js';
import { EOS, type TextWriter, UNK, type Vocabulary } from '../text/vocab.js';
import { type PrimeTokens, continuationWriter, primeTokens } from './continuation.js';
import { likeliestToken } from './sample.js';
import { SAMPLE_SETTINGS, checkSampleSettings } from './settings.js';
import { type StopSignal, checkStopped } from './stop.js';
import { type Work, finish } from './turns.js';

export interface BeamOptions {
  config: ModelConfig;
  params: Float32Array;
  vocab: Vocabulary;
  /** Hypotheses kept at each step. */
  beam: number;
  /** Tokens to generate (the prime not counted). */
  length: number;
  /**
   * Text the model reads after the opening `<EOS>`, cut into its documents as the start of a text
   * (`Vocabulary.tokenize`, `primeTokens`), or its tokens as `tokenize` cut it (not cut again);
   * tokens outside the vocabulary read as `<UNK>`.
   */
  prime?: string | PrimeTokens;
  /** A hypothesis that draws `<EOS>` ends there (its `<EOS>` counts in its log-probability, not in its text). */
  stopAtEos?: boolean;
  /**
   * Length normalisation α: hypotheses are ranked by logProb / tokens^α, so that those that
   * end early (with --stop-at-eos) are not preferred for their length alone. 0 (the default)
   * ranks by the log-probability itself.
   */
  lengthPenalty?: number;
  /**
   * Receives the result's text in pieces (together they make `text`): each as soon as it is
   * settled, that is shared by every hypothesis that could still be the result (SettledText),
   * and the rest at the end.
   */
  onText?: (piece: string) => void;
  /** Stops the search before its next token (the prime's included): it then throws StoppedError. */
  signal?: StopSignal;
  kernels?: KernelsKind;
}

export interface BeamResult {
  /** The generated text, without the prime. */
  text: string;
  /** Σ ln p of the generated tokens under the model, the closing `<EOS>` included. */
  logProb: number;
  /** Tokens generated, the closing `<EOS>` included. */
  tokens: number;
  /**
   * The hypotheses the search ended with (live, at most N finished, and the greedy path where none is it), best first, each once,
   * with its tokens, by which lengthPenalty ranks it.
   */
  hypotheses: { text: string; logProb: number; tokens: number }[];
}

/**
 * Bytes a beam of `beam` hypotheses over `length` tokens takes: in its engine's arena the
 * parameters, the first layer's input table and N + 1 rows of state, gates and logits, and one
 * row more that reads the prime (with 64-byte alignment per tensor); beside it the rows'
 * log-probabilities, the prefix tree's four int32s per node, N nodes a step (twice that: the
 * tree grows by doubling), and per row the live hypotheses and the candidates' heap.
 */
export function beamBytes(config: ModelConfig, beam: number, length: number): { arena: number; total: number } {
  const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = config;
  const G = gateCount(config.cell) * H, rows = beam + 1;
  // a row's floats in a layer: the gates, and h (two steps), dh and the cell's own (an LSTM's c and tanh c, a GRU's candidate)
  const layerRow = G + (config.cell === 'rnn' ? 3 : 7) * H;
  // 64-byte alignment: up to 16 + 12·L tensors of the beam's model and beside it, 8 + 9·L of the prime's reader
  const arena = 4 * (parameterCount(config) + V * G + (rows + 1) * (V + E + 2 + H + L * layerRow)) + 64 * (24 + 21 * L);
  return { arena, total: arena + 8 * rows * V + 32 * beam * (length + 1) + 72 * rows };
}

/**
 * Checks that a beam of `beam` fits this machine and an engine's arena (a WebAssembly memory,
 * 4 GiB): when not, the error names the largest beam that does at this model and `length`, or,
 * where no beam does (a `length` whose hypotheses fill the memory), the longest `length` that
 * does with this beam.
 */
export function checkBeamFits(config: ModelConfig, beam: number, length: number): void {
  const memory = totalmem();
  const fits = (n: number, len: number) => {
    const bytes = beamBytes(config, n, len);
    return bytes.arena <= ARENA_LIMIT_BYTES && bytes.total <= memory;
  };
  if (fits(beam, length)) return;
  const { arena, total } = beamBytes(config, beam, length);
  const problem = arena > ARENA_LIMIT_BYTES
    ? `its engine needs about ${mib(arena)}, more than the ${mib(ARENA_LIMIT_BYTES)} an engine can address (a WebAssembly memory)`
    : `it needs about ${mib(total)} of memory, more than the ${mib(memory)} this machine has`;
  const largest = largestThatFits(beam, (n) => fits(n, length));
  if (largest > 0) {
    throw new SettingError('beam', beam, (name) =>
      `${name('beam')} ${beam}: ${problem}; ${name('beam')} ${largest} is the largest that fits with this model and ${name('len')}`);
  }
  const longest = largestThatFits(length, (len) => fits(beam, len));
  if (longest > 0) {
    throw new SettingError('len', length, (name) =>
      `${name('len')} ${length} with ${name('beam')} ${beam}: ${problem}; ${name('len')} ${longest} is the longest that fits with this model and ${name('beam')}`);
  }
  throw new SettingError('beam', beam, (name) => `${name('beam')} ${beam}: ${problem}; no beam fits with this model`);
}

/** Settings that a beam search takes but that change nothing, as warnings: a length penalty when every hypothesis has the same length. */
export function beamWarnings(opts: Pick<BeamOptions, 'stopAtEos' | 'lengthPenalty'>): InputError[] {
  if (opts.stopAtEos === true || !opts.lengthPenalty) return [];
  return [new SettingError('lengthPenalty', opts.lengthPenalty, (name) =>
    `${name('lengthPenalty')} has no effect without ${name('stopAtEos')}: every hypothesis then has the same length`)];
}

/**
 * Beam search: the continuation of the prime that a beam of N finds most probable under the
 * model, `<UNK>` never drawn (as in sampling). The prime is read once, by a batch of one
 * through the model's forward pass (T = 1), and every row starts from its state: a row's
 * numbers do not depend on how many rows share a product (docs/kernels.md), so each starts
 * as if it had read the prime itself, to the bit. The N hypotheses then advance together as
 * one batch of N rows through the same forward pass, with one row more that follows the
 * greedy path, so that the result is never less probable than `--temperature 0`'s: beam
 * search alone does not promise that. At each step every live hypothesis is extended by
 * every token, the N best extensions (ties: the earlier hypothesis, then within one the larger
 * logit, then the lower token id) are kept, and each row takes the state of the hypothesis it
 * extends. Hypotheses are distinct sequences by construction, so none is kept twice. A beam of
 * 1 is greedy decoding, `--temperature 0`'s path: within a hypothesis ln p = z − logsumexp(z)
 * orders its tokens as their logits do, and where float64 rounds two logits' ln p alike, the
 * logits still part them.
 * A hypothesis is a node of a prefix tree (its last token and a pointer to its parent), so a
 * step costs the same at any length: time is linear in `length`.
 */
export function beamSearch(opts: BeamOptions): BeamResult {
  return finish(beamSteps(opts));
}

/** `beamSearch` as work in pieces, one a token of the prime read or a step of the beam; the options are checked at once. */
export function beamSteps(opts: BeamOptions): Work<BeamResult> {
  checkSampleSettings({ beam: opts.beam, len: opts.length, stopAtEos: opts.stopAtEos, lengthPenalty: opts.lengthPenalty });
  checkBeamFits(opts.config, opts.beam, opts.length);
  return search(opts);
}

function* search(opts: BeamOptions): Work<BeamResult> {
  const { config, vocab, beam: N, length } = opts;
  const V = config.vocabSize, greedyRow = N; // the row after the beam's follows the greedy path
  const kernels = createKernels(opts.kernels, new Arena(undefined, 4 * opts.params.length));
  const params = kernels.arena.floats(opts.params.length);
  params.set(opts.params);
  const rows = N + 1;
  const model = new LanguageModel({ config, kernels, params, grads: null, batchSize: rows, seqLen: 1 });
  const reader = new LanguageModel({ config, kernels, params, grads: null, batchSize: 1, seqLen: 1 });
  const scratch = kernels.arena.floats(rows * config.hiddenSize), parents = new Int32Array(rows);
  const tokens = new Int32Array(rows);

  // a batch of one reads <EOS> and the prime, and every row starts from its state and logits
  const signal = opts.signal;
  const prime = primeTokens(vocab, opts.prime);
  yield* readPrime(reader, prime.ids, signal);
  model.spreadFrom(reader);
  const feed = () => {
    model.tokens.set(tokens);
    model.forward(null);
    model.carryState(1);
  };

  const penalty = opts.lengthPenalty ?? SAMPLE_SETTINGS.lengthPenalty.default, stopAtEos = opts.stopAtEos === true;
  const rank: RankOrder = (logProbA, tokensA, logProbB, tokensB) => rankOrder(penalty, logProbA, tokensA, logProbB, tokensB);
  const tree = new PrefixTree(N * Math.min(length, 1024) + 1);
  // the live hypotheses: their tree nodes and log-probabilities, the next step's in the second pair
  let live = new Int32Array(N), liveLogProb = new Float64Array(N), liveCount = 1;
  let next = new Int32Array(N), nextLogProb = new Float64Array(N);
  live[0] = PrefixTree.ROOT;
  const greedyIds = new Int32Array(length);
  let greedyLength = 0, greedyLogProb = 0, greedyDone = length === 0;
  const finished = new FinishedHypotheses(N, rank);
  const candidates = new Extensions(N);
  const logProbs = new Float64Array(rows * V);
  // the finished hypotheses a step puts out of the running (none of them can be the result): at most one a candidate
  const outOfRunning = new Int32Array(N);
  // with no length penalty a hypothesis's rank only falls as it goes on: one that ranks no higher than a finished one never wins
  const rankOnlyFalls = penalty === 0;

  const writerAfterPrime = () => continuationWriter(vocab, prime);
  const settled = opts.onText !== undefined ? new SettledText(writerAfterPrime(), opts.onText, stopAtEos) : null;

  let step = 0;
  for (; step < length && (liveCount > 0 || !greedyDone); step++) {
    checkStopped(signal);
    // ln p(v | hypothesis in row b) = z_v − logsumexp(z)
    for (let b = 0; b < rows; b++) {
      const lse = logSumExp(model.logits, b * V, V);
      for (let v = 0; v < V; v++) logProbs[b * V + v] = model.logits[b * V + v]! - lse;
    }
    candidates.choose(liveLogProb, liveCount, logProbs, model.logits, V);
    let nextCount = 0;
    let outCount = 0;
    for (let c = 0; c < candidates.count; c++) {
      const parent = candidates.parent[c]!, token = candidates.token[c]!, logProb = candidates.logProb[c]!;
      const node = tree.add(live[parent]!, token);
      if (token === EOS && stopAtEos) {
        const out = finished.offer(node, logProb, step + 1);
        if (out >= 0) outOfRunning[outCount++] = out;
      } else {
        parents[nextCount] = parent;
        tokens[nextCount] = token;
        next[nextCount] = node;
        nextLogProb[nextCount++] = logProb;
      }
    }
    // a finished hypothesis's prefix may be one that a later candidate of this step extends: released once all are added
    for (let o = 0; o < outCount; o++) tree.releaseIfChildless(outOfRunning[o]!);
    for (let b = 0; b < liveCount; b++) tree.releaseIfChildless(live[b]!);
    const spare = live, spareLogProb = liveLogProb;
    live = next;
    liveLogProb = nextLogProb;
    next = spare;
    nextLogProb = spareLogProb;
    liveCount = nextCount;
    if (settled !== null && rankOnlyFalls) {
      for (let b = 0; b < liveCount; b++) if (finished.beats(liveLogProb[b]!, step + 1)) tree.releaseIfChildless(live[b]!);
    }
    if (!greedyDone) {
      const token = likeliestToken(model.logits, greedyRow * V, V, UNK);
      greedyIds[greedyLength++] = token;
      greedyLogProb += logProbs[greedyRow * V + token]!;
      greedyDone = token === EOS && stopAtEos;
    }
    const greedyInRunning = (!greedyDone && !rankOnlyFalls) || !finished.beats(greedyLogProb, greedyLength);
    settled?.advance(tree, greedyIds, greedyLength, greedyInRunning);
    for (let b = liveCount; b < N; b++) parents[b] = tokens[b] = 0;
    parents[greedyRow] = greedyRow;
    model.gatherState(parents, scratch);
    tokens[greedyRow] = greedyLength > 0 ? greedyIds[greedyLength - 1]! : EOS;
    feed();
    yield;
  }

  const ended: Hypothesis[] = finished.best().map((h) => ({ ids: tree.path(h.node), logProb: h.logProb, tokens: h.tokens }));
  for (let b = 0; b < liveCount; b++) ended.push({ ids: tree.path(live[b]!), logProb: liveLogProb[b]!, tokens: step });
  const greedy = { ids: greedyIds.subarray(0, greedyLength), logProb: greedyLogProb, tokens: greedyLength };
  const ranked = rankedHypotheses(ended, greedy, rank);
  // a hypothesis that ended has its <EOS> in its log-probability, not in its text
  const textIds = (ids: Int32Array) => (stopAtEos && ids[ids.length - 1] === EOS ? ids.subarray(0, -1) : ids);
  const textOf = (ids: Int32Array) => writtenText(writerAfterPrime(), textIds(ids));
  const best = ranked[0]!;
  const text = settled !== null ? settled.finish(textIds(best.ids)) : textOf(best.ids);
  return {
    text, logProb: best.logProb, tokens: best.tokens,
    hypotheses: ranked.map((h, i) => ({ text: i === 0 ? text : textOf(h.ids), logProb: h.logProb, tokens: h.tokens })),
  };
}

/** Reads `<EOS>` and then the prime's `ids` into `reader`, a batch of one: a piece of work a token. */
function* readPrime(reader: LanguageModel, ids: Int32Array, signal: StopSignal | undefined): Work<void> {
  for (let t = 0; t <= ids.length; t++) {
    checkStopped(signal);
    reader.tokens[0] = t === 0 ? EOS : ids[t - 1]!;
    reader.forward(null);
    reader.carryState(1);
    yield;
  }
}

/** A hypothesis as the result lists it: its tokens, Σ ln p over them, and how many they are, by which lengthPenalty ranks it. */
interface Hypothesis {
  ids: Int32Array;
  logProb: number;
  tokens: number;
}

/**
 * The hypotheses a search ended with (the finished, then the live) and its greedy path, unless a hypothesis is it: best
 * first; ties keep the beam's order, and the greedy path after them.
 */
function rankedHypotheses(hypotheses: readonly Hypothesis[], greedy: Hypothesis, rank: RankOrder): Hypothesis[] {
  const ranked = hypotheses.map((h, order) => ({ ...h, order }));
  if (!ranked.some((h) => sameIds(h.ids, greedy.ids))) ranked.push({ ...greedy, order: ranked.length });
  ranked.sort((a, b) => rank(b.logProb, b.tokens, a.logProb, a.tokens) || a.order - b.order);
  return ranked;
}

/**
 * The text `writer` makes of `ids`, its end included, joined once from its pieces: a string grown
 * piece by piece would hold a node per token (tens of bytes each) until it is read.
 */
function writtenText(writer: TextWriter, ids: Int32Array): string {
  const pieces: string[] = [];
  for (const id of ids) pieces.push(writer.write(id));
  pieces.push(writer.end());
  return pieces.join('');
}

/** How a hypothesis of `logProbA` over `tokensA` ranks against one of `logProbB` over `tokensB`: > 0 higher, < 0 lower, 0 alike. */
type RankOrder = (logProbA: number, tokensA: number, logProbB: number, tokensB: number) => number;

/**
 * `RankOrder` by logProb / tokens^α (α the length penalty; no tokens count as one). Both
 * log-probabilities are ≤ 0, so where neither is 0 and the lengths differ,
 *   logProbA / tokensA^α > logProbB / tokensB^α  ⇔  α·(ln tokensA − ln tokensB) > ln(−logProbA) − ln(−logProbB),
 * compared so at every α: tokens^α overflows (7^400 already does), while the left side, where it
 * overflows, keeps the sign that orders the two.
 */
function rankOrder(penalty: number, logProbA: number, tokensA: number, logProbB: number, tokensB: number): number {
  if (penalty === 0 || tokensA === tokensB || logProbA === 0 || logProbB === 0) return logProbA - logProbB;
  const lengthGain = penalty * (Math.log(Math.max(tokensA, 1)) - Math.log(Math.max(tokensB, 1)));
  return lengthGain - (Math.log(-logProbA) - Math.log(-logProbB));
}

function sameIds(a: Int32Array, b: Int32Array): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

/**
 * The hypotheses as a tree of tokens: a node is a hypothesis's last token and a pointer to its
 * parent (the root: the prime), so that extending a hypothesis costs one node however long it
 * is. Each node counts its children that lead to a hypothesis still in the running (one that
 * could be the result) and keeps the XOR of their ids, which names the child when one is left:
 * where every such hypothesis shares a prefix, the counted tree has a single path.
 */
class PrefixTree {
  static readonly ROOT = 0;
  /** The count of a node released: out of its parent's count, and of the running with all it leads to. */
  private static readonly RELEASED = -1;
  token: Int32Array;
  parent: Int32Array;
  private children: Int32Array;
  private childXor: Int32Array;
  private size = 1;

  constructor(capacity: number) {
    this.token = new Int32Array(capacity).fill(-1);
    this.parent = new Int32Array(capacity).fill(-1);
    this.children = new Int32Array(capacity);
    this.childXor = new Int32Array(capacity);
  }

  /** A new node: `token` after the hypothesis at `parent`; released already where `parent` is. */
  add(parent: number, token: number): number {
    if (this.size === this.token.length) this.grow();
    const node = this.size++;
    this.token[node] = token;
    this.parent[node] = parent;
    if (this.children[parent] === PrefixTree.RELEASED) {
      this.children[node] = PrefixTree.RELEASED;
    } else {
      this.children[parent]!++;
      this.childXor[parent]! ^= node;
    }
    return node;
  }

  /**
   * A hypothesis that no kept one extends, or that can no longer be the result, no longer holds its
   * prefix: it leaves its parent's count, and so on up while childless. Its path stays readable.
   */
  releaseIfChildless(node: number): void {
    while (node !== PrefixTree.ROOT && this.children[node] === 0) {
      const parent = this.parent[node]!;
      this.children[parent]!--;
      this.childXor[parent]! ^= node;
      this.children[node] = PrefixTree.RELEASED;
      node = parent;
    }
  }

  /** The node's one child, or -1 when it has none or several. */
  onlyChild(node: number): number {
    return this.children[node] === 1 ? this.childXor[node]! : -1;
  }

  /** The tokens from the root to `node`. */
  path(node: number): Int32Array {
    let depth = 0;
    for (let at = node; at !== PrefixTree.ROOT; at = this.parent[at]!) depth++;
    const ids = new Int32Array(depth);
    for (let at = node; at !== PrefixTree.ROOT; at = this.parent[at]!) ids[--depth] = this.token[at]!;
    return ids;
  }

  private grow(): void {
    const grown = (from: Int32Array) => {
      const to = new Int32Array(2 * from.length);
      to.set(from);
      return to;
    };
    this.token = grown(this.token);
    this.parent = grown(this.parent);
    this.children = grown(this.children);
    this.childXor = grown(this.childXor);
  }
}

/**
 * The result's text as it settles, for a search that streams it (`BeamOptions.onText`): the
 * tokens that every hypothesis still in the running shares (the tree's single path from its
 * root: the live hypotheses and the best finished one, less those that rank no higher than
 * it where ranks only fall) and, while it too may be the result, the greedy path; then the
 * rest at the end. A finished hypothesis's closing `<EOS>` is not written: it is not in its text.
 */
class SettledText {
  /** The end of the settled path, and the tokens on it. */
  private node = PrefixTree.ROOT;
  private length = 0;
  private readonly written: string[] = [];

  constructor(
    private readonly writer: TextWriter, private readonly onText: (piece: string) => void, private readonly stopAtEos: boolean,
  ) {}

  /**
   * Writes the tokens that have settled since the last step; while `greedyInRunning` they must
   * also be the greedy path's (its first `greedyLength` tokens).
   */
  advance(tree: PrefixTree, greedyIds: Int32Array, greedyLength: number, greedyInRunning: boolean): void {
    for (let child = tree.onlyChild(this.node); child >= 0; child = tree.onlyChild(this.node)) {
      const token = tree.token[child]!;
      if (token === EOS && this.stopAtEos) return;
      if (greedyInRunning && (this.length >= greedyLength || greedyIds[this.length] !== token)) return;
      const piece = this.writer.write(token);
      this.written.push(piece);
      this.onText(piece);
      this.node = child;
      this.length++;
    }
  }

  /**
   * The text of the result's tokens `ids` (a closing `<EOS>` left off), whose settled tokens are
   * written: the rest written and passed on, and the whole returned.
   */
  finish(ids: Int32Array): string {
    const tail = writtenText(this.writer, ids.subarray(this.length));
    if (tail.length > 0) this.onText(tail);
    this.written.push(tail);
    return this.written.join('');
  }
}

/**
 * The N best hypotheses that ended at `<EOS>` (a worse one can never be the result), in the order
 * they ended, and the one that leads them: the best, the earliest of equals, as the result ranks
 * them. Only the leader can be the result; it stays kept until a better one ends.
 */
class FinishedHypotheses {
  private kept: { node: number; logProb: number; tokens: number; order: number }[] = [];
  private ended = 0;
  private leader = -1;
  private leaderLogProb = 0;
  private leaderTokens = 0;

  constructor(private readonly n: number, private readonly rank: RankOrder) {}

  /**
   * Keeps the hypothesis ended at `node` while it is among the N best; returns the node that this
   * puts out of the running (the one ended, unless it leads now; else the leader before it, if
   * any), which the caller releases from the tree, else -1. A node dropped from the N best was out
   * of the running already.
   */
  offer(node: number, logProb: number, tokens: number): number {
    this.kept.push({ node, logProb, tokens, order: this.ended++ });
    let out = node;
    if (!this.beats(logProb, tokens)) {
      out = this.leader;
      this.leader = node;
      this.leaderLogProb = logProb;
      this.leaderTokens = tokens;
    }
    this.dropWorst();
    return out;
  }

  /** Whether the leader ranks at least as high as a hypothesis of `logProb` over `tokens` that ends after it. */
  beats(logProb: number, tokens: number): boolean {
    return this.leader >= 0 && this.rank(this.leaderLogProb, this.leaderTokens, logProb, tokens) >= 0;
  }

  private dropWorst(): void {
    if (this.kept.length <= this.n) return;
    let worst = 0;
    for (let i = 1; i < this.kept.length; i++) {
      const a = this.kept[i]!, w = this.kept[worst]!;
      if (this.rank(a.logProb, a.tokens, w.logProb, w.tokens) <= 0) worst = i;
    }
    this.kept.splice(worst, 1);
  }

  best(): readonly { node: number; logProb: number; tokens: number }[] {
    return this.kept;
  }
}

/**
 * The n best one-token extensions of the live hypotheses (`<UNK>` excluded), best first; ties:
 * the earlier hypothesis, then within one the larger logit, then the lower token. A heap of the
 * n best so far with the worst on top, so a step costs O(N·V·log N) at any beam; every buffer is
 * allocated once.
 */
class Extensions {
  readonly parent: Int32Array;
  readonly token: Int32Array;
  readonly logProb: Float64Array;
  count = 0;
  private readonly heapParent: Int32Array;
  private readonly heapToken: Int32Array;
  private readonly heapLogProb: Float64Array;
  /** The step's logits, a row of V for each live hypothesis: they rank its extensions whose log-probabilities tie. */
  private logits: Float32Array = new Float32Array(0);
  private vocabSize = 0;

  constructor(private readonly n: number) {
    this.parent = new Int32Array(n);
    this.token = new Int32Array(n);
    this.logProb = new Float64Array(n);
    this.heapParent = new Int32Array(n);
    this.heapToken = new Int32Array(n);
    this.heapLogProb = new Float64Array(n);
  }

  choose(liveLogProb: Float64Array, liveCount: number, logProbs: Float64Array, logits: Float32Array, V: number): void {
    const n = this.n;
    this.logits = logits;
    this.vocabSize = V;
    let size = 0;
    // an extension's log-probability: ln p(h · v) = ln p(h) + ln p(v | h)
    // candidates come in hypothesis order: a later one beats the worst kept with a higher log-probability, or at a tie in
    // the same hypothesis with a larger logit
    for (let parent = 0; parent < liveCount; parent++) {
      for (let token = 0; token < V; token++) {
        if (token === UNK) continue;
        const logProb = liveLogProb[parent]! + logProbs[parent * V + token]!;
        if (size < n) {
          this.siftUp(size++, parent, token, logProb);
        } else if (logProb > this.heapLogProb[0]! ||
          (logProb === this.heapLogProb[0]! && this.belowAtTie(this.heapParent[0]!, this.heapToken[0]!, parent, token))) {
          this.siftDown(size, parent, token, logProb);
        }
      }
    }
    this.count = size;
    // the worst kept is the heap's top: taken off it one at a time, they fill the list from its end
    for (let last = size - 1; last >= 0; last--) {
      this.parent[last] = this.heapParent[0]!;
      this.token[last] = this.heapToken[0]!;
      this.logProb[last] = this.heapLogProb[0]!;
      if (last > 0) this.siftDown(last, this.heapParent[last]!, this.heapToken[last]!, this.heapLogProb[last]!);
    }
  }

  /** Whether heap entry `a` ranks below entry `b`: a lower log-probability, or at a tie `belowAtTie`. */
  private worse(a: number, b: number): boolean {
    const la = this.heapLogProb[a]!, lb = this.heapLogProb[b]!;
    if (la !== lb) return la < lb;
    return this.belowAtTie(this.heapParent[a]!, this.heapToken[a]!, this.heapParent[b]!, this.heapToken[b]!);
  }

  /**
   * Whether extension `tokenA` of hypothesis `parentA` ranks below `tokenB` of `parentB` at equal
   * log-probability: the later hypothesis, or in the same one the smaller logit, then the higher token.
   */
  private belowAtTie(parentA: number, tokenA: number, parentB: number, tokenB: number): boolean {
    if (parentA !== parentB) return parentA > parentB;
    const row = parentA * this.vocabSize, za = this.logits[row + tokenA]!, zb = this.logits[row + tokenB]!;
    return za !== zb ? za < zb : tokenA > tokenB;
  }

  private set(at: number, parent: number, token: number, logProb: number): void {
    this.heapParent[at] = parent;
    this.heapToken[at] = token;
    this.heapLogProb[at] = logProb;
  }

  private move(to: number, from: number): void {
    this.set(to, this.heapParent[from]!, this.heapToken[from]!, this.heapLogProb[from]!);
  }

  /** Adds an entry at the end (`at`) and lifts it while it is worse than its parent. */
  private siftUp(at: number, parent: number, token: number, logProb: number): void {
    this.set(at, parent, token, logProb);
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!this.worse(at, up)) break;
      this.swap(at, up);
      at = up;
    }
  }

  /** Replaces the top (the worst kept) with an entry and sinks it below every worse child. */
  private siftDown(size: number, parent: number, token: number, logProb: number): void {
    this.set(0, parent, token, logProb);
    let at = 0;
    for (;;) {
      const left = 2 * at + 1, right = left + 1;
      let worst = at;
      if (left < size && this.worse(left, worst)) worst = left;
      if (right < size && this.worse(right, worst)) worst = right;
      if (worst === at) return;
      this.swap(at, worst);
      at = worst;
    }
  }

  private swap(a: number, b: number): void {
    const parent = this.heapParent[a]!, token = this.heapToken[a]!, logProb = this.heapLogProb[a]!;
    this.move(a, b);
    this.set(b, parent, token, logProb);
  }
}
