/** Paths in the repository the bench runs from (built, as dist/bench/). */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The built CLI, run as `node RNN_BIN …`. */
export const RNN_BIN = join(ROOT, 'bin', 'rnn.js');
