import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Served without a bearer token (liveness probes). */
    public?: boolean;
  }
}

const digest = (value: string): Buffer => createHash('sha256').update(value, 'utf8').digest();

/**
 * A constant-time comparison of a presented token against the expected one. Both sides are hashed first, so the
 * comparison takes the same time whatever the presented token's length (timingSafeEqual needs equal lengths).
 */
export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

/**
 * Requires `Authorization: Bearer <token>` on every route not marked `config: { public: true }`, including
 * unknown ones (an unauthenticated caller cannot probe which routes exist). Refuses an empty token: the API
 * never runs unauthenticated.
 */
export function installBearerAuth(app: FastifyInstance, token: string): void {
  if (token.trim() === '') {
    throw new Error(
      'The rollout API needs a bearer token (options.token is empty); refusing to serve unauthenticated.',
    );
  }
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.routeOptions.config.public === true) return;
    const presented = bearerToken(request.headers.authorization);
    if (presented !== undefined && tokenMatches(presented, token)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="rollout"')
      .send({
        error:
          presented === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'invalid bearer token',
      });
  });
}
