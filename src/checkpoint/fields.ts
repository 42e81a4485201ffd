import { z } from 'zod';

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

/** The files of a corpus as its fingerprint records them (`CorpusFile`), one at least: where each was read, its size and its hash. */
export const corpusFiles = z.array(z.object({ path: z.string(), bytes: count, sha256 })).min(1);
