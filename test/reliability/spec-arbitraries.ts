/**
 * fast-check arbitraries for rollout specs: one rich valid spec, and malformed specs made by ONE mutation of it,
 * each invalid by construction (a wrong type, a value outside its range, a missing or unknown key, …). Every
 * malformed spec says where its problem must be reported (`at`), so the fuzzer also checks that messages are
 * path-specific, and which text a message must name (`mentions`) or must never echo (`secret`).
 */
import fc from 'fast-check';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { MetricSourceSpec } from '../../src/domain/guard-spec.schema.js';
import { formatPath } from '../../src/domain/validation.js';

type Key = string | number;
/** Source types the schema knows today (it grows: `scrape` came later), so "unknown type" stays unknown. */
const SOURCE_TYPES: string[] = MetricSourceSpec.options.map((o) => o.shape.type.value);
type Json = Record<string, unknown>;

/** A malformed spec and what its rejection must say. */
export interface Malformed {
  family: string;
  spec: unknown;
  /** The issue must be at this path or below it (`(root)` only for non-objects and unknown top-level keys). */
  at: string;
  mentions?: string;
  /** Text that must not appear in any message (a credential a spec tried to carry). */
  secret?: string;
}

/**
 * A valid spec touching every section, so every kind of mutation has something to break: every inline form a caller
 * may write (no credentials: those live in the operator's catalog) and every catalog-reference form (a guard
 * template with arguments, a provider, a notifier and a hook by name; the target's reference forms are mutations).
 */
export function baseSpec(flag: string): RolloutSpecInput {
  return {
    name: 'fuzz-base',
    description: 'the valid spec the fuzzer mutates',
    target: {
      type: 'http',
      url: 'http://127.0.0.1:9/flags',
      flag,
      variant: 'on',
      baselineVariant: 'off',
      timeoutMs: 5_000,
    },
    steps: [
      { exposure: 1, observe: '5m' },
      { approval: { timeout: '1h', onTimeout: 'rollback', approvers: ['lead'] } },
      { pause: { duration: '10m' } },
      { exposure: 25, observe: '30m', cohort: { attribute: 'region', values: ['eu-west'] } },
      { exposure: 100 },
    ],
    guards: [
      {
        name: 'error-rate',
        source: { type: 'prometheus', url: 'http://127.0.0.1:9090' },
        query: 'up',
        max: 0.02,
        min: 0,
        interval: '30s',
        failureLimit: 0,
        critical: true,
        onNoData: 'fail',
      },
      {
        name: 'vs-baseline',
        source: { type: 'synthetic', series: { e: [1], t: [100] } },
        compare: { canary: { errors: 'e', total: 't' }, baseline: { errors: 'e', total: 't' } },
        test: 'two-proportion',
        direction: 'increase',
        maxRatio: 1.2,
        confidence: 0.98,
        minSamples: 50,
      },
      // a catalog template by name: its name defaults to the template's, so it is named apart from guards[0]
      { template: 'error-rate', name: 'error-rate-eu', args: { service: 'checkout', max: 0.05, strict: true } },
      // an inline guard whose source is a catalog provider by name
      { name: 'latency', source: 'prometheus-main', query: 'latency', max: 0.3 },
    ],
    analysis: { extendBy: '5m', maxExtensions: 2, onInconclusive: 'pause' },
    rollback: {
      exposure: 0,
      compensations: [
        {
          name: 'scale-down',
          http: {
            url: 'https://deploy.example/scale',
            method: 'POST',
            body: { replicas: 0 },
            timeoutMs: 5_000,
          },
        },
        { hook: 'page-on-call' },
      ],
    },
    notify: [{ webhook: { url: 'https://hooks.example/rollouts' } }, { log: {} }, 'team-channel'],
  };
}

const COMP = ['rollback', 'compensations', 0, 'http'] as const;
const TEMPLATED = ['guards', 2] as const;
const HOOK = ['rollback', 'compensations', 1] as const;
type JsonType = 'string' | 'number' | 'boolean' | 'object' | 'array';
/**
 * Leaves (and subtrees) of the base spec with the JSON type the schema requires there, and where a wrong one is
 * reported when not at the leaf itself: a template guard of the wrong shape reads as neither a template guard nor an
 * inline guard, and is reported at the guard.
 */
const TYPED: [Key[], JsonType | JsonType[], string?][] = [
  [['name'], 'string'],
  [['description'], 'string'],
  // a target and a source are an object written out or a catalog name: neither is a wrong type there
  [['target'], ['object', 'string']],
  [['target', 'type'], 'string'],
  [['target', 'url'], 'string'],
  [['target', 'flag'], 'string'],
  [['target', 'variant'], 'string'],
  [['target', 'method'], 'string'],
  [['target', 'timeoutMs'], 'number'],
  [['steps'], 'array'],
  [['steps', 0], 'object'],
  [['steps', 0, 'exposure'], 'number'],
  [['steps', 0, 'observe'], 'string'],
  [['steps', 1, 'approval'], 'object'],
  [['steps', 1, 'approval', 'timeout'], 'string'],
  [['steps', 1, 'approval', 'approvers'], 'array'],
  [['steps', 1, 'approval', 'approvers', 0], 'string'],
  [['steps', 3, 'cohort'], 'object'],
  [['steps', 3, 'cohort', 'values'], 'array'],
  [['guards'], 'array'],
  [['guards', 0, 'name'], 'string'],
  [
    ['guards', 0, 'source'],
    ['object', 'string'],
  ],
  [['guards', 0, 'query'], 'string'],
  [['guards', 0, 'max'], 'number'],
  [['guards', 0, 'interval'], 'string'],
  [['guards', 0, 'failureLimit'], 'number'],
  [['guards', 0, 'critical'], 'boolean'],
  [['guards', 1, 'compare'], 'object'],
  [['guards', 1, 'confidence'], 'number'],
  [['guards', 1, 'minSamples'], 'number'],
  [[...TEMPLATED, 'template'], 'string', 'guards[2]'],
  [[...TEMPLATED, 'name'], 'string', 'guards[2]'],
  [[...TEMPLATED, 'args'], 'object', 'guards[2]'],
  [['guards', 3, 'source'], 'string'],
  [['analysis'], 'object'],
  [['analysis', 'maxExtensions'], 'number'],
  [['rollback'], 'object'],
  [['rollback', 'exposure'], 'number'],
  [['rollback', 'compensations'], 'array'],
  [[...COMP, 'url'], 'string'],
  [[...COMP, 'timeoutMs'], 'number'],
  [['notify'], 'array'],
  [['notify', 0, 'webhook', 'url'], 'string'],
  [['notify', 2], 'string'],
  [[...HOOK, 'hook'], 'string'],
];

/** Any JSON value whose type is not `type` (null counts as wrong everywhere: no field is nullable). */
function otherThan(type: JsonType | JsonType[]): fc.Arbitrary<unknown> {
  const allowed: readonly string[] = Array.isArray(type) ? type : [type];
  const all: [JsonType | 'null', fc.Arbitrary<unknown>][] = [
    ['string', fc.string({ maxLength: 8 })],
    ['number', fc.double({ noNaN: true, noDefaultInfinity: true })],
    ['boolean', fc.boolean()],
    ['null', fc.constant(null)],
    ['array', fc.array(fc.integer(), { maxLength: 2 })],
    ['object', fc.dictionary(fc.constantFrom('a', 'b'), fc.integer(), { maxKeys: 1 })],
  ];
  return fc.oneof(...all.filter(([t]) => !allowed.includes(t)).map(([, a]) => a));
}

function set(spec: unknown, path: readonly Key[], value: unknown): unknown {
  const copy = structuredClone(spec) as Json;
  let node: Json = copy;
  for (const key of path.slice(0, -1)) node = node[key as string] as Json;
  // defineProperty, not assignment: a key like `__proto__` must become an own key, as a JSON parser makes it
  Object.defineProperty(node, path[path.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function remove(spec: unknown, path: readonly Key[]): unknown {
  const copy = structuredClone(spec) as Json;
  let node: Json = copy;
  for (const key of path.slice(0, -1)) node = node[key as string] as Json;
  delete node[path[path.length - 1] as string];
  return copy;
}

const at = (path: readonly Key[]) => formatPath(path);

/** Replaces the value at `path` (path and `at` given together, `at` defaulting to the path). */
function mutate(
  base: unknown,
  family: string,
  path: Key[],
  value: fc.Arbitrary<unknown>,
  extra: Partial<Malformed> = {},
) {
  return value.map((v): Malformed => ({ family, spec: set(base, path, v), at: at(path), ...extra }));
}

const outOf0to100 = fc.oneof(
  fc.double({ min: 100, minExcluded: true, noNaN: true }),
  fc.double({ max: -Number.MIN_VALUE, noNaN: true }),
  fc.constant(Number.NaN),
);
/** Strings that are not durations: no unit, unknown units, zero or negative amounts, spaces, junk. */
const badDuration = fc.oneof(
  fc.nat().map(String),
  fc
    .tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('w', 'y', 'sec', 'min', 'M', 'H', 'S', 'hours', 'µs'))
    .map(([n, u]) => `${n}${u}`),
  fc.constantFrom(
    '0s',
    '0ms',
    '0m0s',
    '0.0h',
    '-5m',
    '5 m',
    ' 5m',
    '5m ',
    '1h-30m',
    '',
    'PT5M',
    '5m!',
    '.5m',
    '5.m',
    'm',
    // over the 90-day cap
    '91d',
    '2160h1ms',
    '99999999999d',
    `${'9'.repeat(40)}s`,
  ),
  fc
    .tuple(
      fc.integer({ min: 1, max: 99 }),
      fc.string({ minLength: 1, maxLength: 3 }).filter((s) => /[^0-9.msdh]/.test(s)),
    )
    .map(([n, junk]) => `${n}m${junk}`),
);
const badUrl = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('ftp', 'file', 'ws', 'wss', 'gopher', 'javascript', 'mailto', 'ssh', 'httpx', 'data', 'redis'),
      fc.domain(),
    )
    .map(([s, d]) => `${s}://${d}/x`),
  fc.constantFrom(
    '',
    'not a url',
    'http//example.com',
    '://example.com',
    '/relative/path',
    'example.com',
    'http://',
    'https://exa mple.com',
    'http://[::1',
  ),
);
/** What people paste where an env var name belongs: tokens with `-./+=: `, JWTs, keys starting with a digit. */
const secret = fc.oneof(
  fc
    .tuple(
      fc.constantFrom('sk-', 'xoxb-', 'ghp_x-', 'Bearer ', 'AKIA/', 'glpat-', 'eyJhbGciOiJIUzI1NiJ9.'),
      fc.base64String({ minLength: 12, maxLength: 40 }),
    )
    .map(([p, s]) => `${p}${s}`),
  fc.tuple(fc.integer({ min: 0, max: 9 }), fc.stringMatching(/^[A-Za-z0-9]{16,32}$/)).map(([d, s]) => `${d}${s}`),
  fc
    .tuple(
      fc.stringMatching(/^[A-Za-z0-9]{8,16}$/),
      fc.constantFrom('-', '.', '/', '+', '=', ':', ' ', '!'),
      fc.stringMatching(/^[A-Za-z0-9]{8,16}$/),
    )
    .map(([a, c, b]) => `${a}${c}${b}`),
);

/** A well-formed environment variable name: still refused in a spec, where no key takes one. */
const envName = fc.stringMatching(/^[A-Z_][A-Z0-9_]{0,20}$/);
/** Not a catalog name: empty, upper case, spaces, slashes, non-ASCII, leading or trailing punctuation, too long. */
const badCatalogName = fc.oneof(
  fc.constantFrom(
    '',
    'Checkout',
    'check out',
    '-checkout',
    'checkout-',
    '.checkout',
    'check/out',
    'chéckout',
    'c'.repeat(64),
  ),
  fc.string({ maxLength: 12 }).filter((s) => !/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/.test(s)),
);

/** Objects of the base spec and the keys each allows; any other key is unknown. */
const OBJECTS: [Key[], string[]][] = [
  [[], ['name', 'description', 'target', 'steps', 'guards', 'analysis', 'rollback', 'notify']],
  [['target'], ['type', 'url', 'method', 'timeoutMs', 'flag', 'variant', 'baselineVariant']],
  [
    ['steps', 0],
    ['name', 'exposure', 'observe', 'cohort'],
  ],
  [
    ['steps', 1],
    ['name', 'approval'],
  ],
  [
    ['steps', 1, 'approval'],
    ['timeout', 'onTimeout', 'approvers'],
  ],
  [
    ['steps', 2],
    ['name', 'pause'],
  ],
  [['steps', 2, 'pause'], ['duration']],
  [
    ['steps', 3, 'cohort'],
    ['attribute', 'values'],
  ],
  [
    ['guards', 0],
    [
      'name',
      'source',
      'query',
      'max',
      'min',
      'interval',
      'failureLimit',
      'inconclusiveLimit',
      'consecutiveErrorLimit',
      'onNoData',
      'critical',
      'perCohort',
      'minSamples',
    ],
  ],
  [
    ['guards', 0, 'source'],
    ['type', 'url', 'timeoutMs'],
  ],
  [[...TEMPLATED], ['template', 'name', 'args']],
  [
    ['guards', 1, 'compare'],
    ['canary', 'baseline'],
  ],
  [
    ['guards', 1, 'compare', 'canary'],
    ['query', 'errors', 'total'],
  ],
  [['analysis'], ['extendBy', 'maxExtensions', 'onInconclusive']],
  [['rollback'], ['exposure', 'compensations']],
  [
    ['rollback', 'compensations', 0],
    ['name', 'http'],
  ],
  [[...COMP], ['url', 'method', 'body', 'timeoutMs']],
  // `http` too: a hook with an `http` key reads as neither a hook nor an inline compensation
  [[...HOOK], ['hook', 'http']],
  [['notify', 0, 'webhook'], ['url']],
  [['notify', 1, 'log'], []],
];
const unknownKey = fc.oneof(
  fc.string({ minLength: 1, maxLength: 10 }),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'observ', 'Exposure', 'token', 'secret', 'steps', 'kind'),
);

/**
 * Required keys (object path, key, and where the absence is reported when not at the key itself). A guard is one of
 * two shapes, and a guard lacking a key both shapes need reads as neither: it is reported at the guard, not the key.
 */
const REQUIRED: [Key[], string, string?][] = [
  [[], 'name'],
  [[], 'target'],
  [[], 'steps'],
  [['target'], 'type'],
  [['target'], 'url'],
  [['target'], 'flag'],
  [['target'], 'variant'],
  [['target'], 'baselineVariant'],
  [['steps', 3, 'cohort'], 'attribute'],
  [['steps', 3, 'cohort'], 'values'],
  [['guards', 0], 'name', 'guards[0]'],
  [['guards', 0], 'source', 'guards[0]'],
  [['guards', 0, 'source'], 'url'],
  [['guards', 0, 'source'], 'type'],
  [['guards', 1], 'test'],
  [['guards', 1, 'compare'], 'canary'],
  [['rollback', 'compensations', 0], 'http'],
  [[...COMP], 'url'],
  [['notify', 0, 'webhook'], 'url'],
  [[...TEMPLATED], 'template', 'guards[2]'],
  [[...HOOK], 'hook', 'rollback.compensations[1]'],
];

/** ≥ 12 families of single mutations of the base spec, each invalid by construction. */
export function malformedSpec(flag: string): fc.Arbitrary<Malformed> {
  const base = baseSpec(flag);
  const m = (family: string, path: Key[], value: fc.Arbitrary<unknown>, extra: Partial<Malformed> = {}) =>
    mutate(base, family, path, value, extra);
  const wrongType = fc
    .constantFrom(...TYPED)
    .chain(([path, type, where]) => m('wrong type', path, otherThan(type), where ? { at: where } : {}));
  const outOfRange = fc.oneof(
    ...[0, 3, 4].map((i) => m('exposure out of range', ['steps', i, 'exposure'], outOf0to100)),
    m('exposure out of range', ['rollback', 'exposure'], outOf0to100),
    fc.double({ min: 1.5, max: 100, noNaN: true }).map((r): Malformed => ({
      family: 'exposure below rollback.exposure',
      spec: set(set(base, ['rollback', 'exposure'], r), ['steps', 0, 'exposure'], r - 1),
      at: 'steps[0].exposure',
    })),
    ...[
      ['target', 'timeoutMs'],
      [...COMP, 'timeoutMs'],
    ].map((p) =>
      m(
        'bad timeout',
        p,
        fc.oneof(
          fc.integer({ max: 0 }),
          fc.integer({ min: 120_001 }),
          fc.double({ min: 0.01, max: 1e5, noNaN: true }).filter((x) => !Number.isInteger(x)),
        ),
      ),
    ),
    m('bad limit', ['guards', 0, 'failureLimit'], fc.oneof(fc.integer({ max: -1 }), fc.constant(0.5))),
    m('bad limit', ['guards', 1, 'minSamples'], fc.oneof(fc.integer({ max: 0 }), fc.constant(2.5))),
    m(
      'bad limit',
      ['analysis', 'maxExtensions'],
      fc.oneof(fc.integer({ min: 101 }), fc.integer({ max: -1 }), fc.constant(1.5)),
    ),
  );
  const durations = [
    ['steps', 0, 'observe'],
    ['steps', 1, 'approval', 'timeout'],
    ['steps', 2, 'pause', 'duration'],
    ['guards', 0, 'interval'],
    ['analysis', 'extendBy'],
  ] as Key[][];
  const badDurations = fc.oneof(
    ...durations.map((p) => m('bad duration', p, badDuration)),
    badDuration.map((d): Malformed => ({
      family: 'bad duration',
      spec: set(base, ['steps', 2, 'pause'], d),
      at: 'steps[2].pause',
    })),
  );
  const unknownKeys = fc.constantFrom(...OBJECTS).chain(([path, allowed]) =>
    unknownKey
      .filter((k) => !allowed.includes(k))
      .chain((k) =>
        m('unknown key', [...path, k], fc.oneof(fc.string(), fc.integer(), fc.constant(null)), {
          at: at(path),
          mentions: k,
        }),
      ),
  );
  const missing = fc.constantFrom(...REQUIRED).map(([path, key, where]): Malformed => ({
    family: 'missing required',
    spec: remove(base, [...path, key]),
    at: where ?? at([...path, key]),
  }));
  const stepShapes = fc.oneof(
    fc.constant<Malformed>({ family: 'bad step shape', spec: set(base, ['steps'], []), at: 'steps' }),
    fc.constant<Malformed>({
      family: 'bad step shape',
      spec: set(base, ['steps'], [base.steps[1], base.steps[2]]),
      at: 'steps',
    }),
    fc
      .constantFrom(0, 1, 2, 3)
      .chain((i) =>
        m(
          'bad step shape',
          ['steps', i],
          fc.constantFrom<unknown>(
            {},
            { exposure: 5, pause: {} },
            { approval: {}, pause: '5m' },
            { observe: '5m' },
            { name: 'only a name' },
            { exposure: 5, approval: {} },
          ),
        ),
      ),
    m('bad step shape', ['steps', 1, 'approval', 'approvers'], fc.constant([])),
    m(
      'bad step shape',
      ['steps', 1, 'approval', 'onTimeout'],
      fc.string().filter((s) => s !== 'rollback' && s !== 'pause'),
    ),
    m('bad step shape', ['steps', 3, 'cohort', 'values'], fc.constantFrom<unknown>([], [''])),
    m('bad step shape', ['steps', 3, 'cohort', 'attribute'], fc.constantFrom('', 'region name', 'a/b', 'région')),
    m('bad step shape', ['steps', 0, 'name'], fc.constant('')),
  );
  const guards = fc.oneof(
    fc.constant<Malformed>({
      family: 'bad guard',
      spec: remove(remove(base, ['guards', 0, 'max']), ['guards', 0, 'min']),
      at: 'guards[0].max',
    }),
    fc.double({ min: 0.03, max: 1e6, noNaN: true }).map((min): Malformed => ({
      family: 'bad guard',
      spec: set(base, ['guards', 0, 'min'], min),
      at: 'guards[0].max',
    })),
    fc.constant<Malformed>({
      family: 'bad guard',
      spec: set(base, ['guards', 1, 'name'], 'error-rate'),
      at: 'guards[1].name',
      mentions: 'duplicate',
    }),
    fc.constantFrom('canary', 'baseline').chain((side) =>
      fc.constantFrom('errors', 'total').map((k): Malformed => ({
        family: 'bad guard',
        spec: remove(base, ['guards', 1, 'compare', side, k]),
        at: `guards[1].compare.${side}`,
      })),
    ),
    fc.constantFrom('ratio', 'mann-whitney').map((t): Malformed => ({
      family: 'bad guard',
      spec: set(base, ['guards', 1, 'test'], t),
      at: 'guards[1].compare',
      mentions: 'needs a query',
    })),
    m(
      'bad guard',
      ['guards', 1, 'test'],
      fc.string().filter((s) => !['ratio', 'mann-whitney', 'two-proportion', 'sequential'].includes(s)),
    ),
    m(
      'bad guard',
      ['guards', 1, 'direction'],
      fc.string().filter((s) => !['increase', 'decrease', 'either'].includes(s)),
    ),
    m(
      'bad guard',
      ['guards', 0, 'onNoData'],
      fc.string().filter((s) => s !== 'fail' && s !== 'inconclusive'),
    ),
    m(
      'bad guard',
      ['guards', 1, 'confidence'],
      fc.oneof(fc.double({ max: 0.5, noNaN: true }), fc.double({ min: 1, noNaN: true })),
    ),
    m('bad guard', ['guards', 1, 'maxRatio'], fc.double({ max: 0, noNaN: true })),
    m(
      'bad guard',
      ['guards', 0, 'source', 'type'],
      fc.string().filter((s) => !SOURCE_TYPES.includes(s)),
    ),
    m('bad guard', ['guards', 1, 'source', 'series', 'e'], fc.constant([])),
    m('bad guard', ['guards', 0, 'name'], fc.oneof(fc.constant(''), fc.string({ minLength: 101, maxLength: 120 }))),
    fc.constant<Malformed>({
      family: 'bad guard',
      spec: set(base, ['analysis'], { maxExtensions: 3 }),
      at: 'analysis.extendBy',
    }),
  );
  const urls = fc
    .constantFrom<Key[]>(
      ['target', 'url'],
      ['guards', 0, 'source', 'url'],
      [...COMP, 'url'],
      ['notify', 0, 'webhook', 'url'],
    )
    .chain((p) => m('bad URL', p, badUrl));
  // a spec never carries a credential: not even the name of a worker environment variable (`tokenEnv`)
  const credentialHolders: [Key[], unknown][] = [
    [['target'], base.target],
    [['target'], { name: 'checkout' }],
    [['guards', 0, 'source'], undefined],
    [[...TEMPLATED], undefined],
    [[...COMP], undefined],
    [[...HOOK], undefined],
    [['notify', 0, 'webhook'], undefined],
    [[], undefined],
  ];
  const credentials = fc.oneof(
    secret.map((s) => ({ key: 'tokenEnv', value: s as unknown, secret: s as string | undefined })),
    envName.map((n) => ({ key: 'tokenEnv', value: n as unknown, secret: undefined })),
    fc
      .tuple(fc.constantFrom('authorization', 'x-api-key', 'cookie'), secret)
      .map(([h, s]) => ({ key: 'headers', value: { [h]: `Bearer ${s}` } as unknown, secret: s })),
    secret.map((s) => ({ key: 'headers', value: { 'x-token': { secret: s } } as unknown, secret: s })),
    secret.map((s) => ({ key: 'auth', value: { bearer: s } as unknown, secret: s })),
    secret.map((s) => ({ key: 'auth', value: { basic: { username: 'ci', password: s } } as unknown, secret: s })),
  );
  const secrets = fc.tuple(fc.constantFrom(...credentialHolders), credentials).map(([[path, holder], c]): Malformed => {
    const spec = holder === undefined ? base : set(base, path, holder);
    return {
      family: 'credential in spec',
      spec: set(spec, [...path, c.key], c.value),
      at: at(path),
      mentions: c.key,
      ...(c.secret !== undefined ? { secret: c.secret } : {}),
    };
  });
  const references = fc.oneof(
    m('bad reference', ['target'], badCatalogName),
    m(
      'bad reference',
      ['target'],
      badCatalogName.map((name) => ({ name })),
      { at: 'target.name' },
    ),
    fc
      .tuple(fc.constantFrom('variant', 'baselineVariant'), fc.constantFrom('', '__proto__', 'v'.repeat(201)))
      .map(([k, v]): Malformed => ({
        family: 'bad reference',
        spec: set(base, ['target'], { name: 'checkout', [k]: v }),
        at: `target.${k}`,
      })),
    // a catalog target is named, not patched: its flag, file or URL are the operator's
    fc.constantFrom('flag', 'path', 'url', 'root', 'method').map((k): Malformed => ({
      family: 'bad reference',
      spec: set(base, ['target'], { name: 'checkout', [k]: 'x' }),
      at: 'target',
      mentions: k,
    })),
    m('bad reference', [...TEMPLATED, 'template'], badCatalogName),
    m('bad reference', [...TEMPLATED, 'name'], fc.constantFrom('', 'n'.repeat(101))),
    m('bad reference', [...TEMPLATED, 'args', 'service'], fc.string({ minLength: 201, maxLength: 260 })),
    m(
      'bad reference',
      [...TEMPLATED, 'args', 'service'],
      otherThan('string').filter((v) => typeof v !== 'number' && typeof v !== 'boolean'),
      {
        at: 'guards[2]',
      },
    ),
    fc.integer({ min: 21, max: 40 }).map((n): Malformed => ({
      family: 'bad reference',
      spec: set(base, [...TEMPLATED, 'args'], Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, i]))),
      at: 'guards[2].args',
    })),
    // named after its template, the templated guard takes guards[0]'s name
    fc.constant<Malformed>({
      family: 'bad reference',
      spec: remove(base, [...TEMPLATED, 'name']),
      at: 'guards[2].name',
      mentions: 'duplicate',
    }),
    // a template's source and query are the operator's: a spec passes arguments, nothing else
    fc
      .constantFrom<[string, unknown]>(['source', 'prometheus-main'], ['query', 'up'], ['max', 1])
      .map(([k, v]): Malformed => ({
        family: 'bad reference',
        spec: set(base, [...TEMPLATED, k], v),
        at: 'guards[2]',
        mentions: k,
      })),
    m('bad reference', ['guards', 3, 'source'], badCatalogName),
    m('bad reference', ['notify', 2], badCatalogName),
    m('bad reference', [...HOOK, 'hook'], badCatalogName),
  );
  const names = fc.oneof(
    m(
      'bad name',
      ['name'],
      fc.oneof(
        fc.constantFrom('', '-x', 'x-', 'Ranker', 'a b', 'ä', 'a_b'),
        fc.string({ minLength: 64, maxLength: 80 }).map((s) => `a${s.replace(/[^a-z]/g, 'a')}`),
      ),
    ),
    m(
      'bad name',
      ['target', 'flag'],
      fc.constantFrom('', '-flag', '.flag', 'flag name', 'flag/x', 'ü', 'x'.repeat(201)),
    ),
    fc.constant<Malformed>({
      family: 'bad name',
      spec: set(base, ['target', 'baselineVariant'], 'on'),
      at: 'target.variant',
    }),
    m(
      'bad name',
      ['target', 'type'],
      fc.string().filter((s) => !['flagd', 'http', 'memory'].includes(s)),
    ),
    m('bad name', ['target', 'method'], fc.constantFrom('GET', 'DELETE', 'put', '')),
    m('bad name', ['target', 'variant'], fc.constant('')),
  );
  return fc.oneof(
    wrongType,
    outOfRange,
    badDurations,
    unknownKeys,
    missing,
    stepShapes,
    guards,
    urls,
    secrets,
    names,
    references,
  );
}

/** A non-object where the spec belongs: the only inputs allowed to be refused at `(root)`. */
export const notAnObject: fc.Arbitrary<Malformed> = fc
  .oneof(fc.constant(null), fc.double(), fc.string(), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }))
  .map((spec) => ({ family: 'not an object', spec, at: '(root)' }));
