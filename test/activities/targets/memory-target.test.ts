import { describe, expect, it } from 'vitest';
import { MemoryTargetSpec, TargetSpec } from '../../../src/domain/target-spec.schema.js';
import { createTarget, MemoryTargetRegistry, TargetError } from '../../../activities/targets/index.js';

const spec = MemoryTargetSpec.parse({
  type: 'memory',
  name: 'checkout',
  flag: 'new-ranker',
  variant: 'on',
  baselineVariant: 'off',
});

/** A clock that ticks one second per reading, so log timestamps are predictable. */
function ticking(): () => Date {
  let t = Date.parse('2025-01-01T00:00:00Z');
  return () => new Date((t += 1000));
}

describe('memory target', () => {
  it('records a retried change once and the same key again after a different change', async () => {
    const registry = new MemoryTargetRegistry({ now: ticking() });
    const target = registry.target(spec);

    await target.apply({ percent: 5, idempotencyKey: 'step-1' });
    await target.apply({ percent: 5, idempotencyKey: 'step-1' });
    await target.apply({ percent: 25, cohort: { attribute: 'region', values: ['eu'] }, idempotencyKey: 'step-2' });

    expect(registry.log('checkout')).toEqual([
      { percent: 5, idempotencyKey: 'step-1', at: '2025-01-01T00:00:01.000Z' },
      {
        percent: 25,
        cohort: { attribute: 'region', values: ['eu'] },
        idempotencyKey: 'step-2',
        at: '2025-01-01T00:00:02.000Z',
      },
    ]);
    expect(await target.read()).toEqual({
      percent: 25,
      cohort: { attribute: 'region', values: ['eu'] },
      lastKey: 'step-2',
    });
  });

  it('shares state between targets of the same name and starts at 0', async () => {
    const registry = new MemoryTargetRegistry();
    expect(registry.state('checkout')).toEqual({ percent: 0 });
    await registry.target(spec).apply({ percent: 50, idempotencyKey: 'k' });
    expect(await registry.target(spec).read()).toEqual({ percent: 50, lastKey: 'k' });
    expect(registry.state('other')).toEqual({ percent: 0 });
  });

  it('does not let callers mutate its state through returned values', async () => {
    const registry = new MemoryTargetRegistry();
    const reading = await registry
      .target(spec)
      .apply({ percent: 5, cohort: { attribute: 'a', values: ['x'] }, idempotencyKey: 'k' });
    reading.cohort?.values.push('y');
    registry.log('checkout')[0]!.percent = 99;
    expect(registry.state('checkout').cohort?.values).toEqual(['x']);
    expect(registry.log('checkout')[0]?.percent).toBe(5);
  });

  it('fails the next n applies as UNAVAILABLE without changing anything, then recovers', async () => {
    const registry = new MemoryTargetRegistry();
    const target = registry.target(spec);
    registry.failNext('checkout', 2);

    for (let i = 0; i < 2; i++) {
      const error = await target.apply({ percent: 5, idempotencyKey: 'k' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TargetError);
      expect(error).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
    }
    expect(registry.state('checkout')).toEqual({ percent: 0 });
    expect(registry.log('checkout')).toEqual([]);

    await target.apply({ percent: 5, idempotencyKey: 'k' });
    expect(registry.log('checkout')).toHaveLength(1);
  });

  it('throws the injected error when one is given', async () => {
    const registry = new MemoryTargetRegistry();
    registry.failNext('checkout', 1, new TargetError('flag service says no', 'REJECTED', false));
    await expect(registry.target(spec).apply({ percent: 5, idempotencyKey: 'k' })).rejects.toMatchObject({
      code: 'REJECTED',
    });
  });

  it('keeps failing while setFailing is on', async () => {
    const registry = new MemoryTargetRegistry();
    const target = registry.target(spec);
    registry.setFailing('checkout', true);
    await expect(target.apply({ percent: 5, idempotencyKey: 'a' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await expect(target.apply({ percent: 5, idempotencyKey: 'a' })).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    registry.setFailing('checkout', false);
    await expect(target.apply({ percent: 5, idempotencyKey: 'a' })).resolves.toEqual({ percent: 5, lastKey: 'a' });
  });

  it('is what createTarget builds for a memory spec', async () => {
    const registry = new MemoryTargetRegistry();
    const target = createTarget(TargetSpec.parse(spec), { memory: registry, rootDir: () => undefined });
    expect(target.describe).toBe('memory:checkout#new-ranker');
    await target.apply({ percent: 1, idempotencyKey: 'k' });
    expect(registry.state('checkout')).toEqual({ percent: 1, lastKey: 'k' });
  });
});
