import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { describe, expect, inject, it } from 'vitest';
import { statusQuery } from '../../workflows/messages.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const run = promisify(execFile);
const stateDir = process.env.CLUSTER_STATE_DIR;
const suite = useRolloutSuite();

async function serving(): Promise<boolean> {
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address: inject('temporalAddress'), connectTimeout: 1_000 });
    await connection.workflowService.getSystemInfo({});
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => {});
  }
}

// Run by `npm run test:cluster` (scripts/cluster/test.sh sets CLUSTER_STATE_DIR); `npm test` excludes this folder.
if (!stateDir) throw new Error('test/cluster runs under `npm run test:cluster`, which sets CLUSTER_STATE_DIR');
describe('the cluster profile', () => {
  it('completes a rollout although the server process is killed and restarted mid-rollout', async () => {
    const dir = stateDir!;
    const h = await rolloutHarness(suite.env, suite.bundle);
    try {
      const flag = uniqueFlag('restart');
      const handle = await h.start(
        flagdSpec(flag, [
          { exposure: 5, observe: '2s' },
          { exposure: 25, observe: '2s' },
          { exposure: 50, observe: '2s' },
          { exposure: 100 },
        ]),
      );
      await waitFor(async () => (await handle.query(statusQuery)).exposure.percent >= 5, 30_000, 'first step');

      const before = Number(await readFile(join(dir, 'server.pid'), 'utf8'));
      process.kill(before, 'SIGKILL');
      await waitFor(() => serving().then((ok) => !ok), 10_000, 'the server down');
      const downAt = Date.now();
      await run('bash', [join(dir, 'run-server.sh')]);
      const after = Number(await readFile(join(dir, 'server.pid'), 'utf8'));
      expect(after).not.toBe(before);
      await waitFor(serving, 120_000, 'the server back');
      process.stderr.write(`[cluster] server back in ${((Date.now() - downAt) / 1000).toFixed(1)} s\n`);

      const result = await handle.result();
      expect(result.phase).toBe('Completed');
      expect(result.exposure.percent).toBe(100);
      expect(result.timeline.filter((t) => t.phase === 'Progressing').map((t) => t.exposure)).toEqual([0, 5, 25, 50]);
    } finally {
      await h.stop();
    }
  }, 240_000);
});
