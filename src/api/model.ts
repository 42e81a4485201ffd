import { type LoadedModel, loadModel as loadCheckpointModel } from '../checkpoint/load.js';
import type { HistoryEntry } from '../checkpoint/schema.js';
import { resolveCheckpointPath } from '../checkpoint/find.js';
import type { ModelConfig } from '../engine/config.js';
import type { KernelsChoice, KernelsKind } from '../engine/kernels/kinds.js';
import { GenerationWeights, Stepper, type TokenStepper } from '../engine/stepper.js';
import { type BeamResult, beamSteps, beamWarnings } from '../generate/beam.js';
import type { SamplePiece } from '../generate/piece.js';
import { type SampleOptions, completionSteps, sampleParts } from '../generate/sample.js';
import { SAMPLE_SETTINGS, type UnkMode, greedyWarnings } from '../generate/settings.js';
import { SCORE_TOP, type Score, scoreChunkSteps, scoreSteps, scoreStream, scoreSummary } from '../generate/score.js';
import { type StopSignal, StoppedError, checkStopped } from '../generate/stop.js';
import { Turns, type Work, finish, finishInTurns } from '../generate/turns.js';
import { preparedValidationSplit, validationSplit } from '../checkpoint/corpus.js';
import { type InputError, checkPositiveInteger, checkedOption, integerFrom } from '../input/settings.js';
import { InferencePool } from '../parallel/inference.js';
import { threadsOnCores, threadsRunning } from '../parallel/threads.js';
import { stepsPerEpoch } from '../text/batches.js';
import { type PieceSource, type UnknownTokens, documentIds, unknownTokens } from '../text/corpus.js';
import { textFilePieces } from '../text/corpus-stream.js';
import { fileName } from '../text/corpus-files.js';
import type { DocsMode, DocumentRule } from '../text/documents.js';
import type { SentenceRule } from '../text/sentences.js';
import type { TokenArray } from '../text/tokens.js';
import { EOS, type TextLevel, type TokenizedText, type Vocabulary } from '../text/vocab.js';
import {
  type CallOptions, asRangeError, checkCallback, checkLoaded, checkOptions, checkPrime, checkScoreCall, checkScored, checkText,
  libraryKernels,
} from './checks.js';

export { type SamplePiece, type StopSignal, StoppedError, type TokenizedText };

export interface GenerateOptions {
  /** Text the model reads before drawing (not repeated in the output), or what this model's `tokenize` made of it. */
  prime?: string | TokenizedText;
  /** Tokens to draw, the prime not counted (default 200). */
  len?: number;
  /** Softmax temperature; 0 picks the most probable token (default 1). */
  temperature?: number;
  /** Draw only among the k most probable tokens (a positive integer; by default all tokens). */
  topK?: number;
  /** Draw only among the fewest most probable tokens whose probabilities reach p (0 < p <= 1; by default all tokens). */
  topP?: number;
  /** The random stream's seed, an integer from 0 to 2^32 − 1; default a random one. */
  seed?: number;
  /** End when the model draws `<EOS>`, the end of a document (default false). */
  stopAtEos?: boolean;
  /** `resample` (the default): `<UNK>` is never drawn; `show`: it may be, and is written `<UNK>`. */
  unk?: UnkMode;
  /** Stops the generation before its next token. */
  signal?: StopSignal;
  /**
   * Told each option given that changes nothing (`topK`, `topP` or `seed` beside `temperature: 0`), in one line naming
   * it, before the first token; the result is the one without it.
   */
  onWarning?: (message: string) => void;
  /** Threads that share each step (parallel/inference.ts), the cores here at most; default 1, this one. */
  workers?: number;
}

export interface CompleteOptions extends Omit<GenerateOptions, 'workers'> {
  /** Samples of the prime: sample i draws with seed + i (mod 2^32). */
  n: number;
}

export interface BeamOptions {
  /** As `GenerateOptions.prime`. */
  prime?: string | TokenizedText;
  /** Tokens to generate (default 200). */
  len?: number;
  /** Hypotheses kept at each step. */
  beam: number;
  /** A hypothesis that draws `<EOS>` ends there (default false). */
  stopAtEos?: boolean;
  /** With `stopAtEos`: hypotheses ranked by logProb / tokens^a, a >= 0 (default 0), so short ones are not preferred for their length. */
  lengthPenalty?: number;
  /** Receives the result's text in pieces as it settles (generate/beam.ts). */
  onText?: (piece: string) => void;
  /** Stops the search before its next token: the call then throws StoppedError. */
  signal?: StopSignal;
  /** Told each option given that changes nothing (`lengthPenalty` without `stopAtEos`), in one line naming it, before the search. */
  onWarning?: (message: string) => void;
}

/** One of the most probable tokens at a position: the token (`<EOS>`, `<UNK>` by name) and ln p. */
export interface Alternative {
  /** The token: a character or a word token, or `<EOS>`/`<UNK>`. */
  token: string;
  /** ln p(token | what precedes it). */
  logProb: number;
}

/** One prediction of a scored text. */
export interface TokenScore {
  /** The token predicted: a character or a word token, or `<EOS>`/`<UNK>`. */
  token: string;
  /** Its text as written in the scored text (word spacing included; '' for the closing `<EOS>`). */
  text: string;
  /** ln p(token | what precedes it). */
  logProb: number;
  /** The model's most probable tokens at this position, most probable first (`top` of them). */
  top: Alternative[];
}

export interface TextScore {
  /** Σ loss over the predictions (nats): −logProb. */
  lossSum: number;
  /** Mean loss per prediction (nats). */
  loss: number;
  /** Bits per prediction. */
  bitsPerToken: number;
  /** e^loss. */
  perplexity: number;
  /** ln P(text), the closing `<EOS>` included. */
  logProb: number;
  /** Predictions: the text's tokens and the closing `<EOS>`. */
  predictions: number;
  /** Each prediction; empty when `tokens: false` asked for the totals only. */
  tokens: TokenScore[];
}

export interface ScoreOptions {
  /** List each prediction (default true); false: the totals only, in constant memory. */
  tokens?: boolean;
  /** Alternatives listed at each prediction (default 0; SCORE_TOP's range). */
  top?: number;
  /** Stops the scoring before its next prediction: the call then throws StoppedError. */
  signal?: StopSignal;
  /** Told after each prediction the fraction of the text's predictions made (the last: 1), for a progress display. */
  onProgress?: (fraction: number) => void;
  /** Threads that share each step, the cores here at most; default 1, this one. */
  workers?: number;
}

/** `scoreTextFile`'s options: `score`'s, and how the file is read. */
export interface TextFileScoreOptions extends Pick<ScoreOptions, 'signal' | 'onProgress' | 'workers'> {
  /** Told, once the file is read and before it is scored, its predictions and the tokens that read as `<UNK>`. */
  onRead?: (read: { predictions: number; unknown: UnknownTokens }) => void;
  /** Bytes read at a time (default `CHUNK_BYTES`). */
  chunkBytes?: number;
}

export interface Activations {
  /** The layer read (0-based). */
  layer: number;
  /** Units of each token's `values`. */
  hiddenSize: number;
  /** Each token of the text as written. */
  tokens: string[];
  /** Each token as the vocabulary names it (`<EOS>`, `<UNK>` by name), as a score's `token`: a label for `tokens[t]`. */
  names: string[];
  /** values[t][j]: hidden unit j of the layer after reading token t (h, not an LSTM's cell). */
  values: Float32Array[];
}

/** What a checkpoint holds besides its weights: `rnn info --json` prints it. */
export interface ModelInfo {
  /** The checkpoint file read (a run folder's best.json or latest.json). */
  path: string;
  /** The checkpoint's format: `rnn-checkpoint/1`. */
  format: string;
  /** When it was saved (ISO 8601). */
  createdAt: string;
  /** The command line that trained it (or imported it). */
  command: string[];
  /** The model's shape (`model`) and the training settings of its run (`training`). */
  config: LoadedModel['checkpoint']['config'];
  /** Weights in all. */
  parameters: number;
  /** What a token is: `char`, a character; `word`, a word or a punctuation mark. */
  level: TextLevel;
  /** At the word level: the version of the tokenizer rules that cut its words. */
  wordRule?: number;
  /** Tokens in its vocabulary, `<EOS>` and `<UNK>` included. */
  vocabSize: number;
  /** Token id → token: `<EOS>`, `<UNK>`, then characters or word tokens. */
  vocab: string[];
  /**
   * How it cuts a text it reads into documents: as its corpus was cut (`--docs`), or as the file
   * it was imported from says; the sentence rules' version with docs 'sentence' only.
   */
  documents: { docs: DocsMode; sentenceRule?: SentenceRule };
  /** Optimizer steps done. */
  step: number;
  /** Whole epochs done, an integer: the epoch under way, counted from 0. */
  epoch: number;
  /**
   * Epochs done, the part of the current one included (as training's progress shows it, and `rnn train --json`'s `epoch`);
   * the whole ones for an imported model.
   */
  epochs: number;
  /** Tokens trained on. */
  tokensSeen: number;
  /** The lowest validation loss of its run (nats per token); null where none was measured. */
  bestValLoss: number | null;
  /** The corpus it was trained on: its files, split and sizes (its token stream's, each `<EOS>` counted); null for an imported model. */
  corpus: LoadedModel['checkpoint']['corpus'];
  /**
   * The model a fine-tuning run started from (`rnn train --init-from`), with the tokens `--extend-vocab` added to its
   * vocabulary (`added`, where it added any); null for a run from scratch.
   */
  initFrom: NonNullable<LoadedModel['checkpoint']['initFrom']> | null;
}

export interface LoadOptions {
  /** The kernels to run, as `--kernels` names them: `auto` (the default, or RNN_KERNELS) the fastest this machine runs. */
  kernels?: KernelsChoice;
}

/* Each call's option names, so that a misspelt one (`length` for `len`) is refused, not ignored. */
const LOAD_OPTIONS: Record<keyof LoadOptions, true> = { kernels: true };
const GENERATE_OPTIONS: Record<keyof GenerateOptions, true> = {
  prime: true, len: true, temperature: true, topK: true, topP: true, seed: true, stopAtEos: true, unk: true, signal: true, onWarning: true,
  workers: true,
};
const { workers: _, ...COMPLETE_SAMPLING } = GENERATE_OPTIONS;
const COMPLETE_OPTIONS: Record<keyof CompleteOptions, true> = { ...COMPLETE_SAMPLING, n: true };
const BEAM_OPTIONS: Record<keyof BeamOptions, true> = {
  prime: true, len: true, beam: true, stopAtEos: true, lengthPenalty: true, onText: true, signal: true, onWarning: true,
};
const SCORE_SYNC_OPTIONS: Record<keyof Omit<ScoreOptions, 'workers'>, true> = { tokens: true, top: true, signal: true, onProgress: true };
const SCORE_OPTIONS: Record<keyof ScoreOptions, true> = { ...SCORE_SYNC_OPTIONS, workers: true };
const ACTIVATIONS_OPTIONS: Record<'signal', true> = { signal: true };
/* Each call's option names by the call, so that one given to another call is refused naming the calls it is of (beamSync's are beam's). */
const CALL_OPTIONS = {
  loadModel: LOAD_OPTIONS, generate: GENERATE_OPTIONS, complete: COMPLETE_OPTIONS, beam: BEAM_OPTIONS, score: SCORE_OPTIONS,
  activations: ACTIVATIONS_OPTIONS,
} satisfies CallOptions;

/** What `generate` yields of a piece: its text. */
const pieceText = (piece: SamplePiece): string => piece.text;

/** What a model's steppers on this thread hold: `Model.stepperMemory`. */
export interface StepperMemory {
  /** Steppers made for calls on this thread, every one kept: as many as calls ever overlapped there. */
  steppers: number;
  /** Bytes of the arena they share: the weights prepared for generation once, then each stepper's state. */
  bytes: number;
}

/**
 * A trained model loaded once, for any number of calls: what `rnn sample`, `rnn eval`,
 * `rnn info` and `rnn serve` run on. Each call gets a stepper of its own, so calls may
 * overlap; the steppers on this thread share one copy of the weights (GenerationWeights), so
 * each holds only its state, and each is kept for the next call. A call on several threads
 * keeps its threads asleep for the next call on as many (one set a thread count), for as long
 * as the model lives or until `closeThreads`: starting them again would cost each call more
 * than a short one's steps, and asleep they take no core.
 */
export class Model {
  /** The weights every stepper of this thread reads, prepared at the first call that steps. */
  private weights: GenerationWeights | null = null;
  /** Steppers made for calls that have ended: kept, as their states stay in the weights' arena. */
  private readonly idle: Stepper[] = [];
  /** Threaded steppers of calls that have ended, by their thread count, one each: idle, their threads asleep. */
  private readonly idleThreaded = new Map<number, InferencePool>();
  private steppersMade = 0;
  /** The kernels its calls run on: `LoadOptions.kernels`, `auto` resolved to the fastest here. */
  readonly kernels: KernelsKind;

  constructor(
    /** The checkpoint as loaded: its record, weights and vocabulary. `loadModel(path)` makes a Model of a file or a run folder. */
    readonly loaded: LoadedModel,
    options: LoadOptions = {},
  ) {
    checkLoaded(loaded);
    checkOptions(options, LOAD_OPTIONS, CALL_OPTIONS);
    this.kernels = libraryKernels(options.kernels);
  }

  /** The checkpoint file read (a run folder's best.json or latest.json). */
  get path(): string {
    return this.loaded.path;
  }

  /** The model's shape. */
  get config(): ModelConfig {
    return this.loaded.config;
  }

  /** Its tokens, and how it cuts a text into them (`tokenize`). */
  get vocab(): Vocabulary {
    return this.loaded.vocab;
  }

  /** What a token is: `char`, a character; `word`, a word or a punctuation mark. */
  get level(): TextLevel {
    return this.loaded.vocab.level;
  }

  /** What the checkpoint says of itself, a copy of the caller's own: edited, it changes nothing of the model. */
  get info(): ModelInfo {
    const c = this.loaded.checkpoint;
    return structuredClone({
      path: this.path,
      format: c.format,
      createdAt: c.createdAt,
      command: c.command,
      config: c.config,
      parameters: this.loaded.params.length,
      level: this.level,
      ...(this.level === 'word' && { wordRule: c.config.training.wordRule }),
      vocabSize: c.vocab.length,
      vocab: c.vocab,
      documents: documentsInfo(this.loaded.vocab.documents),
      step: c.training.step,
      epoch: c.training.epoch,
      epochs: epochsDone(c),
      tokensSeen: c.training.tokensSeen,
      bestValLoss: c.training.bestValLoss,
      corpus: c.corpus,
      initFrom: c.initFrom ?? null,
    });
  }

  /** The run's evaluations: train and validation loss by tokens seen, a copy as `info` is. */
  get history(): readonly HistoryEntry[] {
    return structuredClone(this.loaded.checkpoint.history);
  }

  /** The steppers made on this thread for calls and the bytes they hold: the weights once, then a state a stepper. */
  get stepperMemory(): StepperMemory {
    return { steppers: this.steppersMade, bytes: this.weights?.arena.used ?? 0 };
  }

  /**
   * A sample, piece by piece (each piece one token's text): reads `<EOS>` and the prime from a
   * zero state, then draws (generate/sample.ts). `workers` > 1 shares each step among threads.
   * It lets the event loop run every few milliseconds, the prime's reading included.
   */
  generate(options: GenerateOptions = {}): AsyncGenerator<string, void, undefined> {
    return this.drawing(options, pieceText);
  }

  /**
   * As `generate`, each piece with whether its token is a drawn `<EOS>` (`{ text, eos }`): the text
   * of one is what parts two of the model's documents, which a reader may show as an end of its own.
   */
  generatePieces(options: GenerateOptions = {}): AsyncGenerator<SamplePiece, void, undefined> {
    return this.drawing(options, (piece) => piece);
  }

  /** The pieces of a sample as `as` gives them; its options checked when the caller first asks for one. */
  private async *drawing<T>(options: GenerateOptions, as: (piece: SamplePiece) => T): AsyncGenerator<T, void, undefined> {
    checkOptions(options, GENERATE_OPTIONS, CALL_OPTIONS);
    checkCallback('onWarning', options.onWarning);
    checkPrime(options.prime, this.vocab);
    const stepper = await this.stepperOn(callWorkers(options.workers));
    try {
      const { readPrime, pieces } = sampleParts({ ...this.sampling(options), stepper });
      tellWarnings(greedyWarnings(options), options.onWarning);
      if (!(await finishInTurns(readPrime))) return;
      const turns = new Turns();
      for (const piece of pieces) {
        yield as(piece);
        if (turns.due()) await turns.take();
      }
    } finally {
      await this.putBack(stepper);
    }
  }

  /**
   * `n` samples of one prime, each as `generate` would draw it with seed, seed + 1, … (the
   * seed given or a random one): the prime is read once and every sample starts from the state
   * it left (generate/sample.ts). It lets the event loop run every few milliseconds, so that a
   * timer or a handler that aborts its signal stops it there: it then throws StoppedError.
   */
  async complete(options: CompleteOptions): Promise<string[]> {
    return this.inTurns((stepper) => this.completing(options, stepper), options);
  }

  /** As `complete`, on this thread at once: only a signal that another thread aborts can stop it. */
  completeSync(options: CompleteOptions): string[] {
    return this.atOnce((stepper) => this.completing(options, stepper));
  }

  /** The work of a `complete` call on a stepper, its options checked. */
  private completing(options: CompleteOptions, stepper: Stepper): Work<string[]> {
    checkOptions(options, COMPLETE_OPTIONS, CALL_OPTIONS);
    if (options.n === undefined) throw new RangeError('n: is missing: give the number of samples');
    checkCallback('onWarning', options.onWarning);
    checkPrime(options.prime, this.vocab);
    const steps = completionSteps({ ...this.sampling(options), n: options.n, stepper });
    tellWarnings(greedyWarnings(options), options.onWarning);
    return steps;
  }

  /** A call's sampling options as generate/sample.ts takes them, the defaults filled in. */
  private sampling(options: Omit<GenerateOptions, 'workers'>): SampleOptions {
    return {
      config: this.config, params: this.loaded.params, vocab: this.vocab,
      length: given(options.len, SAMPLE_SETTINGS.len.default), temperature: given(options.temperature, SAMPLE_SETTINGS.temperature.default),
      topK: options.topK, topP: options.topP, prime: options.prime ?? '',
      seed: options.seed === undefined ? SAMPLE_SETTINGS.seed.default() : options.seed,
      stopAtEos: options.stopAtEos, unk: options.unk, signal: options.signal,
    };
  }

  /**
   * The continuation of the prime a beam search finds most probable (generate/beam.ts). It lets
   * the event loop run every few milliseconds, as `complete` does.
   */
  async beam(options: BeamOptions): Promise<BeamResult> {
    return finishInTurns(this.searching(options), options.signal);
  }

  /** As `beam`, on this thread at once. */
  beamSync(options: BeamOptions): BeamResult {
    return finish(this.searching(options));
  }

  /** The work of a `beam` call, its options checked. */
  private searching(options: BeamOptions): Work<BeamResult> {
    checkOptions(options, BEAM_OPTIONS, CALL_OPTIONS);
    const { beam } = options;
    if (beam === undefined) throw new RangeError('beam: is missing: give the number of hypotheses to keep');
    checkCallback('onText', options.onText);
    checkCallback('onWarning', options.onWarning);
    checkPrime(options.prime, this.vocab);
    // a beam too wide for the memory, as every option's bad value: a RangeError
    const steps = asRangeError(() => beamSteps({
      config: this.config, params: this.loaded.params, vocab: this.vocab, kernels: this.kernels,
      beam, length: given(options.len, SAMPLE_SETTINGS.len.default), prime: options.prime ?? '',
      stopAtEos: options.stopAtEos, lengthPenalty: given(options.lengthPenalty, SAMPLE_SETTINGS.lengthPenalty.default),
      ...(options.onText && { onText: options.onText }),
      ...(options.signal && { signal: options.signal }),
    }));
    tellWarnings(beamWarnings(options), options.onWarning);
    return steps;
  }

  /**
   * The text as this model's tokens, cut once for whatever reads it: `score` takes it as its text,
   * the samplers as a prime, of this model or of one whose vocabulary is the same (`checkTokenized`).
   * A model trained on documents finer than its files (`--docs line`, `blank`, `sentence`) cuts the
   * text into documents as its corpus was cut (`Vocabulary.tokenize`).
   */
  tokenize(text: string): TokenizedText {
    checkText('text', text, true);
    return this.vocab.tokenize(text);
  }

  /**
   * The text (or its tokens) scored as the stream of its documents, `<EOS>` before, between and
   * after them (generate/score.ts's convention; a `--docs file` model's text is one document), and
   * each of its predictions with `top` alternatives. It lets the event loop run every few
   * milliseconds, as `complete` does.
   */
  async score(text: string | TokenizedText, options: ScoreOptions = {}): Promise<TextScore> {
    checkScoreCall(text, this.vocab, options, SCORE_OPTIONS, CALL_OPTIONS);
    const workers = callWorkers(options.workers);
    checkStopped(options.signal);
    const stepper = await this.stepperOn(workers);
    try {
      return await finishInTurns(this.scoring(stepper, text, options), options.signal);
    } finally {
      await this.putBack(stepper);
    }
  }

  /** As `score`, on this thread at once. */
  scoreSync(text: string | TokenizedText, options: Omit<ScoreOptions, 'workers'> = {}): TextScore {
    checkScoreCall(text, this.vocab, options, SCORE_SYNC_OPTIONS, CALL_OPTIONS);
    return this.atOnce((stepper) => this.scoring(stepper, text, options));
  }

  /**
   * For each prediction t (inputs `<EOS>` t1 … tN, targets t1 … tN `<EOS>`; an `<EOS>` among t1 … tN parts two documents):
   *   ln p(target_t) = z_t[target_t] − logsumexp(z_t)
   */
  private scoring(stepper: TokenStepper, text: string | TokenizedText, options: ScoreOptions): Work<TextScore> {
    const top = options.top ?? SCORE_TOP.default, listed = options.tokens !== false;
    const V = this.config.vocabSize, names = this.vocab.tokens;
    const { ids, unknown, separators } = typeof text === 'string' ? this.vocab.tokenize(text) : text;
    // each prediction's text as the scored text writes it, an <UNK> as the text it stands for, an <EOS> between documents as
    // what separates them; the last, the closing <EOS>, writes none
    const texts = listed ? this.vocab.tokenTexts(ids, { unknownTexts: unknown, eosTexts: separators }) : [];
    const best = new Int32Array(Math.min(top, V));
    const tokens: TokenScore[] = [];
    // the predictions made of the text's N + 1, for onProgress
    const onProgress = options.onProgress, toMake = ids.length + 1;
    let made = 0;
    const predictions = scoreSteps(this.config, this.loaded.params, ids, stepper, (target, logits, lse) => {
      checkStopped(options.signal);
      onProgress?.(++made / toMake);
      if (!listed) return;
      const count = topTokens(logits, V, best);
      const alternatives: Alternative[] = [];
      for (let i = 0; i < count; i++) alternatives.push({ token: names[best[i]!]!, logProb: logits[best[i]!]! - lse });
      tokens.push({ token: names[target]!, text: texts[tokens.length] ?? '', logProb: logits[target]! - lse, top: alternatives });
    });
    return textScore(predictions, tokens);
  }

  /**
   * The text file at `path` (`-`: standard input) scored as `score` scores its text read whole (`readTextFile`), never
   * held: read `chunkBytes` at a time, once to count its predictions and the tokens read as `<UNK>`, which `onRead` is
   * told before the scoring begins, then again to score it, the state carried from piece to piece. The file is to be
   * checked first (`checkTextFile`): this reads it as `textFilePieces` does.
   * @internal `rnn eval perplexity`'s, as `scoreValidation`.
   */
  async scoreTextFile(path: string, options: TextFileScoreOptions = {}): Promise<{ lossSum: number; predictions: number }> {
    const workers = callWorkers(options.workers);
    checkCallback('onProgress', options.onProgress);
    checkCallback('onRead', options.onRead);
    const source: PieceSource = {
      files: [{ path: fileName(path) }], pieces: () => textFilePieces(path, this.vocab.documents, options.chunkBytes),
    };
    const unknown = new Map<string, number>();
    // the text's N + 1 predictions: its tokens, then the closing <EOS>
    let toMake = 1;
    for (const ids of documentIds(source, this.vocab, unknown)) toMake += ids.length;
    options.onRead?.({ predictions: toMake, unknown: unknownTokens(unknown) });
    checkStopped(options.signal);
    const { onProgress, signal } = options;
    let made = 0;
    const stepper = await this.stepperOn(workers);
    try {
      const steps = scoreChunkSteps(this.config, this.loaded.params, documentIds(source, this.vocab), stepper, () => {
        checkStopped(signal);
        onProgress?.(++made / toMake);
      });
      const { lossSum, tokens } = await finishInTurns(steps, signal);
      return { lossSum, predictions: tokens };
    } finally {
      await this.putBack(stepper);
    }
  }

  /**
   * Σ loss over the checkpoint's validation split, rebuilt from its corpus files, scored as the
   * trainer scores it (rows of its batch size, chunks of its sequence length, state carried) on
   * `workers` threads, telling `onProgress` the fraction of the split scored after each chunk.
   * @internal `rnn eval perplexity`'s: its refusals (CorpusError) name that command's flags, so the package declares it not.
   */
  async scoreValidation(workers: number, onProgress?: (fraction: number) => void): Promise<{ lossSum: number; predictions: number }> {
    const threads = checkPositiveInteger('workers', workers);
    checkCallback('onProgress', onProgress);
    return this.scoreSplit(validationSplit(this.loaded), threads, onProgress);
  }

  /**
   * As `scoreValidation`, over the validation split of the prepared folder `dir` (rnn prepare),
   * read in this model's vocabulary by symbol: `unknown` counts the tokens it lacks, read as `<UNK>`.
   * A folder of another level, or cut into documents by another rule than this model's, is refused (CorpusError).
   * @internal As `scoreValidation`.
   */
  async scorePreparedValidation(
    dir: string, workers: number, onProgress?: (fraction: number) => void,
  ): Promise<{ lossSum: number; predictions: number; unknown: UnknownTokens }> {
    checkText('dir', dir, true);
    const threads = checkPositiveInteger('workers', workers);
    checkCallback('onProgress', onProgress);
    const { ids, unknown } = preparedValidationSplit(this.loaded, dir);
    return { ...await this.scoreSplit(ids, threads, onProgress), unknown };
  }

  /**
   * Σ loss over `split` on `threads` threads (the cores at most), as the trainer scores its validation split: its sum
   * runs over the threads' rows, so the threads are those asked, whatever other calls run (callThreads would vary them).
   */
  private async scoreSplit(
    split: TokenArray, threads: number, onProgress?: (fraction: number) => void,
  ): Promise<{ lossSum: number; predictions: number }> {
    const { batchSize, seqLen } = this.loaded.checkpoint.config.training;
    const { config, loaded: { params }, kernels } = this;
    const { lossSum, tokens } = await scoreStream(config, params, split, batchSize, seqLen, threadsOnCores(threads), kernels, onProgress);
    return { lossSum, predictions: tokens };
  }

  /**
   * Each hidden unit of `layer` (0-based) after each token of the text, read from `<EOS>` as
   * `score` reads it, an `<EOS>` between each two documents. It lets the event loop run every few
   * milliseconds, as `complete` does.
   */
  async activations(text: string | TokenizedText, layer: number, options: { signal?: StopSignal } = {}): Promise<Activations> {
    return this.inTurns((stepper) => this.reading(stepper, text, layer, options), options);
  }

  /** As `activations`, on this thread at once. */
  activationsSync(text: string | TokenizedText, layer: number, options: { signal?: StopSignal } = {}): Activations {
    return this.atOnce((stepper) => this.reading(stepper, text, layer, options));
  }

  /** The work of an `activations` call on a stepper, its arguments checked. */
  private reading(stepper: Stepper, text: string | TokenizedText, layer: number, options: { signal?: StopSignal }): Work<Activations> {
    checkOptions(options, ACTIVATIONS_OPTIONS, CALL_OPTIONS);
    checkScored(text, this.vocab);
    const { ids, unknown, separators } = typeof text === 'string' ? this.vocab.tokenize(text) : text;
    checkedOption('layer', integerFrom(0, this.config.numLayers - 1).schema, layer);
    const texts = this.vocab.tokenTexts(ids, { unknownTexts: unknown, eosTexts: separators });
    return hiddenStates(stepper, ids, layer, texts, this.vocab.tokens, options.signal);
  }

  /** A stepper on `workers` threads (`callThreads`): an idle one on as many threads, else a new one; one thread: a kept Stepper. */
  private async stepperOn(workers: number): Promise<TokenStepper> {
    const threads = callThreads(workers);
    if (threads === 1) return this.acquire();
    const idle = this.idleThreaded.get(threads);
    if (!idle) return InferencePool.start(this.config, this.loaded.params, threads, this.kernels);
    this.idleThreaded.delete(threads);
    idle.setIdle(false);
    return idle;
  }

  /**
   * Gives back a stepper of `stepperOn`: a Stepper to the idle ones; threads kept idle where none on as many are, and
   * none of them failed, else closed.
   */
  private async putBack(stepper: TokenStepper): Promise<void> {
    if (stepper instanceof Stepper) {
      this.release(stepper);
    } else if (stepper instanceof InferencePool && stepper.usable && !this.idleThreaded.has(stepper.workers)) {
      stepper.setIdle(true);
      this.idleThreaded.set(stepper.workers, stepper);
    } else {
      await stepper.close();
    }
  }

  /**
   * Closes the threads this model keeps asleep between its calls with `workers`, giving back their memory (a copy of the
   * weights, and each thread's own) now rather than when the model is collected; a later such call starts threads again.
   */
  async closeThreads(): Promise<void> {
    const idle = [...this.idleThreaded.values()];
    this.idleThreaded.clear();
    await Promise.all(idle.map((pool) => pool.close()));
  }

  /**
   * `work` on a kept stepper, letting the event loop run as it goes (`finishInTurns`) and reading
   * the signal of `options` once `work` has checked them; the stepper is kept again however it ends.
   */
  private async inTurns<R>(work: (stepper: Stepper) => Work<R>, options: { signal?: StopSignal }): Promise<R> {
    const stepper = this.acquire();
    try {
      const steps = work(stepper);
      return await finishInTurns(steps, options.signal);
    } finally {
      this.release(stepper);
    }
  }

  /** `work` on a kept stepper at once (`finish`): a *Sync call's. */
  private atOnce<R>(work: (stepper: Stepper) => Work<R>): R {
    const stepper = this.acquire();
    try {
      return finish(work(stepper));
    } finally {
      this.release(stepper);
    }
  }

  /** A kept stepper: an idle one, else a new one on this thread's weights (prepared by the first). */
  private acquire(): Stepper {
    const idle = this.idle.pop();
    if (idle) return idle;
    this.weights ??= new GenerationWeights(this.config, this.loaded.params, this.kernels);
    this.steppersMade++;
    return new Stepper(this.weights);
  }

  private release(stepper: Stepper): void {
    this.idle.push(stepper);
  }
}

/** Tells `onWarning`, where a call gives one, each of its options that changes nothing, named as the call names it. */
function tellWarnings(warnings: readonly InputError[], onWarning: ((message: string) => void) | undefined): void {
  for (const warning of warnings) onWarning?.(warning.message);
}

/** The `workers` a generate or score call asked for, checked: default 1, its own thread (GenerateOptions.workers). */
function callWorkers(workers: number | undefined): number {
  return checkPositiveInteger('workers', given(workers, 1));
}

/**
 * An option's value, or `fallback` where it was left out (undefined): a null given is the value, refused by its check as
 * `/v1/generate` refuses one, never read as left out.
 */
function given<T>(value: T | undefined, fallback: T): T {
  return value === undefined ? fallback : value;
}

/**
 * The threads a stepper runs on for the `workers` asked: at most the cores that the threads of calls running now leave (a
 * stepper's logits are the same bits on any number of threads: parallel/inference.ts).
 */
function callThreads(workers: number): number {
  return threadsOnCores(workers, threadsRunning());
}

/**
 * Loads a checkpoint, or a run folder's (its best.json, else its latest.json), as a Model; every
 * problem a one-line CheckpointError.
 */
export function loadModel(path: string, options: LoadOptions = {}): Model {
  checkText('path', path, true);
  return new Model(loadCheckpointModel(resolveCheckpointPath(path)), options);
}

/** Epochs a checkpoint's run has done, its current one's part included: its cursor of the epoch's steps. */
function epochsDone({ training, corpus, config }: LoadedModel['checkpoint']): number {
  if (corpus === null) return training.epoch;
  const steps = stepsPerEpoch(corpus.trainTokens, config.training.batchSize, config.training.seqLen);
  return steps > 0 ? training.epoch + training.cursor / steps : training.epoch;
}

/** A scored text's figures, once its predictions (each listed in `tokens` as it is made) are done. */
function* textScore(predictions: Work<Score>, tokens: TokenScore[]): Work<TextScore> {
  const total = yield* predictions;
  const summary = scoreSummary(total);
  return {
    lossSum: total.lossSum, loss: summary.loss, bitsPerToken: summary.bitsPerToken, perplexity: summary.perplexity,
    logProb: summary.logProb, predictions: total.tokens, tokens,
  };
}

/**
 * Each hidden unit of `layer` after each of `ids` (written as `texts`, named by `tokenNames`), read from `<EOS>`: a piece
 * of work a token.
 */
function* hiddenStates(
  stepper: Stepper, ids: Int32Array, layer: number, texts: string[], tokenNames: readonly string[], signal?: StopSignal,
): Work<Activations> {
  const H = stepper.model.config.hiddenSize;
  stepper.reset();
  stepper.advance(EOS);
  const state = stepper.model.layers[layer]!.h;
  const tokens: string[] = [], names: string[] = [], values: Float32Array[] = [];
  for (let t = 0; t < ids.length; t++) {
    yield;
    checkStopped(signal);
    const id = ids[t]!;
    stepper.advance(id);
    tokens.push(texts[t]!);
    names.push(tokenNames[id]!);
    values.push(state.slice(0, H));
  }
  return { layer, hiddenSize: H, tokens, names, values };
}

/** Fills `best` with the ids of the largest logits, largest first (ties: the lower id); returns how many. */
function topTokens(logits: Float32Array, V: number, best: Int32Array): number {
  const k = best.length;
  let n = 0;
  for (let v = 0; v < V; v++) {
    const z = logits[v]!;
    if (n === k && !(z > logits[best[k - 1]!]!)) continue;
    let at = n < k ? n++ : k - 1;
    while (at > 0 && logits[best[at - 1]!]! < z) {
      best[at] = best[at - 1]!;
      at--;
    }
    best[at] = v;
  }
  return n;
}

/** A document rule as ModelInfo says it: the sentence rules' version only where they cut the documents. */
function documentsInfo({ docs, sentenceRule }: DocumentRule): ModelInfo['documents'] {
  return docs === 'sentence' ? { docs, sentenceRule } : { docs };
}
