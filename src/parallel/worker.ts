import { parentPort, workerData } from 'node:worker_threads';
import { Arena } from '../engine/kernels/arena.js';
import { type InferenceSetup, InferenceShard } from './inference.js';
import { Shard } from './shard.js';
import { CONTROL_SIZE, Command, Control, PeerFailure, type PoolSetup, raiseFailure } from './shared.js';
import type { WorkerData } from './threads.js';

/**
 * A pool thread: waits for each posted command, runs its shard of it, until Exit. It polls for
 * the next command (the control block's Spins) before sleeping, since it usually follows soon. If it
 * fails, starting or later, it says why on its `failures` port, then raises Failed for the
 * threads at a barrier.
 */
const { setup, kind, index, controlAt, failures } = workerData as WorkerData & { setup: PoolSetup | InferenceSetup };
const control = new Arena(setup.memory).view(Int32Array, controlAt, CONTROL_SIZE);
try {
  const shard = kind === 'infer' ? new InferenceShard(setup as InferenceSetup, index) : new Shard(setup as PoolSetup, index);
  let seen = Atomics.load(control, Control.Generation);
  parentPort!.postMessage('ready');
  for (;;) {
    const spins = Atomics.load(control, Control.Spins);
    for (let spin = 0; Atomics.load(control, Control.Generation) === seen; spin++) {
      if (spin > spins) Atomics.wait(control, Control.Generation, seen);
    }
    seen = Atomics.load(control, Control.Generation);
    const command = Atomics.load(control, Control.Command) as Command;
    shard.run(command);
    if (command === Command.Exit) break;
  }
} catch (err) {
  if (!(err instanceof PeerFailure)) {
    failures.postMessage(err instanceof Error ? err.message : String(err));
    raiseFailure(control);
  }
}
