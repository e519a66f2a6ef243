// Standard normal tail and quantile. The CDF comes from @stdlib (the one statistics package this project depends
// on): it is erfc-based, so far tails keep their relative precision (p-values like 1e-20 do not round to 0).
// The quantile is Wichura's AS 241 (PPND16), written here because @stdlib's quantile goes through erfinv(2p − 1),
// which rounds to −∞ for p ≤ 1e-17; AS 241 works on √(−ln p) and stays accurate (≈1e-16 relative) down to the
// smallest doubles. One Newton step on the erfc-based CDF polishes the last bits.
import normal from '@stdlib/stats-base-dists-normal';

/** P(Z > z) for a standard normal Z. */
export function normalSf(z: number): number {
  return normal.cdf(-z, 0, 1);
}

/** P(Z ≤ z) for a standard normal Z. */
export function normalCdf(z: number): number {
  return normal.cdf(z, 0, 1);
}

const poly = (c: readonly number[], x: number): number => c.reduceRight((acc, k) => acc * x + k, 0);

// AS 241 coefficients (Wichura 1988, Applied Statistics 37:477–484), lowest degree first.
const A = [
  3.3871328727963665, 133.14166789178438, 1971.5909503065513, 13731.69376550946, 45921.95393154987, 67265.7709270087,
  33430.57558358813, 2509.0809287301227,
];
const B = [
  1, 42.31333070160091, 687.1870074920579, 5394.196021424751, 21213.794301586597, 39307.89580009271, 28729.085735721943,
  5226.495278852854,
];
const C = [
  1.4234371107496835, 4.630337846156546, 5.769497221460691, 3.6478483247632045, 1.2704582524523684, 0.2417807251774506,
  0.022723844989269184, 0.0007745450142783414,
];
const D = [
  1, 2.053191626637759, 1.6763848301838038, 0.6897673349851, 0.14810397642748008, 0.015198666563616457,
  0.0005475938084995345, 1.0507500716444169e-9,
];
const E = [
  6.657904643501103, 5.463784911164114, 1.7848265399172913, 0.29656057182850487, 0.026532189526576124,
  0.0012426609473880784, 2.7115555687434876e-5, 2.0103343992922881e-7,
];
const F = [
  1, 0.599832206555888, 0.1369298809227358, 0.014875361290850615, 0.0007868691311456133, 1.8463183175100548e-5,
  1.421511758316446e-7, 2.0442631033899397e-15,
];

/**
 * The z with P(Z ≤ z) = p for a standard normal Z: finite for every 0 < p < 1 (Φ⁻¹(1e-20) = −9.262340089798409),
 * −∞ at 0, +∞ at 1, NaN outside [0, 1]. Upper-tail probabilities above 1 − 1e-16 are not representable as p;
 * use {@link normalQuantileUpper} with the tail mass instead.
 */
export function normalQuantile(p: number): number {
  if (Number.isNaN(p) || p < 0 || p > 1) return Number.NaN;
  if (p === 0) return Number.NEGATIVE_INFINITY;
  if (p === 1) return Number.POSITIVE_INFINITY;
  const q = p - 0.5;
  let x: number;
  if (Math.abs(q) <= 0.425) {
    const r = 0.180625 - q * q;
    x = (q * poly(A, r)) / poly(B, r);
  } else {
    const tail = q < 0 ? p : 1 - p;
    let r = Math.sqrt(-Math.log(tail));
    if (r <= 5) {
      r -= 1.6;
      x = poly(C, r) / poly(D, r);
    } else {
      r -= 5;
      x = poly(E, r) / poly(F, r);
    }
    if (q < 0) x = -x;
  }
  // One Newton step against the erfc-based CDF, in the tail that holds p (relative error stays small there).
  const density = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  if (density > 0) {
    const error = x < 0 ? normalCdf(x) - p : 1 - p - normalSf(x);
    const step = error / density;
    if (Number.isFinite(step) && Math.abs(step) < 1e-3 * Math.max(1, Math.abs(x))) x -= step;
  }
  return x;
}

/** The z with P(Z > z) = tail: the upper quantile without forming 1 − tail (−Φ⁻¹(tail) by symmetry). */
export function normalQuantileUpper(tail: number): number {
  return -normalQuantile(tail);
}

/** Two-sided critical value for a confidence level: 1.96 for 0.95. */
export function zCritical(confidence: number): number {
  return normalQuantileUpper((1 - confidence) / 2);
}

/** One-sided critical value for a confidence level: 1.645 for 0.95. */
export function zCriticalOneSided(confidence: number): number {
  return normalQuantileUpper(1 - confidence);
}
