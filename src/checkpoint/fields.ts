import { z } from 'zod';
import { RECORDED_SPACE } from '../text/spacing.js';

/*
 * The fields that checkpoints, prepared folders' meta.json, interop and safetensors files record,
 * read by one schema wherever they stand.
 */

/** A count of steps, tokens, bytes or documents. */
export const count = z.int().nonnegative();

/** A tensor's shape: its dimensions, each a count. */
export const tensorShape = z.array(count);

/** A SHA-256, as lowercase hex. */
export const sha256 = z.string().regex(/^[0-9a-f]{64}$/, { error: 'is not a lowercase hex sha256' });

/** A version of the tokenizer's or the sentence splitter's rules (rule-versions.ts); whether this code has it is checked apart. */
export const ruleVersion = z.int().positive();

/**
 * A corpus's spacing record (`Spacing`, spacing.ts): for each side, marks and the space each is set off by, one
 * space separator or a tab.
 */
export const spacingRecord = z.object({
  before: z.record(z.string().min(1), z.string().regex(RECORDED_SPACE, { error: 'is not one space character' })).optional(),
  after: z.record(z.string().min(1), z.string().regex(RECORDED_SPACE, { error: 'is not one space character' })).optional(),
});

/** The files of a corpus as its fingerprint records them (`CorpusFile`), one at least: where each was read, its size and its hash. */
export const corpusFiles = z.array(z.object({ path: z.string(), bytes: count, sha256 })).min(1);
