import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/index.js';
import { createApiServer } from '../../src/api/server.js';
import { SecretStore } from '../../src/catalog/secrets.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import { createLogger } from '../../src/logger.js';
import { testCatalog } from '../helpers/catalog.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { CHROMIUM_PATH } from '../report/screenshot.js';

const suite = useRolloutSuite();
const ALICE = `alice-${randomUUID()}`;
const VIEWER = `viewer-${randomUUID()}`;
/** Where the README's screenshots come from: `DASHBOARD_SCREENSHOTS=docs npx vitest run test/api/dashboard.test.ts`. */
const SHOTS = process.env.DASHBOARD_SCREENSHOTS;

let h: RolloutHarness;
let app: FastifyInstance;
let base: string;
let browser: Browser;
let profile: string;

const readFlag = (flag: string) =>
  createFlagdFileTarget(
    { type: 'flagd', path: 'flags.json', flag, variant: 'on', baselineVariant: 'off' },
    { baseDir: h.dir },
  ).read();

beforeAll(async () => {
  h = await rolloutHarness(suite.env, suite.bundle);
  const catalog = testCatalog(h.dir, {
    secrets: { 'alice-token': { env: 'DASH_ALICE' }, 'viewer-token': { env: 'DASH_VIEWER' } },
    principals: {
      alice: { token: 'alice-token', roles: ['start', 'operate', 'approve'] },
      viewer: { token: 'viewer-token', roles: ['start'] },
    },
  });
  app = await createApiServer({
    client: suite.client,
    temporalClient: suite.env.client,
    catalog,
    secrets: new SecretStore(catalog, { DASH_ALICE: ALICE, DASH_VIEWER: VIEWER }),
    logger: createLogger({ level: 'warn' }),
    taskQueue: h.taskQueue,
    uiUrl: 'http://127.0.0.1:8233',
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  profile = await mkdtemp(join(tmpdir(), 'dashboard-browser-'));
  browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await h?.stop();
  if (profile) await rm(profile, { recursive: true, force: true });
});

/** A fresh browser context (its own cookies), signed in with `token`. */
async function signedIn(token: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  await page.goto(base);
  await page.fill('#token', token);
  await page.click('#login-button');
  await page.waitForSelector('#logout');
  return page;
}

async function start(spec: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${base}/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ALICE}`, 'content-type': 'application/json' },
    body: JSON.stringify(spec),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { workflowId: string }).workflowId;
}

const text = (page: Page, selector: string) => page.locator(selector).innerText();

/** The page's document, untyped: this project compiles without the DOM library. */
type Doc = { querySelector(s: string): { textContent: string | null } | null };

/** Waits until the rollout page shows `phase` (the page polls the API each second). */
const phaseIs = (page: Page, phase: string) =>
  page.waitForFunction(
    (wanted) => (globalThis as unknown as { document: Doc }).document.querySelector('#phase')?.textContent === wanted,
    phase,
    { timeout: 30_000 },
  );

describe('the dashboard, in a real browser', () => {
  it('serves the page with a strict CSP and no data to a caller without a session', async () => {
    const page = await fetch(base);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).not.toMatch(/rollout\//);
    expect((await fetch(`${base}/me`)).status).toBe(401);
    expect(
      (
        await fetch(`${base}/session`, {
          method: 'POST',
          body: '{"token":"nope"}',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(401);
  });

  it('watches a rollout advance, approves its step, the flag file follows, and undo takes it back', async () => {
    const flag = uniqueFlag('dash-approve');
    const id = await start(
      flagdSpec(flag, [{ exposure: 10, observe: '1500ms' }, { approval: {} }, { exposure: 100 }], {
        guards: [
          {
            name: 'error-rate',
            source: { type: 'synthetic', series: { e: [0.004, 0.006, 0.005] } },
            query: 'e',
            max: 0.05,
            unit: 'ratio',
            interval: '300ms',
          },
        ],
      }) as unknown as Record<string, unknown>,
    );
    const page = await signedIn(ALICE);
    // the list shows it, with one-based step numbers
    await page.waitForSelector(`tr[data-id="${id}"]`, { timeout: 30_000 });
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-list.png') });
    await page.click(`tr[data-id="${id}"] a`);
    await page.waitForSelector('#phase');
    // it advances on its own: the window passes and the approval step waits
    await phaseIs(page, 'AwaitingApproval');
    expect(await text(page, '#step')).toBe('2 of 3: approval');
    expect(await text(page, '#exposure')).toBe('10 %');
    expect(await text(page, '#guards')).toContain('error-rate');
    expect(await page.locator('#report').getAttribute('src')).toMatch(/report\.svg/);
    expect(await page.locator('a[href^="http://127.0.0.1:8233/namespaces/default/workflows/"]').count()).toBe(1);
    if (SHOTS) await page.screenshot({ path: join(SHOTS, 'dashboard-rollout.png'), fullPage: true });
    await page.fill('#reason', 'checked the canary dashboards');
    await page.click('#action-approve');
    await phaseIs(page, 'Completed');
    expect(await text(page, '#approvals')).toContain('step 2 approved by alice: checked the canary dashboards');
    expect((await readFlag(flag)).percent).toBe(100);
    // a completed rollout offers the way back: undo, with a reason
    await page.fill('#reason', 'conversion dropped');
    await page.click('#action-undo');
    await phaseIs(page, 'RolledBack');
    expect(await text(page, '#ended')).toMatch(/an undo of run \S+\.$/);
    expect(await text(page, '#rollback')).toContain('conversion dropped');
    expect((await readFlag(flag)).percent).toBe(0);
    // the API reference, rendered from the OpenAPI document, opens with the same session (and not without one)
    await page.click('#api-docs');
    await page.waitForSelector('h1');
    expect(await text(page, 'h1')).toContain('rollout-orchestrator API');
    expect(await text(page, 'body')).toContain('POST /rollouts/{id}/approve');
    expect((await fetch(`${base}/docs`)).status).toBe(401);
    await page.context().close();
  });

  it('aborts a rollout with a reason; the flag file is back at its baseline; retry runs it again', async () => {
    const flag = uniqueFlag('dash-abort');
    const id = await start(flagdSpec(flag, [{ exposure: 20, observe: '1h' }, { exposure: 100 }]) as never);
    await waitFor(async () => (await readFlag(flag)).percent === 20, 30_000, 'exposure at 20 %');
    const page = await signedIn(ALICE);
    await page.goto(`${base}/#/rollout/${encodeURIComponent(id)}`);
    await page.waitForSelector('#action-abort');
    // no reason, no abort
    await page.click('#action-abort');
    expect(await text(page, '#action-error')).toBe('Give a reason first.');
    await page.fill('#reason', 'latency spike in eu-west');
    await page.click('#action-abort');
    await phaseIs(page, 'Aborted');
    expect(await text(page, '#rollback')).toContain('aborted by alice: latency spike in eu-west');
    expect((await readFlag(flag)).percent).toBe(0);
    // an aborted rollout offers the way forward again: retry, with a reason; no undo
    expect(await page.locator('#action-undo').count()).toBe(0);
    await page.fill('#reason', 'latency fixed');
    await page.click('#action-retry');
    await phaseIs(page, 'Observing');
    await waitFor(async () => (await readFlag(flag)).percent === 20, 30_000, 'exposure at 20 % again');
    await page.fill('#reason', 'test over');
    await page.click('#action-abort');
    await phaseIs(page, 'Aborted');
    await page.context().close();
  });

  it('a principal without the roles sees no buttons, and a forged change gets 403', async () => {
    const flag = uniqueFlag('dash-viewer');
    const id = await start(flagdSpec(flag, [{ exposure: 5 }, { approval: {} }, { exposure: 100 }]) as never);
    const page = await signedIn(VIEWER);
    await page.goto(`${base}/#/rollout/${encodeURIComponent(id)}`);
    await phaseIs(page, 'AwaitingApproval');
    expect(await page.locator('#read-only').count()).toBe(1);
    expect(await page.locator('#action-approve, #action-abort, #action-pause').count()).toBe(0);
    const path = `/rollouts/${encodeURIComponent(id)}/approve`;
    // the viewer's own cookie, the dashboard's header: the role is missing
    const asViewer = await page.evaluate(
      `fetch(${JSON.stringify(path)}, { method: 'POST', headers: { 'x-rollout-csrf': '1', 'content-type': 'application/json' }, body: '{"step":1}' }).then((r) => r.status)`,
    );
    expect(asViewer).toBe(403);
    // alice's session, but a request without the dashboard's header (what a forged cross-site form sends): refused
    const alice = await signedIn(ALICE);
    const forged = await alice.evaluate(
      `fetch(${JSON.stringify(path)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"step":1}' }).then(async (r) => [r.status, await r.text()])`,
    );
    expect(forged).toEqual([403, expect.stringContaining('x-rollout-csrf')]);
    expect((await suite.client.status(id)).approvals).toEqual([]);
    // the cookie is HttpOnly and SameSite=Strict
    const [cookie] = await alice.context().cookies();
    expect(cookie).toMatchObject({ name: 'rollout_session', httpOnly: true, sameSite: 'Strict' });
    await alice.click('#logout');
    await alice.waitForSelector('#token');
    expect(await alice.context().cookies()).toEqual([]);
    await suite.client.abort(rolloutIdForFlag(flag), { reason: 'test over', actor: 'test' });
    await page.context().close();
    await alice.context().close();
  });
});

if (SHOTS) await mkdir(SHOTS, { recursive: true });
