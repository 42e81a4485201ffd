import { parentPort, workerData } from 'node:worker_threads';
import { type Model, type SamplePiece, type StopSignal, StoppedError, type TokenizedText } from '../api/index.js';
import { InputError, SettingError, flagName } from '../input/settings.js';
import {
  type ActivationsDone, type EncodedAnswer, type Finish, type GenerateDone, type JobAnswers, JobControl, type JobMessage, type JobOf,
  type JobRequest, type WorkerData, type WorkerMessage, servedModels, warningsField,
} from './jobs.js';
import type { SERVE_SETTINGS } from './settings.js';

/**
 * A generation thread of `rnn serve`: builds every served model once, over the weights the server
 * loaded (jobs.ts's SharedModel), then runs the jobs the server hands it one at a time, posting a
 * generation's text as it is drawn. The server stops a job, or holds a streamed one, by writing
 * its id into a cell of the shared control block (JobControl), which the job reads between tokens.
 */
const { models, kernels, control: controlBlock } = workerData as WorkerData;
const control = new Int32Array(controlBlock);
const port = parentPort!;
const post = (message: WorkerMessage, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

/** The server's setting that caps the text a score or activations job reads. */
const TEXT_TOKENS_CAP: keyof typeof SERVE_SETTINGS = 'maxTextTokens';

/** Pieces are sent at most this often after the first, which goes at once. */
const SEND_EVERY_MS = 10;

let loaded: Map<string, Model>;
try {
  loaded = servedModels(models, kernels);
  post({ ready: true });
} catch (err) {
  post({ startFailed: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}

port.on('message', ({ id, request }: JobMessage) => {
  const signal: StopSignal = { get aborted() { return Atomics.load(control, JobControl.Stop) === id; } };
  run(id, request, signal).then(
    (done) => post({ id, done }, isEncoded(done) ? [done.json.buffer as ArrayBuffer] : []),
    (err: unknown) => post(failure(id, err)),
  );
});

/** How a job that failed ends: stopped; refused for what it asked (400); or a fault here (500). */
function failure(id: number, err: unknown): WorkerMessage {
  if (err instanceof StoppedError) return { id, stopped: true };
  const setting = err instanceof SettingError ? err : err instanceof RangeError && err.cause instanceof SettingError ? err.cause : null;
  if (setting !== null) return { id, error: setting.message, field: setting.setting };
  if (err instanceof InputError || err instanceof RangeError) return { id, error: err.message };
  return { id, fault: err instanceof Error ? err.stack ?? err.message : String(err) };
}

async function run(id: number, request: JobRequest, signal: StopSignal): Promise<JobAnswers[JobRequest['kind']]> {
  const model = loaded.get(request.model)!;
  switch (request.kind) {
    case 'generate':
      return generate(id, model, request, signal);
    case 'complete': {
      const prime = tokenizedPrime(model, request.options.prime);
      const completions = model.completeSync({ ...request.options, prime, n: request.n, signal });
      return { completions, unknownTokens: unknownTokens(prime) };
    }
    case 'beam': {
      const prime = tokenizedPrime(model, request.options.prime);
      const result = model.beamSync({ ...request.options, prime, signal });
      return encoded({ ...result, unknownTokens: unknownTokens(prime), ...warningsField(request.warnings) });
    }
    case 'score':
      return encoded(model.scoreSync(checkedText(model, request), { top: request.top, signal }));
    case 'activations':
      return encoded(activations(model, request, signal));
  }
}

const utf8 = new TextEncoder();

/** An answer as the JSON body the server sends, in a buffer of its own (so it can be moved). */
function encoded(answer: unknown): EncodedAnswer {
  return { json: utf8.encode(`${JSON.stringify(answer)}\n`) };
}

function isEncoded(done: JobAnswers[JobRequest['kind']]): done is EncodedAnswer {
  return 'json' in done;
}

/**
 * A sample: streamed, its pieces posted as they come, and no token drawn while the server holds
 * it (waitWhileHeld); else its text in the answer, one message.
 */
async function generate(
  id: number, model: Model, { options, stream }: JobOf<'generate'>, signal: StopSignal,
): Promise<GenerateDone> {
  const prime = tokenizedPrime(model, options.prime);
  const unsent = new UnsentPieces();
  let text = '', sentAt = -Infinity, tokens = 0;
  for await (const piece of model.generatePieces({ ...options, prime, signal })) {
    tokens++;
    if (!stream) {
      text += piece.text;
      continue;
    }
    unsent.add(piece);
    const now = performance.now();
    if (now - sentAt >= SEND_EVERY_MS && !unsent.empty) {
      post({ id, pieces: unsent.take() });
      sentAt = now;
    }
    waitWhileHeld(id);
  }
  if (!unsent.empty) post({ id, pieces: unsent.take() });
  const finish: Finish = signal.aborted ? 'stopped' : tokens < options.len ? 'eos' : 'length';
  return { text, tokens, finish, unknownTokens: unknownTokens(prime) };
}

/**
 * A streamed sample's pieces not yet posted, as the stream's events will be: the text between
 * two drawn `<EOS>`s run together, each `<EOS>`'s piece apart, so that the client sees where it was drawn.
 */
class UnsentPieces {
  private pieces: SamplePiece[] = [];
  private run = '';

  add(piece: SamplePiece): void {
    if (!piece.eos) {
      this.run += piece.text;
      return;
    }
    this.endRun();
    this.pieces.push(piece);
  }

  get empty(): boolean {
    return this.run === '' && this.pieces.length === 0;
  }

  take(): SamplePiece[] {
    this.endRun();
    const taken = this.pieces;
    this.pieces = [];
    return taken;
  }

  private endRun(): void {
    if (this.run === '') return;
    this.pieces.push({ text: this.run, eos: false });
    this.run = '';
  }
}

/**
 * Blocks the thread while the server holds job `id` (JobControl.Hold names it): the server lets
 * go, and wakes the thread, once the client has taken what it was sent or the job is stopped.
 * Nothing else waits to run here meanwhile: a thread runs one job at a time.
 */
function waitWhileHeld(id: number): void {
  while (Atomics.load(control, JobControl.Hold) === id) Atomics.wait(control, JobControl.Hold, id);
}

/** A request's prime cut once, for its generations and the count of its unknown tokens. */
function tokenizedPrime(model: Model, prime: string | TokenizedText | undefined): TokenizedText | undefined {
  return typeof prime === 'string' ? model.tokenize(prime) : prime;
}

/** How many of a prime's tokens are outside the model's vocabulary: the answer tells the client, as `rnn sample` warns. */
function unknownTokens(prime: TokenizedText | undefined): number {
  return prime?.unknown.length ?? 0;
}

/**
 * A score or activations job's text, tokenized; one of more than `maxTokens` tokens is refused,
 * for the answer grows with its tokens (--max-text-tokens).
 */
function checkedText(model: Model, request: JobOf<'score' | 'activations'>): TokenizedText {
  const tokens = model.tokenize(request.text), length = tokens.ids.length, cap = request.maxTokens;
  if (length > cap) {
    throw new SettingError('text', request.text, (name) =>
      `${name('text')}: must be at most ${cap} tokens (the server's ${flagName(TEXT_TOKENS_CAP)}) (got ${length} tokens)`);
  }
  return tokens;
}

/** The asked unit, or the `top` units whose value varies most over the text (checkedText). */
function activations(model: Model, request: JobOf<'activations'>, signal: StopSignal): ActivationsDone {
  const { tokens, names, values, hiddenSize: H, layer } = model.activationsSync(checkedText(model, request), request.layer, { signal });
  const units = request.unit !== null ? [request.unit] : mostVaried(values, H, request.top);
  return { tokens, names, layer, hiddenSize: H, units: units.map((unit) => ({ unit, values: values.map((row) => row[unit]!) })) };
}

/**
 * The `top` of H units whose values (`values[t][j]`: unit j after token t) vary most: largest variance first, ties the lower unit;
 * none over a text of no token, where no unit has a value.
 */
function mostVaried(values: Float32Array[], H: number, top: number): number[] {
  if (values.length === 0) return [];
  const variance = new Float64Array(H);
  const n = values.length;
  // variance[j] = Σ_t values[t][j]² / n − mean_j², mean_j = Σ_t values[t][j] / n
  for (let j = 0; j < H; j++) {
    let sum = 0, sumSq = 0;
    for (const row of values) {
      sum += row[j]!;
      sumSq += row[j]! * row[j]!;
    }
    const mean = sum / n;
    variance[j] = sumSq / n - mean * mean;
  }
  return Array.from({ length: H }, (_, j) => j).sort((a, b) => variance[b]! - variance[a]! || a - b).slice(0, top);
}
