/**
 * `npm run bench`: for each kernel implementation side by side (js, wasm, relaxed), the GFLOP/s of the
 * matrix products at training shapes, training speed for 1 … N workers and the GFLOP/s it
 * implies beside a plain-JavaScript matrix product measured in this process (bench/yardstick.ts,
 * alone and with as many threads at once as the workers), where a step's time goes (the
 * profile), sampling speed (LSTM 2×128 and the default GRU 2×192), the ratio to js of each,
 * and peak RSS. The word level's model (word-gru-2x256: GRU 2×256, E = 128, V = 10,000,
 * B = T = 32) is timed in tokens/s, with the share of its step spent in the head.
 *
 * With --peer torch, PyTorch runs the same models on as many threads (bench/torch_peer.py),
 * its windows taking turns with rnn's, and every rnn row gets its ratio rnn/PyTorch. With
 * --race 3m --corpus FILE, `rnn train FILE --time 3m` with the defaults and PyTorch with the
 * same settings run back to back and print their validation losses.
 *
 *   npm run bench -- --help             the flags
 */
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { existsSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';
import { type ModelConfig, gateCount } from '../src/engine/config.js';
import { availableKernels, createKernels, resolveKernels } from '../src/engine/kernels/index.js';
import { KERNELS_KINDS, type KernelsKind } from '../src/engine/kernels/kinds.js';
import { STEP_PHASES, type StepPhase } from '../src/engine/kernels/timed.js';
import { ARENA_LIMIT_BYTES, Arena } from '../src/engine/kernels/arena.js';
import { softmaxCrossEntropy } from '../src/engine/loss.js';
import { initParams, readsTokenTable } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { createEngine } from '../src/parallel/pool.js';
import type { TrainingEngine } from '../src/parallel/engine.js';
import { sampleText } from '../src/generate/sample.js';
import { createStepper } from '../src/parallel/inference.js';
import { share } from '../src/parallel/shared.js';
import { plural } from '../src/input/counts.js';
import { parseDuration } from '../src/input/duration.js';
import { mib } from '../src/checkpoint/size.js';
import { loadCheckpoint, saveCheckpoint } from '../src/checkpoint/checkpoint.js';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import { engineBytes } from '../src/train/preflight.js';
import { EOS_TOKEN, UNK_TOKEN, Vocabulary } from '../src/text/vocab.js';
import { kernelSpeeds } from './kernels.js';
import { benchServe } from './serve.js';
import { SUMS as SIMD_PEAK_SUMS, simdPeakGflops } from './simd-peak.js';
import { FLAGS, type FlagName, ROUNDS, SERVE_SECONDS, checkKernels, emptyEntry, fail, helpText, parseFlags } from './options.js';
import { TorchPeer, findPython } from './peer.js';
import { type RaceResult, checkCorpus, rnnRace } from './race.js';
import { type CheckpointSide, benchCheckpoint, checkpointTimes } from './checkpoint.js';
import { type ServeStart, serveStarts } from './serve-start.js';
import { removedWithBench } from './ending.js';
import { RNN_BIN } from './repo.js';
import { processorText, thisProcessor } from './processor.js';

const flags = parseFlags(process.argv.slice(2));
if (flags.help) {
  console.log(helpText());
  process.exit(0);
}
const flag = (name: FlagName): string | undefined => {
  const value = flags[name];
  return typeof value === 'string' ? value : (FLAGS[name].default ?? undefined);
};
const json = flags.json === true;
const seconds = Number(flags.serve && typeof flags.seconds !== 'string' ? SERVE_SECONDS : flag('seconds'));
if (!(seconds > 0 && Number.isFinite(seconds))) fail(`--seconds: a positive number of seconds, not '${flag('seconds')}'`);
if (flags.serve) {
  const clients = Number(flag('clients'));
  if (!(Number.isInteger(clients) && clients > 0)) fail(`--clients: a whole number of clients, 1 or more, not '${flag('clients')}'`);
  await benchServe({ clients, seconds, json }); // the server under load: bench/serve.ts
  process.exit(0);
}
/** A list flag's values, comma-separated, or `fallback`'s where it is not given; a value given twice is refused. */
function listFlag(name: FlagName, fallback: () => string[]): string[] {
  const given = flag(name);
  if (given === undefined) return fallback();
  const values = given.split(',');
  // an empty entry is refused by the flag's own check, which names what is valid
  const twice = values.find((value, i) => value !== '' && values.indexOf(value) !== i);
  if (twice !== undefined) fail(`--${name}: '${twice}' is given twice in '${given}'; each is measured once`);
  return values;
}

// tinyshakespeare's 65 characters plus <EOS> and <UNK>
const VOCAB = 67, B = Number(flag('batch')), T = 50;
if (!Number.isInteger(B) || B < 1) fail(`--batch: a whole number from 1, not '${flag('batch')}'`);

const cores = availableParallelism();
const workerCounts = listFlag('workers', () => Array.from({ length: cores }, (_, i) => String(i + 1))).map(Number);
if (!workerCounts.every((w) => Number.isInteger(w) && w >= 1 && w <= B)) {
  fail(`--workers: whole numbers from 1 to ${B} (--batch: each worker trains a row of the batch at least), comma-separated, not '${flag('workers')}'`);
}
/** A model measured, with the batch it trains on: B × T tokens a step. */
interface BenchModel {
  config: ModelConfig;
  batch: number;
  seqLen: number;
  /** What a token is, for the report: a character, or a word-level token. */
  unit: 'chars' | 'tokens';
}
const charModel = (cell: ModelConfig['cell'], hiddenSize: number): BenchModel => ({
  config: { cell, vocabSize: VOCAB, embedDim: 64, hiddenSize, numLayers: 2, dropout: 0 }, batch: B, seqLen: T, unit: 'chars',
});
const MODELS: Record<string, BenchModel> = {
  'lstm-2x128': charModel('lstm', 128),
  'gru-2x128': charModel('gru', 128),
  'gru-2x96': charModel('gru', 96), // the smallest, for a quick run
  'gru-2x192': charModel('gru', 192), // the default model
  'lstm-2x512': charModel('lstm', 512),
  // the word-level yardstick: a 10,000-word vocabulary; B = T = 32 whatever --batch says
  'word-gru-2x256': {
    config: { cell: 'gru', vocabSize: 10_000, embedDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0 }, batch: 32, seqLen: 32, unit: 'tokens',
  },
};
const models = listFlag('models', () => Object.keys(MODELS));
/**
 * `rnn train`'s default model, which --race trains, as this bench names it; its training speed
 * on the default kernels by worker count, recorded only when measured at the default batch.
 */
const DEFAULT_MODEL = `${TRAIN_DEFAULTS.cell}-${TRAIN_DEFAULTS.layers}x${TRAIN_DEFAULTS.hidden}`;
const defaultModelRates = new Map<number, number>();
const kernelsGiven = listFlag('kernels', availableKernels);
if (kernelsGiven.includes('auto')) {
  fail(`--kernels: the bench measures named kernel sets side by side (valid here: ${availableKernels().join(', ')}; ` +
    `leave --kernels out for all of them), where auto is rnn train's choice of the fastest, ${resolveKernels('auto')} here`);
}
const kernelsKinds = checkKernels(kernelsGiven);
for (const name of models) {
  if (name === '') fail(`--models: ${emptyEntry(flag('models')!, 'model')}; valid: ${Object.keys(MODELS).join(', ')}`);
  if (!(name in MODELS)) fail(`--models: unknown model '${name}'; valid: ${Object.keys(MODELS).join(', ')}`);
}
/** One measured configuration: an implementation of the kernels on a number of threads. */
interface Run {
  kernels: KernelsKind;
  workers: number;
}
const runs: Run[] = kernelsKinds.flatMap((kernels) => workerCounts.map((workers) => ({ kernels, workers })));
/** The index in `runs` of `kernels` on `workers`; -1 where that pair is not measured. */
const runIndex = (kernels: KernelsKind, workers: number): number => runs.findIndex((r) => r.kernels === kernels && r.workers === workers);
{
  // each engine measured holds its parameters, their gradients and Adam's moments, and B·T rows of activations (engineBytes)
  const memory = Math.min(ARENA_LIMIT_BYTES, totalmem());
  const workers = Math.max(...workerCounts);
  const rowsFitting = ({ config }: BenchModel): number => {
    const bytes = (batch: number): number => engineBytes(config, { optimizer: 'adam', batch, seqLen: T, workers });
    return Math.floor((memory - bytes(0)) / (bytes(1) - bytes(0)));
  };
  // the character model measured that fits the fewest rows
  const tightest = models.filter((name) => MODELS[name]!.unit === 'chars').map((name) => ({ name, rows: rowsFitting(MODELS[name]!) }))
    .reduce<{ name: string; rows: number } | null>((least, model) => (least === null || model.rows < least.rows ? model : least), null);
  if (tightest !== null && B > tightest.rows) {
    fail(`--batch: a whole number from 1 to ${tightest.rows} (the most rows ${tightest.name} trains at ${workers} ${plural(workers, 'worker')} ` +
      `within ${mib(memory)}, one engine's memory), not '${flag('batch')}'`);
  }
}
const peerWanted = flag('peer') !== undefined || flag('race') !== undefined;
if (flag('peer') !== undefined && flag('peer') !== 'torch') fail(`--peer: 'torch' is the one peer, not '${flag('peer')}'`);
const raceSeconds = flag('race') === undefined ? null : parseDuration(flag('race')!);
if (flag('race') !== undefined && !(raceSeconds! > 0)) fail(`--race: a duration such as 90s, 3m or 1h, not '${flag('race')}'`);
const corpus = flag('corpus');
if (raceSeconds !== null && corpus === undefined) fail('--race needs --corpus <file>: the text both train on');
if (corpus !== undefined) checkCorpus(corpus);
/** The python the peer runs on, looked for when --peer or --race asks for it. */
const peerPython = peerWanted ? findPython() : null;
if (raceSeconds !== null && peerPython !== null && 'missing' in peerPython) fail(`--race races rnn against PyTorch, and ${peerPython.missing}`);
/** The module of --against's checkout whose presence says the checkout is built. */
const AGAINST_ENGINE = 'dist/src/parallel/pool.js';
if (flag('against') !== undefined && !existsSync(join(flag('against')!, AGAINST_ENGINE))) {
  fail(`--against: no built checkout at '${flag('against')}' (its ${AGAINST_ENGINE} is missing: run npm run build there)`);
}
const profileOnly = flags.profile === true;

/** Prints one result: `row` as a JSON line under --json, else `text`. */
function report(row: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(row) : text);
}

/**
 * FLOPs of one training step as the engine runs it on `workers` workers, worker w taking
 * R_w = (its rows of the batch)·T tokens, with G = gates·H:
 *   FLOPs = 2 · 3 · Σ_w [ R_w·V·H + R'_w·G·E + R_w·G·H·(2L − 1) ]
 * 2 FLOPs a multiply-add, and 3× the forward, since backward does each product twice more (the
 * weight gradient and the gradient flowing back). Forward: the head h·W_headᵀ, layer 0's input
 * product x·W_ihᵀ, and h·W_hhᵀ of every layer with x·W_ihᵀ of layers 1 … L−1. R'_w is V where
 * w's rows read layer 0 through the token table (engine/model.ts), else R_w.
 */
function flopsPerStep(c: ModelConfig, batch: number, seqLen: number, workers: number): number {
  const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = c, G = gateCount(c.cell) * H;
  let forward = 0;
  for (let w = 0; w < workers; w++) {
    const [first, end] = share(batch, workers, w), R = (end - first) * seqLen;
    forward += R * V * H + (readsTokenTable(R, V) ? V : R) * G * E + R * G * H * (2 * L - 1);
  }
  return 2 * 3 * forward;
}

/** The yardstick's matrix size: 3 × 256 KB, which stays in L2. */
const YARDSTICK_N = 256;
/** Seconds each copy of the yardstick runs a round. */
const YARDSTICK_SECONDS = 1;

/**
 * The yardstick's GFLOP/s per thread with `threads` copies running at once (their mean, the
 * best of three rounds: a busy neighbour only ever lowers it). With several threads it shows
 * what the machine itself allows: cores that share a clock budget, caches and memory run
 * slower together than alone.
 */
async function ceiling(threads: number): Promise<number> {
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const each = await Promise.all(Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const worker = new Worker(new URL('./yardstick.js', import.meta.url), { workerData: { n: YARDSTICK_N, seconds: YARDSTICK_SECONDS } });
      worker.once('message', (gflops: number) => { resolve(gflops); void worker.terminate(); });
      worker.once('error', reject);
    })));
    best = Math.max(best, each.reduce((a, b) => a + b, 0) / threads);
  }
  return best;
}

/**
 * What a window reached: tokens per second of wall time, and per second of its process's CPU
 * time (all its threads'), which a busy neighbour slows far less: on a shared machine the
 * fairer measure of one thread against one thread.
 */
interface Rate { wall: number; cpu: number }

/** One timed window of a subject, given its length in seconds. */
type Window = (windowSeconds: number) => Rate | Promise<Rate>;

/** A window that calls `work` (returning the tokens it did) until the time is up, at least once. */
function loop(work: () => number): Window {
  return (windowSeconds) => {
    let done = 0;
    const t0 = performance.now(), cpu0 = process.cpuUsage();
    let t = t0;
    while (done === 0 || t - t0 < windowSeconds * 1000) { done += work(); t = performance.now(); }
    const cpu = process.cpuUsage(cpu0);
    return { wall: done / ((t - t0) / 1000), cpu: done / ((cpu.user + cpu.system) / 1e6) };
  };
}

/** A window of a peer's: one request, whose answer has both rates. */
function peerWindow(peer: TorchPeer, body: Record<string, unknown>): Window {
  return (windowSeconds) => peer.request<{ rate: number; cpuRate: number }>({ ...body, seconds: windowSeconds })
    .then((a) => ({ wall: a.rate, cpu: a.cpuRate }));
}

/**
 * A peer of its own for each model and each of peerThreads, as a user's script trains or
 * samples one model in its process: in one process, PyTorch trained LSTM 2×128 at a third of
 * its speed once a GRU had trained there (docs/speed.md).
 */
async function peerWindows(body: (threads: number) => Record<string, unknown>): Promise<{ windows: Window[]; peers: TorchPeer[] }> {
  const peers = await Promise.all(peerThreads.map(() => startPeerProcess()));
  return { windows: peers.map((peer, i) => peerWindow(peer, body(peerThreads[i]!))), peers };
}

/**
 * Tokens per second for each subject, the best of ROUNDS windows of seconds/ROUNDS. The
 * windows take turns across subjects (rnn's and PyTorch's alike), so a busy neighbour on a
 * shared machine, which only ever slows a window, falls on all of them alike. A subject
 * whose first window outlasts the whole budget (one step of a big model on one worker) gets
 * no more.
 */
async function bestRates(subjects: Window[]): Promise<Rate[]> {
  const best = subjects.map(() => ({ wall: 0, cpu: 0 })), spent = subjects.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    for (const [i, window] of subjects.entries()) {
      if (round > 0 && spent[i]! >= seconds) continue;
      const t0 = performance.now();
      const rate = await window(seconds / ROUNDS);
      best[i] = { wall: Math.max(best[i]!.wall, rate.wall), cpu: Math.max(best[i]!.cpu, rate.cpu) };
      spent[i]! += (performance.now() - t0) / 1000;
    }
  }
  return best;
}

/** The rates of one bestRates call by side: a rate per run of rnn's, then of --against's, then one per peer thread count. */
interface Measured { rnn: Rate[]; against: Rate[]; torch: Rate[] }

/** `rates`, one bestRates call's, split by side: rnn's runs, --against's where it is given, then the peer's. */
function bySide(rates: Rate[], withAgainst: boolean): Measured {
  const ours = runs.length, theirs = withAgainst ? runs.length : 0;
  return { rnn: rates.slice(0, ours), against: rates.slice(ours, ours + theirs), torch: rates.slice(ours + theirs) };
}

/**
 * An engine of `model` on (kernels, workers), its window filled with random tokens and one step
 * taken: made by `create` (--against's, or this checkout's), its step timed by phase where `profile`.
 */
async function trainingEngine(
  model: BenchModel, kernels: KernelsKind, workers: number, { profile = false, create = createEngine } = {},
): Promise<TrainingEngine> {
  const { config, batch, seqLen } = model, V = config.vocabSize;
  const engine = await create({
    config, params: initParams(config, new Rng(1)), optimizer: 'adam', batchSize: batch, seqLen, evalRows: 0, workers, kernels, profile,
  });
  const rng = new Rng(2);
  for (let i = 0; i < batch * seqLen; i++) { engine.inputs[i] = rng.nextUint32() % V; engine.targets[i] = rng.nextUint32() % V; }
  engine.trainStep(TRAIN_SETTINGS, null); // let the JIT settle
  return engine;
}

/** Adam at the bench's rate, clipped at a norm of 5; the peer's train requests carry the same. */
const TRAIN_SETTINGS = { lr: 2e-3, clip: 5, clipValue: null };

/** A window of an engine's training steps, each B × T tokens. */
function trainingWindow(engine: TrainingEngine, { batch, seqLen }: BenchModel): Window {
  return loop(() => { engine.trainStep(TRAIN_SETTINGS, null); return batch * seqLen; });
}

/**
 * Training tokens/s of a model on each (kernels, worker count), their engines alive side by
 * side, and of the peer on each thread count, all taking turns.
 */
async function trainingSpeeds(name: string, model: BenchModel): Promise<Measured> {
  const { config, batch, seqLen } = model;
  const engines = [];
  for (const { kernels, workers } of runs) engines.push(await trainingEngine(model, kernels, workers));
  for (const { kernels, workers } of againstEngine ? runs : []) {
    engines.push(await trainingEngine(model, kernels, workers, { create: againstEngine! }));
  }
  const subjects: Window[] = engines.map((engine) => trainingWindow(engine, model));
  const torch = await peerWindows((threads) => ({
    cmd: 'train', key: `train ${name} ${threads}`, model: config, batch, seqLen, threads, lr: TRAIN_SETTINGS.lr, clip: TRAIN_SETTINGS.clip,
  }));
  const rates = await bestRates([...subjects, ...torch.windows]);
  for (const engine of engines) await engine.close();
  await Promise.all(torch.peers.map((peer) => peer.close()));
  return bySide(rates, againstEngine !== null);
}

/** A module of --against's checkout, at `path` below its root. */
async function againstModule<T>(path: string): Promise<T> {
  return await import(pathToFileURL(join(flag('against')!, path)).href) as T;
}

/** --against's createEngine, from that checkout's dist/ (its engine takes the same options). */
const againstEngine: typeof createEngine | null = flag('against') === undefined ? null
  : (await againstModule<{ createEngine: typeof createEngine }>(AGAINST_ENGINE)).createEngine;

/** Where a step's time goes: milliseconds a step by phase (the workers' mean), and each worker's work apart. */
interface StepProfile {
  ms: Record<StepPhase | 'rest', number>;
  /** Each worker's milliseconds a step outside the barriers, in worker order. */
  workMs: number[];
}

/**
 * Where a step's time goes on (kernels, workers): each kernel call, barrier and step timed
 * (timed.ts's phases), over the steps that fit in a window after one to settle. Window
 * products are those over all T·B rows at once (input projections, weight gradients, the
 * head), recurrent ones those of each time step; gates are σ, tanh and the cells' step; `rest`
 * is the step less every phase: the embedding, the loss's bookkeeping and the copies, in plain
 * TypeScript. Each worker's work apart tells a slower core (one worker's work longer than the
 * other's, step after step) from waits that come and go.
 */
async function stepProfile(model: BenchModel, kernels: KernelsKind, workers: number): Promise<StepProfile> {
  const engine = await trainingEngine(model, kernels, workers, { profile: true });
  const before = engine.profile()!;
  let steps = 0;
  const t0 = performance.now();
  while (steps < 3 || performance.now() - t0 < (seconds / ROUNDS) * 1000) { engine.trainStep(TRAIN_SETTINGS, null); steps++; }
  const after = engine.profile()!;
  await engine.close();
  // ms a step of worker w's `phase`
  const msOf = (w: number, phase: StepPhase) => (1000 * (after[w]![phase] - before[w]![phase])) / steps;
  const perStep = Object.fromEntries(STEP_PHASES.map((phase) => {
    const total = after.reduce((sum, _, w) => sum + msOf(w, phase), 0);
    return [phase, total / workers];
  })) as Record<StepPhase, number>;
  const accounted = STEP_PHASES.filter((p) => p !== 'step').reduce((sum, p) => sum + perStep[p], 0);
  return {
    ms: { ...perStep, rest: perStep.step - accounted },
    workMs: after.map((_, w) => msOf(w, 'step') - msOf(w, 'barriers')),
  };
}

/** The profile's phases as printed. */
const PHASE_LABELS: Record<Exclude<StepPhase, 'step'> | 'rest', string> = {
  products: 'window products', recurrent: 'recurrent products', biases: 'biases', table: 'token table', gates: 'gates',
  softmax: 'softmax+loss',
  reduction: 'gradient reduction', clipAdam: 'clip+Adam', barriers: 'barrier waits', rest: 'the rest',
};

/**
 * Tokens/s of the head alone on one thread, forward and backward, at the model's training
 * shapes (R = B·T rows, hidden H, vocabulary V), as model.ts computes it:
 *   logits = h·W_headᵀ + b        [R×V] (matmulNT R×V×H)
 *   loss, dLogits = softmax − onehot
 *   dW_head += dLogitsᵀ·h         (matmulTN V×H×R),  db += Σ rows dLogits
 *   dh = dLogits·W_head           (matmulNN R×H×V)
 * Against the whole step's tokens/s on one worker, rate_step / rate_head is the head's share of the step.
 */
async function headSpeed(model: BenchModel, kind: KernelsKind): Promise<number> {
  const { config: { hiddenSize: H, vocabSize: V }, batch, seqLen } = model, R = batch * seqLen;
  const k = createKernels(kind, new Arena());
  const [h, W, bias, logits, dLogits, dW, db, dh] =
    [R * H, V * H, V, R * V, R * V, V * H, V, R * H].map((n) => k.arena.floats(n)) as Float32Array[];
  const rng = new Rng(4);
  for (const x of [h!, W!]) for (let i = 0; i < x.length; i++) x[i] = rng.uniform() - 0.5;
  const targets = new Int32Array(R).map(() => rng.nextUint32() % V);
  const pass = (): number => {
    k.broadcastRows(logits!, 0, bias!, 0, R, V);
    k.matmulNT(h!, 0, W!, 0, logits!, 0, R, V, H);
    softmaxCrossEntropy(k, logits!, targets, batch, seqLen, seqLen, V, dLogits!, 1 / R);
    k.matmulTN(dLogits!, 0, h!, 0, dW!, 0, V, H, R);
    k.addColumnSums(dLogits!, 0, db!, 0, R, V);
    dh!.fill(0);
    k.matmulNN(dLogits!, 0, W!, 0, dh!, 0, R, H, V);
    return R;
  };
  pass(); // let the JIT settle
  return (await bestRates([loop(pass)]))[0]!.wall;
}

/** What sampling runs: this checkout's, or --against's (from its dist/). */
interface Sampling { createStepper: typeof createStepper; sampleText: typeof sampleText; Vocabulary: typeof Vocabulary }

/** --against's sampling, from that checkout's dist/. */
const againstSampling: Sampling | null = flag('against') === undefined ? null : {
  ...await againstModule<Pick<Sampling, 'createStepper'>>('dist/src/parallel/inference.js'),
  ...await againstModule<Pick<Sampling, 'sampleText'>>('dist/src/generate/sample.js'),
  ...await againstModule<Pick<Sampling, 'Vocabulary'>>('dist/src/text/vocab.js'),
};

/** A character-level vocabulary of `size` tokens: the specials, then printable characters from '!'. */
function charTokens(size: number): string[] {
  return [EOS_TOKEN, UNK_TOKEN, ...Array.from({ length: size - 2 }, (_, i) => String.fromCodePoint(0x21 + i))];
}

/**
 * Sampling tokens/s (batch 1) of a model on each (kernels, thread count), with --against's
 * beside them, and of the peer on each thread count, all taking turns.
 */
async function samplingSpeeds(name: string, config: ModelConfig): Promise<Measured> {
  const params = initParams(config, new Rng(3));
  const length = 2000;
  const subjects: Window[] = [];
  const steppers: Awaited<ReturnType<typeof createStepper>>[] = [];
  const sides: Sampling[] = [{ createStepper, sampleText, Vocabulary }, ...(againstSampling ? [againstSampling] : [])];
  for (const side of sides) {
    const vocab = side.Vocabulary.fromTokens(charTokens(config.vocabSize));
    for (const { kernels, workers } of runs) {
      const stepper = await side.createStepper(config, params, workers, kernels);
      side.sampleText({ config, params, vocab, length: 5000, temperature: 1, seed: 1, stepper }); // let the JIT settle
      steppers.push(stepper);
      let seed = 2;
      subjects.push(loop(() => {
        side.sampleText({ config, params, vocab, length, temperature: 1, seed: seed++, stepper });
        return length;
      }));
    }
  }
  const torch = await peerWindows((threads) => ({ cmd: 'sample', key: `sample ${name} ${threads}`, model: config, threads, length: 200 }));
  const rates = await bestRates([...subjects, ...torch.windows]);
  for (const stepper of steppers) await stepper.close();
  await Promise.all(torch.peers.map((peer) => peer.close()));
  return bySide(rates, againstSampling !== null);
}

/** Characters of the longest kernels name, to which the rows pad it. */
const KIND_WIDTH = Math.max(...KERNELS_KINDS.map((kind) => kind.length));

/** `×4.21 wasm/js` for a WebAssembly figure whose js counterpart was measured, else ''. */
function ratioText(rates: number[], i: number): string {
  const run = runs[i]!;
  if (run.kernels === 'js') return '';
  const js = runIndex('js', run.workers);
  return js < 0 ? '' : `  ×${(rates[i]! / rates[js]!).toFixed(2)} ${run.kernels}/js`;
}

/** `×0.62 rnn/PyTorch`: `ours` over `theirs` to `digits` places, and on one thread also their ratio per CPU-second. */
function ratioOf(ours: Rate, theirs: Rate, threads: number, digits: number, label: string): string {
  const cpu = threads === 1 ? ` (×${(ours.cpu / theirs.cpu).toFixed(digits)} per CPU-second)` : '';
  return `×${(ours.wall / theirs.wall).toFixed(digits)} ${label}${cpu}`;
}

/** `  ×0.62 rnn/PyTorch` for an rnn figure whose PyTorch counterpart (same threads) was measured, else ''. */
function peerRatioText(rate: Rate, workers: number, torch: Rate[]): string {
  const at = peerThreads.indexOf(workers);
  return at < 0 ? '' : `  ${ratioOf(rate, torch[at]!, workers, 2, 'rnn/PyTorch')}`;
}

/** ` on --against  ×1.012 this/against`: this checkout's rate over --against's. */
function againstText(ours: Rate, theirs: Rate, workers: number): string {
  return ` on --against  ${ratioOf(ours, theirs, workers, 3, 'this/against')}`;
}

/** `  51678 chars/s`, padded to `width`, and on one thread `, 78905 per CPU-second`. */
function rateText(rate: Rate, unit: string, threads: number, width: number): string {
  return `${rate.wall.toFixed(0).padStart(width)} ${unit}/s${threads === 1 ? `, ${rate.cpu.toFixed(0)} per CPU-second` : ''}`;
}

/** A row's start: what it measures, then who ran it, `relaxed B=50 T=50  workers  2: ` or `torch B=50 T=50  threads  2: `. */
function rowLabel(what: string, side: KernelsKind | 'torch', shape: string, threads: number): string {
  const who = side === 'torch' ? `torch ${shape}  threads` : `${side.padEnd(KIND_WIDTH)} ${shape}  workers`;
  return `${what} ${who} ${String(threads).padStart(2)}: `;
}

const percent = (fraction: number) => `${(100 * fraction).toFixed(0)}%`;

/** A process of the PyTorch peer's, on the python found. */
function startPeerProcess(): Promise<TorchPeer> {
  return TorchPeer.start((peerPython as { python: string }).python);
}

/**
 * Whether the PyTorch peer runs: when --peer or --race asks for it and a python here imports
 * torch (--race refuses to start without one); its version reported.
 */
async function checkPeer(): Promise<boolean> {
  if (peerPython === null) return false;
  if ('missing' in peerPython) {
    report({ event: 'peer', torch: null, missing: peerPython.missing }, `PyTorch peer: skipped, ${peerPython.missing}`);
    return false;
  }
  const { python } = peerPython;
  const probe = await startPeerProcess();
  await probe.close();
  report(
    { event: 'peer', torch: probe.torchVersion, python },
    `PyTorch peer: torch ${probe.torchVersion} (${python}), on ${threadCounts.join(', ')} ${plural(threadCounts.at(-1)!, 'thread')}, a process for each model and thread count`,
  );
  return true;
}

/** The yardstick's GFLOP/s per thread alone and with as many threads at once as each worker count, reported. */
async function measureCeilings(): Promise<Map<number, number>> {
  const ceilings = new Map<number, number>();
  for (const threads of new Set([1, ...workerCounts])) ceilings.set(threads, await ceiling(threads));
  const alone = ceilings.get(1)!;
  const processor = thisProcessor();
  report(
    { event: 'machine', cores, processor, node: process.version, ceilingGflops: alone, kernels: kernelsKinds, date: new Date().toISOString() },
    `${new Date().toISOString().slice(0, 16)}Z, ${cores} cores (${processorText(processor)}), Node ${process.version}, kernels ${kernelsKinds.join(' and ')}; ` +
      `yardstick (bench/yardstick.ts, plain-JS GEMM n=${YARDSTICK_N}): ${alone.toFixed(2)} GFLOP/s per thread`,
  );
  for (const [threads, gflops] of ceilings) {
    if (threads === 1) continue;
    report(
      { event: 'ceiling', threads, ceilingGflops: gflops },
      `  with ${String(threads).padStart(2)} threads at once: ${gflops.toFixed(2)} GFLOP/s per thread (×${((threads * gflops) / alone).toFixed(2)} together)`,
    );
  }
  return ceilings;
}

/** This thread's SIMD peak, reported; undefined when only js is measured or the runtime lacks relaxed SIMD. */
function measureSimdPeak(): number | undefined {
  const peak = kernelsKinds.some((kind) => kind !== 'js') ? simdPeakGflops() : undefined;
  if (peak !== undefined) {
    report(
      { event: 'simdPeak', gflops: peak },
      `SIMD peak (bench/simd-peak.ts: f32x4 fused multiply-adds, ${SIMD_PEAK_SUMS} independent sums, no memory): ${peak.toFixed(2)} GFLOP/s per thread`,
    );
  }
  return peak;
}

/** GFLOP/s a thread of a WebAssembly kernel set as a fraction of the SIMD peak; undefined without a peak, or for js. */
function ofSimdPeak(kind: KernelsKind, gflopsPerThread: number): number | undefined {
  return simdPeak === undefined || kind === 'js' ? undefined : gflopsPerThread / simdPeak;
}

/** The share of --seconds each kernel's measurement on each set gets. */
const KERNEL_SHARE = 1 / 16;

/** Each kernel's speed on every kernel set, beside the yardstick and the SIMD peak. */
function reportKernels(): void {
  for (const row of kernelSpeeds(kernelsKinds, seconds * KERNEL_SHARE)) {
    const figures = kernelsKinds.map((kind) => `${kind} ${row.figures[kind]!.toFixed(2).padStart(6)}`).join('  ');
    const ratio = row.figures.wasm !== undefined && row.figures.js !== undefined ? `  ×${(row.figures.wasm / row.figures.js).toFixed(1)} wasm/js` : '';
    const shares = kernelsKinds.flatMap((kind) => ofSimdPeak(kind, row.figures[kind]!) ?? []);
    const ofPeak = shares.length === 0 ? '' : `; ${shares.map(percent).join(', ')} of the SIMD peak`;
    const ofCeiling = row.unit === 'GFLOP/s'
      ? `  (${kernelsKinds.map((kind) => `${(row.figures[kind]! / gemmCeiling).toFixed(1)}×`).join(', ')} the yardstick${ofPeak})` : '';
    report({ event: 'kernel', ...row }, `kernel ${row.what.padEnd(22)} ${row.shape.padEnd(16)} ${row.unit}: ${figures}${ratio}${ofCeiling}`);
  }
}

/** The profile of a model on the default kernels, one worker and the most measured. */
async function reportProfiles(name: string): Promise<void> {
  const kernels = resolveKernels(), model = MODELS[name]!;
  for (const workers of new Set([1, Math.max(...workerCounts)])) {
    const { ms, workMs } = await stepProfile(model, kernels, workers);
    const parts = (Object.keys(PHASE_LABELS) as Array<keyof typeof PHASE_LABELS>)
      .filter((phase) => workers > 1 || (phase !== 'barriers' && phase !== 'reduction'))
      .map((phase) => `${PHASE_LABELS[phase]} ${percent(ms[phase] / ms.step)}`);
    const spread = workers === 1 ? '' : `; each worker's work ${workMs.map((w) => w.toFixed(1)).join(', ')} ms a step, `
      + `the slowest ×${(Math.max(...workMs) / Math.min(...workMs)).toFixed(2)} the fastest`;
    report(
      { event: 'profile', model: name, kernels, workers, msPerStep: ms, workMsPerStep: workMs },
      `profile ${name.padEnd(14)} ${kernels.padEnd(KIND_WIDTH)} workers ${String(workers).padStart(2)}: ${ms.step.toFixed(1)} ms a step (timed): ${parts.join(', ')}${spread}`,
    );
  }
}

/**
 * A model's training speed: PyTorch's on each thread count, then each run's with its speed-up,
 * GFLOP/s, share of the yardstick and of the SIMD peak and its ratios, and --against's beside
 * it; then the profile and, for the word model, the head's share of a step.
 */
async function reportTraining(name: string): Promise<void> {
  const model = MODELS[name]!;
  const { config, batch, seqLen, unit } = model;
  const what = `train ${name.padEnd(14)}`, shape = `B=${batch} T=${seqLen}`;
  const measured = await trainingSpeeds(name, model);
  const rates = measured.rnn.map((r) => r.wall);
  peerThreads.forEach((threads, i) => {
    const torch = measured.torch[i]!;
    report(
      { event: 'train', model: name, unit, kernels: 'torch', batch, seqLen, workers: threads, tokensPerSecond: torch.wall, tokensPerCpuSecond: torch.cpu },
      rowLabel(what, 'torch', shape, threads) + rateText(torch, unit, threads, 7),
    );
  });
  runs.forEach(({ kernels, workers }, i) => {
    const ours = measured.rnn[i]!, tokensPerSecond = ours.wall;
    const asTrained = batch === TRAIN_DEFAULTS.batch && seqLen === TRAIN_DEFAULTS.seqLen && kernels === resolveKernels();
    if (name === DEFAULT_MODEL && asTrained) defaultModelRates.set(workers, tokensPerSecond);
    const alone = runIndex(kernels, 1);
    const speedup = alone < 0 ? undefined : tokensPerSecond / rates[alone]!;
    // GFLOP/s = tokens/s ÷ (B·T) · FLOPs a step ÷ 10⁹; a worker's share, GFLOP/s ÷ workers, against the yardstick's
    // GFLOP/s a thread with as many threads at once, and against the SIMD peak's
    const gflops = (tokensPerSecond / (batch * seqLen)) * flopsPerStep(config, batch, seqLen, workers) / 1e9;
    const ofCeiling = gflops / workers / ceilings.get(workers)!;
    const ofPeak = ofSimdPeak(kernels, gflops / workers);
    const at = peerThreads.indexOf(workers), torch = measured.torch[at];
    report(
      {
        event: 'train', model: name, unit, kernels, batch, seqLen, workers, tokensPerSecond, tokensPerCpuSecond: ours.cpu,
        speedup, gflops, ofCeilingPerWorker: ofCeiling, ofSimdPeakPerWorker: ofPeak,
        ...(torch && { torchTokensPerSecond: torch.wall, ratioTorch: tokensPerSecond / torch.wall }),
      },
      rowLabel(what, kernels, shape, workers) + `${rateText(ours, unit, workers, 7)}  ${speedup === undefined ? '' : `×${speedup.toFixed(2)}  `}` +
        `${gflops.toFixed(2)} GFLOP/s  (${percent(ofCeiling)} of the yardstick with as many threads` +
        (ofPeak === undefined ? '' : `, ${percent(ofPeak)} of the SIMD peak`) + ')' + ratioText(rates, i) +
        (kernels === resolveKernels() ? peerRatioText(ours, workers, measured.torch) : ''),
    );
    const against = measured.against[i];
    if (!against) return;
    report(
      { event: 'train', model: name, unit, kernels, batch, seqLen, workers, against: flag('against'), tokensPerSecond: against.wall, ratioAgainst: tokensPerSecond / against.wall },
      rowLabel(what, kernels, shape, workers) + rateText(against, unit, workers, 7) + againstText(ours, against, workers),
    );
  });
  await reportProfiles(name);
  if (unit === 'tokens') await reportHeadShares(name, rates);
}

/** The head's speed alone on one thread and its share of a training step on one worker (`rates`: the runs'). */
async function reportHeadShares(name: string, rates: number[]): Promise<void> {
  for (const kernels of kernelsKinds) {
    const one = runIndex(kernels, 1);
    if (one < 0) continue;
    const head = await headSpeed(MODELS[name]!, kernels);
    const share = rates[one]! / head;
    report(
      { event: 'head', model: name, kernels, tokensPerSecond: head, stepShare: share },
      `head  ${name.padEnd(14)} ${kernels.padEnd(KIND_WIDTH)} forward+backward alone, 1 thread: ${head.toFixed(0).padStart(7)} tokens/s, ` +
        `${percent(share)} of a training step on 1 worker`,
    );
  }
}

/** A model's sampling speed at batch 1: PyTorch's on each thread count, then each run's with its ratios, and --against's beside it. */
async function reportSampling(name: string): Promise<void> {
  const { config, unit } = MODELS[name]!;
  const measured = await samplingSpeeds(name, config);
  const rates = measured.rnn.map((r) => r.wall);
  const what = `sample ${name.padEnd(10)}`, shape = 'batch 1';
  peerThreads.forEach((threads, i) => {
    const torch = measured.torch[i]!;
    report(
      { event: 'sample', model: name, unit, kernels: 'torch', batch: 1, workers: threads, tokensPerSecond: torch.wall, tokensPerCpuSecond: torch.cpu },
      rowLabel(what, 'torch', shape, threads) + rateText(torch, unit, threads, 6),
    );
  });
  runs.forEach(({ kernels, workers }, i) => {
    const ours = measured.rnn[i]!;
    report(
      { event: 'sample', model: name, unit, kernels, batch: 1, workers, tokensPerSecond: ours.wall, tokensPerCpuSecond: ours.cpu },
      rowLabel(what, kernels, shape, workers) + rateText(ours, unit, workers, 6) + ratioText(rates, i) +
        (kernels === resolveKernels() ? peerRatioText(ours, workers, measured.torch) : ''),
    );
    const against = measured.against[i];
    if (!against) return;
    report(
      { event: 'sample', model: name, unit, kernels, batch: 1, workers, against: flag('against'), tokensPerSecond: against.wall, ratioAgainst: ours.wall / against.wall },
      rowLabel(what, kernels, shape, workers) + rateText(against, unit, workers, 6) + againstText(ours, against, workers),
    );
  });
}

/** --against's checkpoint save and load, from that checkout's dist/. */
const againstCheckpoint: CheckpointSide | null = flag('against') === undefined ? null
  : await againstModule<CheckpointSide>('dist/src/checkpoint/checkpoint.js');

/**
 * How long a checkpoint of the model takes to save (checked, checksummed, written) and to load, and `rnn serve` to start
 * on it, with the memory it holds then; --against's beside each.
 */
async function reportCheckpoint(name: string): Promise<void> {
  const { config } = MODELS[name]!;
  const checkpoint = benchCheckpoint(config, charTokens(config.vocabSize));
  const sides = [{ saveCheckpoint, loadCheckpoint }, ...(againstCheckpoint ? [againstCheckpoint] : [])];
  const [ours, against] = checkpointTimes(checkpoint, sides, ROUNDS);
  const what = `checkpoint ${name.padEnd(14)} ${mib(ours!.bytes)}:`;
  report(
    { event: 'checkpoint', model: name, bytes: ours!.bytes, saveMs: ours!.saveMs, loadMs: ours!.loadMs },
    `${what} saved (checked, checksummed, written) in ${ours!.saveMs.toFixed(0)} ms, loaded in ${ours!.loadMs.toFixed(0)} ms`,
  );
  if (against) {
    report(
      { event: 'checkpoint', model: name, against: flag('against'), bytes: against.bytes, saveMs: against.saveMs, loadMs: against.loadMs },
      `${what} on --against ${against.saveMs.toFixed(0)} ms and ${against.loadMs.toFixed(0)} ms: ` +
        `×${(against.saveMs / ours!.saveMs).toFixed(2)} and ×${(against.loadMs / ours!.loadMs).toFixed(2)} this/against`,
    );
  }
  await reportServeStart(name, checkpoint);
}

/** `rnn serve` on as many threads as the most workers measured (the cores at most): its start on the checkpoint, its memory then. */
async function reportServeStart(name: string, checkpoint: Checkpoint): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'rnn-bench-serve-start-')), scratch = removedWithBench(dir);
  const path = join(dir, `${name}.json`), threads = Math.min(Math.max(...threadCounts), cores);
  try {
    saveCheckpoint(path, checkpoint);
    const bins = [RNN_BIN, ...(flag('against') === undefined ? [] : [join(flag('against')!, 'bin', 'rnn.js')])];
    const [ours, against] = await serveStarts(bins, path, threads, ROUNDS);
    const what = `serve      ${name.padEnd(14)} ${threads} ${plural(threads, 'thread')}:`;
    const memory = (start: ServeStart) => `${start.rssMiB.toFixed(0)} MiB once each thread has sampled (peak ${start.peakMiB.toFixed(0)} MiB)`;
    report(
      { event: 'serve-start', model: name, threads, ...ours! },
      `${what} listening after ${ours!.readyMs.toFixed(0)} ms, ${memory(ours!)}`,
    );
    if (!against) return;
    report(
      { event: 'serve-start', model: name, threads, against: flag('against'), ...against },
      `${what} on --against ${against.readyMs.toFixed(0)} ms, ${memory(against)}: ` +
        `×${(against.readyMs / ours!.readyMs).toFixed(2)} the time and ×${(against.rssMiB / ours!.rssMiB).toFixed(2)} the memory this/against`,
    );
  } finally {
    scratch.removed();
  }
}

/**
 * The bench's best window for the default model as `rnn train` runs it (its batch, the default
 * kernels, a worker a core), for the race's loop to be read against: the figure measured with
 * the run's models where they included it, else measured now, alone, in windows as long as the loop's.
 */
async function defaultModelRate(): Promise<number> {
  const measured = defaultModelRates.get(cores);
  if (measured !== undefined) return measured;
  const model = { ...MODELS[DEFAULT_MODEL]!, batch: TRAIN_DEFAULTS.batch, seqLen: TRAIN_DEFAULTS.seqLen };
  const engine = await trainingEngine(model, resolveKernels(), cores);
  const [rate] = await bestRates([trainingWindow(engine, model)]);
  await engine.close();
  return rate!.wall;
}

/** --race: `rnn train` with its defaults, then PyTorch with the same settings, on `file` for `budget` seconds each. */
async function reportRace(file: string, budget: number): Promise<void> {
  const d = TRAIN_DEFAULTS;
  const settings = `${d.cell.toUpperCase()} ${d.layers}×${d.hidden}, E=${d.embed}, B=${d.batch}, T=${d.seqLen}, ${d.optimizer} ${d.lr} ${d.lrSchedule === 'epoch' ? `×${d.lrDecay} an epoch` : `${d.lrSchedule} to 0 over the time`}, clip ${d.clip}`;
  report({ event: 'race', settings: d, seconds: budget }, `race ${budget}s on ${file} (${settings}; the last ${d.valFrac * 100}% held out), one after the other:`);
  const benchBefore = await defaultModelRate();
  // a text the scan took (checkCorpus) that rnn train still refuses (too short for its batch, say): its one line
  const ours = await rnnRace(file, budget, seconds / ROUNDS).catch((error: Error) => fail(`--race: ${error.message}`));
  report({ event: 'race', side: 'rnn', ...ours }, `race rnn train --time ${budget}s (${cores} workers): ${ours.steps} steps in ${ours.seconds.toFixed(0)} s, validation loss ${ours.valLoss?.toFixed(3)}`);
  // on either side of the race, where the run's models had not measured it: a busy minute falls on one
  const bench = Math.max(benchBefore, await defaultModelRate());
  report(
    { event: 'race', side: 'rnn', loop: ours.loop, benchTokensPerSecond: bench },
    `race rnn train's loop between evaluations, ${ours.loop.windows} windows of ${(seconds / ROUNDS).toFixed(1)} s: ` +
      `best ${ours.loop.best.toFixed(0)} chars/s, mean ${ours.loop.mean.toFixed(0)}; ` +
      `the bench's best window for ${DEFAULT_MODEL} on ${cores} workers at B=${TRAIN_DEFAULTS.batch} ${bench.toFixed(0)}: ×${(ours.loop.best / bench).toFixed(2)} loop/bench`,
  );
  const torchPeer = await startPeerProcess();
  const theirs = await torchPeer.request<RaceResult>({ cmd: 'race', corpus: file, seconds: budget, threads: cores, settings: d });
  await torchPeer.close();
  report({ event: 'race', side: 'torch', ...theirs }, `race PyTorch (${cores} threads): ${theirs.steps} steps in ${theirs.seconds.toFixed(0)} s, validation loss ${theirs.valLoss?.toFixed(3)}`);
}

/** The thread counts measured, each once; the peer runs on each. */
const threadCounts = [...new Set(workerCounts)];
const peerThreads = await checkPeer() ? threadCounts : [];
const ceilings = await measureCeilings();
const gemmCeiling = ceilings.get(1)!;
const simdPeak = measureSimdPeak();
if (!profileOnly) reportKernels();
for (const name of models) await (profileOnly ? reportProfiles(name) : reportTraining(name));
// LSTM 2×128, the sampling yardstick, and the default model
for (const name of profileOnly ? [] : ['lstm-2x128', 'gru-2x192']) await reportSampling(name);
for (const name of profileOnly ? [] : models) await reportCheckpoint(name);
if (raceSeconds !== null) await reportRace(corpus!, raceSeconds);
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
report({ event: 'memory', peakRssMiB }, `peak RSS ${peakRssMiB.toFixed(0)} MiB (the PyTorch peer not counted)`);
