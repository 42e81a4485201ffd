/**
 * A token stream held compactly: a byte per token when the vocabulary has at most 256 entries,
 * two bytes at most 65,536, else four. Readers copy ids out into the engine's Int32 windows.
 */
export type TokenArray = Uint8Array | Uint16Array | Int32Array;

/** A zeroed token array of `length` ids, the narrowest that holds every id of a `vocabSize`-entry vocabulary. */
export function tokenArrayFor(vocabSize: number, length: number): TokenArray {
  if (vocabSize <= 0x100) return new Uint8Array(length);
  if (vocabSize <= 0x10000) return new Uint16Array(length);
  return new Int32Array(length);
}
