import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { TemporalCliError } from '../errors.js';

const execFileAsync = promisify(execFile);

/** The Temporal CLI release the project is built and tested against (server 1.29.1, Web UI 2.42.1). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const SERVER_VERSION = '1.29.1';
const ACCEPTED = /^1\.5\.\d+(-unstamped)?$/;
const MIN_GO = [1, 25] as const;
const INSTALL_HINT =
  'Install the Temporal CLI v1.5.x (https://docs.temporal.io/cli) and set TEMPORAL_CLI_PATH to the binary, ' +
  `or install Go ${MIN_GO.join('.')}+ so the project can build it with ` +
  `\`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}\`.`;

export interface ResolvedCli {
  path: string;
  version: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'built';
}

export interface ProvisionOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress messages for the user (building takes minutes). */
  log?: (message: string) => void;
  /** How long to wait for another process that holds the build lock. */
  lockWaitMs?: number;
}

/** Directory that caches the CLI for this version, outside any clone so fresh clones reuse it. */
export function cliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), '.cache');
  return join(base, 'rollout-orchestrator', `temporal-${TEMPORAL_CLI_VERSION}`);
}

/** Reads `temporal --version`; returns the version or throws with the reason. */
export async function temporalVersion(path: string): Promise<string> {
  const { stdout } = await execFileAsync(path, ['--version'], { timeout: 15_000 });
  const match = /temporal version (\d+\.\d+\.\d+)/.exec(stdout);
  if (!match?.[1]) throw new Error(`unexpected \`--version\` output: ${stdout.trim().slice(0, 120)}`);
  // a plain `go install` leaves the version unstamped; the bundled server version identifies the release
  if (match[1] === '0.0.0' && stdout.includes(`Server ${SERVER_VERSION}`)) return `${TEMPORAL_CLI_VERSION}-unstamped`;
  return match[1];
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, fsConstants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function findOnPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return undefined;
}

/**
 * Finds a Temporal CLI v1.5.x: `TEMPORAL_CLI_PATH`, then `temporal` on PATH, then the per-user cache;
 * builds it into the cache with Go when none is found. Safe for concurrent callers: one builds under a
 * lock and publishes the binary with an atomic rename, the others wait for it.
 */
export async function resolveTemporalCli(options: ProvisionOptions = {}): Promise<ResolvedCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));

  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const version = await checkExplicit(explicit);
    return { path: explicit, version, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = await findOnPath('temporal', env);
  if (onPath) {
    const version = await temporalVersion(onPath).catch(() => undefined);
    if (version && ACCEPTED.test(version)) return { path: onPath, version, source: 'PATH' };
    log(`Ignoring ${onPath} (version ${version ?? 'unknown'}; this project needs v1.5.x).`);
  }
  const dir = cliCacheDir(env);
  const cached = join(dir, 'temporal');
  const cachedVersion = await usableVersion(cached);
  if (cachedVersion) {
    log(`Using cached Temporal CLI v${cachedVersion} at ${cached} (no rebuild).`);
    return { path: cached, version: cachedVersion, source: 'cache' };
  }
  await buildIntoCache(dir, env, log, options.lockWaitMs ?? 20 * 60_000);
  const version = await temporalVersion(cached);
  return { path: cached, version, source: 'built' };
}

async function usableVersion(path: string): Promise<string | undefined> {
  if (!(await isExecutable(path))) return undefined;
  const version = await temporalVersion(path).catch(() => undefined);
  return version && ACCEPTED.test(version) ? version : undefined;
}

async function checkExplicit(path: string): Promise<string> {
  if (!(await isExecutable(path))) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH is set to ${path}, but no executable file is there.`,
      `Point TEMPORAL_CLI_PATH at a Temporal CLI v1.5.x binary, or unset it so the project finds or builds one. ${INSTALL_HINT}`,
    );
  }
  let version: string;
  try {
    version = await temporalVersion(path);
  } catch (err) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH=${path} is not a working Temporal CLI (${(err as Error).message.split('\n')[0]}).`,
      `Point TEMPORAL_CLI_PATH at a Temporal CLI v1.5.x binary, or unset it. ${INSTALL_HINT}`,
    );
  }
  if (!ACCEPTED.test(version)) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH=${path} is Temporal CLI v${version}; this project needs v1.5.x.`,
      `Point TEMPORAL_CLI_PATH at v${TEMPORAL_CLI_VERSION}, or unset it so the project builds one.`,
    );
  }
  return version;
}

/** Returns the Go version as [major, minor], or undefined when Go is not usable. */
export async function goVersion(env: NodeJS.ProcessEnv): Promise<[number, number] | undefined> {
  const go = await findOnPath('go', env);
  if (!go) return undefined;
  try {
    const { stdout } = await execFileAsync(go, ['version'], { env, timeout: 30_000 });
    const m = /go(\d+)\.(\d+)/.exec(stdout);
    return m ? [Number(m[1]), Number(m[2])] : undefined;
  } catch {
    return undefined;
  }
}

async function buildIntoCache(dir: string, env: NodeJS.ProcessEnv, log: (m: string) => void, lockWaitMs: number) {
  const go = await goVersion(env);
  if (!go) {
    throw new TemporalCliError(
      'No Temporal CLI was found and Go is not installed, so none can be built.',
      INSTALL_HINT,
    );
  }
  if (go[0] < MIN_GO[0] || (go[0] === MIN_GO[0] && go[1] < MIN_GO[1])) {
    throw new TemporalCliError(
      `No Temporal CLI was found and Go ${go.join('.')} is too old to build one (needs ${MIN_GO.join('.')}+).`,
      INSTALL_HINT,
    );
  }
  await mkdir(dir, { recursive: true });
  const release = await acquireLock(join(dir, 'build.lock'), join(dir, 'temporal'), log, lockWaitMs);
  if (!release) return; // another process finished the build while we waited
  const staging = join(dir, `staging-${process.pid}`);
  try {
    if (await usableVersion(join(dir, 'temporal'))) return;
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    const started = Date.now();
    log(
      `Building Temporal CLI v${TEMPORAL_CLI_VERSION} with Go ${go.join('.')} into ${dir} ` +
        '(one time only; takes a few minutes on a cold Go cache)...',
    );
    await runGoInstall(staging, env);
    // rename within one directory is atomic: readers see either no binary or a complete one
    await rename(join(staging, 'temporal'), join(dir, 'temporal'));
    log(`Built Temporal CLI v${TEMPORAL_CLI_VERSION} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  } finally {
    await rm(staging, { recursive: true, force: true });
    await release();
  }
}

function runGoInstall(gobin: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const ldflags = `-s -w -X github.com/temporalio/cli/temporalcli.Version=${TEMPORAL_CLI_VERSION}`;
    const args = ['install', `-ldflags=${ldflags}`, `github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`];
    // the same flags as the release build, so `temporal --version` reports the real version
    const child = spawn('go', args, {
      env: { CGO_ENABLED: '0', ...env, GOBIN: gobin },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-8_000);
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) return resolve();
      reject(
        new TemporalCliError(
          `\`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}\` failed (exit ${code}):\n${stderr.trim()}`,
          `Check that the Go module proxy is reachable (GOPROXY, GOFLAGS, GOTOOLCHAIN=local), or ${INSTALL_HINT}`,
        ),
      );
    });
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A lock file created with O_EXCL holding the owner's pid. Returns a release function, or undefined
 * when the awaited binary appeared while waiting. A lock whose owner died is taken over.
 */
async function acquireLock(
  lockPath: string,
  binary: string,
  log: (m: string) => void,
  waitMs: number,
): Promise<(() => Promise<void>) | undefined> {
  const deadline = Date.now() + waitMs;
  let told = false;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return () => rm(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const owner = Number((await readFile(lockPath, 'utf8').catch(() => '')).trim());
    const justCreated = (await stat(lockPath).catch(() => undefined))?.mtimeMs ?? 0;
    const unreadable = !Number.isInteger(owner) || owner <= 0;
    // an empty lock may be one another process created but has not written its pid into yet
    if ((unreadable && Date.now() - justCreated > 10_000) || (!unreadable && !pidAlive(owner))) {
      await rm(lockPath, { force: true });
      continue;
    }
    if (await usableVersion(binary)) return undefined;
    if (!told) {
      log(`Another process (pid ${owner}) is building the Temporal CLI; waiting for it...`);
      told = true;
    }
    if (Date.now() > deadline) {
      throw new TemporalCliError(
        `Timed out waiting for pid ${owner} to finish building the Temporal CLI (lock ${lockPath}).`,
        'Wait for that build to finish, or stop it and delete the lock file.',
      );
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}
