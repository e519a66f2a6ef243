import type { ScriptPoint, SyntheticSource } from '../../../src/domain/guard-spec.schema.js';
import { SourceError, type MetricPoint, type MetricSamples, type MetricSource } from '../port.js';

/**
 * A deterministic scripted source for drills and tests. The expression names a series; check n reads element
 * `min(n, length − 1)` of its script, so the last element repeats. Per element:
 *
 * | element     | instant                              | range                          |
 * | ----------- | ------------------------------------ | ------------------------------ |
 * | `0.02`      | `[{ labels: {}, value: 0.02 }]`      | `[{ labels: {}, values: [0.02] }]` |
 * | `[1, 2, 3]` | the mean: `value: 2` (empty: `null`) | `values: [1, 2, 3]`            |
 * | `null`      | `value: null`                        | `[]` (no data)                 |
 * | `"error"`   | throws SourceError UNAVAILABLE       | the same                       |
 *
 * A name under `cohorts.series` gives one point (or sample set) per label value, labelled
 * `{ [cohorts.label]: value }`, in the order the spec lists them; `"error"` in any cohort fails the whole query.
 * A name in both `series` and `cohorts.series` reads `series`. An unknown name is BAD_QUERY listing the known ones.
 * Time (`atMs`, `startMs`…) is ignored: only the check index moves a script.
 */
export function createSyntheticSource(spec: SyntheticSource): MetricSource {
  function lookup(
    expression: string,
    check: number,
    step?: number,
  ): { labels: Record<string, string>; point: ScriptPoint }[] {
    const name = expression.trim();
    // a script for the current rollout step (drills inject a breach at one step) wins over the default one
    const script = (step !== undefined ? spec.steps?.[String(step)]?.[name] : undefined) ?? spec.series?.[name];
    if (script) return [{ labels: {}, point: at(script, check) }];
    const cohorts = spec.cohorts?.series[name];
    if (cohorts && spec.cohorts) {
      const label = spec.cohorts.label;
      return Object.entries(cohorts).map(([value, s]) => ({ labels: { [label]: value }, point: at(s, check) }));
    }
    const known = [...Object.keys(spec.series ?? {}), ...Object.keys(spec.cohorts?.series ?? {})];
    const list = known.length > 0 ? known.map((k) => JSON.stringify(k)).join(', ') : 'none';
    throw new SourceError(
      `synthetic source: no series named ${JSON.stringify(name)}; known series: ${list}`,
      'BAD_QUERY',
    );
  }

  function scripted(expression: string, check: number, step?: number) {
    const entries = lookup(expression, check, step);
    const failing = entries.find((e) => e.point === 'error');
    if (failing) {
      const cohort = Object.values(failing.labels)[0];
      const which = cohort === undefined ? '' : ` (cohort ${cohort})`;
      throw new SourceError(
        `synthetic source: series ${JSON.stringify(expression.trim())}${which} is scripted to fail at check ${check}`,
        'UNAVAILABLE',
      );
    }
    return entries as { labels: Record<string, string>; point: Exclude<ScriptPoint, 'error'> }[];
  }

  return {
    describe: 'synthetic',
    async instant(expression, ctx): Promise<MetricPoint[]> {
      return scripted(expression, ctx.check, ctx.step).map(({ labels, point }) => ({
        labels,
        value: instantValue(point),
      }));
    },
    async range(expression, ctx): Promise<MetricSamples[]> {
      return scripted(expression, ctx.check, ctx.step).flatMap(({ labels, point }) => {
        if (point === null) return [];
        return [{ labels, values: typeof point === 'number' ? [point] : [...point] }];
      });
    },
  };
}

function at<T>(script: readonly T[], check: number): T {
  const i = Math.min(Math.max(0, Math.floor(check)), script.length - 1);
  return script[i]!;
}

function instantValue(point: Exclude<ScriptPoint, 'error'>): number | null {
  if (point === null || typeof point === 'number') return point;
  if (point.length === 0) return null;
  return point.reduce((sum, v) => sum + v, 0) / point.length;
}
