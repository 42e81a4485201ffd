/*
 * A duration as rnn reads it (--time, the bench's --race) and writes it (progress, summaries, the server's limits),
 * in the one form both use.
 */

/**
 * `0s`, `42s`, `3m05s`, `1h02m`: a duration as every line of rnn writes it, the unit against the number, in the forms
 * --time reads. Under a minute, a time that passes (an elapsed time, an ETA) is in whole seconds; with `exact`, a time
 * given or estimated keeps its fraction, to three significant digits (`0.5s`, `0.35s`). From an hour, a time that passes
 * is to its minute; with `exact`, to its second where it has some (`1h30m30s`).
 */
export function durationText(seconds: number, exact = false): string {
  const fraction = Number(seconds.toPrecision(3));
  if (exact && !Number.isInteger(seconds) && fraction < 60) return `${fraction}s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const hours = `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return exact && s % 60 !== 0 ? `${hours}${String(s % 60).padStart(2, '0')}s` : hours;
}

/** `1h30m`, `3m`, `90s`, `45`: hours, minutes and seconds, each optional and each a decimal. */
const DURATION = /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)(s?))?$/;

/**
 * `90s`, `3m`, `1h`, `1h30m`, `45` (seconds) → seconds; null when it is not a duration. A
 * number after a unit, with none of its own, is in the next smaller one: `1m30` is 90 s,
 * `2h30` two and a half hours.
 */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text.trim());
  if (!match || text.trim() === '' || !match.slice(1, 4).some((part) => part !== undefined)) return null;
  const [h, m, s] = match.slice(1, 4).map((part) => (part === undefined ? 0 : Number(part)));
  const minutesAfterHours = match[1] !== undefined && match[2] === undefined && match[4] === '';
  return h! * 3600 + (minutesAfterHours ? s! * 60 : m! * 60 + s!);
}
