/*
 * A count as every line of rnn writes it: its digits grouped, its noun singular for one and plural for any other number;
 * a share as a percentage; a list cut to its first items, the rest counted.
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

/**
 * `a.png, b.png, c.png and 409 more`: the first `named` of `items` as `show` words each, joined by `separator`, the rest
 * counted (and not shown); all where no more.
 */
export function firstNamed<T>(items: readonly T[], named: number, show: (item: T, k: number) => string, separator = ', '): string {
  const shown = items.slice(0, named).map(show).join(separator);
  return items.length > named ? `${shown} and ${grouped(items.length - named)} more` : shown;
}

/** `13`, `1.5`, `100`: `part` as a percentage of `whole`, to two significant digits (never an exponent). */
export function percentOf(part: number, whole: number): string {
  return ((100 * part) / whole).toLocaleString('en-US', { maximumSignificantDigits: 2 });
}
