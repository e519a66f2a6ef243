import { z } from 'zod';
import { ExposureReading, type ExposureChange } from '../../../src/domain/exposure.schema.js';
import type { HttpTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError, type ExposureTarget } from '../port.js';
import { bodySnippet, describeFetchError, isTimeoutError } from '../../../src/util/http-text.js';
import { redactUrl } from '../../../src/util/redact-url.js';
import { credentialHeaders, noSecrets, redactHeaders, type SecretLookup } from '../../credentials.js';

/**
 * A flag service over HTTP. `apply` sends `spec.method` with `{ flag, variant, baselineVariant, percent, cohort?,
 * idempotencyKey }` and an `Idempotency-Key` header; `read` GETs the same URL and expects `{ percent, cohort?, lastKey? }`.
 * Credentials come from the catalog entry's secrets, read on every call, so a rotated secret applies without a restart.
 */
export function createHttpTarget(
  spec: HttpTargetSpec,
  opts: { secret?: SecretLookup; fetch?: typeof fetch } = {},
): ExposureTarget {
  const doFetch = opts.fetch ?? fetch;
  const shown = redactUrl(spec.url);

  async function call(
    method: string,
    headers: Record<string, string>,
    body?: string,
  ): Promise<{ status: number; text: string }> {
    const credentials = await credentialHeaders(spec, opts.secret ?? noSecrets).catch((err: Error) => {
      throw new TargetError(`${shown}: ${err.message}`, 'CONFIG', true);
    });
    const init: RequestInit = {
      method,
      headers: { accept: 'application/json', ...headers, ...credentials },
      signal: AbortSignal.timeout(spec.timeoutMs),
      // A redirect is a wrong URL to fix, not something to follow with a bearer token attached.
      redirect: 'manual',
    };
    if (body !== undefined) init.body = body;
    let response: Response;
    let text: string;
    try {
      response = await doFetch(spec.url, init);
      text = await response.text();
    } catch (err) {
      // fetch's own message quotes the URL it was given, userinfo included; the raw error is not kept as `cause`
      // because a failure's cause chain is recorded in workflow history too.
      const why = isTimeoutError(err) ? `timed out after ${spec.timeoutMs} ms` : `failed: ${describeFetchError(err)}`;
      throw new TargetError(redactUrl(`${method} ${shown} ${why}`), 'UNAVAILABLE', true);
    }
    if (!response.ok) {
      const location = response.headers.get('location');
      const body = location ? `redirected to ${location}` : redactHeaders(text, credentials);
      throw statusError(method, shown, response.status, body);
    }
    return { status: response.status, text: redactHeaders(text, credentials) };
  }

  return {
    describe: `http:${shown}#${spec.flag}`,
    async apply(change: ExposureChange) {
      const payload = {
        flag: spec.flag,
        variant: spec.variant,
        baselineVariant: spec.baselineVariant,
        percent: change.percent,
        ...(change.cohort ? { cohort: change.cohort } : {}),
        idempotencyKey: change.idempotencyKey,
      };
      const { text } = await call(
        spec.method,
        { 'content-type': 'application/json', 'idempotency-key': change.idempotencyKey },
        JSON.stringify(payload),
      );
      // Many services answer 204 or an ack; a 2xx means accepted, and read() is the verification.
      const echoed = parseReading(text);
      if (echoed) return echoed;
      const { idempotencyKey, ...exposure } = change;
      return { ...exposure, lastKey: idempotencyKey };
    },
    async read() {
      const { status, text } = await call('GET', {});
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw unparsable(shown, status, `is not JSON (${(err as Error).message})`, text);
      }
      const reading = ExposureReading.safeParse(json);
      if (!reading.success) {
        throw unparsable(shown, status, `is not an exposure reading: ${z.prettifyError(reading.error)}`, text);
      }
      return reading.data;
    },
  };
}

function parseReading(text: string): ExposureReading | undefined {
  try {
    const reading = ExposureReading.safeParse(JSON.parse(text));
    return reading.success ? reading.data : undefined;
  } catch {
    return undefined;
  }
}

/** `url` is already redacted; the body (a service's page, a redirect's Location) may quote URLs of its own. */
function statusError(method: string, url: string, status: number, body: string): TargetError {
  const message = redactUrl(`${method} ${url} answered ${status}${bodySnippet(body)}`);
  // 408/429 and 5xx are the server's momentary state; other 4xx mean the request itself is wrong.
  if (status >= 500 || status === 429 || status === 408) return new TargetError(message, 'UNAVAILABLE', true);
  return new TargetError(message, 'REJECTED', false);
}

function unparsable(url: string, status: number, problem: string, body: string): TargetError {
  // Retryable: a half-deployed service can briefly serve the wrong shape.
  return new TargetError(
    redactUrl(`GET ${url} answered ${status} but the body ${problem}${bodySnippet(body)}`),
    'UNPARSABLE',
    true,
  );
}
