import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/util/ports.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const cliPath = join(root, 'dist/src/cli/main.js');

/*
 * A second cluster of the same build, its frontend serving TLS and requiring a client certificate: certificates made
 * with openssl by scripts/cluster/start.sh (CLUSTER_TLS=mtls), the client configured only through Temporal's standard
 * TEMPORAL_TLS_* environment, as a deployment would.
 */
let state: string;
let env: Record<string, string>;

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'rollout-cluster-tls-'));
  await run('bash', [join(root, 'scripts/cluster/start.sh'), state], {
    env: { ...process.env, CLUSTER_TLS: 'mtls' },
    timeout: 600_000,
  });
  env = Object.fromEntries(
    (await readFile(join(state, 'env'), 'utf8'))
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}, 600_000);

afterAll(async () => {
  if (state) await run('bash', [join(root, 'scripts/cluster/stop.sh'), state]).catch(() => undefined);
});

/** The built CLI with `extra` over a clean Temporal environment (no TEMPORAL_* from the test process). */
async function cli(
  args: string[],
  extra: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_')));
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      env: { ...base, LOG_LEVEL: 'warn', ...extra },
      timeout: 120_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('mTLS to a cluster (certificates generated here)', () => {
  it('refuses a client without a certificate, and one without TLS', async () => {
    const address = env.TEMPORAL_ADDRESS!;
    const noCert = await cli(['list'], {
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: env.TEMPORAL_TLS_SERVER_CA_CERT_PATH!,
      TEMPORAL_TLS_SERVER_NAME: 'localhost',
    });
    expect(noCert.code).toBe(1);
    expect(noCert.stderr).toContain(`cannot reach Temporal at ${address}`);
    const plain = await cli(['list'], { TEMPORAL_ADDRESS: address });
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`cannot reach Temporal at ${address}`);
  });

  it('runs a worker and the CLI over mTLS: a rollout completes and its status reads back', async () => {
    const taskQueue = `tls-${uniqueFlag('q')}`;
    const healthPort = await freePort();
    let stderr = '';
    const worker: ChildProcess = spawn(
      process.execPath,
      [cliPath, 'worker', '--task-queue', taskQueue, '--health-address', `127.0.0.1:${healthPort}`],
      {
        env: {
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('TEMPORAL_'))),
          ...env,
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    worker.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-5_000)));
    try {
      await waitFor(
        async () => (await fetch(`http://127.0.0.1:${healthPort}/readyz`).catch(() => undefined))?.status === 200,
        120_000,
        `the worker ready over mTLS (${stderr})`,
      );
      const flag = uniqueFlag('tls');
      const dir = await mkdtemp(join(tmpdir(), 'rollout-tls-spec-'));
      const file = join(dir, 'spec.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 'tls',
          target: { type: 'memory', name: flag, flag, variant: 'on', baselineVariant: 'off' },
          steps: [{ exposure: 10, observe: '200ms' }, { exposure: 100 }],
        }),
      );
      const started = await cli(['start', file, '--task-queue', taskQueue, '--wait'], env);
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toContain(`started rollout/${flag}`);
      expect(started.stdout).toMatch(/Completed/);
      const status = await cli(['status', `rollout/${flag}`, '--json'], env);
      expect(JSON.parse(status.stdout)).toMatchObject({ phase: 'Completed', exposure: { percent: 100 } });
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => (worker.exitCode !== null ? resolve(null) : worker.once('exit', resolve)));
    }
  }, 240_000);
});
