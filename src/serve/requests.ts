import { z } from 'zod';
import { SCORE_TOP } from '../generate/score.js';
import { SAMPLE_SETTINGS } from '../generate/settings.js';
import {
  type SettingSource, type SettingTable, type SettingsInput, integerFrom, orList, parseSettings, pickSettings, settingsSchema, tablesTaking,
} from '../input/settings.js';

/*
 * The fields of each request body (or query), as tables of settings: the sampling ones are
 * `rnn sample`'s own (SAMPLE_SETTINGS), the rest the server's. A body's numbers and booleans
 * are JSON's (`"len": "10"` is refused), a query's are read from its text. A request that breaks
 * one is answered 400 with one JSON line naming the field and what would be valid (http.ts's answerFailure).
 * Caps the server sets by flag (`len`, `beam`: server.ts's CAPS) are checked by its handlers; the
 * tokens of a scored text or an activations one (--max-text-tokens) by the thread that counts them.
 */

const model = { schema: z.string(), expected: 'the name of a served model (GET /v1/models lists them)', help: 'the model (default: the first)' };
/** A text the model reads (its CRLF line ends read as LF, as every text a model reads: `textAsRead`). */
const textField = (help: string) => ({ schema: z.string(), expected: 'a string', help });
const text = textField('the text, read as one document');

const STREAM_MODES = ['sse', 'ndjson'] as const;
export type StreamMode = (typeof STREAM_MODES)[number];

const GENERATE_FIELDS = {
  model,
  prime: textField('text the model reads before drawing'),
  ...pickSettings(SAMPLE_SETTINGS, ['len', 'temperature', 'topK', 'topP', 'seed', 'stopAtEos', 'unk', 'beam', 'lengthPenalty']),
  stream: { schema: z.enum(STREAM_MODES), expected: orList(STREAM_MODES), help: 'stream the text as server-sent events or NDJSON' },
} as const satisfies SettingTable;

export const COMPLETE_FIELDS = {
  model,
  prefix: textField('the text to continue'),
  n: { ...integerFrom(1, 10), help: 'continuations', default: 3 },
  ...pickSettings(SAMPLE_SETTINGS, ['len', 'temperature', 'topK', 'topP', 'seed']),
  // a completion is a few tokens, not a sample's
  len: { ...SAMPLE_SETTINGS.len, default: 20 },
} as const satisfies SettingTable;

/** torch-rnn-server's `GET /generate?start_text=…&n=…`, answered as /v1/complete. */
const { prefix, ...continuation } = COMPLETE_FIELDS;
const LEGACY_GENERATE_FIELDS = { start_text: prefix, ...continuation } as const satisfies SettingTable;

export const SCORE_FIELDS = {
  model,
  text,
  top: { ...SCORE_TOP, help: 'alternatives listed at each prediction' },
} as const satisfies SettingTable;

/** The most units /v1/activations gives at once (`top`), each with a value for each token of the text. */
export const ACTIVATIONS_TOP_MAX = 32;

export const ACTIVATIONS_FIELDS = {
  model,
  text,
  // read as given, and checked by the server once it knows the model, so that any value it refuses is told the model's range
  layer: { schema: z.int(), input: z.unknown(), help: 'the layer', default: 0 },
  unit: { schema: z.int(), input: z.unknown(), help: 'one unit' },
  top: { ...integerFrom(1, ACTIVATIONS_TOP_MAX), help: 'the units that vary most over the text', default: 1 },
} as const satisfies SettingTable;

/** The fields of each endpoint whose body a request gives, by its path: the server's routes (server.ts) answer each. */
export const BODY_FIELDS = {
  '/v1/generate': GENERATE_FIELDS,
  '/v1/complete': COMPLETE_FIELDS,
  '/v1/score': SCORE_FIELDS,
  '/v1/activations': ACTIVATIONS_FIELDS,
} as const satisfies Record<string, SettingTable>;

/** The fields of each endpoint a request gives any, by its path: BODY_FIELDS', then GET /generate's query. */
const REQUEST_FIELDS = { ...BODY_FIELDS, '/generate': LEGACY_GENERATE_FIELDS } as const satisfies Record<string, SettingTable>;

/** The endpoints that take `field`, in REQUEST_FIELDS' order. */
const endpointsOf = (field: string): string[] => tablesTaking(REQUEST_FIELDS, field);

/**
 * A reader of one kind of request, its fields coming `from` a JSON body or a query's text: the
 * table's schema built once (building a zod schema costs more than a request's whole parse),
 * then parseSettings' messages, a field of other endpoints refused naming them.
 */
function reader<T extends SettingTable>(table: T, from: SettingSource): (input: Record<string, unknown>) => SettingsInput<T> {
  const schema = settingsSchema(table, from);
  return (input) => parseSettings(schema, input, endpointsOf) as SettingsInput<T>;
}

export const readGenerate = reader(GENERATE_FIELDS, 'json');
export const readComplete = reader(COMPLETE_FIELDS, 'json');
export const readLegacyGenerate = reader(LEGACY_GENERATE_FIELDS, 'text');
export const readScore = reader(SCORE_FIELDS, 'json');
export const readActivations = reader(ACTIVATIONS_FIELDS, 'json');
