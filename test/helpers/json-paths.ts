import type { Rng } from '../../src/engine/random.js';

/** A parsed JSON value, as the fuzz tests mutate them. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonPath = (string | number)[];

/** Every path to a value in `json`, as keys from the root. */
export function paths(json: Json, prefix: JsonPath = []): JsonPath[] {
  const out: JsonPath[] = [];
  if (json !== null && typeof json === 'object') {
    for (const [key, value] of Object.entries(json)) {
      const at = [...prefix, Array.isArray(json) ? Number(key) : key];
      out.push(at, ...paths(value, at));
    }
  }
  return out;
}

/** The object or array that holds the value at `at`, and its key there. */
export function parentOf(json: Json, at: JsonPath): { parent: Record<string | number, Json>; key: string | number } {
  let node = json as Record<string | number, Json>;
  for (const key of at.slice(0, -1)) node = node[key] as Record<string | number, Json>;
  return { parent: node, key: at.at(-1)! };
}

/** One of `items`, drawn by `rng`. */
export const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng.uniform() * items.length)]!;
