/** Every piece an asynchronous generation yields, in order, once it has ended (or its error). */
export async function collect<T>(pieces: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}
