import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../src/util/ports.js';
import { findBinary, startServerProcess } from './server-process.js';

/** A real InfluxDB 1.x server on loopback with authentication on, its own config, meta, data and WAL directories. */
export interface RunningInfluxDb {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** The admin user the helper created (all privileges). */
  admin: { username: string; password: string };
  /** The HS256 key InfluxDB checks `Authorization: Bearer <JWT>` tokens with. */
  sharedSecret: string;
  /** Runs statements as the admin (POST /query); rejects on any error, the statement's own included. */
  exec(statement: string): Promise<void>;
  /** Writes line-protocol points (timestamps in ms) into `database` as the admin. */
  write(database: string, lines: string[]): Promise<void>;
  /** Kills the server and removes its temporary directory; safe to call twice. */
  stop(): Promise<void>;
}

/** The influxd binary: `$INFLUXD_PATH`, `influxd` on PATH, or `/usr/bin/influxd` (scripts/ensure-influxdb.sh). */
export const findInfluxd = (): string =>
  findBinary({
    envVar: 'INFLUXD_PATH',
    name: 'influxd',
    fallbacks: ['/usr/bin/influxd'],
    script: 'scripts/ensure-influxdb.sh',
  });

/**
 * Starts influxd with HTTP and RPC on free loopback ports, authentication on, and everything that would write
 * elsewhere or phone home (reporting, the `_internal` monitor, continuous queries) off; then creates the admin user
 * (the one statement InfluxDB accepts without credentials while it has no users).
 */
export async function startInfluxDb(): Promise<RunningInfluxDb> {
  const binary = findInfluxd();
  const dir = await mkdtemp(join(tmpdir(), 'rollout-influxdb-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const sharedSecret = 'test-only-jwt-key-0f3a9c';
  const config = `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false
[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  query-log-enabled = false
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[subscriber]
  enabled = false
[retention]
  enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = true
  log-enabled = false
  shared-secret = "${sharedSecret}"
`;
  await writeFile(join(dir, 'influxdb.conf'), config);
  const url = `http://127.0.0.1:${httpPort}`;
  const server = await startServerProcess({
    what: 'influxd',
    binary,
    args: ['run', '-config', join(dir, 'influxdb.conf')],
    dir,
    ready: async () => (await fetch(`${url}/ping`)).status === 204,
  });

  const admin = { username: 'admin', password: 'test-only-admin-pw' };
  const basic = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  const post = async (path: string, body: string, contentType: string, auth: boolean) => {
    const response = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': contentType, ...(auth ? { authorization: basic } : {}) },
      body,
    });
    const text = await response.text();
    if (!response.ok || text.includes('"error"')) throw new Error(`influxd ${path}: HTTP ${response.status} ${text}`);
  };
  const query = (q: string, auth: boolean) =>
    post('/query', new URLSearchParams({ q }).toString(), 'application/x-www-form-urlencoded', auth);
  try {
    await query(`CREATE USER "${admin.username}" WITH PASSWORD '${admin.password}' WITH ALL PRIVILEGES`, false);
  } catch (err) {
    await server.stop();
    throw err;
  }
  return {
    url,
    admin,
    sharedSecret,
    exec: (statement) => query(statement, true),
    write: (database, lines) =>
      post(`/write?${new URLSearchParams({ db: database, precision: 'ms' })}`, lines.join('\n'), 'text/plain', true),
    stop: () => server.stop(),
  };
}
