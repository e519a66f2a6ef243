import { z } from 'zod';
import { MAX_PATH } from './bounds.js';
import { CatalogName, Headers, HttpAuth, HttpUrl } from './common.schema.js';

/**
 * Names a target must not use for a flag or a variant: the flag file's flags and variants are JSON object keys, and
 * these three reach or shadow `Object.prototype` in code that indexes plain objects.
 */
const RESERVED_NAMES: readonly string[] = ['__proto__', 'constructor', 'prototype'];
const notReserved = (v: string) => !RESERVED_NAMES.includes(v);
const reserved = (what: string) =>
  `${RESERVED_NAMES.map((n) => `"${n}"`).join(', ')} are reserved and cannot name a ${what}`;

/** Flag keys, variant names and memory target names: keys in a flag file or a flag service. */
const MAX_KEY = 200;
const atMost = (max: number) => `must be at most ${max} characters`;

const FlagName = z
  .string()
  .min(1)
  .max(MAX_KEY, atMost(MAX_KEY))
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a flag key ([A-Za-z0-9_.-], starting with a letter or digit)')
  .refine(notReserved, reserved('flag'));
const Variant = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_KEY, atMost(MAX_KEY))
  .refine(notReserved, reserved('variant'));

const segments = (p: string) => p.split(/[\\/]/);

/**
 * A flag file named relative to the worker's base directory. A spec comes from other services, so a path that could
 * leave that directory is refused here; the target checks again at run time, symlinks included.
 */
export const FlagdPath = z
  .string()
  .min(1, 'must name the flag file')
  .max(MAX_PATH, atMost(MAX_PATH))
  .refine((p) => !p.includes('\0'), 'must not contain a NUL character')
  .refine((p) => !/^([\\/]|[A-Za-z]:)/.test(p), "must be relative to the worker's base directory, not absolute")
  .refine(
    (p) => !segments(p).includes('..'),
    'must not contain ".." segments: the file must lie under the base directory',
  );

const Common = {
  flag: FlagName,
  variant: Variant,
  baselineVariant: Variant,
};

const FlagdShape = { type: z.literal('flagd'), path: FlagdPath, ...Common };
const HttpShape = {
  type: z.literal('http'),
  url: HttpUrl,
  method: z.enum(['PUT', 'POST']).default('PUT'),
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  ...Common,
};

/**
 * A flag in an OpenFeature flagd flag-definition file, under one of the catalog's `roots` (by name; absent in runs
 * recorded before the catalog: the worker's base directory).
 */
export const FlagdTargetSpec = z.object({ ...FlagdShape, root: CatalogName.optional() }).strict();
export type FlagdTargetSpec = z.infer<typeof FlagdTargetSpec>;

/** A flag service reached over HTTP: PUT/POST `{ flag, variant, percent, cohort }`, GET to read back. */
export const HttpTargetSpec = z
  .object({ ...HttpShape, auth: HttpAuth.optional(), headers: Headers.optional() })
  .strict();
export type HttpTargetSpec = z.infer<typeof HttpTargetSpec>;

const ServiceShape = {
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
  ...Common,
};
/** A project, environment or stickiness key of a flag service. */
const ServiceKey = z
  .string()
  .min(1)
  .max(MAX_KEY, atMost(MAX_KEY))
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a key ([A-Za-z0-9_.-], starting with a letter or digit)');

/**
 * A flag in Unleash, driven through its Admin API: the target keeps one flexible rollout strategy (its `rollout`
 * percentage, `stickiness` and `groupId`) on the flag in `environment`, with `variant` as the strategy's variant.
 * `token` names the catalog secret holding an admin or personal access token. Unleash takes whole percentages.
 */
export const UnleashTargetSpec = z
  .object({
    type: z.literal('unleash'),
    url: HttpUrl,
    token: CatalogName,
    project: ServiceKey.default('default'),
    environment: ServiceKey.default('development'),
    stickiness: ServiceKey.default('default'),
    groupId: ServiceKey.optional(),
    ...ServiceShape,
  })
  .strict();
export type UnleashTargetSpec = z.infer<typeof UnleashTargetSpec>;

/**
 * A flag in LaunchDarkly, driven through its REST API (semantic patch of the environment's fallthrough rollout
 * weights). `variant` and `baselineVariant` name two of the flag's variations (by name, else by string value).
 * `token` names the catalog secret holding an API access token; `url` defaults to LaunchDarkly's own.
 */
export const LaunchDarklyTargetSpec = z
  .object({
    type: z.literal('launchdarkly'),
    url: HttpUrl.default('https://app.launchdarkly.com'),
    token: CatalogName,
    project: ServiceKey,
    environment: ServiceKey,
    ...ServiceShape,
  })
  .strict();
export type LaunchDarklyTargetSpec = z.infer<typeof LaunchDarklyTargetSpec>;

/** The target types this package implements; an extension's `kind` may not take one of these names. */
export const BUILT_IN_TARGET_KINDS = ['flagd', 'http', 'memory', 'unleash', 'launchdarkly'] as const;

/**
 * A target of a kind registered with the worker (`defineTarget`): the flag and its variants, plus `settings` that
 * the registered definition validates with its own schema. Operator data: catalog only, never inline.
 */
export const ExtensionTargetSpec = z
  .object({
    type: z.literal('extension'),
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be a target kind (a-z, 0-9 and "-", starting with a letter, at most 40)')
      .refine(
        (k) => !(BUILT_IN_TARGET_KINDS as readonly string[]).includes(k),
        'names a built-in kind: write it as its own type (type: flagd, …), not as an extension',
      ),
    settings: z
      .record(z.string().max(MAX_KEY), z.json())
      .refine((s) => JSON.stringify(s).length <= 8_192, 'must be at most 8 KB as JSON')
      .default({}),
    ...Common,
  })
  .strict();
export type ExtensionTargetSpec = z.infer<typeof ExtensionTargetSpec>;

/** An in-process target, for tests and drills: state lives in the worker's memory under `name`. */
export const MemoryTargetSpec = z
  .object({
    type: z.literal('memory'),
    name: z.string().min(1).max(MAX_KEY, atMost(MAX_KEY)),
    ...Common,
  })
  .strict();
export type MemoryTargetSpec = z.infer<typeof MemoryTargetSpec>;

const variantsDiffer = { message: 'variant and baselineVariant must differ', path: ['variant'] };

/** A target as the worker uses it: a catalog entry, or an inline target the catalog allows, resolved. */
export const TargetSpec = z
  .discriminatedUnion('type', [
    FlagdTargetSpec,
    HttpTargetSpec,
    MemoryTargetSpec,
    UnleashTargetSpec,
    LaunchDarklyTargetSpec,
    ExtensionTargetSpec,
  ])
  .refine((t) => t.variant !== t.baselineVariant, variantsDiffer);
export type TargetSpec = z.infer<typeof TargetSpec>;

/**
 * A target written inline in a spec, where the catalog allows it (`inline`): no credentials, no headers and no
 * root; a flag file lands under the root the catalog gives inline targets, a URL must match an allowed prefix.
 */
export const InlineTargetSpec = z
  .discriminatedUnion('type', [z.object(FlagdShape).strict(), z.object(HttpShape).strict(), MemoryTargetSpec])
  .refine((t) => t.variant !== t.baselineVariant, variantsDiffer);
export type InlineTargetSpec = z.infer<typeof InlineTargetSpec>;

/** A catalog target by name, optionally choosing other variants of the same flag. */
export const NamedTarget = z
  .object({ name: CatalogName, variant: Variant.optional(), baselineVariant: Variant.optional() })
  .strict();
export type NamedTarget = z.infer<typeof NamedTarget>;

/** What a spec says about its target: a catalog name, a name with variants, or an inline target. */
export const TargetRef = z.union([CatalogName, NamedTarget, InlineTargetSpec]);
export type TargetRef = z.infer<typeof TargetRef>;
