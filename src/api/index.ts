/**
 * The library API (`import { loadModel } from 'rnn'`): a trained model loaded once, then
 * sampled, beam-searched, scored and looked into. The CLI and `rnn serve` run on it.
 */
export {
  type Activations, type Alternative, type BeamOptions, type CompleteOptions, type GenerateOptions, type LoadOptions, Model, type ModelInfo,
  type SamplePiece, type ScoreOptions, type StepperMemory, type StopSignal, StoppedError, type TextScore, type TokenScore,
  type TokenizedText, loadModel,
} from './model.js';
// the types its members name: model.history's entries, model.config, model.kernels, info.level
export type { HistoryEntry } from '../checkpoint/schema.js';
export type { ModelConfig } from '../engine/config.js';
export type { KernelsChoice, KernelsKind } from '../engine/kernels/kinds.js';
export type { TextLevel } from '../text/vocab.js';
export type { BeamResult } from '../generate/beam.js';
export type { UnkMode } from '../generate/settings.js';
export { CheckpointError } from '../checkpoint/errors.js';
