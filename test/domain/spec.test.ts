import { describe, expect, it } from 'vitest';
import { formatMs, toMs } from '../../src/domain/time.js';
import { parseSpecText, specJsonSchema, validateSpec } from '../../src/spec/load.js';

const target = { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' };

describe('rollout spec', () => {
  it('accepts the documented example and fills defaults', () => {
    const result = parseSpecText(`
name: ranker-v2
target: { type: flagd, path: ./flags/flags.json, flag: new-ranker, variant: "on", baselineVariant: "off" }
steps:
  - exposure: 1
    observe: 5m
  - approval: { timeout: 1h, onTimeout: rollback }
  - pause: {}
  - pause: 10m
  - exposure: 25
    observe: 30m
    cohort: { attribute: region, values: [eu-west] }
  - exposure: 100
guards: []
rollback:
  compensations: [ { http: { url: "http://127.0.0.1:1/hook", method: POST, body: { a: 1 } } } ]
notify: [ { webhook: { url: "http://127.0.0.1:1/notify" } } ]
`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.rollback.exposure).toBe(0);
    expect(result.spec.steps).toHaveLength(6);
    expect(result.spec.analysis).toEqual({ maxExtensions: 0, onInconclusive: 'pause' });
  });

  it.each([
    [{ name: 'Bad_Name' }, 'name', /a-z, 0-9/],
    [{ steps: [{ exposure: 101 }] }, 'steps[0].exposure', /≤ 100/],
    [{ steps: [{ exposure: -1 }] }, 'steps[0].exposure', /≥ 0/],
    [{ steps: [{ exposure: 5, observe: '5 minutes' }] }, 'steps[0].observe', /duration like 30s/],
    [
      { steps: [{ exposure: 5 }, { approval: { onTimeout: 'explode' } }] },
      'steps[1].approval.onTimeout',
      /rollback|pause/,
    ],
    [{ steps: [{ exposure: 5 }, { wait: 1 }] }, 'steps[1]', /one of the keys exposure, approval, pause, shadow/],
    [{ steps: [{ shadow: 0 }, { exposure: 5 }] }, 'steps[0].shadow', /must be > 0/],
    [{ steps: [{ shadow: 101 }, { exposure: 5 }] }, 'steps[0].shadow', /≤ 100/],
    [{ steps: [{ shadow: 10, exposure: 5 }] }, 'steps[0]', /one of the keys/],
    [{ steps: [{ exposure: 5 }, { shadow: 10 }] }, 'steps[1]', /must be followed by an exposure step/],
    [
      { steps: [{ exposure: 5, cohort: { attribute: 'region', values: [] } }] },
      'steps[0].cohort.values',
      /at least one value/,
    ],
    [{ steps: [] }, 'steps', /at least one step/],
    [{ steps: [{ pause: {} }] }, 'steps', /at least one exposure step/],
    [{ target: { ...target, baselineVariant: 'on' } }, 'target.variant', /must differ/],
    [{ target: { ...target, type: 'http', url: 'ftp://x' } }, 'target.url', /http\(s\) URL/],
    [{ rollback: { exposure: 10 }, steps: [{ exposure: 5 }] }, 'steps[0].exposure', /≥ rollback.exposure/],
    [{ extra: true }, '(root)', /unknown key: extra/],
  ])('rejects %j at %s', (patch, path, message) => {
    const result = validateSpec({ name: 'ok', target, steps: [{ exposure: 5 }], ...patch });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('accepts every catalog-reference form, keeping the names for resolution', () => {
    const result = parseSpecText(`
name: checkout-v2
target: checkout                 # a catalog target by name
steps: [ { exposure: 5, observe: 1m }, { exposure: 100 } ]
guards:
  - { template: error-rate, args: { service: checkout, max: 0.02, strict: true } }
  - { template: error-rate, name: error-rate-eu }
  - { name: latency, source: prometheus-main, query: 'up', max: 0.5 }   # a provider by name
rollback:
  compensations: [ { hook: scale-down }, { name: note, http: { url: "http://127.0.0.1:1/hook", body: { a: 1 } } } ]
notify: [ team-channel, { log: {} }, { webhook: { url: "http://127.0.0.1:1/notify" } } ]
`);
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.spec.target).toBe('checkout');
    expect(result.spec.guards).toEqual([
      { template: 'error-rate', args: { service: 'checkout', max: 0.02, strict: true } },
      { template: 'error-rate', name: 'error-rate-eu', args: {} },
      expect.objectContaining({ name: 'latency', source: 'prometheus-main' }),
    ]);
    expect(result.spec.rollback.compensations[0]).toEqual({ hook: 'scale-down' });
    expect(result.spec.notify).toEqual([
      'team-channel',
      { log: {} },
      { webhook: { url: 'http://127.0.0.1:1/notify' } },
    ]);

    const named = validateSpec({
      name: 'ok',
      target: { name: 'checkout', variant: 'v2', baselineVariant: 'v1' },
      steps: [{ exposure: 5 }],
    });
    expect(named.ok && named.spec.target).toEqual({ name: 'checkout', variant: 'v2', baselineVariant: 'v1' });
  });

  it.each([
    [{ guards: [{ template: 'Error Rate' }] }, 'guards[0].template', /catalog name/],
    [{ guards: [{ template: 'error-rate' }, { template: 'error-rate' }] }, 'guards[1].name', /duplicate guard name/],
    [{ guards: [{ template: 'error-rate', source: 'prom' }] }, 'guards[0]', /unknown key: source/],
    [{ target: 'Checkout' }, 'target', /catalog name/],
    [{ target: { name: 'checkout', flag: 'other' } }, 'target', /unknown key: flag/],
    [{ notify: ['Team Channel'] }, 'notify[0]', /catalog name/],
    [{ rollback: { compensations: [{ hook: 'scale-down', name: 'x' }] } }, 'rollback.compensations[0]', /unknown key/],
  ])('rejects the malformed reference %j at %s', (patch, path, message) => {
    const result = validateSpec({ name: 'ok', target, steps: [{ exposure: 5 }], ...patch });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.find((i) => i.path === path)?.message, JSON.stringify(result.issues)).toMatch(message);
  });

  describe('a spec never carries a credential: tokenEnv, headers and auth are unknown keys wherever they are put', () => {
    const http = { type: 'http', url: 'http://127.0.0.1:1/flags', flag: 'f', variant: 'on', baselineVariant: 'off' };
    const SECRET = 'sk-live-123';
    const credentials: [string, unknown][] = [
      // even a well-formed environment variable name: a spec may not choose what the worker reads from its env
      ['tokenEnv', 'DEPLOY_TOKEN'],
      ['tokenEnv', SECRET],
      ['headers', { authorization: `Bearer ${SECRET}` }],
      ['auth', { bearer: 'deploy-token' }],
      ['auth', { basic: { username: 'ci', password: 'deploy-password' } }],
    ];
    const places: [string, (key: string, value: unknown) => Record<string, unknown>][] = [
      ['target', (k, v) => ({ target: { ...http, [k]: v } })],
      ['target', (k, v) => ({ target: { name: 'checkout', [k]: v } })],
      [
        'guards[0].source',
        (k, v) => ({
          guards: [{ name: 'g', source: { type: 'prometheus', url: 'http://p', [k]: v }, query: 'q', max: 1 }],
        }),
      ],
      [
        'rollback.compensations[0].http',
        (k, v) => ({ rollback: { compensations: [{ http: { url: 'http://h', [k]: v } }] } }),
      ],
      ['notify[0].webhook', (k, v) => ({ notify: [{ webhook: { url: 'http://h', [k]: v } }] })],
      ['(root)', (k, v) => ({ [k]: v })],
    ];
    const cases = places.flatMap(([path, put]) =>
      credentials.map(([key, value]) => ({ path, key, value, patch: put(key, value) })),
    );

    it.each(cases)('refuses $key at $path', ({ path, key, patch }) => {
      const result = validateSpec({ name: 'ok', target, steps: [{ exposure: 5 }], ...patch });
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues, JSON.stringify(result.issues)).toEqual([{ path, message: `unknown key: ${key}` }]);
      // the refusal names the key, never the value put there
      expect(JSON.stringify(result.issues)).not.toContain(SECRET);
    });
  });

  it('reports YAML syntax errors without throwing', () => {
    const result = parseSpecText('name: [unclosed');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toMatch(/^syntax:/);
  });

  it('exports a JSON Schema that names the public fields', () => {
    const schema = JSON.stringify(specJsonSchema());
    for (const field of [
      'baselineVariant',
      'observe',
      'approval',
      'onTimeout',
      'compensations',
      'cohort',
      'template',
      'hook',
    ])
      expect(schema).toContain(field);
    // what callers write: no credential field for an editor to offer
    for (const field of ['"tokenEnv"', '"headers"', '"auth"', '"bearer"']) expect(schema).not.toContain(field);
  });

  it('parses and formats durations', () => {
    expect(toMs('30s')).toBe(30_000);
    expect(toMs('1h30m')).toBe(5_400_000);
    expect(toMs('2d')).toBe(172_800_000);
    expect(toMs('250ms')).toBe(250);
    expect(formatMs(5_400_000)).toBe('1h 30m');
    expect(formatMs(999)).toBe('999ms');
  });
});
