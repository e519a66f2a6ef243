// The Hodges–Lehmann shift estimate and its distribution-free (Moses) confidence interval, written here because
// no npm package has them. Both are order statistics of the n1·n2 pairwise differences x_i − y_j; they are found
// by selection over the two sorted samples (O((n1 + n2) log range) memory-light), never by listing all pairs,
// so 10 000 × 10 000 samples stay cheap.
import { normalQuantile } from './normal.js';
import { exactUCdf, usesExactMethod, uStandardDeviation } from './rank-sum.js';

const ascending = (a: number, b: number): number => a - b;

/** How many differences x_i − y_j are ≤ t, for ascending x and y (two pointers, O(n1 + n2)). */
function countAtMost(x: readonly number[], y: readonly number[], t: number): number {
  let count = 0;
  let j = 0;
  for (const xi of x) {
    while (j < y.length && xi - (y[j] ?? 0) > t) j++;
    count += y.length - j;
  }
  return count;
}

/** The differences x_i − y_j in (lo, hi]: for each x_i a contiguous run of y, found with two pointers. */
function differencesIn(x: readonly number[], y: readonly number[], lo: number, hi: number): number[] {
  const found: number[] = [];
  let first = 0; // first j with x_i − y_j ≤ hi
  let past = 0; // first j with x_i − y_j ≤ lo
  for (const xi of x) {
    while (first < y.length && xi - (y[first] ?? 0) > hi) first++;
    while (past < y.length && xi - (y[past] ?? 0) > lo) past++;
    for (let j = first; j < past; j++) found.push(xi - (y[j] ?? 0));
  }
  return found;
}

/** The k-th smallest (1-based) of the differences x_i − y_j, for ascending non-empty x and y. */
export function kthPairwiseDifference(x: readonly number[], y: readonly number[], k: number): number {
  let lo = (x[0] ?? 0) - (y[y.length - 1] ?? 0);
  let hi = (x[x.length - 1] ?? 0) - (y[0] ?? 0);
  let countLo = countAtMost(x, y, lo);
  if (countLo >= k) return lo;
  const few = Math.max(64, x.length + y.length);
  // Invariant: countAtMost(lo) < k ≤ countAtMost(hi). Bisect until few differences lie in (lo, hi].
  let countHi = countAtMost(x, y, hi);
  while (countHi - countLo > few) {
    const mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) return hi; // adjacent floats: every difference in (lo, hi] equals hi
    const c = countAtMost(x, y, mid);
    if (c >= k) [hi, countHi] = [mid, c];
    else [lo, countLo] = [mid, c];
  }
  const between = differencesIn(x, y, lo, hi);
  between.sort(ascending);
  return between[k - countLo - 1] ?? hi;
}

/** Median of all pairwise differences canary_i − baseline_j: the Hodges–Lehmann estimate of the shift. */
export function hodgesLehmann(canary: readonly number[], baseline: readonly number[]): number {
  const x = [...canary].sort(ascending);
  const y = [...baseline].sort(ascending);
  const total = x.length * y.length;
  const upper = kthPairwiseDifference(x, y, Math.floor(total / 2) + 1);
  return total % 2 === 1 ? upper : (kthPairwiseDifference(x, y, total / 2) + upper) / 2;
}

/** A confidence interval for the shift and how it was built. */
export interface ShiftInterval {
  interval: [number, number];
  /** The order statistic used: the interval is [D(k), D(n1·n2 + 1 − k)]. */
  k: number;
  /** True when the samples are too small for the requested confidence and the interval is the full range. */
  widened: boolean;
}

/**
 * Moses' distribution-free interval [D(k), D(N + 1 − k)] over the N = n1·n2 ordered differences D. With the
 * exact U distribution (small samples, no ties) k is R's `qwilcox(α/2, n1, n2)`: the smallest q with
 * P(U ≤ q) ≥ α/2. Otherwise k = ⌊N/2 − z·s + ½⌋ with s the tie-corrected sd of U (Hollander & Wolfe). When
 * k < 1 no interval reaches the confidence; like R it falls back to k = 1 and says so in `widened`.
 */
export function shiftInterval(
  canary: readonly number[],
  baseline: readonly number[],
  confidence: number,
  tieTerm: number,
): ShiftInterval {
  const n1 = canary.length;
  const n2 = baseline.length;
  const total = n1 * n2;
  const halfAlpha = (1 - confidence) / 2;
  let k: number;
  if (usesExactMethod(n1, n2, tieTerm)) {
    const cdf = exactUCdf(n1, n2, Math.floor(total / 2));
    k = cdf.findIndex((p) => p >= halfAlpha);
    if (k < 0) k = 0;
  } else {
    k = Math.floor(total / 2 + normalQuantile(halfAlpha) * uStandardDeviation(n1, n2, tieTerm) + 0.5);
  }
  const widened = k < 1;
  k = Math.min(Math.max(k, 1), Math.ceil(total / 2));
  const x = [...canary].sort(ascending);
  const y = [...baseline].sort(ascending);
  return { interval: [kthPairwiseDifference(x, y, k), kthPairwiseDifference(x, y, total + 1 - k)], k, widened };
}
