/**
 * WebAssembly modules of one function, written byte by byte: the probes that ask whether this
 * runtime runs an instruction (./wasm.ts), and the bench's SIMD peak (bench/simd-peak.ts).
 */

/** Value types. */
export const I32 = 0x7f, F32 = 0x7d, V128 = 0x7b;

/** Unsigned LEB128, WebAssembly's encoding of sizes, counts, and opcodes past a byte. */
function leb(value: number): number[] {
  const bytes: number[] = [];
  do {
    const low = value & 0x7f;
    value >>>= 7;
    bytes.push(value === 0 ? low : low | 0x80);
  } while (value !== 0);
  return bytes;
}

/** A SIMD instruction: the 0xfd prefix, then its opcode. */
export function simdOp(opcode: number): number[] {
  return [0xfd, ...leb(opcode)];
}

export interface OneFunction {
  params?: number[];
  results?: number[];
  /** Locals after the params, in groups of one type: [count, type]. */
  locals?: [number, number][];
  /** The body's instructions, without the final `end`. */
  code: number[];
  /** The name it is exported as; none exports nothing. */
  exportAs?: string;
}

function section(id: number, content: number[]): number[] {
  return [id, ...leb(content.length), ...content];
}

/** The module of one function of type params → results whose body is `code`. */
export function oneFunctionModule({ params = [], results = [], locals = [], code, exportAs }: OneFunction): Uint8Array<ArrayBuffer> {
  const body = [...leb(locals.length), ...locals.flatMap(([count, type]) => [...leb(count), type]), ...code, 0x0b];
  const name = exportAs === undefined ? [] : [...new TextEncoder().encode(exportAs)];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
    ...section(1, [0x01, 0x60, ...leb(params.length), ...params, ...leb(results.length), ...results]), // one type
    ...section(3, [0x01, 0x00]), // one function, of type 0
    ...(exportAs === undefined ? [] : section(7, [0x01, ...leb(name.length), ...name, 0x00, 0x00])), // its export
    ...section(10, [0x01, ...leb(body.length), ...body]), // its body
  ]);
}
