import { z } from 'zod';
import { Cohort, type Exposure, type ExposureReading } from '../../../src/domain/exposure.schema.js';
import type { UnleashTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError } from '../port.js';

/** The strategy kind the target keeps: Unleash's built-in gradual rollout. */
export const FLEXIBLE_ROLLOUT = 'flexibleRollout';
/** The strategy's title in Unleash's UI, so a human sees who keeps it. */
const TITLE = 'rollout-orchestrator';
/** Unleash splits a strategy's variants by weight out of 1000; the target's one variant takes all of it. */
const ALL_WEIGHT = 1000;

const Constraint = z.looseObject({
  contextName: z.string(),
  operator: z.string(),
  values: z.array(z.string()).optional(),
  value: z.string().optional(),
  inverted: z.boolean().optional(),
  caseInsensitive: z.boolean().optional(),
});

const StrategyVariant = z.looseObject({
  name: z.string(),
  weight: z.number(),
  weightType: z.string().optional(),
  stickiness: z.string().optional(),
});

/** A feature strategy as the Admin API returns it (only the fields the target reads are checked). */
export const UnleashStrategy = z.looseObject({
  id: z.string(),
  name: z.string(),
  title: z.string().nullish(),
  disabled: z.boolean().nullish(),
  parameters: z.record(z.string(), z.union([z.string(), z.number()])).default({}),
  constraints: z.array(Constraint).default([]),
  variants: z.array(StrategyVariant).default([]),
  segments: z.array(z.unknown()).default([]),
});
export type UnleashStrategy = z.infer<typeof UnleashStrategy>;

/** `GET /api/admin/projects/{project}/features/{flag}`: the flag with its state per environment. */
export const UnleashFeature = z.looseObject({
  name: z.string(),
  environments: z.array(
    z.looseObject({ name: z.string(), enabled: z.boolean(), strategies: z.array(UnleashStrategy).default([]) }),
  ),
});
export type UnleashFeature = z.infer<typeof UnleashFeature>;
export type UnleashEnvironment = UnleashFeature['environments'][number];

/** The body of the one strategy that serves `exposure` (POST to create it, PUT to replace it). */
export function strategyFor(spec: UnleashTargetSpec, exposure: Exposure) {
  const { stickiness } = spec;
  return {
    name: FLEXIBLE_ROLLOUT,
    title: TITLE,
    disabled: false,
    constraints: exposure.cohort
      ? [
          {
            contextName: exposure.cohort.attribute,
            operator: 'IN',
            values: exposure.cohort.values,
            caseInsensitive: false,
            inverted: false,
          },
        ]
      : [],
    parameters: { rollout: String(exposure.percent), stickiness, groupId: spec.groupId ?? spec.flag },
    variants: [{ name: spec.variant, weight: ALL_WEIGHT, weightType: 'variable', stickiness }],
    segments: [],
  };
}
export type StrategyBody = ReturnType<typeof strategyFor>;

/** What decides who is served, in one comparable shape (Unleash adds ids, sort orders and defaults of its own). */
function essence(s: UnleashStrategy | StrategyBody) {
  return JSON.stringify({
    name: s.name,
    title: s.title ?? null,
    disabled: s.disabled ?? false,
    rollout: Number(s.parameters.rollout),
    stickiness: String(s.parameters.stickiness ?? ''),
    groupId: String(s.parameters.groupId ?? ''),
    constraints: s.constraints.map((c) => ({
      contextName: c.contextName,
      operator: c.operator,
      values: [...(c.values ?? [])].sort(),
      inverted: c.inverted ?? false,
      caseInsensitive: c.caseInsensitive ?? false,
    })),
    variants: s.variants.map((v) => [v.name, v.weight, v.weightType ?? 'variable', v.stickiness ?? 'default']),
    segments: s.segments.length,
  });
}

/** True when `existing` already is the strategy `wanted` would write. */
export const sameStrategy = (existing: UnleashStrategy, wanted: StrategyBody) => essence(existing) === essence(wanted);

/** The environment the target drives, or a CONFIG error naming those the project has. */
export function environmentOf(spec: UnleashTargetSpec, feature: UnleashFeature): UnleashEnvironment {
  const env = feature.environments.find((e) => e.name === spec.environment);
  if (env) return env;
  const known = feature.environments.map((e) => `"${e.name}"`).join(', ') || 'none';
  throw new TargetError(
    `Unleash flag "${spec.flag}" has no environment "${spec.environment}" in project "${spec.project}" ` +
      `(it has: ${known}); enable the environment for the project or fix the catalog's environment`,
    'CONFIG',
    true,
  );
}

/**
 * The strategy the target keeps, if any. It keeps exactly one, a flexible rollout: any other strategy would serve
 * users the target neither counts nor controls, so such a flag is a CONFIG error (nothing is written) until an
 * operator removes the others in Unleash.
 */
export function managedStrategy(spec: UnleashTargetSpec, env: UnleashEnvironment): UnleashStrategy | undefined {
  const [first, ...others] = env.strategies;
  if (first === undefined) return undefined;
  if (others.length === 0 && first.name === FLEXIBLE_ROLLOUT) return first;
  const names = env.strategies.map((s) => (s.title ? `${s.name} "${s.title}"` : s.name)).join(', ');
  throw new TargetError(
    `Unleash flag "${spec.flag}" in environment "${spec.environment}" has ${env.strategies.length} ` +
      `strategies (${names}); the target keeps exactly one ${FLEXIBLE_ROLLOUT} strategy and does not count ` +
      'others: remove them in Unleash (nothing was changed)',
    'CONFIG',
    true,
  );
}

/**
 * What a strategy serves: its rollout while the environment and the strategy are enabled, else 0 %; its one `IN`
 * constraint as the cohort (kept at 0 % too, so a cohort step back to 0 reads back as written).
 */
export function readingOf(
  spec: UnleashTargetSpec,
  env: UnleashEnvironment,
  strategy: UnleashStrategy | undefined,
): ExposureReading {
  if (strategy === undefined) return { percent: 0 };
  const rollout = Number(strategy.parameters.rollout);
  if (!Number.isFinite(rollout) || rollout < 0 || rollout > 100) {
    throw new TargetError(
      `Unleash flag "${spec.flag}" in environment "${spec.environment}": its ${FLEXIBLE_ROLLOUT} strategy's ` +
        `rollout ${JSON.stringify(strategy.parameters.rollout ?? null)} is not a percentage`,
      'UNPARSABLE',
      true,
    );
  }
  const percent = env.enabled && !strategy.disabled ? rollout : 0;
  const cohort = cohortOf(spec, strategy);
  return cohort ? { percent, cohort } : { percent };
}

function cohortOf(spec: UnleashTargetSpec, strategy: UnleashStrategy): Cohort | undefined {
  if (strategy.constraints.length === 0) return undefined;
  const [c] = strategy.constraints;
  const cohort =
    strategy.constraints.length === 1 && c?.operator === 'IN' && !c.inverted && !c.caseInsensitive
      ? Cohort.safeParse({ attribute: c.contextName, values: c.values ?? [] })
      : undefined;
  if (cohort?.success) return cohort.data;
  const shown = strategy.constraints.map((k) => `${k.contextName} ${k.inverted ? 'NOT ' : ''}${k.operator}`);
  throw new TargetError(
    `Unleash flag "${spec.flag}" in environment "${spec.environment}": its ${FLEXIBLE_ROLLOUT} strategy has ` +
      `constraints (${shown.join(', ')}) that are not one cohort (one case-sensitive IN list): remove them in ` +
      'Unleash',
    'CONFIG',
    true,
  );
}
