import { type BeamOptions, type CompleteOptions, type GenerateOptions, Model, type SamplePiece } from '../api/index.js';
import { loadModel, loadedModel } from '../checkpoint/load.js';
import type { CheckpointRecord } from '../checkpoint/schema.js';
import type { KernelsKind } from '../engine/kernels/kinds.js';

/** A model the server loads: its name in requests, and the checkpoint (named by the operator, never by a request). */
export interface ServedModel {
  name: string;
  path: string;
}

/**
 * A served model as the server loaded it, once: what its checkpoint says of itself, and its weights in memory every
 * thread shares. The threads (one that takes a failed one's place too) build their models from these, not from the
 * file, so all of them serve the version the server read of a file that changes or goes on disk while they run.
 */
export interface SharedModel extends ServedModel {
  record: CheckpointRecord;
  /** Float32 [the model's parameters], read only. */
  params: SharedArrayBuffer;
}

/** Loads a served model's checkpoint (a one-line CheckpointError if it cannot be) for `SharedModel`. */
export function shareServedModel(model: ServedModel): SharedModel {
  const { checkpoint: record, params: decoded } = loadModel(model.path);
  const params = new SharedArrayBuffer(decoded.byteLength);
  new Float32Array(params).set(decoded);
  return { ...model, record, params };
}

/** The models the server loaded, by name: the server's and each thread's, over the same weights. */
export function servedModels(models: readonly SharedModel[], kernels: KernelsKind): Map<string, Model> {
  return new Map(models.map((m) => [m.name, new Model(loadedModel(m.path, m.record, new Float32Array(m.params)), { kernels })]));
}

/**
 * What a worker thread runs: one job at a time, on the models it loaded at start. A
 * generation's len is the server's to choose (within --max-len); a score or activations job's
 * text may have at most `maxTokens` tokens (--max-text-tokens), which the thread counts.
 */
export type JobRequest =
  | { kind: 'generate'; model: string; options: Omit<GenerateOptions, 'signal' | 'len'> & { len: number }; stream: boolean }
  | { kind: 'beam'; model: string; options: BeamOptions; warnings: string[] }
  | { kind: 'complete'; model: string; n: number; options: Omit<CompleteOptions, 'n' | 'signal'> }
  | { kind: 'score'; model: string; text: string; maxTokens: number; top: number }
  | { kind: 'activations'; model: string; text: string; maxTokens: number; layer: number; unit: number | null; top: number };

/** A job of one kind. */
export type JobOf<K extends JobRequest['kind']> = Extract<JobRequest, { kind: K }>;

/** What each kind of job ends with, when it ends with an answer. */
export interface JobAnswers {
  generate: GenerateDone;
  beam: EncodedAnswer;
  complete: CompleteDone;
  score: EncodedAnswer;
  activations: EncodedAnswer;
}

/** Why a generation ended: its length, a drawn `<EOS>`, or a stop (client gone, time limit). */
export type Finish = 'length' | 'eos' | 'stopped';

/** Messages of the worker protocol, beside the control block (JobControl). Main → worker: a job; worker → main: pieces, then one end. */
export type JobMessage = { id: number; request: JobRequest };
export type WorkerMessage =
  | { ready: true }
  | { startFailed: string }
  /** A streamed generation's text since the last: runs of text, and each drawn `<EOS>`'s text apart, marked (`eos`). */
  | { id: number; pieces: SamplePiece[] }
  | { id: number; done: JobAnswers[JobRequest['kind']] }
  | { id: number; stopped: true }
  | { id: number; error: string; field?: string }
  | { id: number; fault: string };

export interface WorkerData {
  models: SharedModel[];
  kernels: KernelsKind;
  /** Int32 [JOB_CONTROL_SIZE]: the server's hand on the job the thread runs (JobControl), read between tokens. */
  control: SharedArrayBuffer;
}

/**
 * The cells of a thread's control block, each holding the id of the job it names (0: none), so
 * that a word meant for a job that has ended is no word to the next.
 */
export const enum JobControl {
  /** The job to stop: it ends before its next token. */
  Stop = 0,
  /**
   * The streamed generation to hold: its client has not taken what it was sent, so the thread
   * draws none of its tokens until the server clears the cell (the answer has room again, or the
   * job is stopped) and wakes it.
   */
  Hold = 1,
}
export const JOB_CONTROL_SIZE = 2;

/**
 * The end of a job whose answer may be large (beam, score, activations): the JSON body, written
 * and encoded on the thread and moved, not copied, to the server, which sends it as it is. The
 * event loop that answers every client then never builds or serializes it.
 */
export interface EncodedAnswer {
  json: Uint8Array;
}

/**
 * What an answer says of the fields its request gave that change nothing (warnings as the
 * request's fields name them): a `warnings` field, left out where there are none.
 */
export function warningsField(warnings: readonly string[]): { warnings?: string[] } {
  return warnings.length === 0 ? {} : { warnings: [...warnings] };
}

/** The end of a generate job: its text, unless it was streamed. */
export interface GenerateDone {
  text: string;
  tokens: number;
  finish: Finish;
  /** The prime's tokens outside the model's vocabulary, each read as `<UNK>`. */
  unknownTokens: number;
}

/** The end of a complete job: the continuations, each without the prefix. */
export interface CompleteDone {
  completions: string[];
  /** The prefix's tokens outside the model's vocabulary, each read as `<UNK>`. */
  unknownTokens: number;
}

/** The end of an activations job: each chosen unit's value after each token. */
export interface ActivationsDone {
  tokens: string[];
  names: string[];
  layer: number;
  hiddenSize: number;
  units: { unit: number; values: number[] }[];
}
