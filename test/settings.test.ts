import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Checkpoint } from '../src/checkpoint/schema.js';
import {
  TRAIN_SETTINGS, type TrainSettingName, type TrainSettings, TrainingConfigSchema, defaultSettings, modelConfig, settingsFromConfig,
  trainingConfig,
} from '../src/checkpoint/settings.js';
import { userMessage } from '../src/cli/errors.js';
import { checkSampleSettings, greedyWarnings } from '../src/generate/settings.js';
import { describeValue, likelyNames, optionMessage, zodErrorMessage } from '../src/input/issues.js';
import { SCORE_TOP_MAX } from '../src/generate/score.js';
import {
  SEED_MAX, SettingError, flagHelp, orList, parseSettingTable, withDefaults,
} from '../src/input/settings.js';
import { ACTIVATIONS_TOP_MAX, readActivations, readComplete, readScore } from '../src/serve/requests.js';
import { SERVE_SETTINGS } from '../src/serve/settings.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { shortMessage } from '../src/checkpoint/errors.js';
import { parseOptions, resumedSettings } from '../src/train/options.js';

/** A valid value of each setting other than its default. */
const OTHER: { [K in TrainSettingName]: TrainSettings[K] } = {
  cell: 'lstm', layers: 3, hidden: 7, embed: 5, dropout: 0.5, seqLen: 9, batch: 3, lr: 0.1, lrDecay: 0.5, clip: 2, clipValue: 1,
  seed: 7, workers: 3, valFrac: 0.2, minCount: 2, docs: 'line', evalEvery: 5, optimizer: 'sgd', kernels: 'js', level: 'word',
  vocabSize: 50, lrSchedule: 'epoch',
};

function checkpointOf(settings: TrainSettings): Checkpoint {
  return { config: { model: modelConfig(settings, 40), training: trainingConfig(settings, WORD_RULE_VERSION) } } as Checkpoint;
}

describe('the training settings table', () => {
  it('records every setting in a checkpoint and reads it back, at either level', () => {
    const char: TrainSettings = { ...defaultSettings(), kernels: 'wasm' };
    expect(settingsFromConfig(checkpointOf(char).config)).toEqual(char);
    expect(checkpointOf(char).config.training).not.toHaveProperty('vocabSize');
    const word: TrainSettings = { ...char, level: 'word', vocabSize: 500 };
    expect(settingsFromConfig(checkpointOf(word).config)).toEqual(word);
    expect(checkpointOf(word).config.training).toMatchObject({ level: 'word', vocabSize: 500, wordRule: WORD_RULE_VERSION });
  });

  it('keeps on resume what fixes the model, its optimizer, its data and its random streams, and takes the rest as given', () => {
    // recorded with the schedule --lr-decay applies to
    const recorded: TrainSettings = { ...defaultSettings(), level: 'word', kernels: 'wasm', lrSchedule: 'epoch' };
    const fixed: string[] = [];
    for (const name of Object.keys(TRAIN_SETTINGS) as TrainSettingName[]) {
      const value = name === 'level' ? 'char' : name === 'kernels' ? 'js' : name === 'lrSchedule' ? 'cosine' : OTHER[name];
      try {
        const resumed = resumedSettings(parseOptions({ [name]: value }), checkpointOf(recorded), 'ckpt.json');
        expect(resumed).toEqual({ ...recorded, [name]: value });
      } catch (err) {
        expect(err).toBeInstanceOf(SettingError);
        expect(userMessage(err)).toMatch(new RegExp(`contradicts ckpt\\.json, which was trained with --\\S+ ${String(recorded[name])}:`));
        fixed.push(name);
      }
    }
    expect(fixed.sort()).toEqual([
      'batch', 'cell', 'docs', 'dropout', 'embed', 'hidden', 'layers', 'level', 'minCount', 'optimizer', 'seed', 'seqLen', 'valFrac',
      'vocabSize',
    ]);
  });

  it('names, for a setting that applies with another\'s value, a setting and a value it takes', () => {
    const rules = Object.values(TRAIN_SETTINGS).flatMap((entry) => ('appliesWith' in entry ? [entry.appliesWith] : []));
    expect(rules.map((rule) => `${rule.setting} ${rule.value}`)).toEqual(['lrSchedule epoch', 'level word']);
    for (const rule of rules) expect(TRAIN_SETTINGS[rule.setting as TrainSettingName].schema.safeParse(rule.value).success).toBe(true);
  });

  it('reads a checkpoint from before the schedule was a choice as decaying by epoch, as it trained', () => {
    const { config } = checkpointOf({ ...defaultSettings(), kernels: 'wasm' });
    const { lrSchedule, ...training } = config.training;
    expect(lrSchedule).toBe('cosine');
    const old = TrainingConfigSchema.parse(training);
    expect(settingsFromConfig({ model: config.model, training: old }).lrSchedule).toBe('epoch');
  });

  it('reads a checkpoint with the ranges its flags take', () => {
    const training = trainingConfig(defaultSettings(), WORD_RULE_VERSION);
    expect(TrainingConfigSchema.safeParse(training).success).toBe(true);
    for (const [name, value] of [['lrDecay', 0], ['lrDecay', 1.5], ['minCount', 0], ['seed', 2 ** 32], ['seed', -1]] as const) {
      expect(TrainingConfigSchema.safeParse({ ...training, [name]: value }).success, `${name} ${value}`).toBe(false);
      expect(() => parseOptions({ [name]: String(value) }), `--${name} ${value}`).toThrow(SettingError);
    }
    // a flag's 0 turns clipping off, which a checkpoint records as null
    expect(parseOptions({ clip: '0' }).clip).toBeNull();
    expect(TrainingConfigSchema.safeParse({ ...training, clip: 0 }).success).toBe(false);
  });
});

describe('the sampling settings table', () => {
  it('says which settings temperature 0 leaves unused, as the caller names them', () => {
    const named = (opts: Parameters<typeof greedyWarnings>[0]) => greedyWarnings(opts).map((warning) => warning.messageNaming((name) => `--${name}`));
    expect(named({ temperature: 0, topK: 5, topP: 0.9, seed: 7 })).toEqual(['topK', 'topP', 'seed'].map((name) =>
      `--${name} has no effect with --temperature 0: it takes the most probable token, drawing nothing at random`));
    expect(named({ temperature: 0 })).toEqual([]);
    expect(named({ temperature: 0.5, topK: 5, topP: 0.9, seed: 7 })).toEqual([]);
  });

  it('checks the library\'s options with the ranges the flags take, naming the option', () => {
    expect(() => checkSampleSettings({ len: 0 })).toThrow('len: must be a positive integer (got 0)');
    expect(() => checkSampleSettings({ beam: 1.5 })).toThrow('beam: must be a positive integer (got 1.5)');
    expect(() => checkSampleSettings({ unk: 'hide' })).toThrow(/^unk: .*resample.*show/);
    expect(() => checkSampleSettings({ topP: 2 })).toThrow(RangeError);
    expect(() => checkSampleSettings({ temperature: Infinity })).toThrow('temperature: must be a finite number >= 0 (got Infinity)');
    expect(() => checkSampleSettings({ seed: 2 ** 32 })).toThrow('seed: must be an integer from 0 to 4294967295 (got 4294967296)');
    // a count past what a number holds exactly is an integer too: the message gives the bound it broke, where no range says it
    expect(() => checkSampleSettings({ len: 1e99 })).toThrow('len: must be a positive integer up to 9007199254740991 (got 1e+99)');
    expect(() => checkSampleSettings({ seed: 1e99 })).toThrow('seed: must be an integer from 0 to 4294967295 (got 1e+99)');
    expect(() => checkSampleSettings({ len: 5, temperature: 0, topK: 3, topP: 1, seed: 0, beam: 2, unk: 'show', stopAtEos: true })).not.toThrow();
    expect(() => checkSampleSettings({ temperature: -Infinity })).toThrow('temperature: must be a finite number >= 0 (got -Infinity)');
  });
});

describe('each range takes its ends as its words state them', () => {
  it('a number > 0 refuses 0; a range from a to b takes b itself and refuses one more', () => {
    expect(() => parseOptions({ lr: '0' })).toThrow('lr: must be a number > 0 (got 0)');
    expect(parseOptions({ seed: String(SEED_MAX) }).seed).toBe(SEED_MAX);
    expect(() => checkSampleSettings({ seed: SEED_MAX })).not.toThrow();
    expect(() => parseOptions({ seed: String(SEED_MAX + 1) })).toThrow(SettingError);
  });

  it('a request\'s capped fields (n, top) take their cap and refuse one more, naming the field', () => {
    expect(readComplete({ prefix: 'a', n: 10 }).n).toBe(10);
    expect(() => readComplete({ prefix: 'a', n: 11 })).toThrow('n: must be an integer from 1 to 10 (got 11)');
    expect(readScore({ text: 'a', top: SCORE_TOP_MAX }).top).toBe(SCORE_TOP_MAX);
    expect(() => readScore({ text: 'a', top: SCORE_TOP_MAX + 1 })).toThrow(`top: must be an integer from 0 to ${SCORE_TOP_MAX}`);
    expect(readActivations({ text: 'a', top: ACTIVATIONS_TOP_MAX }).top).toBe(ACTIVATIONS_TOP_MAX);
    expect(() => readActivations({ text: 'a', top: ACTIVATIONS_TOP_MAX + 1 })).toThrow(`top: must be an integer from 1 to ${ACTIVATIONS_TOP_MAX}`);
  });

  it('rnn serve takes port 65535, a queue of 0, an origin with no path, and a time limit as long as a timer keeps (2^31 − 1 ms), and no longer nor 0', () => {
    const longest = Math.floor((2 ** 31 - 1) / 1000);
    expect(parseSettingTable(SERVE_SETTINGS, { port: '65535', timeLimit: String(longest) })).toEqual({ port: 65535, timeLimit: longest });
    expect(parseSettingTable(SERVE_SETTINGS, { queue: '0', cors: 'https://example.com:8443' })).toEqual({ queue: 0, cors: 'https://example.com:8443' });
    for (const given of [{ port: '65536' }, { timeLimit: String(longest + 1) }, { timeLimit: '0' }, { cors: 'https://example.com/app' }]) {
      expect(() => parseSettingTable(SERVE_SETTINGS, given), JSON.stringify(given)).toThrow(SettingError);
    }
  });
});

describe('a setting\'s help line and default', () => {
  it('states its default, in words after a colon where the table words it, or that it must be given', () => {
    expect(flagHelp({ schema: SERVE_SETTINGS.queue.schema, help: 'waiting requests', default: 32 })).toBe('waiting requests (default 32)');
    expect(flagHelp(SERVE_SETTINGS.workers)).toBe(`${SERVE_SETTINGS.workers.help} (default: every core)`);
    expect(flagHelp({ ...SERVE_SETTINGS.token, required: true })).toBe(`${SERVE_SETTINGS.token.help} (required)`);
  });

  it('keeps a value given over the default, and gives the default where none is', () => {
    const settings = withDefaults(SERVE_SETTINGS, { port: 0 });
    expect([settings.port, settings.queue]).toEqual([0, SERVE_SETTINGS.queue.default]);
  });

  it('offers one value as itself and more joined by "or"', () => {
    expect([orList(['sse']), orList(['sse', 'ndjson']), orList(['lstm', 'gru', 'rnn'])]).toEqual(['sse', 'sse or ndjson', 'lstm, gru or rnn']);
  });
});

describe('flags given as text', () => {
  it('read as numbers where the setting takes a number, and stay text where it takes text that reads as one', () => {
    expect(parseOptions({ hidden: '64', lr: '1e-3', out: '2024', resume: '7' })).toMatchObject({ hidden: 64, lr: 1e-3, out: '2024', resume: '7' });
    expect(parseSettingTable(SERVE_SETTINGS, { token: '12345', port: '0' })).toEqual({ token: '12345', port: 0 });
    expect(() => parseOptions({ hidden: 'x64' })).toThrow(SettingError);
  });

  it('name a number past the largest float as it was typed, not as the Infinity it reads as', () => {
    expect(() => parseOptions({ lr: '1e400' })).toThrow('lr: must be a finite number > 0 (got 1e400)');
    expect(() => parseOptions({ hidden: '-1e400' })).toThrow('hidden: must be a positive integer (got -1e400)');
  });
});

describe('a value or message cut short for a message', () => {
  it('is cut between code points, never between the halves of an emoji', () => {
    for (const lead of ['', 'a']) {
      const value = describeValue(lead + '😀'.repeat(30));
      expect(value.endsWith('...')).toBe(true);
      expect(value.length).toBeLessThanOrEqual(40);
      expect(value).not.toMatch(/\p{Cs}/u); // no lone surrogate
      const message = shortMessage(new Error(lead + '𠀋'.repeat(100)));
      expect(message.endsWith('...')).toBe(true);
      expect(message).not.toMatch(/\p{Cs}/u);
    }
  });

  it('is whole where it fits, to the last character', () => {
    expect(describeValue('x'.repeat(38))).toBe(`"${'x'.repeat(38)}"`);
  });

  it('writes a function given for a value on one line, cut short as a text is', () => {
    const given = describeValue(function lengthOfEachSample() {
      return 'a function given where a number of characters is taken';
    });
    expect(given).toMatch(/^function lengthOfEachSample\(\) \{\\u000a.*\.\.\.$/);
    expect(given).toHaveLength(40);
  });
});

describe('what is wrong with a file\'s field, in words', () => {
  const fieldMessage = (schema: z.ZodType, value: unknown): string =>
    zodErrorMessage('run.json', schema.safeParse(value, { reportInput: true }).error!);

  it('counts the items of a set and the characters of a text, in the singular for one, and calls a text that must have one empty', () => {
    expect(fieldMessage(z.object({ tags: z.set(z.string()).size(2) }), { tags: new Set(['a']) })).toBe('run.json: tags must have exactly 2 items (got a Set)');
    expect(fieldMessage(z.object({ name: z.string().min(1) }), { name: '' })).toBe('run.json: name must not be empty (got "")');
    expect(fieldMessage(z.object({ name: z.string().min(3) }), { name: 'ab' })).toBe('run.json: name must be at least 3 characters (got "ab")');
    expect(fieldMessage(z.object({ name: z.string().max(1) }), { name: 'ab' })).toBe('run.json: name must be at most 1 character (got "ab")');
  });

  it('tells a null from a missing field, quotes the one value a field takes, and names each key it does not take', () => {
    expect(fieldMessage(z.object({ lr: z.number() }), { lr: null })).toBe('run.json: lr must be a number (got null)');
    expect(fieldMessage(z.object({ format: z.literal('rnn-state/1') }), { format: 'x' })).toBe('run.json: format must be "rnn-state/1" (got "x")');
    expect(fieldMessage(z.strictObject({ a: z.number() }), { a: 1, b: 2 })).toBe('run.json: has unexpected key "b"');
    expect(fieldMessage(z.strictObject({ a: z.number() }), { a: 1, b: 2, c: 3 })).toBe('run.json: has unexpected keys "b", "c"');
  });

  it('words a value none of a field\'s forms takes as its first form does, and a check\'s own words on one line', () => {
    expect(fieldMessage(z.object({ a: z.union([z.number(), z.literal('auto')]) }), { a: true })).toBe('run.json: a must be a number (got true)');
    expect(fieldMessage(z.object({ a: z.number().refine(() => false, 'is\n  wrong') }), { a: 1 })).toBe('run.json: a is wrong');
  });
});

describe('a flag\'s value, as its message shows it', () => {
  it('quotes text that would read as a number, NaN included, and cuts a long one as typed', () => {
    expect(optionMessage('--temperature', { expected: 'a number', value: '.5' })).toBe('--temperature: must be a number (got ".5")');
    expect(optionMessage('--temperature', { expected: 'a number', value: 'NaN' })).toBe('--temperature: must be a number (got "NaN")');
    expect(optionMessage('--out', { expected: 'a folder', value: 'x'.repeat(41) })).toBe(`--out: must be a folder (got "${'x'.repeat(36)}...)`);
    expect(optionMessage('--lr', { expected: 'a number', typed: '9'.repeat(50) })).toBe(`--lr: must be a number (got ${'9'.repeat(37)}...)`);
  });
});

describe('the names a mistyped flag most likely meant', () => {
  const flags = ['--temperature', '--top-k', '--len', '--length-penalty', '--max-steps', '--seed', '--help'];

  it('are those it begins, and the longest that begins it', () => {
    expect(likelyNames('--temp', flags)).toEqual(['--temperature']);
    expect(likelyNames('--length=5', flags)).toEqual(['--len', '--length-penalty']);
  });

  it('else those it ends as their last words, else the nearest within an edit for every three letters, a swap one edit', () => {
    expect(likelyNames('--steps', flags)).toEqual(['--max-steps']);
    expect(likelyNames('--tpo-k', flags)).toEqual(['--top-k']);
    expect(likelyNames('--sede', flags)).toEqual(['--seed']);
    expect(likelyNames('--seet', flags)).toEqual(['--seed']);
    expect(likelyNames('--tip-q', flags)).toEqual([]);
    expect(likelyNames('--steps', ['--max-steps', '--timesteps'])).toEqual(['--max-steps']);
    expect(likelyNames('-H', ['-h', '--help'])).toEqual(['-h']);
  });
});
