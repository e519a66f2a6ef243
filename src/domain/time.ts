/**
 * Duration arithmetic without the schema: workflow code imports this module, so it must stay free of zod
 * (every module a workflow imports is evaluated again for each workflow run).
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
/** The whole `30s / 5m / 1h30m / 2d` form. */
export const DURATION_FORM = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** Milliseconds in a duration string that `Duration` accepted. */
export function toMs(duration: string): number {
  let total = 0;
  for (const [, amount, unit] of duration.matchAll(PART))
    total += Number(amount) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(total);
}

/** A compact human form of milliseconds: `1h 5m`, `30s`, `250ms`. */
export function formatMs(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000);
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3_600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.slice(0, 2).join(' ');
}
