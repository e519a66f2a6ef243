import { z } from 'zod';
import type { HttpAuth } from '../../../src/domain/common.schema.js';
import type { HttpJsonSource } from '../../../src/domain/guard-spec.schema.js';
import { SourceError, type MetricPoint, type MetricSamples, type MetricSource } from '../port.js';
import { bodySnippet, describeFetchError } from '../../../src/util/http-text.js';
import { credentialHeaders, noSecrets, redactHeaders, type SecretLookup } from '../../credentials.js';

/**
 * Any HTTP endpoint answering JSON. Each query GETs `spec.url`; the expression is a JSON path into the answer
 * (see {@link evaluateJsonPath}). Accepted shapes at that path:
 *
 * | at the path                                   | instant                       | range                           |
 * | --------------------------------------------- | ----------------------------- | ------------------------------- |
 * | missing or `null`, `[]`                        | `[]` (no data)                | `[]` (no data)                  |
 * | a number                                      | one point, labels `{}`        | one sample set of one value     |
 * | `{ labels?, value: number \| null }` or an array of them | one point each     | —                               |
 * | an array of numbers (`null` entries dropped)   | — (a sample set: use range)   | one sample set, labels `{}`     |
 * | `{ labels?, values: (number \| null)[] }` or an array of them | —             | one sample set each             |
 *
 * Anything else is UNPARSABLE. Errors map as for Prometheus (see {@link getJson}).
 */
export function createHttpJsonSource(spec: HttpJsonSource, opts: SourceOptions = {}): MetricSource {
  const doFetch = opts.fetch ?? fetch;
  const service = 'HTTP JSON source';

  async function select(expression: string, signal: AbortSignal | undefined): Promise<unknown> {
    const path = parseJsonPath(expression, service);
    const headers = await endpointHeaders(spec, opts.secret, `${service} ${displayUrl(spec.url)}`);
    const body = await getJson({
      service,
      url: new URL(spec.url),
      query: expression,
      headers,
      timeoutMs: spec.timeoutMs,
      signal,
      fetch: doFetch,
    });
    return evaluateParsedPath(path, body);
  }
  const unparsable = (expression: string, problem: string) =>
    new SourceError(
      `${service} ${displayUrl(spec.url)} (query ${JSON.stringify(expression)}): ${problem}`,
      'UNPARSABLE',
    );

  return {
    describe: `http-json:${displayUrl(spec.url)}`,
    async instant(expression, ctx) {
      const found = await select(expression, ctx.signal);
      if (found === undefined || found === null) return [];
      if (typeof found === 'number') return [{ labels: {}, value: found }];
      if (Array.isArray(found) && found.length > 0 && found.every((v) => typeof v === 'number' || v === null)) {
        throw unparsable(expression, 'an array of numbers is a sample set; query it as a range');
      }
      const points = z.union([JsonPoint, z.array(JsonPoint)]).safeParse(found);
      if (!points.success)
        throw unparsable(expression, `expected a number, null or { labels, value } points, got ${preview(found)}`);
      return Array.isArray(points.data) ? points.data : [points.data];
    },
    async range(expression, ctx) {
      const found = await select(expression, ctx.signal);
      if (found === undefined || found === null) return [];
      if (typeof found === 'number') return [{ labels: {}, values: [found] }];
      if (Array.isArray(found) && found.length === 0) return [];
      const numbers = z.array(z.number().nullable()).safeParse(found);
      if (numbers.success) return [{ labels: {}, values: finite(numbers.data) }];
      const sets = z.union([JsonSamples, z.array(JsonSamples)]).safeParse(found);
      if (!sets.success)
        throw unparsable(expression, `expected numbers or { labels, values } sample sets, got ${preview(found)}`);
      return Array.isArray(sets.data) ? sets.data : [sets.data];
    },
  };
}

const Labels = z.record(z.string(), z.string()).default({});
const JsonPoint = z.object({ labels: Labels, value: z.number().nullable() }).transform((p): MetricPoint => p);
const JsonSamples = z
  .object({ labels: Labels, values: z.array(z.number().nullable()) })
  .transform((s): MetricSamples => ({ labels: s.labels, values: finite(s.values) }));

const finite = (values: (number | null)[]): number[] =>
  values.filter((v): v is number => v !== null && Number.isFinite(v));
const preview = (v: unknown): string => (JSON.stringify(v) ?? String(v)).slice(0, 80);

type PathSegment = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'wildcard' };

/**
 * A small JSON path: `$`, `.key`, `['key with space']` / `["key"]`, `[0]`, `[-1]` (from the end), `[*]` and `.*`.
 * Without a wildcard the result is the one value there (undefined when missing); with one, the array of all
 * matches (missing branches skipped). A malformed path is a BAD_QUERY.
 */
export function evaluateJsonPath(path: string, document: unknown): unknown {
  return evaluateParsedPath(parseJsonPath(path, 'JSON path'), document);
}

function evaluateParsedPath(segments: PathSegment[], document: unknown): unknown {
  let current: unknown[] = [document];
  for (const segment of segments) current = current.flatMap((node) => step(node, segment));
  return segments.some((s) => s.kind === 'wildcard') ? current : current[0];
}

function step(node: unknown, segment: PathSegment): unknown[] {
  if (segment.kind === 'wildcard') {
    if (Array.isArray(node)) return node;
    return typeof node === 'object' && node !== null ? Object.values(node) : [];
  }
  if (segment.kind === 'index') {
    if (!Array.isArray(node)) return [];
    const i = segment.index < 0 ? node.length + segment.index : segment.index;
    return i >= 0 && i < node.length ? [node[i]] : [];
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node) || !Object.hasOwn(node, segment.key)) return [];
  return [(node as Record<string, unknown>)[segment.key]];
}

// Wildcards first, so `.*` is not read as a key named "*".
const TOKEN = /\.\*|\[\*\]|\.([^.[\]\s'"]+)|\[(-?\d+)\]|\[(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")\]/y;

function parseJsonPath(path: string, service: string): PathSegment[] {
  const text = path.trim();
  const bad = (why: string) =>
    new SourceError(`${service}: bad JSON path ${JSON.stringify(path)}: ${why}`, 'BAD_QUERY');
  if (!text.startsWith('$')) throw bad("it must start with '$' (e.g. $.data.errorRate)");
  const segments: PathSegment[] = [];
  TOKEN.lastIndex = 1;
  while (TOKEN.lastIndex < text.length) {
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (!m) throw bad(`unexpected ${JSON.stringify(text.slice(at, at + 10))} at offset ${at}`);
    const [whole, key, index, single, double] = m;
    if (key !== undefined) segments.push({ kind: 'key', key });
    else if (index !== undefined) segments.push({ kind: 'index', index: Number(index) });
    else if (single !== undefined || double !== undefined)
      segments.push({ kind: 'key', key: (single ?? double ?? '').replace(/\\(.)/g, '$1') });
    else if (whole === '.*' || whole === '[*]') segments.push({ kind: 'wildcard' });
  }
  return segments;
}

/** One GET of a JSON API, with the error mapping every HTTP source shares. */
export interface JsonGet {
  /** Who answers, for messages ("Prometheus", "HTTP JSON source"). */
  service: string;
  url: URL;
  /** The user's query, named in every error. */
  query: string;
  /** Credentials from the catalog (see {@link endpointHeaders}); their values are redacted from answers. */
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  fetch: typeof fetch;
}

/**
 * GETs `req.url` and parses the JSON answer. Connection failures, timeouts (`timeoutMs`, combined with the caller's
 * signal), 408, 429 and 5xx are UNAVAILABLE; 400 and 422 are BAD_QUERY with the server's `error` text (Prometheus'
 * error JSON) or a snippet of the body; other 4xx are CONFIG (wrong URL or token); a non-JSON body is UNPARSABLE.
 * Redirects are not followed (a bearer token must not travel to another host). When the caller's own signal
 * aborts (activity cancelled), its reason is rethrown unchanged, not disguised as an outage.
 */
export async function getJson(req: JsonGet): Promise<unknown> {
  const where = `${req.service} ${displayUrl(req.url)} (query ${JSON.stringify(req.query)})`;
  const { response, text } = await getText({ ...req, where, accept: 'application/json' });
  if (!response.ok) throw statusError(where, response.status, text);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new SourceError(`${where}: the answer is not JSON${bodySnippet(text)}`, 'UNPARSABLE', { cause: err });
  }
}

/** One request (a GET unless `method` says otherwise) whose body is read as text, for every HTTP source. */
export interface TextGet {
  url: string | URL;
  method?: 'GET' | 'POST';
  /** Sent as JSON with a POST. */
  body?: unknown;
  /** Names the endpoint in every error. */
  where: string;
  accept: string;
  headers: Record<string, string>;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  fetch: typeof fetch;
}

/**
 * GETs the URL with the bearer token (redacted from the body), no redirects, and a timeout combined with the
 * caller's signal. Connection failures and timeouts are UNAVAILABLE; a cancelled caller's reason is rethrown.
 */
export async function getText(req: TextGet): Promise<{ response: Response; text: string }> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const headers: Record<string, string> = { ...req.headers, accept: req.accept };
  const post = req.method === 'POST';
  if (post) headers['content-type'] = 'application/json';
  try {
    const response = await req.fetch(req.url, {
      method: req.method ?? 'GET',
      headers,
      signal,
      redirect: 'manual',
      ...(post ? { body: JSON.stringify(req.body) } : {}),
    });
    return { response, text: redactHeaders(await response.text(), req.headers) };
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    const why = timeout.aborted ? `no answer within ${req.timeoutMs} ms` : `unreachable: ${describeFetchError(err)}`;
    // no `cause`: the raw fetch error quotes the URL whole, and a failure's causes are kept in workflow history
    throw new SourceError(`${req.where}: ${why}`, 'UNAVAILABLE');
  }
}

function statusError(where: string, status: number, text: string): SourceError {
  const detail = errorText(text);
  const message = `${where}: HTTP ${status}${detail}`;
  if (status === 400 || status === 422) return new SourceError(message, 'BAD_QUERY');
  if (status >= 500 || status === 408 || status === 429) return new SourceError(message, 'UNAVAILABLE');
  return new SourceError(message, 'CONFIG');
}

/** Prometheus answers `{ status: "error", errorType, error }`; other APIs often use `error` or `message`. */
function errorText(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown };
    const said =
      typeof body.error === 'string' ? body.error : typeof body.message === 'string' ? body.message : undefined;
    if (said !== undefined) return bodySnippet(said);
  } catch {
    /* not JSON: fall back to the raw body */
  }
  return bodySnippet(text);
}

/** What HTTP sources are built with: the catalog's secrets (read per call) and, in tests, a fetch. */
export interface SourceOptions {
  secret?: SecretLookup;
  fetch?: typeof fetch;
}

/**
 * The credential headers of a source's catalog entry, read on every call so a rotated secret applies at once. A
 * secret that is undeclared or unset is CONFIG, and the message names the secret, never a value.
 */
export async function endpointHeaders(
  spec: Parameters<typeof credentialHeaders>[0],
  secret: SecretLookup | undefined,
  who: string,
): Promise<Record<string, string>> {
  try {
    return await credentialHeaders(spec, secret ?? noSecrets);
  } catch (err) {
    throw new SourceError(`${who}: ${(err as Error).message}`, 'CONFIG');
  }
}

/** The URL for messages: no credentials and no query string (either may hold a secret). */
export function displayUrl(url: string | URL): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname}`;
}

/** Which credential a request carried, by name, never its value: for a 401/403's message. */
export function credentialNote(auth: HttpAuth): string {
  return 'bearer' in auth
    ? `sent the bearer token of secret ${JSON.stringify(auth.bearer)}`
    : `sent user ${JSON.stringify(auth.basic.username)} with the password of secret ${JSON.stringify(auth.basic.password)}`;
}

/** A refused credential (401/403, CONFIG) with a note of which one was sent; any other error unchanged. */
export function withCredentialNote(err: unknown, auth: HttpAuth | undefined): unknown {
  if (!(err instanceof SourceError) || err.code !== 'CONFIG' || !/: HTTP 40[13]\b/.test(err.message)) return err;
  const note = auth ? credentialNote(auth) : 'sent no credentials';
  return new SourceError(`${err.message} (${note})`, 'CONFIG');
}
