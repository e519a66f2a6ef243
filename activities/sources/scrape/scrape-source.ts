import type { ScrapeSource } from '../../../src/domain/guard-spec.schema.js';
import { bodySnippet } from '../../../src/util/http-text.js';
import { displayUrl, endpointHeaders, getText, type SourceOptions } from '../http-json/http-json-source.js';
import { SourceError, type MetricPoint, type MetricSource } from '../port.js';
import { matches, parseScrapeExpression, type ScrapeExpression, type Selector } from './scrape-expression.js';
import { parseExposition, seriesKey, type ExposedSample } from './text-format.js';

/** One scrape of an endpoint: its samples at one instant. */
export interface Scrape {
  atMs: number;
  samples: ExposedSample[];
}

/** Queries within this long of a scrape share it: two guards checked together must not measure a 1 ms span. */
const COALESCE_MS = 250;
/** Without a range, growth is measured against the previous scrape at least this much older. */
const MIN_SPAN_MS = 1_000;
/**
 * Scrapes happen when guards check, not on a clock: the previous check is one interval ago give or take a few
 * milliseconds. A range of exactly one interval must still find it, so a range reaches this much further back.
 */
const RANGE_SLACK_MS = 1_000;
/** How much history is kept per endpoint; a longer range measures over what is remembered. */
const RETAIN_MS = 60 * 60_000;
const MAX_SCRAPES = 4_000;

/**
 * Scrapes remembered per endpoint URL, in this process. Sources are created per guard check (see
 * `createMetricSource`), so history must outlive them; it is also what makes the first check after a worker
 * restart report no data instead of inventing a rate.
 */
const history = new Map<string, { scrapes: Scrape[]; inflight?: Promise<Scrape> }>();

/**
 * A Prometheus text endpoint scraped directly: for a demo or a service without a Prometheus server. Each instant
 * query scrapes the endpoint (or reuses a scrape under 250 ms old) and evaluates the expression form described
 * in `scrape-expression.ts`, which is NOT PromQL. The answer is one point with labels `{}` (no per-cohort
 * evaluation), `[]` when no series matches or there is no older scrape to compare with yet, and `value: null`
 * when a ratio's denominator did not grow (no requests is no data, not a 0% error rate). `ctx.atMs` is ignored:
 * a scrape is always now. Range queries (sample sets for rank tests) are not supported. Errors map as for the
 * other HTTP sources: unreachable, timeouts and 5xx are UNAVAILABLE, other 4xx CONFIG, a non-metrics body
 * UNPARSABLE. History lives in the worker process (one hour), so each worker measures from its own scrapes.
 */
export function createScrapeSource(spec: ScrapeSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  const where = `scrape ${displayUrl(spec.url)}`;

  async function scrapeNow(signal: AbortSignal | undefined): Promise<Scrape> {
    const entry = history.get(spec.url) ?? { scrapes: [] };
    history.set(spec.url, entry);
    const latest = entry.scrapes.at(-1);
    if (latest && Date.now() - latest.atMs < COALESCE_MS) return latest;
    if (entry.inflight) return entry.inflight;
    const headers = await endpointHeaders(spec, opts.secret, where);
    entry.inflight = fetchScrape({
      url: spec.url,
      where,
      headers,
      timeoutMs: spec.timeoutMs,
      signal,
      fetch: doFetch,
    }).finally(() => delete entry.inflight);
    const scrape = await entry.inflight;
    entry.scrapes.push(scrape);
    const keepFrom = scrape.atMs - RETAIN_MS;
    while (entry.scrapes.length > MAX_SCRAPES || (entry.scrapes[0] && entry.scrapes[0].atMs < keepFrom))
      entry.scrapes.shift();
    return scrape;
  }

  return {
    describe: `scrape:${displayUrl(spec.url)}`,
    async instant(expression, ctx) {
      const parsed = parseScrapeExpression(expression);
      const now = await scrapeNow(ctx.signal);
      return evaluate(parsed, now, history.get(spec.url)?.scrapes ?? [now]);
    },
    range(expression) {
      return Promise.reject(
        new SourceError(
          `${where} (query ${JSON.stringify(expression)}): the scrape source has no sample history for rank tests; ` +
            'use a threshold guard, or a ratio / two-proportion comparison',
          'BAD_QUERY',
        ),
      );
    },
  };
}

/** Evaluates a parsed expression at the scrape `now`, against the remembered `scrapes` (oldest first). */
export function evaluate(expr: ScrapeExpression, now: Scrape, scrapes: readonly Scrape[]): MetricPoint[] {
  if (expr.fn === 'value') {
    const sum = sumOf(now.samples, expr.selector);
    return sum === undefined ? [] : [{ labels: {}, value: Number.isFinite(sum) ? sum : null }];
  }
  const base = baseScrape(now, scrapes, expr.rangeMs);
  if (!base) return [];
  if (expr.fn === 'ratio') {
    const num = growth(base, now, expr.numerator);
    const den = growth(base, now, expr.denominator);
    if (num === undefined || den === undefined) return [];
    return [{ labels: {}, value: den > 0 ? num / den : null }];
  }
  const grew = growth(base, now, expr.selector);
  if (grew === undefined) return [];
  const value = expr.fn === 'rate' ? grew / ((now.atMs - base.atMs) / 1000) : grew;
  return [{ labels: {}, value }];
}

/**
 * The older scrape to measure growth from: the oldest one inside the range (plus {@link RANGE_SLACK_MS}), or,
 * without a range, the previous one at least 1 s older.
 */
function baseScrape(now: Scrape, scrapes: readonly Scrape[], rangeMs: number | undefined): Scrape | undefined {
  const older = scrapes.filter((s) => s.atMs < now.atMs);
  if (rangeMs === undefined) return older.filter((s) => now.atMs - s.atMs >= MIN_SPAN_MS).at(-1);
  return older.find((s) => s.atMs >= now.atMs - rangeMs - RANGE_SLACK_MS);
}

/** Summed growth of the matching series between two scrapes; undefined when no series matches now. */
function growth(base: Scrape, now: Scrape, selector: Selector): number | undefined {
  const before = new Map(base.samples.filter((s) => matches(selector, s)).map((s) => [seriesKey(s), s.value]));
  let total: number | undefined;
  for (const sample of now.samples) {
    if (!matches(selector, sample) || !Number.isFinite(sample.value)) continue;
    const previous = before.get(seriesKey(sample)) ?? 0;
    // a counter below its earlier value was reset (process restart): all of its current value is new
    total = (total ?? 0) + (sample.value >= previous ? sample.value - previous : sample.value);
  }
  return total;
}

function sumOf(samples: readonly ExposedSample[], selector: Selector): number | undefined {
  const hits = samples.filter((s) => matches(selector, s));
  return hits.length ? hits.reduce((a, s) => a + s.value, 0) : undefined;
}

interface ScrapeGet {
  url: string;
  where: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  fetch: typeof fetch;
}

/** GETs the endpoint and parses it; the error mapping matches `getJson` of the JSON sources. */
async function fetchScrape(req: ScrapeGet): Promise<Scrape> {
  const { response, text } = await getText({ ...req, accept: 'text/plain;version=0.0.4;q=1, */*;q=0.1' });
  // taken when the answer arrived: that is when the endpoint rendered its counters
  const atMs = Date.now();
  if (!response.ok) {
    const status = response.status;
    const retryable = status >= 500 || status === 408 || status === 429;
    throw new SourceError(`${req.where}: HTTP ${status}${bodySnippet(text)}`, retryable ? 'UNAVAILABLE' : 'CONFIG');
  }
  return { atMs, samples: parseExposition(text, req.where) };
}
