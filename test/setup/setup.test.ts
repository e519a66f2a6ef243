import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { setupTemporal } from '../../src/setup/setup.js';
import { warnIfNotSetUp } from '../../src/setup/worker-check.js';
import type { PinoLogger } from '../../src/logger.js';
import { loadTemporalSettings } from '../../src/temporal/connection.js';
import { ROLLOUT_SEARCH_ATTRIBUTES } from '../../src/temporal/search-attributes.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { bundle, connectTestEnv } from '../helpers/temporal.js';

const run = promisify(execFile);
const root = new URL('../..', import.meta.url).pathname;
const ATTRIBUTE_LINES = ROLLOUT_SEARCH_ATTRIBUTES.map((a) => `search attribute ${a.name}`);

/** Settings as `rollout setup` reads them, pointed at the suite's server. */
function settingsFor(namespace: string) {
  return loadTemporalSettings({ TEMPORAL_ADDRESS: inject('temporalAddress'), TEMPORAL_NAMESPACE: namespace });
}

/** Runs `rollout setup` from the sources (no build needed); never throws. */
async function cliSetup(namespace: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'setup', '--namespace', namespace],
      { cwd: root, env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress') }, timeout: 90_000 },
    );
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** A logger that records its warnings. */
function recordingLogger(): { logger: PinoLogger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = () => {};
  const logger = {
    warn: (obj: unknown, msg?: string) => warnings.push(typeof obj === 'string' ? obj : (msg ?? '')),
    debug: noop,
    info: noop,
  } as unknown as PinoLogger;
  return { logger, warnings };
}

let connection: Connection;
let suiteEnv: TestWorkflowEnvironment;
beforeAll(async () => {
  suiteEnv = await connectTestEnv(); // installs the runtime the harness's worker needs
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await connection?.close();
  await suiteEnv?.teardown();
});

describe('rollout setup', () => {
  it('is idempotent on the suite namespace: the second run creates nothing', async () => {
    const namespace = inject('temporalNamespace');
    const first = await setupTemporal({ settings: settingsFor(namespace) });
    const second = await setupTemporal({ settings: settingsFor(namespace) });
    // the dev server registers the attributes itself: nothing to create either time
    expect(first.created).toEqual([]);
    expect(second.created).toEqual([]);
    expect(second.alreadyPresent).toEqual([
      `namespace ${namespace}`,
      ...ROLLOUT_SEARCH_ATTRIBUTES.map((a) => expect.stringContaining(a.name)),
    ]);
  });

  it('creates a fresh namespace with the attributes, and a rollout runs in it', async () => {
    const namespace = `setup-${randomUUID().slice(0, 8)}`;
    const lines: string[] = [];
    const first = await setupTemporal({ settings: settingsFor(namespace), log: (l) => lines.push(l) });
    expect(first.created).toEqual([
      `namespace ${namespace}`,
      ...ROLLOUT_SEARCH_ATTRIBUTES.map((a) => expect.stringContaining(a.name)),
    ]);
    expect(lines[0]).toBe(`namespace ${namespace}: created (retention 72h)`);
    expect(lines.at(-1)).toMatch(/^ready: /);
    const described = await connection.workflowService.describeNamespace({ namespace });
    expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(72 * 3600);

    // the CLI, run again: one line per thing, all already present
    const again = await cliSetup(namespace);
    expect(again.code, again.stderr).toBe(0);
    const out = again.stdout.trim().split('\n');
    expect(out[0]).toBe(`namespace ${namespace}: already present`);
    for (const name of ATTRIBUTE_LINES) expect(out.find((l) => l.startsWith(name))).toMatch(/: already present$/);
    expect(out.filter((l) => l.includes('created'))).toEqual([]);

    // usable: the real workflow runs there and its search attributes are queryable
    const env = await TestWorkflowEnvironment.createFromExistingServer({
      address: inject('temporalAddress'),
      namespace,
    });
    const h = await rolloutHarness(env, await bundle(new URL('../../workflows/index.ts', import.meta.url).pathname));
    try {
      const flag = uniqueFlag('setup');
      const handle = await h.start(flagdSpec(flag, [{ exposure: 10, observe: '100ms' }, { exposure: 100 }]));
      expect((await handle.result()).phase).toBe('Completed');
      await waitFor(
        async () => {
          const query = `RolloutPhase = 'Completed' AND WorkflowId = '${handle.workflowId}'`;
          return (await env.client.workflow.count(query)).count === 1;
        },
        20_000,
        'the completed rollout in visibility',
      );
    } finally {
      await h.stop();
      await env.teardown();
    }
  });

  it('the worker check warns about a namespace without the attributes or without the namespace, and only then', async () => {
    const bare = `bare-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({
      namespace: bare,
      workflowExecutionRetentionPeriod: { seconds: 86_400 } as never,
    });
    const missing = recordingLogger();
    await warnIfNotSetUp(settingsFor(bare), missing.logger);
    expect(missing.warnings).toHaveLength(1);
    for (const a of ROLLOUT_SEARCH_ATTRIBUTES) expect(missing.warnings[0]).toContain(a.name);
    expect(missing.warnings[0]).toContain('rollout setup');

    const absent = recordingLogger();
    await warnIfNotSetUp(settingsFor(`absent-${randomUUID().slice(0, 8)}`), absent.logger);
    expect(absent.warnings).toEqual([expect.stringMatching(/does not exist.*rollout setup/)]);

    const ok = recordingLogger();
    await warnIfNotSetUp(settingsFor(inject('temporalNamespace')), ok.logger);
    expect(ok.warnings).toEqual([]);

    const unreachable = recordingLogger();
    await warnIfNotSetUp(loadTemporalSettings({ TEMPORAL_ADDRESS: '127.0.0.1:1' }), unreachable.logger);
    expect(unreachable.warnings).toEqual([]);
  });
});
