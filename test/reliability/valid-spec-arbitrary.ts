/**
 * A fast-check arbitrary for VALID rollout specs, written from the README's spec grammar rather than from the zod
 * schema, so that "every generated spec is accepted" checks the validator against the documented contract (and keeps
 * the malformed-spec fuzzer honest: a validator that rejected everything would fail here). It writes both what a
 * caller may write inline (never a credential: those are the catalog's) and every catalog-reference form: a target by
 * name, guard templates with arguments, providers, notifiers and hooks by name. Valid here means well-formed: whether
 * the names are declared is the catalog's question, asked when the spec is resolved.
 */
import fc from 'fast-check';

const opt = { requiredKeys: [] as never[] };
const name = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/);
/** Names that reach Object.prototype are reserved for flags and variants. */
const RESERVED = ['__proto__', 'constructor', 'prototype'];
const flag = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/).filter((s) => !RESERVED.includes(s));
/** The name of a catalog entry (a target, provider, template, notifier or hook). */
const catalogName = fc.stringMatching(/^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$/);
const text = fc.string({ minLength: 1, maxLength: 12 });
const url = fc.webUrl({ validSchemes: ['http', 'https'] });
const timeoutMs = (max: number) => fc.integer({ min: 1, max });
const unit = fc.constantFrom('ms', 's', 'm', 'h', 'd');
const MS = { ms: 1, s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7 } as const;
/**
 * `30s`, `1h30m`, `1.5h`: one to three parts adding up to at least a millisecond (less rounds to zero) and at most
 * the documented 90 days.
 */
const duration = fc
  .array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.constantFrom('', '.5', '.25'), unit), {
    minLength: 1,
    maxLength: 3,
  })
  .filter((parts) => {
    const ms = parts.reduce((sum, [n, frac, u]) => sum + Number(`${n}${frac}`) * MS[u], 0);
    return ms >= 1 && ms <= 90 * MS.d;
  })
  .map((parts) => parts.map(([n, frac, u]) => `${n}${frac}${u}`).join(''));

/** A flag file under the worker's base directory: relative, no `..` segment, optionally starting with `./`. */
const flagdPath = fc
  .tuple(
    fc.constantFrom('', './'),
    fc.array(
      fc.stringMatching(/^[A-Za-z0-9_. -]{1,10}$/).filter((s) => s !== '..'),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([prefix, parts]) => `${prefix}${parts.join('/')}`);
const variantName = text.filter((s) => !RESERVED.includes(s));

const target = fc.uniqueArray(variantName, { minLength: 2, maxLength: 2 }).chain(([variant, baselineVariant]) =>
  fc.oneof(
    catalogName,
    fc.record(
      { name: catalogName, variant: fc.constant(variant), baselineVariant: fc.constant(baselineVariant) },
      { requiredKeys: ['name'] },
    ),
    fc.record({
      type: fc.constant('flagd'),
      path: flagdPath,
      flag,
      variant: fc.constant(variant),
      baselineVariant: fc.constant(baselineVariant),
    }),
    fc.record(
      {
        type: fc.constant('http'),
        url,
        flag,
        variant: fc.constant(variant),
        baselineVariant: fc.constant(baselineVariant),
        method: fc.constantFrom('PUT', 'POST'),
        timeoutMs: timeoutMs(120_000),
      },
      { requiredKeys: ['type', 'url', 'flag', 'variant', 'baselineVariant'] },
    ),
    fc.record({
      type: fc.constant('memory'),
      name: text,
      flag,
      variant: fc.constant(variant),
      baselineVariant: fc.constant(baselineVariant),
    }),
  ),
);

const cohort = fc.record({
  attribute: fc.stringMatching(/^[A-Za-z0-9_.$-]{1,12}$/),
  values: fc.array(text, { minLength: 1, maxLength: 3 }),
});
const exposureStep = (floor: number) =>
  fc.record(
    { exposure: fc.double({ min: floor, max: 100, noNaN: true }), observe: duration, cohort, name: text },
    { requiredKeys: ['exposure'] },
  );
const approvalStep = fc.record({
  approval: fc.record(
    {
      timeout: duration,
      onTimeout: fc.constantFrom('rollback', 'pause'),
      approvers: fc.array(text, { minLength: 1, maxLength: 3 }),
    },
    opt,
  ),
});
const pauseStep = fc.record({ pause: fc.oneof(duration, fc.constant({}), fc.record({ duration })) });
/** At least one exposure step, at a random position among the others. */
const steps = (floor: number) =>
  fc
    .tuple(
      exposureStep(floor),
      fc.array(fc.oneof(exposureStep(floor), approvalStep, pauseStep), { maxLength: 5 }),
      fc.nat(),
    )
    .map(([first, rest, at]) => {
      const all: unknown[] = [...rest];
      all.splice(at % (rest.length + 1), 0, first);
      return all;
    });

const scriptPoint = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant(null),
  fc.constant('error'),
);
const source = fc.oneof(
  catalogName,
  fc.record(
    { type: fc.constantFrom('prometheus', 'http-json', 'scrape'), url, timeoutMs: timeoutMs(60_000) },
    { requiredKeys: ['type', 'url'] },
  ),
  fc.record(
    {
      type: fc.constant('synthetic'),
      series: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.array(scriptPoint, { minLength: 1, maxLength: 4 })),
    },
    { requiredKeys: ['type'] },
  ),
);
const limits = {
  interval: duration,
  failureLimit: fc.nat(10),
  inconclusiveLimit: fc.nat(10),
  consecutiveErrorLimit: fc.nat(10),
  onNoData: fc.constantFrom('fail', 'inconclusive'),
  critical: fc.boolean(),
  perCohort: text,
  minSamples: fc.integer({ min: 1, max: 1_000 }),
};
const bounds = fc
  .tuple(
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom('max', 'min', 'both'),
  )
  .map(([a, b, which]) =>
    which === 'max' ? { max: a } : which === 'min' ? { min: a } : { min: Math.min(a, b), max: Math.max(a, b) },
  );
const thresholdGuard = fc
  .tuple(
    fc.record(
      { name: fc.string({ minLength: 1, maxLength: 100 }), source, query: text, ...limits },
      { requiredKeys: ['name', 'source', 'query'] },
    ),
    bounds,
  )
  .map(([g, b]) => ({ ...g, ...b }));
const counts = fc.record({ errors: text, total: text });
const query = fc.record({ query: text });
const compareGuard = fc.constantFrom('ratio', 'mann-whitney', 'two-proportion', 'sequential').chain((test) => {
  const side = test === 'two-proportion' ? counts : test === 'sequential' ? fc.oneof(counts, query) : query;
  return fc.record(
    {
      name: fc.string({ minLength: 1, maxLength: 100 }),
      source,
      compare: fc.record({ canary: side, baseline: side }),
      test: fc.constant(test),
      direction: fc.constantFrom('increase', 'decrease', 'either'),
      maxRatio: fc.double({ min: 0, minExcluded: true, max: 100, noNaN: true }),
      confidence: fc.double({ min: 0.5, max: 1, minExcluded: true, maxExcluded: true, noNaN: true }),
      ...limits,
    },
    { requiredKeys: ['name', 'source', 'compare', 'test'] },
  );
});

/** A guard from a catalog template: a name (else the template's), and up to 20 arguments. */
const templateGuard = fc.record(
  {
    template: catalogName,
    name: fc.string({ minLength: 1, maxLength: 100 }),
    args: fc.dictionary(
      fc.string({ minLength: 1, maxLength: 100 }),
      fc.oneof(fc.string({ maxLength: 200 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.boolean()),
      { maxKeys: 20 },
    ),
  },
  { requiredKeys: ['template'] },
);

const jsonish = fc.oneof(
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), fc.integer(), { maxKeys: 3 }),
);
const compensation = fc.oneof(
  fc.record({ hook: catalogName }),
  fc.record(
    {
      name: text,
      http: fc.record(
        {
          url,
          method: fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE'),
          body: jsonish,
          timeoutMs: timeoutMs(120_000),
        },
        { requiredKeys: ['url'] },
      ),
    },
    { requiredKeys: ['http'] },
  ),
);
const analysis = fc.oneof(
  fc.record({ maxExtensions: fc.constant(0), onInconclusive: fc.constantFrom('pause', 'rollback') }, opt),
  fc.record(
    {
      extendBy: duration,
      maxExtensions: fc.integer({ min: 1, max: 100 }),
      onInconclusive: fc.constantFrom('pause', 'rollback'),
    },
    { requiredKeys: ['extendBy', 'maxExtensions'] },
  ),
);
const notifier = fc.oneof(catalogName, fc.record({ webhook: fc.record({ url }) }), fc.constant({ log: {} }));

/** A valid spec: rollback exposure first, since every exposure step must be at or above it. */
export const validSpec: fc.Arbitrary<Record<string, unknown>> = fc
  .oneof(fc.constant(0), fc.double({ min: 0, max: 100, noNaN: true }))
  .chain((floor) =>
    fc.record(
      {
        name,
        description: fc.string({ maxLength: 200 }),
        target,
        steps: steps(floor),
        // a template guard without a name is named after its template: names are unique either way
        guards: fc.uniqueArray(fc.oneof(thresholdGuard, compareGuard, templateGuard), {
          selector: (g: { name?: string; template?: string }) => g.name ?? g.template,
          maxLength: 4,
        }),
        analysis,
        rollback: fc.record(
          { exposure: fc.constant(floor), compensations: fc.array(compensation, { maxLength: 2 }) },
          { requiredKeys: ['exposure'] },
        ),
        notify: fc.array(notifier, { maxLength: 2 }),
      },
      { requiredKeys: ['name', 'target', 'steps'] },
    ),
  );
