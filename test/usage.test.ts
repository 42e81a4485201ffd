import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRAIN_SETTINGS } from '../src/checkpoint/settings.js';
import { createProgram } from '../src/cli/main.js';
import { withExitStatuses, withFlagTables } from '../src/cli/usage.js';
import { flagName } from '../src/input/settings.js';

const USAGE = join(import.meta.dirname, '..', 'docs', 'usage.md');

describe('docs/usage.md', () => {
  const doc = readFileSync(USAGE, 'utf8');

  it('has the flag tables the code makes (npm run docs rewrites them)', async () => {
    expect(await withFlagTables(doc)).toBe(doc);
  });

  it('has the exit statuses rnn --help lists (npm run docs rewrites them)', () => {
    expect(withExitStatuses(doc)).toBe(doc);
    expect(doc).toContain('<!-- exit statuses -->\n| status | meaning |');
  });

  it('has a flag table for every command, and every training setting in rnn train\'s', async () => {
    const program = await createProgram();
    const commands = program.commands.flatMap((c) => (c.commands.length > 0 ? c.commands.map((s) => `${c.name()} ${s.name()}`) : [c.name()]));
    for (const command of commands) expect(doc).toContain(`<!-- flags: ${command} -->`);
    const train = doc.slice(doc.indexOf('<!-- flags: train -->'), doc.indexOf('<!-- /flags -->'));
    for (const name of Object.keys(TRAIN_SETTINGS)) expect(train).toContain(`| \`${flagName(name)} `);
  });
});
