import { z } from 'zod';
import { UNK_MODES } from '../generate/sample.js';
import { SeedSchema, numeric } from '../input/settings.js';

/**
 * The bodies the HTTP API takes, field by field with what would be valid: a request that
 * breaks one is answered 400 with one JSON line naming the field (server.ts). `len` is capped
 * by the server's --max-len, which the handler checks.
 */
const temperature = numeric(z.number().min(0)).optional().describe('a number >= 0');
const topK = numeric(z.int().min(1)).optional().describe('an integer >= 1');
const topP = numeric(z.number().gt(0).max(1)).optional().describe('a number in (0, 1]');
const seed = SeedSchema.optional().describe('an integer from 0 to 4294967295');
const len = numeric(z.int().min(0)).optional().describe('an integer >= 0');
const model = z.string().optional().describe('the name of a served model (GET /v1/models lists them)');
const flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean()).optional().describe('true or false');

export const STREAM_MODES = ['sse', 'ndjson'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

export const GenerateSchema = z.strictObject({
  model,
  prime: z.string().optional().describe('a string'),
  len,
  temperature,
  topK,
  topP,
  seed,
  stopAtEos: flag,
  unk: z.enum(UNK_MODES).optional().describe(UNK_MODES.join(' or ')),
  stream: z.enum(STREAM_MODES).optional().describe(STREAM_MODES.join(' or ')),
  beam: numeric(z.int().min(1).max(64)).optional().describe('an integer from 1 to 64'),
  lengthPenalty: numeric(z.number().min(0)).optional().describe('a number >= 0'),
});

export const CompleteSchema = z.strictObject({
  model,
  prefix: z.string().describe('a string'),
  n: numeric(z.int().min(1).max(10)).optional().describe('an integer from 1 to 10'),
  len,
  temperature,
  topK,
  topP,
  seed,
});

/** torch-rnn-server's `GET /generate?start_text=…&n=…`, answered as /v1/complete. */
export const LegacyGenerateSchema = CompleteSchema.omit({ prefix: true }).extend({ start_text: z.string().describe('a string') });

export const ScoreSchema = z.strictObject({
  model,
  text: z.string().describe('a string'),
  top: numeric(z.int().min(0).max(10)).optional().describe('an integer from 0 to 10'),
});

export const ActivationsSchema = z.strictObject({
  model,
  text: z.string().describe('a string'),
  layer: numeric(z.int().min(0)).optional().describe('an integer >= 0 (a layer of the model, 0 first)'),
  unit: numeric(z.int().min(0)).optional().describe('an integer >= 0 (a hidden unit of the layer)'),
  top: numeric(z.int().min(1).max(32)).optional().describe('an integer from 1 to 32'),
});
