/*
 * Values as a human reads them, with their unit. Zod-free: workflow code and the terminal views import it.
 */

/** How a guard's values print (see `GuardUnit` in the guard schema). */
export type Unit = 'ratio' | 'percent' | 's' | 'ms' | 'count';

/** `x` to `digits` significant digits, without trailing zeros or exponent noise: 0.3317 → "0.332" (3). */
export function significant(x: number, digits = 4): string {
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'NaN';
  return String(Number(x.toPrecision(digits)));
}

/**
 * A value with its unit: `ratio` 0.3317 → "33.2 %", `percent` 5 → "5 %", `s` 0.332 → "332 ms", `s` 2.5 → "2.5 s",
 * `ms` 1500 → "1.5 s", `count` 12.0 → "12". Without a unit: four significant digits, no unit.
 */
export function formatValue(x: number, unit?: Unit | string): string {
  switch (unit) {
    case 'ratio':
      return `${significant(x * 100, 3)} %`;
    case 'percent':
      return `${significant(x, 3)} %`;
    case 's':
      return Math.abs(x) < 1 && x !== 0 ? `${significant(x * 1_000, 3)} ms` : `${significant(x, 3)} s`;
    case 'ms':
      return Math.abs(x) >= 1_000 ? `${significant(x / 1_000, 3)} s` : `${significant(x, 3)} ms`;
    case 'count':
      return significant(x, 4);
    default:
      return significant(x, 4);
  }
}

/** The raw value of a number {@link formatValue} printed: "5 %" → 0.05 for `ratio`, "332 ms" → 0.332 for `s`. */
export function parseValue(text: string, unit?: Unit | string): number {
  const m = /^(-?[\d.]+(?:e[+-]?\d+)?)(?: (%|ms|s))?$/.exec(text.trim());
  if (!m) return Number.NaN;
  const x = Number(m[1]);
  const shown = m[2];
  if (unit === 'ratio' && shown === '%') return x / 100;
  if (unit === 's' && shown === 'ms') return x / 1_000;
  if (unit === 'ms' && shown === 's') return x * 1_000;
  return x;
}
