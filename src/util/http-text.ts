import { redactUrl } from './redact-url.js';

const SNIPPET_CHARS = 200;

/** A one-line excerpt of a response body for error messages (`: <first 200 chars>`), or '' when empty. */
export function bodySnippet(body: string, max = SNIPPET_CHARS): string {
  const flat = body.replace(/\s+/g, ' ').trim();
  if (flat === '') return '';
  return `: ${flat.length > max ? `${flat.slice(0, max)}…` : flat}`;
}

/** A server that echoes request headers into an error page must not leak the token into logs. */
export function redactToken(text: string, token: string | undefined): string {
  return token ? text.split(token).join('[redacted]') : text;
}

/**
 * undici wraps the useful reason (ECONNREFUSED, ENOTFOUND) in `cause`. Its messages quote the URL they were given,
 * credentials included: those are redacted.
 */
export function describeFetchError(err: unknown): string {
  if (!(err instanceof Error)) return redactUrl(String(err));
  const cause =
    err.cause instanceof Error ? ` (${(err.cause as NodeJS.ErrnoException).code ?? err.cause.message})` : '';
  return redactUrl(`${err.message}${cause}`);
}

/** True for a fetch aborted by `AbortSignal.timeout`. */
export function isTimeoutError(err: unknown): boolean {
  return (
    err instanceof Error && (err.name === 'TimeoutError' || (err.name === 'AbortError' && /timeout/i.test(err.message)))
  );
}
