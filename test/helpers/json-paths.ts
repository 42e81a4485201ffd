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

/** Removes the value at `at`: an array's item (the rest move up) or an object's key. */
export function removeAt(json: Json, at: JsonPath): void {
  const { parent, key } = parentOf(json, at);
  if (Array.isArray(parent)) parent.splice(Number(key), 1);
  else delete parent[key];
}

/** Sets the value at `at` to one of another JSON type (text, number, boolean, array or object), drawn by `rng`; returns it. */
export function retypeAt(rng: Rng, json: Json, at: JsonPath): Json {
  const { parent, key } = parentOf(json, at);
  const current = parent[key]!;
  const others: Json[] = ['text', 17, true, [], {}, [1, 'x']];
  parent[key] = pick(rng, others.filter((value) => typeof value !== typeof current || Array.isArray(value) !== Array.isArray(current)));
  return parent[key];
}
