import { describe, expect, it } from 'vitest';
import { evaluateGuard } from '../../activities/guards/evaluate-guard.js';
import { createSyntheticSource } from '../../activities/sources/index.js';
import { MeasuredGuard } from '../../src/domain/guard-spec.schema.js';
import { validateSpec } from '../../src/spec/load.js';

/** Two sample sets, the canary's a little shifted: a PSI of 0.083 over 10 baseline-quantile bins. */
const baseline = Array.from({ length: 400 }, (_, i) => (i % 100) / 100);
const canary = baseline.map((x) => Math.min(0.999, x + 0.06));

const driftGuard = (extra: Record<string, unknown>) =>
  MeasuredGuard.parse({
    name: 'score-drift',
    source: { type: 'synthetic', series: { canary: [canary], baseline: [baseline] } },
    compare: { canary: { query: 'canary' }, baseline: { query: 'baseline' } },
    test: 'psi',
    minSamples: 100,
    ...extra,
  });

const judge = async (guard: MeasuredGuard) =>
  (
    await evaluateGuard(guard, createSyntheticSource(guard.source as Parameters<typeof createSyntheticSource>[0]), {
      check: 0,
      nowMs: 60_000,
      windowStartMs: 0,
    })
  )[0]!;

describe('drift guards take their thresholds from the spec', () => {
  it('the same samples pass under the default PSI limit and fail under a stricter one', async () => {
    const loose = await judge(driftGuard({}));
    expect(loose.verdict).toBe('Successful');
    expect(loose.threshold).toBe('PSI ≤ 0.2 over 10 baseline-quantile bins');
    const strict = await judge(driftGuard({ drift: { maxPsi: 0.05, bins: 10 } }));
    expect(strict.verdict).toBe('Failed');
    expect(strict.threshold).toBe('PSI ≤ 0.05 over 10 baseline-quantile bins');
  });

  it('a KS distance limit applies to the ks test', async () => {
    const ks = await judge(driftGuard({ test: 'ks', drift: { maxDistance: 0.5 } }));
    expect(ks.threshold).toMatch(/^KS distance ≤ 0.5 at 95%/);
    expect(ks.verdict).toBe('Successful');
  });

  it('drift options on a test they do not apply to are refused at their path', () => {
    const spec = (guard: Record<string, unknown>) => ({
      name: 'drift',
      target: { type: 'memory', name: 'm', flag: 'm', variant: 'on', baselineVariant: 'off' },
      steps: [{ exposure: 5 }],
      guards: [
        {
          name: 'g',
          source: { type: 'synthetic', series: { a: [1] } },
          compare: { canary: { query: 'a' }, baseline: { query: 'a' } },
          ...guard,
        },
      ],
    });
    const wrong = validateSpec(spec({ test: 'mann-whitney', drift: { maxPsi: 0.1 } }));
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.issues.map((i) => i.path)).toContain('guards[0].drift');
    const mixed = validateSpec(spec({ test: 'ks', drift: { maxPsi: 0.1 } }));
    expect(mixed.ok).toBe(false);
    expect(validateSpec(spec({ test: 'psi', drift: { maxPsi: 0.1, bins: 20 } })).ok).toBe(true);
  });
});
