import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { State } from '@temporalio/worker';
import type { PinoLogger } from '../logger.js';

/** What the health endpoint reports about the worker it runs beside. */
export interface HealthSource {
  getState(): State;
  getStatus(): { numCachedWorkflows: number; numInFlightWorkflowActivations: number; numInFlightActivities: number };
}

/** Splits `host:port` (IPv6 in brackets); the port may be 0 (any free one). */
export function parseAddress(address: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65_535) throw new Error(`"${address}" is not host:port (e.g. 0.0.0.0:8081)`);
  return { host: m[1] ?? m[2]!, port };
}

/**
 * A worker's health endpoint, for a process supervisor or a Kubernetes probe:
 * - `GET /livez`: 200 unless the worker failed or stopped (restart the process on anything else);
 * - `GET /readyz` (and `/healthz`): 200 only while the worker runs and polls its task queue (it is shutting down,
 *   draining or not started yet otherwise: 503).
 * Both answer JSON with the worker's state, task queue and what it holds now. Nothing else is served.
 */
export async function startHealthServer(options: {
  address: string;
  worker: HealthSource;
  taskQueue: string;
  buildId?: string;
  logger: PinoLogger;
}): Promise<{ url: string; close(): Promise<void> }> {
  const { host, port } = parseAddress(options.address);
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const state = options.worker.getState();
    const live = state !== 'FAILED' && state !== 'STOPPED';
    const ready = state === 'RUNNING';
    const ok = path === '/livez' ? live : path === '/readyz' || path === '/healthz' ? ready : undefined;
    if (req.method !== 'GET' || ok === undefined) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    const status = options.worker.getStatus();
    const body = {
      status: ok ? 'ok' : 'unavailable',
      state,
      taskQueue: options.taskQueue,
      ...(options.buildId ? { buildId: options.buildId } : {}),
      cachedWorkflows: status.numCachedWorkflows,
      inFlightActivations: status.numInFlightWorkflowActivations,
      inFlightActivities: status.numInFlightActivities,
    };
    res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const url = `http://${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`;
  options.logger.info({ url }, 'worker health endpoint listening');
  return {
    url,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
