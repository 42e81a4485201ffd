/**
 * `npm run bench`: for each kernel implementation side by side (js, wasm), the GFLOP/s of the
 * matrix products at training shapes, training speed for 1 … N workers and the GFLOP/s it
 * implies beside the plain-JavaScript matrix-product ceiling measured in this process (alone,
 * and with as many threads at once as the workers), sampling speed (LSTM 2×128 and the
 * default GRU 2×96), the ratio wasm/js of each, and peak RSS.
 *
 *   npm run bench                       the full table (N = os.availableParallelism())
 *   npm run bench -- --json             one JSON object per line
 *   npm run bench -- --seconds 2 --workers 1,2 --models lstm-2x128 --batch 200 --kernels wasm
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { type ModelConfig, gateCount } from '../src/engine/config.js';
import { availableKernels } from '../src/engine/kernels/index.js';
import type { KernelsKind } from '../src/engine/kernels/kernels.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { createEngine } from '../src/parallel/pool.js';
import { sampleText } from '../src/generate/sample.js';
import { createStepper } from '../src/parallel/inference.js';
import { Vocabulary } from '../src/text/vocab.js';
import { kernelSpeeds } from './kernels.js';

const args = process.argv.slice(2);
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
const MODELS: Record<string, ModelConfig> = {
  'lstm-2x128': { cell: 'lstm', vocabSize: VOCAB, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 },
  'gru-2x128': { cell: 'gru', vocabSize: VOCAB, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 },
  'gru-2x96': { cell: 'gru', vocabSize: VOCAB, embedDim: 64, hiddenSize: 96, numLayers: 2, dropout: 0 },
  'lstm-2x512': { cell: 'lstm', vocabSize: VOCAB, embedDim: 64, hiddenSize: 512, numLayers: 2, dropout: 0 },
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

/** Training chars/s of `config` on each (kernels, worker count), their engines alive side by side. */
async function trainingSpeeds(config: ModelConfig, runs: Run[]): Promise<number[]> {
  const settings = { lr: 2e-3, clip: 5, clipValue: null };
  const engines = [];
  for (const { kernels, workers } of runs) {
    const engine = await createEngine({ config, params: initParams(config, new Rng(1)), optimizer: 'adam', batchSize: B, seqLen: T, evalRows: 0, workers, kernels });
    const rng = new Rng(2);
    for (let i = 0; i < B * T; i++) { engine.inputs[i] = rng.nextUint32() % VOCAB; engine.targets[i] = rng.nextUint32() % VOCAB; }
    engine.trainStep(settings, null); // let the JIT settle
    engines.push(engine);
  }
  const rates = bestRates(engines.map((engine) => () => { engine.trainStep(settings, null); return B * T; }));
  for (const engine of engines) await engine.close();
  return rates;
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
  const config = MODELS[name]!;
  const rates = await trainingSpeeds(config, runs);
  runs.forEach(({ kernels, workers }, i) => {
    const charsPerSec = rates[i]!;
    const first = runs.findIndex((r) => r.kernels === kernels);
    const single = rates[first]! / runs[first]!.workers;
    const gflops = (charsPerSec / (B * T)) * flopsPerStep(config, B * T) / 1e9;
    const workersCeiling = ceilings.get(workers) ?? null;
    const ofCeiling = workersCeiling ? gflops / workers / workersCeiling : null;
    report(
      { event: 'train', model: name, kernels, batch: B, seqLen: T, workers, charsPerSec, speedup: charsPerSec / single, gflops, ofCeilingPerWorker: ofCeiling },
      `train ${name.padEnd(11)} ${kernels.padEnd(4)} B=${B} T=${T}  workers ${String(workers).padStart(2)}: ${charsPerSec.toFixed(0).padStart(7)} chars/s  ` +
        `×${(charsPerSec / single).toFixed(2)}  ${gflops.toFixed(2)} GFLOP/s` +
        (ofCeiling === null ? '' : `  (${(ofCeiling * 100).toFixed(0)}% of the ceiling with as many threads)`) + ratioText(rates, i),
    );
  });
}
// the issue's yardstick model, and the default one
for (const name of ['lstm-2x128', 'gru-2x96']) {
  const rates = await samplingSpeeds(MODELS[name]!, runs);
  runs.forEach(({ kernels, workers }, i) => {
    report(
      { event: 'sample', model: name, kernels, batch: 1, workers, charsPerSec: rates[i] },
      `sample ${name.padEnd(10)} ${kernels.padEnd(4)} batch 1  workers ${String(workers).padStart(2)}: ${rates[i]!.toFixed(0).padStart(6)} chars/s${ratioText(rates, i)}`,
    );
  });
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
report({ event: 'memory', peakRssMiB }, `peak RSS ${peakRssMiB.toFixed(0)} MiB`);
