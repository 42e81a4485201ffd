import { z } from 'zod';
import { KERNELS_CHOICES } from '../engine/kernels/index.js';
import { PositiveIntegerSchema } from '../input/settings.js';

/*
 * Flags shared by several commands, for parseSettings: a described flag reports a bad value as
 * `--workers must be a positive integer (got 0)`.
 */

/** A flag that takes a positive integer, such as `--workers`. */
export const positiveIntegerFlag = PositiveIntegerSchema.optional().describe('a positive integer');

/** `--kernels auto|js|wasm`: which implementation of the kernels runs (auto: wasm where SIMD runs). */
export const kernelsFlag = z.enum(KERNELS_CHOICES).optional().describe(KERNELS_CHOICES.join(', '));

/** The help line of `--kernels`, the same on every command. */
export const KERNELS_HELP = 'kernels: auto (WebAssembly SIMD where the machine runs it, else js), wasm or js (default auto, or RNN_KERNELS)';
