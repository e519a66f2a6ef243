import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server binary the tests run: where to look for it, and the script that provisions it. */
export interface BinaryLookup {
  /** Environment variable that names the binary explicitly (e.g. `INFLUXD_PATH`). */
  envVar: string;
  /** File name looked up on PATH. */
  name: string;
  /** Further absolute paths to try, in order. */
  fallbacks: string[];
  /** The provisioning script, named in the error. */
  script: string;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The binary: `$envVar`, then PATH, then the fallbacks. Throws (so a test fails, never skips) naming the script. */
export function findBinary(lookup: BinaryLookup): string {
  const explicit = process.env[lookup.envVar];
  if (explicit) {
    if (executable(explicit)) return explicit;
    throw new Error(`${lookup.envVar}=${explicit} is not an executable file. Run ${lookup.script} or fix it.`);
  }
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, lookup.name));
  const candidates = [...onPath, ...lookup.fallbacks];
  const found = candidates.find(executable);
  if (found) return found;
  throw new Error(
    `No ${lookup.name} binary found (looked at $${lookup.envVar}, PATH, ${lookup.fallbacks.join(', ')}). ` +
      `Run ${lookup.script} or set ${lookup.envVar}.`,
  );
}

/** A server process the test started, with the temporary directory it owns. */
export interface ServerProcess {
  /** Kills the process (SIGTERM, then SIGKILL after 5 s) and removes its directory; safe to call twice. */
  stop(): Promise<void>;
  /** The tail of its stdout and stderr, for failure messages. */
  log(): string;
}

export interface StartServerOptions {
  /** Names the server in errors ("influxd"). */
  what: string;
  binary: string;
  args: string[];
  /** Removed on stop. */
  dir: string;
  /** Resolves true once the server answers; errors count as "not yet". */
  ready: () => Promise<boolean>;
  readyTimeoutMs?: number;
}

/**
 * Spawns the server and resolves once `ready()` is true. Rejects with the tail of its log if it exits first or is
 * not ready within `readyTimeoutMs` (default 30 s: the machine may be busy), having stopped it and removed `dir`.
 */
export async function startServerProcess(opts: StartServerOptions): Promise<ServerProcess> {
  const child = spawn(opts.binary, opts.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (chunk: string) => (log = (log + chunk).slice(-4000));
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      keep(`\nspawn failed: ${err.message}`);
      resolve(null);
    });
  });
  let stopped = false;
  const server: ServerProcess = {
    async stop() {
      if (stopped) return;
      stopped = true;
      await stopProcess(child, exited);
      await rm(opts.dir, { recursive: true, force: true });
    },
    log: () => log,
  };
  try {
    await waitUntil(opts.readyTimeoutMs ?? 30_000, exited, opts.ready);
  } catch (err) {
    await server.stop();
    throw new Error(`${opts.what} (${opts.binary}) did not become ready: ${(err as Error).message}\n${log}`);
  }
  return server;
}

/** Polls `check` every 100 ms until it is true; fails early if `exited` settles, or after `timeoutMs`. */
export async function waitUntil(
  timeoutMs: number,
  exited: Promise<unknown>,
  check: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let early = false;
  void exited.then(() => (early = true));
  let last = 'not yet';
  while (Date.now() < deadline) {
    if (early) throw new Error(`the process exited (code ${String(await exited)})`);
    try {
      if (await check()) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms (last: ${last})`);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess, exited: Promise<unknown>, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
