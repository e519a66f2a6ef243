import type { Compensation } from '../../src/domain/spec.schema.js';
import { bodySnippet, describeFetchError, redactToken } from '../../src/util/http-text.js';
import { redactUrl } from '../../src/util/redact-url.js';
import { TargetError } from '../targets/port.js';
import { secretFromEnv } from '../secrets.js';

/**
 * Calls a custom compensation hook. The `Idempotency-Key` header lets the hook recognise a retry of a
 * call that did reach it; the bearer token comes from the environment variable the spec names.
 */
export async function callHttpCompensation(
  compensation: Compensation,
  idempotencyKey: string,
  env: NodeJS.ProcessEnv,
): Promise<{ status: number }> {
  const { url, method, body, headers, tokenEnv, timeoutMs } = compensation.http;
  const auth: Record<string, string> = {};
  if (tokenEnv) {
    const token = secretFromEnv(tokenEnv, env);
    if (!token)
      throw new TargetError(
        `compensation ${redactUrl(url)}: environment variable ${tokenEnv} is not set`,
        'CONFIG',
        true,
      );
    auth.authorization = `Bearer ${token}`;
  }
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: {
        ...headers,
        ...auth,
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
    const snippet = bodySnippet(redactToken(await res.text().catch(() => ''), auth.authorization?.slice(7)));
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
