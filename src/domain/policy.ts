import type { PolicyRule } from './catalog.schema.js';
import type { RolloutSpec } from './spec.schema.js';
import type { ValidationIssue } from './validation.js';

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `at` (UTC) falls on an allowed day between `from` (inclusive) and `to` (exclusive); wraps midnight. */
export function withinHours(at: Date, hours: NonNullable<PolicyRule['allowedHours']>): boolean {
  const day = DAYS[at.getUTCDay()]!;
  const now = at.getUTCHours() * 60 + at.getUTCMinutes();
  const from = minutes(hours.from);
  const to = minutes(hours.to);
  const inWindow = from <= to ? now >= from && now < to : now >= from || now < to;
  return (hours.days as readonly string[]).includes(day) && inWindow;
}

/**
 * The policy rules a spec breaks, each naming the rule. `startingAt` is when the rollout would start; without it
 * allowed hours are not checked (a continue-as-new run is the same rollout, already started).
 */
export function checkPolicy(
  spec: RolloutSpec,
  rule: PolicyRule,
  targetName: string | undefined,
  startingAt?: Date,
): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const of = `policy of ${targetName !== undefined ? `target "${targetName}"` : 'inline targets'}`;
  const names = new Set(spec.guards.flatMap((g) => ('template' in g ? [g.name ?? g.template, g.template] : [g.name])));
  for (const required of rule.requiredGuards ?? []) {
    if (!names.has(required))
      issues.push({ path: 'guards', message: `${of}, requiredGuards: must include guard "${required}"` });
  }
  const exposures = spec.steps.flatMap((s, i) => ('exposure' in s ? [{ i, percent: s.exposure }] : []));
  const first = exposures[0];
  if (rule.maxFirstStep !== undefined && first && first.percent > rule.maxFirstStep) {
    issues.push({
      path: `steps[${first.i}].exposure`,
      message: `${of}, maxFirstStep: the first step may expose at most ${rule.maxFirstStep} %, not ${first.percent} %`,
    });
  }
  if (rule.approvalAbove !== undefined) {
    // a shadow share runs the new variant's code on that much real traffic: held to the same rule
    const shares = spec.steps.flatMap((s, i) =>
      'exposure' in s
        ? [{ i, percent: s.exposure, key: 'exposure', what: 'exposure' }]
        : 'shadow' in s
          ? [{ i, percent: s.shadow, key: 'shadow', what: 'a shadow share' }]
          : [],
    );
    const firstApproval = spec.steps.findIndex((s) => 'approval' in s);
    for (const { i, percent, key, what } of shares) {
      if (percent > rule.approvalAbove && (firstApproval < 0 || firstApproval > i)) {
        issues.push({
          path: `steps[${i}].${key}`,
          message: `${of}, approvalAbove: ${what} above ${rule.approvalAbove} % (${percent} %) must follow an approval step`,
        });
        break;
      }
    }
  }
  if (rule.allowedHours && startingAt && !withinHours(startingAt, rule.allowedHours)) {
    const h = rule.allowedHours;
    issues.push({
      path: 'target',
      message: `${of}, allowedHours: rollouts start only ${h.days.join(', ')} ${h.from}–${h.to} UTC`,
    });
  }
  return issues;
}
