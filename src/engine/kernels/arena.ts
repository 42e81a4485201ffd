/** WebAssembly pages are 64 KiB; a 32-bit memory holds at most 65,536 of them (4 GiB). */
const PAGE_BYTES = 65536;
export const MAX_PAGES = 65536;
/** Bytes at the start of the memory that hold the allocator's own words. */
const HEADER_BYTES = 64;
/** Every allocation starts on a cache line: SIMD loads stay aligned and threads never share a line. */
const ALIGN = 64;

/**
 * The one place tensors are allocated. An arena is a shared WebAssembly.Memory carved by a
 * bump pointer kept in its first word, so that:
 *  - the WebAssembly kernels address every tensor directly (their module imports this memory);
 *  - worker threads receive the Memory, build the same views from byte offsets, and share
 *    parameters, gradients, moments and activations with no copy;
 *  - threads that allocate at once never collide (Atomics on the pointer).
 * Memory is never freed piecemeal: an arena lives as long as the engine or stepper that made
 * it. Shared memory grows in place and is never detached, so earlier views stay valid.
 */
export class Arena {
  readonly memory: WebAssembly.Memory;
  private readonly header: Uint32Array;

  constructor(memory?: WebAssembly.Memory, initialBytes = 0) {
    this.memory = memory ?? new WebAssembly.Memory({
      initial: Math.max(1, Math.ceil((initialBytes + HEADER_BYTES) / PAGE_BYTES)), maximum: MAX_PAGES, shared: true,
    });
    this.header = new Uint32Array(this.memory.buffer, 0, HEADER_BYTES / 4);
    Atomics.compareExchange(this.header, 0, 0, HEADER_BYTES);
  }

  /** Bytes handed out so far, the header included. */
  get used(): number {
    return Atomics.load(this.header, 0);
  }

  /** `length` zeroed float32s. */
  floats(length: number): Float32Array {
    const start = this.reserve(length * 4); // may grow the memory: take its buffer after
    return new Float32Array(this.memory.buffer, start, length);
  }

  /** `length` zeroed int32s (token windows that threads share). */
  ints(length: number): Int32Array {
    const start = this.reserve(length * 4); // may grow the memory: take its buffer after
    return new Int32Array(this.memory.buffer, start, length);
  }

  /** `length` zeroed float64s (scalars that threads exchange). */
  doubles(length: number): Float64Array {
    const start = this.reserve(length * 8); // may grow the memory: take its buffer after
    return new Float64Array(this.memory.buffer, start, length);
  }

  /** A view of `length` elements at `byteOffset`, as another thread of the same arena allocated it. */
  view<T extends Float32Array | Int32Array | Float64Array>(
    Type: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T }, byteOffset: number, length: number,
  ): T {
    return new Type(this.memory.buffer, byteOffset, length);
  }

  private reserve(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`cannot allocate ${bytes} bytes`);
    const size = Math.ceil(Math.max(bytes, 1) / ALIGN) * ALIGN;
    if (size > MAX_PAGES * PAGE_BYTES) throw new RangeError(tooLarge(bytes));
    const start = Atomics.add(this.header, 0, size);
    const end = start + size;
    if (end > MAX_PAGES * PAGE_BYTES || end < start) throw new RangeError(tooLarge(bytes));
    // another thread may grow it at the same time: grow until it is large enough
    while (this.memory.buffer.byteLength < end) {
      const missing = Math.ceil((end - this.memory.buffer.byteLength) / PAGE_BYTES);
      try {
        this.memory.grow(Math.max(missing, Math.min(this.memory.buffer.byteLength / PAGE_BYTES, MAX_PAGES - this.memory.buffer.byteLength / PAGE_BYTES)));
      } catch {
        this.memory.grow(missing);
      }
    }
    return start;
  }
}

function tooLarge(bytes: number): string {
  return `the model needs more than the 4 GiB a WebAssembly memory can hold (asked for ${bytes} more bytes)`;
}
