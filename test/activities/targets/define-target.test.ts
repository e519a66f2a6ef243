import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createActivities } from '../../../activities/index.js';
import {
  BUILT_IN_TARGETS,
  createTarget,
  defineTarget,
  MemoryTargetRegistry,
  targetRegistry,
  TargetError,
  type ExposureTarget,
} from '../../../activities/targets/index.js';
import { catalogOf } from '../../../src/catalog/load.js';
import { checkCatalog } from '../../../src/domain/catalog.js';
import { ExtensionTargetSpec, TargetSpec } from '../../../src/domain/target-spec.schema.js';
import { ValidationError } from '../../../src/errors.js';
import { createLogger } from '../../../src/logger.js';

/** A target kind of a test's own: exposure kept in a map, keyed by the `bucket` its settings name. */
function bucketKind(state = new Map<string, number>()) {
  return defineTarget({
    kind: 'bucket',
    settings: z.object({ bucket: z.string().min(1), token: z.string().optional() }).strict(),
    create: ({ flag, settings }, ctx): ExposureTarget => ({
      describe: `bucket:${settings.bucket}#${flag}`,
      read: async () => ({ percent: state.get(`${settings.bucket}/${flag}`) ?? 0 }),
      apply: async ({ percent }) => {
        if (settings.token !== undefined) await ctx.secret(settings.token);
        state.set(`${settings.bucket}/${flag}`, percent);
        return { percent };
      },
    }),
  });
}

const extension = (settings: Record<string, unknown>, kind = 'bucket') =>
  TargetSpec.parse({ type: 'extension', kind, flag: 'checkout', variant: 'on', baselineVariant: 'off', settings });
const ctx = { memory: new MemoryTargetRegistry(), rootDir: () => undefined };

describe('defineTarget: target kinds a worker registers beside the built-ins', () => {
  it('creates a registered kind from a catalog extension entry, its settings validated and typed', async () => {
    const state = new Map<string, number>();
    const registry = targetRegistry([bucketKind(state)]);
    const target = createTarget(extension({ bucket: 'eu' }), { ...ctx, registry });

    expect(target.describe).toBe('bucket:eu#checkout');
    await target.apply({ percent: 25, idempotencyKey: 'k1' });
    expect(await target.read()).toEqual({ percent: 25 });
    expect(state.get('eu/checkout')).toBe(25);
  });

  it('registers the built-in kinds through the same path', () => {
    expect(BUILT_IN_TARGETS.map((d) => d.kind)).toEqual(expect.arrayContaining(['flagd', 'http', 'memory']));
    expect(targetRegistry([bucketKind()]).kinds).toEqual([...BUILT_IN_TARGETS.map((d) => d.kind), 'bucket']);
  });

  it('fails every call of an unregistered kind with a retryable CONFIG error naming the known kinds', async () => {
    const target = createTarget(extension({ bucket: 'eu' }, 'unknown-kind'), { ...ctx, registry: targetRegistry() });
    const err = await target.read().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TargetError);
    expect(err).toMatchObject({ code: 'CONFIG', retryable: true });
    expect((err as Error).message).toMatch(/target kind "unknown-kind" is not registered .*known: flagd, http/);
  });

  it('fails a kind whose settings are invalid with the schema’s own message, and passes the secret lookup on', async () => {
    const registry = targetRegistry([bucketKind()]);
    const bad = createTarget(extension({ bucket: '' }), { ...ctx, registry });
    await expect(bad.apply({ percent: 1, idempotencyKey: 'k' })).rejects.toThrow(/invalid settings:[\s\S]*bucket/);

    const asked: string[] = [];
    const withToken = createTarget(extension({ bucket: 'eu', token: 'bucket-token' }), {
      ...ctx,
      registry,
      secret: async (name) => {
        asked.push(name);
        return 's3cret';
      },
    });
    await withToken.apply({ percent: 5, idempotencyKey: 'k' });
    expect(asked).toEqual(['bucket-token']);
  });

  it('keeps a target written as a class working (private fields), and refuses a shadow share it does not declare', async () => {
    class Vault implements ExposureTarget {
      readonly describe = 'vault';
      #percent = 0;
      read() {
        return Promise.resolve({ percent: this.#percent });
      }
      apply(change: { percent: number }) {
        this.#percent = change.percent;
        return this.read();
      }
      check() {
        return this.#percent >= 0 ? Promise.resolve() : Promise.reject(new Error('negative'));
      }
    }
    const kind = defineTarget({ kind: 'vault', settings: z.object({}), create: () => new Vault() });
    const target = createTarget(extension({}, 'vault'), { ...ctx, registry: targetRegistry([kind]) });
    await target.apply({ percent: 7, idempotencyKey: 'k' });
    expect(await target.read()).toEqual({ percent: 7 });
    await expect(target.check?.()).resolves.toBeUndefined();
    await expect(target.apply({ percent: 7, shadow: 5, idempotencyKey: 's' })).rejects.toMatchObject({
      code: 'REFUSED',
      retryable: false,
      message: 'vault: this target has no shadow exposure (a shadow step)',
    });
    expect(await target.read()).toEqual({ percent: 7 });
  });

  it('refuses a second definition of a kind, and a kind name that could not appear in a catalog', () => {
    expect(() => targetRegistry([bucketKind(), bucketKind()])).toThrow(/"bucket" is already registered/);
    expect(() => targetRegistry([{ ...bucketKind(), kind: 'flagd' }])).toThrow(/"flagd" is already registered/);
    expect(() => targetRegistry([{ ...bucketKind(), kind: 'Not A Kind' }])).toThrow(/must match/);
    expect(() => defineTarget({ kind: 'Has Spaces', settings: z.object({}), create: () => ({}) as never })).toThrow(
      /must match/,
    );
  });

  it('bounds an extension entry: a kind name, and settings of at most 8 KB', () => {
    const base = { type: 'extension', flag: 'f', variant: 'on', baselineVariant: 'off' };
    expect(ExtensionTargetSpec.safeParse({ ...base, kind: '../evil' }).success).toBe(false);
    const builtIn = ExtensionTargetSpec.safeParse({ ...base, kind: 'unleash', settings: { url: 'http://x' } });
    expect(z.prettifyError(builtIn.error!)).toContain('names a built-in kind');
    const big = ExtensionTargetSpec.safeParse({ ...base, kind: 'bucket', settings: { blob: 'x'.repeat(9_000) } });
    expect(big.success).toBe(false);
    expect(z.prettifyError(big.error!)).toContain('at most 8 KB');
    expect(ExtensionTargetSpec.parse({ ...base, kind: 'bucket' }).settings).toEqual({});
  });

  it('refuses a catalog whose extension entries this worker cannot serve, naming each by path, before it runs', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'define-target-'));
    const catalog = catalogOf(
      {
        targets: {
          shop: { type: 'extension', kind: 'bucket', flag: 'a', variant: 'on', baselineVariant: 'off', settings: {} },
          other: { type: 'extension', kind: 'nowhere', flag: 'b', variant: 'on', baselineVariant: 'off' },
        },
      },
      dir,
    );
    const build = () =>
      createActivities({ logger: createLogger({ level: 'silent' }), catalog, targets: [bucketKind()] });
    let err: unknown;
    try {
      build();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues).toEqual([
      { path: 'targets.shop.settings.bucket', message: expect.stringContaining('expected string') as unknown },
      { path: 'targets.other.kind', message: expect.stringContaining('no target kind "nowhere"') as unknown },
    ]);
  });

  it('declares the secrets of Unleash and LaunchDarkly tokens: a token the catalog does not declare is refused', () => {
    const result = checkCatalog({
      targets: {
        u: {
          type: 'unleash',
          url: 'https://unleash.example/api',
          token: 'nope',
          flag: 'f',
          variant: 'on',
          baselineVariant: 'off',
        },
      },
    });
    expect(result).toMatchObject({
      ok: false,
      issues: [{ path: 'targets.u.token', message: 'names secret "nope", which is not declared' }],
    });
  });
});
