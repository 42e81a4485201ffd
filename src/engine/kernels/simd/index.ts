/**
 * The kernels in WebAssembly with 128-bit SIMD (AssemblyScript, compiled by `npm run build`
 * into dist/src/engine/kernels/simd.wasm; the wrapper is ../wasm.ts): the matrix products
 * (products.ts), the activations and the softmax's exponentials (activations.ts), a gated
 * cell's step after its products (cells.ts), and the element-wise kernels and optimizers
 * (elementwise.ts).
 *
 * The module imports the arena's shared memory and owns nothing in it: no globals that change,
 * no data, no allocation. Every argument that names a tensor is a byte address into that
 * memory; a kernel reads and writes only the tensors it is handed, and the matrix products
 * also a scratch area the wrapper allocated from the arena for them (SCRATCH_FLOATS floats).
 * Each call is therefore free to run on any thread over the same memory at once, given its
 * own scratch.
 */
export { scratchFloats, matmulNT, matmulNN, matmulTN, packedFloats, packWeights, matmulPacked,
  matvecFloats, packMatvec, matvecPacked } from './products';
export { broadcastRows, addColumnSums, gatherRows, scatterAddRows } from './elementwise';
export { gruForward, gruBackward, lstmForward, lstmBackward } from './cells';
export { maxOf, sumExpShifted, expShiftedInto, sigmoid, tanh } from './activations';
export { addInto, sumOfSquares, scale, clamp, adam, sgd } from './elementwise';
