import { describe, expect, it } from 'vitest';
import { normalQuantile, normalQuantileUpper, zCritical, zCriticalOneSided } from '../../src/analysis/index.js';

/** scipy.special.ndtri / scipy.stats.norm.ppf (SciPy 1.17.1). */
const known: [number, number][] = [
  [1e-300, -37.0470962993612],
  [1e-100, -21.273453560965322],
  [1e-20, -9.262340089798409],
  [1e-17, -8.493793224109599],
  [1e-10, -6.361340902404056],
  [0.001, -3.090232306167813],
  [0.025, -1.9599639845400545],
  [0.3, -0.5244005127080409],
  [0.5, 0],
  [0.975, 1.959963984540054],
  [1 - 1e-10, 6.361340889697422],
];

describe('normalQuantile', () => {
  it.each(known)('Φ⁻¹(%s) = %s', (p, z) => {
    const got = normalQuantile(p);
    expect(Number.isFinite(got)).toBe(true);
    expect(Math.abs(got - z)).toBeLessThanOrEqual(1e-14 * Math.max(1, Math.abs(z)));
  });

  it('is infinite only at 0 and 1, NaN outside', () => {
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    expect(normalQuantile(Number.MIN_VALUE)).toBeGreaterThan(-40);
    expect(normalQuantile(-0.1)).toBeNaN();
  });

  it('gives upper quantiles from the tail mass and the usual critical values', () => {
    expect(normalQuantileUpper(1e-20)).toBeCloseTo(9.262340089798409, 13);
    expect(zCritical(0.95)).toBeCloseTo(1.959963984540054, 14);
    expect(zCriticalOneSided(0.95)).toBeCloseTo(1.6448536269514729, 14);
  });
});
