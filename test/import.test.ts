import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { recordedDocuments } from '../src/checkpoint/load.js';
import { exportState, importState, readModelFile } from '../src/checkpoint/convert.js';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { CHECKPOINT_FLAG, type ModelPathReader, resolveCheckpointPath } from '../src/checkpoint/find.js';
import { toInteropState } from '../src/checkpoint/interop.js';
import { fromSafetensors, toSafetensors } from '../src/checkpoint/safetensors.js';
import { checkpointChars, parameterCount } from '../src/checkpoint/size.js';
import { TRAIN_DEFAULTS } from '../src/checkpoint/settings.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { SettingError, flagName } from '../src/input/settings.js';
import { INIT_FROM_READER } from '../src/train/options.js';
import { SENTENCE_RULE_VERSION } from '../src/text/sentences.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';
import { expectOneLineError, ROOT, rnnIn, TINY_RUN } from './helpers/cli.js';
import { scratchFolder } from './helpers/files.js';
import { thrownBy } from './helpers/thrown.js';

const CONFIG: ModelConfig = { cell: 'gru', vocabSize: 5, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0 };
const MODEL = { config: CONFIG, vocab: ['<EOS>', '<UNK>', 'a', 'b', 'c'], level: 'char' as const, wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: initParams(CONFIG, new Rng(3)) };

const { dir } = scratchFolder('rnn-import-');

/** The safetensors file split into its header (parsed) and data, and put back together. */
function editSafetensors(bytes: Buffer, edit: (header: Record<string, Record<string, unknown>>) => void): Buffer {
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, Record<string, unknown>>;
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, bytes.subarray(8 + length)]);
}

const editConfig = (edit: (config: Record<string, unknown>) => void) => (header: Record<string, Record<string, unknown>>) => {
  const meta = header['__metadata__']!;
  const config = JSON.parse(meta['config'] as string) as Record<string, unknown>;
  edit(config);
  meta['config'] = JSON.stringify(config);
};

/** What `rnn import` says of a file holding `content` (named `name`); the checkpoint it would write must not exist. */
function importError(name: string, content: string | Buffer): string {
  const input = join(dir, name), out = join(dir, 'out.json');
  writeFileSync(input, content);
  rmSync(out, { force: true });
  try {
    importState(input, out, ['rnn', 'import'], true);
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    expect(existsSync(out)).toBe(false);
    const message = (error as Error).message;
    expect(message.startsWith(`${input}: `), message).toBe(true);
    expect(message).not.toContain('\n');
    return message.slice(input.length + 2);
  }
  throw new Error('expected an error');
}

describe('rnn import: sizes checked before anything is allocated', () => {
  it('counts parameters in arithmetic as the layout does', () => {
    for (const cell of ['lstm', 'gru', 'rnn'] as const) {
      for (const numLayers of [1, 3]) {
        const config = { ...CONFIG, cell, numLayers };
        expect(parameterCount(config)).toBe(paramLayout(config).total);
      }
    }
  });

  it.each([1e9, 3])('refuses a config of %d layers that the file has no tensors for', (layers) => {
    const bytes = editSafetensors(toSafetensors(MODEL), editConfig((c) => (c['num_layers'] = layers)));
    expect(importError('deep.safetensors', bytes)).toBe(`__metadata__.config.num_layers is ${layers}, but the file holds the tensors of at most 2 layers`);
    const state = { ...toInteropState(CONFIG, MODEL.vocab, MODEL.params), config: { cell: 'gru', vocab_size: 5, embed_dim: 3, hidden_size: 4, num_layers: layers } };
    expect(importError('deep.json', JSON.stringify(state))).toBe(`config.num_layers is ${layers}, but the file holds the tensors of at most 2 layers`);
  });

  it.each(['embed_dim', 'hidden_size'])('refuses a %s far beyond the tensors without allocating it', (field) => {
    const bytes = editSafetensors(toSafetensors(MODEL), editConfig((c) => (c[field] = 2e8)));
    expect(importError('wide.safetensors', bytes)).toMatch(/^a 2-layer gru of hidden size \d+ \([\d,]+ parameters\) needs a checkpoint of about/);
  });

  it('refuses a model too large for a checkpoint up front, naming the largest hidden size that fits', () => {
    // a 2×2048 GRU over 65 characters: 38 M parameters, 153 MB of safetensors; the header alone says so
    const big: ModelConfig = { cell: 'gru', vocabSize: 65, embedDim: 64, hiddenSize: 2048, numLayers: 2, dropout: 0 };
    const vocab = ['<EOS>', '<UNK>', ...Array.from({ length: 63 }, (_, i) => String.fromCodePoint(0x21 + i))];
    const small = { ...big, hiddenSize: 4 };
    const header = editSafetensors(toSafetensors({ ...MODEL, config: small, vocab, params: initParams(small, new Rng(1)) }),
      editConfig((c) => (c['hidden_size'] = 2048)));
    const message = importError('big.safetensors', header);
    const largest = Number(/hidden size (\d+) \(/.exec(message.slice(message.indexOf(';')))![1]);
    expect(message).toMatch(/^a 2-layer gru of hidden size 2048 \(38,\d{3},\d{3} parameters\) needs a checkpoint of about [\d,]+ MiB of JSON, more than the 512 MiB one file can hold/);
    const fits = (hiddenSize: number) => checkpointChars({ ...big, hiddenSize }, { optimizer: 'adam', batch: TRAIN_DEFAULTS.batch }) <= 2 ** 29 - 24;
    expect(fits(largest)).toBe(true);
    expect(fits(largest + 1)).toBe(false);
  });
});

/** The tensors of MODEL (CONFIG: a 2-layer GRU), as a message lists them. */
const GRU_TENSORS = 'embed.weight, rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_ih_l0, rnn.bias_hh_l0, rnn.weight_ih_l1, rnn.weight_hh_l1, rnn.bias_ih_l1, rnn.bias_hh_l1, head.weight, head.bias';

/** `bytes`, a safetensors file, with each tensor's name given to `rename`. */
function renamedSafetensors(bytes: Buffer, rename: (name: string) => string): Buffer {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, unknown>;
  const renamed = Buffer.from(JSON.stringify(Object.fromEntries(Object.entries(header).map(([name, entry]) =>
    [name === '__metadata__' ? name : rename(name), entry]))));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(renamed.length));
  return Buffer.concat([length, renamed, bytes.subarray(8 + headerLength)]);
}

describe('rnn import: tensors of other names', () => {
  it('names the tensors the model has', () => {
    const bytes = renamedSafetensors(toSafetensors(MODEL), (name) => (name === 'head.bias' ? 'fc.bias' : name));
    expect(importError('other.safetensors', bytes)).toBe(`"fc.bias" is not a tensor of a 2-layer gru, whose tensors are ${GRU_TENSORS}`);
  });

  it('says how to save the model itself where DistributedDataParallel named its tensors', () => {
    const ddp = 'is not a tensor of a 2-layer gru: a DistributedDataParallel wrapper names embed.weight so; ' +
      "save model.module.state_dict(), the model's own names";
    const bytes = renamedSafetensors(toSafetensors(MODEL), (name) => `module.${name}`);
    expect(importError('ddp.safetensors', bytes)).toBe(`"module.embed.weight" ${ddp}`);
    const state = toInteropState(CONFIG, MODEL.vocab, MODEL.params);
    state.tensors = Object.fromEntries(Object.entries(state.tensors).map(([name, tensor]) => [`module.${name}`, tensor]));
    expect(importError('ddp.json', JSON.stringify(state))).toBe(`tensors["module.embed.weight"] ${ddp}`);
  });

  it('names the first tensor missing where too few are left for the layers (PyTorch bias=False), not num_layers', () => {
    const biasless = (name: string) => name.startsWith('rnn.bias_');
    const bytes = toSafetensors(MODEL);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { data_offsets?: [number, number] }>;
    const kept = Object.entries(header).filter(([name]) => !biasless(name));
    const data: Buffer[] = [];
    let offset = 0;
    for (const [name, entry] of kept) {
      if (name === '__metadata__') continue;
      const [begin, end] = entry.data_offsets!;
      data.push(bytes.subarray(8 + headerLength + begin, 8 + headerLength + end));
      entry.data_offsets = [offset, offset + end - begin];
      offset += end - begin;
    }
    const json = Buffer.from(JSON.stringify(Object.fromEntries(kept)));
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(BigInt(json.length));
    expect(importError('biasless.safetensors', Buffer.concat([prefix, json, ...data]))).toBe('"rnn.bias_ih_l0" is missing');
    const state = toInteropState(CONFIG, MODEL.vocab, MODEL.params);
    state.tensors = Object.fromEntries(Object.entries(state.tensors).filter(([name]) => !biasless(name)));
    expect(importError('biasless.json', JSON.stringify(state))).toBe('tensors["rnn.bias_ih_l0"] is missing');
  });
});

describe('rnn import: value errors name the input', () => {
  it.each([NaN, Infinity, -1e7])('refuses a weight of %d in a .safetensors file', (bad) => {
    const bytes = toSafetensors(MODEL);
    bytes.writeFloatLE(bad, bytes.length - 8);
    expect(importError('bad.safetensors', bytes)).toBe(`"head.bias"[3] is ${Math.fround(bad)}, expected a weight within ±1000000`);
  });

  it('refuses a weight beyond the limit in an rnn-state/1 file', () => {
    const state = toInteropState(CONFIG, MODEL.vocab, MODEL.params);
    state.tensors['embed.weight']!.data[2] = 5e38;
    expect(importError('bad.json', JSON.stringify(state))).toBe('tensors["embed.weight"].data[2] is Infinity, expected a weight within ±1000000');
  });

  it.each(['NaN', 'Infinity', '-Infinity'])('refuses a weight written as %s (Python\'s json.dump of one not finite), naming it', (word) => {
    const state = toInteropState(CONFIG, MODEL.vocab, MODEL.params);
    state.tensors['head.bias']!.data[3] = 123.25;
    const text = JSON.stringify(state, null, 1).replace('123.25', word);
    expect(importError('python.json', text)).toBe(`tensors["head.bias"].data[3] is ${word}, which is no JSON number ` +
      "(Python's json.dump writes a weight that is not finite so), expected a weight within ±1000000");
  });

  it('refuses characters out of code-point order', () => {
    const state = toInteropState(CONFIG, ['<EOS>', '<UNK>', 'b', 'a', 'c'], MODEL.params);
    expect(importError('order.json', JSON.stringify(state))).toBe('vocab[3] "a" comes after vocab[2] "b", expected the characters in code-point order');
    const bytes = toSafetensors({ ...MODEL, vocab: ['<EOS>', '<UNK>', 'b', 'a', 'c'] });
    expect(importError('order.safetensors', bytes)).toBe(
      '__metadata__.vocab[3] "a" comes after __metadata__.vocab[2] "b", expected the characters in code-point order');
  });
});

/** The fields of an rnn-state/1 config, as a message lists them. */
const CONFIG_FIELDS = 'cell, vocab_size, embed_dim, hidden_size, num_layers, dropout, level, word_rule, docs, sentence_rule, spacing';

/** An rnn-state/1 file parsed, loosely: a test sets a field to anything. */
interface LooseState {
  format?: unknown;
  config: Record<string, unknown>;
  vocab: unknown[];
  tensors: Record<string, { shape?: unknown; data: unknown[] }>;
}

describe('a malformed rnn-state/1 file: one line naming the file and the field', () => {
  /** The file rnn export writes for MODEL, edited; `wrap` puts it in a fixture's `state`, as test/fixtures/eval do. */
  const edited = (edit: (state: LooseState) => void, wrap = false): string => {
    const state = JSON.parse(JSON.stringify(toInteropState(CONFIG, MODEL.vocab, MODEL.params))) as LooseState;
    edit(state);
    return JSON.stringify(wrap ? { description: 'a fixture', state } : state);
  };
  /** The file with the byte 0xFF for the token "a": read as UTF-8, it would be U+FFFD. */
  const notUtf8 = (() => {
    const text = edited(() => undefined), offset = text.indexOf('"a"') + 1;
    return { bytes: Buffer.concat([Buffer.from(text.slice(0, offset)), Buffer.from([0xff]), Buffer.from(text.slice(offset + 1))]), offset };
  })();
  const cases: [string, string | Buffer, string][] = [
    ['a config number as a string', edited((s) => (s.config.hidden_size = '4')), 'config.hidden_size must be a number (got "4")'],
    ['a config of the wrong type', edited((s) => ((s as { config: unknown }).config = [])), 'config must be an object (got an array of 0)'],
    ['a cell it does not know', edited((s) => (s.config.cell = 'transformer')), 'config.cell must be one of lstm, gru, rnn (got "transformer")'],
    ['a token that is not a string', edited((s) => (s.vocab[3] = 98)), 'vocab[3] must be a string (got 98)'],
    ['tensors as a list', edited((s) => ((s as { tensors: unknown }).tensors = [])), 'tensors must be an object (got an array of 0)'],
    ['a value that is not a number', edited((s) => (s.tensors['head.bias'].data[1] = null)), 'tensors["head.bias"].data[1] must be a number (got null)'],
    ['data as nested lists', edited((s) => (s.tensors['head.bias'].data = [[0, 0, 0, 0, 0]])), 'tensors["head.bias"].data[0] must be a number (got an array of 5)'],
    ['a tensor missing', edited((s) => delete s.tensors['rnn.bias_hh_l1']), 'tensors["rnn.bias_hh_l1"] is missing'],
    ['a tensor without its shape', edited((s) => delete s.tensors['head.weight'].shape), 'tensors["head.weight"].shape is missing'],
    ['a tensor of the wrong shape', edited((s) => (s.tensors['head.weight'].shape = [4, 5])), 'tensors["head.weight"].shape is [4,5], expected [5,4]'],
    ['a negative dimension', edited((s) => (s.tensors['head.bias'].shape = [-5])), 'tensors["head.bias"].shape[0] must be >= 0 (got -5)'],
    ['a value too large for float64', edited((s) => (s.tensors['head.bias'].data[0] = 123456789)).replace('123456789', '1e999'),
      'tensors["head.bias"].data[0] must be a finite number (got Infinity)'],
    ['a tensor the model does not have, named as an object\'s prototype', edited((s) => (s.tensors = { ...s.tensors, ['__proto__']: { shape: [1], data: [0] } })),
      `tensors["__proto__"] is not a tensor of a 2-layer gru, whose tensors are ${GRU_TENSORS}`],
    ['no format', edited((s) => delete s.format), 'format is missing, expected an rnn-state/1 file or a .safetensors file'],
    ['a format of the wrong type', edited((s) => (s.format = 1)), 'format is 1, expected an rnn-state/1 file or a .safetensors file'],
    ['another version', edited((s) => (s.format = 'rnn-state/2')), 'format is "rnn-state/2", expected an rnn-state/1 file or a .safetensors file'],
    ['a fixture whose state is another version', edited((s) => (s.format = 'rnn-state/2'), true), 'state: format is "rnn-state/2", expected "rnn-state/1"'],
    ['a fixture whose state has a tensor missing', edited((s) => delete s.tensors['embed.weight'], true), 'state: tensors["embed.weight"] is missing'],
    ['bytes that are not UTF-8', notUtf8.bytes,
      `not valid UTF-8 at byte offset ${notUtf8.offset} (line 1, byte 0xFF); expected an rnn-state/1 file or a .safetensors file`],
    ['a config field misspelled', edited((s) => (s.config.doc = 'line')),
      `config.doc is not a field of an rnn-state/1 config: did you mean docs? (its fields: ${CONFIG_FIELDS})`],
    ['a config field it does not have', edited((s) => (s.config.learning_rate = 0.1)),
      `config.learning_rate is not a field of an rnn-state/1 config (its fields: ${CONFIG_FIELDS})`],
    ['a document rule it does not know', edited((s) => (s.config.docs = 'paragraph')),
      'config.docs must be one of file, line, blank, sentence (got "paragraph")'],
    ['sentence documents without their rules\' version', edited((s) => (s.config.docs = 'sentence')),
      'config.sentence_rule is missing: a model with sentence documents must record the version of the sentence rules that cut them ' +
        '(1 to 4: the sentenceRule of the prepared folder it was trained on, in its meta.json)'],
    ['sentence rules from a newer rnn', edited((s) => Object.assign(s.config, { docs: 'sentence', sentence_rule: 5 })),
      'config.sentence_rule is 5: its sentences were cut by sentence rules version 5, newer than any this rnn has (versions 1 to 4): ' +
        'read it with a newer rnn'],
  ];

  it.each(cases)('rnn import: %s', (_, content, message) => {
    expect(importError('malformed.json', content)).toBe(message);
  });

  it('the command prints that line alone, no stack trace, and writes nothing', async () => {
    const picked = ['a config number as a string', 'a tensor missing', 'a tensor of the wrong shape', 'another version', 'bytes that are not UTF-8',
      'a document rule it does not know']
      .map((name) => cases.find((c) => c[0] === name)!);
    const runs = await Promise.all(picked.map(([, content], i) => {
      writeFileSync(join(dir, `cli-${i}.json`), content);
      return rnnIn(dir, ['import', `cli-${i}.json`, '--out', `cli-${i}-checkpoint.json`]);
    }));
    runs.forEach((run, i) => {
      expectOneLineError(run, new RegExp(`^rnn: cli-${i}\\.json: ${picked[i]![2].replace(/[[\]().*+?^$\\]/g, '\\$&')}$`));
      expect(existsSync(join(dir, `cli-${i}-checkpoint.json`))).toBe(false);
    });
  });

  it.each(cases)('--init-from: %s', (_, content, message) => {
    const path = join(dir, 'init-from.json');
    writeFileSync(path, content);
    const models = 'a checkpoint (rnn-checkpoint/1), an rnn-state/1 file or a .safetensors file';
    const said = message.replace('an rnn-state/1 file or a .safetensors file', models);
    expect(() => readModelFile(path)).toThrow(new CheckpointError(`${path}: ${said}`));
  });
});

describe('a PyTorch pickle (torch.save), which rnn does not read', () => {
  const SAID = 'is a PyTorch pickle (torch.save), which rnn does not read: save the weights with safetensors, ' +
    'save_file(model.state_dict(), "model.safetensors", metadata=meta), or as rnn-state/1 JSON, as docs/interop.md shows';
  // the first bytes torch.save wrote of {"head.bias": torch.zeros(2)} (torch 2), then the weights cut off
  it.each([
    ['a zip (the default)', '504b03040000080800000000000000000000000000000000000010001200617263686976652f646174612e706b6c4642'],
    ['the legacy pickle (_use_new_zipfile_serialization=False)', '80028a0a6cfc9c46f9206aa850192e80024de9032e80027d710028581000000070726f746f636f6c5f76657273696f6e'],
  ])('is refused in one line saying how to save the model instead: %s', (_, hex) => {
    const bytes = Buffer.concat([Buffer.from(hex, 'hex'), Buffer.alloc(64, 0x5a)]);
    const path = join(dir, 'init-from.pt');
    writeFileSync(path, bytes);
    const out = join(dir, 'pickle-out.json');
    expect(() => importState(path, out, ['rnn', 'import'], true)).toThrow(new CheckpointError(`${path} ${SAID}`));
    expect(existsSync(out)).toBe(false);
    expect(() => readModelFile(path)).toThrow(new CheckpointError(`${path} ${SAID}`));
    const flagLine = (reader: ModelPathReader) => thrownBy(() => resolveCheckpointPath(path, undefined, reader), SettingError)
      .messageNaming(flagName);
    expect(flagLine(INIT_FROM_READER)).toBe(`--init-from ${path} ${SAID}`);
    expect(flagLine(CHECKPOINT_FLAG)).toBe(`--checkpoint ${path} ${SAID}`);
  });

  it('is refused, a TorchScript archive (torch.jit.save) too, in one line naming it and how to save the weights instead', () => {
    // the first bytes torch.jit.save wrote of torch.jit.script(nn.Linear(2, 2)) (torch 2): its first entry archive/data/0, a weight
    const hex = '504b0304000008080000000000000000000000000000000000000e001400617263686976652f646174612f3046421000';
    const path = join(dir, 'scripted.pt');
    writeFileSync(path, Buffer.concat([Buffer.from(hex, 'hex'), Buffer.alloc(64, 0x5a)]));
    const said = SAID.replace('a PyTorch pickle (torch.save)', 'a TorchScript archive (torch.jit.save)');
    const out = join(dir, 'scripted-out.json');
    expect(() => importState(path, out, ['rnn', 'import'], true)).toThrow(new CheckpointError(`${path} ${said}`));
    expect(existsSync(out)).toBe(false);
    const flagLine = (reader: ModelPathReader) => thrownBy(() => resolveCheckpointPath(path, undefined, reader), SettingError)
      .messageNaming(flagName);
    expect(flagLine(INIT_FROM_READER)).toBe(`--init-from ${path} ${said}`);
    expect(flagLine(CHECKPOINT_FLAG)).toBe(`--checkpoint ${path} ${said}`);
  });

  it('is refused as a TorchScript archive where it holds no tensor, its first entry data.pkl a TorchScript class', () => {
    // the first bytes torch.jit.save wrote of torch.jit.script(nn.ReLU()) (torch 2): archive/data.pkl, its pickle a __torch__ class
    const hex = '504b0304000008080000000000000000000000000000000000001000120061726368697665' +
      '2f646174612e706b6c46420e005a5a5a5a5a5a5a5a5a5a5a5a5a5a8002635f5f746f7263685f5f2e746f7263682e6e6e2e6d6f64756c6573';
    const path = join(dir, 'scripted-relu.pt');
    writeFileSync(path, Buffer.concat([Buffer.from(hex, 'hex'), Buffer.alloc(64, 0x5a)]));
    const said = SAID.replace('a PyTorch pickle (torch.save)', 'a TorchScript archive (torch.jit.save)');
    expect(() => readModelFile(path)).toThrow(new CheckpointError(`${path} ${said}`));
    const flagLine = (reader: ModelPathReader) => thrownBy(() => resolveCheckpointPath(path, undefined, reader), SettingError)
      .messageNaming(flagName);
    expect(flagLine(INIT_FROM_READER)).toBe(`--init-from ${path} ${said}`);
  });
});

describe('a zip archive that PyTorch did not write', () => {
  // zipfile.ZipFile(path, 'w').writestr('hello.txt', 'hi'), whole
  const hex = '504b030414000000000000002100ac2a93d802000000020000000900000068656c6c6f2e7478746869504b01021403140000000000000021' +
    '00ac2a93d8020000000200000009000000000000000000000080010000000068656c6c6f2e747874504b0506000000000100010037000000290000000000';

  it('is refused in one line naming it a zip archive and what rnn reads', () => {
    const path = join(dir, 'hello.pt');
    writeFileSync(path, Buffer.from(hex, 'hex'));
    const out = join(dir, 'hello-out.json');
    expect(() => importState(path, out, ['rnn', 'import'], true)).toThrow(new CheckpointError(
      `${path}: a zip archive, not JSON; expected an rnn-state/1 file or a .safetensors file`));
    expect(existsSync(out)).toBe(false);
    expect(() => readModelFile(path)).toThrow(new CheckpointError(
      `${path}: a zip archive, not JSON; expected a checkpoint (rnn-checkpoint/1), an rnn-state/1 file or a .safetensors file`));
    const flagLine = (reader: ModelPathReader) => thrownBy(() => resolveCheckpointPath(path, undefined, reader), SettingError)
      .messageNaming(flagName);
    expect(flagLine(INIT_FROM_READER)).toMatch(new RegExp(`^--init-from ${path} is not a model file \\(it is a zip archive, not JSON\\): give `));
    expect(flagLine(CHECKPOINT_FLAG)).toMatch(new RegExp(`^--checkpoint ${path} is not a checkpoint \\(it is a zip archive, not JSON\\): give `));
  });
});

describe('the document rule in .safetensors metadata', () => {
  it('refuses a rule it does not know, naming the file and the field', () => {
    const bytes = editSafetensors(toSafetensors(MODEL), editConfig((c) => (c['docs'] = 'paragraph')));
    expect(importError('docs.safetensors', bytes)).toBe('__metadata__.config: docs must be one of file, line, blank, sentence (got "paragraph")');
  });

  it('refuses a misspelled field, naming it and the fields there are', () => {
    const bytes = editSafetensors(toSafetensors(MODEL), editConfig((c) => (c['doc'] = 'line')));
    expect(importError('doc.safetensors', bytes)).toBe(
      `__metadata__.config: doc is not a field of an rnn-state/1 config: did you mean docs? (its fields: ${CONFIG_FIELDS})`);
  });

  it('reads a file without one (as files written before it were) as each text one document', () => {
    const input = join(dir, 'old.safetensors'), out = join(dir, 'old-checkpoint.json');
    writeFileSync(input, editSafetensors(toSafetensors(MODEL), editConfig((c) => delete c['docs'])));
    expect(recordedDocuments(importState(input, out, ['rnn', 'import'], true))).toEqual({ docs: 'file', sentenceRule: SENTENCE_RULE_VERSION });
  });
});

describe('the document rule through rnn export and rnn import', () => {
  /** Lines of a --docs line corpus: each one document, no line break in the vocabulary. */
  const LINES = Array.from({ length: 40 }, (_, i) => ['the cat sat on the mat', 'a dog ran', 'we sat and ran on'][i % 3]).join('\n') + '\n';

  /** `rnn eval perplexity`'s loss of the text file `text` under the checkpoint `ckpt`. */
  const lossOf = async (ckpt: string, text: string): Promise<number> => {
    const run = await rnnIn(dir, ['eval', 'perplexity', '--checkpoint', ckpt, text, '--json']);
    expect(run.status, run.stderr).toBe(0);
    return (JSON.parse(run.stdout) as { loss: number }).loss;
  };

  /**
   * `ckpt` exported as rnn-state/1 JSON and as safetensors, and each imported: the checkpoints written, each of which must
   * read `text` to the loss the original gives it, bit for bit, and the config exported.
   */
  const roundTrip = async (ckpt: string, name: string, text: string): Promise<{ imported: string[]; config: Record<string, unknown> }> => {
    const imported = ['json', 'safetensors'].map((format) => {
      const exported = join(dir, `${name}-export.${format}`), back = join(dir, `${name}-import-${format}.json`);
      exportState(ckpt, exported);
      importState(exported, back, ['rnn', 'import'], true);
      return back;
    });
    const [original, ...losses] = await Promise.all([ckpt, ...imported].map((path) => lossOf(path, text)));
    expect(losses).toEqual([original, original]);
    // exported again, an imported model writes the file it was imported from
    exportState(imported[0]!, join(dir, `${name}-again.json`));
    expect(readFileSync(join(dir, `${name}-again.json`), 'utf8')).toBe(readFileSync(join(dir, `${name}-export.json`), 'utf8'));
    return { imported, config: (JSON.parse(readFileSync(join(dir, `${name}-export.json`), 'utf8')) as { config: Record<string, unknown> }).config };
  };

  it('a --docs line model, imported, reads a line break as <EOS> as the original does, not as <UNK>', async () => {
    const corpus = join(dir, 'lines.txt');
    writeFileSync(corpus, LINES);
    const trained = await rnnIn(dir, ['train', corpus, '--docs', 'line', ...TINY_RUN, '--max-steps', '2', '--out', join(dir, 'lines-run')]);
    expect(trained.status, trained.stderr).toBe(0);
    const ckpt = join(dir, 'lines-run', 'latest.json');
    expect(recordedDocuments(loadCheckpoint(ckpt)).docs).toBe('line');
    const { imported, config } = await roundTrip(ckpt, 'lines', corpus);
    expect([config['docs'], 'sentence_rule' in config]).toEqual(['line', false]);
    for (const back of imported) expect(recordedDocuments(loadCheckpoint(back)).docs).toBe('line');
    const info = await rnnIn(dir, ['info', imported[0]!]);
    expect(info.stdout).toMatch(/^corpus +none recorded \(imported model\); it reads a text as docs line$/m);
    // the sentence rules' version is said only of a model that cuts sentences: the same for the original and its import
    for (const path of [ckpt, imported[0]!]) {
      const json = await rnnIn(dir, ['info', path, '--json']);
      expect((JSON.parse(json.stdout) as { documents: unknown }).documents, path).toEqual({ docs: 'line' });
    }
  }, 60_000);

  it('a --docs sentence model keeps the sentence rules it was cut by (version 1: fixtures/sentence-rule-1)', async () => {
    const fixture = join(ROOT, 'test', 'fixtures', 'sentence-rule-1');
    expect(recordedDocuments(loadCheckpoint(join(fixture, 'step3.json')))).toEqual({ docs: 'sentence', sentenceRule: 1 });
    // its corpus cuts into other sentences under version 2
    const { imported, config } = await roundTrip(join(fixture, 'step3.json'), 'sentences', join(fixture, 'corpus.txt'));
    expect([config['docs'], config['sentence_rule']]).toEqual(['sentence', 1]);
    for (const back of imported) expect(recordedDocuments(loadCheckpoint(back))).toEqual({ docs: 'sentence', sentenceRule: 1 });
    const info = await rnnIn(dir, ['info', imported[1]!, '--json']);
    expect((JSON.parse(info.stdout) as { documents: unknown }).documents).toEqual({ docs: 'sentence', sentenceRule: 1 });
  }, 60_000);
});

describe('a JSON file that is no model rnn reads', () => {
  const checkpoint = (): string => {
    const state = join(dir, 'to-check.json'), out = join(dir, 'checkpoint.json');
    writeFileSync(state, JSON.stringify(toInteropState(CONFIG, MODEL.vocab, MODEL.params)));
    importState(state, out, ['rnn', 'import'], true);
    return readFileSync(out, 'utf8');
  };
  const others: [string, () => string, string][] = [
    ['another version', () => '{"format":"rnn-checkpoint/2"}', 'format is "rnn-checkpoint/2"'],
    ['no format', () => '{}', 'format is missing'],
    ['null', () => 'null', 'is null'],
    ['an array', () => '[1,2]', 'is an array of 2'],
    ["a prepared folder's meta.json", () => '{"format":"rnn-prepared/1","level":"char"}', 'format is "rnn-prepared/1" (a prepared folder\'s meta.json)'],
  ];

  it.each(others)('--init-from says what it reads, for %s', (_, content, holds) => {
    const path = join(dir, 'other.json');
    writeFileSync(path, content());
    const error = thrownBy(() => readModelFile(path), CheckpointError);
    expect(error.message).toBe(`${path}: ${holds}, expected a checkpoint (rnn-checkpoint/1), an rnn-state/1 file or a .safetensors file`);
  });

  it('rnn import says what it reads, for a text', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'First Citizen:\nBefore we proceed any further, hear me speak.\n');
    expect(() => importState(text, join(dir, 'notes.checkpoint.json'), ['rnn', 'import'], true))
      .toThrow(/^\S+notes\.txt is not JSON: [^\n]+; expected an rnn-state\/1 file or a \.safetensors file$/);
  });

  it.each([...others, ['a checkpoint', checkpoint, 'format is "rnn-checkpoint/1" (a checkpoint already)'] as const])(
    'rnn import says what it reads, for %s', (_, content, holds) => {
      expect(importError('other.json', content())).toBe(`${holds}, expected an rnn-state/1 file or a .safetensors file`);
    });

  it('rnn import says a checkpoint is one where a fixture wraps it in its state, as where it is the file', () => {
    expect(importError('wrapped.json', `{"state":${checkpoint()}}`))
      .toBe('state: format is "rnn-checkpoint/1", expected "rnn-state/1" (a checkpoint already)');
  });
});

describe('rnn import: the name of --out', () => {
  it.each(['q3.safetensors', 'Q3.SafeTensors'])('refuses to write a checkpoint named %s, writing nothing', (name) => {
    const state = join(dir, 'import-me.json');
    writeFileSync(state, JSON.stringify(toInteropState(CONFIG, MODEL.vocab, MODEL.params)));
    const out = join(dir, name);
    const error = thrownBy(() => importState(state, out, ['rnn', 'import'], true), SettingError);
    expect(error.messageNaming((setting) => `--${setting}`)).toBe(
      `--out ${out} names a .safetensors file, and rnn import writes a checkpoint, JSON (a file named *.safetensors is read as safetensors): ` +
        'name it *.json');
    expect(existsSync(out)).toBe(false);
  });
});

describe('rnn export: the format of --out', () => {
  let checkpoint: string;
  beforeAll(() => {
    writeFileSync(join(dir, 'model.safetensors'), toSafetensors(MODEL));
    checkpoint = join(dir, 'model.json');
    importState(join(dir, 'model.safetensors'), checkpoint, ['rnn', 'import'], true);
  });

  it('writes safetensors to a .safetensors file without --format, and rnn-state/1 JSON elsewhere', () => {
    exportState(checkpoint, join(dir, 'out.SafeTensors'));
    const back = fromSafetensors(readFileSync(join(dir, 'out.SafeTensors')), 'out.SafeTensors');
    expect(back.params).toEqual(MODEL.params);
    exportState(checkpoint, join(dir, 'out.txt'));
    expect((JSON.parse(readFileSync(join(dir, 'out.txt'), 'utf8')) as { format: string }).format).toBe('rnn-state/1');
  });

  it.each([
    ['torch', 'x.safetensors', /format torch writes rnn-state\/1 JSON, and (--)?out .*x\.safetensors names a \.safetensors file/],
    ['safetensors', 'x.json', /format safetensors writes a \.safetensors file, and (--)?out .*x\.json is not one/],
  ] as const)('refuses --format %s with --out %s, writing nothing', (format, name, message) => {
    const out = join(dir, name);
    const error = thrownBy(() => exportState(checkpoint, out, format), SettingError);
    expect(error.message).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });
});

describe('rnn export onto the model train_ddp.py trained', () => {
  it('is refused, the model left as it was; beside neither its summary.json nor its run\'s state.pt, an earlier export is replaced', () => {
    const run = join(dir, 'ddp-result');
    mkdirSync(run, { recursive: true });
    const trained = join(run, 'model.safetensors');
    const torchModel = { ...MODEL, params: initParams(CONFIG, new Rng(11)) };
    writeFileSync(trained, toSafetensors(torchModel));
    writeFileSync(join(run, 'summary.json'), '{"steps": []}\n');
    const checkpoint = join(dir, 'to-export.json');
    importState(join(run, 'model.safetensors'), checkpoint, ['rnn', 'import'], true);
    writeFileSync(trained, toSafetensors(MODEL));
    const before = readFileSync(trained);
    const error = thrownBy(() => exportState(checkpoint, trained), SettingError);
    expect(error.messageNaming((setting) => `--${setting}`)).toBe(
      `--out ${trained} is the model examples/pytorch/train_ddp.py trained (its summary.json beside it), not an earlier export, ` +
        'so an export would lose it: choose another file for the export');
    expect(readFileSync(trained).equals(before)).toBe(true);
    // a link to it leads the export there, so it is refused as the model itself is
    symlinkSync(trained, join(dir, 'ddp-link.safetensors'));
    expect(thrownBy(() => exportState(checkpoint, join(dir, 'ddp-link.safetensors')), SettingError).message)
      .toContain('is the model examples/pytorch/train_ddp.py trained');
    expect(readFileSync(trained).equals(before)).toBe(true);
    rmSync(join(run, 'summary.json'));
    // the run's saved state beside it (its --resume) shows it to be that run's model as its summary.json does
    writeFileSync(join(run, 'state.pt'), 'the run saved by torch.save');
    expect(thrownBy(() => exportState(checkpoint, trained), SettingError).messageNaming((setting) => `--${setting}`)).toBe(
      `--out ${trained} is the model examples/pytorch/train_ddp.py trained (its state.pt beside it), not an earlier export, ` +
        'so an export would lose it: choose another file for the export');
    expect(readFileSync(trained).equals(before)).toBe(true);
    rmSync(join(run, 'state.pt'));
    exportState(checkpoint, trained);
    expect(fromSafetensors(readFileSync(trained), trained).params).toEqual(torchModel.params);
  });
});

describe('rnn import given a folder', () => {
  /** What importState says of the folder `input`, writing nothing. */
  function folderError(input: string): string {
    const out = join(dir, 'from-folder.json');
    const error = thrownBy(() => importState(input, out, ['rnn', 'import'], true), CheckpointError);
    expect(existsSync(out)).toBe(false);
    return error.message;
  }

  it('names the model file a train_ddp.py --out holds, which it then imports', () => {
    const run = join(dir, 'ddp-run');
    mkdirSync(run, { recursive: true });
    writeFileSync(join(run, 'model.safetensors'), toSafetensors(MODEL));
    writeFileSync(join(run, 'summary.json'), '{"steps": []}\n');
    expect(folderError(run)).toBe(`${run} is a folder, not a model file: name ${join(run, 'model.safetensors')}`);
    importState(join(run, 'model.safetensors'), join(dir, 'from-ddp.json'), ['rnn', 'import'], true);
    expect(loadCheckpoint(join(dir, 'from-ddp.json')).config.model.hiddenSize).toBe(CONFIG.hiddenSize);
  });

  it('names what it reads where the folder holds no model file', () => {
    const empty = join(dir, 'no-model');
    mkdirSync(empty, { recursive: true });
    expect(folderError(empty)).toBe(`${empty} is a folder, not a model file: name an rnn-state/1 file or a .safetensors file`);
  });
});

describe('a safetensors file named otherwise (model.st, weights.bin)', () => {
  const rename = 'name it *.safetensors (rnn import reads a file by its name)';

  it('rnn import says to rename it, not that its bytes are not UTF-8', () => {
    const path = join(dir, 'weights.bin');
    writeFileSync(path, toSafetensors(MODEL));
    const out = join(dir, 'misnamed-out.json');
    expect(thrownBy(() => importState(path, out, ['rnn', 'import'], true), CheckpointError).message)
      .toBe(`${path} is a safetensors file, read as one only where named so: ${rename}`);
    expect(existsSync(out)).toBe(false);
  });

  it('--init-from says the same', () => {
    const path = join(dir, 'model.st');
    writeFileSync(path, toSafetensors(MODEL));
    expect(thrownBy(() => readModelFile(path), CheckpointError).message)
      .toBe(`${path} is a safetensors file, read as one only where named so: ${rename}`);
  });
});

describe('rnn import given a path that names nothing', () => {
  function notFound(input: string): string {
    return thrownBy(() => importState(input, join(dir, 'from-nothing.json'), ['rnn', 'import'], true), CheckpointError).message;
  }

  it('ends a path not found as sample, eval and info end theirs: its likely cause where one is known, else what it reads', () => {
    const folder = join(dir, 'forms');
    mkdirSync(folder, { recursive: true });
    const decomposed = join(folder, 'mode\u0301l.json'), composed = join(folder, 'mod\u00e9l.json');
    writeFileSync(decomposed, '{}');
    expect(notFound(composed)).toBe(`model file not found: ${composed}; ${JSON.stringify(decomposed)} is there, the same but for ` +
      "its Unicode form (NFD, where the path given is NFC): name it as it is written there (as a shell's Tab completes it)");
    const link = join(folder, 'moved.safetensors');
    symlinkSync('gone.safetensors', link);
    expect(notFound(link)).toBe(`model file not found: ${link} (a link to gone.safetensors, which is not there); ` +
      'name an rnn-state/1 file or a .safetensors file');
  });
});

describe('rnn import on the command line', () => {
  it('says what it wrote, its vocabulary counted with separators as every other count', async () => {
    const config: ModelConfig = { ...CONFIG, vocabSize: 1002 };
    const vocab = ['<EOS>', '<UNK>', ...Array.from({ length: 1000 }, (_, i) => String.fromCodePoint(0x4e00 + i))];
    writeFileSync(join(dir, 'wide.json'), JSON.stringify(toInteropState(config, vocab, initParams(config, new Rng(3)))));
    const run = await rnnIn(dir, ['import', 'wide.json', '--out', 'wide-checkpoint.json']);
    expect([run.status, run.stderr]).toEqual([0, '']);
    expect(run.stdout).toBe('wrote wide-checkpoint.json (gru, 2×4, 1,002-token vocabulary)\n');
  });

  // three CLI processes at once: each a Node start, together beyond vitest's 5 s default on a loaded machine
  it('refuses a path that names no file, or a folder with no model file, in one line saying what it reads', async () => {
    mkdirSync(join(dir, 'a-folder'), { recursive: true });
    const reads = 'name an rnn-state/1 file or a \\.safetensors file';
    const [json, safetensors, folder] = await Promise.all(['no-such.json', 'no-such.safetensors', 'a-folder'].map((input) =>
      rnnIn(dir, ['import', input, '--out', 'x.json'])));
    expectOneLineError(json!, new RegExp(`^rnn: model file not found: no-such\\.json; ${reads}$`));
    expectOneLineError(safetensors!, new RegExp(`^rnn: model file not found: no-such\\.safetensors; ${reads}$`));
    expectOneLineError(folder!, new RegExp(`^rnn: a-folder is a folder, not a model file: ${reads}$`));
    expect(existsSync(join(dir, 'x.json'))).toBe(false);
  });
});

describe('an import older than the model file beside it, named itself', () => {
  it('is refused by the commands that read it, in one line naming both files and the import to run again', async () => {
    const out = join(dir, 'ddp-out');
    mkdirSync(out);
    writeFileSync(join(out, 'model.safetensors'), toSafetensors(MODEL));
    importState(join(out, 'model.safetensors'), join(out, 'model.checkpoint.json'), ['rnn', 'import'], false);
    // a second train_ddp.py run into the same --out, after the import of the first
    utimesSync(join(out, 'model.checkpoint.json'), new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(join(out, 'model.safetensors'), new Date(2026, 0, 2), new Date(2026, 0, 2));
    writeFileSync(join(dir, 'more.txt'), 'abcabc\n'.repeat(50));
    const runs = await Promise.all([
      ['sample', '--checkpoint', 'ddp-out/model.checkpoint.json', '--len', '5'],
      ['eval', 'perplexity', '--checkpoint', 'ddp-out/model.checkpoint.json', '--text', 'abc'],
      ['train', 'more.txt', '--init-from', 'ddp-out/model.checkpoint.json', '--max-steps', '1', '--out', 'tuned'],
    ].map((args) => rnnIn(dir, args)));
    for (const run of runs) {
      expectOneLineError(run, new RegExp('^rnn: ddp-out/model\\.checkpoint\\.json is an imported checkpoint older than the model file beside it, ' +
        'ddp-out/model\\.safetensors \\(an import of an earlier model\\): convert it again with ' +
        '`rnn import ddp-out/model\\.safetensors --out ddp-out/model\\.checkpoint\\.json --force`$'));
    }
    expect(existsSync(join(dir, 'tuned'))).toBe(false);
  });

  it('is refused where it was imported from rnn-state/1 JSON beside it (X.json → X.checkpoint.json) that is newer', async () => {
    const out = join(dir, 'tuned-out');
    mkdirSync(out);
    writeFileSync(join(out, 'model.json'), JSON.stringify(toInteropState(CONFIG, MODEL.vocab, MODEL.params)));
    importState(join(out, 'model.json'), join(out, 'model.checkpoint.json'), ['rnn', 'import'], false);
    // the weights PyTorch wrote again after fine-tuning once more
    utimesSync(join(out, 'model.checkpoint.json'), new Date(2026, 0, 1), new Date(2026, 0, 1));
    utimesSync(join(out, 'model.json'), new Date(2026, 0, 2), new Date(2026, 0, 2));
    const runs = await Promise.all([
      ['sample', '--checkpoint', 'tuned-out/model.checkpoint.json', '--len', '5'],
      ['info', 'tuned-out/model.checkpoint.json'],
    ].map((args) => rnnIn(dir, args)));
    for (const run of runs) {
      expectOneLineError(run, new RegExp('^rnn: tuned-out/model\\.checkpoint\\.json is an imported checkpoint older than the model file beside it, ' +
        'tuned-out/model\\.json \\(an import of an earlier model\\): convert it again with ' +
        '`rnn import tuned-out/model\\.json --out tuned-out/model\\.checkpoint\\.json --force`$'));
    }
  });
});
