import { type ModelConfig, gateCount } from './config.js';

/** One named tensor inside the flat parameter buffer, with PyTorch's name and shape. */
export interface TensorSpec {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each named tensor lies in one flat buffer, in order, and the buffer's length. */
export interface ParamLayout {
  specs: TensorSpec[];
  byName: Map<string, TensorSpec>;
  total: number;
}

/**
 * Every parameter lives in one contiguous Float32Array, in PyTorch's state_dict order:
 * embed.weight, rnn.{weight_ih,weight_hh,bias_ih,bias_hh}_l{k} for each layer, head.weight,
 * head.bias. Gradients and optimizer moments use the same layout.
 */
export function paramLayout(config: ModelConfig): ParamLayout {
  const { vocabSize: V, embedDim: E, hiddenSize: H, numLayers: L } = config;
  const G = gateCount(config.cell) * H;
  const shapes: [string, number[]][] = [['embed.weight', [V, E]]];
  for (let k = 0; k < L; k++) {
    const inputSize = k === 0 ? E : H;
    shapes.push([`rnn.weight_ih_l${k}`, [G, inputSize]]);
    shapes.push([`rnn.weight_hh_l${k}`, [G, H]]);
    shapes.push([`rnn.bias_ih_l${k}`, [G]]);
    shapes.push([`rnn.bias_hh_l${k}`, [G]]);
  }
  shapes.push(['head.weight', [V, H]], ['head.bias', [V]]);
  return tensorLayout(shapes);
}

/** Named views into a flat buffer (parameters, gradients or moments) of the given layout. */
export function tensorViews<T extends Float32Array | Float64Array>(layout: ParamLayout, buffer: T): Map<string, T> {
  return new Map(layout.specs.map((s) => [s.name, buffer.subarray(s.offset, s.offset + s.size) as T]));
}

/** The layout of named tensors laid end to end in one flat buffer, in the order given. */
export function tensorLayout(shapes: readonly (readonly [string, readonly number[]])[]): ParamLayout {
  let offset = 0;
  const specs = shapes.map(([name, shape]): TensorSpec => {
    const size = shape.reduce((a, b) => a * b, 1);
    offset += size;
    return { name, shape: [...shape], offset: offset - size, size };
  });
  return { specs, byName: new Map(specs.map((s) => [s.name, s])), total: offset };
}
