/** The whole state of an Rng: four uint32s. */
export type RngState = [number, number, number, number];

/** Draws a reseeded generator discards before its first, so that nearby seeds give unrelated streams. */
const WARM_UP_DRAWS = 15;

/**
 * A small seeded generator (sfc32) whose whole state is four uint32s, so a checkpoint can
 * store it and a resumed run draws exactly the numbers the uninterrupted run would have.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number | RngState) {
    this.a = this.b = this.c = this.d = 0;
    if (typeof seed === 'number') this.reseed(seed);
    else [this.a, this.b, this.c, this.d] = seed.map((x) => x >>> 0) as RngState;
  }

  /**
   * Restarts the stream from up to three seed words, in place (no allocation): they are mixed
   * into words of the fractions of φ, π and e (so that no seed starts from zero words), then
   * WARM_UP_DRAWS draws are thrown away.
   */
  reseed(seed: number, stream = 0, substream = 0): void {
    this.a = (0x9e3779b9 ^ stream) >>> 0;
    this.b = (0x243f6a88 ^ substream) >>> 0;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < WARM_UP_DRAWS; i++) this.nextUint32();
  }

  state(): RngState {
    return [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
  }

  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 2 ** 32;
  }

  /** Standard normal by Box–Muller (one draw per call; the pair's second half is discarded). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
