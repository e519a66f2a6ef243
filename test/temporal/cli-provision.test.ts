import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { TemporalCliError } from '../../src/errors.js';
import { cliCacheDir, resolveTemporalCli, TEMPORAL_CLI_VERSION } from '../../src/temporal/cli-provision.js';

/** Every test gets its own HOME, cache and PATH, so nothing here reads or writes the real per-user cache. */
let root: string;
let sandbox: { home: string; cache: string; bin: string };

const tempRoots: string[] = [];
afterAll(async () => {
  await Promise.all(tempRoots.map((dir) => rm(dir, { recursive: true, force: true })));
});

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'cli-provision-'));
  tempRoots.push(root);
  sandbox = { home: join(root, 'home'), cache: join(root, 'cache'), bin: join(root, 'bin') };
  await Promise.all(Object.values(sandbox).map((dir) => mkdir(dir, { recursive: true })));
});

/** A minimal environment: only what the resolver reads, never the developer's own PATH or TEMPORAL_CLI_PATH. */
function sandboxEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { HOME: sandbox.home, XDG_CACHE_HOME: sandbox.cache, PATH: sandbox.bin, ...extra };
}

async function writeScript(path: string, body: string): Promise<string> {
  await writeFile(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return path;
}

async function failureOf(promise: Promise<unknown>): Promise<TemporalCliError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TemporalCliError);
  return err as TemporalCliError;
}

/** What a user reads: one paragraph with the cause and the fix, never a stack trace. */
function expectReadable(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/\.ts:\d+:\d+/);
}

/**
 * A stand-in for Go, the boundary we do not own: `go version` reports `goVersion`; `go install` takes
 * about a second, counts itself in `counter`, and leaves a fake Temporal CLI v1.5.1 in $GOBIN.
 */
function fakeGo(goVersion: string, counter: string): Promise<string> {
  return writeScript(
    join(sandbox.bin, 'go'),
    `PATH=/usr/bin:/bin
case "$1" in
  version) echo "go version go${goVersion} linux/amd64" ;;
  install)
    sleep 1
    echo "install $$" >> '${counter}'
    printf '#!/bin/sh\\necho "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)"\\n' > "$GOBIN/temporal"
    chmod +x "$GOBIN/temporal" ;;
  *) exit 2 ;;
esac`,
  );
}

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean);
}

describe('resolveTemporalCli with TEMPORAL_CLI_PATH set', () => {
  it('rejects a path with nothing there, naming the variable, the cause and the fix', async () => {
    const missing = join(root, 'no-such-temporal');
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: missing }) }));

    const text = err.explain();
    expect(text).toContain(`TEMPORAL_CLI_PATH is set to ${missing}`);
    expect(text).toContain('no executable file is there');
    expect(text).toMatch(/Point TEMPORAL_CLI_PATH at a Temporal CLI v1\.5\.x binary, or unset it/);
    expectReadable(text);
  });

  it('rejects an executable that is not the Temporal CLI, quoting what it printed', async () => {
    const impostor = await writeScript(join(root, 'temporal'), 'echo "hello from an impostor"');
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: impostor }) }));

    const text = err.explain();
    expect(text).toContain(`TEMPORAL_CLI_PATH=${impostor} is not a working Temporal CLI`);
    expect(text).toContain('hello from an impostor');
    expect(text).toMatch(/Point TEMPORAL_CLI_PATH at a Temporal CLI v1\.5\.x binary, or unset it/);
    expectReadable(text);
  });

  it('rejects a Temporal CLI of another release, naming both versions', async () => {
    const old = await writeScript(join(root, 'temporal'), 'echo "temporal version 1.4.0 (Server 1.28.0, UI 2.38.0)"');
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: old }) }));

    expect(err.message).toContain('is Temporal CLI v1.4.0; this project needs v1.5.x');
    expect(err.hint).toContain(`Point TEMPORAL_CLI_PATH at v${TEMPORAL_CLI_VERSION}`);
    expectReadable(err.explain());
  });

  it('accepts the real Temporal CLI and says where it came from', async () => {
    const real = inject('temporalCliPath');
    const cli = await resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: real }) });

    expect(cli).toEqual({ path: real, version: TEMPORAL_CLI_VERSION, source: 'TEMPORAL_CLI_PATH' });
  });
});

describe('resolveTemporalCli without a Temporal CLI', () => {
  it('explains how to get one when Go is not installed either, and writes nothing', async () => {
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv(), log: () => {} }));

    expect(err.message).toBe('No Temporal CLI was found and Go is not installed, so none can be built.');
    expect(err.hint).toContain('Install the Temporal CLI v1.5.x (https://docs.temporal.io/cli)');
    expect(err.hint).toContain('set TEMPORAL_CLI_PATH');
    expect(err.hint).toContain(`go install github.com/temporalio/cli/cmd/temporal@v${TEMPORAL_CLI_VERSION}`);
    expectReadable(err.explain());
    expect(await readdir(sandbox.cache)).toEqual([]);
  });

  it('refuses to build with a Go older than 1.25', async () => {
    const counter = join(root, 'installs');
    await fakeGo('1.21.0', counter);

    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv(), log: () => {} }));

    expect(err.message).toContain('Go 1.21 is too old');
    expect(err.message).toContain('needs 1.25+');
    expect(err.hint).toContain('TEMPORAL_CLI_PATH');
    expect(await lines(counter)).toEqual([]);
  });
});

describe('resolveTemporalCli building into the cache', () => {
  it('builds once for two concurrent callers, publishes atomically, and later calls reuse the cache', async () => {
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const env = sandboxEnv();
    const dir = cliCacheDir(env);
    const logs: string[][] = [[], [], []];
    const resolveLogging = (i: number) => resolveTemporalCli({ env, lockWaitMs: 30_000, log: (m) => logs[i]!.push(m) });

    const [first, second] = await Promise.all([resolveLogging(0), resolveLogging(1)]);

    expect(dir.startsWith(sandbox.cache)).toBe(true);
    expect(first.path).toBe(join(dir, 'temporal'));
    expect(second.path).toBe(first.path);
    expect(first.version).toBe(TEMPORAL_CLI_VERSION);
    expect(second.version).toBe(TEMPORAL_CLI_VERSION);
    expect(await lines(counter)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['temporal']); // no staging-* directory, no build.lock
    expect(logs.flat().filter((m) => m.startsWith('Built Temporal CLI'))).toHaveLength(1);

    const third = await resolveLogging(2);

    expect(third).toEqual({ path: first.path, version: TEMPORAL_CLI_VERSION, source: 'cache' });
    expect(logs[2]).toEqual([`Using cached Temporal CLI v${TEMPORAL_CLI_VERSION} at ${first.path} (no rebuild).`]);
    expect(await lines(counter)).toHaveLength(1);
  });

  it('takes over a build lock whose owner died', async () => {
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const env = sandboxEnv();
    const dir = cliCacheDir(env);
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    expect(() => process.kill(deadPid, 0)).toThrow();
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'build.lock'), String(deadPid));
    const logs: string[] = [];

    // a short wait: if the stale lock were honoured, this fails in seconds instead of hanging
    const cli = await resolveTemporalCli({ env, lockWaitMs: 5_000, log: (m) => logs.push(m) });

    expect(cli).toEqual({ path: join(dir, 'temporal'), version: TEMPORAL_CLI_VERSION, source: 'built' });
    expect(logs.some((m) => m.includes('Another process'))).toBe(false);
    expect(await lines(counter)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['temporal']);
  });
});
