import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../train/data.js';

/** The version in the package's own package.json; `unknown` where it cannot be read. */
export function packageVersion(): string {
  try {
    const json = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: unknown };
    return typeof json.version === 'string' ? json.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
