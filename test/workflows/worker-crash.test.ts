import { once } from 'node:events';
import { inject, describe, expect, it } from 'vitest';
import { httpRecorder } from '../helpers/http-recorder.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { spawnWorkerProcess } from '../helpers/worker-process.js';

const suite = useRolloutSuite();
const startWorker = (taskQueue: string) =>
  spawnWorkerProcess({ address: inject('temporalAddress'), taskQueue, inheritStderr: true });

describe('a worker killed during an observation window', () => {
  it('resumes the rollout at the same step on a new worker, with no exposure change repeated or reordered', async () => {
    const target = await httpRecorder();
    let state: { percent: number; lastKey?: string } = { percent: 0 };
    target.respond = (req) => {
      if (req.method === 'PUT') {
        const body = req.body as { percent: number; idempotencyKey: string };
        state = { percent: body.percent, lastKey: body.idempotencyKey };
        return { status: 200, body: state };
      }
      return { status: 200, body: state };
    };
    const taskQueue = uniqueTaskQueue('crash');
    let worker = await startWorker(taskQueue);
    try {
      const flag = uniqueFlag('crash');
      const { workflowId: id } = await suite.client.start(
        {
          name: 'crash-test',
          target: { type: 'http', url: `${target.url}/flags/${flag}`, flag, variant: 'on', baselineVariant: 'off' },
          steps: [
            { exposure: 1, observe: '200ms' },
            { exposure: 5, observe: '3s' },
            { exposure: 25, observe: '200ms' },
            { exposure: 100 },
          ],
        },
        { taskQueue },
      );
      await waitFor(async () => {
        const s = await suite.client.status(id);
        return s.step === 1 && s.phase === 'Observing';
      }, 60_000);
      worker.kill('SIGKILL');
      await once(worker, 'exit');
      const atKill = target.requests.filter((r) => r.method === 'PUT').length;
      expect(atKill).toBe(2);

      worker = await startWorker(taskQueue);
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      const puts = target.requests
        .filter((r) => r.method === 'PUT')
        .map((r) => r.body as { percent: number; idempotencyKey: string });
      expect(puts.map((p) => p.percent)).toEqual([1, 5, 25, 100]);
      expect(new Set(puts.map((p) => p.idempotencyKey)).size).toBe(4);
      expect(result.timeline.filter((t) => t.phase === 'Observing').map((t) => t.step)).toEqual([0, 1, 2]);
    } finally {
      worker.kill('SIGKILL');
      await target.close();
    }
  }, 120_000);
});
