import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { writeReport } from '../../src/cli/commands/report.js';
import { renderReportHtml } from '../../src/report/index.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { CHROMIUM_PATH, screenshot } from './screenshot.js';

const run = promisify(execFile);
const suite = useRolloutSuite();
const mainTs = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const HOSTILE = '<img src=x onerror=alert(1)>';

/** The CLI from the sources (tsx, so no build is needed) against the test server; never throws. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', mainTs, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: inject('temporalAddress'), LOG_LEVEL: 'warn' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** 5 % for a short window, an approval, then 25 % where the error rate breaches twice: a rollback. */
function breachingSpec(flag: string): RolloutSpecInput {
  return flagdSpec(
    flag,
    [{ exposure: 5, observe: '600ms' }, { approval: {} }, { exposure: 25, observe: '5s' }, { exposure: 100 }],
    {
      guards: [
        {
          name: 'error-rate',
          source: {
            type: 'synthetic',
            series: { err: [0.004, 0.006, 0.005] },
            steps: { '2': { err: [0.006, 0.012, 0.09, 0.08] } },
          },
          query: 'err',
          max: 0.02,
          interval: '100ms',
          failureLimit: 1,
        },
        {
          name: 'latency-p99',
          source: { type: 'synthetic', series: { p99: [0.21, 0.24, 0.22] } },
          query: 'p99',
          max: 0.5,
          interval: '100ms',
        },
      ],
    },
  );
}

// never skipped: without Chromium this fails and says how to install it
if (!existsSync(CHROMIUM_PATH))
  throw new Error(`no Chromium at ${CHROMIUM_PATH}: run scripts/ensure-chromium.sh (or set CHROMIUM_PATH)`);

describe('rollout report of a real rollout (paused, approved, rolled back by a guard)', () => {
  let id = '';
  let dir = '';
  let rolloutMs = 0;
  // the worker stays up until the end: a query on a closed workflow is answered by a worker replaying it
  let harness: RolloutHarness | undefined;
  beforeAll(async () => {
    const t0 = Date.now();
    dir = await mkdtemp(join(tmpdir(), 'rollout-report-'));
    harness = await rolloutHarness(suite.env, suite.bundle);
    ({ workflowId: id } = await suite.client.start(breachingSpec(uniqueFlag('report')), {
      taskQueue: harness.taskQueue,
    }));
    await waitFor(async () => (await suite.client.status(id)).phase === 'AwaitingApproval', 20_000, 'approval step');
    await suite.client.pause(id, { reason: 'checking <dashboards>', actor: HOSTILE });
    await new Promise((r) => setTimeout(r, 400));
    await suite.client.resume(id, { actor: 'eve' });
    await new Promise((r) => setTimeout(r, 200));
    await suite.client.approve(id, { step: 1, actor: 'ana', comment: 'looks fine' });
    expect((await suite.client.result(id)).phase).toBe('RolledBack');
    rolloutMs = Date.now() - t0;
  }, 60_000);
  afterAll(async () => {
    await harness?.stop();
  });

  it('the report holds the steps, the rollback and the failed guard, and headless Chromium draws it', async () => {
    const t0 = Date.now();
    const status = await suite.client.status(id);
    const htmlFile = await writeReport(suite.client, id, join(dir, 'report.html'), '2025-01-01T00:00:00.000Z');
    const svgFile = await writeReport(suite.client, id, join(dir, 'report.svg'));
    const html = await readFile(htmlFile, 'utf8');
    for (const step of status.steps) expect(html).toContain(step);
    expect(html).toContain('class="rollback-span"');
    expect(html).toContain('<g class="measurement failed">');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toBe(renderReportHtml(status, { id, generatedAt: '2025-01-01T00:00:00.000Z' }));
    const tWrite = Date.now();

    const page = await screenshot(htmlFile, join(dir, 'report.html.png'));
    const picture = await screenshot(svgFile, join(dir, 'report.svg.png'));
    console.log(
      `report e2e: screenshots in ${dir} (html ${page.bytes} B, svg ${picture.bytes} B); rollout ${rolloutMs} ms, ` +
        `2 reports ${tWrite - t0} ms, 2 screenshots ${Date.now() - tWrite} ms`,
    );
    for (const shot of [page, picture]) {
      expect(shot.bytes).toBeGreaterThan(10_000);
      for (const step of status.steps) expect(shot.text).toContain(step);
      expect(shot.text).toContain('RolledBack');
      expect(shot.text).not.toContain('This page contains the following errors'); // Chromium's XML parse error
      expect(shot.activeElements).toBe(0);
    }
    expect(page.text).toContain(HOSTILE); // shown as text, never parsed as an element
  });

  it('the CLI writes the report, prints its path, and refuses an unknown format with exit 2', async () => {
    const t0 = Date.now();
    const out = join(dir, 'cli-report.html');
    const ok = await cli(['report', id, '--out', out]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toBe(out);
    expect(await readFile(out, 'utf8')).toContain('Steps of the spec');
    const bad = await cli(['report', id, '--out', join(dir, 'report.pdf')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--out must end in \.html or \.svg/);
    console.log(`report e2e: 2 CLI runs (tsx, from the sources) ${Date.now() - t0} ms`);
  });
});
