import type { GuardSpec, MeasuredGuard } from '../src/domain/guard-spec.schema.js';
import { guardStatusOf } from '../src/domain/rollout-state.js';
import type { GuardStatus } from '../src/domain/rollout-state.schema.js';
import type { GuardTally, Verdict } from '../src/domain/tally.schema.js';
import type { Rollout } from './rollout.js';

/** Workflow time (deterministic: the SDK replays the same clock). */
const now = (): string => new Date().toISOString();

/*
 * One tally per guard across the rollout (version 5): `state.failures` counts each guard's pushed breaches and, for
 * guards with `budget: rollout`, the pulled failures of its finished windows. A window starts from that count, so
 * its own checks and the pushes add up against one `failureLimit`.
 */

/** A guard's failures so far, as counted against its `failureLimit` (before the window now running). */
export function failuresOf(r: Rollout, guard: string): number {
  return r.state.failures?.[guard] ?? 0;
}

export function addFailures(r: Rollout, guard: string, n: number): number {
  const failures = (r.state.failures ??= {});
  failures[guard] = (failures[guard] ?? 0) + n;
  return failures[guard];
}

/** A guard that runs checks (an alert guard only counts pushed breaches). Here, not in the schema: no zod. */
export const isMeasured = (g: GuardSpec): g is MeasuredGuard => !('alert' in g);

/** Guards a window judges (`during: windows`), and guards watched in the background (`during: rollout`). */
export const windowGuards = (r: Rollout): MeasuredGuard[] =>
  r.spec.guards.filter(isMeasured).filter((g) => !r.v5 || g.during !== 'rollout');
export const backgroundGuards = (r: Rollout): MeasuredGuard[] =>
  r.v5 ? r.spec.guards.filter(isMeasured).filter((g) => g.during === 'rollout') : [];
const duringOf = (g: GuardSpec | undefined) => (g && isMeasured(g) ? g.during : undefined);

/**
 * Replaces the status of the guards in `tallies` (kept in spec order; the others keep theirs), with their verdicts
 * and their rollout-wide failure counts. Version 5 runs only (earlier ones replace every status at a window's end).
 */
export function setGuardStatuses(r: Rollout, tallies: GuardTally[], verdicts: (Verdict | undefined)[]): void {
  const { spec, state } = r;
  const fresh = new Map<string, GuardStatus>();
  tallies.forEach((t, i) => {
    const g = spec.guards.find((x) => x.name === t.guard);
    const verdict = verdicts[i] ?? t.last?.verdict ?? 'Inconclusive';
    const counted = duringOf(g) === 'rollout' ? failuresOf(r, t.guard) + t.failed : failuresOf(r, t.guard);
    fresh.set(
      t.guard,
      guardStatusOf(t, verdict, now(), {
        ...(g ? { failures: counted, failureLimit: g.failureLimit } : {}),
        ...(g?.unit ? { unit: g.unit } : {}),
        ...(g?.dryRun ? { dryRun: true } : {}),
        ...(duringOf(g) ? { during: duringOf(g)! } : {}),
      }),
    );
  });
  const old = new Map(state.guards.map((g) => [g.name, g]));
  state.guards = spec.guards
    .map((g) => fresh.get(g.name) ?? old.get(g.name))
    .filter((g): g is GuardStatus => g !== undefined);
}
