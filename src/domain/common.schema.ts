import { z } from 'zod';
import { MAX_CATALOG_NAME, MAX_ENV_NAME, MAX_HEADERS, MAX_HEADER_VALUE, MAX_LABEL, MAX_URL } from './bounds.js';

/** A string of at most `max` characters; longer is refused with a message that says the limit. */
export const BoundedText = (max: number) => z.string().max(max, `must be at most ${max} characters`);

/** A name or label a spec gives something (a step, a guard, a compensation): not empty, at most 100 characters. */
export const Label = BoundedText(MAX_LABEL).min(1, 'must not be empty');

/** The name of the environment variable that holds a secret: specs name it and never carry the secret itself. */
export const EnvVarName = z
  .string()
  .max(MAX_ENV_NAME, `must be at most ${MAX_ENV_NAME} characters`)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a secret value');
export type EnvVarName = z.infer<typeof EnvVarName>;

/**
 * An endpoint a spec or the catalog points at (a target, a metric source, a hook, a webhook): http or https only,
 * and no credentials in it (`user:password@`): a URL is recorded in workflow history as written; credentials go in
 * the catalog's `auth`, by secret name.
 */
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(MAX_URL, `must be at most ${MAX_URL} characters`)
  .refine(
    (u) => !/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(u),
    'must not carry credentials (user:password@): declare them as auth with a secret in the catalog',
  );
export type HttpUrl = z.infer<typeof HttpUrl>;

/** The name of an entry in the operator's catalog (a target, provider, template, notifier, hook, secret, principal). */
export const CatalogName = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_CATALOG_NAME, `must be at most ${MAX_CATALOG_NAME} characters`)
  .regex(
    /^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/,
    'must be a catalog name (a-z, 0-9, ".", "_" and "-", starting and ending with a letter or digit)',
  );
export type CatalogName = z.infer<typeof CatalogName>;

/** A header value in the catalog: plain text, or `{ secret: name }` resolved by the activity that sends it. */
export const HeaderValue = z.union([BoundedText(MAX_HEADER_VALUE), z.object({ secret: CatalogName }).strict()]);
export type HeaderValue = z.infer<typeof HeaderValue>;

/** Request headers an operator attaches to an endpoint (tenant headers, API keys by secret name). */
export const Headers = z
  .record(
    z
      .string()
      .min(1)
      .max(MAX_LABEL, `must be at most ${MAX_LABEL} characters`)
      .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be an HTTP header name'),
    HeaderValue,
  )
  .refine((h) => Object.keys(h).length <= MAX_HEADERS, `must list at most ${MAX_HEADERS} headers`);
export type Headers = z.infer<typeof Headers>;

/** How an activity authenticates to an endpoint: a bearer token or basic auth, the secret by its catalog name. */
export const HttpAuth = z.union([
  z.object({ bearer: CatalogName }).strict(),
  z.object({ basic: z.object({ username: BoundedText(MAX_LABEL).min(1), password: CatalogName }).strict() }).strict(),
]);
export type HttpAuth = z.infer<typeof HttpAuth>;
