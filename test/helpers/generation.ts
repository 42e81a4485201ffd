/** Every piece an asynchronous generation yields, in order, once it has ended (or its error). */
export async function collect(pieces: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}
