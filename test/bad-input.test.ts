import { describe, expect, it } from 'vitest';
import { userMessage } from '../src/cli/errors.js';
import { parseSettingTable } from '../src/input/settings.js';
import { readGenerate } from '../src/serve/requests.js';
import { SERVE_SETTINGS } from '../src/serve/settings.js';
import { RUN_OPTIONS } from '../src/train/options.js';

/*
 * Bad input of every kind a hostile user tries, each answered with one line that names the
 * flag, field or file and what would be valid, and nothing saved lost (docs/safety.md).
 */

/** What the command line says of an error: its one line, with flags for settings. */
function flagMessage(run: () => unknown): string {
  try {
    run();
  } catch (err) {
    const message = userMessage(err);
    if (message === null) throw err;
    return message;
  }
  throw new Error('no error');
}

describe('a setting given a value it cannot take', () => {
  it('--cors that is no URL at all is refused like one with a path, not as an internal error', () => {
    for (const cors of ['', 'not a url']) {
      expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { cors }))).toMatch(/^--cors must be an origin such as https:\/\/example\.com .*\(got .*\)$/);
    }
  });

  it('--time-limit beyond what a timer holds is refused (a longer one would end every request at once)', () => {
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { timeLimit: '3000000' })))
      .toBe('--time-limit must be a number of seconds > 0, at most 2147483 (about 24 days) (got 3000000)');
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { timeLimit: '9007199254740992' }))).toMatch(/^--time-limit must be/);
    expect(parseSettingTable(SERVE_SETTINGS, { timeLimit: '2147483' })).toEqual({ timeLimit: 2147483 });
  });

  it('names an object, an array or an empty string as what it is, never [object Object]', () => {
    const message = (input: Record<string, unknown>) => flagMessage(() => readGenerate(input)).replace(/^--/, '');
    expect(message({ len: { a: 1 } })).toBe('len must be a positive integer (got an object)');
    expect(message({ len: [5] })).toBe('len must be a positive integer (got an array of 1)');
    expect(message({ stream: '' })).toBe('stream must be sse or ndjson (got "")');
    expect(message({ stream: 'words' })).toBe('stream must be sse or ndjson (got words)');
    expect(flagMessage(() => parseSettingTable(SERVE_SETTINGS, { port: ' ' }))).toMatch(/\(got " "\)$/);
  });

  it('says an empty path must not be empty, and counts in the singular where one is meant', () => {
    expect(flagMessage(() => parseSettingTable(RUN_OPTIONS, { out: '' }))).toBe('--out: must not be empty (got "")');
    expect(flagMessage(() => parseSettingTable(RUN_OPTIONS, { resume: '' }))).toBe('--resume: must not be empty (got "")');
  });
});
