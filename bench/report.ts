/**
 * What a measurement returns and how a run is printed and stored: rows of value against target, a fixed-width
 * table, and JSON plus the printed table under `bench/results/`.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import type { MachineInfo } from './machine.js';

/** An upper bound a value must stay under (`<`) or at (`≤`). */
export interface Target {
  max: number;
  inclusive: boolean;
}

/** One printed line: a value, its unit, and (when the brief sets one) its target. */
export interface Row {
  metric: string;
  value: number;
  unit: string;
  target?: Target;
  /** Sample size behind a percentile or mean. */
  n?: number;
  note?: string;
}

export interface MeasurementResult {
  name: string;
  title: string;
  rows: Row[];
  /** Raw samples and settings, kept in the JSON only. */
  details: Record<string, unknown>;
  durationMs: number;
  /** Set when the measurement threw; its rows are then whatever it produced before. */
  error?: string;
}

export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  measurements: string[];
  machine: MachineInfo;
  results: MeasurementResult[];
}

export const below = (max: number): Target => ({ max, inclusive: false });
export const atMost = (max: number): Target => ({ max, inclusive: true });

export function meets(row: Row): boolean | undefined {
  if (!row.target || !Number.isFinite(row.value)) return row.target ? false : undefined;
  return row.target.inclusive ? row.value <= row.target.max : row.value < row.target.max;
}

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN for none. With n = 50, p99 is the maximum. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** The median (mean of the middle two for an even count); NaN for none. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** p50, p99 and max rows for a latency sample set, the target applying to p99. */
export function latencyRows(label: string, samples: readonly number[], target?: Target): Row[] {
  const n = samples.length;
  return [
    { metric: `${label} p50`, value: percentile(samples, 50), unit: 'ms', n },
    { metric: `${label} p99`, value: percentile(samples, 99), unit: 'ms', n, ...(target ? { target } : {}) },
    { metric: `${label} max`, value: Math.max(...samples), unit: 'ms', n },
  ];
}

function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return 'n/a';
  const digits = Math.abs(value) >= 100 || Number.isInteger(value) ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  const text = value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  return unit === 'x' ? `${text}×` : `${text} ${unit}`;
}

function formatTarget(row: Row): string {
  if (!row.target) return '';
  return `${row.target.inclusive ? '≤' : '<'} ${formatValue(row.target.max, row.unit)}`;
}

/** The table printed at the end of a run (and stored as `latest.txt`). */
export function renderTable(report: BenchReport): string {
  const header = ['measurement', 'metric', 'value', 'target', 'meets', 'n'];
  const lines: string[][] = [];
  for (const result of report.results) {
    if (result.error) lines.push([result.name, `FAILED: ${result.error.split('\n')[0]!.slice(0, 90)}`, '', '', '', '']);
    for (const row of result.rows) {
      const ok = meets(row);
      lines.push([
        result.name,
        row.metric,
        formatValue(row.value, row.unit),
        formatTarget(row),
        ok === undefined ? '' : ok ? 'yes' : 'NO',
        row.n === undefined ? '' : String(row.n),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i === 2 || i === 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const notes = report.results.flatMap((r) =>
    r.rows.filter((row) => row.note).map((row) => `  ${r.name} / ${row.metric}: ${row.note}`),
  );
  const m = report.machine;
  return [
    `rollout-orchestrator bench, ${report.startedAt}${report.quick ? ' (QUICK: small sizes, not for comparison)' : ''}`,
    `machine: ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, Node ${m.node}, Temporal CLI ${m.temporalCli}, load ${m.loadAverage.start.join('/')} → ${m.loadAverage.end.join('/')}`,
    m.external
      ? `temporal: ${m.external}`
      : `sqlite: ${m.sqlite.pragmas.join(', ') || 'none'}; journal ${m.sqlite.journal}; dynamic config: ${m.dynamicConfig.join(', ') || 'server defaults'}`,
    '',
    fmt(header),
    fmt(widths.map((w) => '-'.repeat(w))),
    ...lines.map(fmt),
    ...(notes.length ? ['', 'notes:', ...notes] : []),
    '',
  ].join('\n');
}

/**
 * Writes `<stamp>.json` and `<stamp>.txt`; a full-size run of every measurement also becomes `latest.json` /
 * `latest.txt` (a run of some parts, or a quick one, never replaces the last complete picture).
 */
export async function writeReport(report: BenchReport, table: string, dir: URL, complete: boolean): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-') + (report.quick ? '-quick' : '');
  const json = `${JSON.stringify(report, null, 2)}\n`;
  const files = [`${stamp}.json`, `${stamp}.txt`];
  await writeFile(new URL(files[0]!, dir), json);
  await writeFile(new URL(files[1]!, dir), table);
  if (!report.quick && complete) {
    await writeFile(new URL('latest.json', dir), json);
    await writeFile(new URL('latest.txt', dir), table);
    files.push('latest.json', 'latest.txt');
  }
  return files.map((f) => new URL(f, dir).pathname);
}
