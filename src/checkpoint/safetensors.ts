import { z } from 'zod';
import { paramLayout } from '../engine/params.js';
import { plural } from '../input/counts.js';
import { describeValue } from '../input/issues.js';
import { utf8Fault } from '../text/utf8.js';
import { CheckpointError, formatShape, isJsonObject, sameShape } from './errors.js';
import { count, tensorShape } from './fields.js';
import { type CheckpointShape, INTEROP_FORMAT, type ModelState, checkClaimedModel, foreignTensor, interopConfig, interopModelConfig } from './interop.js';
import { readFilePart } from './files.js';
import { checkVocab } from './vocab.js';

/*
 * The safetensors format (https://github.com/huggingface/safetensors): an 8-byte little-endian
 * header length N, N bytes of JSON header, then the tensors' raw bytes. The header maps each
 * tensor's name to its dtype, shape and [begin, end) byte offsets into the data, and
 * `__metadata__` holds strings: here the format ("rnn-state/1"), and the config and the
 * vocabulary as JSON.
 */

/** A header larger than this is not one this program wrote (it holds a few dozen tensors). */
const MAX_HEADER_BYTES = 100 << 20;
export const METADATA = '__metadata__';

/** The header's decoder: bytes that are not UTF-8 are an error, and a BOM is kept, so that the header is not JSON. */
const HEADER_TEXT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const HeaderTensorSchema = z.strictObject({
  dtype: z.literal('F32'),
  shape: tensorShape,
  data_offsets: z.tuple([count, count]),
});

/** The model as a safetensors file: every tensor float32 little-endian, named as in rnn-state/1. */
export function toSafetensors(model: ModelState): Buffer {
  const layout = paramLayout(model.config);
  const header: Record<string, unknown> = {
    [METADATA]: {
      format: INTEROP_FORMAT,
      config: JSON.stringify(interopConfig(model.config, model.level, model.wordRule, model.documents, model.spacing)),
      vocab: JSON.stringify(model.vocab),
    },
  };
  for (const spec of layout.specs) {
    header[spec.name] = { dtype: 'F32', shape: [...spec.shape], data_offsets: [4 * spec.offset, 4 * (spec.offset + spec.size)] };
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8); // the data starts 8-byte aligned
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + 4 * layout.total);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  const data = out.subarray(8 + headerBytes.length);
  for (let i = 0; i < model.params.length; i++) data.writeFloatLE(model.params[i]!, 4 * i);
  return out;
}

/** The extension of a safetensors file: rnn reads a model file named so as safetensors, and any other as JSON. */
export const SAFETENSORS_EXTENSION = '.safetensors';
export const isSafetensorsPath = (path: string): boolean => path.toLowerCase().endsWith(SAFETENSORS_EXTENSION);
/** What to do with a safetensors file named otherwise (`model.st`, `weights.bin`), which rnn would read as JSON. */
export const NAME_IT_SAFETENSORS = `name it *${SAFETENSORS_EXTENSION} (rnn import reads a file by its name)`;

/**
 * Whether the file at `path` is a safetensors file named otherwise (NAME_IT_SAFETENSORS): its `bytes` where read whole,
 * else its first bytes alone (startsLikeSafetensors).
 */
export function isMisnamedSafetensors(path: string, bytes?: Buffer): boolean {
  if (isSafetensorsPath(path)) return false;
  if (bytes !== undefined) return startsLikeSafetensors(bytes);
  return startsLikeSafetensors(readFilePart(path, SAFETENSORS_START) ?? Buffer.alloc(0), false);
}

/** The pickle opcodes PROTO 2 and LONG1 of 10 bytes, then torch's legacy magic number 0x1950a86a20f9469cfc6c, little-endian. */
const TORCH_LEGACY_START = Buffer.from('80028a0a6cfc9c46f9206aa85019', 'hex');

/** What rnn says of a file PyTorch wrote after naming it: how to save the weights as rnn reads them instead. */
const SAVE_AS_RNN_READS = `which rnn does not read: save the weights with safetensors, save_file(model.state_dict(), ` +
  `"model${SAFETENSORS_EXTENSION}", metadata=meta), or as ${INTEROP_FORMAT} JSON, as docs/interop.md shows`;

/** Whether `bytes` begin as a zip archive does: a local header's signature, PK\3\4, and the 30 bytes of that header. */
export function startsLikeZip(bytes: Buffer): boolean {
  return bytes.length >= 30 && bytes.readUInt32LE(0) === 0x04034b50;
}

/** What rnn says of a zip archive PyTorch did not write (torchFile), where a model file is read as JSON. */
export const ZIP_NOT_JSON = 'a zip archive, not JSON';

/** The pickle opcodes PROTO 2 and GLOBAL of a class TorchScript compiled, which only torch.jit.save pickles. */
const TORCHSCRIPT_CLASS = '\x80\x02c__torch__.';

/**
 * What `bytes` (a file's, or its first few hundred) are where PyTorch wrote them, with how to save the weights as rnn reads them;
 * null for another file. A zip (its local header: a signature, the first entry's name's length at byte 26, its extra field's at
 * 28, the name at 30, then the extra field and the entry, stored) whose first entry is a tensor, `<archive>/data/0`, is
 * torch.jit.save's (TorchScript), as is one whose first entry is `<archive>/data.pkl` pickling a TorchScript class (a module
 * without tensors); another whose first entry is `<archive>/data.pkl` is torch.save's. A pickle beginning with torch's magic
 * number is torch.save's legacy format.
 */
export function torchFile(bytes: Buffer): string | null {
  if (!startsLikeZip(bytes)) {
    return bytes.subarray(0, TORCH_LEGACY_START.length).equals(TORCH_LEGACY_START) ? `a PyTorch pickle (torch.save), ${SAVE_AS_RNN_READS}` : null;
  }
  const nameEnd = 30 + bytes.readUInt16LE(26);
  const first = bytes.toString('latin1', 30, nameEnd);
  const entry = nameEnd + bytes.readUInt16LE(28);
  const scripted = /^[^/]+\/data\/\d+$/.test(first) ||
    (first.endsWith('/data.pkl') && bytes.toString('latin1', entry, entry + TORCHSCRIPT_CLASS.length) === TORCHSCRIPT_CLASS);
  if (scripted) return `a TorchScript archive (torch.jit.save), ${SAVE_AS_RNN_READS}`;
  return first.endsWith('/data.pkl') ? `a PyTorch pickle (torch.save), ${SAVE_AS_RNN_READS}` : null;
}

/**
 * The `__metadata__.format` of the safetensors file at `path` (`rnn-state/1` where rnn wrote it),
 * its header alone read; null for a file that is not safetensors, or names no format.
 */
export function safetensorsFormatAt(path: string): string | null {
  const size = readFilePart(path, 8);
  if (size === null || size.length < 8) return null;
  const headerLength = size.readBigUInt64LE(0);
  if (headerLength < 2n || headerLength > BigInt(MAX_HEADER_BYTES)) return null;
  try {
    const header: unknown = JSON.parse(HEADER_TEXT.decode(readFilePart(path, Number(headerLength), 8) ?? new Uint8Array()));
    const format = isJsonObject(header) && isJsonObject(header[METADATA]) ? header[METADATA]['format'] : null;
    return typeof format === 'string' ? format : null;
  } catch {
    return null;
  }
}

/** The bytes that show a file is safetensors (startsLikeSafetensors): its header length, and the header's `{`. */
const SAFETENSORS_START = 10;

/**
 * Whether `bytes` begin as a safetensors file does: a header length, within the file where `bytes` are all of it
 * (`whole`), then a JSON object's `{`.
 */
export function startsLikeSafetensors(bytes: Buffer, whole = true): boolean {
  if (bytes.length < SAFETENSORS_START) return false;
  const headerLength = bytes.readBigUInt64LE(0);
  return headerLength >= 2n && (!whole || headerLength <= BigInt(bytes.length - 8)) && bytes[8] === 0x7b;
}

/** The refusal of the safetensors file `source`: `message` about it, after its name. */
function fault(source: string, message: string): never {
  throw new CheckpointError(`${source}: ${message}`);
}

/** The header of a safetensors file's `bytes`, within the file, UTF-8 and a JSON object, and where the data after it starts. */
function readHeader(bytes: Buffer, source: string): { entries: Record<string, unknown>; dataStart: number } {
  if (bytes.length < 8) fault(source, `is ${bytes.length} bytes, too short for a safetensors header`);
  const headerLength = bytes.readBigUInt64LE(0);
  if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, bytes.length - 8))) {
    fault(source, `its header length ${headerLength} runs past the end of the file (${bytes.length} bytes)`);
  }
  const dataStart = 8 + Number(headerLength);
  const headerBytes = bytes.subarray(8, dataStart);
  let headerText = '';
  try {
    headerText = HEADER_TEXT.decode(headerBytes);
  } catch {
    fault(source, `its header is ${utf8Fault(bytes.subarray(0, dataStart), 8)}`);
  }
  let header: unknown;
  try {
    header = JSON.parse(headerText);
  } catch {
    fault(source, 'its header is not JSON');
  }
  if (!isJsonObject(header)) return fault(source, 'its header is not a JSON object');
  return { entries: header, dataStart };
}

/** What a header's `__metadata__` says of the model: its config, level and document rule, and its vocabulary, each checked. */
function metadataModel(entries: Record<string, unknown>, source: string): Omit<ModelState, 'params'> {
  const fail = (message: string): never => fault(source, message);
  const metadata = entries[METADATA];
  if (typeof metadata !== 'object' || metadata === null) {
    return fail(`${METADATA} is missing: it holds the config and the vocabulary ` +
      "(in PyTorch, save_file(model.state_dict(), path, metadata=meta), meta the exported file's: docs/interop.md)");
  }
  const meta = metadata as Record<string, unknown>;
  if (meta['format'] !== INTEROP_FORMAT) {
    fail(`${METADATA}.format is ${meta['format'] === undefined ? 'missing' : describeValue(meta['format'])}, expected "${INTEROP_FORMAT}"`);
  }
  const parseMeta = (key: string): unknown => {
    if (typeof meta[key] !== 'string') return fail(`${METADATA}.${key} is missing, expected a JSON string`);
    try {
      return JSON.parse(meta[key]);
    } catch {
      return fail(`${METADATA}.${key} is not JSON`);
    }
  };
  const { config, level, wordRule, documents, spacing } = interopModelConfig(parseMeta('config'), `${source}: ${METADATA}.config`);
  const vocab = parseMeta('vocab');
  if (!Array.isArray(vocab) || !vocab.every((token) => typeof token === 'string')) fail(`${METADATA}.vocab is not a list of strings`);
  checkVocab(vocab as string[], config.vocabSize, level, source, `${METADATA}.vocab`, 'config.vocab_size');
  return { config, vocab: vocab as string[], level, wordRule, documents, spacing };
}

/**
 * Checks that the tensors' byte spans ([begin, end), each with its tensor's name) cover the data's `dataLength` bytes end
 * to end: sorted by begin, each begins where the one before ends (the first at 0), and the last ends at `dataLength`.
 */
function checkDataCovered(spans: [number, number, string][], dataLength: number, source: string): void {
  const uncovered = (count: number, where: string, rule: string, python: string): never =>
    fault(source, `it holds ${count} ${plural(count, 'byte')} ${where} that no tensor covers: ${rule} (Python's safetensors refuses it too: "${python}")`);
  let covered = 0;
  let previous: string | undefined;
  for (const [begin, end, name] of [...spans].sort((a, b) => a[0] - b[0])) {
    const field = JSON.stringify(name);
    if (begin < covered) fault(source, `${field} overlaps ${previous} in the data`);
    if (begin > covered) {
      uncovered(begin - covered, previous === undefined ? `before the data of ${field}, its first tensor,` : `between the data of ${previous} and ${field}`,
        "a safetensors file's tensors lie end to end from the start of its data", `invalid offset for tensor \`${name}\``);
    }
    covered = end;
    previous = field;
  }
  if (covered < dataLength) {
    uncovered(dataLength - covered, `after the data of ${previous}, its last tensor,`,
      "a safetensors file ends where its last tensor's data does", 'file not fully covered');
  }
}

/**
 * Reads a safetensors file this program (or PyTorch's `safetensors.torch.save_file`, given the
 * metadata) wrote: the header within the file and UTF-8 (never read with U+FFFD in place of a
 * byte), the format rnn-state/1, each tensor F32 with the shape the config gives, the tensors'
 * data end to end from the data's start to the file's end, with no gap or overlap; messages name `source` and the field.
 * Given the `checkpoint` the model goes into, checks that it fits one.
 */
export function fromSafetensors(bytes: Buffer, source: string, checkpoint?: CheckpointShape): ModelState {
  const fail = (message: string): never => fault(source, message);
  const { entries, dataStart } = readHeader(bytes, source);
  const { config, vocab, level, wordRule, documents, spacing } = metadataModel(entries, source);

  const tensorNames = Object.keys(entries).filter((name) => name !== METADATA);
  checkClaimedModel(config, tensorNames, source, `${METADATA}.config.num_layers`, (name) => JSON.stringify(name), checkpoint);

  const layout = paramLayout(config);
  const dataLength = bytes.length - dataStart;
  const foreign = tensorNames.find((name) => !layout.byName.has(name));
  if (foreign !== undefined) fail(`${JSON.stringify(foreign)} ${foreignTensor(foreign, config, layout)}`);
  const spans: [number, number, string][] = [];
  for (const spec of layout.specs) {
    const field = JSON.stringify(spec.name);
    const parsed = HeaderTensorSchema.safeParse(entries[spec.name]);
    const dtype = (entries[spec.name] as { dtype?: unknown } | undefined)?.dtype;
    if (typeof dtype === 'string' && dtype !== 'F32') {
      fail(`${field}.dtype is ${JSON.stringify(dtype)}, expected "F32": rnn reads float32 tensors (in PyTorch, .float() before saving)`);
    }
    if (!parsed.success) {
      return fail(entries[spec.name] === undefined ? `${field} is missing` :
        `${field} must be {dtype: "F32", shape, data_offsets: [begin, end]} (${parsed.error.issues[0]!.message})`);
    }
    const { shape, data_offsets: [begin, end] } = parsed.data;
    if (!sameShape(shape, spec.shape)) fail(`${field}.shape is ${formatShape(shape)}, expected ${formatShape(spec.shape)}`);
    if (begin > end || end > dataLength) fail(`${field}.data_offsets [${begin}, ${end}] fall outside the ${dataLength} bytes of data`);
    if (end - begin !== 4 * spec.size) fail(`${field}.data_offsets span ${end - begin} bytes, expected ${4 * spec.size} (${spec.size} float32)`);
    spans.push([begin, end, spec.name]);
  }
  checkDataCovered(spans, dataLength, source);
  // the tensors lie apart within the data: the buffer is no larger than the file
  const params = new Float32Array(layout.total);
  layout.specs.forEach((spec, i) => {
    const begin = dataStart + spans[i]![0];
    const data = bytes.subarray(begin, begin + 4 * spec.size);
    for (let j = 0; j < spec.size; j++) params[spec.offset + j] = data.readFloatLE(4 * j);
  });
  return { config, vocab, level, wordRule, documents, spacing, params };
}
