import { afterEach, describe, expect, it, vi } from 'vitest';
import { checkCatalog, EMPTY_CATALOG } from '../../src/domain/catalog.js';
import type { Catalog, CatalogInput } from '../../src/domain/catalog.schema.js';
import { resolveNotifiers, resolveSpec, targetKey, urlAllowed } from '../../src/domain/resolve.js';
import { RolloutSpec } from '../../src/domain/spec.schema.js';
import { describeIssues, type ValidationIssue } from '../../src/domain/validation.js';
import { checkSpec } from '../../src/spec/check.js';

function catalogOf(input: CatalogInput): Catalog {
  const checked = checkCatalog(input);
  if (!checked.ok) throw new Error(`test catalog is invalid:\n${describeIssues(checked.issues)}`);
  return checked.catalog;
}

const checkout = {
  type: 'flagd',
  root: 'flags',
  path: 'checkout.json',
  flag: 'new-checkout',
  variant: 'on',
  baselineVariant: 'off',
} as const;

/** The operator's catalog: one of each, inline flagd under `scratch`, inline URLs under two prefixes. */
const operator: CatalogInput = {
  roots: { flags: '/srv/flags', scratch: '/srv/scratch' },
  secrets: {
    'prom-token': { env: 'PROM_TOKEN' },
    'flags-key': { file: '/run/secrets/flags-key' },
    'hook-token': { env: 'HOOK_TOKEN' },
  },
  targets: {
    checkout,
    ranker: {
      type: 'http',
      url: 'https://flags.internal/api/flags',
      flag: 'ranker',
      variant: 'v2',
      baselineVariant: 'v1',
      auth: { bearer: 'flags-key' },
    },
  },
  providers: { prom: { type: 'prometheus', url: 'http://prometheus.internal:9090', auth: { bearer: 'prom-token' } } },
  templates: {
    'error-rate': {
      args: { service: { type: 'string' }, max: { type: 'number', default: 0.05 } },
      guard: { source: 'prom', query: 'errors{service="{{ args.service }}"}', max: '{{ args.max }}' },
    },
  },
  notifiers: { oncall: { webhook: { url: 'https://hooks.internal/oncall', auth: { bearer: 'hook-token' } } } },
  hooks: { 'purge-cache': { http: { url: 'https://cdn.internal/purge', auth: { bearer: 'hook-token' } } } },
  inline: { flagdRoot: 'scratch', urls: ['http://metrics.internal:9090/api/', 'https://hooks.internal/inline'] },
};
const catalog = catalogOf(operator);

const spec = (patch: Record<string, unknown> = {}) => ({
  name: 'checkout-v2',
  target: 'checkout',
  steps: [{ exposure: 5 }, { exposure: 100 }],
  ...patch,
});

const memory = { type: 'memory', name: 'sandbox', flag: 'sandbox', variant: 'on', baselineVariant: 'off' };
const inlineFlagd = { type: 'flagd', path: 'sandbox.json', flag: 'sandbox', variant: 'on', baselineVariant: 'off' };
const inlineHttp = (url: string) => ({ type: 'http', url, flag: 'sandbox', variant: 'on', baselineVariant: 'off' });
const inlineGuard = (source: unknown) => ({ name: 'errors', source, query: 'up', max: 1 });

function issuesOf(input: unknown, against: Catalog = catalog): ValidationIssue[] {
  const checked = checkSpec(input, against);
  return checked.ok ? [] : checked.issues;
}

function resolved(input: unknown, against: Catalog = catalog) {
  const checked = checkSpec(input, against);
  if (!checked.ok) throw new Error(`expected the spec to resolve:\n${describeIssues(checked.issues)}`);
  return checked;
}

const NOT_INLINE = 'is not a URL the catalog allows inline (name a catalog entry instead)';

describe('a spec naming a catalog target', () => {
  it('by name gets the catalog entry, root included, and is known by that name', () => {
    const checked = resolved(spec());
    expect(checked.spec.target).toEqual(checkout);
    expect(checked.targetName).toBe('checkout');
    expect(checked.request.target).toBe('checkout');
  });

  it('with {name, variant} rolls out another variant of the same flag, in the same place', () => {
    const checked = resolved(spec({ target: { name: 'checkout', variant: 'v3' } }));
    expect(checked.spec.target).toEqual({ ...checkout, variant: 'v3' });
    expect(checked.targetName).toBe('checkout');
  });

  it('with {name, baselineVariant} measures against another baseline', () => {
    const checked = resolved(spec({ target: { name: 'ranker', baselineVariant: 'v0' } }));
    expect(checked.spec.target).toMatchObject({ url: 'https://flags.internal/api/flags', variant: 'v2' });
    expect(checked.spec.target).toMatchObject({ baselineVariant: 'v0', auth: { bearer: 'flags-key' } });
  });

  it.each([
    ['the variant is the catalog baseline', { name: 'checkout', variant: 'off' }],
    ['the baseline is the catalog variant', { name: 'checkout', baselineVariant: 'on' }],
    ['both are given and equal', { name: 'checkout', variant: 'x', baselineVariant: 'x' }],
  ])('is refused when %s', (_story, target) => {
    expect(issuesOf(spec({ target }))).toEqual([
      { path: 'target.variant', message: 'variant and baselineVariant must differ' },
    ]);
  });

  it('that the catalog does not declare is refused at target (or target.name)', () => {
    expect(issuesOf(spec({ target: 'payments' }))).toEqual([
      { path: 'target', message: 'target "payments" is not declared in the catalog' },
    ]);
    expect(issuesOf(spec({ target: { name: 'payments', variant: 'v2' } }))).toEqual([
      { path: 'target.name', message: 'target "payments" is not declared in the catalog' },
    ]);
  });

  it('cannot add a root, a path or credentials to the catalog entry', () => {
    for (const extra of [{ root: 'scratch' }, { path: '../etc/x.json' }, { auth: { bearer: 'flags-key' } }]) {
      const issues = issuesOf(spec({ target: { name: 'checkout', ...extra } }));
      expect(issues, JSON.stringify(extra)).not.toEqual([]);
      expect(
        issues.every((i) => i.path.startsWith('target')),
        JSON.stringify(issues),
      ).toBe(true);
    }
  });
});

describe('names the catalog does not declare', () => {
  it.each([
    ['a provider', { guards: [inlineGuard('thanos')] }, 'guards[0].source', 'provider "thanos"'],
    ['a template', { guards: [{ template: 'latency', args: {} }] }, 'guards[0].template', 'template "latency"'],
    ['a notifier', { notify: ['pager'] }, 'notify[0]', 'notifier "pager"'],
    [
      'a hook',
      { rollback: { compensations: [{ hook: 'flush-queue' }] } },
      'rollback.compensations[0].hook',
      'hook "flush-queue"',
    ],
  ])('refuses %s at its path', (_story, patch, path, what) => {
    expect(issuesOf(spec(patch))).toEqual([{ path, message: `${what} is not declared in the catalog` }]);
  });

  it('reports every undeclared name at once', () => {
    const issues = issuesOf(
      spec({
        target: 'payments',
        guards: [{ template: 'error-rate', args: { service: 'checkout' } }, inlineGuard('thanos')],
        notify: ['oncall', 'pager'],
        rollback: { compensations: [{ hook: 'purge-cache' }, { hook: 'flush-queue' }] },
      }),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'target',
      'guards[1].source',
      'notify[1]',
      'rollback.compensations[1].hook',
    ]);
  });

  it('resolves declared ones: the provider, the notifier, the hook under its own name', () => {
    const checked = resolved(
      spec({
        guards: [inlineGuard('prom')],
        notify: ['oncall'],
        rollback: { compensations: [{ hook: 'purge-cache' }] },
      }),
    );
    expect(checked.spec.guards[0]).toMatchObject({ name: 'errors', source: { type: 'prometheus', timeoutMs: 5_000 } });
    expect(checked.spec.notify).toEqual([
      { webhook: { url: 'https://hooks.internal/oncall', auth: { bearer: 'hook-token' } } },
    ]);
    expect(checked.spec.rollback.compensations).toEqual([
      {
        name: 'purge-cache',
        http: { url: 'https://cdn.internal/purge', method: 'POST', timeoutMs: 10_000, auth: { bearer: 'hook-token' } },
      },
    ]);
  });

  it('refuses "constructor" for every kind of name, as undeclared, against the empty catalog', () => {
    const issues = issuesOf(
      spec({
        target: 'constructor',
        guards: [inlineGuard('constructor'), { template: 'constructor' }],
        notify: ['constructor'],
        rollback: { compensations: [{ hook: 'constructor' }] },
      }),
      EMPTY_CATALOG,
    );
    expect(issues).toEqual([
      { path: 'target', message: 'target "constructor" is not declared in the catalog' },
      { path: 'guards[0].source', message: 'provider "constructor" is not declared in the catalog' },
      { path: 'guards[1].template', message: 'template "constructor" is not declared in the catalog' },
      { path: 'notify[0]', message: 'notifier "constructor" is not declared in the catalog' },
      { path: 'rollback.compensations[0].hook', message: 'hook "constructor" is not declared in the catalog' },
    ]);
  });

  it('refuses "__proto__" as a name before it is looked up', () => {
    const issues = issuesOf(spec({ target: '__proto__' }), EMPTY_CATALOG);
    expect(issues).toEqual([{ path: 'target', message: expect.stringMatching(/must be a catalog name/) }]);
  });
});

describe('inline targets', () => {
  it('flagd is refused when the catalog gives inline targets no root', () => {
    const strict = catalogOf({ ...operator, inline: { urls: [] } });
    expect(issuesOf(spec({ target: inlineFlagd }), strict)).toEqual([
      { path: 'target', message: 'inline flagd targets are not allowed: name a catalog target' },
    ]);
  });

  it('flagd lands under the catalog root for inline targets, and has no catalog name', () => {
    const checked = resolved(spec({ target: inlineFlagd }));
    expect(checked.spec.target).toEqual({ ...inlineFlagd, root: 'scratch' });
    expect(checked.targetName).toBeUndefined();
  });

  it('flagd cannot choose its own root', () => {
    expect(issuesOf(spec({ target: { ...inlineFlagd, root: 'flags' } }))).toEqual([
      { path: 'target', message: 'unknown key: root' },
    ]);
  });

  it('http is allowed under an inline URL prefix and refused elsewhere', () => {
    const ok = resolved(spec({ target: inlineHttp('http://metrics.internal:9090/api/flags') }));
    expect(ok.spec.target).toMatchObject({ type: 'http', url: 'http://metrics.internal:9090/api/flags' });
    expect(issuesOf(spec({ target: inlineHttp('https://flags.internal/api/flags') }))).toEqual([
      { path: 'target.url', message: NOT_INLINE },
    ]);
  });

  it('memory is allowed by default and refused when the catalog turns it off', () => {
    expect(resolved(spec({ target: memory }), EMPTY_CATALOG).spec.target).toEqual(memory);
    const noMemory = catalogOf({ inline: { memory: false } });
    expect(issuesOf(spec({ target: memory }), noMemory)).toEqual([
      { path: 'target.type', message: 'inline memory targets are not allowed' },
    ]);
  });
});

describe('inline URLs must match an allowed prefix', () => {
  const prefixes = ['http://127.0.0.1:9090/api/', 'http://allowed-host/', 'https://hooks.internal/inline'];

  it.each([
    'http://127.0.0.1:9090/api/',
    'http://127.0.0.1:9090/api/v1/query',
    'http://allowed-host/anything?x=1',
    'http://allowed-host:80/default-port-is-the-same-port',
    'https://hooks.internal/inline',
    'https://hooks.internal/inline/deploys',
  ])('allows %s', (url) => expect(urlAllowed(url, prefixes)).toBe(true));

  it.each([
    ['another scheme', 'https://127.0.0.1:9090/api/'],
    ['another port', 'http://127.0.0.1:9091/api/'],
    ['no port (80)', 'http://127.0.0.1/api/'],
    ['another host for the same address', 'http://localhost:9090/api/'],
    ['a path beside the prefix', 'http://127.0.0.1:9090/admin'],
    ['a longer last segment', 'https://hooks.internal/inline-evil'],
    ['dot segments out of the prefix', 'http://127.0.0.1:9090/api/../admin'],
    ['encoded dot segments out of the prefix', 'http://127.0.0.1:9090/api/%2e%2e/admin'],
    ['the allowed host:port as userinfo', 'http://127.0.0.1:9090@evil.example/api/'],
    ['credentials on an allowed host', 'http://user:pw@allowed-host/'],
    ['a username alone', 'http://user@allowed-host/'],
    ['an allowed host as a subdomain', 'http://allowed-host.evil.example/'],
    ['no URL at all', 'allowed-host/'],
  ])('refuses %s (%s)', (_story, url) => expect(urlAllowed(url, prefixes)).toBe(false));

  it('refuses every URL when the catalog lists none', () => {
    expect(urlAllowed('http://127.0.0.1:9090/api/', [])).toBe(false);
  });

  it('allows any port of a loopback host only when the catalog says loopback', () => {
    for (const url of ['http://127.0.0.1:4567/x', 'http://localhost:1/', 'http://[::1]:8080/metrics']) {
      expect(urlAllowed(url, []), url).toBe(false);
      expect(urlAllowed(url, [], true), url).toBe(true);
    }
    expect(urlAllowed('http://evil.example/', [], true)).toBe(false);
    expect(urlAllowed('http://user:pw@127.0.0.1:4567/', [], true)).toBe(false);
  });

  it.each([
    [
      'an inline prometheus source',
      { guards: [inlineGuard({ type: 'prometheus', url: '$' })] },
      'guards[0].source.url',
    ],
    ['an inline webhook', { notify: [{ webhook: { url: '$' } }] }, 'notify[0].webhook.url'],
    [
      'an inline compensation',
      { rollback: { compensations: [{ http: { url: '$' } }] } },
      'rollback.compensations[0].http.url',
    ],
    ['an inline http target', { target: inlineHttp('$') }, 'target.url'],
  ])('applies to %s', (_story, patch, path) => {
    const withUrl = (url: string) => JSON.parse(JSON.stringify(patch).replace('$', url)) as Record<string, unknown>;
    expect(issuesOf(spec(withUrl('http://metrics.internal:9090/api/v1')))).toEqual([]);
    for (const url of ['http://metrics.internal:9091/api/v1', 'http://evil.example/api/'])
      expect(issuesOf(spec(withUrl(url))), url).toEqual([{ path, message: NOT_INLINE }]);
    // credentials in a URL are refused by the schema itself, wherever the URL is written
    for (const url of [
      'http://metrics.internal:9090@evil.example/api/v1',
      'http://user:pw@metrics.internal:9090/api/v1',
    ])
      expect(issuesOf(spec(withUrl(url))), url).toEqual([
        {
          path,
          message: 'must not carry credentials (user:password@): declare them as auth with a secret in the catalog',
        },
      ]);
  });
});

describe('inline synthetic sources', () => {
  const scripted = { type: 'synthetic', series: { up: [0] } };

  it('are allowed by default and refused when the catalog turns them off', () => {
    const checked = resolved(spec({ target: memory, guards: [inlineGuard(scripted)] }), EMPTY_CATALOG);
    expect(checked.spec.guards[0]).toMatchObject({ source: scripted });
    const noSynthetic = catalogOf({ inline: { synthetic: false } });
    expect(issuesOf(spec({ target: memory, guards: [inlineGuard(scripted)] }), noSynthetic)).toEqual([
      { path: 'guards[0].source.type', message: 'inline synthetic sources are not allowed' },
    ]);
  });
});

describe('a spec never carries a credential', () => {
  it.each([
    ['an inline http target', { target: { ...inlineHttp('http://metrics.internal:9090/api/'), tokenEnv: 'X' } }],
    [
      'an inline source',
      { guards: [inlineGuard({ type: 'prometheus', url: 'http://metrics.internal:9090/api/', tokenEnv: 'X' })] },
    ],
    ['an inline webhook', { notify: [{ webhook: { url: 'https://hooks.internal/inline', tokenEnv: 'X' } }] }],
    [
      'an inline compensation',
      { rollback: { compensations: [{ http: { url: 'https://hooks.internal/inline', tokenEnv: 'X' } }] } },
    ],
    ['a named target', { target: { name: 'checkout', tokenEnv: 'X' } }],
    ['a template guard', { guards: [{ template: 'error-rate', args: { service: 'x' }, tokenEnv: 'X' }] }],
  ])('refuses tokenEnv on %s as an unknown key', (_story, patch) => {
    const issues = issuesOf(spec(patch));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toBe('unknown key: tokenEnv');
  });

  it.each([
    [
      'auth on an inline source',
      {
        guards: [
          inlineGuard({ type: 'prometheus', url: 'http://metrics.internal:9090/api/', auth: { bearer: 'prom-token' } }),
        ],
      },
    ],
    [
      'headers on an inline source',
      {
        guards: [
          inlineGuard({
            type: 'http-json',
            url: 'http://metrics.internal:9090/api/',
            headers: { 'X-Key': { secret: 'prom-token' } },
          }),
        ],
      },
    ],
    [
      'auth on an inline webhook',
      { notify: [{ webhook: { url: 'https://hooks.internal/inline', auth: { bearer: 'hook-token' } } }] },
    ],
    [
      'auth on an inline compensation',
      {
        rollback: {
          compensations: [{ http: { url: 'https://hooks.internal/inline', auth: { bearer: 'hook-token' } } }],
        },
      },
    ],
  ])('refuses %s: a catalog secret cannot be sent to a URL the spec chooses', (_story, patch) => {
    const issues = issuesOf(spec(patch));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.message).toMatch(/^unknown key: (auth|headers)$/);
  });

  describe('and the resolved spec keeps secrets as names', () => {
    afterEach(() => {
      vi.unstubAllEnvs();
    });

    it('so its JSON holds neither a secret value nor where the secret lives', () => {
      vi.stubEnv('PROM_TOKEN', 'sk-live-prom-0123456789');
      vi.stubEnv('HOOK_TOKEN', 'sk-live-hook-0123456789');
      const checked = resolved(
        spec({
          target: 'ranker',
          guards: [{ template: 'error-rate', args: { service: 'ranker' } }],
          notify: ['oncall'],
          rollback: { compensations: [{ hook: 'purge-cache' }] },
        }),
      );
      expect(checked.spec.target).toMatchObject({ auth: { bearer: 'flags-key' } });
      expect(checked.spec.guards[0]).toMatchObject({ source: { auth: { bearer: 'prom-token' } } });
      const json = JSON.stringify(checked);
      for (const leak of ['sk-live', 'PROM_TOKEN', 'HOOK_TOKEN', '/run/secrets'])
        expect(json, leak).not.toContain(leak);
    });
  });
});

describe('resolveSpec on a spec already validated', () => {
  it('reports every refusal by path, as checkSpec does', () => {
    const request = RolloutSpec.parse(spec({ target: 'payments', notify: ['pager'] }));
    expect(resolveSpec(request, catalog)).toEqual({
      ok: false,
      issues: [
        { path: 'target', message: 'target "payments" is not declared in the catalog' },
        { path: 'notify[0]', message: 'notifier "pager" is not declared in the catalog' },
      ],
    });
  });
});

describe('targetKey: what a rollout is known by before it runs', () => {
  it('is the catalog name, or an inline target flag', () => {
    expect(targetKey('checkout')).toBe('checkout');
    expect(targetKey({ name: 'checkout', variant: 'v3' })).toBe('checkout');
    expect(targetKey({ type: 'memory', name: 'm', flag: 'sandbox', variant: 'on', baselineVariant: 'off' })).toBe(
      'sandbox',
    );
  });
});

describe("resolveNotifiers: a drill's notifiers", () => {
  it('resolves names and allowed webhooks, and refuses the rest under the given path', () => {
    expect(resolveNotifiers(['oncall', { log: {} }], catalog, 'notify')).toEqual({
      ok: true,
      notifiers: [{ webhook: { url: 'https://hooks.internal/oncall', auth: { bearer: 'hook-token' } } }, { log: {} }],
    });
    expect(resolveNotifiers(['pager', { webhook: { url: 'https://evil.example/' } }], catalog, 'notify')).toEqual({
      ok: false,
      issues: [
        { path: 'notify[0]', message: 'notifier "pager" is not declared in the catalog' },
        { path: 'notify[1].webhook.url', message: NOT_INLINE },
      ],
    });
  });
});
