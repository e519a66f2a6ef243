import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { dirname, resolve } from 'node:path';
import { Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { TemporalServerError } from '../errors.js';
import { ROLLOUT_SEARCH_ATTRIBUTES } from './search-attributes.js';

export interface DevServerOptions {
  /** Path of a Temporal CLI v1.5.x binary (see `resolveTemporalCli`). */
  cliPath: string;
  ip?: string;
  port?: number;
  /** Web UI port; `false` runs headless. Default: port + 1000. */
  uiPort?: number | false;
  /** SQLite file for persistent state; `null` keeps everything in memory. Default `.rollout/temporal.db`. */
  dbFile?: string | null;
  namespace?: string;
  /** How long a cold start may take before giving up. */
  readyTimeoutMs?: number;
  /** Reuse a Temporal server already listening at the address instead of failing. Default true. */
  reuseExisting?: boolean;
  log?: (message: string) => void;
  /**
   * Dynamic config overrides, e.g. `{ 'limit.historyCount.suggestContinueAsNew': 50 }` (tests, benchmarks), laid
   * over {@link DEV_SERVER_DYNAMIC_CONFIG}.
   */
  dynamicConfig?: Record<string, string | number | boolean>;
  /** The codec server the Web UI decodes payloads through (`--ui-codec-endpoint`); ignored when reusing a server. */
  uiCodecEndpoint?: string;
}

/**
 * What the embedded server sets beyond the CLI's defaults. Eager activity execution hands an activity scheduled
 * by a workflow task straight back to the worker that completed it, skipping a round trip through matching: a
 * rollback's first exposure change starts in the same exchange that decided it. Set it on any server that runs
 * rollouts (`system.enableActivityEagerExecution`); workers request it by default.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, string | number | boolean>> = {
  'system.enableActivityEagerExecution': true,
};

export interface DevServer {
  address: string;
  namespace: string;
  uiUrl: string | undefined;
  dbFile: string | undefined;
  /** True when an already running server was reused; `stop()` leaves it alone. */
  reused: boolean;
  pid: number | undefined;
  stop(): Promise<void>;
}

const SQLITE_PRAGMAS = ['journal_mode=wal', 'synchronous=normal', 'busy_timeout=5000'];

/**
 * Starts `temporal server start-dev` (or reuses a Temporal server already at the address) and resolves once
 * the namespace answers. The project's search attributes are registered either way.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? 7233;
  const address = `${ip}:${port}`;
  const namespace = options.namespace ?? 'default';
  const uiPort = options.uiPort === undefined ? port + 1000 : options.uiPort;
  const log = options.log ?? (() => {});
  const dbFile = options.dbFile === null ? undefined : resolve(options.dbFile ?? '.rollout/temporal.db');

  if (await portOpen(ip, port)) {
    if (options.reuseExisting === false) {
      throw new TemporalServerError(
        `Port ${port} on ${ip} is already in use.`,
        'Stop what listens there or choose another port.',
      );
    }
    const reused = await probeTemporal(address, 5_000);
    if (!reused.ok) {
      throw new TemporalServerError(
        `Port ${port} on ${ip} is taken by something that is not a Temporal server (${reused.reason}).`,
        `Stop the process listening on ${address}, or run against another port (set TEMPORAL_ADDRESS, e.g. ${ip}:${port + 10}).`,
      );
    }
    log(`Reusing the Temporal server already running at ${address}.`);
    if (options.uiCodecEndpoint)
      log('Its Web UI was started elsewhere: set its codec endpoint there to decode payloads.');
    await ensureSearchAttributes(address, namespace);
    const ui = uiPort === false ? undefined : `http://${ip}:${uiPort}`;
    return { address, namespace, uiUrl: ui, dbFile: undefined, reused: true, pid: undefined, stop: async () => {} };
  }
  if (uiPort !== false && (await portOpen(ip, uiPort))) {
    throw new TemporalServerError(
      `The Web UI port ${uiPort} on ${ip} is already taken by another process.`,
      'Stop that process or choose another UI port (--ui-port).',
    );
  }
  if (dbFile) await mkdir(dirname(dbFile), { recursive: true });

  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
  ];
  args.push(...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-ip', ip]));
  if (uiPort !== false && options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  if (dbFile) {
    args.push('--db-filename', dbFile);
    for (const pragma of SQLITE_PRAGMAS) args.push('--sqlite-pragma', pragma);
  }
  for (const { name, type } of ROLLOUT_SEARCH_ATTRIBUTES)
    args.push('--search-attribute', `${name}=${ATTRIBUTE_TYPES[type].cli}`);
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig }))
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);

  const started = Date.now();
  const child = spawn(options.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString().split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - 40));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  try {
    await waitReady(address, namespace, child, exited, output, options.readyTimeoutMs ?? 180_000);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // a persistent database created before the attributes existed does not get them from the flags
  await ensureSearchAttributes(address, namespace);
  log(
    `Temporal dev server ready at ${address} in ${((Date.now() - started) / 1000).toFixed(1)} s${dbFile ? ` (state in ${dbFile})` : ''}.`,
  );

  return {
    address,
    namespace,
    uiUrl: uiPort === false ? undefined : `http://${ip}:${uiPort}`,
    dbFile,
    reused: false,
    pid: child.pid,
    stop: async () => {
      process.removeListener('exit', killOnExit);
      await stopChild(child, exited);
    },
  };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** True when something accepts TCP connections at ip:port. */
export function portOpen(ip: string, port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = createConnection({ host: ip, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function probeTemporal(
  address: string,
  timeoutMs: number,
): Promise<{ ok: true } | { ok: false; reason: string }> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.workflowService.getSystemInfo({});
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: (err as Error).message.split('\n')[0] ?? 'no gRPC answer' };
  } finally {
    await connection?.close().catch(() => {});
  }
}

async function waitReady(
  address: string,
  namespace: string,
  child: ChildProcess,
  exited: Promise<number | null>,
  output: string[],
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  for (;;) {
    if (exitCode !== undefined || child.exitCode !== null) {
      throw new TemporalServerError(
        `The Temporal dev server exited during start-up (code ${exitCode ?? child.exitCode}):\n${output.slice(-15).join('\n')}`,
        'Check the output above; a port in use or an unwritable database file are the usual causes.',
      );
    }
    if (await namespaceReady(address, namespace)) return;
    if (Date.now() > deadline) {
      throw new TemporalServerError(
        `The Temporal dev server did not become ready at ${address} within ${Math.round(timeoutMs / 1000)} s.`,
        'The machine may be overloaded; raise the timeout (TEMPORAL_READY_TIMEOUT_MS) or check the server output.',
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function namespaceReady(address: string, namespace: string): Promise<boolean> {
  if (!(await portOpen(...splitAddress(address)))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: 2_000 });
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i), Number(address.slice(i + 1))];
}

const { IndexedValueType } = proto.temporal.api.enums.v1;
/** Each type the project's search attributes use, as the CLI's `--search-attribute` flag and the operator API name it. */
const ATTRIBUTE_TYPES: Record<
  (typeof ROLLOUT_SEARCH_ATTRIBUTES)[number]['type'],
  { cli: string; indexed: proto.temporal.api.enums.v1.IndexedValueType }
> = {
  KEYWORD: { cli: 'Keyword', indexed: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD },
  DOUBLE: { cli: 'Double', indexed: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE },
  INT: { cli: 'Int', indexed: IndexedValueType.INDEXED_VALUE_TYPE_INT },
};

/** Registers the project's search attributes on a namespace that lacks them (idempotent). */
export async function ensureSearchAttributes(address: string, namespace: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = ROLLOUT_SEARCH_ATTRIBUTES.filter(({ name }) => !(name in (existing.customAttributes ?? {})));
    if (missing.length === 0) return;
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(missing.map(({ name, type }) => [name, ATTRIBUTE_TYPES[type].indexed])),
    });
  } finally {
    await connection.close();
  }
}
