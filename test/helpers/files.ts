import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';

export interface ScratchFolder {
  dir: string;
  file: (content: string | Uint8Array, name?: string, dir?: string) => string;
  /** A new empty folder inside `dir` (one per test, say). */
  folder: () => string;
}

/**
 * A temporary folder for one test file, removed after its tests; `file(content)`, which writes a
 * new file in it (or in `dir`) and returns its path; and `folder()`, a new folder in it.
 */
export function scratchFolder(prefix: string): ScratchFolder {
  const scratch = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));
  let count = 0;
  return {
    dir: scratch,
    file(content, name = `f${count++}.txt`, dir = scratch) {
      mkdirSync(dir, { recursive: true });
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    folder: () => mkdtempSync(join(scratch, 'd')),
  };
}

/** The SHA-256 of a file's bytes, in hex (as a checkpoint records its corpus files). */
export function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Every file of a folder with the SHA-256 of its bytes: equal before and after when nothing in it changed. */
export function fileHashes(folder: string): Record<string, string> {
  return Object.fromEntries(readdirSync(folder).sort().map((name) => [name, sha256Of(join(folder, name))]));
}

/** Asserts that `link` is still the symbolic link to `target` it was made as, and that what was written through it is in `target`. */
export function expectWrittenThrough(link: string, target: string): string {
  expect(lstatSync(link).isSymbolicLink(), `${link} is no longer a link`).toBe(true);
  expect(readlinkSync(link)).toBe(target);
  return readFileSync(link, 'utf8');
}
