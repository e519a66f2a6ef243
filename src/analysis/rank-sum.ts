// The Mann–Whitney U test, written here because no maintained npm package gives SciPy's exact null distribution
// together with the tie- and continuity-corrected normal approximation. It mirrors
// `scipy.stats.mannwhitneyu(x, y, alternative=…, method='auto', use_continuity=True)`.
import { normalSf } from './normal.js';

/** Which alternative the p-value is for: 'greater' means x tends to be larger than y. */
export type Alternative = 'two-sided' | 'greater' | 'less';

/** How the p-value was computed. */
export type RankSumMethod = 'exact' | 'asymptotic';

/** The outcome of a Mann–Whitney U test of x against y. */
export interface RankSumResult {
  /** U of the first sample: the number of pairs (x_i, y_j) with x_i > y_j, ties counting ½. */
  u: number;
  pValue: number;
  method: RankSumMethod;
  /** Σ(t³ − t) over groups of tied values in the pooled sample; 0 without ties. */
  tieTerm: number;
}

/** Sum of the pooled (average) ranks of the first `n1` values, and the tie term Σ(t³ − t). */
export function rankSum(x: readonly number[], y: readonly number[]): { r1: number; tieTerm: number } {
  const pooled = [...x.map((v) => ({ v, first: true })), ...y.map((v) => ({ v, first: false }))];
  pooled.sort((a, b) => a.v - b.v);
  let r1 = 0;
  let tieTerm = 0;
  for (let start = 0; start < pooled.length;) {
    let end = start;
    while (end + 1 < pooled.length && pooled[end + 1]?.v === pooled[start]?.v) end++;
    const t = end - start + 1;
    const averageRank = (start + end) / 2 + 1;
    for (let i = start; i <= end; i++) if (pooled[i]?.first) r1 += averageRank;
    tieTerm += t * t * t - t;
    start = end + 1;
  }
  return { r1, tieTerm };
}

/**
 * P(U ≤ u) for u = 0..maxU under H0 without ties, for samples of sizes m and n. The counts are the coefficients
 * of the Gaussian binomial [m+n choose m]_q = Π_{i=1..m} (1 − q^(n+i)) / (1 − q^i), truncated at degree maxU;
 * O(min(m,n)·maxU) time.
 */
export function exactUCdf(m: number, n: number, maxU: number): Float64Array {
  const small = Math.min(m, n);
  const large = Math.max(m, n);
  const counts = new Float64Array(maxU + 1);
  counts[0] = 1;
  let total = 1;
  for (let i = 1; i <= small; i++) {
    for (let u = maxU; u >= large + i; u--) counts[u] = (counts[u] ?? 0) - (counts[u - large - i] ?? 0);
    for (let u = i; u <= maxU; u++) counts[u] = (counts[u] ?? 0) + (counts[u - i] ?? 0);
    total = (total * (large + i)) / i;
  }
  let cumulative = 0;
  for (let u = 0; u <= maxU; u++) {
    cumulative += counts[u] ?? 0;
    counts[u] = Math.min(1, cumulative / total);
  }
  return counts;
}

/** SciPy's 'auto' rule: exact when either sample has at most 8 values and nothing is tied. */
export function usesExactMethod(n1: number, n2: number, tieTerm: number): boolean {
  return (n1 <= 8 || n2 <= 8) && tieTerm === 0;
}

/** Standard deviation of U under H0, corrected for ties. */
export function uStandardDeviation(n1: number, n2: number, tieTerm: number): number {
  const n = n1 + n2;
  return Math.sqrt(((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1))));
}

/**
 * Mann–Whitney U test of x against y (both non-empty). `u` is x's U, as SciPy reports it. Exact p-value for small
 * samples without ties; otherwise the normal approximation with tie and continuity corrections. 'greater' tests
 * whether x tends to exceed y (P(U ≥ u)), 'less' the opposite; 'two-sided' doubles the smaller tail. When every
 * value is tied, U sits at its mean and p is 1.
 */
export function mannWhitneyU(
  x: readonly number[],
  y: readonly number[],
  method?: RankSumMethod,
  alternative: Alternative = 'two-sided',
): RankSumResult {
  const n1 = x.length;
  const n2 = y.length;
  const { r1, tieTerm } = rankSum(x, y);
  const u = r1 - (n1 * (n1 + 1)) / 2;
  // The U whose upper tail is the p-value: SciPy's convention (for 'less', the U of y).
  const uTail = alternative === 'greater' ? u : alternative === 'less' ? n1 * n2 - u : Math.max(u, n1 * n2 - u);
  const chosen = method ?? (usesExactMethod(n1, n2, tieTerm) ? 'exact' : 'asymptotic');
  let p: number;
  if (chosen === 'exact') {
    // P(U ≥ uTail) = P(U ≤ n1·n2 − uTail) by symmetry.
    const lower = Math.round(n1 * n2 - uTail);
    p = exactUCdf(n1, n2, lower)[lower] ?? 1;
  } else {
    const s = uStandardDeviation(n1, n2, tieTerm);
    p = s > 0 ? normalSf((uTail - (n1 * n2) / 2 - 0.5) / s) : 1;
  }
  if (alternative === 'two-sided') p *= 2;
  return { u, pValue: Math.min(1, Math.max(0, p)), method: chosen, tieTerm };
}
