import { describe, expect, it } from 'vitest';
import { checkCatalog } from '../../src/domain/catalog.js';
import { PolicyRule, type Catalog, type CatalogInput } from '../../src/domain/catalog.schema.js';
import { checkPolicy, withinHours } from '../../src/domain/policy.js';
import { RolloutSpec } from '../../src/domain/spec.schema.js';
import { describeIssues, type ValidationIssue } from '../../src/domain/validation.js';
import { checkSpec } from '../../src/spec/check.js';

/** 2024-01-01 was a Monday. */
const WED_10_00 = new Date('2024-01-03T10:00:00Z');
const SAT_10_00 = new Date('2024-01-06T10:00:00Z');

const memory = { type: 'memory', name: 'sandbox', flag: 'sandbox', variant: 'on', baselineVariant: 'off' } as const;
const synthetic = { type: 'synthetic' };
const inlineGuard = (name: string) => ({ name, source: synthetic, query: 'up', max: 1 });

const rolloutSpec = (patch: Record<string, unknown> = {}): RolloutSpec =>
  RolloutSpec.parse({ name: 'checkout-v2', target: 'checkout', steps: [{ exposure: 5 }, { exposure: 100 }], ...patch });

const rule = (input: Record<string, unknown>) => PolicyRule.parse(input);
const policyOf = (spec: RolloutSpec, input: Record<string, unknown>, startingAt?: Date) =>
  checkPolicy(spec, rule(input), 'checkout', startingAt);

describe('requiredGuards', () => {
  const required = { requiredGuards: ['error-rate'] };

  it('is met by a template of that name, even when the guard is renamed', () => {
    const spec = rolloutSpec({ guards: [{ template: 'error-rate', name: 'checkout-errors', args: {} }] });
    expect(policyOf(spec, required)).toEqual([]);
  });

  it('is met by a guard of that name, inline or from another template', () => {
    expect(policyOf(rolloutSpec({ guards: [inlineGuard('error-rate')] }), required)).toEqual([]);
    expect(policyOf(rolloutSpec({ guards: [{ template: 'errors-v2', name: 'error-rate' }] }), required)).toEqual([]);
  });

  it('is broken by a spec without it, naming the rule, the guard and the target', () => {
    const spec = rolloutSpec({ guards: [inlineGuard('latency')] });
    expect(policyOf(spec, { requiredGuards: ['error-rate', 'latency', 'saturation'] })).toEqual([
      { path: 'guards', message: 'policy of target "checkout", requiredGuards: must include guard "error-rate"' },
      { path: 'guards', message: 'policy of target "checkout", requiredGuards: must include guard "saturation"' },
    ]);
  });
});

describe('maxFirstStep', () => {
  it('allows a first exposure at the limit, and larger steps after it', () => {
    expect(policyOf(rolloutSpec({ steps: [{ exposure: 5 }, { exposure: 50 }] }), { maxFirstStep: 5 })).toEqual([]);
  });

  it('refuses a first exposure above the limit, at that step', () => {
    expect(policyOf(rolloutSpec({ steps: [{ exposure: 10 }, { exposure: 50 }] }), { maxFirstStep: 5 })).toEqual([
      {
        path: 'steps[0].exposure',
        message: 'policy of target "checkout", maxFirstStep: the first step may expose at most 5 %, not 10 %',
      },
    ]);
  });

  it('judges the first exposure step, not the first step', () => {
    const spec = rolloutSpec({ steps: [{ pause: {} }, { approval: {} }, { exposure: 25 }] });
    const issues = policyOf(spec, { maxFirstStep: 5 });
    expect(issues.map((i) => i.path)).toEqual(['steps[2].exposure']);
    expect(issues[0]!.message).toContain('maxFirstStep');
  });
});

describe('approvalAbove', () => {
  it('allows exposure up to the limit without approval', () => {
    expect(policyOf(rolloutSpec({ steps: [{ exposure: 5 }, { exposure: 25 }] }), { approvalAbove: 25 })).toEqual([]);
  });

  it('allows exposure above the limit once an approval step came before it', () => {
    const spec = rolloutSpec({ steps: [{ exposure: 5 }, { approval: {} }, { exposure: 50 }, { exposure: 100 }] });
    expect(policyOf(spec, { approvalAbove: 25 })).toEqual([]);
  });

  it('refuses the first exposure above the limit that no approval precedes, once', () => {
    const spec = rolloutSpec({ steps: [{ exposure: 5 }, { exposure: 50 }, { approval: {} }, { exposure: 100 }] });
    expect(policyOf(spec, { approvalAbove: 25 })).toEqual([
      {
        path: 'steps[1].exposure',
        message: 'policy of target "checkout", approvalAbove: exposure above 25 % (50 %) must follow an approval step',
      },
    ]);
  });

  it('holds a shadow share to the same limit: it runs the new variant on that much traffic', () => {
    const spec = rolloutSpec({ steps: [{ shadow: 50 }, { exposure: 5 }] });
    expect(policyOf(spec, { approvalAbove: 25 })).toEqual([
      {
        path: 'steps[0].shadow',
        message:
          'policy of target "checkout", approvalAbove: a shadow share above 25 % (50 %) must follow an approval step',
      },
    ]);
    expect(policyOf(rolloutSpec({ steps: [{ shadow: 20 }, { exposure: 5 }] }), { approvalAbove: 25 })).toEqual([]);
  });

  it('refuses a spec with no approval at all', () => {
    const issues = policyOf(rolloutSpec({ steps: [{ exposure: 100 }] }), { approvalAbove: 0 });
    expect(issues.map((i) => i.path)).toEqual(['steps[0].exposure']);
    expect(issues[0]!.message).toContain('approvalAbove');
  });
});

describe('allowedHours (UTC)', () => {
  const officeHours = { allowedHours: { from: '09:00', to: '17:00' } };

  it('allows a start inside the window on a weekday, the default days', () => {
    expect(policyOf(rolloutSpec(), officeHours, WED_10_00)).toEqual([]);
  });

  it('refuses a start outside the window, at target, saying when starts are allowed', () => {
    expect(policyOf(rolloutSpec(), officeHours, new Date('2024-01-03T18:30:00Z'))).toEqual([
      {
        path: 'target',
        message:
          'policy of target "checkout", allowedHours: rollouts start only mon, tue, wed, thu, fri 09:00–17:00 UTC',
      },
    ]);
  });

  it('refuses a start on a day the rule does not list', () => {
    expect(policyOf(rolloutSpec(), officeHours, SAT_10_00).map((i) => i.path)).toEqual(['target']);
    expect(policyOf(rolloutSpec(), { allowedHours: { days: ['sat'], from: '09:00', to: '17:00' } }, SAT_10_00)).toEqual(
      [],
    );
  });

  it('reads the start time in UTC, whatever offset it was written with', () => {
    // 18:30 in UTC+05:00 is 13:30 UTC
    expect(policyOf(rolloutSpec(), officeHours, new Date('2024-01-03T18:30:00+05:00'))).toEqual([]);
  });

  it('is not checked when the start time is not given (a continue-as-new is not a new start)', () => {
    expect(policyOf(rolloutSpec(), officeHours)).toEqual([]);
    expect(policyOf(rolloutSpec(), officeHours, SAT_10_00)).toHaveLength(1);
  });

  it.each([
    ['09:00', true],
    ['08:59', false],
    ['16:59', true],
    ['17:00', false],
  ])('with from inclusive and to exclusive: %s is inside: %s', (hhmm, inside) => {
    const at = new Date(`2024-01-03T${hhmm}:00Z`);
    expect(withinHours(at, { days: ['wed'], from: '09:00', to: '17:00' })).toBe(inside);
  });

  it.each([
    ['23:30', true],
    ['22:00', true],
    ['00:00', true],
    ['01:59', true],
    ['02:00', false],
    ['12:00', false],
    ['21:59', false],
  ])('with a window that wraps past midnight (22:00–02:00): %s is inside: %s', (hhmm, inside) => {
    const at = new Date(`2024-01-03T${hhmm}:00Z`);
    expect(withinHours(at, { days: ['wed'], from: '22:00', to: '02:00' })).toBe(inside);
  });

  it('takes the day of the start itself, in UTC', () => {
    const weekdays = rule({ allowedHours: { from: '00:00', to: '23:59' } }).allowedHours!;
    expect(withinHours(new Date('2024-01-05T23:00:00Z'), weekdays)).toBe(true);
    // Friday 23:00 in UTC-03:00 is already Saturday in UTC
    expect(withinHours(new Date('2024-01-05T23:00:00-03:00'), weekdays)).toBe(false);
  });
});

describe('a policy breaking several rules', () => {
  it('reports each, each naming its rule', () => {
    const issues = policyOf(
      rolloutSpec({ steps: [{ exposure: 50 }, { exposure: 100 }] }),
      {
        requiredGuards: ['error-rate'],
        maxFirstStep: 5,
        approvalAbove: 25,
        allowedHours: { from: '09:00', to: '17:00' },
      },
      SAT_10_00,
    );
    expect(issues.map((i) => /, (\w+):/.exec(i.message)?.[1])).toEqual([
      'requiredGuards',
      'maxFirstStep',
      'approvalAbove',
      'allowedHours',
    ]);
  });
});

describe('the catalog policy, when a spec is checked', () => {
  function catalogOf(input: CatalogInput): Catalog {
    const checked = checkCatalog(input);
    if (!checked.ok) throw new Error(`test catalog is invalid:\n${describeIssues(checked.issues)}`);
    return checked.catalog;
  }

  const catalog = catalogOf({
    roots: { flags: '/srv/flags', scratch: '/srv/scratch' },
    targets: {
      checkout: {
        type: 'flagd',
        root: 'flags',
        path: 'c.json',
        flag: 'checkout',
        variant: 'on',
        baselineVariant: 'off',
      },
      search: { type: 'flagd', root: 'flags', path: 's.json', flag: 'search', variant: 'on', baselineVariant: 'off' },
    },
    policy: {
      default: { maxFirstStep: 1 },
      targets: {
        checkout: { maxFirstStep: 10, requiredGuards: ['error-rate'], allowedHours: { from: '09:00', to: '17:00' } },
      },
    },
    inline: { flagdRoot: 'scratch' },
  });
  const withDefaultOnly = catalogOf({ policy: { default: { approvalAbove: 50 } } });

  const input = (patch: Record<string, unknown>) => ({
    name: 'rollout',
    steps: [{ exposure: 5 }, { exposure: 100 }],
    guards: [inlineGuard('error-rate')],
    ...patch,
  });
  const issuesOf = (patch: Record<string, unknown>, against = catalog, startingAt?: Date): ValidationIssue[] => {
    const checked = checkSpec(input(patch), against, startingAt ? { startingAt } : {});
    return checked.ok ? [] : checked.issues;
  };

  it("applies the target's own rule, not the default", () => {
    expect(issuesOf({ target: 'checkout' })).toEqual([]);
    expect(issuesOf({ target: { name: 'checkout', variant: 'v2' }, steps: [{ exposure: 20 }] })).toEqual([
      {
        path: 'steps[0].exposure',
        message: 'policy of target "checkout", maxFirstStep: the first step may expose at most 10 %, not 20 %',
      },
    ]);
    expect(issuesOf({ target: 'checkout', guards: [] })).toEqual([
      { path: 'guards', message: 'policy of target "checkout", requiredGuards: must include guard "error-rate"' },
    ]);
  });

  it('applies the default to a catalog target without its own rule', () => {
    expect(issuesOf({ target: 'search' })).toEqual([
      {
        path: 'steps[0].exposure',
        message: 'policy of target "search", maxFirstStep: the first step may expose at most 1 %, not 5 %',
      },
    ]);
  });

  it('applies the default to inline targets', () => {
    const inlineFlagd = { type: 'flagd', path: 'x.json', flag: 'x', variant: 'on', baselineVariant: 'off' };
    for (const target of [inlineFlagd, memory]) {
      expect(issuesOf({ target })).toEqual([
        {
          path: 'steps[0].exposure',
          message: 'policy of inline targets, maxFirstStep: the first step may expose at most 1 %, not 5 %',
        },
      ]);
    }
    const issues = issuesOf({ target: memory }, withDefaultOnly);
    expect(issues.map((i) => i.path)).toEqual(['steps[1].exposure']);
    expect(issues[0]!.message).toContain('approvalAbove');
  });

  it('checks allowed hours only when told when the rollout starts', () => {
    expect(issuesOf({ target: 'checkout' }, catalog, WED_10_00)).toEqual([]);
    expect(issuesOf({ target: 'checkout' }, catalog, SAT_10_00)).toEqual([
      { path: 'target', message: expect.stringContaining('allowedHours') as unknown },
    ]);
    expect(issuesOf({ target: 'checkout' }, catalog)).toEqual([]);
  });

  it('lets anything through when there is neither a rule nor a default', () => {
    const open = catalogOf({});
    expect(issuesOf({ target: memory, steps: [{ exposure: 100 }], guards: [] }, open, SAT_10_00)).toEqual([]);
  });

  it('is not consulted for a prototype key: target "constructor" without a rule gets the default', () => {
    const withConstructor = catalogOf({
      targets: { constructor: memory },
      policy: { default: { maxFirstStep: 1 } },
    });
    const issues = issuesOf({ target: 'constructor' }, withConstructor);
    expect(issues).toEqual([
      {
        path: 'steps[0].exposure',
        message: 'policy of target "constructor", maxFirstStep: the first step may expose at most 1 %, not 5 %',
      },
    ]);
  });
});

describe('an inline target that writes a catalog target’s flag', () => {
  const catalog = (): Catalog => {
    const checked = checkCatalog({
      roots: { flags: '/srv/flags' },
      targets: {
        checkout: {
          type: 'flagd',
          root: 'flags',
          path: 'checkout.json',
          flag: 'new-checkout',
          variant: 'on',
          baselineVariant: 'off',
        },
      },
      policy: { targets: { checkout: { maxFirstStep: 5 } } },
      inline: { flagdRoot: 'flags' },
    });
    if (!checked.ok) throw new Error(describeIssues(checked.issues));
    return checked.catalog;
  };
  const inline = (path: string, flag: string) => ({
    name: 'sidestep',
    target: { type: 'flagd', path, flag, variant: 'on', baselineVariant: 'off' },
    steps: [{ exposure: 50 }],
  });

  it('is refused, however the path is spelled: the flag has a name, and its policy comes with it', () => {
    for (const path of ['checkout.json', './checkout.json', './/checkout.json']) {
      const result = checkSpec(inline(path, 'new-checkout'), catalog());
      expect(result, path).toEqual({
        ok: false,
        issues: [
          {
            path: 'target',
            message: 'writes the flag of catalog target "checkout": name it instead (target: checkout)',
          },
        ],
      });
    }
  });

  it('is not, for another flag in the same file', () => {
    expect(checkSpec(inline('checkout.json', 'other-flag'), catalog()).ok).toBe(true);
  });
});
