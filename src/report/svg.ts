/** Small, dependency-free helpers for drawing SVG as text: escaping, scales, ticks, colours. */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an XML/HTML text node or a quoted attribute. Every string from a status goes through this. */
export function esc(text: string | number): string {
  return String(text).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** A number rounded for coordinates (keeps the markup short and stable). */
export const n = (x: number): string => String(Math.round(x * 10) / 10);

/** A linear map from a domain onto pixels; a degenerate domain maps to the middle. */
export function linear(d0: number, d1: number, r0: number, r1: number): (x: number) => number {
  const span = d1 - d0;
  return (x) => (span === 0 ? (r0 + r1) / 2 : r0 + ((x - d0) / span) * (r1 - r0));
}

/** About `count` round values (1, 2, 2.5, 5 × 10^k) from at or below `lo` to at or above `hi`. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 2.5, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  const last = Math.ceil(hi / step - 1e-9) * step;
  for (let v = Math.floor(lo / step + 1e-9) * step; v <= last + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

const TIME_STEPS = [
  100, 200, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000,
  3_600_000, 7_200_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000, 172_800_000, 604_800_000,
];

/** Elapsed-time ticks (ms since start) at a round interval, about `count` of them. */
export function timeTicks(durationMs: number, count = 8): number[] {
  const step =
    TIME_STEPS.find((s) => s * count >= durationMs) ?? Math.ceil(durationMs / count / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = 0; t <= durationMs + 1e-6; t += step) ticks.push(t);
  return ticks;
}

/** Elapsed time as a tick label: `+250ms`, `+1.5s`, `+2m`, `+1h 30m`, `+2d`. */
export function formatElapsed(ms: number): string {
  if (ms === 0) return '0';
  if (ms < 1_000) return `+${Math.round(ms)}ms`;
  if (ms < 60_000) return `+${Number((ms / 1_000).toFixed(1))}s`;
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  const parts: string[] = [];
  let rest = Math.round(ms / 1_000) * 1_000;
  for (const [unit, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return `+${parts.join(' ')}`;
}

/** A measured value for labels: 4 significant digits, no exponent for everyday magnitudes. */
export function formatValue(x: number | null): string {
  if (x === null) return 'no data';
  if (!Number.isFinite(x)) return x > 0 ? '∞' : x < 0 ? '−∞' : 'NaN';
  return String(Number(x.toPrecision(4)));
}

/** An ISO time shortened to `YYYY-MM-DD HH:MM:SS.mmm UTC`. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')} UTC`;
}

/** Colours of the picture, shared by the SVG and the HTML legend. */
export const COLOURS = {
  exposure: '#1f5fbf',
  exposureFill: 'rgba(31,95,191,0.10)',
  grid: '#e3e6ea',
  axis: '#5b6470',
  text: '#1d2430',
  muted: '#6b7480',
  pause: 'rgba(120,120,120,0.18)',
  rollback: 'rgba(214,40,40,0.16)',
  rollbackEdge: '#d62828',
  approval: '#1a8f3c',
  threshold: '#b3541e',
  ok: '#1f5fbf',
  failed: '#d62828',
  inconclusive: '#c98a00',
  error: '#7a3db8',
} as const;

/** Fill colour of each phase in the phase band. */
export const PHASE_COLOURS: Record<string, string> = {
  Pending: '#cfd4da',
  Progressing: '#8fb8ee',
  Observing: '#4f8ad8',
  AwaitingApproval: '#7cc891',
  Paused: '#a9a9a9',
  RollingBack: '#ef8a8a',
  Completed: '#2f9e55',
  RolledBack: '#b71c1c',
  Aborted: '#6d4c41',
  Failed: '#5d4037',
};

/** Colour of a verdict's marker. */
export function verdictColour(verdict: string): string {
  switch (verdict) {
    case 'Failed':
      return COLOURS.failed;
    case 'Inconclusive':
      return COLOURS.inconclusive;
    case 'Error':
      return COLOURS.error;
    default:
      return COLOURS.ok;
  }
}

/** Text clipped to about `max` characters with an ellipsis (the full text stays in a `<title>` tooltip). */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(1, max - 1))}…`;
}
