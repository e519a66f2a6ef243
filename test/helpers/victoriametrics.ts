import { mkdtemp } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/ports.js';
import { findBinary, startServerProcess } from './server-process.js';

/** The version scripts/ensure-victoriametrics.sh builds by default (keep the two in step). */
export const VICTORIAMETRICS_VERSION = process.env.VICTORIAMETRICS_VERSION ?? '1.151.0';

/** A real single-node VictoriaMetrics on loopback with its own temporary storage. */
export interface RunningVictoriaMetrics {
  /** Base URL, e.g. `http://127.0.0.1:41234`; the Prometheus query API is under it. */
  url: string;
  /**
   * Imports samples in the Prometheus text format with millisecond timestamps (`name{l="v"} 1.5 1700000000000`)
   * and flushes them, so the next query sees them.
   */
  importPrometheus(lines: string[]): Promise<void>;
  /** Kills the server and removes its temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The binary: `$VICTORIAMETRICS_PATH`, `victoria-metrics` on PATH, or the cache scripts/ensure-victoriametrics.sh fills. */
export function findVictoriaMetrics(): string {
  const cache = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return findBinary({
    envVar: 'VICTORIAMETRICS_PATH',
    name: 'victoria-metrics',
    fallbacks: [
      join(cache, 'rollout-orchestrator', `victoria-metrics-${VICTORIAMETRICS_VERSION}`, 'bin', 'victoria-metrics'),
    ],
    script: 'scripts/ensure-victoriametrics.sh',
  });
}

/**
 * Starts victoria-metrics on a free loopback port and resolves once `/health` answers. The response cache is off
 * and the latency offset zero, so a query sees every imported sample, however recent, at once.
 */
export async function startVictoriaMetrics(): Promise<RunningVictoriaMetrics> {
  const binary = findVictoriaMetrics();
  const dir = await mkdtemp(join(tmpdir(), 'rollout-victoriametrics-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = await startServerProcess({
    what: 'victoria-metrics',
    binary,
    args: [
      `-storageDataPath=${join(dir, 'data')}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-search.disableCache',
      '-search.latencyOffset=0s',
      '-loggerLevel=ERROR',
    ],
    dir,
    ready: async () => (await fetch(`${url}/health`)).ok,
  });
  const call = async (path: string, body?: string) => {
    const response = await fetch(`${url}${path}`, body === undefined ? {} : { method: 'POST', body });
    if (!response.ok) throw new Error(`victoria-metrics ${path}: HTTP ${response.status} ${await response.text()}`);
  };
  return {
    url,
    async importPrometheus(lines) {
      await call('/api/v1/import/prometheus', `${lines.join('\n')}\n`);
      await call('/internal/force_flush');
    },
    stop: () => server.stop(),
  };
}
