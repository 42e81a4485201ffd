/*
 * What a sample yields, token by token: a type of its own, so that the library's declarations
 * name it without the engine's (a program that imports rnn compiles without the DOM's WebAssembly).
 */

/**
 * The text one drawn token writes, and whether that token is `<EOS>`: its text is then what parts
 * two of the model's documents (`documentSeparator`; at the word level its line breaks alone, so
 * between two sentences nothing).
 */
export interface SamplePiece {
  /** What the token writes ('' for a word-level quote or mark written with the token after it). */
  text: string;
  /** Whether the token is a drawn `<EOS>`: `text` is then what parts two documents. */
  eos: boolean;
}
