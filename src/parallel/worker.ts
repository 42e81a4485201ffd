import { parentPort, workerData } from 'node:worker_threads';
import { Shard } from './shard.js';
import { Command, Control, type PoolSetup } from './shared.js';

/** A pool thread: waits for each posted command, runs its shard of it, until Exit. */
const { setup, index } = workerData as { setup: PoolSetup; index: number };
const control = new Int32Array(setup.buffers.control);
try {
  const shard = new Shard(setup, index);
  let seen = Atomics.load(control, Control.Generation);
  parentPort!.postMessage('ready');
  for (;;) {
    Atomics.wait(control, Control.Generation, seen);
    seen = Atomics.load(control, Control.Generation);
    const command = Atomics.load(control, Control.Command) as Command;
    shard.run(command);
    if (command === Command.Exit) break;
  }
} catch (err) {
  Atomics.store(control, Control.Failed, 1);
  Atomics.notify(control, Control.BarrierGeneration);
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
