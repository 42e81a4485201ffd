import { PositiveIntegerSchema } from '../input/settings.js';

/*
 * Flags shared by several commands, for parseSettings: a described flag reports a bad value as
 * `--workers must be a positive integer (got 0)`.
 */

/** A flag that takes a positive integer, such as `--workers`. */
export const positiveIntegerFlag = PositiveIntegerSchema.optional().describe('a positive integer');
