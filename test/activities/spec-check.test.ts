import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createTarget, MemoryTargetRegistry, TargetError } from '../../activities/targets/index.js';
import { prepareDrill, validateRolloutSpec, type CheckContext } from '../../activities/validate.js';
import { catalogOf, rootDir, type LoadedCatalog } from '../../src/catalog/load.js';
import { EMPTY_CATALOG } from '../../src/domain/catalog.js';

const target = { type: 'memory', name: 'm', flag: 'f', variant: 'on', baselineVariant: 'off' } as const;

/** The check as the worker runs it: specs resolved against `loaded`, targets built over its roots. */
function contextOf(loaded: LoadedCatalog = { catalog: EMPTY_CATALOG, dir: process.cwd() }): CheckContext {
  const memory = new MemoryTargetRegistry();
  return {
    catalog: loaded.catalog,
    targetOf: (spec) =>
      createTarget(spec, { memory, rootDir: (root) => (root === undefined ? undefined : rootDir(loaded, root)) }),
  };
}

const rejection = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected the check to fail'),
    (e: unknown) => e as ApplicationFailure,
  );

/** A catalog whose root `flags` (also the root of inline flagd targets) is a fresh directory. */
async function flagsCatalog(): Promise<{ dir: string; loaded: LoadedCatalog }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'spec-check-'));
  return { dir, loaded: catalogOf({ roots: { flags: '.' }, inline: { flagdRoot: 'flags' } }, dir) };
}

const inlineFlagd = { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' };

describe('spec checks behind the workflows (run as local activities)', () => {
  it('returns the spec with its defaults filled in', async () => {
    const spec = await validateRolloutSpec({ name: 'x', target, steps: [{ exposure: 5 }] }, contextOf());
    expect(spec.rollback.exposure).toBe(0);
    expect(spec.guards).toEqual([]);
  });

  it('fails an invalid spec for good (non-retryable InvalidSpec) with every issue by path', async () => {
    const err = await rejection(
      validateRolloutSpec(
        { name: 'x', target, steps: [{ exposure: 150 }, { approval: { timeout: 'soon' } }] },
        contextOf(),
      ),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidSpec', nonRetryable: true });
    expect(err.message).toMatch(/steps\[0\]\.exposure: must be ≤ 100/);
    expect(err.message).toMatch(/steps\[1\]\.approval\.timeout: must be a duration/);
  });

  it('refuses a spec naming a target the catalog does not declare', async () => {
    const err = await rejection(
      validateRolloutSpec({ name: 'x', target: 'checkout', steps: [{ exposure: 5 }] }, contextOf()),
    );
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidSpec', nonRetryable: true });
    expect(err.message).toBe('invalid rollout spec:\ntarget: target "checkout" is not declared in the catalog');
  });

  it('refuses an inline flagd target when the catalog gives inline targets no root', async () => {
    const err = await rejection(
      validateRolloutSpec({ name: 'x', target: inlineFlagd, steps: [{ exposure: 5 }] }, contextOf()),
    );
    expect(err).toMatchObject({
      type: 'InvalidSpec',
      message: expect.stringMatching(/^invalid rollout spec:\ntarget: inline flagd/),
    });
  });

  it('resolves an inline flagd target under the root the catalog allows for inline targets', async () => {
    const { loaded } = await flagsCatalog();
    const spec = await validateRolloutSpec(
      { name: 'x', target: inlineFlagd, steps: [{ exposure: 5 }] },
      contextOf(loaded),
    );
    expect(spec.target).toEqual({ ...inlineFlagd, root: 'flags' });
  });

  it('refuses a spec whose existing flag lacks its variant, at `target`, leaving the file byte for byte as it was', async () => {
    const { dir, loaded } = await flagsCatalog();
    const file = path.join(dir, 'flags.json');
    // a hand-written file: its own indentation and key order, and a flag that only knows "off" and "blue"
    const before =
      '{\n    "flags": {\n        "new-ranker": {\n            "variants": { "off": false, "blue": true },\n' +
      '            "state": "ENABLED",\n            "defaultVariant": "off"\n        }\n    }\n}\n';
    await writeFile(file, before);

    const err = await rejection(
      validateRolloutSpec({ name: 'x', target: inlineFlagd, steps: [{ exposure: 5 }] }, contextOf(loaded)),
    );

    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'InvalidSpec', nonRetryable: true });
    expect(err.message).toMatch(
      /^invalid rollout spec:\ntarget: flag "new-ranker" in \S*flags\.json has no variant "on"/,
    );
    expect(await readFile(file, 'utf8')).toBe(before);

    // a continued run is a rollout under way: the target's check does not end it (its next apply decides)
    const continued = await validateRolloutSpec(
      { name: 'x', target: inlineFlagd, steps: [{ exposure: 5 }] },
      contextOf(loaded),
      false,
    );
    expect(continued.target).toMatchObject({ type: 'flagd', flag: 'new-ranker' });
  });

  it('leaves an unreachable target to the preflight: the spec is not called invalid, and the check does not retry', async () => {
    const down = new TargetError('flag service unreachable', 'UNAVAILABLE', true);
    const ctx: CheckContext = {
      catalog: EMPTY_CATALOG,
      targetOf: () => ({
        describe: 'down',
        read: () => Promise.reject(down),
        apply: () => Promise.reject(down),
        check: () => Promise.reject(down),
      }),
    };
    const spec = await validateRolloutSpec({ name: 'x', target, steps: [{ exposure: 5 }] }, ctx);
    expect(spec.target).toMatchObject({ type: 'memory' });
  });

  it('builds a drill and its rollout, or fails with InvalidDrillSpec naming the path', async () => {
    const rollout = { name: 'x', target, steps: [{ exposure: 5, observe: '1s' }, { exposure: 100 }] };
    const { drill, spec } = await prepareDrill({ name: 'd', rollout, inject: { atStep: 0 } }, contextOf());
    expect(drill.inject.method).toBe('signal');
    expect(spec.name).toBe('drill-d');
    await expect(prepareDrill({ name: 'd', rollout, inject: { atStep: 1 } }, contextOf())).rejects.toThrow(
      /inject\.atStep: must name an exposure step with an observe window/,
    );
    await expect(prepareDrill({ name: 'D!', rollout, inject: { atStep: 0 } }, contextOf())).rejects.toThrow(
      expect.objectContaining({
        type: 'InvalidDrillSpec',
        message: expect.stringMatching(/^invalid drill spec:\nname: /),
      }),
    );
  });

  it('names a drill’s rollout target problems under `rollout.target`', async () => {
    const rollout = { name: 'x', target: 'checkout', steps: [{ exposure: 5, observe: '1s' }, { exposure: 100 }] };
    const err = await rejection(prepareDrill({ name: 'd', rollout, inject: { atStep: 0 } }, contextOf()));
    expect(err).toMatchObject({ type: 'InvalidDrillSpec', nonRetryable: true });
    expect(err.message).toContain('rollout.target: target "checkout" is not declared in the catalog');
  });
});
