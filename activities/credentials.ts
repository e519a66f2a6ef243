import type { Headers, HttpAuth } from '../src/domain/common.schema.js';

/** Reads a catalog secret by name at call time (`SecretStore.get`); rejects when it is undeclared or unset. */
export type SecretLookup = (name: string) => Promise<string>;

/** For adapters built without a catalog: any secret asked for is missing. */
export const noSecrets: SecretLookup = (name) =>
  Promise.reject(new Error(`secret "${name}" is not declared in the catalog`));

/**
 * The request headers an endpoint's catalog entry asks for: its plain headers, each `{ secret }` header, and its
 * `auth` as an `Authorization` header. Secrets are read now, so a rotated one applies at once; an error names the
 * secret, never a value.
 */
export async function credentialHeaders(
  endpoint: { auth?: HttpAuth | undefined; headers?: Headers | undefined },
  secret: SecretLookup,
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(endpoint.headers ?? {}))
    out[name.toLowerCase()] = typeof value === 'string' ? value : await secret(value.secret);
  const auth = endpoint.auth;
  if (auth && 'bearer' in auth) out.authorization = `Bearer ${await secret(auth.bearer)}`;
  if (auth && 'basic' in auth) {
    const password = await secret(auth.basic.password);
    out.authorization = `Basic ${Buffer.from(`${auth.basic.username}:${password}`, 'utf8').toString('base64')}`;
  }
  return out;
}

/**
 * Every credential value in `headers` replaced in `text`: each whole value, an Authorization header's token, and a
 * basic credential decoded (`user:password` and the password alone), as a server may echo any of them.
 */
export function redactHeaders(text: string, headers: Readonly<Record<string, string>>): string {
  let out = text;
  for (const value of Object.values(headers)) {
    const token = value.replace(/^(Bearer|Basic)\s+/i, '');
    const parts = [value, token];
    if (/^Basic\s+/i.test(value)) {
      const decoded = Buffer.from(token, 'base64').toString('utf8');
      parts.push(decoded, decoded.slice(decoded.indexOf(':') + 1));
    }
    for (const part of parts) if (part.length >= 4 && out.includes(part)) out = out.split(part).join('[redacted]');
  }
  return out;
}
