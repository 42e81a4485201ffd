import { z } from 'zod';
import type { ModelConfig } from '../engine/config.js';
import { type ParamLayout, type TensorSpec, tensorLayout } from '../engine/params.js';
import { CheckpointError, formatShape, sameShape } from './errors.js';
import { tensorShape } from './fields.js';

const TENSOR_ENCODING = 'f32le-base64';

const EncodedTensorSchema = z.object({
  shape: tensorShape,
  data: z.string(),
});

/** Named tensors as base64 of their float32 little-endian bytes: exact, and a third larger than binary. */
export const EncodedTensorsSchema = z.object({
  encoding: z.literal(TENSOR_ENCODING),
  tensors: z.record(z.string(), EncodedTensorSchema),
});

type EncodedTensor = z.infer<typeof EncodedTensorSchema>;
export type EncodedTensors = z.infer<typeof EncodedTensorsSchema>;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function float32Bytes(values: Float32Array): Buffer {
  if (LITTLE_ENDIAN) return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
  const bytes = Buffer.alloc(values.byteLength);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  values.forEach((x, i) => view.setFloat32(i * 4, x, true));
  return bytes;
}

function readFloat32(bytes: Buffer, into: Float32Array): void {
  if (LITTLE_ENDIAN) {
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(bytes);
    return;
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < into.length; i++) into[i] = view.getFloat32(i * 4, true);
}

/**
 * The float32 bytes of the tensor `spec` as `tensor` encodes them, checked: there, of its shape, base64 of its size in
 * bytes; messages name `source` and the tensor's field `at`.
 */
function tensorBytes(spec: TensorSpec, tensor: EncodedTensor | undefined, source: string, at: string): Buffer {
  if (!tensor) throw new CheckpointError(`${source}: ${at} is missing`);
  if (!sameShape(tensor.shape, spec.shape)) {
    throw new CheckpointError(`${source}: ${at}.shape is ${formatShape(tensor.shape)}, expected ${formatShape(spec.shape)}`);
  }
  const bytes = Buffer.from(tensor.data, 'base64');
  // Node's base64 decoder skips what it cannot read, so only a canonical re-encoding proves the text was base64
  if (bytes.toString('base64') !== tensor.data) throw new CheckpointError(`${source}: ${at}.data is not base64`);
  if (bytes.length !== spec.size * 4) {
    throw new CheckpointError(
      `${source}: ${at}.data decodes to ${bytes.length} bytes, expected ${spec.size * 4} bytes (${spec.size} float32)`,
    );
  }
  return bytes;
}

function checkNames(layout: ParamLayout, encoded: EncodedTensors, source: string, field: string): void {
  for (const name of Object.keys(encoded.tensors)) {
    if (!layout.byName.has(name)) {
      throw new CheckpointError(`${source}: ${field}.tensors[${JSON.stringify(name)}] is not a tensor of this model`);
    }
  }
}

const tensorField = (field: string, spec: TensorSpec): string => `${field}.tensors[${JSON.stringify(spec.name)}]`;

/** Every tensor of a flat buffer (parameters or optimizer moments) in the given layout. */
export function encodeTensors(layout: ParamLayout, buffer: Float32Array): EncodedTensors {
  if (buffer.length !== layout.total) {
    throw new RangeError(`tensor buffer has ${buffer.length} values, the layout needs ${layout.total}`);
  }
  const tensors: Record<string, EncodedTensor> = {};
  for (const spec of layout.specs) {
    const values = buffer.subarray(spec.offset, spec.offset + spec.size);
    tensors[spec.name] = { shape: [...spec.shape], data: float32Bytes(values).toString('base64') };
  }
  return { encoding: TENSOR_ENCODING, tensors };
}

/**
 * The flat buffer back from its encoding, bit for bit, checked: `encoded` holds exactly the layout's tensors, with their
 * shapes and byte counts; messages name `source` and the tensor under `field` (e.g. `weights.tensors["head.bias"]`).
 */
export function decodeTensors(layout: ParamLayout, encoded: EncodedTensors, source: string, field: string): Float32Array {
  checkNames(layout, encoded, source, field);
  const buffer = new Float32Array(layout.total);
  for (const spec of layout.specs) {
    const bytes = tensorBytes(spec, encoded.tensors[spec.name], source, tensorField(field, spec));
    readFloat32(bytes, buffer.subarray(spec.offset, spec.offset + spec.size));
  }
  return buffer;
}

/** The layout of the carried training state: `h` [L, B, H], and `c` [L, B, H] for an LSTM. */
export function carriedStateLayout(model: ModelConfig, batchSize: number): ParamLayout {
  const shape = [model.numLayers, batchSize, model.hiddenSize];
  return tensorLayout(model.cell === 'lstm' ? [['h', shape], ['c', shape]] : [['h', shape]]);
}
