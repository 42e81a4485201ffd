import { Worker } from 'node:worker_threads';
import type { KernelsKind } from '../engine/kernels/kinds.js';
import type { SamplePiece } from '../api/index.js';
import { JOB_CONTROL_SIZE, JobControl, type JobMessage, type JobRequest, type SharedModel, type WorkerData, type WorkerMessage } from './jobs.js';
import { durationText } from '../input/duration.js';

/** The queue is full: the server answers 503 with Retry-After. */
export class QueueFullError extends Error {}
/** A job asked for once the pool is closing: nothing new starts while the server shuts down. */
export class ShuttingDownError extends Error {}

/**
 * A job was stopped (its signal fired) before it had an answer; `queued`: before any thread took it, else after
 * `queuedSeconds` waiting for the one that did.
 */
export class JobStoppedError extends Error {
  constructor(message: string, readonly queued: boolean, readonly queuedSeconds = 0) {
    super(message);
  }
}

/** A job the worker refused (a bad field it found); `field` names it when known. */
export class JobError extends Error {
  constructor(message: string, readonly field?: string) {
    super(message);
  }
}

/**
 * Told the pieces of a streamed generation drawn since it was last told (WorkerMessage's); a
 * promise it returns holds the job until it settles (WorkerPool.hold).
 */
export type OnPieces = (pieces: readonly SamplePiece[]) => void | Promise<unknown>;

/** Told, as a thread takes the job, how long it waited in the queue for one: seconds, to the millisecond (0: a thread was free). */
export type OnStart = (queuedSeconds: number) => void;

interface Job {
  id: number;
  request: JobRequest;
  onPieces: OnPieces;
  onStart: OnStart;
  /** When it joined the queue (performance.now()); null: a thread was free for it. */
  queuedAt: number | null;
  /** Once a thread has taken it, how long it waited for one (OnStart's seconds). */
  queuedSeconds: number;
  /** The promises holding it that have yet to settle. */
  holds: number;
  signal: AbortSignal;
  resolve: (done: unknown) => void;
  reject: (err: Error) => void;
  /** Set when it is stopped while it runs: ends its thread (stuck) unless the job has ended within the grace. */
  stuckAfter?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  /** The thread's control block (JobControl). */
  control: Int32Array;
  job: Job | null;
}

export interface PoolOptions {
  models: SharedModel[];
  kernels: KernelsKind;
  /** Generation threads: jobs that run at once. */
  workers: number;
  /** Jobs that may wait for a thread; one more is refused. */
  queue: number;
  /** Told, in one line, when a thread ends unasked or stuck, and when its replacement cannot start. */
  report?: (line: string) => void;
  /** How long a thread may take to end a job after its stop before it is ended as stuck: STOP_GRACE_MS unless a test gives less. */
  stopGraceMs?: number;
  /** The threads' script: worker.ts's (WORKER_SCRIPT), unless a test gives one that wraps it to misbehave. */
  workerScript?: URL;
}

/**
 * How long a thread may take to end a job after its stop (the time limit, its client gone)
 * before it is deemed stuck in code that never reads the stop (a loop, a bug) and ended. A
 * thread reads the stop before each token, beam step and scored prediction, so a sound one ends
 * within one of those (milliseconds; a step of the widest beam on the largest model, or the JSON
 * of a large answer, within a second or two).
 */
export const STOP_GRACE_MS = 10_000;

/** The thread running a job ended unasked (out of memory, say): the job has no answer, and another thread is started (WorkerPool.lost). */
export class ThreadLostError extends Error {}

/**
 * The thread running a job had not ended it `graceMs` after its stop: the thread was ended, and
 * another started unless `replaced` is false (the server was shutting down, nothing waiting).
 */
export class ThreadStuckError extends ThreadLostError {
  constructor(readonly graceMs: number, readonly replaced: boolean) {
    super(`the generation thread running it was still at it ${durationText(graceMs / 1000, true)} after it was stopped: ${stuckThreadFate(replaced)}`);
  }
}

/** What became of a stuck thread, as its job's failure says. */
export function stuckThreadFate(replaced: boolean): string {
  return replaced ? 'the thread was ended, and another started in its place' : 'the thread was ended';
}

/** No generation thread runs: every one ended and none could be started again (the server answers 503). */
export class NoThreadError extends Error {}

/**
 * The threads that run the server's jobs, off the event loop that answers HTTP: each builds
 * every model once and runs one job at a time; jobs beyond the threads wait in a bounded
 * queue. A job's signal stops it: a waiting one leaves the queue, a running one stops before
 * its next token (the thread reads the shared control block). A streamed generation is held,
 * its thread drawing nothing, while its onPieces asks (its client is not reading), or until it is
 * stopped. A thread that ends unasked fails its job and is started again, and so is one still
 * running a job STOP_GRACE_MS after its stop (stuck), which is ended (while the pool closes,
 * only if jobs still wait); one that cannot be started is tried again at the next job, and
 * while no thread runs, jobs are refused with NoThreadError.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Job[] = [];
  private nextId = 1;
  private closing = false;
  /** Threads being started in place of ones that ended. */
  private starting = 0;
  /** close()'s waits, each woken at every change that may leave no job running or waiting (notifyIdle), to look again. */
  private idleWaiters: (() => void)[] = [];
  /** How long a thread may take to end a job after its stop (stuck): the options' stopGraceMs, else STOP_GRACE_MS. */
  private readonly stopGraceMs: number;

  private constructor(private readonly options: PoolOptions) {
    this.stopGraceMs = options.stopGraceMs ?? STOP_GRACE_MS;
  }

  static async start(options: PoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(options);
    const slots = await Promise.allSettled(Array.from({ length: options.workers }, () => pool.spawn()));
    const failed = slots.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) {
      await Promise.all(slots.flatMap((s) => (s.status === 'fulfilled' ? [s.value.worker.terminate()] : [])));
      throw failed.reason;
    }
    for (const s of slots) pool.slots.push((s as PromiseFulfilledResult<Slot>).value);
    return pool;
  }

  /** Threads running (of the `workers` asked for), and jobs running and waiting. */
  get load(): { threads: number; running: number; waiting: number } {
    return { threads: this.slots.length, running: this.slots.filter((s) => s.job !== null).length, waiting: this.waiting.length };
  }

  /**
   * Runs a job; `onPieces` receives a streamed generation's text as it is drawn, and may hold the job (hold), and
   * `onStart` how long it waited for a thread, once one takes it. Rejects at once with QueueFullError when the queue
   * is full, with ShuttingDownError once the pool is closing.
   */
  run(request: JobRequest, signal: AbortSignal, onPieces: OnPieces = () => {}, onStart: OnStart = () => {}): Promise<unknown> {
    if (this.closing) return Promise.reject(new ShuttingDownError('the server is shutting down: it starts no more requests'));
    if (signal.aborted) return Promise.reject(new JobStoppedError('stopped before it started', true));
    // threads that ended and could not start again are tried again here (restart); then a job is admitted where a
    // thread is free for it, or fewer than `queue` jobs wait
    while (this.slots.length + this.starting < this.options.workers) this.restart();
    const free = this.slots.find((s) => s.job === null);
    if (!free && this.waiting.length >= this.options.queue) return Promise.reject(new QueueFullError('the queue is full'));
    return new Promise((resolve, reject) => {
      const queuedAt = free ? null : performance.now();
      const job: Job = { id: this.nextId++, request, onPieces, onStart, queuedAt, queuedSeconds: 0, holds: 0, signal, resolve, reject };
      signal.addEventListener('abort', () => this.stop(job), { once: true });
      if (free) this.dispatch(free, job);
      else this.waiting.push(job);
    });
  }

  /**
   * Refuses new jobs, waits for those running and waiting to end, then ends the threads, taken
   * out of the pool first so that their ends are not taken for threads lost (lost).
   */
  async close(): Promise<void> {
    this.closing = true;
    while (this.slots.some((s) => s.job !== null) || this.waiting.length > 0 || this.starting > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
    await Promise.all(this.slots.splice(0).map((s) => s.worker.terminate()));
  }

  /**
   * A job whose signal fired: one waiting leaves the queue, failed at once; one running is told to stop (JobControl.Stop)
   * and let go if held, and its thread is deemed stuck if it has not ended the job `stopGraceMs` later.
   */
  private stop(job: Job): void {
    const queued = this.waiting.indexOf(job);
    if (queued >= 0) {
      this.waiting.splice(queued, 1);
      job.reject(new JobStoppedError('stopped while it waited', true));
      this.notifyIdle();
      return;
    }
    const slot = this.slots.find((s) => s.job === job);
    if (!slot) return;
    Atomics.store(slot.control, JobControl.Stop, job.id);
    release(slot.control, job.id);
    job.stuckAfter = setTimeout(() => this.stuck(slot, job), this.stopGraceMs);
  }

  /**
   * Holds a running job until `until` settles: its thread draws no token of it meanwhile (its
   * client has yet to take what it was sent), but a stop still ends it at once. A job stopped
   * already is not held again, for nothing would let it go.
   */
  private hold(slot: Slot, job: Job, until: Promise<unknown>): void {
    if (job.signal.aborted) return;
    job.holds++;
    Atomics.store(slot.control, JobControl.Hold, job.id);
    const settled = () => {
      if (--job.holds === 0) release(slot.control, job.id);
    };
    until.then(settled, settled);
  }

  /** Hands a job to a free slot's thread, telling it how long it waited (onStart): now − queuedAt, in seconds (0: none). */
  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    job.queuedSeconds = job.queuedAt === null ? 0 : Math.round(performance.now() - job.queuedAt) / 1000;
    job.onStart(job.queuedSeconds);
    const message: JobMessage = { id: job.id, request: job.request };
    slot.worker.postMessage(message);
  }

  /** A slot free again (its job ended, or its thread has just started): it takes the next job waiting. */
  private freed(slot: Slot): void {
    clearTimeout(slot.job?.stuckAfter);
    slot.job = null;
    const next = this.waiting.shift();
    if (next) this.dispatch(slot, next);
    this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** A new thread's slot, once the thread has loaded every model; rejected if it cannot, or ends first. */
  private spawn(): Promise<Slot> {
    const control = new SharedArrayBuffer(JOB_CONTROL_SIZE * Int32Array.BYTES_PER_ELEMENT);
    const data: WorkerData = { models: this.options.models, kernels: this.options.kernels, control };
    const worker = new Worker(this.options.workerScript ?? WORKER_SCRIPT, { workerData: data });
    const slot: Slot = { worker, control: new Int32Array(control), job: null };
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (message: WorkerMessage) => {
        if ('ready' in message) {
          started = true;
          resolve(slot);
          return;
        }
        if ('startFailed' in message) {
          reject(new Error(message.startFailed));
          return;
        }
        this.receive(slot, message);
      });
      worker.on('error', (err) => {
        if (!started) reject(err);
        else this.lost(slot, err);
      });
      worker.on('exit', (code) => {
        const ended = new Error(`exit code ${code}`);
        if (!started) reject(ended);
        else this.lost(slot, ended);
      });
    });
  }

  /**
   * A message about the job a slot's thread runs: a piece of its text, or its end (an answer, a
   * stop, a refusal or a fault), which frees the slot for the next.
   */
  private receive(slot: Slot, message: Extract<WorkerMessage, { id: number }>): void {
    const job = slot.job;
    if (!job || job.id !== message.id) return;
    if ('pieces' in message) {
      const until = job.onPieces(message.pieces);
      if (until) this.hold(slot, job, until);
      return;
    }
    this.freed(slot);
    if ('done' in message) job.resolve(message.done);
    else if ('stopped' in message) job.reject(new JobStoppedError('stopped', false, job.queuedSeconds));
    else if ('error' in message) job.reject(new JobError(message.error, message.field));
    else job.reject(new Error(message.fault));
  }

  /**
   * A thread that ended unasked (an error then its exit, or the exit alone), while the pool
   * closes too: its job fails, and another is started in its place if one is needed
   * (replacementNeeded). A thread close() ended is out of the pool already, and ignored.
   */
  private lost(slot: Slot, err: Error): void {
    if (!this.slots.includes(slot)) return;
    const replaced = this.replacementNeeded;
    this.report(`a generation thread ended (${err.message})${slot.job ? ' while it ran a request' : ''}: ${replacement(replaced)}`);
    this.replace(slot, new ThreadLostError(`the generation thread running it ended (${err.message})`), replaced);
  }

  /**
   * A thread still running a job the grace after its stop: stuck, for it does not read the
   * stop. It is ended, its job fails, and another is started in its place if one is needed.
   */
  private stuck(slot: Slot, job: Job): void {
    if (!this.slots.includes(slot) || slot.job !== job) return;
    const replaced = this.replacementNeeded;
    const failure = new ThreadStuckError(this.stopGraceMs, replaced);
    this.report(`a generation thread was still running its request ${durationText(failure.graceMs / 1000, true)} after it was stopped: ending it, ${replacement(replaced)}`);
    this.replace(slot, failure, replaced);
    void slot.worker.terminate();
  }

  /**
   * Whether a thread that ends now is started again: always, but while the pool closes only if
   * jobs wait, for none can come that would need it.
   */
  private get replacementNeeded(): boolean {
    return !this.closing || this.waiting.length > 0;
  }

  /** Takes a slot out of the pool, failing its job with `failure`, and starts a thread in its place if `again`. */
  private replace(slot: Slot, failure: ThreadLostError, again: boolean): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    const job = slot.job;
    clearTimeout(job?.stuckAfter);
    slot.job = null;
    job?.reject(failure);
    if (again) this.restart();
    this.notifyIdle();
  }

  /** Starts a thread in place of one that ended; one that cannot start is reported, and tried again at the next job. */
  private restart(): void {
    this.starting++;
    this.spawn().then((fresh) => {
      this.starting--;
      this.slots.push(fresh);
      this.freed(fresh);
    }, (err: unknown) => {
      this.starting--;
      const why = err instanceof Error ? err.message : String(err);
      const retry = this.closing ? '' : '; another is tried at the next request';
      this.report(`a generation thread could not start (${why}): ${this.slots.length} of ${this.options.workers} run${retry}`);
      if (this.slots.length === 0 && this.starting === 0) {
        for (const job of this.waiting.splice(0)) job.reject(new NoThreadError(`no generation thread runs: the last could not start (${why})`));
      }
      this.notifyIdle();
    });
  }

  private report(line: string): void {
    this.options.report?.(line);
  }
}

/** What the pool does in place of a thread that ended, as its line on stderr says. */
function replacement(replaced: boolean): string {
  return replaced ? 'starting another' : 'none is started in its place, for the server is shutting down';
}

/** Lets a thread draw again, if the job it holds is job `id` (a later job's hold stays). */
function release(control: Int32Array, id: number): void {
  if (Atomics.compareExchange(control, JobControl.Hold, id, 0) === id) Atomics.notify(control, JobControl.Hold);
}

/** The compiled worker script: beside this file in dist/, or dist's copy when running from src/. */
export const WORKER_SCRIPT: URL = (() => {
  const here = new URL(import.meta.url);
  return here.pathname.endsWith('.ts') ? new URL('../../dist/src/serve/worker.js', here) : new URL('./worker.js', here);
})();
