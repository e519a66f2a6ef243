import { z } from 'zod';
import { Duration, toMs } from './duration.js';
import type { GuardSpec } from './guard-spec.js';
import { Notifier, RolloutSpec, Step, type RolloutSpecInput } from './spec.js';
import { TargetSpec } from './target-spec.js';

/**
 * A rollout drill: run a real rollout against a sandbox target, inject a breach at one step, and prove that
 * rollback happens, completely and within the SLO.
 */
export const DrillSpec = z
  .object({
    name: z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must use only a-z, 0-9 and "-"').max(63),
    /** The rollout to drill: a full spec (the CLI inlines `rolloutFile` here before starting). */
    rollout: z.unknown(),
    /** Where the rollout spec came from, for the record (a file path); informational. */
    rolloutFile: z.string().optional(),
    /** Replace parts of the rollout for the drill, typically a sandbox `target`. */
    overrides: z.object({ target: TargetSpec.optional(), steps: z.array(Step).min(1).optional() }).strict().default({}),
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
    notify: z.array(Notifier).default([]),
  })
  .strict();
export type DrillSpec = z.infer<typeof DrillSpec>;
export type DrillSpecInput = z.input<typeof DrillSpec>;

export const DRILL_GUARD = 'drill-injected-breach';

/**
 * The rollout a drill runs: the referenced spec with overrides, plus the injected guard for the `guard`
 * method. Returns issues (with paths under `rollout`/`inject`) instead of throwing.
 */
export function buildDrillRollout(drill: DrillSpec): { ok: true; spec: RolloutSpec } | { ok: false; issues: { path: string; message: string }[] } {
  const base = RolloutSpec.safeParse(drill.rollout);
  if (!base.success) {
    return { ok: false, issues: base.error.issues.map((i) => ({ path: ['rollout', ...i.path].join('.'), message: i.message })) };
  }
  const input: RolloutSpecInput = {
    ...base.data,
    name: `drill-${drill.name}`.slice(0, 63).replace(/-+$/, ''),
    ...(drill.overrides.target ? { target: drill.overrides.target } : {}),
    ...(drill.overrides.steps ? { steps: drill.overrides.steps } : {}),
  };
  const step = input.steps[drill.inject.atStep];
  if (!step || !('exposure' in step) || !step.observe) {
    return { ok: false, issues: [{ path: 'inject.atStep', message: `must name an exposure step with an observe window (the rollout has ${input.steps.length} steps)` }] };
  }
  if (drill.inject.method === 'guard') {
    const injected: GuardSpec = {
      name: DRILL_GUARD,
      source: { type: 'synthetic', series: { breach: [0] }, steps: { [String(drill.inject.atStep)]: { breach: [1] } } },
      query: 'breach',
      max: 0.5,
      interval: '200ms',
      failureLimit: 0,
      inconclusiveLimit: 0,
      consecutiveErrorLimit: 4,
      onNoData: 'inconclusive',
      critical: true,
      minSamples: 1,
    };
    input.guards = [...(input.guards ?? []), injected];
  }
  const spec = RolloutSpec.safeParse(input);
  if (!spec.success) return { ok: false, issues: spec.error.issues.map((i) => ({ path: ['rollout', ...i.path].join('.'), message: i.message })) };
  return { ok: true, spec: spec.data };
}

/** What a drill measured and concluded. */
export interface DrillReport {
  drill: string;
  rolloutWorkflowId: string;
  passed: boolean;
  reasons: string[];
  method: 'signal' | 'guard';
  injectedAt?: string;
  detectedAt?: string;
  rolledBackAt?: string;
  timeToDetectMs?: number;
  timeToRollbackMs?: number;
  slo: { detectWithinMs: number; rollbackWithinMs: number };
  finalPhase: string;
  baselineVerified: boolean;
  compensations: { name: string; runs: number }[];
}

/** Judges a drill from what it observed: every check that fails adds a reason; no reason means passed. */
export function judgeDrill(args: {
  drill: DrillSpec;
  rolloutWorkflowId: string;
  finalPhase: string;
  stillRunning?: string;
  injectedAtMs?: number;
  detectedAtMs?: number;
  rolledBackAtMs?: number;
  baseline: { expected: number; actual: number | undefined };
  compensations: { name: string; runs: number }[];
}): DrillReport {
  const { drill } = args;
  const slo = { detectWithinMs: toMs(drill.slo.detectWithin), rollbackWithinMs: toMs(drill.slo.rollbackWithin) };
  const reasons: string[] = [];
  if (args.stillRunning) reasons.push(`the rollout did not finish within the drill deadline ${drill.deadline}: ${args.stillRunning}`);
  else if (args.finalPhase !== 'RolledBack') reasons.push(`the rollout ended ${args.finalPhase}, expected RolledBack`);
  if (args.injectedAtMs === undefined) reasons.push(`the breach was never injected (step ${drill.inject.atStep} was not reached)`);
  const ttd = args.injectedAtMs !== undefined && args.detectedAtMs !== undefined ? Math.max(0, args.detectedAtMs - args.injectedAtMs) : undefined;
  const ttr = args.detectedAtMs !== undefined && args.rolledBackAtMs !== undefined ? Math.max(0, args.rolledBackAtMs - args.detectedAtMs) : undefined;
  if (ttd !== undefined && ttd > slo.detectWithinMs) reasons.push(`time to detect ${ttd} ms exceeds the SLO of ${drill.slo.detectWithin}`);
  if (ttr !== undefined && ttr > slo.rollbackWithinMs) reasons.push(`time to rollback ${ttr} ms exceeds the SLO of ${drill.slo.rollbackWithin}`);
  if (args.injectedAtMs !== undefined && ttd === undefined) reasons.push('the breach was never detected');
  const baselineVerified = args.baseline.actual === args.baseline.expected;
  if (!baselineVerified) reasons.push(`the target reads ${args.baseline.actual ?? 'nothing'}%, expected its baseline ${args.baseline.expected}%`);
  for (const c of args.compensations) if (c.runs !== 1) reasons.push(`compensation ${c.name} ran ${c.runs} times, expected once`);
  const iso = (ms: number | undefined) => (ms === undefined ? {} : { at: new Date(ms).toISOString() });
  return {
    drill: drill.name,
    rolloutWorkflowId: args.rolloutWorkflowId,
    passed: reasons.length === 0,
    reasons,
    method: drill.inject.method,
    ...(args.injectedAtMs !== undefined ? { injectedAt: iso(args.injectedAtMs).at } : {}),
    ...(args.detectedAtMs !== undefined ? { detectedAt: iso(args.detectedAtMs).at } : {}),
    ...(args.rolledBackAtMs !== undefined ? { rolledBackAt: iso(args.rolledBackAtMs).at } : {}),
    ...(ttd !== undefined ? { timeToDetectMs: ttd } : {}),
    ...(ttr !== undefined ? { timeToRollbackMs: ttr } : {}),
    slo,
    finalPhase: args.finalPhase,
    baselineVerified,
    compensations: args.compensations,
  };
}
