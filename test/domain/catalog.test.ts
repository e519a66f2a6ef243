import { describe, expect, it } from 'vitest';
import { checkCatalog, EMPTY_CATALOG } from '../../src/domain/catalog.js';
import type { CatalogInput } from '../../src/domain/catalog.schema.js';
import type { ValidationIssue } from '../../src/domain/validation.js';
import { checkSpec } from '../../src/spec/check.js';

/** A catalog an operator could ship: one entry or more in every section, cross-references all declared. */
const operatorCatalog: CatalogInput = {
  roots: { flags: '/srv/flags', scratch: 'scratch' },
  secrets: {
    'prom-token': { env: 'PROM_TOKEN' },
    'flags-key': { file: 'secrets/flags-key' },
    'hook-token': { env: 'HOOK_TOKEN' },
    'ci-token': { env: 'CI_TOKEN' },
  },
  targets: {
    checkout: {
      type: 'flagd',
      root: 'flags',
      path: 'checkout.json',
      flag: 'new-checkout',
      variant: 'on',
      baselineVariant: 'off',
    },
    ranker: {
      type: 'http',
      url: 'https://flags.internal/api/flags',
      flag: 'ranker',
      variant: 'v2',
      baselineVariant: 'v1',
      auth: { bearer: 'flags-key' },
      headers: { 'X-Tenant': 'shop', 'X-Api-Key': { secret: 'flags-key' } },
    },
    sandbox: { type: 'memory', name: 'sandbox', flag: 'sandbox', variant: 'on', baselineVariant: 'off' },
  },
  providers: {
    prom: { type: 'prometheus', url: 'http://prometheus.internal:9090', auth: { bearer: 'prom-token' } },
    scripted: { type: 'synthetic', series: { errors: [0.01] } },
  },
  templates: {
    'error-rate': {
      description: 'Share of 5xx responses of a service',
      args: {
        service: { type: 'string' },
        max: { type: 'number', min: 0, max: 1, default: 0.05 },
      },
      guard: {
        source: 'prom',
        query: 'sum(rate(http_requests_total{service="{{ args.service }}",code=~"5.."}[5m]))',
        max: '{{ args.max }}',
      },
    },
  },
  notifiers: {
    oncall: { webhook: { url: 'https://hooks.internal/oncall', auth: { bearer: 'hook-token' } } },
    log: { log: {} },
  },
  hooks: { 'purge-cache': { http: { url: 'https://cdn.internal/purge', auth: { bearer: 'hook-token' } } } },
  principals: { ci: { token: 'ci-token', roles: ['start', 'operate'] } },
  policy: {
    default: { maxFirstStep: 10 },
    targets: { checkout: { requiredGuards: ['error-rate'], allowedHours: { from: '09:00', to: '17:00' } } },
  },
  inline: { flagdRoot: 'scratch', urls: ['http://metrics.internal:9090/api/'] },
};

function issuesOf(value: unknown): ValidationIssue[] {
  const result = checkCatalog(value);
  return result.ok ? [] : result.issues;
}

describe('an operator catalog that is complete', () => {
  it('parses with every section and fills the defaults the operator left out', () => {
    const result = checkCatalog(operatorCatalog);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const c = result.catalog;
    expect(c.targets.ranker).toMatchObject({ method: 'PUT', timeoutMs: 10_000 });
    expect(c.providers.prom).toMatchObject({ timeoutMs: 5_000, auth: { bearer: 'prom-token' } });
    expect(c.templates['error-rate']?.args.service).toEqual({ type: 'string', pattern: '^[A-Za-z0-9_.:/-]{1,128}$' });
    expect(c.hooks['purge-cache']?.http).toMatchObject({ method: 'POST', timeoutMs: 10_000 });
    expect(c.policy.targets.checkout?.allowedHours?.days).toEqual(['mon', 'tue', 'wed', 'thu', 'fri']);
    expect(c.policy.default).toEqual({ maxFirstStep: 10 });
    expect(c.inline).toMatchObject({
      flagdRoot: 'scratch',
      urls: ['http://metrics.internal:9090/api/'],
      memory: true,
      synthetic: true,
    });
    expect(c.principals.ci).toEqual({ token: 'ci-token', roles: ['start', 'operate'] });
  });

  it('keeps secrets as where to read them, never a value', () => {
    const result = checkCatalog(operatorCatalog);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.catalog.secrets).toEqual({
      'prom-token': { env: 'PROM_TOKEN' },
      'flags-key': { file: 'secrets/flags-key' },
      'hook-token': { env: 'HOOK_TOKEN' },
      'ci-token': { env: 'CI_TOKEN' },
    });
  });

  it('is empty when there is no file: nothing declared, memory targets and synthetic sources allowed inline', () => {
    for (const nothing of [undefined, null, {}]) {
      const result = checkCatalog(nothing);
      expect(result.ok).toBe(true);
      if (!result.ok) return;
      expect(result.catalog).toEqual(EMPTY_CATALOG);
    }
    expect(EMPTY_CATALOG.targets).toEqual({});
    expect(EMPTY_CATALOG.providers).toEqual({});
    expect(EMPTY_CATALOG.inline).toMatchObject({ urls: [], memory: true, synthetic: true });
    expect(EMPTY_CATALOG.inline.flagdRoot).toBeUndefined();
  });
});

describe('a catalog whose entries name what it does not declare', () => {
  const flagd = { type: 'flagd', path: 'x.json', flag: 'x', variant: 'on', baselineVariant: 'off' };
  const synthetic = { type: 'synthetic' };

  it.each<[string, unknown, string, RegExp]>([
    [
      'a flagd target under an undeclared root',
      { targets: { x: { ...flagd, root: 'nowhere' } } },
      'targets.x.root',
      /names root "nowhere", which is not declared/,
    ],
    ['a flagd target with no root at all', { targets: { x: { ...flagd } } }, 'targets.x.root', /is required/],
    [
      'a provider authenticating with an undeclared secret',
      { providers: { p: { type: 'prometheus', url: 'http://p:9090', auth: { bearer: 'missing' } } } },
      'providers.p.auth.bearer',
      /names secret "missing", which is not declared/,
    ],
    [
      'a provider header taken from an undeclared secret',
      { providers: { p: { type: 'http-json', url: 'http://p/', headers: { 'X-Key': { secret: 'missing' } } } } },
      'providers.p.headers.X-Key',
      /names secret "missing"/,
    ],
    [
      'an http target authenticating with an undeclared secret',
      {
        targets: {
          h: {
            type: 'http',
            url: 'http://f/',
            flag: 'x',
            variant: 'on',
            baselineVariant: 'off',
            auth: { bearer: 'gone' },
          },
        },
      },
      'targets.h.auth.bearer',
      /names secret "gone"/,
    ],
    [
      'a notifier with basic auth whose password is undeclared',
      { notifiers: { n: { webhook: { url: 'http://n/', auth: { basic: { username: 'u', password: 'gone' } } } } } },
      'notifiers.n.webhook.auth.basic.password',
      /names secret "gone"/,
    ],
    [
      'a hook authenticating with an undeclared secret',
      { hooks: { h: { http: { url: 'http://h/', auth: { bearer: 'gone' } } } } },
      'hooks.h.http.auth.bearer',
      /names secret "gone"/,
    ],
    [
      'a principal whose token is an undeclared secret',
      { principals: { ci: { token: 'ci-token', roles: ['start'] } } },
      'principals.ci.token',
      /names secret "ci-token", which is not declared/,
    ],
    [
      'a policy for an undeclared target',
      { policy: { targets: { ghost: { maxFirstStep: 5 } } } },
      'policy.targets.ghost',
      /names target "ghost", which is not declared/,
    ],
    [
      'inline flagd targets under an undeclared root',
      { inline: { flagdRoot: 'scratch' } },
      'inline.flagdRoot',
      /names root "scratch", which is not declared/,
    ],
    [
      'a template naming an undeclared provider',
      { templates: { t: { guard: { source: 'ghost', query: 'up', max: 1 } } } },
      'templates.t.guard.source',
      /names provider "ghost", which is not declared/,
    ],
  ])('refuses %s, at its path', (_story, catalog, path, message) => {
    const issues = issuesOf(catalog);
    expect(issues.map((i) => i.path)).toEqual([path]);
    expect(issues[0]!.message).toMatch(message);
  });

  it('reports every broken reference at once, not just the first', () => {
    const issues = issuesOf({
      targets: { x: { ...flagd, root: 'nowhere' } },
      principals: { ci: { token: 'gone', roles: ['admin'] } },
      policy: { targets: { ghost: {} } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual(['policy.targets.ghost', 'principals.ci.token', 'targets.x.root']);
  });

  it('accepts references in either direction once they are declared', () => {
    const result = checkCatalog({
      roots: { scratch: 'scratch' },
      secrets: { 'ci-token': { env: 'CI_TOKEN' } },
      targets: { x: { ...flagd, root: 'scratch' } },
      principals: { ci: { token: 'ci-token', roles: ['admin'] } },
      policy: { targets: { x: { maxFirstStep: 1 } } },
      inline: { flagdRoot: 'scratch' },
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
  });

  describe('templates are checked when the catalog loads, with sample arguments', () => {
    it.each<[string, Record<string, unknown>, Record<string, unknown>, string, RegExp]>([
      [
        'a body that is no guard (no max or min)',
        {},
        { source: 'p', query: 'up' },
        'templates.t.guard.max',
        /max, min/,
      ],
      [
        'a string argument where the guard needs a number',
        { limit: { type: 'string' } },
        { source: 'p', query: 'up', max: '{{ args.limit }}' },
        'templates.t.guard.max',
        /expected number/,
      ],
      [
        'a body with a key no guard has (a credential smuggled in)',
        {},
        { source: 'p', query: 'up', max: 1, tokenEnv: 'PROM_TOKEN' },
        'templates.t.guard',
        /unknown key: tokenEnv/,
      ],
    ])('refuses %s, under templates.NAME.guard', (_story, args, guard, path, message) => {
      const issues = issuesOf({ providers: { p: synthetic }, templates: { t: { args, guard } } });
      expect(issues.map((i) => i.path)).toEqual([path]);
      expect(issues[0]!.message).toMatch(message);
    });

    it('accepts a typed placeholder: a number argument without default stands in as a number', () => {
      const result = checkCatalog({
        providers: { p: synthetic },
        templates: {
          t: {
            args: {
              floor: { type: 'number', min: 0 },
              ceiling: { type: 'number', max: 100 },
              hard: { type: 'boolean' },
            },
            guard: {
              source: 'p',
              query: 'up',
              min: '{{ args.floor }}',
              max: '{{ args.ceiling }}',
              critical: '{{ args.hard }}',
            },
          },
        },
      });
      expect(result.ok, JSON.stringify(result)).toBe(true);
    });
  });

  it('refuses a secret that is written as a value where an environment variable name belongs', () => {
    const issues = issuesOf({ secrets: { s: { env: 'sk-live-0123456789' } } });
    expect(issues).toEqual([{ path: 'secrets.s.env', message: expect.stringMatching(/environment variable name/) }]);
  });

  it('refuses a target whose variant is its baseline', () => {
    const issues = issuesOf({ targets: { x: { ...flagd, root: 'r', baselineVariant: 'on' } }, roots: { r: 'r' } });
    expect(issues).toEqual([{ path: 'targets.x.variant', message: 'variant and baselineVariant must differ' }]);
  });

  it('refuses a section it does not know', () => {
    expect(issuesOf({ targetz: {} })).toEqual([{ path: '(root)', message: 'unknown key: targetz' }]);
  });
});

describe('catalog names that are Object.prototype keys', () => {
  const memory = { type: 'memory', name: 'm', flag: 'f', variant: 'on', baselineVariant: 'off' };
  const flagd = { type: 'flagd', path: 'x.json', flag: 'x', variant: 'on', baselineVariant: 'off' };

  it('drops a "__proto__" entry without touching any prototype', () => {
    const parsed: unknown = JSON.parse(`{"targets":{"__proto__":${JSON.stringify(memory)}}}`);
    const result = checkCatalog(parsed);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.keys(result.catalog.targets)).toEqual([]);
    expect(Object.getPrototypeOf(result.catalog.targets)).toBe(Object.prototype);
    expect((result.catalog.targets as Record<string, unknown>).flag).toBeUndefined();
    expect(({} as Record<string, unknown>).flag).toBeUndefined();
  });

  it('refuses references to "constructor" when nothing by that name is declared', () => {
    const issues = issuesOf({
      targets: { x: { ...flagd, root: 'constructor' } },
      principals: { ci: { token: 'constructor', roles: ['start'] } },
      policy: { targets: { constructor: { maxFirstStep: 1 } } },
      inline: { flagdRoot: 'constructor' },
      templates: { t: { guard: { source: 'constructor', query: 'up', max: 1 } } },
    });
    expect(issues.map((i) => i.path).sort()).toEqual([
      'inline.flagdRoot',
      'policy.targets.constructor',
      'principals.ci.token',
      'targets.x.root',
      'templates.t.guard.source',
    ]);
  });

  it('treats a declared "constructor" entry like any other name', () => {
    const result = checkCatalog({
      targets: { constructor: memory },
      policy: { targets: { constructor: { maxFirstStep: 5 } } },
    });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    const started = checkSpec({ name: 'x', target: 'constructor', steps: [{ exposure: 5 }] }, result.catalog);
    expect(started.ok, JSON.stringify(started)).toBe(true);
    if (started.ok) expect(started.spec.target).toEqual(memory);
  });

  it('refuses a spec naming target "constructor" against a catalog without it, as undeclared', () => {
    for (const target of ['constructor', { name: 'constructor' }]) {
      const checked = checkSpec({ name: 'x', target, steps: [{ exposure: 5 }] }, EMPTY_CATALOG);
      expect(checked).toEqual({
        ok: false,
        issues: [
          {
            path: typeof target === 'string' ? 'target' : 'target.name',
            message: 'target "constructor" is not declared in the catalog',
          },
        ],
      });
    }
  });
});

describe('guard templates the catalog refuses when it loads, not when a caller uses them', () => {
  const withTemplate = (template: unknown) =>
    checkCatalog({ providers: { prom: { type: 'prometheus', url: 'http://p:9090' } }, templates: { t: template } });

  it('refuses a default that breaks its own argument rules, at the default', () => {
    const result = withTemplate({
      args: { service: { type: 'string', default: 'a"b' }, max: { type: 'number', max: 1, default: 5 } },
      guard: { source: 'prom', query: 'up{service="{{ args.service }}"}', max: '{{ args.max }}' },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'templates.t.args.service.default',
          message: expect.stringMatching(/must match/),
        }),
        expect.objectContaining({ path: 'templates.t.args.max.default', message: 'must be ≤ 1' }),
      ]),
    );
  });

  it('refuses a placeholder naming no argument (a typo would otherwise stay in the query as text)', () => {
    const result = withTemplate({
      args: { service: { type: 'string' } },
      guard: { source: 'prom', query: 'up{service="{{ args.servce }}"}', max: 1 },
    });
    expect(result).toEqual({
      ok: false,
      issues: [{ path: 'templates.t.guard', message: '{{ args.servce }} names no argument of the template' }],
    });
  });
});
