import type { Compensation } from '../../src/domain/spec.schema.js';
import { bodySnippet, describeFetchError } from '../../src/util/http-text.js';
import { redactUrl } from '../../src/util/redact-url.js';
import { TargetError } from '../targets/port.js';
import { credentialHeaders, redactHeaders, type SecretLookup } from '../credentials.js';

/**
 * Calls a custom compensation hook. The `Idempotency-Key` header lets the hook recognise a retry of a
 * call that did reach it; headers and credentials come from the catalog hook, their secrets read now.
 */
export async function callHttpCompensation(
  compensation: Compensation,
  idempotencyKey: string,
  secret: SecretLookup,
): Promise<{ status: number }> {
  const { url, method, body, timeoutMs } = compensation.http;
  const credentials = await credentialHeaders(compensation.http, secret).catch((err: Error) => {
    throw new TargetError(`compensation ${redactUrl(url)}: ${err.message}`, 'CONFIG', true);
  });
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...credentials,
        'idempotency-key': idempotencyKey,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    // no `cause`: the raw fetch error quotes the URL whole, and a failure's causes are kept in workflow history
    throw new TargetError(
      `compensation ${method} ${redactUrl(url)} failed: ${describeFetchError(err)}`,
      'UNAVAILABLE',
      true,
    );
  }
  if (!res.ok) {
    // a hook that echoes request headers must not put the token into history
    const snippet = bodySnippet(redactHeaders(await res.text().catch(() => ''), credentials));
    // every failure is retried: rollback never gives up, a human can fix the hook meanwhile
    throw new TargetError(
      `compensation ${method} ${redactUrl(url)} answered ${res.status}${snippet}`,
      'UNAVAILABLE',
      true,
    );
  }
  await res.body?.cancel().catch(() => {});
  return { status: res.status };
}
