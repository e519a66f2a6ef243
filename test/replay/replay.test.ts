import { readdir, readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { installRuntime } from '../../src/worker/runtime.js';
import { bundle } from '../helpers/temporal.js';

const dir = new URL('./histories/', import.meta.url);

async function loadHistories() {
  const ids = JSON.parse(await readFile(new URL('ids.json', dir), 'utf8').catch(() => '{}')) as Record<string, string>;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== 'ids.json').sort();
  return Promise.all(
    files.map(async (f) => {
      const name = f.replace(/\.json$/, '');
      return { workflowId: ids[name] ?? name, history: historyFromJSON(JSON.parse(await readFile(new URL(f, dir), 'utf8'))) };
    }),
  );
}

async function replayAll(workflowBundle: WorkflowBundleWithSourceMap) {
  const failures: { workflowId: string; error: string }[] = [];
  let count = 0;
  for await (const result of Worker.runReplayHistories({ workflowBundle }, await loadHistories())) {
    count += 1;
    if (result.error) failures.push({ workflowId: result.workflowId, error: String(result.error.message ?? result.error) });
  }
  return { count, failures };
}

describe('replay of checked-in histories', () => {
  beforeAll(() => installRuntime(createLogger({ level: 'error' })));

  it('replays every recorded scenario against the current workflow code without nondeterminism', async () => {
    const { count, failures } = await replayAll(await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname));
    expect(count).toBeGreaterThanOrEqual(11);
    expect(failures).toEqual([]);
  });

  it('detects a workflow whose command sequence drifted (the check can fail)', async () => {
    const { count, failures } = await replayAll(await bundle(new URL('../fixtures/drifted-workflows.ts', import.meta.url).pathname));
    expect(failures.length).toBe(count);
  });
});
