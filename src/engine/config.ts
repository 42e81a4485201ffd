/** The recurrent cells a model may have. */
export const CELL_KINDS = ['lstm', 'gru', 'rnn'] as const;

export type CellKind = (typeof CELL_KINDS)[number];

/** The shape of a model: what a checkpoint's `config` and the interop format describe. */
export interface ModelConfig {
  /** The recurrent cell: `lstm`, `gru` or `rnn` (tanh). */
  cell: CellKind;
  /** Tokens in the vocabulary, `<EOS>` and `<UNK>` included: the rows of the embedding and of the output. */
  vocabSize: number;
  /** Width of a token's embedding, layer 0's input. */
  embedDim: number;
  /** Hidden units of each layer. */
  hiddenSize: number;
  /** Stacked recurrent layers. */
  numLayers: number;
  /** Inverted dropout between stacked layers, training only (PyTorch's `dropout` of nn.LSTM). */
  dropout: number;
}

/** Rows of the stacked gate matrices: LSTM i,f,g,o → 4; GRU r,z,n → 3; tanh RNN → 1. */
export function gateCount(cell: CellKind): number {
  return cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1;
}
