import type { DrillSpec } from './drill.schema.js';
import { toMs } from './time.js';

/* How a drill is judged. Zod-free: the drill workflow imports this module. */

/**
 * The guard a drill injects into its rollout: a synthetic critical guard that fails (method `guard`), or an alert
 * guard the drill's `guardBreach` signal names (method `signal`; a breach naming no guard is refused).
 */
export const DRILL_GUARD = 'drill-injected-breach';

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
  drill: Omit<DrillSpec, 'notify'>;
  rolloutWorkflowId: string;
  finalPhase: string;
  /** Why the rollout ended, in its own words (its result's reason): what a drill whose preflight failed reports. */
  finalReason?: string;
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
  if (args.stillRunning)
    reasons.push(`the rollout did not finish within the drill deadline ${drill.deadline}: ${args.stillRunning}`);
  else if (args.finalPhase === 'Failed')
    reasons.push(`the rollout could not start: ${args.finalReason ?? 'its preflight failed'}`);
  else if (args.finalPhase !== 'RolledBack') reasons.push(`the rollout ended ${args.finalPhase}, expected RolledBack`);
  if (args.injectedAtMs === undefined && args.finalPhase !== 'Failed')
    reasons.push(`the breach was never injected (step ${drill.inject.atStep + 1} was not reached)`);
  const ttd =
    args.injectedAtMs !== undefined && args.detectedAtMs !== undefined
      ? Math.max(0, args.detectedAtMs - args.injectedAtMs)
      : undefined;
  const ttr =
    args.detectedAtMs !== undefined && args.rolledBackAtMs !== undefined
      ? Math.max(0, args.rolledBackAtMs - args.detectedAtMs)
      : undefined;
  if (ttd !== undefined && ttd > slo.detectWithinMs)
    reasons.push(`time to detect ${ttd} ms exceeds the SLO of ${drill.slo.detectWithin}`);
  if (ttr !== undefined && ttr > slo.rollbackWithinMs)
    reasons.push(`time to rollback ${ttr} ms exceeds the SLO of ${drill.slo.rollbackWithin}`);
  if (args.injectedAtMs !== undefined && ttd === undefined) reasons.push('the breach was never detected');
  const baselineVerified = args.baseline.actual === args.baseline.expected;
  if (!baselineVerified)
    reasons.push(
      args.baseline.actual === undefined
        ? `the target could not be read back, expected its baseline ${args.baseline.expected}%`
        : `the target reads ${args.baseline.actual}%, expected its baseline ${args.baseline.expected}%`,
    );
  // a rollout that could not start changed nothing, so it had nothing to compensate
  if (args.finalPhase !== 'Failed')
    for (const c of args.compensations)
      if (c.runs !== 1) reasons.push(`compensation ${c.name} ran ${c.runs} times, expected once`);
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
