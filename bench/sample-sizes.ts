/**
 * Whether a sampled token waits on its weights' bytes or on the core: one thread steps GRU
 * 2×H (V = 65, E = 64) models one token at a time (Stepper.advance, what sampling runs) for
 * sizes whose weights fit the core's L2 and sizes that do not, taking turns, and prints each
 * size's time a token and the weights it read a second. Memory-bound, the bytes a second
 * would fall where the weights outgrow L2 (1 MB a core on Zen 5, 512 KB on Zen 3); bound by
 * the core's instructions, they stay level.
 *
 *   npm run build && node dist/bench/sample-sizes.js [--kernels relaxed] [--hidden 128,160,192,224,256]
 */
import { parseArgs } from 'node:util';
import { gateCount, type ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { Rng } from '../src/engine/random.js';
import { Stepper } from '../src/engine/stepper.js';
import { checkKernels, fail } from './options.js';

const values = (() => {
  try {
    return parseArgs({ options: { kernels: { type: 'string', default: 'relaxed' }, hidden: { type: 'string', default: '128,160,192,224,256' } } }).values;
  } catch (error) {
    return fail(`${(error as Error).message}; it takes --kernels <set> and --hidden <H,…>`);
  }
})();
const [kernels] = checkKernels([values.kernels]);
const hiddenSizes = values.hidden.split(',').map((h) => {
  if (!/^[1-9]\d*$/.test(h) || Number(h) > 4096) fail(`--hidden: each size a whole number from 1 to 4096, not '${h}' in '${values.hidden}'`);
  return Number(h);
});
const TOKENS = 4000, ROUNDS = 8, VOCAB = 65;

const subjects = hiddenSizes.map((H) => {
  const config: ModelConfig = { cell: 'gru', vocabSize: VOCAB, embedDim: 64, hiddenSize: H, numLayers: 2, dropout: 0 };
  const G = gateCount(config.cell) * H;
  // what a token reads: W_hh of both layers, layer 1's W_ih and the head (layer 0's input is a table row)
  const weightBytes = 4 * (G * H + G * 2 * H + VOCAB * H);
  return { H, stepper: new Stepper(config, initParams(config, new Rng(3)), kernels), weightBytes, bestNs: Infinity };
});

for (let round = 0; round < ROUNDS; round++) {
  for (const s of subjects) {
    const start = process.hrtime.bigint();
    for (let i = 0, token = 2; i < TOKENS; i++, token = 2 + ((token * 7) % (VOCAB - 2))) s.stepper.advance(token);
    s.bestNs = Math.min(s.bestNs, Number(process.hrtime.bigint() - start) / TOKENS);
  }
}
// a token reads each 4-byte weight once, in one multiply-add (2 FLOPs):
//   FLOPs a token = 2 · weightBytes / 4,   GB/s = weightBytes / ns a token,   GFLOP/s = FLOPs / ns a token
for (const { H, weightBytes, bestNs } of subjects) {
  const flops = 2 * weightBytes / 4;
  console.log(
    `GRU 2×${H}  weights ${(weightBytes / 1e6).toFixed(2)} MB  ${(bestNs / 1000).toFixed(2)} µs a token  ` +
      `${(weightBytes / bestNs).toFixed(1)} GB/s of weights  ${(flops / bestNs).toFixed(1)} GFLOP/s`,
  );
}
