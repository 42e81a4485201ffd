import { checkedOption, integerFrom } from '../input/settings.js';

/**
 * Below this natural log a probability leaves float64's normal range (about e^−708.4), so
 * `Math.exp` would lose digits and, below about e^−745, give 0.
 */
const LOWEST_EXP_LOG = -700;

/**
 * The probability e^logProb written as "5.7e-10": `significant`
 * digits, in the form `Number.prototype.toExponential` gives. `logProb` is natural-log, e.g.
 * the negative of a text's summed cross-entropy loss (`scoreTokens`' −lossSum). Below e^−700 the
 * mantissa and exponent come from log10 instead of from e^logProb, so a probability too small
 * for a float64 (e^−800 ≈ 3.7e-348) still prints rather than reading 0.
 */
export function formatProbability(logProb: number, significant = 2): string {
  if (Number.isNaN(logProb)) throw new RangeError('logProb is NaN');
  checkedOption('significant', integerFrom(1, 100).schema, significant);
  const decimals = significant - 1;
  if (logProb >= LOWEST_EXP_LOG || logProb === -Infinity) return Math.exp(logProb).toExponential(decimals);

  const log10 = logProb / Math.LN10;
  let exponent = Math.floor(log10);
  let mantissa = (10 ** (log10 - exponent)).toFixed(decimals);
  if (Number(mantissa) >= 10) {
    exponent += 1;
    mantissa = (10 ** (log10 - exponent)).toFixed(decimals);
  }
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${Math.abs(exponent)}`;
}
