// A file apart from the Kernels interface (kernels.ts), whose arena holds a WebAssembly.Memory:
// the library's options name a kind, so its declarations need no WebAssembly type (lib dom), as
// test/package.test.ts checks.

/**
 * Every implementation of the kernels, slowest first: plain TypeScript, WebAssembly SIMD, and
 * WebAssembly relaxed SIMD (the same module with its products' multiply-adds fused).
 */
export const KERNELS_KINDS = ['js', 'wasm', 'relaxed'] as const;
/** Which implementation of the kernels runs. */
export type KernelsKind = (typeof KERNELS_KINDS)[number];
/** What `--kernels`, RNN_KERNELS and the library's `kernels` accept: an implementation, or `auto` for the fastest this machine runs. */
export type KernelsChoice = KernelsKind | 'auto';
