import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/domain/catalog.js';
import { GuardTemplate, type Catalog, type CatalogInput } from '../../src/domain/catalog.schema.js';
import { expandTemplate, sampleArgs, templateArgs } from '../../src/domain/template.js';
import { describeIssues, type ValidationIssue } from '../../src/domain/validation.js';
import { checkSpec } from '../../src/spec/check.js';

/** The error-rate template an operator writes once; callers pass a service and, if they like, a threshold. */
const errorRate = {
  description: 'Share of 5xx responses of a service',
  args: {
    service: { type: 'string' },
    max: { type: 'number', min: 0, max: 1, default: 0.05 },
    window: { type: 'string', enum: ['1m', '5m', '15m'], default: '5m' },
  },
  guard: {
    source: 'prom',
    query: 'sum(rate(http_requests_total{service="{{ args.service }}",code=~"5.."}[{{args.window}}]))',
    max: '{{ args.max }}',
  },
} satisfies NonNullable<CatalogInput['templates']>[string];

function catalogOf(input: CatalogInput): Catalog {
  const checked = checkCatalog(input);
  if (!checked.ok) throw new Error(`test catalog is invalid:\n${describeIssues(checked.issues)}`);
  return checked.catalog;
}

const catalog = catalogOf({
  secrets: { 'prom-token': { env: 'PROM_TOKEN' } },
  providers: { prom: { type: 'prometheus', url: 'http://prometheus.internal:9090', auth: { bearer: 'prom-token' } } },
  templates: {
    'error-rate': errorRate,
    'latency-p99': {
      args: { service: { type: 'string' }, ceilingMs: { type: 'number', min: 1 } },
      guard: { source: 'prom', query: 'p99{service="{{ args.service }}"}', max: '{{ args.ceilingMs }}' },
    },
    band: {
      args: { floor: { type: 'number' }, ceiling: { type: 'number' }, critical: { type: 'boolean', default: true } },
      guard: {
        source: 'prom',
        query: 'up',
        min: '{{ args.floor }}',
        max: '{{ args.ceiling }}',
        critical: '{{ args.critical }}',
      },
    },
  },
});

const spec = (guards: unknown[]) => ({
  name: 'checkout-v2',
  target: { type: 'memory', name: 'sandbox', flag: 'sandbox', variant: 'on', baselineVariant: 'off' },
  steps: [{ exposure: 5 }],
  guards,
});

function guardsOf(guards: unknown[], against: Catalog = catalog) {
  const checked = checkSpec(spec(guards), against);
  if (!checked.ok) throw new Error(`expected the spec to resolve:\n${describeIssues(checked.issues)}`);
  return checked.spec.guards;
}

function issuesOf(guards: unknown[], against: Catalog = catalog): ValidationIssue[] {
  const checked = checkSpec(spec(guards), against);
  return checked.ok ? [] : checked.issues;
}

describe('a spec using a guard template', () => {
  it('gets the guard with its arguments in place: a typed placeholder becomes a number, text is interpolated', () => {
    const [guard] = guardsOf([{ template: 'error-rate', args: { service: 'checkout', max: 0.02 } }]);
    expect(guard).toMatchObject({
      name: 'error-rate',
      query: 'sum(rate(http_requests_total{service="checkout",code=~"5.."}[5m]))',
      max: 0.02,
    });
    expect(typeof (guard as { max?: unknown }).max).toBe('number');
  });

  it('fills in the arguments it leaves out from their defaults', () => {
    const [guard] = guardsOf([{ template: 'error-rate', args: { service: 'checkout' } }]);
    expect(guard).toMatchObject({ max: 0.05, query: expect.stringContaining('[5m]') as unknown });
  });

  it('gets the guard defaults too, and the provider resolved with its secret still a name', () => {
    const [guard] = guardsOf([{ template: 'error-rate', args: { service: 'checkout' } }]);
    expect(guard).toMatchObject({ interval: '30s', failureLimit: 0, onNoData: 'inconclusive' });
    expect(guard && 'source' in guard ? guard.source : undefined).toEqual({
      type: 'prometheus',
      url: 'http://prometheus.internal:9090',
      timeoutMs: 5_000,
      auth: { bearer: 'prom-token' },
    });
  });

  it('takes booleans and numbers where the whole field is a placeholder', () => {
    const [guard] = guardsOf([{ template: 'band', args: { floor: 1, ceiling: 9, critical: false } }]);
    expect(guard).toMatchObject({ min: 1, max: 9, critical: false });
    const [defaulted] = guardsOf([{ template: 'band', args: { floor: 1, ceiling: 9 } }]);
    expect(defaulted).toMatchObject({ critical: true });
  });

  it('names the guard after the template unless the spec names it', () => {
    const guards = guardsOf([
      { template: 'error-rate', args: { service: 'checkout' } },
      { template: 'error-rate', name: 'payments-errors', args: { service: 'payments' } },
    ]);
    expect(guards.map((g) => g.name)).toEqual(['error-rate', 'payments-errors']);
  });

  it('refuses two guards with one name, whether from one template twice or two templates named alike', () => {
    expect(
      issuesOf([
        { template: 'error-rate', args: { service: 'checkout' } },
        { template: 'error-rate', args: { service: 'payments' } },
      ]),
    ).toEqual([{ path: 'guards[1].name', message: 'duplicate guard name "error-rate"' }]);
    expect(
      issuesOf([
        { template: 'error-rate', name: 'checkout', args: { service: 'checkout' } },
        { template: 'latency-p99', name: 'checkout', args: { service: 'checkout', ceilingMs: 300 } },
      ]),
    ).toEqual([{ path: 'guards[1].name', message: 'duplicate guard name "checkout"' }]);
    expect(
      issuesOf([
        { template: 'error-rate', args: { service: 'checkout' } },
        { name: 'error-rate', source: { type: 'synthetic' }, query: 'up', max: 1 },
      ]),
    ).toEqual([{ path: 'guards[1].name', message: 'duplicate guard name "error-rate"' }]);
  });

  it.each([
    ['a required argument left out', { max: 0.1 }, 'guards[0].args.service', 'is required by the template'],
    [
      'an argument the template does not have',
      { service: 'checkout', threshold: 0.1 },
      'guards[0].args.threshold',
      'is not an argument of the template',
    ],
    [
      'a value that would break out of the query (the default pattern)',
      { service: 'x"}) or vector(1' },
      'guards[0].args.service',
      'must match ^[A-Za-z0-9_.:/-]{1,128}$',
    ],
    [
      'a value with a space',
      { service: 'check out' },
      'guards[0].args.service',
      'must match ^[A-Za-z0-9_.:/-]{1,128}$',
    ],
    ['an empty value', { service: '' }, 'guards[0].args.service', 'must match ^[A-Za-z0-9_.:/-]{1,128}$'],
    [
      'a value outside the enum',
      { service: 'checkout', window: '1h' },
      'guards[0].args.window',
      'must be one of 1m, 5m, 15m',
    ],
    ['a number above its max', { service: 'checkout', max: 2 }, 'guards[0].args.max', 'must be ≤ 1'],
    ['a number below its min', { service: 'checkout', max: -0.5 }, 'guards[0].args.max', 'must be ≥ 0'],
    ['text where a number belongs', { service: 'checkout', max: '0.1' }, 'guards[0].args.max', 'must be a number'],
    ['a number where text belongs', { service: 42 }, 'guards[0].args.service', 'must be a string'],
  ])('refuses %s, at the argument', (_story, args, path, message) => {
    expect(issuesOf([{ template: 'error-rate', args }])).toEqual([{ path, message }]);
  });

  it('refuses a boolean argument given as text', () => {
    expect(issuesOf([{ template: 'band', args: { floor: 1, ceiling: 2, critical: 'yes' } }])).toEqual([
      { path: 'guards[0].args.critical', message: 'must be true or false' },
    ]);
  });

  it('reports every bad argument of every guard at once', () => {
    const issues = issuesOf([
      { template: 'error-rate', args: { max: 5, extra: 1 } },
      { template: 'latency-p99', args: { service: 'a b', ceilingMs: 0 } },
    ]);
    expect(issues.map((i) => i.path).sort()).toEqual([
      'guards[0].args.extra',
      'guards[0].args.max',
      'guards[0].args.service',
      'guards[1].args.ceilingMs',
      'guards[1].args.service',
    ]);
  });

  it('refuses arguments that each fit but together make no guard, naming the template', () => {
    expect(issuesOf([{ template: 'band', args: { floor: 9, ceiling: 1 } }])).toEqual([
      { path: 'guards[0]', message: 'template "band" gives an invalid guard: max: must be ≥ min' },
    ]);
  });

  it('refuses an Object.prototype key as an argument the template does not have', () => {
    expect(issuesOf([{ template: 'error-rate', args: { service: 'checkout', constructor: 'x' } }])).toEqual([
      { path: 'guards[0].args.constructor', message: 'is not an argument of the template' },
    ]);
  });
});

describe('argument patterns an operator writes', () => {
  const withPattern = (pattern: string) =>
    catalogOf({
      templates: {
        t: {
          args: { service: { type: 'string', pattern } },
          guard: { source: { type: 'synthetic' }, query: 'errors:{{ args.service }}', max: 1 },
        },
      },
    });

  it('must match the whole value, even without anchors', () => {
    const lowercase = withPattern('[a-z]+');
    expect(issuesOf([{ template: 't', args: { service: 'checkout' } }], lowercase)).toEqual([]);
    for (const service of ['checkout"}', 'x checkout', 'Checkout'])
      expect(issuesOf([{ template: 't', args: { service } }], lowercase), service).toEqual([
        { path: 'guards[0].args.service', message: 'must match [a-z]+' },
      ]);
  });

  it('accept any alternative that matches the whole value', () => {
    const services = withPattern('checkout|checkout-api');
    expect(issuesOf([{ template: 't', args: { service: 'checkout' } }], services)).toEqual([]);
    expect(issuesOf([{ template: 't', args: { service: 'checkout-api' } }], services)).toEqual([]);
    expect(issuesOf([{ template: 't', args: { service: 'checkout-apix' } }], services)).toHaveLength(1);
  });

  it('that are not regular expressions are refused when the catalog loads', () => {
    const checked = checkCatalog({
      templates: {
        t: {
          args: { service: { type: 'string', pattern: '[a-z' } },
          guard: { source: { type: 'synthetic' }, query: 'errors:{{ args.service }}', max: 1 },
        },
      },
    });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issues.map((i) => i.path)).toEqual(['templates.t.args.service.pattern']);
  });

  it('that are not regular expressions never make a spec check throw', () => {
    // a catalog built without checkCatalog (or with a pattern the schema let through)
    const broken: Catalog = {
      ...catalogOf({}),
      templates: {
        t: {
          args: { service: { type: 'string', pattern: '[a-z' } },
          guard: { source: { type: 'synthetic' }, query: 'errors:{{ args.service }}', max: 1 },
        },
      },
    };
    let issues: ValidationIssue[] | undefined;
    expect(() => {
      issues = issuesOf([{ template: 't', args: { service: 'checkout' } }], broken);
    }).not.toThrow();
    expect(issues?.map((i) => i.path)).toEqual(['guards[0].args.service']);
  });
});

describe('templateArgs', () => {
  const template = GuardTemplate.parse(errorRate);

  it('returns the given arguments and the defaults, under no prototype', () => {
    const result = templateArgs(template, { service: 'checkout' }, 'guards[3]');
    expect(result).toEqual({ ok: true, args: { service: 'checkout', max: 0.05, window: '5m' } });
    if (result.ok) expect(Object.getPrototypeOf(result.args)).toBeNull();
  });

  it('reports problems under the path it is given', () => {
    expect(templateArgs(template, { window: '1h' }, 'guards[3]')).toEqual({
      ok: false,
      issues: [
        { path: 'guards[3].args.service', message: 'is required by the template' },
        { path: 'guards[3].args.window', message: 'must be one of 1m, 5m, 15m' },
      ],
    });
  });

  it('does not take an argument from Object.prototype', () => {
    const toStringArg = GuardTemplate.parse({
      args: { toString: { type: 'string' } },
      guard: { source: 'p', query: '{{ args.toString }}', max: 1 },
    });
    expect(templateArgs(toStringArg, {}, 'guards[0]')).toEqual({
      ok: false,
      issues: [{ path: 'guards[0].args.toString', message: 'is required by the template' }],
    });
  });
});

describe('expandTemplate', () => {
  const expand = (guard: Record<string, unknown>, args: Record<string, string | number | boolean>) =>
    expandTemplate(GuardTemplate.parse({ guard }), args);

  it('gives a field that is only a placeholder the argument itself, spaces inside the braces or not', () => {
    expect(
      expand(
        { max: '{{ args.max }}', min: '{{args.min}}', critical: '{{  args.hard  }}' },
        { max: 2, min: 1, hard: true },
      ),
    ).toEqual({
      max: 2,
      min: 1,
      critical: true,
    });
  });

  it('writes arguments inside longer strings as text, through nested objects and arrays', () => {
    expect(
      expand(
        {
          compare: { canary: { query: 'e{v="{{ args.v }}"}' }, baseline: { query: 'e{v="{{ args.base }}"}' } },
          tags: ['{{ args.v }}-{{ args.base }}', 7],
          max: '{{ args.max }} ',
        },
        { v: 'on', base: 'off', max: 3 },
      ),
    ).toEqual({
      compare: { canary: { query: 'e{v="on"}' }, baseline: { query: 'e{v="off"}' } },
      tags: ['on-off', 7],
      max: '3 ',
    });
  });

  it('leaves a placeholder for an argument it was not given as written', () => {
    expect(expand({ query: 'x{{ args.missing }}', max: '{{ args.constructor }}' }, {})).toEqual({
      query: 'x{{ args.missing }}',
      max: '{{ args.constructor }}',
    });
  });

  it('writes a value as it is: no replacement patterns, no second expansion', () => {
    expect(expand({ query: 'a{{ args.x }}b', other: '{{ args.y }}' }, { x: "$&$'{{ args.y }}", y: 'Y' })).toEqual({
      query: "a$&$'{{ args.y }}b",
      other: 'Y',
    });
  });

  it('does not change the template it expands', () => {
    const template = GuardTemplate.parse({ guard: { query: '{{ args.x }}', max: '{{ args.m }}' } });
    expandTemplate(template, { x: 'a', m: 1 });
    expect(template.guard).toEqual({ query: '{{ args.x }}', max: '{{ args.m }}' });
  });
});

describe('sampleArgs: the values a template is checked with when the catalog loads', () => {
  it('takes the default, else the first enum value, a bound, "x", 1 or false', () => {
    const template = GuardTemplate.parse({
      args: {
        withDefault: { type: 'string', default: 'checkout' },
        picked: { type: 'string', enum: ['eu', 'us'] },
        free: { type: 'string' },
        floor: { type: 'number', min: 3 },
        ceiling: { type: 'number', max: 7 },
        any: { type: 'number' },
        zero: { type: 'number', default: 0 },
        flag: { type: 'boolean' },
        on: { type: 'boolean', default: true },
      },
      guard: {},
    });
    expect(sampleArgs(template)).toEqual({
      withDefault: 'checkout',
      picked: 'eu',
      free: 'x',
      floor: 3,
      ceiling: 7,
      any: 1,
      zero: 0,
      flag: false,
      on: true,
    });
  });
});
