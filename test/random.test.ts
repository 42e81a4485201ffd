import { describe, expect, it } from 'vitest';
import { Rng } from '../src/engine/random.js';

describe('Rng', () => {
  it('saves its state as four uint32 words and goes on from them exactly', () => {
    const rng = new Rng(1337);
    for (let i = 0; i < 10; i++) rng.nextUint32();
    const state = rng.state();
    for (const word of state) expect(Number.isInteger(word) && word >= 0 && word <= 0xffffffff).toBe(true);
    const restored = new Rng(state);
    const ahead = Array.from({ length: 5 }, () => rng.nextUint32());
    expect(Array.from({ length: 5 }, () => restored.nextUint32())).toEqual(ahead);
  });

  it('gives the same stream for the same seed, another for another', () => {
    const draw = (seed: number) => { const r = new Rng(seed); return [r.uniform(), r.uniform(), r.normal()]; };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });
});
