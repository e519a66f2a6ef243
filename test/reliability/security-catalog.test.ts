import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LoadedCatalog } from '../../src/catalog/load.js';
import { rolloutWorkflowId } from '../../src/client/start.js';
import { ValidationError } from '../../src/errors.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import type { RolloutSpec } from '../../src/domain/spec.schema.js';
import { checkSpec } from '../../src/spec/check.js';
import { PAYLOAD_KEY_ENV } from '../../src/temporal/codec.js';
import { httpRecorder, type HttpRecorder } from '../helpers/http-recorder.js';
import { rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { historyText } from './history-text.js';
import {
  expectInvalidSpec,
  expectNoneOf,
  scheduledActivities,
  secureApi,
  snapshotTree,
  startRaw,
  strictCatalog,
  type SecureApi,
} from './security-env.js';

/*
 * The issue's attacks on a worker whose catalog is strict (no inline URL, no loopback), each tried through the HTTP
 * API and through a raw Temporal start by workflow type name (which bypasses the API and every client-side check):
 * each is refused, or harmless, and leaves nothing behind.
 */

const suite = useRolloutSuite();

/** A secret of the worker's own environment, which a spec might try to name. */
const PAYLOAD_KEY = randomBytes(32).toString('base64');
const WORKER_ENV = { [PAYLOAD_KEY_ENV]: PAYLOAD_KEY };
const NOT_ALLOWED = 'is not a URL the catalog allows inline (name a catalog entry instead)';
const CREDENTIALS = 'must not carry credentials (user:password@): declare them as auth with a secret in the catalog';
const RESERVED = '"__proto__", "constructor", "prototype" are reserved and cannot name a';
const NOT_CATALOG_NAME =
  'must be a catalog name (a-z, 0-9, ".", "_" and "-", starting and ending with a letter or digit)';
const FIX = 'add it to the flag or fix the target spec (the file was left untouched)';

/** The flag file under the root: `checkout` a well-formed flag, `legacy` one without the variant `on`. */
const FLAGS = {
  $schema: 'https://flagd.dev/schema/v0/flags.json',
  flags: {
    checkout: { state: 'ENABLED', variants: { on: true, off: false }, defaultVariant: 'off' },
    legacy: { state: 'ENABLED', variants: { blue: 'blue', off: 'off' }, defaultVariant: 'off' },
  },
};

const ctx = {} as {
  dir: string;
  root: string;
  outside: string;
  listener: HttpRecorder;
  catalog: LoadedCatalog;
  h: RolloutHarness;
  api: SecureApi;
  /** The API principal `ci`'s token (role start). */
  token: string;
  /** The lines of /etc/passwd: none may show up in what a refused spec leaves behind. */
  passwd: string[];
};

beforeAll(async () => {
  const parent = await mkdtemp(join(tmpdir(), 'rollout-sec-catalog-'));
  ctx.dir = join(parent, 'catalog');
  ctx.root = join(ctx.dir, 'flags');
  ctx.outside = join(parent, 'outside');
  await mkdir(ctx.root, { recursive: true });
  await mkdir(join(ctx.dir, 'tokens'));
  await mkdir(ctx.outside);
  ctx.passwd = (await readFile('/etc/passwd', 'utf8')).split('\n').filter((line) => line.length >= 8);
  ctx.token = `ci-${randomUUID()}`;
  await writeFile(join(ctx.dir, 'tokens', 'ci'), `${ctx.token}\n`);
  await writeFile(join(ctx.root, 'flags.json'), `${JSON.stringify(FLAGS, null, 2)}\n`);
  // a valid flag file outside the root, holding the flags the links below would write: a followed link changes it
  await writeFile(join(ctx.outside, 'flags.json'), `${JSON.stringify(FLAGS, null, 2)}\n`);
  await symlink(ctx.outside, join(ctx.root, 'escape'));
  await symlink(join(ctx.outside, 'flags.json'), join(ctx.root, 'escape.json'));
  await symlink('/etc/passwd', join(ctx.root, 'passwd.json'));
  await symlink(join(ctx.outside, 'new.json'), join(ctx.root, 'dangling.json'));
  ctx.listener = await httpRecorder();
  ctx.catalog = strictCatalog(ctx.dir, {
    secrets: { 'ci-token': { file: 'tokens/ci' } },
    principals: { ci: { token: 'ci-token', roles: ['start'] } },
    targets: {
      'sec-checkout': {
        type: 'flagd',
        root: 'flags',
        path: 'flags.json',
        flag: 'checkout',
        variant: 'on',
        baselineVariant: 'off',
      },
      'sec-legacy': {
        type: 'flagd',
        root: 'flags',
        path: 'flags.json',
        flag: 'legacy',
        variant: 'on',
        baselineVariant: 'off',
      },
    },
  });
  ctx.h = await rolloutHarness(suite.env, suite.bundle, { catalog: ctx.catalog, env: WORKER_ENV });
  ctx.api = await secureApi({
    client: suite.client,
    temporalClient: suite.env.client,
    catalog: ctx.catalog,
    taskQueue: ctx.h.taskQueue,
  });
});

afterAll(async () => {
  await ctx.api?.close();
  await ctx.h?.stop();
  await ctx.listener?.close();
});

/** One attack: a spec, and the issue (`path: message`) both the API and the workflow's own check must name. */
interface Attack {
  label: string;
  spec: Record<string, unknown>;
  path: string;
  message: string;
}

const base = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'attack',
  target: 'sec-checkout',
  steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
  ...extra,
});

/** An inline target for a flag no other test uses, so the workflow ID the API would derive is fresh. */
const inlineFlagd = (patch: Record<string, unknown> = {}) => ({
  type: 'flagd',
  path: 'flags.json',
  flag: uniqueFlag('sec'),
  variant: 'on',
  baselineVariant: 'off',
  ...patch,
});

/**
 * Each attack refused twice: by the API (400, the issue at its path, nothing started) and by the workflow's own
 * check on a raw start (InvalidSpec with the same issue, no activity scheduled). None of `forbidden` appears in the
 * API's answer, the run's history, its status or its failure; the loopback listener received nothing.
 */
/** What no refused spec may leave in an answer, a history or a status: the worker's secrets, /etc/passwd. */
const forbidden = () => [PAYLOAD_KEY, ctx.token, ...ctx.passwd];

async function refusedEverywhere(attacks: readonly Attack[]) {
  const seen = await Promise.all(
    attacks.map(async (a) => {
      const res = await ctx.api.call('POST', '/rollouts', ctx.token, a.spec);
      expect(res.status, a.label).toBe(400);
      expect(res.json.issues, a.label).toContainEqual({ path: a.path, message: a.message });
      await expect(suite.client.handle(rolloutWorkflowId(a.spec as RolloutSpec)).describe(), a.label).rejects.toThrow(
        /not found/i,
      );

      const id = rolloutIdForFlag(uniqueFlag('sec-raw'));
      const handle = await startRaw(suite.env.client, ctx.h.taskQueue, a.spec, id);
      const failure = await expectInvalidSpec(handle, `${a.path}: ${a.message}`);
      const history = await handle.fetchHistory();
      expect(scheduledActivities(history), a.label).toEqual([]);
      const status = await suite.client.status(id);
      expect(status.phase, a.label).toBe('Pending');
      expectNoneOf(
        { api: res.text, history: historyText(history), status: JSON.stringify(status), failure },
        forbidden(),
      );
      return historyText(history);
    }),
  );
  expect(ctx.listener.requests).toEqual([]);
  return seen;
}

describe('a spec cannot borrow the worker’s credentials', () => {
  it('tokenEnv naming ROLLOUT_PAYLOAD_KEY (http target, webhook, compensation) or a catalog secret by name: 400 at the path, InvalidSpec raw, nothing sent, no value anywhere', async () => {
    const at = (path: string) => `${ctx.listener.url}${path}`;
    const http = {
      type: 'http',
      url: at('/flags/x'),
      flag: uniqueFlag('sec-env'),
      variant: 'on',
      baselineVariant: 'off',
    };
    const attacks: Attack[] = [
      {
        label: 'http target tokenEnv',
        spec: base({ target: { ...http, tokenEnv: PAYLOAD_KEY_ENV } }),
        path: 'target',
        message: 'unknown key: tokenEnv',
      },
      {
        label: 'webhook tokenEnv',
        spec: base({ notify: [{ webhook: { url: at('/notify'), tokenEnv: PAYLOAD_KEY_ENV } }] }),
        path: 'notify[0].webhook',
        message: 'unknown key: tokenEnv',
      },
      {
        label: 'compensation tokenEnv',
        spec: base({ rollback: { compensations: [{ http: { url: at('/hook'), tokenEnv: PAYLOAD_KEY_ENV } }] } }),
        path: 'rollback.compensations[0].http',
        message: 'unknown key: tokenEnv',
      },
      // the catalog's own secrets cannot be pointed elsewhere by naming them either
      {
        label: 'http target auth with a catalog secret',
        spec: base({ target: { ...http, flag: uniqueFlag('sec-auth'), auth: { bearer: 'ci-token' } } }),
        path: 'target',
        message: 'unknown key: auth',
      },
      {
        label: 'webhook header with a catalog secret',
        spec: base({ notify: [{ webhook: { url: at('/notify'), headers: { 'X-Token': { secret: 'ci-token' } } } }] }),
        path: 'notify[0].webhook',
        message: 'unknown key: headers',
      },
      {
        label: 'compensation auth with a catalog secret',
        spec: base({ rollback: { compensations: [{ http: { url: at('/hook'), auth: { bearer: 'ci-token' } } }] } }),
        path: 'rollback.compensations[0].http',
        message: 'unknown key: auth',
      },
    ];
    const histories = await refusedEverywhere(attacks);
    // the name is in the input the caller sent (that is the attack), never the value
    expect(histories[0]).toContain(PAYLOAD_KEY_ENV);
  });
});

describe('flag files stay under their root', () => {
  it('"../outside/x.json", an absolute path and /etc/passwd: 400 at target.path, InvalidSpec raw, nothing outside the root created or changed', async () => {
    const [outside, root] = [await snapshotTree(ctx.outside), await snapshotTree(ctx.root)];
    const dotdot = 'must not contain ".." segments: the file must lie under the base directory';
    const absolute = "must be relative to the worker's base directory, not absolute";
    await refusedEverywhere([
      {
        label: '..',
        spec: base({ target: inlineFlagd({ path: '../outside/x.json' }) }),
        path: 'target.path',
        message: dotdot,
      },
      {
        label: 'a/../..',
        spec: base({ target: inlineFlagd({ path: 'a/../../x.json' }) }),
        path: 'target.path',
        message: dotdot,
      },
      {
        label: 'absolute',
        spec: base({ target: inlineFlagd({ path: join(ctx.outside, 'x.json') }) }),
        path: 'target.path',
        message: absolute,
      },
      {
        label: '/etc/passwd',
        spec: base({ target: inlineFlagd({ path: '/etc/passwd' }) }),
        path: 'target.path',
        message: absolute,
      },
    ]);
    expect(await snapshotTree(ctx.outside)).toEqual(outside);
    expect(await snapshotTree(ctx.root)).toEqual(root);
  });

  it('symbolic links under the root that lead out (a directory, a flag file, /etc/passwd, a dangling link): refused before any write; no byte of /etc/passwd in history or status', async () => {
    const [outside, root] = [await snapshotTree(ctx.outside), await snapshotTree(ctx.root)];
    expect(ctx.passwd.length).toBeGreaterThan(0);
    const out = (shown: string) =>
      `flag file ${shown} resolves outside the base directory through a symbolic link; the target refuses it`;
    const cases = [
      { path: 'escape/x.json', message: out('escape/x.json') },
      { path: 'escape/flags.json', message: out('escape/flags.json') },
      { path: 'escape.json', message: out('escape.json') },
      { path: 'passwd.json', message: out('passwd.json') },
      {
        path: 'dangling.json',
        message:
          'flag file dangling.json goes through a symbolic link to something that does not exist; the target refuses it',
      },
    ];
    await Promise.all(
      cases.map(async ({ path, message }) => {
        // a fresh flag each: a followed link would add it to the file it leads to
        const spec = base({ target: inlineFlagd({ path }) });
        // the spec is well formed and the API cannot see the worker's files: it may start it; the workflow refuses it
        const res = await ctx.api.call('POST', '/rollouts', ctx.token, spec);
        const handles = [
          await startRaw(suite.env.client, ctx.h.taskQueue, spec, rolloutIdForFlag(uniqueFlag('sec-raw'))),
        ];
        if (res.status === 201) handles.push(suite.client.handle(String(res.json.workflowId)));
        else
          expect(res, path).toMatchObject({
            status: 400,
            json: { issues: expect.arrayContaining([{ path: 'target', message }]) },
          });
        for (const handle of handles) {
          const failure = await expectInvalidSpec(handle, `target: ${message}`);
          const history = await handle.fetchHistory();
          expect(scheduledActivities(history), path).toEqual([]);
          const status = JSON.stringify(await suite.client.status(handle.workflowId));
          expectNoneOf({ api: res.text, history: historyText(history), status, failure }, forbidden());
        }
      }),
    );
    expect(await snapshotTree(ctx.outside)).toEqual(outside);
    expect(await snapshotTree(ctx.root)).toEqual(root);
  });
});

describe('inline URLs are only those the catalog allows', () => {
  it('inline http-json and prometheus guards at the Temporal frontend, its Web UI and another loopback service: refused, nothing reached', async () => {
    const frontend = new URL(`http://${inject('temporalAddress')}`);
    const webUi = `http://${frontend.hostname}:${Number(frontend.port) + 1_000}`;
    const guard = (type: string, url: string) => ({
      guards: [{ name: 'probe', source: { type, url }, query: type === 'prometheus' ? 'up' : '$.x', max: 1 }],
    });
    const urls: [string, string][] = [
      ['http-json', `${frontend.origin}/`],
      ['prometheus', frontend.origin],
      ['http-json', `http://localhost:${frontend.port}/temporal.api.workflowservice.v1.WorkflowService/GetSystemInfo`],
      ['prometheus', webUi],
      ['http-json', `${webUi}/api/v1/namespaces`],
      ['prometheus', 'http://localhost:8233'],
      ['http-json', `http://[::1]:${frontend.port}/`],
      ['prometheus', ctx.listener.url],
      ['http-json', `${ctx.listener.url}/metrics`],
      ['http-json', `http://user:pw@${new URL(ctx.listener.url).host}/metrics`],
    ];
    await refusedEverywhere(
      urls.map(([type, url]) => ({
        label: `${type} ${url}`,
        spec: base(guard(type, url)),
        path: 'guards[0].source.url',
        message: url.includes('@') ? CREDENTIALS : NOT_ALLOWED,
      })),
    );
  });

  it('an inline URL with user:password is refused even under a prefix the catalog allows; the answers do not repeat it', async () => {
    const allowed = `${ctx.listener.url}/allowed/`;
    const catalog = strictCatalog(ctx.dir, { ...ctx.catalog.catalog, inline: { urls: [allowed] } });
    const h = await rolloutHarness(suite.env, suite.bundle, { catalog, env: WORKER_ENV });
    const api = await secureApi({
      client: suite.client,
      temporalClient: suite.env.client,
      catalog,
      taskQueue: h.taskQueue,
    });
    try {
      const withUser = `http://user:pw@${new URL(ctx.listener.url).host}/allowed/metrics`;
      const guarded = (url: string) =>
        base({ guards: [{ name: 'probe', source: { type: 'http-json', url }, query: '$.x', max: 1 }] });
      // the same URL without credentials passes the same check: only the credentials are refused
      expect(checkSpec(guarded(`${allowed}metrics`), catalog.catalog).ok).toBe(true);
      const cases: [Record<string, unknown>, string][] = [
        [guarded(withUser), 'guards[0].source.url'],
        [base({ notify: [{ webhook: { url: withUser } }] }), 'notify[0].webhook.url'],
        [base({ rollback: { compensations: [{ http: { url: withUser } }] } }), 'rollback.compensations[0].http.url'],
      ];
      for (const [spec, path] of cases) {
        const res = await api.call('POST', '/rollouts', ctx.token, spec);
        expect(res.status, path).toBe(400);
        expect(res.json.issues).toContainEqual({ path, message: CREDENTIALS });
        const handle = await startRaw(suite.env.client, h.taskQueue, spec, rolloutIdForFlag(uniqueFlag('sec-raw')));
        const failure = await expectInvalidSpec(handle, `${path}: ${CREDENTIALS}`);
        expect(scheduledActivities(await handle.fetchHistory())).toEqual([]);
        expectNoneOf({ api: res.text, failure }, ['user:pw', 'pw@']);
      }
      expect(ctx.listener.requests).toEqual([]);
    } finally {
      await api.close();
      await h.stop();
    }
  });

  it('a catalog whose provider URL carries user:password is refused when it loads, without repeating it', () => {
    // a URL is recorded in history as written (the spec check's marker, every window's activity input), so the
    // catalog takes credentials only as auth with a secret
    const userinfo = `http://user:pw@${new URL(ctx.listener.url).host}/metrics`;
    let error: unknown;
    try {
      strictCatalog(ctx.dir, {
        ...ctx.catalog.catalog,
        providers: { 'metrics-basic': { type: 'http-json', url: userinfo } },
      });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toContainEqual({
      path: 'providers.metrics-basic.url',
      message: CREDENTIALS,
    });
    expectNoneOf({ error: String(error) }, ['user:pw', 'pw@']);
  });
});

describe('names that reach Object.prototype', () => {
  it('"__proto__" and "constructor" as variant, flag, target, provider, template, hook or notifier: refused before any exposure change', async () => {
    const root = await snapshotTree(ctx.root);
    const guard = (source: string) => ({ guards: [{ name: 'g', source, query: '$.x', max: 1 }] });
    const undeclared = (what: string, name: string) => `${what} "${name}" is not declared in the catalog`;
    await refusedEverywhere([
      {
        label: 'inline variant __proto__',
        spec: base({ target: inlineFlagd({ variant: '__proto__' }) }),
        path: 'target.variant',
        message: `${RESERVED} variant`,
      },
      {
        label: 'inline baseline constructor',
        spec: base({ target: inlineFlagd({ baselineVariant: 'constructor' }) }),
        path: 'target.baselineVariant',
        message: `${RESERVED} variant`,
      },
      {
        label: 'named target, variant __proto__',
        spec: base({ target: { name: 'sec-checkout', variant: '__proto__' } }),
        path: 'target.variant',
        message: `${RESERVED} variant`,
      },
      {
        label: 'flag constructor in an existing file',
        spec: base({ target: inlineFlagd({ flag: 'constructor' }) }),
        path: 'target.flag',
        message: `${RESERVED} flag`,
      },
      {
        label: 'target constructor',
        spec: base({ target: 'constructor' }),
        path: 'target',
        message: undeclared('target', 'constructor'),
      },
      { label: 'target __proto__', spec: base({ target: '__proto__' }), path: 'target', message: NOT_CATALOG_NAME },
      {
        label: 'named target constructor',
        spec: base({ target: { name: 'constructor' } }),
        path: 'target.name',
        message: undeclared('target', 'constructor'),
      },
      {
        label: 'provider constructor',
        spec: base(guard('constructor')),
        path: 'guards[0].source',
        message: undeclared('provider', 'constructor'),
      },
      {
        label: 'provider __proto__',
        spec: base(guard('__proto__')),
        path: 'guards[0].source',
        message: NOT_CATALOG_NAME,
      },
      {
        label: 'template constructor',
        spec: base({ guards: [{ template: 'constructor' }] }),
        path: 'guards[0].template',
        message: undeclared('template', 'constructor'),
      },
      {
        label: 'template __proto__',
        spec: base({ guards: [{ template: '__proto__' }] }),
        path: 'guards[0].template',
        message: NOT_CATALOG_NAME,
      },
      {
        label: 'hook constructor',
        spec: base({ rollback: { compensations: [{ hook: 'constructor' }] } }),
        path: 'rollback.compensations[0].hook',
        message: undeclared('hook', 'constructor'),
      },
      {
        label: 'notifier tostring',
        spec: base({ notify: ['tostring'] }),
        path: 'notify[0]',
        message: undeclared('notifier', 'tostring'),
      },
      {
        label: 'notifier __proto__',
        spec: base({ notify: ['__proto__'] }),
        path: 'notify[0]',
        message: NOT_CATALOG_NAME,
      },
    ]);
    expect(await snapshotTree(ctx.root)).toEqual(root);
    // the worker runs in this process: nothing it parsed reached Object.prototype
    expect(Object.keys(Object.prototype)).toEqual([]);
  });

  it('a flag named toString in an existing file is an ordinary key: rolled out to 10 % and back, the other flags untouched', async () => {
    const file = join(ctx.root, 'proto.json');
    const other = { state: 'ENABLED', variants: { a: 'a', b: 'b' }, defaultVariant: 'a' };
    await writeFile(file, `${JSON.stringify({ flags: { other } }, null, 2)}\n`);
    const spec = base({
      target: { type: 'flagd', path: 'proto.json', flag: 'toString', variant: 'on', baselineVariant: 'off' },
      steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
    });
    const res = await ctx.api.call('POST', '/rollouts', ctx.token, spec);
    expect(res.status).toBe(201);
    const id = String(res.json.workflowId);
    await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 30_000, 'Observing');
    const during = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, Record<string, unknown>> };
    expect(Object.keys(during.flags)).toEqual(['other', 'toString']);
    expect(during.flags.other).toEqual(other);
    expect(during.flags.toString).toMatchObject({ state: 'ENABLED', variants: { on: true, off: false } });
    await suite.client.abort(id, { reason: 'security test', actor: 'sec' });
    expect(await suite.client.result(id)).toMatchObject({ phase: 'Aborted', exposure: { percent: 0 } });
    const after = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, Record<string, unknown>> };
    expect(after.flags.other).toEqual(other);
    expect(Object.keys(Object.prototype)).toEqual([]);
    expect({}.toString()).toBe('[object Object]');
  });

  it('an existing flag lacking the spec’s variant: InvalidSpec at target (API start and raw start), the file byte for byte', async () => {
    const file = join(ctx.root, 'flags.json');
    const before = await readFile(file, 'utf8');
    const spec = base({ target: 'sec-legacy' });
    const message = `flag "legacy" in flags.json has no variant "on"; ${FIX}`;
    // the API checks the spec against the catalog, not the worker's files: it starts it; the workflow refuses it
    const res = await ctx.api.call('POST', '/rollouts', ctx.token, spec);
    const handles = [startRaw(suite.env.client, ctx.h.taskQueue, spec, rolloutIdForFlag(uniqueFlag('sec-raw')))];
    if (res.status === 201) handles.push(Promise.resolve(suite.client.handle(String(res.json.workflowId))));
    else expect(res).toMatchObject({ status: 400, json: { issues: [{ path: 'target', message }] } });
    for (const handle of await Promise.all(handles)) {
      await expectInvalidSpec(handle, `target: ${message}`);
      expect(scheduledActivities(await handle.fetchHistory())).toEqual([]);
    }
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe('durations', () => {
  it('observe: 99999999999d is refused at steps[0].observe by the API and by the workflow', async () => {
    await refusedEverywhere([
      {
        label: 'observe',
        spec: base({ steps: [{ exposure: 5, observe: '99999999999d' }] }),
        path: 'steps[0].observe',
        message: 'must be at most 90d',
      },
    ]);
  });
});
