import { SourceError } from '../port.js';

/** One sample line of a Prometheus text exposition: `name{labels} value`. */
export interface ExposedSample {
  name: string;
  labels: Record<string, string>;
  /** NaN and ±Inf are kept as numbers here; the expression decides what they mean. */
  value: number;
}

const SAMPLE = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+\S+)?[ \t]*$/;
const LABEL = /[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*=[ \t]*"((?:[^"\\]|\\.)*)"[ \t]*(?:,|$)/y;

/**
 * Parses the Prometheus text format (version 0.0.4, which prom-client serves; OpenMetrics text parses too since
 * its extra lines are comments). Comment lines (`# HELP`, `# TYPE`, `# EOF`) and blank lines are skipped; the
 * optional timestamp is ignored, because a scrape is taken as one instant. A malformed line is UNPARSABLE and
 * names its line number, so a wrong URL (an HTML page) is reported as such instead of yielding no data.
 */
export function parseExposition(text: string, where: string): ExposedSample[] {
  const samples: ExposedSample[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    const value = m ? parseValue(m[3]!) : undefined;
    const labels = m ? parseLabels(m[2] ?? '') : undefined;
    if (!m || value === undefined || labels === undefined) {
      throw new SourceError(
        `${where}: line ${i + 1} is not Prometheus text format (${JSON.stringify(line.slice(0, 80))}); is the URL a /metrics endpoint?`,
        'UNPARSABLE',
      );
    }
    samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

function parseValue(text: string): number | undefined {
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  return Number.isNaN(value) ? undefined : value;
}

function parseLabels(text: string): Record<string, string> | undefined {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const at = LABEL.lastIndex;
    const m = LABEL.exec(text);
    if (!m) return text.slice(at).trim() === '' ? labels : undefined;
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
  }
  return labels;
}

/** A stable key for one series (name plus sorted labels), to pair the same series across two scrapes. */
export function seriesKey(sample: Pick<ExposedSample, 'name' | 'labels'>): string {
  const labels = Object.keys(sample.labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`);
  return `${sample.name}{${labels.join(',')}}`;
}
