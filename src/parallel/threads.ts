import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { Command, Control, PeerFailure, type ThreadKind, raiseFailure, spinsBeforeSleep } from './shared.js';

/**
 * What a worker thread is started with: the group's setup, its shard's index, the control
 * block's byte offset, and the port on which it reports why it failed.
 */
export interface WorkerData {
  setup: unknown;
  kind: ThreadKind;
  index: number;
  controlAt: number;
  failures: MessagePort;
}

/** A started worker thread, and the other end of its `failures` port. */
interface GroupThread {
  worker: Worker;
  failures: MessagePort;
}

/** What each thread of a group runs for a posted command; every shard ends at one barrier. */
interface CommandRunner {
  run(command: Command): void;
}

/**
 * The threads that share a step for the `workers` asked: no more than the cores less the `taken`
 * ones (worker threads already running: `threadsRunning`), where more would only take turns; the
 * calling thread alone, at least.
 */
export function threadsOnCores(workers: number, taken = 0): number {
  return Math.max(1, Math.min(workers, availableParallelism() - taken));
}

/** Worker threads of the groups started in this process, not yet closed and not idle (each counted from its start). */
let running = 0;

export function threadsRunning(): number {
  return running;
}

/**
 * Worker threads started once and driven through a shared control block: the calling thread
 * posts a command (store, bump the generation, notify), runs shard 0 itself, and returns when
 * every shard has passed the command's closing barrier. No messages are posted per command.
 */
export class ThreadGroup {
  private closed = false;
  /** Kept by its holder for a later command (`setIdle`): its threads asleep, not counted as running. */
  private idle = false;

  private constructor(
    private readonly control: Int32Array, private readonly local: CommandRunner, private readonly threads: GroupThread[],
  ) {}

  /**
   * Spawns `setup.workers − 1` workers running worker.ts with `setup` and where `control` lies
   * in its memory; `local` is shard 0.
   */
  static async start(setup: { workers: number }, control: Int32Array, kind: ThreadKind, local: CommandRunner): Promise<ThreadGroup> {
    // a count that is not a positive integer would leave every barrier waiting for threads that never come
    if (!Number.isInteger(setup.workers) || setup.workers < 1) throw new RangeError(`workers: must be a positive integer (got ${setup.workers})`);
    const controlAt = control.byteOffset, count = setup.workers - 1;
    Atomics.store(control, Control.Spins, spinsBeforeSleep(kind, setup.workers));
    // counted before they start, so that a group started meanwhile finds them taken
    running += count;
    try {
      const threads = await Promise.all(Array.from({ length: count }, (_, k) => spawn({ setup, kind, index: k + 1, controlAt })));
      return new ThreadGroup(control, local, threads);
    } catch (err) {
      running -= count;
      throw err;
    }
  }

  /** Whether it can run a command: not closed, and no thread of it failed. */
  get usable(): boolean {
    return !this.closed && Atomics.load(this.control, Control.Failed) === 0;
  }

  /**
   * Idle: kept for a later command, its threads asleep (they wait for the next generation), so `threadsRunning`
   * leaves their cores to other groups; not idle: counted as running again, before its holder posts to it.
   */
  setIdle(idle: boolean): void {
    if (this.closed || idle === this.idle) return;
    this.idle = idle;
    running += idle ? -this.threads.length : this.threads.length;
  }

  post(command: Command): void {
    if (this.closed) throw new Error('the worker threads are closed');
    Atomics.store(this.control, Control.Command, command);
    Atomics.add(this.control, Control.Generation, 1);
    Atomics.notify(this.control, Control.Generation);
    try {
      this.local.run(command);
    } catch (err) {
      if (err instanceof PeerFailure) throw this.workerFailure(err);
      raiseFailure(this.control); // shard 0 failed here: the workers waiting at its barrier give up
      throw err;
    }
  }

  /**
   * The failed worker's own message: it posted it on its port before it raised Failed, so
   * the message is there now, though this thread has not returned to the event loop since.
   */
  private workerFailure(fallback: PeerFailure): Error {
    for (const [k, { failures }] of this.threads.entries()) {
      const report = receiveMessageOnPort(failures);
      if (report) return new Error(`worker thread ${k + 1} failed: ${report.message as string}`);
    }
    return fallback;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (Atomics.load(this.control, Control.Failed) === 0) this.post(Command.Exit);
    this.closed = true;
    if (!this.idle) running -= this.threads.length;
    await Promise.all(this.threads.map(({ worker, failures }) => {
      failures.close();
      return worker.terminate();
    }));
  }
}

/** The compiled worker script: beside this file in dist/, or dist's copy when running from src/. */
function workerUrl(): URL {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../../dist/src/parallel/worker.js', here) : new URL('./worker.js', here);
}

function spawn(data: Omit<WorkerData, 'failures'>): Promise<GroupThread> {
  const { index } = data, { port1: failures, port2 } = new MessageChannel();
  return new Promise((resolve, reject) => {
    const worker = new Worker(workerUrl(), { workerData: { ...data, failures: port2 }, transferList: [port2] });
    const exited = () => {
      const report = receiveMessageOnPort(failures);
      reject(new Error(`worker thread ${index} failed to start: ${report ? report.message as string : 'it exited'}`));
    };
    worker.once('error', reject);
    worker.once('exit', exited);
    worker.once('message', () => { // 'ready'
      worker.off('exit', exited);
      worker.unref(); // a run that forgets close() still exits
      failures.unref();
      resolve({ worker, failures });
    });
  });
}
