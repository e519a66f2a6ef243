import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FlagdCore } from '@openfeature/flagd-core';
import { describe, expect, it } from 'vitest';
import type { Cohort } from '../../../src/domain/exposure.schema.js';
import { FlagdTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { createFlagdFileTarget } from '../../../activities/targets/flagd/flagd-file-target.js';
import { TargetError } from '../../../activities/targets/port.js';

const OTHER_FLAG = {
  state: 'ENABLED',
  variants: { red: 'red', blue: 'blue' },
  defaultVariant: 'red',
  targeting: { if: [{ '==': [{ var: 'plan' }, 'pro'] }, 'blue', null] },
  metadata: { owner: 'team-colour' },
};

async function flagFile(content?: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flagd-target-'));
  const file = path.join(dir, 'flags.json');
  if (content !== undefined)
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function spec(file: string, overrides: Partial<FlagdTargetSpec> = {}): FlagdTargetSpec {
  return FlagdTargetSpec.parse({
    type: 'flagd',
    path: file,
    flag: 'new-ranker',
    variant: 'on',
    baselineVariant: 'off',
    ...overrides,
  });
}

/** Deterministic pseudo-random targeting keys (mulberry32), so a statistical bound cannot flake between runs. */
function targetingKeys(count: number, seed = 42): string[] {
  let a = seed;
  const next = () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0).toString(36);
  };
  return Array.from({ length: count }, (_, i) => `user-${i}-${next()}${next()}`);
}

/** The real flagd evaluator over the file on disk; any schema complaint flagd-core logs fails the test. */
async function loadCore(file: string): Promise<FlagdCore> {
  const complaints: unknown[] = [];
  const record = (...args: unknown[]) => complaints.push(args);
  const core = new FlagdCore(undefined, { debug: record, info: record, warn: record, error: record });
  core.setConfigurations(await readFile(file, 'utf8'));
  expect(complaints).toEqual([]);
  return core;
}

/** Evaluates every key; returns the keys served the new variant. */
async function keysOnNewVariant(
  file: string,
  keys: string[],
  extra: Record<string, string> = {},
): Promise<Set<string>> {
  const core = await loadCore(file);
  const on = new Set<string>();
  for (const targetingKey of keys) {
    const result = core.resolveBooleanEvaluation('new-ranker', false, { targetingKey, ...extra });
    expect(result.errorCode).toBeUndefined();
    if (result.value) on.add(targetingKey);
  }
  return on;
}

/** The unrelated flag serialized, so key order and every value are compared, not just deep equality. */
const otherFlagOf = async (file: string): Promise<string> =>
  JSON.stringify((JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, unknown> }).flags['other-flag']);

const keys = targetingKeys(10_000);
const share = (on: Set<string>) => (on.size / keys.length) * 100;

describe('flagd file target', () => {
  it('widens 1 → 5 → 25 → 100 with sticky buckets and leaves the other flag alone', async () => {
    const file = await flagFile({
      $schema: 'https://flagd.dev/schema/v0/flags.json',
      flags: { 'other-flag': OTHER_FLAG },
    });
    const target = createFlagdFileTarget(spec(file));

    await target.apply({ percent: 0, idempotencyKey: 'step-0' });
    expect((await keysOnNewVariant(file, keys)).size).toBe(0);

    let previous = new Set<string>();
    for (const percent of [1, 5, 25, 100]) {
      const reading = await target.apply({ percent, idempotencyKey: `step-${percent}` });
      expect(reading).toEqual({ percent, lastKey: `step-${percent}` });

      const on = await keysOnNewVariant(file, keys);
      expect(Math.abs(share(on) - percent)).toBeLessThanOrEqual(1.5);
      const lost = [...previous].filter((key) => !on.has(key));
      expect(lost).toEqual([]);
      expect(await otherFlagOf(file)).toBe(JSON.stringify(OTHER_FLAG));
      previous = on;
    }

    await target.apply({ percent: 0, idempotencyKey: 'rollback' });
    expect((await keysOnNewVariant(file, keys)).size).toBe(0);
    const doc = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    expect(Object.keys(doc)).toEqual(['$schema', 'flags']);
  });

  it('honours a fractional step: 0.5 % lands within 0.3 points', async () => {
    const file = await flagFile();
    await createFlagdFileTarget(spec(file)).apply({ percent: 0.5, idempotencyKey: 'half' });
    expect(Math.abs(share(await keysOnNewVariant(file, keys)) - 0.5)).toBeLessThanOrEqual(0.3);
  });

  it('exposes only the cohort: eu-west all on at 100 %, us-east all off', async () => {
    const file = await flagFile();
    const cohort: Cohort = { attribute: 'region', values: ['eu-west'] };
    const reading = await createFlagdFileTarget(spec(file)).apply({ percent: 100, cohort, idempotencyKey: 'eu' });
    expect(reading).toEqual({ percent: 100, cohort, lastKey: 'eu' });

    const sample = keys.slice(0, 2_000);
    expect((await keysOnNewVariant(file, sample, { region: 'eu-west' })).size).toBe(sample.length);
    expect((await keysOnNewVariant(file, sample, { region: 'us-east' })).size).toBe(0);
    expect((await keysOnNewVariant(file, sample)).size).toBe(0);
  });

  it('splits inside the cohort at a partial percent', async () => {
    const file = await flagFile();
    const cohort: Cohort = { attribute: 'region', values: ['eu-west', 'eu-north'] };
    await createFlagdFileTarget(spec(file)).apply({ percent: 25, cohort, idempotencyKey: 'eu-25' });
    expect(Math.abs(share(await keysOnNewVariant(file, keys, { region: 'eu-north' })) - 25)).toBeLessThanOrEqual(1.5);
    expect((await keysOnNewVariant(file, keys, { region: 'us-east' })).size).toBe(0);
  });

  it('creates string variants for names that are not boolean-ish', async () => {
    const file = await flagFile();
    await createFlagdFileTarget(spec(file, { variant: 'v2', baselineVariant: 'v1' })).apply({
      percent: 100,
      idempotencyKey: 'k',
    });
    const core = await loadCore(file);
    expect(core.resolveStringEvaluation('new-ranker', 'x', { targetingKey: 'a' }).value).toBe('v2');
  });

  it('refuses an existing flag that lacks a variant, without writing', async () => {
    const flag = { state: 'ENABLED', variants: { on: true, legacy: false }, defaultVariant: 'legacy' };
    const file = await flagFile({ flags: { 'new-ranker': flag } });
    const before = await readFile(file, 'utf8');
    const error = await createFlagdFileTarget(spec(file))
      .apply({ percent: 5, idempotencyKey: 'k' })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect((error as Error).message).toContain('"off"');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it.each([
    ['not JSON', '{ "flags": { oops', 'not valid JSON'],
    ['JSON but not a flag file', '[1, 2, 3]', 'not a flagd flag definition'],
    ['a broken target flag', JSON.stringify({ flags: { 'new-ranker': { state: 'MAYBE' } } }), 'flag "new-ranker"'],
  ])('rejects %s as UNPARSABLE and never overwrites it', async (_label, content, problem) => {
    const file = await flagFile(content);
    const error = await createFlagdFileTarget(spec(file))
      .apply({ percent: 5, idempotencyKey: 'k' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ code: 'UNPARSABLE', retryable: false });
    expect((error as Error).message).toContain(file);
    expect((error as Error).message).toContain(problem);
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('reports a missing directory as NOT_FOUND, naming it', async () => {
    const dir = path.join(await mkdtemp(path.join(tmpdir(), 'flagd-target-')), 'no-such-dir');
    const target = createFlagdFileTarget(spec(path.join(dir, 'flags.json')));
    const error = await target.apply({ percent: 5, idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: true });
    expect((error as Error).message).toContain(dir);
    expect((error as Error).message).toMatch(/create it/);
  });

  it('reads back percent, cohort and lastKey, and 0 for a missing file', async () => {
    const file = await flagFile();
    const target = createFlagdFileTarget(spec(file));
    expect(await target.read()).toEqual({ percent: 0 });

    const cohort: Cohort = { attribute: 'tenant.tier', values: ['gold', 'silver'] };
    await target.apply({ percent: 12.5, cohort, idempotencyKey: 'step-2' });
    expect(await target.read()).toEqual({ percent: 12.5, cohort, lastKey: 'step-2' });
    await target.apply({ percent: 0, cohort, idempotencyKey: 'step-3' });
    expect(await target.read()).toEqual({ percent: 0, cohort, lastKey: 'step-3' });
  });

  it('derives the exposure from targeting a human wrote, and trusts the targeting over stale metadata', async () => {
    const flag = {
      state: 'ENABLED',
      variants: { on: true, off: false },
      defaultVariant: 'off',
      targeting: {
        fractional: [
          ['on', 30],
          ['off', 70],
        ],
      },
      metadata: { rolloutPercent: 5, rolloutLastKey: 'old' },
    };
    const file = await flagFile({ flags: { 'new-ranker': flag } });
    expect(await createFlagdFileTarget(spec(file)).read()).toEqual({ percent: 30 });
  });

  it('resolves a relative path against baseDir and does not rewrite an unchanged flag', async () => {
    const file = await flagFile();
    const target = createFlagdFileTarget(spec('flags.json'), { baseDir: path.dirname(file) });
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    const first = await readFile(file, 'utf8');
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    expect(await readFile(file, 'utf8')).toBe(first);
    expect(await createFlagdFileTarget(spec(file)).read()).toEqual({ percent: 5, lastKey: 'k' });
  });

  it('keeps both flags when two applies to one file run concurrently', async () => {
    const file = await flagFile({ flags: { 'other-flag': OTHER_FLAG } });
    const a = createFlagdFileTarget(spec(file, { flag: 'flag-a' }));
    const b = createFlagdFileTarget(spec(file, { flag: 'flag-b' }));
    await Promise.all([
      a.apply({ percent: 10, idempotencyKey: 'a' }),
      b.apply({ percent: 20, idempotencyKey: 'b' }),
      a.apply({ percent: 30, idempotencyKey: 'a2' }),
    ]);
    expect(await a.read()).toEqual({ percent: 30, lastKey: 'a2' });
    expect(await b.read()).toEqual({ percent: 20, lastKey: 'b' });
    expect(await otherFlagOf(file)).toBe(JSON.stringify(OTHER_FLAG));
  });
});
