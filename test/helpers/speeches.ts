import { readFileSync } from 'node:fs';
import { join } from 'node:path';

let whole: string | undefined;

/**
 * Real prose the repository owns: `length` characters of the bundled speeches
 * (corpora/sotu.txt) from character `from`, cut back to the last line end.
 */
export function speeches(length: number, from = 0): string {
  whole ??= readFileSync(join(import.meta.dirname, '..', '..', 'corpora', 'sotu.txt'), 'utf8');
  const text = whole.slice(from, from + length);
  return text.slice(0, text.lastIndexOf('\n') + 1);
}
