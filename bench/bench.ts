/**
 * `npm run bench`: for each kernel implementation side by side (js, wasm), the GFLOP/s of the
 * matrix products at training shapes, training speed for 1 … N workers and the GFLOP/s it
 * implies beside the plain-JavaScript matrix-product ceiling measured in this process (alone,
 * and with as many threads at once as the workers), sampling speed (LSTM 2×128 and the
 * default GRU 2×192), the ratio wasm/js of each, and peak RSS. The word level's model
 * (word-gru-2x256: GRU 2×256, E = 128, V = 10,000, B = T = 32) is timed in tokens/s, with the
 * share of its step spent in the head (the output layer over 10,000 words).
 *
 *   npm run bench                       the full table (N = os.availableParallelism())
 *   npm run bench -- --json             one JSON object per line
 *   npm run bench -- --seconds 2 --workers 1,2 --models lstm-2x128 --batch 200 --kernels wasm
 *   npm run bench -- --models word-gru-2x256 --workers 1,2
 *   npm run bench -- --serve            `rnn serve` under load (bench/serve.ts)
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { type ModelConfig, gateCount } from '../src/engine/config.js';
import { availableKernels } from '../src/engine/kernels/index.js';
import type { KernelsKind } from '../src/engine/kernels/kernels.js';
import { Arena } from '../src/engine/kernels/arena.js';
import { createKernels } from '../src/engine/kernels/index.js';
import { softmaxCrossEntropy } from '../src/engine/loss.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { createEngine } from '../src/parallel/pool.js';
import { sampleText } from '../src/generate/sample.js';
import { createStepper } from '../src/parallel/inference.js';
import { Vocabulary } from '../src/text/vocab.js';
import { kernelSpeeds } from './kernels.js';

const args = process.argv.slice(2);
if (args.includes('--serve')) {
  await (await import('./serve.js')).benchServe(args); // the server under load: bench/serve.ts
  process.exit(0);
}
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const seconds = Number(flag('seconds') ?? 8);
const cores = availableParallelism();
const workerCounts = (flag('workers') ?? Array.from({ length: cores }, (_, i) => i + 1).join(',')).split(',').map(Number);

// tinyshakespeare's 65 characters plus <EOS> and <UNK>
const VOCAB = 67, B = Number(flag('batch') ?? 50), T = 50;
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
  'gru-2x96': charModel('gru', 96), // the default before the SIMD kernels
  'gru-2x192': charModel('gru', 192), // the default model
  'lstm-2x512': charModel('lstm', 512),
  // the word-level yardstick: the notes' 10,000 words; B = T = 32 whatever --batch says
  'word-gru-2x256': {
    config: { cell: 'gru', vocabSize: 10_000, embedDim: 128, hiddenSize: 256, numLayers: 2, dropout: 0 }, batch: 32, seqLen: 32, unit: 'tokens',
  },
};
const models = (flag('models') ?? Object.keys(MODELS).join(',')).split(',');
const kernelsKinds = (flag('kernels')?.split(',') ?? availableKernels()) as KernelsKind[];
for (const kind of kernelsKinds) {
  if (!availableKernels().includes(kind)) {
    console.error(`bench: --kernels: '${kind}' does not run here; valid: ${availableKernels().join(', ')}`);
    process.exit(2);
  }
}
for (const name of models) {
  if (!(name in MODELS)) {
    console.error(`bench: --models: unknown model '${name}'; valid: ${Object.keys(MODELS).join(', ')}`);
    process.exit(2);
  }
}

function report(row: Record<string, unknown>, text: string): void {
  console.log(json ? JSON.stringify(row) : text);
}

/**
 * Multiply-adds of one training step, forward and backward, times 2 FLOPs each. Forward:
 * x·W_ihᵀ and h·W_hhᵀ per layer and the head; backward does each product twice more (the
 * weight gradient and the gradient flowing back), so the total is 3× the forward.
 */
function flopsPerStep(c: ModelConfig, rows: number): number {
  const G = gateCount(c.cell) * c.hiddenSize;
  let forward = rows * c.vocabSize * c.hiddenSize;
  for (let k = 0; k < c.numLayers; k++) forward += rows * G * ((k === 0 ? c.embedDim : c.hiddenSize) + c.hiddenSize);
  return 2 * 3 * forward;
}

const CEILING = new URL('../../../shared/bench/gemm-ceiling.mjs', import.meta.url);

/**
 * The yardstick's GFLOP/s per thread with `threads` copies running at once (their mean, the
 * best of three rounds: a busy neighbour only ever lowers it), or null where the file is
 * absent. With several threads it shows what the machine itself allows: cores that share a
 * clock budget, caches and memory run slower together than alone.
 */
async function ceiling(threads: number): Promise<number | null> {
  if (!existsSync(fileURLToPath(CEILING))) return null;
  const source = `const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.url).then(({ ceilingGflops }) => parentPort.postMessage(ceilingGflops({ n: 256, seconds: 1 })));`;
  let best = 0;
  for (let round = 0; round < 3; round++) {
    const each = await Promise.all(Array.from({ length: threads }, () => new Promise<number>((resolve, reject) => {
      const worker = new Worker(source, { eval: true, workerData: { url: CEILING.href } });
      worker.once('message', (gflops: number) => { resolve(gflops); void worker.terminate(); });
      worker.once('error', reject);
    })));
    best = Math.max(best, each.reduce((a, b) => a + b, 0) / threads);
  }
  return best;
}

const ROUNDS = 5;

/**
 * Characters per second for each subject, the best of ROUNDS windows of seconds/ROUNDS
 * (each at least one call of `work`, which returns the characters it did). The windows take
 * turns across subjects, so a busy neighbour on a shared machine, which only ever slows a
 * window, falls on all of them alike. A subject whose first window outlasts the whole
 * budget (one step of a big model on one worker) gets no more.
 */
function bestRates(subjects: Array<() => number>): number[] {
  const best = subjects.map(() => 0), spent = subjects.map(() => 0);
  for (let round = 0; round < ROUNDS; round++) {
    subjects.forEach((work, i) => {
      if (round > 0 && spent[i]! >= seconds) return;
      let done = 0;
      const t0 = performance.now();
      let t = t0;
      while (done === 0 || t - t0 < (seconds * 1000) / ROUNDS) { done += work(); t = performance.now(); }
      spent[i]! += (t - t0) / 1000;
      best[i] = Math.max(best[i]!, done / ((t - t0) / 1000));
    });
  }
  return best;
}

/** Training tokens/s of a model on each (kernels, worker count), their engines alive side by side. */
async function trainingSpeeds(model: BenchModel, runs: Run[]): Promise<number[]> {
  const { config, batch, seqLen } = model, V = config.vocabSize;
  const settings = { lr: 2e-3, clip: 5, clipValue: null };
  const engines = [];
  for (const { kernels, workers } of runs) {
    const engine = await createEngine({
      config, params: initParams(config, new Rng(1)), optimizer: 'adam', batchSize: batch, seqLen, evalRows: 0, workers, kernels,
    });
    const rng = new Rng(2);
    for (let i = 0; i < batch * seqLen; i++) { engine.inputs[i] = rng.nextUint32() % V; engine.targets[i] = rng.nextUint32() % V; }
    engine.trainStep(settings, null); // let the JIT settle
    engines.push(engine);
  }
  const rates = bestRates(engines.map((engine) => () => { engine.trainStep(settings, null); return batch * seqLen; }));
  for (const engine of engines) await engine.close();
  return rates;
}

/**
 * Tokens/s of the head alone on one thread, forward and backward, at the model's training
 * shapes (R = B·T rows, hidden H, vocabulary V), as model.ts computes it:
 *   logits = h·W_headᵀ + b        [R×V] (matmulNT R×V×H)
 *   loss, dLogits = softmax − onehot
 *   dW_head += dLogitsᵀ·h         (matmulTN V×H×R),  db += Σ rows dLogits
 *   dh = dLogits·W_head           (matmulNN R×H×V)
 * Against the whole step's tokens/s on one worker, rate_step / rate_head is the head's share of the step.
 */
function headSpeed(model: BenchModel, kind: KernelsKind): number {
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
  return bestRates([pass])[0]!;
}

/** Sampling chars/s (batch 1) of a model on each (kernels, thread count). */
async function samplingSpeeds(config: ModelConfig, runs: Run[]): Promise<number[]> {
  const vocab = Vocabulary.fromTokens(['<EOS>', '<UNK>', ...Array.from({ length: VOCAB - 2 }, (_, i) => String.fromCodePoint(33 + i))]);
  const params = initParams(config, new Rng(3));
  const length = 2000;
  const steppers = [];
  for (const { kernels, workers } of runs) {
    const stepper = await createStepper(config, params, workers, kernels);
    sampleText({ config, params, vocab, length: 5000, temperature: 1, seed: 1, stepper }); // let the JIT settle
    steppers.push(stepper);
  }
  let seed = 2;
  const rates = bestRates(steppers.map((stepper) => () => {
    sampleText({ config, params, vocab, length, temperature: 1, seed: seed++, stepper });
    return length;
  }));
  for (const stepper of steppers) await stepper.close();
  return rates;
}

/** One measured configuration: an implementation of the kernels on a number of threads. */
interface Run {
  kernels: KernelsKind;
  workers: number;
}
const runs: Run[] = kernelsKinds.flatMap((kernels) => workerCounts.map((workers) => ({ kernels, workers })));

/** `×4.21 wasm/js` for a wasm figure whose js counterpart was measured, else ''. */
function ratioText(rates: number[], i: number): string {
  const run = runs[i]!;
  if (run.kernels !== 'wasm') return '';
  const js = runs.findIndex((r) => r.kernels === 'js' && r.workers === run.workers);
  return js < 0 ? '' : `  ×${(rates[i]! / rates[js]!).toFixed(2)} wasm/js`;
}

const ceilings = new Map<number, number | null>();
for (const threads of new Set([1, ...workerCounts])) ceilings.set(threads, await ceiling(threads));
const gemmCeiling = ceilings.get(1) ?? null;
report(
  { event: 'machine', cores, node: process.version, ceilingGflops: gemmCeiling, kernels: kernelsKinds },
  `${cores} cores, Node ${process.version}, kernels ${kernelsKinds.join(' and ')}; plain-JS GEMM ceiling (shared/bench/gemm-ceiling.mjs, n=256): ` +
    (gemmCeiling === null ? 'not found' : `${gemmCeiling.toFixed(2)} GFLOP/s per thread`),
);
for (const [threads, gflops] of ceilings) {
  if (gflops === null || threads === 1) continue;
  report(
    { event: 'ceiling', threads, ceilingGflops: gflops },
    `  with ${String(threads).padStart(2)} threads at once: ${gflops.toFixed(2)} GFLOP/s per thread (×${((threads * gflops) / gemmCeiling!).toFixed(2)} together)`,
  );
}
for (const row of kernelSpeeds(kernelsKinds, seconds / 16)) {
  const figures = kernelsKinds.map((kind) => `${kind} ${row.figures[kind]!.toFixed(2).padStart(6)}`).join('  ');
  const ratio = row.figures.wasm !== undefined && row.figures.js !== undefined ? `  ×${(row.figures.wasm / row.figures.js).toFixed(1)} wasm/js` : '';
  const ofCeiling = row.unit === 'GFLOP/s' && gemmCeiling !== null
    ? `  (${kernelsKinds.map((kind) => `${(row.figures[kind]! / gemmCeiling).toFixed(1)}×`).join(', ')} the ceiling)` : '';
  report({ event: 'kernel', ...row }, `kernel ${row.what.padEnd(22)} ${row.shape.padEnd(16)} ${row.unit}: ${figures}${ratio}${ofCeiling}`);
}
for (const name of models) {
  const model = MODELS[name]!;
  const { config, batch, seqLen, unit } = model;
  const rates = await trainingSpeeds(model, runs);
  runs.forEach(({ kernels, workers }, i) => {
    const charsPerSec = rates[i]!;
    const first = runs.findIndex((r) => r.kernels === kernels);
    const single = rates[first]! / runs[first]!.workers;
    const gflops = (charsPerSec / (batch * seqLen)) * flopsPerStep(config, batch * seqLen) / 1e9;
    const workersCeiling = ceilings.get(workers) ?? null;
    const ofCeiling = workersCeiling ? gflops / workers / workersCeiling : null;
    report(
      {
        event: 'train', model: name, kernels, batch, seqLen, workers, charsPerSec, speedup: charsPerSec / single, gflops,
        ofCeilingPerWorker: ofCeiling,
      },
      `train ${name.padEnd(14)} ${kernels.padEnd(4)} B=${batch} T=${seqLen}  workers ${String(workers).padStart(2)}: ` +
        `${charsPerSec.toFixed(0).padStart(7)} ${unit}/s  ×${(charsPerSec / single).toFixed(2)}  ${gflops.toFixed(2)} GFLOP/s` +
        (ofCeiling === null ? '' : `  (${(ofCeiling * 100).toFixed(0)}% of the ceiling with as many threads)`) + ratioText(rates, i),
    );
  });
  if (unit !== 'tokens') continue;
  for (const kernels of kernelsKinds) {
    const one = runs.findIndex((r) => r.kernels === kernels && r.workers === 1);
    if (one < 0) continue;
    const head = headSpeed(model, kernels);
    const share = rates[one]! / head;
    report(
      { event: 'head', model: name, kernels, tokensPerSec: head, stepShare: share },
      `head  ${name.padEnd(14)} ${kernels.padEnd(4)} forward+backward alone, 1 thread: ${head.toFixed(0).padStart(7)} tokens/s, ` +
        `${(share * 100).toFixed(0)}% of a training step on 1 worker`,
    );
  }
}
// the issue's yardstick model, and the default one
for (const name of ['lstm-2x128', 'gru-2x192']) {
  const rates = await samplingSpeeds(MODELS[name]!.config, runs);
  runs.forEach(({ kernels, workers }, i) => {
    report(
      { event: 'sample', model: name, kernels, batch: 1, workers, charsPerSec: rates[i] },
      `sample ${name.padEnd(10)} ${kernels.padEnd(4)} batch 1  workers ${String(workers).padStart(2)}: ${rates[i]!.toFixed(0).padStart(6)} chars/s${ratioText(rates, i)}`,
    );
  });
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
report({ event: 'memory', peakRssMiB }, `peak RSS ${peakRssMiB.toFixed(0)} MiB`);
