import { execFile, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { connect } from 'node:net';
import { isAbsolute } from 'node:path';
import { freePort } from '../../src/util/ports.js';
import { stopProcess, waitUntil } from './server-process.js';

/** A real flagd daemon serving one flag file, its ports picked free on loopback. */
export interface RunningFlagd {
  /** Where the providers connect: `127.0.0.1`. */
  host: string;
  /** The evaluation service (gRPC/Connect): the RPC resolver's port. */
  port: number;
  /** The `flagd.sync.v1` service: the in-process resolver's port. */
  syncPort: number;
  /** Probes (`/healthz`, `/readyz`) and `/metrics`. */
  managementPort: number;
  /** The last few KB of flagd's output, for a failing assertion's message. */
  log(): string;
  /** Stops flagd (SIGTERM, then SIGKILL after 5 s); safe to call twice. */
  stop(): Promise<void>;
}

const ENSURE_SCRIPT = new URL('../../scripts/ensure-flagd.sh', import.meta.url).pathname;
const READY_TIMEOUT_MS = 30_000;
/** A cold `go install` of flagd takes minutes on a busy 2-core machine; a cached one answers at once. */
const ENSURE_TIMEOUT_MS = 15 * 60_000;

/**
 * The flagd binary, as `scripts/ensure-flagd.sh` finds or builds it (`$FLAGD_PATH`, the per-version cache, then
 * `go install`). Throws (so a test fails, never skips) with the script's own reason when there is none.
 */
export async function findFlagd(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [ENSURE_SCRIPT], { timeout: ENSURE_TIMEOUT_MS }, (err, stdout, stderr) => {
      const path = stdout.trim().split('\n').at(-1) ?? '';
      if (!err && path) return resolve(path);
      reject(new Error(`No flagd binary: scripts/ensure-flagd.sh failed.\n${stderr.trim().slice(-3000)}`));
    });
  });
}

/**
 * Starts `flagd start --uri file:<file>` on free ports and resolves once `/readyz` answers 200 (the file is synced)
 * and the evaluation and sync ports accept connections. The file must exist: flagd watches it from the start.
 * flagd has no bind-address option and listens on every interface; clients here use loopback only.
 */
export async function startFlagd(opts: { file: string; binary?: string }): Promise<RunningFlagd> {
  if (!isAbsolute(opts.file)) throw new Error(`startFlagd: file must be an absolute path, got ${opts.file}`);
  await access(opts.file, constants.R_OK).catch(() => {
    throw new Error(`startFlagd: ${opts.file} does not exist or is unreadable; flagd needs it before it starts`);
  });
  const binary = opts.binary ?? (await findFlagd());
  const [port, syncPort, managementPort, ofrepPort] = (await distinctFreePorts(4)) as [number, number, number, number];
  const child = spawn(
    binary,
    [
      'start',
      '--uri',
      `file:${opts.file}`,
      '--port',
      String(port),
      '--sync-port',
      String(syncPort),
      '--management-port',
      String(managementPort),
      // not used here, but its default 8016 may be taken by another flagd on the machine
      '--ofrep-port',
      String(ofrepPort),
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: string) => (output = (output + chunk).slice(-6000));
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${String(code)}`));
    child.once('error', (err) => resolve(`spawn failed: ${err.message}`));
  });

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await stopProcess(child, exited);
  };
  const host = '127.0.0.1';
  try {
    await waitUntil(
      READY_TIMEOUT_MS,
      exited,
      async () =>
        (await fetch(`http://${host}:${managementPort}/readyz`)).status === 200 &&
        (await accepts(host, port)) &&
        (await accepts(host, syncPort)),
    );
  } catch (err) {
    await stop();
    throw new Error(`flagd (${binary}) did not become ready: ${(err as Error).message}\n${output}`);
  }
  return { host, port, syncPort, managementPort, log: () => output, stop };
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
