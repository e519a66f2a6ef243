import { execFile } from 'node:child_process';
import { cp, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { loadCatalogFile } from '../../src/catalog/load.js';
import { rolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const run = promisify(execFile);
const suite = useRolloutSuite();
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const examples = new URL('../../examples/', import.meta.url).pathname;

async function cli(args: string[], cwd: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [cliPath, ...args], {
      cwd,
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('rollout drill (CLI)', () => {
  it('runs the example drill once, passes, and the report counts it', async () => {
    // the examples as shipped: their catalog (the worker's), the rollout, the drill and the flag files beside them
    const dir = await mkdtemp(join(tmpdir(), 'drill-cli-'));
    await cp(examples, dir, { recursive: true });
    const h = await rolloutHarness(suite.env, suite.bundle, {
      catalog: await loadCatalogFile(join(dir, 'rollout.config.yaml')),
    });
    try {
      const result = await cli(['drill', 'run', 'ranker-drill.yaml', '--wait', '--task-queue', h.taskQueue], dir);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toMatch(/drill passed: detected in \d+ ms, rolled back in \d+ ms/);
      const report = await cli(['drill', 'report', '--since', '1h', '--name', 'ranker-drill', '--json'], dir);
      const summary = JSON.parse(report.stdout) as { drills: number; passRate: number };
      expect(summary.drills).toBeGreaterThanOrEqual(1);
      expect(summary.passRate).toBe(1);
    } finally {
      await h.stop();
    }
  }, 120_000);
});
