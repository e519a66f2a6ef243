import { z } from 'zod';
import { MAX_NAME, MAX_NOTIFIERS, MAX_PATH, MAX_STEPS } from './bounds.js';
import { BoundedText } from './common.schema.js';
import { Duration } from './duration.schema.js';
import type { InlineGuard } from './guard-spec.schema.js';
import {
  NotifierRef,
  RolloutSpec,
  Step,
  type Notifier,
  type ResolvedSpec,
  type RolloutSpecInput,
} from './spec.schema.js';
import { TargetRef } from './target-spec.schema.js';

import { flattenIssues, type ValidationIssue } from './validation.js';

/**
 * A rollout drill: run a real rollout against a sandbox target, inject a breach at one step, and prove that
 * rollback happens, completely and within the SLO.
 */
export const DrillSpec = z
  .object({
    name: z
      .string()
      .max(MAX_NAME, `must be at most ${MAX_NAME} characters`)
      .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must use only a-z, 0-9 and "-"'),
    /** The rollout to drill: a full spec (the CLI inlines `rolloutFile` here before starting). */
    rollout: z.unknown(),
    /** Where the rollout spec came from, for the record (a file path); informational. */
    rolloutFile: BoundedText(MAX_PATH).optional(),
    /** Replace parts of the rollout for the drill, typically a sandbox `target`. */
    overrides: z
      .object({
        target: TargetRef.optional(),
        steps: z.array(Step).min(1).max(MAX_STEPS, `must list at most ${MAX_STEPS} steps`).optional(),
      })
      .strict()
      .default({}),
    inject: z
      .object({
        /** Index of an exposure step with an observation window. */
        atStep: z.number().int().min(0),
        /** `signal`: a guardBreach signal (the alert path); `guard`: a synthetic critical guard that fails (the polled path). */
        method: z.enum(['signal', 'guard']).default('signal'),
        /** Wait this long into the step's window before injecting (signal method). */
        after: Duration.optional(),
      })
      .strict(),
    slo: z
      .object({
        /** Breach injected → rollback requested. */
        detectWithin: Duration.default('10s'),
        /** Rollback requested → target verified at baseline. */
        rollbackWithin: Duration.default('30s'),
      })
      .strict()
      .default({ detectWithin: '10s', rollbackWithin: '30s' }),
    /** The whole drill must end within this; a rollback that never finishes fails the drill here. */
    deadline: Duration.default('10m'),
    notify: z.array(NotifierRef).max(MAX_NOTIFIERS, `must list at most ${MAX_NOTIFIERS} notifiers`).default([]),
  })
  .strict();
export type DrillSpec = z.infer<typeof DrillSpec>;
/** A drill as the worker runs it: its notifiers resolved against the catalog. */
export type ResolvedDrill = Omit<DrillSpec, 'notify'> & { notify: Notifier[] };

/**
 * What the drill's spec check returns: the drill, the rollout it runs resolved (`spec`), and that rollout as a
 * caller's spec (`request`: the child rollout's input, which it resolves again; absent in older histories).
 */
export interface PreparedDrill {
  drill: ResolvedDrill;
  spec: ResolvedSpec;
  request?: RolloutSpec;
}
export type DrillSpecInput = z.input<typeof DrillSpec>;

export { DRILL_GUARD } from './drill.js';
import { DRILL_GUARD } from './drill.js';

/**
 * The rollout a drill runs: the referenced spec with overrides, plus the injected guard for the `guard`
 * method. Returns issues (with paths under `rollout`/`inject`) instead of throwing.
 */
export function buildDrillRollout(
  drill: DrillSpec,
): { ok: true; spec: RolloutSpec } | { ok: false; issues: { path: string; message: string }[] } {
  const base = RolloutSpec.safeParse(drill.rollout);
  if (!base.success) {
    return {
      ok: false,
      issues: base.error.issues.map((i) => ({ path: ['rollout', ...i.path].join('.'), message: i.message })),
    };
  }
  const input: RolloutSpecInput = {
    ...base.data,
    name: `drill-${drill.name}`.slice(0, 63).replace(/-+$/, ''),
    ...(drill.overrides.target ? { target: drill.overrides.target } : {}),
    ...(drill.overrides.steps ? { steps: drill.overrides.steps } : {}),
  };
  const step = input.steps[drill.inject.atStep];
  if (!step || !('exposure' in step) || !step.observe) {
    return {
      ok: false,
      issues: [
        {
          path: 'inject.atStep',
          message: `must name an exposure step with an observe window (the rollout has ${input.steps.length} steps)`,
        },
      ],
    };
  }
  if (drill.inject.method === 'guard') {
    const injected: InlineGuard = {
      name: DRILL_GUARD,
      source: { type: 'synthetic', series: { breach: [0] }, steps: { [String(drill.inject.atStep)]: { breach: [1] } } },
      query: 'breach',
      max: 0.5,
      interval: '200ms',
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
      errorInterval: '10s',
      onNoData: 'inconclusive',
      critical: true,
      dryRun: false,
      during: 'windows',
      budget: 'rollout',
      minSamples: 1,
    };
    input.guards = [...(input.guards ?? []), injected];
  } else {
    const injected: InlineGuard = { name: DRILL_GUARD, alert: {}, failureLimit: 0, critical: true, dryRun: false };
    input.guards = [...(input.guards ?? []), injected];
  }
  const spec = RolloutSpec.safeParse(input);
  if (!spec.success)
    return {
      ok: false,
      issues: spec.error.issues.map((i) => ({ path: ['rollout', ...i.path].join('.'), message: i.message })),
    };
  return { ok: true, spec: spec.data };
}

/** A drill spec with its defaults and the rollout it runs, or every issue by path (the drill's, then the rollout's). */
export function checkDrill(
  input: unknown,
): { ok: true; drill: DrillSpec; spec: RolloutSpec } | { ok: false; issues: ValidationIssue[] } {
  const parsed = DrillSpec.safeParse(input);
  if (!parsed.success) return { ok: false, issues: flattenIssues(parsed.error.issues) };
  const built = buildDrillRollout(parsed.data);
  return built.ok ? { ok: true, drill: parsed.data, spec: built.spec } : built;
}
