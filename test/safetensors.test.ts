import { describe, expect, it } from 'vitest';
import { CheckpointError } from '../src/checkpoint/errors.js';
import { fromInteropState, toInteropState } from '../src/checkpoint/interop.js';
import { fromSafetensors, toSafetensors } from '../src/checkpoint/safetensors.js';
import type { ModelConfig } from '../src/engine/config.js';
import { initParams } from '../src/engine/model.js';
import { paramLayout } from '../src/engine/params.js';
import { Rng } from '../src/engine/random.js';
import { WHOLE_TEXTS } from '../src/text/documents.js';
import { WORD_RULE_VERSION } from '../src/text/words.js';

const CONFIG: ModelConfig = { cell: 'lstm', vocabSize: 5, embedDim: 3, hiddenSize: 4, numLayers: 2, dropout: 0 };
const MODEL = { config: CONFIG, vocab: ['<EOS>', '<UNK>', 'a', 'b', 'c'], level: 'char' as const, wordRule: WORD_RULE_VERSION, documents: WHOLE_TEXTS, params: initParams(CONFIG, new Rng(3)) };

type Header = Record<string, { dtype?: string; shape?: number[]; data_offsets?: [number, number] }>;

/** The file split as the safetensors format defines it: header length, header, data. */
function parts(bytes: Buffer): { header: Header; data: Buffer } {
  const length = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as never, data: bytes.subarray(8 + length) };
}

/** The file again with its header edited. */
function withHeader(bytes: Buffer, edit: (header: Header) => void): Buffer {
  const { header, data } = parts(bytes);
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

/** The file again with `count` zero bytes put into its data at `at`, the offsets of the tensors from there on moved past them. */
function withGap(bytes: Buffer, at: number, count: number): Buffer {
  const gapped = withHeader(bytes, (h) => {
    for (const [name, entry] of Object.entries(h)) {
      if (name !== '__metadata__' && entry.data_offsets![0] >= at) entry.data_offsets = [entry.data_offsets![0] + count, entry.data_offsets![1] + count];
    }
  });
  const dataStart = gapped.length - parts(bytes).data.length;
  return Buffer.concat([gapped.subarray(0, dataStart + at), Buffer.alloc(count), gapped.subarray(dataStart + at)]);
}

/** Where the vocabulary's last token, "c", lies in the file: a lone 0xFF byte there, read as U+FFFD, would still be in code-point order. */
const LAST_TOKEN_AT = toSafetensors(MODEL).indexOf('\\"c\\"]') + 2;

const errorOf = (bytes: Buffer): string => {
  try {
    fromSafetensors(bytes, 'model.safetensors');
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('safetensors', () => {
  it('writes the format: little-endian header length, F32 tensors named as in rnn-state/1, aligned raw data, metadata strings', () => {
    const bytes = toSafetensors(MODEL);
    const { header, data } = parts(bytes);
    expect(Number(bytes.readBigUInt64LE(0)) % 8).toBe(0);
    const layout = paramLayout(CONFIG);
    expect(Object.keys(header).filter((k) => k !== '__metadata__')).toEqual(layout.specs.map((s) => s.name));
    for (const spec of layout.specs) {
      const entry = header[spec.name]!;
      expect(entry).toEqual({ dtype: 'F32', shape: spec.shape, data_offsets: [4 * spec.offset, 4 * (spec.offset + spec.size)] });
    }
    // every value little-endian float32, in the layout's row-major order
    expect(data.length).toBe(4 * layout.total);
    expect(Array.from({ length: layout.total }, (_, i) => data.readFloatLE(4 * i))).toEqual(Array.from(MODEL.params));
    const metadata = header['__metadata__'] as unknown as Record<string, string>;
    expect(metadata['format']).toBe('rnn-state/1'); // the literal docs/interop.md gives PyTorch's side
    expect(JSON.parse(metadata['config']!)).toEqual({ cell: 'lstm', vocab_size: 5, embed_dim: 3, hidden_size: 4, num_layers: 2 });
    expect(JSON.parse(metadata['vocab']!)).toEqual(MODEL.vocab);
  });

  it('reads back what it writes, bit for bit', () => {
    const back = fromSafetensors(toSafetensors(MODEL), 'model.safetensors');
    expect(back.config).toEqual(CONFIG);
    expect(back.vocab).toEqual(MODEL.vocab);
    expect(Array.from(new Uint32Array(back.params.buffer))).toEqual(Array.from(new Uint32Array(MODEL.params.buffer)));
  });

  it('reads each tensor from where its data_offsets say: tensors laid out in another order than rnn writes them', () => {
    const { header, data } = parts(toSafetensors(MODEL));
    const names = Object.keys(header).filter((name) => name !== '__metadata__').reverse();
    let at = 0;
    const spans = names.map((name) => {
      const [begin, end] = header[name]!.data_offsets!;
      header[name]!.data_offsets = [at, at + end - begin];
      at += end - begin;
      return data.subarray(begin, end);
    });
    const json = Buffer.from(JSON.stringify(header));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(json.length));
    const back = fromSafetensors(Buffer.concat([length, json, ...spans]), 'model.safetensors');
    expect(Array.from(new Uint32Array(back.params.buffer))).toEqual(Array.from(new Uint32Array(MODEL.params.buffer)));
  });

  it("keeps a model's dropout, in safetensors and rnn-state/1 alike, and writes none for a model without", () => {
    const dropped = { ...MODEL, config: { ...CONFIG, dropout: 0.25 } };
    const metadata = parts(toSafetensors(dropped)).header['__metadata__'] as unknown as Record<string, string>;
    expect(JSON.parse(metadata['config']!)).toMatchObject({ dropout: 0.25 });
    expect(fromSafetensors(toSafetensors(dropped), 'model.safetensors').config).toEqual(dropped.config);
    const state = JSON.parse(JSON.stringify(toInteropState(dropped.config, MODEL.vocab, MODEL.params))) as unknown;
    expect(fromInteropState(state, 'state.json').config).toEqual(dropped.config);
    expect(toInteropState(CONFIG, MODEL.vocab, MODEL.params).config).not.toHaveProperty('dropout');
  });

  it.each([
    ['a header past the end', (b: Buffer) => {
      const copy = Buffer.from(b);
      copy.writeBigUInt64LE(BigInt(b.length), 0);
      return copy;
    }, /header length \d+ runs past the end of the file/],
    ['offsets out of range', (b: Buffer) => withHeader(b, (h) => {
      h['head.bias']!.data_offsets = [1e6, 1e6 + 20];
    }), /"head\.bias"\.data_offsets \[1000000, 1000020\] fall outside the \d+ bytes of data/],
    ['overlapping tensors', (b: Buffer) => withHeader(b, (h) => {
      h['head.bias']!.data_offsets = [0, 20];
    }), /overlaps "embed\.weight" in the data/],
    ['a shape that disagrees with the config', (b: Buffer) => withHeader(b, (h) => {
      h['rnn.weight_hh_l1']!.shape = [16, 5];
    }), /"rnn\.weight_hh_l1"\.shape is \[16,5\], expected \[16,4\]/],
    ['another dtype', (b: Buffer) => withHeader(b, (h) => {
      h['head.bias']!.dtype = 'F16';
    }), /"head\.bias"\.dtype is "F16", expected "F32": rnn reads float32 tensors \(in PyTorch, \.float\(\) before saving\)$/],
    ['a dtype of double precision', (b: Buffer) => withHeader(b, (h) => {
      h['rnn.weight_ih_l0']!.dtype = 'F64';
    }), /"rnn\.weight_ih_l0"\.dtype is "F64", expected "F32": rnn reads float32 tensors/],
    ['a missing tensor', (b: Buffer) => withHeader(b, (h) => {
      delete h['rnn.bias_ih_l0'];
    }), /"rnn\.bias_ih_l0" is missing/],
    ['no metadata', (b: Buffer) => withHeader(b, (h) => {
      delete h['__metadata__'];
    }), /: __metadata__ is missing: it holds the config and the vocabulary \(in PyTorch, save_file\(model\.state_dict\(\), path, metadata=meta\), meta the exported file's: docs\/interop\.md\)$/],
    ['a truncated file', (b: Buffer) => b.subarray(0, 5), /too short for a safetensors header/],
    ['bytes after the last tensor', (b: Buffer) => Buffer.concat([b, Buffer.alloc(12)]),
      /: it holds 12 bytes after the data of "head\.bias", its last tensor, that no tensor covers: a safetensors file ends where its last tensor's data does \(Python's safetensors refuses it too: "file not fully covered"\)$/],
    ['bytes before the first tensor', (b: Buffer) => withGap(b, 0, 8),
      /: it holds 8 bytes before the data of "embed\.weight", its first tensor, that no tensor covers: a safetensors file's tensors lie end to end from the start of its data \(Python's safetensors refuses it too: "invalid offset for tensor `embed\.weight`"\)$/],
    ['bytes between two tensors', (b: Buffer) => withGap(b, parts(b).header['rnn.weight_hh_l0']!.data_offsets![0], 12),
      /: it holds 12 bytes between the data of "rnn\.weight_ih_l0" and "rnn\.weight_hh_l0" that no tensor covers: .* "invalid offset for tensor `rnn\.weight_hh_l0`"\)$/],
    ['a byte between two tensors', (b: Buffer) => withGap(b, parts(b).header['head.bias']!.data_offsets![0], 1),
      /: it holds 1 byte between the data of "head\.weight" and "head\.bias" that no/],
    ['a byte after the last tensor', (b: Buffer) => Buffer.concat([b, Buffer.alloc(1)]), /: it holds 1 byte after the data of "head\.bias", its last tensor, that no/],
    ['another format', (b: Buffer) => withHeader(b, (h) => {
      (h['__metadata__'] as unknown as Record<string, string>)['format'] = 'rnn-state/2';
    }), /: __metadata__\.format is "rnn-state\/2", expected "rnn-state\/1"$/],
    ['no format', (b: Buffer) => withHeader(b, (h) => {
      delete (h['__metadata__'] as unknown as Record<string, string>)['format'];
    }), /: __metadata__\.format is missing, expected "rnn-state\/1"$/],
    ['a header that is not UTF-8', (b: Buffer) => {
      const copy = Buffer.from(b);
      copy[LAST_TOKEN_AT] = 0xff;
      return copy;
    }, new RegExp(`: its header is not valid UTF-8 at byte offset ${LAST_TOKEN_AT} \\(line 1, byte 0xFF\\)$`)],
  ])('refuses %s with one line naming the file', (_name, damage, message) => {
    const text = errorOf(damage(toSafetensors(MODEL)));
    expect(text).toMatch(/^model\.safetensors: /);
    expect(text).toMatch(message);
    expect(text).not.toContain('\n');
  });
});
