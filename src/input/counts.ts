/*
 * A count as every line of rnn writes it: its digits grouped, its noun singular for one and plural for any other number.
 */

/** `4,096`: a count as every message writes it, in groups of three digits. */
export function grouped(n: number): string {
  return n.toLocaleString('en-US');
}

/** `file` for 1, `files` for any other `n`: the noun a count of `n` takes, `many` for an irregular plural. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** `1 file`, `0 files`, `1,234 files`: `n` of a noun, grouped. */
export function counted(n: number, one: string, many?: string): string {
  return `${grouped(n)} ${plural(n, one, many)}`;
}
