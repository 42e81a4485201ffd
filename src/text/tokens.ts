/**
 * A token stream held compactly: a byte per token when the vocabulary has at most 256 entries,
 * two bytes at most 65,536, else four. Readers copy ids out into the engine's Int32 windows.
 */
export type TokenArray = Uint8Array | Uint16Array | Int32Array;

/** A zeroed token array of `length` ids, the narrowest that holds every id of a `vocabSize`-entry vocabulary. */
export function tokenArrayFor(vocabSize: number, length: number): TokenArray {
  switch (tokenDtype(vocabSize)) {
    case 'uint8': return new Uint8Array(length);
    case 'uint16': return new Uint16Array(length);
    case 'uint32': return new Int32Array(length);
  }
}

/** A token stream's ids on disk, little-endian: the type `tokenArrayFor` holds them in (ids are below 2^31 either way). */
export const TOKEN_DTYPES = ['uint8', 'uint16', 'uint32'] as const;
export type TokenDtype = (typeof TOKEN_DTYPES)[number];

/** The dtype of a `vocabSize`-entry vocabulary's token stream. */
export function tokenDtype(vocabSize: number): TokenDtype {
  return vocabSize <= 0x100 ? 'uint8' : vocabSize <= 0x10000 ? 'uint16' : 'uint32';
}

/** Bytes per token of each dtype. */
export const DTYPE_BYTES: Readonly<Record<TokenDtype, number>> = { uint8: 1, uint16: 2, uint32: 4 };
