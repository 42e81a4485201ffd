import { randomInt } from 'node:crypto';
import { z } from 'zod';
import {
  POSITIVE_INTEGER, SEED, SHARE, SEED_MAX, type InputError, type Setting, SettingError, checkedSetting, orList,
} from '../input/settings.js';

/**
 * What sampling does about `<UNK>`: 'resample' gives it probability zero before drawing (so it
 * is never drawn, and argmax skips it); 'show' draws it like any token and writes it as `<UNK>`.
 */
const UNK_MODES = ['resample', 'show'] as const;
export type UnkMode = (typeof UNK_MODES)[number];

/** A number of at least 0 (a temperature, a length penalty), and how an error names it. */
const NON_NEGATIVE = { schema: z.number().min(0), expected: 'a number >= 0' };

/**
 * The settings of sampling and beam search, in the order `rnn sample --help` lists them: the
 * one home of each one's name, range, default and help. The library checks its options against
 * these ranges (`checkSampleSettings`), and `rnn sample`'s flags are made from them.
 */
export const SAMPLE_SETTINGS = {
  len: {
    ...POSITIVE_INTEGER, arg: '<n>',
    help: 'tokens to generate, not counting the prime: characters, or words and punctuation marks at the word level', default: 200,
  },
  temperature: {
    ...NON_NEGATIVE, arg: '<t>', help: 'softmax temperature; 0 picks the most probable token',
    default: 1,
  },
  topK: { ...POSITIVE_INTEGER, arg: '<k>', help: 'draw only among the k most probable tokens' },
  topP: {
    ...SHARE, arg: '<p>',
    help: `draw only among the fewest most probable tokens whose probabilities reach p, ${SHARE.expected}`,
  },
  seed: {
    ...SEED, arg: '<n>',
    default: () => randomInt(SEED_MAX + 1), defaultText: 'a random one',
  },
  stopAtEos: {
    schema: z.boolean(), input: z.boolean(), help: 'stop when the model ends the document (<EOS>; with --docs sentence, the sentence)',
  },
  unk: {
    schema: z.enum(UNK_MODES), expected: orList(UNK_MODES), arg: '<mode>',
    help: 'resample: <UNK> is never drawn; show: it may be, and prints as <UNK>', default: 'resample',
  },
  beam: {
    ...POSITIVE_INTEGER, arg: '<n>',
    help: 'beam search: the most probable continuation a beam of n hypotheses finds, instead of drawing at random',
  },
  lengthPenalty: {
    ...NON_NEGATIVE, arg: '<a>',
    help: 'with --beam and --stop-at-eos: rank hypotheses by log-probability / tokens^a, so short ones are not preferred for their length',
    default: 0,
  },
} as const satisfies Readonly<Record<string, Setting>>;

type SampleSettingName = keyof typeof SAMPLE_SETTINGS;

/** The settings a beam search refuses: it draws nothing at random, and never chooses `<UNK>`. */
export const NOT_FOR_BEAM = ['temperature', 'topK', 'topP', 'seed', 'unk'] as const satisfies readonly SampleSettingName[];

/**
 * The refusal of a setting beside a beam search, with the setting and the beam named as the
 * caller names them (`--temperature` and `--beam`, or the fields `temperature` and `beam`): by
 * default one of NOT_FOR_BEAM, else with `why` it does not apply.
 */
export function notForBeam(setting: string, beam: string, why = 'a beam search draws nothing at random and never chooses <UNK>'): string {
  return `${setting} does not apply to ${beam} (${why}): leave one out`;
}

/** The settings only a beam search reads: given without one, each is refused (`refuseWithoutBeam`). */
export const ONLY_FOR_BEAM = ['lengthPenalty'] as const satisfies readonly SampleSettingName[];

/**
 * Refuses the first of `settings` (ONLY_FOR_BEAM, and a caller's own, as `rnn sample --json`) that
 * `given` holds, where no beam was given: a SettingError naming it and the beam as the caller names
 * them, `--length-penalty needs --beam` or `lengthPenalty needs beam`.
 */
export function refuseWithoutBeam<S extends string>(given: Readonly<Partial<Record<S, unknown>>>, settings: readonly S[]): void {
  for (const setting of settings) {
    if (given[setting] !== undefined) throw new SettingError(setting, given[setting], (name) => `${name(setting)} needs ${name('beam')}`);
  }
}

/** The settings temperature 0 uses none of: the most probable token is among any top k or top p, and no draw needs a seed. */
const NOT_FOR_GREEDY = ['topK', 'topP', 'seed'] as const satisfies readonly SampleSettingName[];

/** Settings given beside temperature 0 that change nothing, as warnings, in NOT_FOR_GREEDY's order. */
export function greedyWarnings(opts: Readonly<Partial<Record<'temperature' | (typeof NOT_FOR_GREEDY)[number], number>>>): InputError[] {
  if (opts.temperature !== 0) return [];
  return NOT_FOR_GREEDY.filter((setting) => opts[setting] !== undefined).map((setting) => new SettingError(setting, opts[setting], (name) =>
    `${name(setting)} has no effect with ${name('temperature')} 0: it takes the most probable token, drawing nothing at random`));
}

/**
 * Checks options given to the library against SAMPLE_SETTINGS' ranges, keyed by the setting
 * (the library's options take the settings' names); a bad one is a RangeError naming it:
 * `topP: must be a number in (0, 1] (got 2)`.
 */
export function checkSampleSettings(options: Readonly<Partial<Record<SampleSettingName, unknown>>>): void {
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    checkedSetting(name, SAMPLE_SETTINGS[name as SampleSettingName], value);
  }
}
