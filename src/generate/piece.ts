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
  text: string;
  eos: boolean;
}
