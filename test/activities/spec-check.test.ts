import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { checkDrillSpec, checkRolloutSpec } from '../../activities/validate.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

const target = { type: 'memory', name: 'm', flag: 'f', variant: 'on', baselineVariant: 'off' } as const;

describe('spec checks behind the workflows (run as local activities)', () => {
  it('returns the spec with its defaults filled in', () => {
    const spec = checkRolloutSpec({ name: 'x', target, steps: [{ exposure: 5 }] });
    expect(spec.rollback.exposure).toBe(0);
    expect(spec.guards).toEqual([]);
  });

  it('fails an invalid spec for good (non-retryable InvalidSpec) with every issue by path', () => {
    const err = thrown(() =>
      checkRolloutSpec({ name: 'x', target, steps: [{ exposure: 150 }, { approval: { timeout: 'soon' } }] }),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidSpec', nonRetryable: true });
    expect((err as Error).message).toMatch(/steps\[0\]\.exposure: must be ≤ 100/);
    expect((err as Error).message).toMatch(/steps\[1\]\.approval\.timeout: must be a duration/);
  });

  it('builds a drill and its rollout, or fails with InvalidDrillSpec naming the path', () => {
    const rollout = { name: 'x', target, steps: [{ exposure: 5, observe: '1s' }, { exposure: 100 }] };
    const { drill, spec } = checkDrillSpec({ name: 'd', rollout, inject: { atStep: 0 } });
    expect(drill.inject.method).toBe('signal');
    expect(spec.name).toBe('drill-d');
    expect(() => checkDrillSpec({ name: 'd', rollout, inject: { atStep: 1 } })).toThrow(
      /inject\.atStep: must name an exposure step with an observe window/,
    );
    expect(() => checkDrillSpec({ name: 'D!', rollout, inject: { atStep: 0 } })).toThrow(
      expect.objectContaining({
        type: 'InvalidDrillSpec',
        message: expect.stringMatching(/^invalid drill spec:\nname: /),
      }),
    );
  });
});
