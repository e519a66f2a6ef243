import { isGrpcDeadlineError, isGrpcServiceError, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyError, FastifyInstance } from 'fastify';
import { CommandRejectedError } from '../client/rollout-client.js';
import { RolloutAlreadyRunningError } from '../client/start.js';
import { ValidationError } from '../errors.js';

/** Every error body the API sends: a message, and for validation failures the paths. */
export interface ApiErrorBody {
  error: string;
  issues?: { path: string; message: string }[];
  hint?: string;
}

/** The HTTP status and JSON body for an error; anything unexpected becomes an opaque 500 (no stack, no internals). */
export function errorResponse(err: unknown): { status: number; body: ApiErrorBody } {
  if (err instanceof ValidationError) return { status: 400, body: { error: err.message, issues: [...err.issues] } };
  if (err instanceof CommandRejectedError) return { status: 409, body: { error: err.reason } };
  if (err instanceof RolloutAlreadyRunningError) {
    return { status: 409, body: { error: err.message, ...(err.hint ? { hint: err.hint } : {}) } };
  }
  if (err instanceof WorkflowNotFoundError) {
    return { status: 404, body: { error: `no rollout ${err.workflowId} (IDs look like rollout/<flag>)` } };
  }
  if (isGrpcDeadlineError(err)) {
    const hint = 'Temporal may be unreachable (see /healthz), or no rollout worker polls the task queue.';
    return { status: 504, body: { error: 'Temporal did not answer in time', hint } };
  }
  if (isUnavailable(err)) return { status: 503, body: { error: 'Temporal is unreachable' } };
  const fastifyError = err as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    // Fastify's own client errors (bad JSON, body too large, unsupported media type) carry safe messages.
    const issues = status === 400 ? [{ path: '(root)', message: fastifyError.message ?? 'bad request' }] : undefined;
    return { status, body: { error: fastifyError.message ?? 'bad request', ...(issues ? { issues } : {}) } };
  }
  return { status: 500, body: { error: 'internal error (see the server log)' } };
}

/** gRPC UNAVAILABLE, directly or as the cause of the SDK's ServiceError. */
function isUnavailable(err: unknown): boolean {
  const UNAVAILABLE = 14;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return [err, cause].some((e) => isGrpcServiceError(e) && e.code === UNAVAILABLE);
}

/** JSON errors for every failure and for unknown routes. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler(async (err, request, reply) => {
    const { status, body } = errorResponse(err);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.debug({ err: (err as Error).message, status }, 'request refused');
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler(async (request, reply) =>
    reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
