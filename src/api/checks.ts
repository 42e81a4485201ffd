import { z } from 'zod';
import { resolveKernels } from '../engine/kernels/index.js';
import type { KernelsChoice, KernelsKind } from '../engine/kernels/kinds.js';
import { isPlainObject, optionMessage } from '../input/issues.js';
import { SCORE_TOP } from '../generate/score.js';
import { SettingError, checkedOption, tablesTaking, unknownOption } from '../input/settings.js';
import type { LoadedModel } from '../checkpoint/load.js';
import { type TokenizedText, Vocabulary, cutBy, vocabularyText } from '../text/vocab.js';

/*
 * What a library call was given, checked before it runs (model.ts): its options by name, a text
 * or what `tokenize` made of one, the kernels. Options that are not an object, an unknown option, a
 * signal or a text of the wrong type are TypeErrors; a setting's value (`temperature`, `workers`,
 * `kernels`…) that is not one it may take, of another type or out of range, is a RangeError
 * (checkedOption, which reads it as its flag is read). Each names the option (or its field) and
 * what it may be.
 */

/** What a Model is made of: a checkpoint as loaded (checkpoint/load.ts); else (`new Model('run')`) a TypeError saying to call loadModel. */
export function checkLoaded(loaded: unknown): void {
  const { config, params, vocab } = (typeof loaded === 'object' && loaded !== null ? loaded : {}) as Partial<LoadedModel>;
  if (typeof config === 'object' && config !== null && params instanceof Float32Array && vocab instanceof Vocabulary) return;
  throw new TypeError(optionMessage('loaded', { expected: 'a loaded checkpoint: make a Model with loadModel(path), not new Model', value: loaded }));
}

/** A call's option names, as model.ts declares them (GENERATE_OPTIONS, …). */
export type OptionNames = Readonly<Record<string, true>>;
/** Every call's option names, by the call's name (`beam`). */
export type CallOptions = Readonly<Record<string, OptionNames>>;

/**
 * A call's options: a plain object (made by `{ … }`, or without a prototype) whose every own name `known` has, its signal
 * one; else a TypeError naming what is wrong, an option of other `calls` with the calls it is of. Any other object is
 * refused, never read in part: a Map's entries are no keys, and an object's inherited keys (Object.create) are not its
 * own, which alone are checked.
 */
export function checkOptions(options: unknown, known: OptionNames, calls: CallOptions): void {
  if (!isPlainObject(options)) {
    throw new TypeError(optionMessage('options', { expected: `a plain object of options by name: ${Object.keys(known).join(', ')}`, value: options }));
  }
  for (const name of Object.keys(options)) {
    if (Object.hasOwn(known, name)) continue;
    const ownedBy = tablesTaking(calls, name).map((call) => `${call}()`);
    throw new TypeError(unknownOption(name, Object.keys(known), ownedBy));
  }
  const { signal } = options;
  if (signal !== undefined && !(typeof signal === 'object' && signal !== null && 'aborted' in signal)) {
    throw new TypeError(optionMessage('signal', { expected: 'an AbortSignal, or an object with aborted', value: signal }));
  }
}

/** A text a call reads (`required`: it must be given), else a TypeError naming it, saying what else it takes (`alsoTaken`). */
export function checkText(name: string, text: unknown, required = false, alsoTaken = ''): void {
  if (typeof text === 'string' || (!required && text === undefined)) return;
  throw new TypeError(optionMessage(name, { expected: `a string${alsoTaken}`, value: text }));
}

/** A prime: a string, none, or what `tokenize` made of one (its text and ids); else a TypeError or RangeError naming it. */
export function checkPrime(prime: unknown, vocab: Vocabulary): void {
  if (isTokenized(prime)) checkTokenized('prime', prime, vocab, true);
  else checkText('prime', prime, false, TOKENIZED_TOO);
}

/** A text a call scores: a string, or what `tokenize` made of one; else a TypeError or RangeError naming it. */
export function checkScored(text: unknown, vocab: Vocabulary): void {
  if (isTokenized(text)) checkTokenized('text', text, vocab, false);
  else checkText('text', text, true, TOKENIZED_TOO);
}

/**
 * A score call's text (`checkScored`) and options: only those `known`, its `top` (how many
 * alternatives each prediction lists) in SCORE_TOP's range, its `tokens` a boolean and its
 * `onProgress` a function, else a TypeError or RangeError naming the option.
 */
export function checkScoreCall(
  text: unknown, vocab: Vocabulary, options: { top?: number; tokens?: boolean; onProgress?: unknown },
  known: OptionNames, calls: CallOptions,
): void {
  checkScored(text, vocab);
  checkOptions(options, known, calls);
  const { top, tokens } = options;
  if (top !== undefined) checkedOption('top', SCORE_TOP.schema, top);
  if (tokens !== undefined) checkedOption('tokens', BOOLEAN, tokens);
  checkCallback('onProgress', options.onProgress);
}

/** A function a call is to call (`onText`, `onProgress`), or none; else a TypeError naming it. */
export function checkCallback(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') throw new TypeError(optionMessage(name, { expected: 'a function', value }));
}

const BOOLEAN = z.boolean();

/** How an error says that a call takes a text's tokens too. */
const TOKENIZED_TOO = ', or what tokenize made of one';

/** Whether a call was given a text's tokens (an object) rather than a text. */
function isTokenized(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * What `tokenize` made of a text, as a call reads it (`textRead`: a prime's): its ids an
 * Int32Array of this model's token ids, and its `primeTail` too where a prime has one; a scored
 * text's `unknown` and `separators`, where it has them, strings; its text a string where
 * `textRead`; else a TypeError or RangeError naming the field. Ids that another vocabulary cut
 * (`cutBy`) are refused unless it is the same as this one's (`sameAs`), though in range they would
 * read as other tokens; ids built by hand are taken as this model's, and checked only for range
 * (out of it they would read out of bounds).
 */
function checkTokenized(name: string, tokenized: object, vocab: Vocabulary, textRead: boolean): void {
  const { text, ids, primeTail, unknown, separators } = tokenized as Partial<TokenizedText>;
  const read: [string, unknown][] = [['ids', ids]];
  if (textRead && primeTail !== undefined) read.push(['primeTail', primeTail]);
  for (const [field, value] of read) {
    if (!(value instanceof Int32Array)) throw new TypeError(optionMessage(`${name}.${field}`, { expected: 'an Int32Array, as tokenize makes it', value }));
  }
  if (textRead && typeof text !== 'string') throw new TypeError(optionMessage(`${name}.text`, { expected: 'a string, as tokenize makes it', value: text }));
  // the texts a scored text writes for its <UNK>s and between its documents
  if (!textRead) {
    for (const [field, value] of [['unknown', unknown], ['separators', separators]] as const) {
      if (value !== undefined && !(Array.isArray(value) && value.every((s) => typeof s === 'string'))) {
        throw new TypeError(optionMessage(`${name}.${field}`, { expected: 'an array of strings, as tokenize makes it', value }));
      }
    }
  }
  const by = cutBy(tokenized);
  if (by !== undefined && !vocab.sameAs(by)) {
    throw new RangeError(`${name}: was tokenized by another model, whose vocabulary differs from this one's: tokenize the text with this model, or pass the string`);
  }
  const size = vocab.size;
  for (const [field, value] of read as [string, Int32Array][]) {
    for (let i = 0; i < value.length; i++) {
      const id = value[i]!;
      if (id < 0 || id >= size) {
        throw new RangeError(`${name}.${field}[${i}] is ${id}, not a token of this model's ${vocabularyText(size)}: cut the text with this model's tokenize`);
      }
    }
  }
}

/** The kernels `kernels` names (resolveKernels), else a RangeError naming the option, as every other option's is. */
export function libraryKernels(kernels: KernelsChoice | undefined): KernelsKind {
  return asRangeError(() => resolveKernels(kernels));
}

/**
 * What `run` returns; a SettingError it throws (a layer below naming a setting) as the RangeError
 * this library throws for an option's bad value, with that SettingError as its cause.
 */
export function asRangeError<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    if (err instanceof SettingError) throw new RangeError(err.message, { cause: err });
    throw err;
  }
}
