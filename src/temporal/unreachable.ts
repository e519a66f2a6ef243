import { createConnection } from 'node:net';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
import { truncate } from '../domain/bounds.js';
import { TemporalServerError } from '../errors.js';

const GRPC_UNAVAILABLE = 14;
/** How long the follow-up TCP probe waits: it only names a cause, after the SDK has already given up. */
const PROBE_TIMEOUT_MS = 2_000;
const HINT = 'Start it with `rollout dev`, or point TEMPORAL_ADDRESS (or a profile) at a running server.';

/**
 * True when `err` says Temporal could not be reached: the client's connect timeout ("Failed to connect before the
 * deadline"), its failed first call, a native `TransportError`, or gRPC UNAVAILABLE (itself or as the cause).
 */
export function isConnectionFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; message?: unknown; cause?: unknown };
  if (e.name === 'TransportError') return true;
  if (typeof e.message === 'string' && /^Failed to connect (before the deadline|to Temporal server)/.test(e.message))
    return true;
  if (err instanceof ServiceError && isConnectionFailure(e.cause)) return true;
  return [err, e.cause].some((x) => isGrpcServiceError(x) && x.code === GRPC_UNAVAILABLE);
}

/**
 * The error a user reads when Temporal cannot be reached: `cannot reach Temporal at ADDRESS: <short reason>`, with
 * how to fix it. The SDK's own message rarely says why ("Failed to connect before the deadline"), so a plain TCP
 * connection to the address names the cause when it can: connection refused, host not found, no answer.
 */
export async function unreachableError(address: string, err: unknown): Promise<TemporalServerError> {
  const reason = (await tcpProblem(address)) ?? shortMessage(err);
  return new TemporalServerError(`cannot reach Temporal at ${address}: ${reason}`, HINT, { cause: err });
}

function shortMessage(err: unknown): string {
  const e = err as { message?: unknown; cause?: { details?: unknown } } | undefined;
  const details = typeof e?.cause?.details === 'string' ? e.cause.details : undefined;
  const text = details || (typeof e?.message === 'string' ? e.message : String(err));
  const line = text.split('\n')[0] ?? '';
  return truncate(line, 200);
}

/** Why a TCP connection to `address` fails, or undefined when it succeeds (the problem is above TCP: TLS, gRPC). */
function tcpProblem(address: string): Promise<string | undefined> {
  const at = address.lastIndexOf(':');
  const host = (at > 0 ? address.slice(0, at) : address).replace(/^\[(.*)\]$/, '$1');
  const port = at > 0 ? Number(address.slice(at + 1)) : 7233;
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) return Promise.resolve('not a host:port address');
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (problem: string | undefined) => {
      socket.destroy();
      resolve(problem);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(`no answer within ${PROBE_TIMEOUT_MS / 1000} s`));
    socket.once('connect', () => done(undefined));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      const known: Record<string, string> = {
        ECONNREFUSED: 'connection refused (is the server running?)',
        ENOTFOUND: `host ${host} not found`,
        EAI_AGAIN: `host ${host} could not be resolved`,
        EHOSTUNREACH: 'host unreachable',
        ENETUNREACH: 'network unreachable',
        ETIMEDOUT: 'connection timed out',
      };
      done(known[e.code ?? ''] ?? e.code ?? e.message);
    });
  });
}
