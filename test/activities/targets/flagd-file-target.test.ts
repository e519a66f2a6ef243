import { mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
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

/** A fresh base directory holding `flags.json` (with `content` when given); specs name the file relative to it. */
async function flagFile(content?: unknown): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'flagd-target-'));
  const file = path.join(dir, 'flags.json');
  if (content !== undefined)
    await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

function spec(overrides: Partial<FlagdTargetSpec> = {}): FlagdTargetSpec {
  return FlagdTargetSpec.parse({
    type: 'flagd',
    path: 'flags.json',
    flag: 'new-ranker',
    variant: 'on',
    baselineVariant: 'off',
    ...overrides,
  });
}

/** The target over `flags.json` beside `file`: its directory is the base directory. */
const targetOn = (file: string, overrides: Partial<FlagdTargetSpec> = {}) =>
  createFlagdFileTarget(spec(overrides), { baseDir: path.dirname(file) });

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
    const target = targetOn(file);

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
    await targetOn(file).apply({ percent: 0.5, idempotencyKey: 'half' });
    expect(Math.abs(share(await keysOnNewVariant(file, keys)) - 0.5)).toBeLessThanOrEqual(0.3);
  });

  it('exposes only the cohort: eu-west all on at 100 %, us-east all off', async () => {
    const file = await flagFile();
    const cohort: Cohort = { attribute: 'region', values: ['eu-west'] };
    const reading = await targetOn(file).apply({ percent: 100, cohort, idempotencyKey: 'eu' });
    expect(reading).toEqual({ percent: 100, cohort, lastKey: 'eu' });

    const sample = keys.slice(0, 2_000);
    expect((await keysOnNewVariant(file, sample, { region: 'eu-west' })).size).toBe(sample.length);
    expect((await keysOnNewVariant(file, sample, { region: 'us-east' })).size).toBe(0);
    expect((await keysOnNewVariant(file, sample)).size).toBe(0);
  });

  it('splits inside the cohort at a partial percent', async () => {
    const file = await flagFile();
    const cohort: Cohort = { attribute: 'region', values: ['eu-west', 'eu-north'] };
    await targetOn(file).apply({ percent: 25, cohort, idempotencyKey: 'eu-25' });
    expect(Math.abs(share(await keysOnNewVariant(file, keys, { region: 'eu-north' })) - 25)).toBeLessThanOrEqual(1.5);
    expect((await keysOnNewVariant(file, keys, { region: 'us-east' })).size).toBe(0);
  });

  it('creates string variants for names that are not boolean-ish', async () => {
    const file = await flagFile();
    await targetOn(file, { variant: 'v2', baselineVariant: 'v1' }).apply({
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
    const error = await targetOn(file)
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
    const error = await targetOn(file)
      .apply({ percent: 5, idempotencyKey: 'k' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ code: 'UNPARSABLE', retryable: false });
    expect((error as Error).message).toContain('flag file flags.json ');
    expect((error as Error).message).not.toContain(path.dirname(file));
    expect((error as Error).message).toContain(problem);
    expect(await readFile(file, 'utf8')).toBe(content);
  });

  it('reports a missing directory as NOT_FOUND, naming it relative to the base directory', async () => {
    const baseDir = await mkdtemp(path.join(tmpdir(), 'flagd-target-'));
    const target = createFlagdFileTarget(spec({ path: 'no-such-dir/flags.json' }), { baseDir });
    const error = await target.apply({ percent: 5, idempotencyKey: 'k' }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NOT_FOUND', retryable: true });
    expect((error as Error).message).toMatch(/^directory no-such-dir does not exist/);
    expect((error as Error).message).not.toContain(baseDir);
    expect((error as Error).message).toMatch(/create it/);
  });

  it('reads back percent, cohort and lastKey, and 0 for a missing file', async () => {
    const file = await flagFile();
    const target = targetOn(file);
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
    expect(await targetOn(file).read()).toEqual({ percent: 30 });
  });

  it('resolves a relative path against baseDir and does not rewrite an unchanged flag', async () => {
    const file = await flagFile();
    const target = createFlagdFileTarget(spec({ path: './flags.json' }), { baseDir: path.dirname(file) });
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    const first = await readFile(file, 'utf8');
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    expect(await readFile(file, 'utf8')).toBe(first);
    expect(await targetOn(file).read()).toEqual({ percent: 5, lastKey: 'k' });
  });

  it('keeps both flags when two applies to one file run concurrently', async () => {
    const file = await flagFile({ flags: { 'other-flag': OTHER_FLAG } });
    const a = targetOn(file, { flag: 'flag-a' });
    const b = targetOn(file, { flag: 'flag-b' });
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

/** A base directory beside a sibling `outside` directory: where an escaping path would land. */
async function baseAndOutside(): Promise<{ base: string; outside: string }> {
  const parent = await mkdtemp(path.join(tmpdir(), 'flagd-confine-'));
  const base = path.join(parent, 'base');
  const outside = path.join(parent, 'outside');
  await mkdir(base);
  await mkdir(outside);
  return { base, outside };
}

/** A spec the schema would refuse, as a worker gets it from a caller that skipped validation. */
const unchecked = (overrides: Record<string, unknown>) => ({ ...spec(), ...overrides }) as FlagdTargetSpec;

const errorOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a TargetError'),
    (e: unknown) => e as TargetError,
  );

describe('flagd file target: confinement to the base directory', () => {
  it.each([
    ['a ".." segment', (outside: string) => `../${path.basename(outside)}/x.json`],
    ['an absolute path', (outside: string) => path.join(outside, 'x.json')],
    ['".." in the middle', (outside: string) => `sub/../../${path.basename(outside)}/x.json`],
  ])('refuses %s (REFUSED, non-retryable) and creates nothing', async (_label, pathFor) => {
    const { base, outside } = await baseAndOutside();
    await mkdir(path.join(base, 'sub'));
    const target = createFlagdFileTarget(unchecked({ path: pathFor(outside) }), { baseDir: base });
    for (const error of [
      await errorOf(target.apply({ percent: 5, idempotencyKey: 'k' })),
      await errorOf(target.read()),
    ]) {
      expect(error).toBeInstanceOf(TargetError);
      expect(error).toMatchObject({ code: 'REFUSED', retryable: false });
      expect(error.message).toMatch(/path/);
    }
    expect(await readdir(outside)).toEqual([]);
  });

  it('refuses /etc/passwd without reading it: nothing of the file appears in the error', async () => {
    const { base } = await baseAndOutside();
    const error = await errorOf(
      createFlagdFileTarget(unchecked({ path: '/etc/passwd' }), { baseDir: base }).apply({
        percent: 0,
        idempotencyKey: 'k',
      }),
    );
    expect(error).toMatchObject({ code: 'REFUSED', retryable: false });
    expect(error.message).not.toMatch(/root:|\/bin\//);
  });

  it('refuses a symlinked directory or file that points outside, and writes nothing there', async () => {
    const { base, outside } = await baseAndOutside();
    const victim = path.join(outside, 'victim.json');
    const content = JSON.stringify({ flags: {} });
    await writeFile(victim, content);
    await symlink(outside, path.join(base, 'linked-dir'));
    await symlink(victim, path.join(base, 'flags.json'));

    for (const relative of ['linked-dir/new.json', 'linked-dir/victim.json', 'flags.json']) {
      const target = createFlagdFileTarget(spec({ path: relative }), { baseDir: base });
      const error = await errorOf(target.apply({ percent: 5, idempotencyKey: 'k' }));
      expect(error, relative).toMatchObject({ code: 'REFUSED', retryable: false });
      expect(error.message).toMatch(/symbolic link/);
      expect(error.message).not.toContain(outside);
    }
    expect(await readdir(outside)).toEqual(['victim.json']);
    expect(await readFile(victim, 'utf8')).toBe(content);
  });

  it('refuses a dangling symlink, file or directory, instead of creating its target', async () => {
    const { base, outside } = await baseAndOutside();
    await symlink(path.join(outside, 'new.json'), path.join(base, 'flags.json'));
    await symlink(path.join(outside, 'new-dir'), path.join(base, 'dir-link'));
    for (const relative of ['flags.json', 'dir-link/flags.json']) {
      const target = createFlagdFileTarget(spec({ path: relative }), { baseDir: base });
      const error = await errorOf(target.apply({ percent: 5, idempotencyKey: 'k' }));
      expect(error, relative).toMatchObject({ code: 'REFUSED', retryable: false });
      expect(error.message).toMatch(/symbolic link/);
    }
    expect(await readdir(outside)).toEqual([]);
  });

  it('follows symlinks that stay inside: a "current" directory link and a file link are written through', async () => {
    const { base } = await baseAndOutside();
    await mkdir(path.join(base, 'releases', 'v1'), { recursive: true });
    await symlink(path.join(base, 'releases', 'v1'), path.join(base, 'current'));
    await writeFile(path.join(base, 'real.json'), JSON.stringify({ flags: { 'other-flag': OTHER_FLAG } }));
    await symlink('real.json', path.join(base, 'flags.json'));

    const viaDir = createFlagdFileTarget(spec({ path: 'current/flags.json' }), { baseDir: base });
    expect(await viaDir.apply({ percent: 5, idempotencyKey: 'a' })).toEqual({ percent: 5, lastKey: 'a' });
    expect(await readdir(path.join(base, 'releases', 'v1'))).toEqual(['flags.json']);

    const viaFile = createFlagdFileTarget(spec(), { baseDir: base });
    await viaFile.apply({ percent: 10, idempotencyKey: 'b' });
    expect(await otherFlagOf(path.join(base, 'real.json'))).toBe(JSON.stringify(OTHER_FLAG));
    expect(await viaFile.read()).toEqual({ percent: 10, lastKey: 'b' });
  });

  it('says "not valid JSON" for a non-JSON file, naming it relative to the base directory and quoting none of it', async () => {
    const { base } = await baseAndOutside();
    const passwd = 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n';
    await mkdir(path.join(base, 'etc'));
    await writeFile(path.join(base, 'etc', 'passwd'), passwd);
    const target = createFlagdFileTarget(spec({ path: 'etc/passwd' }), { baseDir: base });
    for (const error of [
      await errorOf(target.apply({ percent: 0, idempotencyKey: 'k' })),
      await errorOf(target.read()),
    ]) {
      expect(error).toMatchObject({ code: 'UNPARSABLE', retryable: false });
      expect(error.message).toMatch(/^flag file etc\/passwd is not valid JSON; /);
      expect(error.message).not.toMatch(/root|daemon|bin|x:0/);
      expect(error.message).not.toContain(base);
    }
    expect(await readFile(path.join(base, 'etc', 'passwd'), 'utf8')).toBe(passwd);
  });

  it('quotes no value from a JSON file of the wrong shape or a flag with targeting it cannot read', async () => {
    const secret = 'hunter2-secret-value';
    for (const content of [
      { flags: secret },
      { flags: { 'new-ranker': { state: secret, variants: { on: true, off: false } } } },
      { flags: { 'new-ranker': { state: 'ENABLED', variants: { on: true, off: false }, targeting: { [secret]: 1 } } } },
    ]) {
      const file = await flagFile(content);
      const error = await errorOf(targetOn(file).read());
      expect(error).toMatchObject({ code: 'UNPARSABLE' });
      expect(error.message).not.toContain(secret);
    }
  });
});

describe('flagd file target: names that are Object.prototype keys', () => {
  it.each([
    ['variant', { variant: '__proto__' }],
    ['baselineVariant', { baselineVariant: 'constructor' }],
    ['flag', { flag: 'constructor' }],
    ['flag', { flag: '__proto__' }],
    ['variant', { variant: 'prototype' }],
  ])('refuses a reserved %s (%j) before touching the file', async (field, overrides) => {
    const file = await flagFile({ flags: { 'other-flag': OTHER_FLAG } });
    const before = await readFile(file, 'utf8');
    const error = await errorOf(
      createFlagdFileTarget(unchecked(overrides), { baseDir: path.dirname(file) }).apply({
        percent: 10,
        idempotencyKey: 'k',
      }),
    );
    expect(error).toMatchObject({ code: 'REFUSED', retryable: false });
    expect(error.message).toContain(`${field}: `);
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('rolls out a flag named toString in a file with other flags, and back', async () => {
    const file = await flagFile({ flags: { 'other-flag': OTHER_FLAG } });
    const target = targetOn(file, { flag: 'toString' });
    expect(await target.read()).toEqual({ percent: 0 });
    expect(await target.apply({ percent: 25, idempotencyKey: 'up' })).toEqual({ percent: 25, lastKey: 'up' });
    expect(await target.apply({ percent: 0, idempotencyKey: 'down' })).toEqual({ percent: 0, lastKey: 'down' });
    const doc = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, unknown> };
    expect(Object.keys(doc.flags)).toEqual(['other-flag', 'toString']);
    expect(await otherFlagOf(file)).toBe(JSON.stringify(OTHER_FLAG));
  });

  it('serves variants named toString and valueOf through flagd', async () => {
    const file = await flagFile();
    const target = targetOn(file, { variant: 'toString', baselineVariant: 'valueOf' });
    await target.apply({ percent: 100, idempotencyKey: 'all' });
    expect(await target.read()).toEqual({ percent: 100, lastKey: 'all' });
    const core = await loadCore(file);
    expect(core.resolveStringEvaluation('new-ranker', 'x', { targetingKey: 'a' }).value).toBe('toString');
  });

  it('keeps "__proto__" keys another team wrote, as data, and pollutes no prototype', async () => {
    const content =
      '{"flags":{"__proto__":{"state":"ENABLED","variants":{"a":1},"defaultVariant":"a","polluted":true},' +
      '"new-ranker":{"state":"ENABLED","variants":{"on":true,"off":false,"__proto__":{"polluted":true}},' +
      '"defaultVariant":"off"}}}';
    const file = await flagFile(content);
    const target = targetOn(file);
    await target.apply({ percent: 30, idempotencyKey: 'k' });
    await target.apply({ percent: 40, idempotencyKey: 'k2' });
    expect(await target.read()).toEqual({ percent: 40, lastKey: 'k2' });
    const text = await readFile(file, 'utf8');
    expect(text).toContain('"__proto__": {\n      "state": "ENABLED"');
    const parsed = JSON.parse(text) as { flags: Record<string, { variants: Record<string, unknown> }> };
    expect(Object.keys(parsed.flags)).toEqual(['__proto__', 'new-ranker']);
    expect(Object.keys(parsed.flags['new-ranker']!.variants)).toEqual(['on', 'off', '__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('flagd file target: variants an existing flag lacks', () => {
  const flagWith = (variants: Record<string, unknown>, defaultVariant: string) => ({
    flags: { 'other-flag': OTHER_FLAG, 'new-ranker': { state: 'ENABLED', variants, defaultVariant } },
  });

  it('refuses the rolled-out variant before writing, naming flag and variant and none of the others', async () => {
    const file = await flagFile(flagWith({ legacy: true, off: false }, 'off'));
    const before = await readFile(file, 'utf8');
    const error = await errorOf(targetOn(file).apply({ percent: 1, idempotencyKey: 'step-0' }));
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toMatch(/^flag "new-ranker" in flags\.json has no variant "on"; /);
    expect(error.message).not.toContain('legacy');
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('still restores 0 % afterwards: only the baseline is written, and flagd serves what it served', async () => {
    const file = await flagFile(flagWith({ legacy: true, off: false }, 'off'));
    const target = targetOn(file);
    await errorOf(target.apply({ percent: 1, idempotencyKey: 'step-0' }));
    expect(await target.apply({ percent: 0, idempotencyKey: 'rollback' })).toEqual({ percent: 0, lastKey: 'rollback' });
    expect(await target.read()).toEqual({ percent: 0, lastKey: 'rollback' });
    const doc = JSON.parse(await readFile(file, 'utf8')) as { flags: Record<string, Record<string, unknown>> };
    expect(doc.flags['new-ranker']).toMatchObject({ variants: { legacy: true, off: false }, defaultVariant: 'off' });
    expect(await otherFlagOf(file)).toBe(JSON.stringify(OTHER_FLAG));
    const core = await loadCore(file);
    expect(core.resolveBooleanEvaluation('new-ranker', true, { targetingKey: 'a' }).value).toBe(false);
  });

  it('refuses a missing baseline at any percent above 0, and at 0 % leaves a flag that serves nobody untouched', async () => {
    const file = await flagFile(flagWith({ on: true, legacy: false }, 'legacy'));
    const before = await readFile(file, 'utf8');
    const target = targetOn(file);
    const error = await errorOf(target.apply({ percent: 100, idempotencyKey: 'all' }));
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toContain('has no variant "off"');
    expect(await target.apply({ percent: 0, idempotencyKey: 'rollback' })).toEqual({ percent: 0 });
    expect(await readFile(file, 'utf8')).toBe(before);
  });

  it('refuses 0 % without the baseline when the flag serves the variant: there is nothing to restore to', async () => {
    const file = await flagFile(flagWith({ on: true, legacy: false }, 'on'));
    const before = await readFile(file, 'utf8');
    const error = await errorOf(targetOn(file).apply({ percent: 0, idempotencyKey: 'rollback' }));
    expect(error).toMatchObject({ code: 'CONFIG', retryable: false });
    expect(error.message).toContain('has no variant "off"');
    expect(await readFile(file, 'utf8')).toBe(before);
  });
});

describe('flagd file target: shadow steps through a companion flag', () => {
  const shadowShare = async (file: string) => {
    const core = await loadCore(file);
    const on = keys.filter(
      (targetingKey) => core.resolveBooleanEvaluation('new-ranker-shadow', false, { targetingKey }).value,
    );
    return (on.length / keys.length) * 100;
  };

  it('writes a marked companion for the shadow share, reads it back, and sets it to 0 % at the next live change', async () => {
    const file = await flagFile({ flags: { 'other-flag': OTHER_FLAG } });
    const target = targetOn(file);

    expect(await target.apply({ percent: 0, shadow: 20, idempotencyKey: 'shadow' })).toMatchObject({
      percent: 0,
      shadow: 20,
    });
    expect(await target.read()).toMatchObject({ percent: 0, shadow: 20 });
    const share = await shadowShare(file);
    expect(share).toBeGreaterThan(18);
    expect(share).toBeLessThan(22);
    expect((await keysOnNewVariant(file, keys)).size).toBe(0);

    expect(await target.apply({ percent: 5, idempotencyKey: 'live' })).toEqual({ percent: 5, lastKey: 'live' });
    expect(await shadowShare(file)).toBe(0);
    expect(await otherFlagOf(file)).toBe(JSON.stringify(OTHER_FLAG));
  });

  it('leaves a flag of the companion’s name it did not write alone, and refuses to take it over', async () => {
    const foreign = {
      state: 'ENABLED',
      variants: { a: 'a', b: 'b' },
      defaultVariant: 'a',
      targeting: { if: [{ '==': [{ var: 'plan' }, 'gold'] }, 'b', 'a'] },
    };
    const file = await flagFile({ flags: { 'new-ranker-shadow': foreign } });
    const target = targetOn(file);

    await target.apply({ percent: 10, idempotencyKey: 'live' });
    expect(await target.read()).toEqual({ percent: 10, lastKey: 'live' });
    const kept = () => readFile(file, 'utf8').then((t) => (JSON.parse(t) as { flags: Record<string, unknown> }).flags);
    expect((await kept())['new-ranker-shadow']).toEqual(foreign);

    const error = (await target
      .apply({ percent: 10, shadow: 5, idempotencyKey: 'shadow' })
      .catch((e: unknown) => e)) as TargetError;
    expect(error).toBeInstanceOf(TargetError);
    expect(error).toMatchObject({ code: 'REFUSED', retryable: false });
    expect(error.message).toContain('"new-ranker-shadow"');
    expect((await kept())['new-ranker-shadow']).toEqual(foreign);
  });
});
