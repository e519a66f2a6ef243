import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../domain/catalog.schema.js';
import type { LoadedCatalog } from '../catalog/load.js';
import { SecretStore } from '../catalog/secrets.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a bearer token (liveness probes). */
    public?: boolean;
    /** The role a principal needs for this route; routes without one need only a valid token (reads). */
    role?: Role;
  }
  interface FastifyRequest {
    /** Who called: the principal whose token the request presented. */
    principal?: ApiPrincipal;
  }
}

/** An authenticated caller of the API: a catalog principal's name and roles. */
export interface ApiPrincipal {
  name: string;
  roles: readonly Role[];
}

/** The principal a presented token belongs to, or undefined; tokens are compared in constant time. */
export type Authenticate = (token: string) => Promise<ApiPrincipal | undefined>;

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A constant-time comparison of a presented token against the expected one. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented token's length (timingSafeEqual needs equal lengths).
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The dashboard's session cookie: the principal's token, HttpOnly and SameSite=Strict. */
export const SESSION_COOKIE = 'rollout_session';

/** The header a cookie-authenticated change must carry: a cross-site form or image cannot set it. */
export const CSRF_HEADER = 'x-rollout-csrf';

/** The session cookie's token, or undefined. */
export function sessionToken(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name !== SESSION_COOKIE) continue;
    try {
      const value = decodeURIComponent(rest.join('='));
      return value === '' ? undefined : value;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/** Whether `principal` holds `role` (`admin` holds every role). */
export const hasRole = (principal: ApiPrincipal, role: Role): boolean =>
  principal.roles.includes('admin') || principal.roles.includes(role);

/**
 * Principals from `(name, roles, token)` entries: every entry's token is compared (no early exit, so the time taken
 * does not say which principal matched). A token read fresh per request lets a rotated secret apply at once.
 */
export function principalAuthenticator(
  entries: () => Promise<readonly { name: string; roles: readonly Role[]; token: string | undefined }[]>,
): Authenticate {
  return async (presented) => {
    let found: ApiPrincipal | undefined;
    for (const entry of await entries()) {
      if (entry.token !== undefined && tokenMatches(presented, entry.token) && !found)
        found = { name: entry.name, roles: entry.roles };
    }
    return found;
  };
}

/**
 * Requires `Authorization: Bearer <token>` of a known principal (or the dashboard's session cookie holding one) on
 * every route not marked `config: { public: true }`, including unknown ones (an unauthenticated caller cannot probe
 * which routes exist), and the route's `role`: 401 without a valid token, 403 without the role. A change (any method
 * but GET and HEAD) authenticated by the cookie also needs the {@link CSRF_HEADER} header, which a page on another
 * site cannot send without CORS, which this API never grants.
 */
export function installBearerAuth(app: FastifyInstance, authenticate: Authenticate): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public === true) return;
    const bearer = bearerToken(request.headers.authorization);
    const cookie = bearer === undefined ? sessionToken(request.headers.cookie) : undefined;
    const presented = bearer ?? cookie;
    const principal = presented === undefined ? undefined : await authenticate(presented);
    if (!principal) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="rollout"')
        .send({
          error:
            presented === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'invalid bearer token',
        });
      return;
    }
    request.principal = principal;
    // a change made with the dashboard's cookie must come from the dashboard's own script (CSRF)
    if (
      cookie !== undefined &&
      request.method !== 'GET' &&
      request.method !== 'HEAD' &&
      request.headers[CSRF_HEADER] !== '1'
    ) {
      await reply.code(403).send({ error: `a change with the session cookie needs the ${CSRF_HEADER} header` });
      return;
    }
    const role = request.routeOptions.config.role;
    if (role !== undefined && !hasRole(principal, role)) {
      await reply.code(403).send({ error: `principal "${principal.name}" does not hold the role ${role}` });
    }
  });
}

/**
 * The catalog's principals (each token read from its secret per request, so a rotated one applies at once) and,
 * with `token`, one more principal named `tokenPrincipal` holding every role; undefined when there are none.
 */
export function catalogAuthenticator(options: {
  catalog?: LoadedCatalog | undefined;
  secrets?: SecretStore | undefined;
  token?: string | undefined;
  tokenPrincipal: string;
}): Authenticate | undefined {
  const principals = Object.entries(options.catalog?.catalog.principals ?? {});
  const token = options.token?.trim() ? options.token : undefined;
  if (principals.length === 0 && token === undefined) return undefined;
  const secrets = options.secrets ?? (options.catalog ? new SecretStore(options.catalog) : undefined);
  return principalAuthenticator(async () => [
    ...(await Promise.all(
      principals.map(async ([name, p]) => ({
        name,
        roles: p.roles,
        token: await secrets?.get(p.token).catch(() => undefined),
      })),
    )),
    ...(token !== undefined ? [{ name: options.tokenPrincipal, roles: ['admin' as const], token }] : []),
  ]);
}
