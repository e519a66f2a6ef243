import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { renderReportSvg } from '../../report/index.js';
import { rolloutRoute, withTemporalDeadline, type ApiContext } from '../context.js';
import { SESSION_COOKIE, type Authenticate } from '../auth.js';
import { DASHBOARD_HTML, DASHBOARD_JS } from './page.js';

/** The page may run its own script and show its own images (the report SVG); nothing else, from nowhere else. */
const CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; img-src 'self'; style-src 'unsafe-inline'; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** How long a dashboard session lasts; the token is checked again on every request, so revoking it ends it at once. */
const SESSION_SECONDS = 8 * 3600;

function sessionCookie(request: FastifyRequest, value: string, maxAge: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`;
}

const noStore = (reply: FastifyReply) =>
  reply.header('cache-control', 'no-store').header('x-content-type-options', 'nosniff');

/**
 * The dashboard: the page and its script (public: they hold no data), a session from a principal's token (an
 * HttpOnly, SameSite=Strict cookie), who the caller is and what it may do (`/me`), and a rollout's report as SVG.
 */
export function dashboardRoutes(ctx: ApiContext, authenticate: Authenticate) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/', { config: { public: true } }, async (_request, reply) =>
      noStore(reply)
        .header('content-security-policy', CSP)
        .header('x-frame-options', 'DENY')
        .type('text/html; charset=utf-8')
        .send(DASHBOARD_HTML),
    );
    app.get('/dashboard.js', { config: { public: true } }, async (_request, reply) =>
      noStore(reply).type('text/javascript; charset=utf-8').send(DASHBOARD_JS),
    );

    app.post('/session', { config: { public: true } }, async (request, reply) => {
      const token = (request.body as { token?: unknown } | undefined)?.token;
      const principal = typeof token === 'string' && token.length <= 4096 ? await authenticate(token) : undefined;
      if (!principal) return reply.code(401).send({ error: 'invalid token' });
      request.log.info({ principal: principal.name }, 'dashboard session started');
      return noStore(reply)
        .header('set-cookie', sessionCookie(request, token as string, SESSION_SECONDS))
        .code(204)
        .send();
    });
    app.delete('/session', { config: { public: true } }, async (request, reply) =>
      noStore(reply)
        .header('set-cookie', sessionCookie(request, '', 0))
        .code(204)
        .send(),
    );

    app.get('/me', async (request, reply) => {
      const p = request.principal!;
      return noStore(reply).send({
        name: p.name,
        roles: p.roles,
        namespace: ctx.temporalClient.options.namespace,
        ...(ctx.uiUrl ? { uiUrl: ctx.uiUrl.replace(/\/+$/, '') } : {}),
      });
    });

    rolloutRoute(
      app,
      'GET',
      '/report.svg',
      {
        summary: 'The rollout as an SVG timeline: exposure, guards, windows and decisions',
        tags: ['rollouts'],
        responses: { 200: 'the timeline (image/svg+xml)', 404: 'no such rollout' },
      },
      async (id, _request, reply) => {
        const status = await withTemporalDeadline(ctx, () => ctx.client.status(id));
        const svg = renderReportSvg(status, { id, generatedAt: new Date().toISOString() });
        return noStore(reply).type('image/svg+xml; charset=utf-8').send(svg);
      },
    );
  };
}
