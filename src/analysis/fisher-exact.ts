// Fisher's exact test for a 2×2 table, written here because npm has no maintained implementation of SciPy's
// two-sided rule. It needs no log-gamma: hypergeometric probabilities are built relative to the mode with the
// ratio pmf(k+1)/pmf(k) and normalised at the end, which is exact up to rounding and cannot overflow.

/**
 * P-value of Fisher's exact test for [[a, b], [c, d]] (non-negative integers), as
 * `scipy.stats.fisher_exact([[a, b], [c, d]], alternative).pvalue`. Two-sided: the probability, given the
 * margins, of every table no more likely than the observed one ("no more likely" allows a relative 1e-7 for
 * rounding, as R does). 'greater': P(top-left ≥ a), the first row's rate being higher; 'less': P(top-left ≤ a).
 */
export function fisherExact(
  a: number,
  b: number,
  c: number,
  d: number,
  alternative: 'two-sided' | 'greater' | 'less' = 'two-sided',
): number {
  const row1 = a + b;
  const col1 = a + c;
  const total = a + b + c + d;
  const kMin = Math.max(0, col1 - (c + d));
  const kMax = Math.min(col1, row1);
  if (kMax <= kMin) return 1;
  const ratio = (k: number): number => ((col1 - k) * (row1 - k)) / ((k + 1) * (total - col1 - row1 + k + 1));
  const mode = Math.min(kMax, Math.max(kMin, Math.floor(((row1 + 1) * (col1 + 1)) / (total + 2))));
  const weights = new Float64Array(kMax - kMin + 1);
  weights[mode - kMin] = 1;
  for (let k = mode; k < kMax; k++) weights[k + 1 - kMin] = (weights[k - kMin] ?? 0) * ratio(k);
  for (let k = mode; k > kMin; k--) weights[k - 1 - kMin] = (weights[k - kMin] ?? 0) / ratio(k - 1);
  const observed = (weights[a - kMin] ?? 0) * (1 + 1e-7);
  let sum = 0;
  let extreme = 0;
  for (let k = kMin; k <= kMax; k++) {
    const w = weights[k - kMin] ?? 0;
    sum += w;
    const counted = alternative === 'greater' ? k >= a : alternative === 'less' ? k <= a : w <= observed;
    if (counted) extreme += w;
  }
  return Math.min(1, extreme / sum);
}
