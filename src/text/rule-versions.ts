/**
 * The versions of a set of text rules (the word tokenizer's, the sentence splitter's) this code
 * has, oldest first. A record names the version its text was cut under; the last is the one new
 * text is cut under.
 */
export type RuleVersions = readonly [number, ...number[]];

/** The version new text is cut under: the last of `versions`. */
export function latestRule<V extends RuleVersions>(versions: V): V[number] {
  return versions[versions.length - 1]!;
}

/** `rule` as one of `versions`, or null where this code has no such version (a newer rnn's). */
export function knownRule<V extends RuleVersions>(versions: V, rule: number): V[number] | null {
  return versions.includes(rule) ? rule : null;
}
