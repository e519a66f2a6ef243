import { z } from 'zod';
import { MAX_LABEL, MAX_PATH, MAX_TEMPLATE_ARG, MAX_URL } from './bounds.js';
import { BoundedText, CatalogName, EnvVarName, HttpUrl, Label } from './common.schema.js';
import { Percent } from './exposure.schema.js';
import { isPattern } from './template.js';
import { MetricSourceSpec } from './guard-spec.schema.js';
import { HttpCompensation, Notifier } from './spec.schema.js';
import {
  FlagdTargetSpec,
  HttpTargetSpec,
  LaunchDarklyTargetSpec,
  MemoryTargetSpec,
  UnleashTargetSpec,
  ExtensionTargetSpec,
} from './target-spec.schema.js';

/*
 * The operator's catalog (`rollout.config.yaml`): what the worker may touch, with what credentials, and who may do
 * what. Specs come from other services and only name its entries; nothing in a spec can add to it.
 */

const entries = <T extends z.ZodType>(value: T, max = 200) =>
  z
    .record(CatalogName, value)
    .refine((r) => Object.keys(r).length <= max, `must declare at most ${max} entries`)
    .default({});

/** Where a secret's value lives: an environment variable of the worker, or a file (read at each use). */
export const SecretSource = z.union([
  z.object({ env: EnvVarName }).strict(),
  z.object({ file: BoundedText(MAX_PATH).min(1) }).strict(),
]);
export type SecretSource = z.infer<typeof SecretSource>;

/**
 * A catalog target: a flagd file under a declared root (`root` required), an HTTP flag service, Unleash,
 * LaunchDarkly, memory, or an `extension` of a kind the worker registers (`defineTarget`).
 */
export const CatalogTarget = z
  .discriminatedUnion('type', [
    FlagdTargetSpec.required({ root: true }),
    HttpTargetSpec,
    MemoryTargetSpec,
    UnleashTargetSpec,
    LaunchDarklyTargetSpec,
    ExtensionTargetSpec,
  ])
  .refine((t) => t.variant !== t.baselineVariant, {
    message: 'variant and baselineVariant must differ',
    path: ['variant'],
  });
export type CatalogTarget = z.infer<typeof CatalogTarget>;

/** One argument of a guard template: its type, default and the values it accepts. */
export const TemplateArg = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('string'),
      default: BoundedText(MAX_TEMPLATE_ARG).optional(),
      /**
       * The values accepted (a regular expression over the whole value). The default keeps arguments to names and
       * label values, so an argument cannot change the query around it (PromQL or a JSON path).
       */
      pattern: BoundedText(500).refine(isPattern, 'must be a regular expression').default('^[A-Za-z0-9_.:/-]{1,128}$'),
      enum: z.array(BoundedText(MAX_TEMPLATE_ARG)).min(1).max(100).optional(),
      description: BoundedText(MAX_LABEL * 5).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('number'),
      default: z.number().finite().optional(),
      min: z.number().finite().optional(),
      max: z.number().finite().optional(),
      description: BoundedText(MAX_LABEL * 5).optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('boolean'),
      default: z.boolean().optional(),
      description: BoundedText(MAX_LABEL * 5).optional(),
    })
    .strict(),
]);
export type TemplateArg = z.infer<typeof TemplateArg>;

/**
 * A guard template: typed arguments, and a guard body (any guard field but `name`) in which `{{ args.NAME }}`
 * stands for an argument. A field that is only a placeholder takes the argument's type (`max: "{{ args.max }}"`
 * is a number); inside a longer string the value is written as text. Its source names a provider.
 */
export const GuardTemplate = z
  .object({
    description: BoundedText(MAX_LABEL * 5).optional(),
    args: z.record(Label, TemplateArg).default({}),
    guard: z.record(z.string(), z.json()),
  })
  .strict();
export type GuardTemplate = z.infer<typeof GuardTemplate>;

/** What a principal may do through the API. `admin` implies every other role. */
export const Role = z.enum(['start', 'operate', 'approve', 'admin']);
export type Role = z.infer<typeof Role>;

/** A named caller of the API: its bearer token (a secret's name) and its roles. */
export const Principal = z
  .object({
    token: CatalogName,
    roles: z.array(Role).min(1).max(4),
  })
  .strict();
export type Principal = z.infer<typeof Principal>;

const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
export const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

/** Rules a rollout on a target must follow, checked when its spec is validated. */
export const PolicyRule = z
  .object({
    /** Guards the spec must have, by template or guard name. */
    requiredGuards: z.array(Label).max(50).optional(),
    /** The first exposure step may not exceed this percentage. */
    maxFirstStep: Percent.optional(),
    /** Every exposure step above this percentage must follow an approval step. */
    approvalAbove: Percent.optional(),
    /** A rollout may start only on these days, between these times (UTC, `from` inclusive, `to` exclusive). */
    allowedHours: z
      .object({
        days: z.array(Weekday).min(1).max(7).default(['mon', 'tue', 'wed', 'thu', 'fri']),
        from: z.string().regex(HH_MM, 'must be HH:MM (UTC)'),
        to: z.string().regex(HH_MM, 'must be HH:MM (UTC)'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type PolicyRule = z.infer<typeof PolicyRule>;

/** A URL prefix inline URLs must start with: scheme, host and port match exactly, the path as a prefix. */
export const UrlPrefix = HttpUrl.max(MAX_URL);

/** What a spec may write inline instead of naming a catalog entry. */
export const InlinePolicy = z
  .object({
    /** Inline flagd targets land under this root (by name); absent: inline flagd targets are refused. */
    flagdRoot: CatalogName.optional(),
    /** URLs an inline target, source, hook or webhook may use; absent or empty: inline URLs are refused. */
    urls: z.array(UrlPrefix).max(100).default([]),
    /**
     * Any port on 127.0.0.1, ::1 or localhost, for tests and local experiments only: it lets a spec reach every
     * service on the worker's host (the Temporal frontend and Web UI among them).
     */
    loopback: z.boolean().default(false),
    /** In-process memory targets (tests, drills). */
    memory: z.boolean().default(true),
    /** Scripted synthetic sources (drills, tests). */
    synthetic: z.boolean().default(true),
  })
  .strict();
export type InlinePolicy = z.infer<typeof InlinePolicy>;

/** The catalog file. Relative paths (roots, secret files) are relative to the file's directory. */
export const Catalog = z
  .object({
    /** Directories flagd targets write under, by name. */
    roots: entries(BoundedText(MAX_PATH).min(1), 50),
    secrets: entries(SecretSource),
    targets: entries(CatalogTarget),
    providers: entries(MetricSourceSpec),
    templates: entries(GuardTemplate),
    notifiers: entries(Notifier),
    hooks: entries(HttpCompensation),
    principals: entries(Principal),
    policy: z
      .object({ default: PolicyRule.optional(), targets: entries(PolicyRule) })
      .strict()
      .default({ targets: {} }),
    inline: InlinePolicy.default({ urls: [], loopback: false, memory: true, synthetic: true }),
  })
  .strict();
export type Catalog = z.infer<typeof Catalog>;
export type CatalogInput = z.input<typeof Catalog>;
