/**
 * `0s`, `42s`, `3m05s`, `1h02m`: a duration as every line of rnn writes it, the unit against the number, in the forms
 * --time reads. Under a minute, a time that passes (an elapsed time, an ETA) is in whole seconds; with `exact`, a time
 * given or estimated keeps its fraction, to three significant digits (`0.5s`, `0.35s`).
 */
export function durationText(seconds: number, exact = false): string {
  const fraction = Number(seconds.toPrecision(3));
  if (exact && !Number.isInteger(seconds) && fraction < 60) return `${fraction}s`;
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
