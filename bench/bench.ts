/**
 * `npm run bench`: training speed for 1 … N workers, the GFLOP/s it implies beside the
 * plain-JavaScript matrix-product ceiling measured in this process, sampling speed, peak RSS.
 *
 *   npm run bench                       the full table (N = os.availableParallelism())
 *   npm run bench -- --json             one JSON object per line
 *   npm run bench -- --seconds 2 --workers 1,2 --models lstm-2x128
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type ModelConfig, gateCount } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { createEngine } from '../src/parallel/engine.js';
import { sampleText } from '../src/generate/sample.js';
import { createStepper } from '../src/parallel/inference.js';
import { Vocabulary } from '../src/text/vocab.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const json = args.includes('--json');
const seconds = Number(flag('seconds') ?? 4);
const cores = availableParallelism();
const workerCounts = (flag('workers') ?? Array.from({ length: cores }, (_, i) => i + 1).join(',')).split(',').map(Number);

// tinyshakespeare's 65 characters plus <EOS> and <UNK>
const VOCAB = 67, B = 50, T = 50;
const MODELS: Record<string, ModelConfig> = {
  'lstm-2x128': { cell: 'lstm', vocabSize: VOCAB, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 },
  'gru-2x128': { cell: 'gru', vocabSize: VOCAB, embedDim: 64, hiddenSize: 128, numLayers: 2, dropout: 0 },
  'lstm-2x512': { cell: 'lstm', vocabSize: VOCAB, embedDim: 64, hiddenSize: 512, numLayers: 2, dropout: 0 },
};
const models = (flag('models') ?? Object.keys(MODELS).join(',')).split(',');

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

async function ceiling(): Promise<number | null> {
  const path = fileURLToPath(new URL('../../../shared/bench/gemm-ceiling.mjs', import.meta.url));
  if (!existsSync(path)) return null;
  const { ceilingGflops } = (await import(path)) as { ceilingGflops: (o: { n: number; seconds: number }) => number };
  return ceilingGflops({ n: 256, seconds: 1 });
}

async function trainingSpeed(config: ModelConfig, workers: number): Promise<{ charsPerSec: number; steps: number }> {
  const engine = await createEngine({ config, params: initParams(config, new Rng(1)), optimizer: 'adam', batchSize: B, seqLen: T, evalRows: 0, workers });
  const rng = new Rng(2);
  for (let i = 0; i < B * T; i++) { engine.inputs[i] = rng.nextUint32() % VOCAB; engine.targets[i] = rng.nextUint32() % VOCAB; }
  const settings = { lr: 2e-3, clip: 5, clipValue: null };
  engine.trainStep(settings, null); // let the JIT settle
  let steps = 0;
  const t0 = performance.now();
  while (steps < 2 || performance.now() - t0 < seconds * 1000) { engine.trainStep(settings, null); steps++; }
  const elapsed = (performance.now() - t0) / 1000;
  await engine.close();
  return { charsPerSec: (steps * B * T) / elapsed, steps };
}

async function samplingSpeed(workers: number): Promise<number> {
  const config = MODELS['lstm-2x128'];
  const vocab = Vocabulary.fromTokens(['<EOS>', '<UNK>', ...Array.from({ length: VOCAB - 2 }, (_, i) => String.fromCodePoint(33 + i))]);
  const params = initParams(config, new Rng(3));
  const stepper = await createStepper(config, params, workers);
  sampleText({ config, params, vocab, length: 5000, temperature: 1, seed: 1, stepper });
  const length = 50000;
  const t0 = performance.now();
  sampleText({ config, params, vocab, length, temperature: 1, seed: 2, stepper });
  const speed = length / ((performance.now() - t0) / 1000);
  await stepper.close();
  return speed;
}

const gemmCeiling = await ceiling();
report(
  { event: 'machine', cores, node: process.version, ceilingGflops: gemmCeiling },
  `${cores} cores, Node ${process.version}; plain-JS GEMM ceiling (shared/bench/gemm-ceiling.mjs, n=256): ` +
    (gemmCeiling === null ? 'not found' : `${gemmCeiling.toFixed(2)} GFLOP/s per thread`),
);
for (const name of models) {
  const config = MODELS[name];
  let single = 0;
  for (const workers of workerCounts) {
    const { charsPerSec, steps } = await trainingSpeed(config, workers);
    if (workers === 1 || single === 0) single = charsPerSec / workers;
    const gflops = (charsPerSec / (B * T)) * flopsPerStep(config, B * T) / 1e9;
    const ofCeiling = gemmCeiling ? gflops / workers / gemmCeiling : null;
    report(
      { event: 'train', model: name, batch: B, seqLen: T, workers, steps, charsPerSec, speedup: charsPerSec / single, gflops, ofCeilingPerWorker: ofCeiling },
      `train ${name.padEnd(11)} B=T=${B}  workers ${String(workers).padStart(2)}: ${charsPerSec.toFixed(0).padStart(7)} chars/s  ` +
        `×${(charsPerSec / single).toFixed(2)}  ${gflops.toFixed(2)} GFLOP/s` +
        (ofCeiling === null ? '' : `  (${(ofCeiling * 100).toFixed(0)}% of the ceiling per worker)`),
    );
  }
}
for (const workers of workerCounts) {
  const sampling = await samplingSpeed(workers);
  report({ event: 'sample', model: 'lstm-2x128', batch: 1, workers, charsPerSec: sampling }, `sample lstm-2x128 batch 1  workers ${String(workers).padStart(2)}: ${sampling.toFixed(0)} chars/s`);
}
const peakRssMiB = process.resourceUsage().maxRSS / 1024;
report({ event: 'memory', peakRssMiB }, `peak RSS ${peakRssMiB.toFixed(0)} MiB`);
