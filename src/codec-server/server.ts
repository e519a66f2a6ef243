import { randomBytes } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS: a default import works under Node's ESM loader, named imports do not
import proto from '@temporalio/proto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { bearerToken, catalogAuthenticator, tokenMatches, type ApiPrincipal } from '../api/auth.js';
import type { LoadedCatalog } from '../catalog/load.js';
import type { SecretStore } from '../catalog/secrets.js';
import { RolloutError } from '../errors.js';
import type { PinoLogger } from '../logger.js';
import { PAYLOAD_KEY_ENV, PayloadCodecError, payloadCodecFromEnv } from '../temporal/codec.js';

/** The Web UI of `rollout dev` (and `temporal server start-dev`): the origin allowed by default. */
export const DEV_UI_ORIGIN = 'http://127.0.0.1:8233';
/** Default port of `rollout codec-server` and of the one `rollout dev` starts (the dev UI's port + 1). */
export const DEFAULT_CODEC_PORT = 8234;
/** Histories carry payloads of up to 2 MB each and the UI decodes several per request. */
export const DEFAULT_CODEC_BODY_LIMIT_BYTES = 16 * 1024 * 1024;
/** The headers the Web UI sends with `/encode` and `/decode`. */
const ALLOWED_HEADERS = 'Content-Type, X-Namespace, Authorization';
/** The principal a request authenticated by the dev UI's path capability acts as. */
export const UI_CAPABILITY_PRINCIPAL = 'web-ui';
/** The principal `token` (ROLLOUT_API_TOKEN) authenticates, as in the HTTP API. */
export const CODEC_TOKEN_PRINCIPAL = 'api';

export interface CodecServerOptions {
  /** The codec payloads are encoded and decoded with (the one `ROLLOUT_PAYLOAD_KEY` configures). */
  codec: PayloadCodec;
  /** The operator's catalog: any of its principals (whatever the role) may call the codec server. */
  catalog?: LoadedCatalog;
  /** The catalog's secrets (principal tokens); default: a store over `catalog` and `process.env`. */
  secrets?: SecretStore;
  /** One more principal: the single `ROLLOUT_API_TOKEN` of deployments without principals. */
  token?: string;
  /** Browser origins (the Web UI's) allowed to call the codec server cross-origin; others get no CORS headers. */
  origins: readonly string[];
  /**
   * For `rollout dev` only: a random secret that, as the first path segment (`/<secret>/decode`), authenticates
   * the request. The embedded UI runs without login and so sends no bearer token; its configured codec endpoint
   * carries this capability instead, so only who can reach that UI can decode.
   */
  pathCapability?: string;
  logger: PinoLogger;
  bodyLimitBytes?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called the codec server (set by its own authentication hook). */
    codecPrincipal?: ApiPrincipal;
  }
}

/**
 * The Temporal codec-server protocol over the rollout payload codec: `POST …/encode` and `POST …/decode` take and
 * answer `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }` (Payloads as proto3 JSON); only the last
 * path segment selects the operation. Every call needs a valid bearer token (any catalog principal, any role, or
 * `token`); CORS answers only the configured origins, and the preflight is the one unauthenticated request besides
 * `GET /healthz`. Payloads not encoded by this codec decode unchanged.
 */
export async function createCodecServer(options: CodecServerOptions): Promise<FastifyInstance> {
  const logger = options.logger.child({ component: 'codec-server' });
  const authenticate = codecAuthenticator(options);
  const origins = new Set(options.origins.map(normalOrigin));
  const app = Fastify({
    loggerInstance: logger,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_CODEC_BODY_LIMIT_BYTES,
    forceCloseConnections: 'idle',
  }) as unknown as FastifyInstance;

  // CORS first, so that a 401 or 400 reaches the UI's script too (it can then show why decoding failed)
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('vary', 'Origin');
    const origin = request.headers.origin;
    if (origin === undefined || !origins.has(normalOrigin(origin))) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
  });

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (request.method === 'OPTIONS' || request.routeOptions.config.public === true) return;
    const presented = bearerToken(request.headers.authorization);
    let principal = presented === undefined ? undefined : await authenticate(presented);
    const capability = options.pathCapability;
    const prefix = pathPrefix(request.url);
    if (!principal && capability !== undefined && prefix !== undefined && tokenMatches(prefix, capability))
      principal = { name: UI_CAPABILITY_PRINCIPAL, roles: [] };
    if (!principal) {
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="rollout-codec"')
        .send({
          error:
            presented === undefined ? 'missing bearer token (Authorization: Bearer <token>)' : 'invalid bearer token',
        });
      return;
    }
    request.codecPrincipal = principal;
  });

  app.get('/healthz', { config: { public: true } }, async () => ({ ok: true }));

  // the preflight: allowed origins get the methods and headers, any other gets no CORS header at all
  app.options('/*', async (request, reply) => {
    const origin = request.headers.origin;
    if (origin !== undefined && origins.has(normalOrigin(origin))) {
      reply
        .header('access-control-allow-methods', 'POST, GET, OPTIONS')
        .header('access-control-allow-headers', ALLOWED_HEADERS)
        .header('access-control-max-age', '600');
    }
    return reply.code(204).send();
  });

  app.post('/*', async (request, reply) => {
    const operation = lastSegment(request.url);
    if (operation !== 'encode' && operation !== 'decode')
      return reply.code(404).send({ error: 'not found: POST …/encode or …/decode' });
    let payloads: Payload[];
    try {
      payloads = payloadsFromJson(request.body);
    } catch (err) {
      return reply.code(400).send({ error: `invalid Payloads JSON: ${(err as Error).message}` });
    }
    const namespace = request.headers['x-namespace'];
    try {
      const out = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      request.log.debug(
        { principal: request.codecPrincipal?.name, namespace, operation, count: payloads.length },
        'codec request',
      );
      return reply.send(payloadsToJson(out));
    } catch (err) {
      if (!(err instanceof PayloadCodecError)) throw err;
      request.log.warn({ principal: request.codecPrincipal?.name, namespace, err: err.message }, 'decode failed');
      return reply.code(422).send({ error: err.message });
    }
  });

  return app;
}

/** The catalog's principals (their tokens read per request, so a rotated one applies at once) and `token`. */
function codecAuthenticator(options: CodecServerOptions) {
  const authenticate = catalogAuthenticator({ ...options, tokenPrincipal: CODEC_TOKEN_PRINCIPAL });
  if (authenticate === undefined && options.pathCapability === undefined) {
    throw new RolloutError(
      'The codec server has no principals (none in the catalog, no ROLLOUT_API_TOKEN): refusing to decode for anyone.',
      'Declare `principals` in the catalog (--config), or set ROLLOUT_API_TOKEN to a long random secret.',
    );
  }
  return authenticate ?? (() => Promise.resolve(undefined));
}

const { Payloads } = proto.temporal.api.common.v1;

/** Payloads from their proto3 JSON (`bytes` as base64); throws on anything else. */
export function payloadsFromJson(body: unknown): Payload[] {
  if (body === null || typeof body !== 'object' || !Array.isArray((body as { payloads?: unknown }).payloads))
    throw new Error('expected { "payloads": [ … ] }');
  for (const p of (body as { payloads: unknown[] }).payloads) {
    if (p === null || typeof p !== 'object') throw new Error('every payload must be an object');
    const { metadata, data } = p as { metadata?: unknown; data?: unknown };
    if (metadata !== undefined && metadata !== null) {
      if (typeof metadata !== 'object' || Object.values(metadata).some((v) => !isBase64(v)))
        throw new Error('payload metadata must map keys to base64 strings');
    }
    if (data !== undefined && data !== null && !isBase64(data)) throw new Error('payload data must be base64');
  }
  const message = Payloads.fromObject(body);
  return message.payloads.map((p) => {
    const payload: Payload = {
      metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, new Uint8Array(v)])),
      data: new Uint8Array(p.data ?? []),
    };
    if (p.externalPayloads?.length) payload.externalPayloads = p.externalPayloads;
    return payload;
  });
}

/** Payloads as proto3 JSON: `{ payloads: [{ metadata: { key: base64 }, data: base64 }] }`. */
export function payloadsToJson(payloads: readonly Payload[]): { payloads: Record<string, unknown>[] } {
  const b64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('base64');
  return {
    payloads: payloads.map((p) => {
      const out: Record<string, unknown> = {
        metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, b64(v)])),
        data: b64(p.data),
      };
      if (p.externalPayloads?.length)
        out.externalPayloads = p.externalPayloads.map((e) => ({ sizeBytes: String(e.sizeBytes ?? 0) }));
      return out;
    }),
  };
}

const isBase64 = (value: unknown): boolean =>
  typeof value === 'string' && /^[A-Za-z0-9+/_-]*={0,2}$/.test(value) && value.length % 4 !== 1;

const pathOf = (url: string): string[] => (url.split('?')[0] ?? '').split('/').filter(Boolean);
const lastSegment = (url: string): string | undefined => pathOf(url).at(-1);
/** The path before the operation (`/<prefix>/decode`), or undefined when there is none. */
function pathPrefix(url: string): string | undefined {
  const segments = pathOf(url);
  return segments.length > 1 ? decodeURIComponent(segments.slice(0, -1).join('/')) : undefined;
}
const normalOrigin = (origin: string): string => origin.trim().replace(/\/+$/, '').toLowerCase();

export interface StartCodecServerOptions {
  host: string;
  port: number;
  origins: readonly string[];
  logger: PinoLogger;
  catalog?: LoadedCatalog;
  secrets?: SecretStore;
  /** Default: `ROLLOUT_API_TOKEN`. */
  token?: string;
  /** See {@link CodecServerOptions.pathCapability}; `true` generates one. */
  pathCapability?: string | true;
  env?: NodeJS.ProcessEnv;
}

/** A running codec server: its base URL, the endpoint to configure in the Web UI, and how to stop it. */
export interface RunningCodecServer {
  app: FastifyInstance;
  url: string;
  /** What the UI's codec endpoint is set to: `url`, plus the path capability when there is one. */
  endpoint: string;
  close(): Promise<void>;
}

/**
 * Starts the codec server with the codec `ROLLOUT_PAYLOAD_KEY` configures; refuses to start without the key (there
 * would be nothing to decode with).
 */
export async function startCodecServer(options: StartCodecServerOptions): Promise<RunningCodecServer> {
  const env = options.env ?? process.env;
  const codec = payloadCodecFromEnv(env);
  if (!codec) {
    throw new RolloutError(
      `The codec server needs ${PAYLOAD_KEY_ENV}: without the payload key there is nothing to encode or decode with.`,
      `Set ${PAYLOAD_KEY_ENV} (and ROLLOUT_PAYLOAD_PREVIOUS_KEYS when rotating) to the key the workers use.`,
    );
  }
  const capability = options.pathCapability === true ? randomBytes(24).toString('base64url') : options.pathCapability;
  const token = options.token ?? env.ROLLOUT_API_TOKEN;
  const app = await createCodecServer({
    codec,
    origins: options.origins,
    logger: options.logger,
    ...(options.catalog ? { catalog: options.catalog } : {}),
    ...(options.secrets ? { secrets: options.secrets } : {}),
    ...(token ? { token } : {}),
    ...(capability !== undefined ? { pathCapability: capability } : {}),
  });
  const url = await app.listen({ host: options.host, port: options.port });
  return {
    app,
    url,
    endpoint: capability !== undefined ? `${url}/${capability}` : url,
    close: () => app.close(),
  };
}
