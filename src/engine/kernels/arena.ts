/** WebAssembly pages are 64 KiB; a 32-bit memory holds at most 65,536 of them (4 GiB). */
const PAGE_BYTES = 65536;
const MAX_PAGES = 65536;
/** The most an arena can hold: every tensor of an engine lives in one WebAssembly.Memory. */
export const ARENA_LIMIT_BYTES = PAGE_BYTES * MAX_PAGES;
/** Bytes at the start of the memory that hold the allocator's own words. */
const HEADER_BYTES = 64;
/** Every allocation starts on a cache line: SIMD loads stay aligned and threads never share a line. */
export const CACHE_LINE_BYTES = 64;

/** Hands out zeroed tensors: an Arena, or a replay of one (Arena.replay). */
export interface Allocator {
  floats(length: number): Float32Array;
  ints(length: number): Int32Array;
}

/**
 * The one place tensors are allocated. An arena is a shared WebAssembly.Memory carved by a
 * bump pointer kept in its first word, so that:
 *  - the WebAssembly kernels address every tensor directly (their module imports this memory);
 *  - worker threads receive the Memory, build the same views from byte offsets, and share
 *    parameters, gradients, moments and activations with no copy;
 *  - threads that allocate at once never collide (Atomics on the pointer).
 * Memory is never freed piecemeal: an arena lives as long as the engine or the stepper's
 * weights (GenerationWeights) that made it. Shared memory grows in place and is never detached, so earlier views stay valid.
 */
export class Arena implements Allocator {
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
    const at = this.reserve(length * 4); // first: it may grow the memory, and so replace its buffer
    return new Float32Array(this.memory.buffer, at, length);
  }

  /** `length` zeroed int32s (token windows that threads share). */
  ints(length: number): Int32Array {
    const at = this.reserve(length * 4);
    return new Int32Array(this.memory.buffer, at, length);
  }

  /** `length` zeroed float64s (scalars that threads exchange). */
  doubles(length: number): Float64Array {
    const at = this.reserve(length * 8);
    return new Float64Array(this.memory.buffer, at, length);
  }

  /** A view of `length` elements at `byteOffset`, as another thread of the same arena allocated it. */
  view<T extends Float32Array | Int32Array | Float64Array>(
    Type: { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T }, byteOffset: number, length: number,
  ): T {
    return new Type(this.memory.buffer, byteOffset, length);
  }

  /**
   * An allocator that hands out, in the same order, the very views this arena handed out
   * from byte `from` on: another thread builds a model over the same activations by building
   * it the same way (the threads of a batch-1 step share one model's buffers), and a model
   * takes the packed weights another prepared (the steppers of one GenerationWeights).
   */
  replay(from: number): Allocator {
    let at = from;
    const next = (bytes: number): number => {
      const start = at;
      at += alignedSize(bytes);
      if (at > this.used) throw new RangeError('replayed past what the arena handed out');
      return start;
    };
    return {
      floats: (length) => this.view(Float32Array, next(length * 4), length),
      ints: (length) => this.view(Int32Array, next(length * 4), length),
    };
  }

  private reserve(bytes: number): number {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`cannot allocate ${bytes} bytes`);
    const size = alignedSize(bytes);
    if (size > ARENA_LIMIT_BYTES) throw new RangeError(tooLarge(bytes));
    const start = Atomics.add(this.header, 0, size);
    const end = start + size;
    if (end > ARENA_LIMIT_BYTES || end < start) throw new RangeError(tooLarge(bytes));
    // another thread may grow it at the same time: grow until it is large enough
    while (this.memory.buffer.byteLength < end) {
      const missing = Math.ceil((end - this.memory.buffer.byteLength) / PAGE_BYTES);
      try {
        const pages = this.memory.buffer.byteLength / PAGE_BYTES;
        this.memory.grow(Math.max(missing, Math.min(pages, MAX_PAGES - pages))); // doubling, to the maximum
      } catch {
        this.memory.grow(missing);
      }
    }
    return start;
  }
}

/** The bytes an allocation of `bytes` takes: whole cache lines, at least one. */
function alignedSize(bytes: number): number {
  return Math.ceil(Math.max(bytes, 1) / CACHE_LINE_BYTES) * CACHE_LINE_BYTES;
}

function tooLarge(bytes: number): string {
  return `the model needs more than the 4 GiB a WebAssembly memory can hold (asked for ${bytes} more bytes)`;
}
