import { z } from 'zod';
import {
  MAX_ACTOR,
  MAX_APPROVERS,
  MAX_COMPENSATIONS,
  MAX_DESCRIPTION,
  MAX_GUARDS,
  MAX_NAME,
  MAX_NOTIFIERS,
  MAX_SPEC_BYTES,
  MAX_STEPS,
  utf8Length,
} from './bounds.js';
import { BoundedText, CatalogName, Headers, HttpAuth, HttpUrl, Label } from './common.schema.js';
import { Duration } from './duration.schema.js';
import { Cohort, Percent } from './exposure.schema.js';
import { AnalysisSpec, GuardRef, GuardSpec, guardRefName } from './guard-spec.schema.js';
import { TargetRef, TargetSpec } from './target-spec.schema.js';
import { Phase } from './rollout-state.schema.js';

const Name = z
  .string()
  .min(1, 'must not be empty')
  .max(MAX_NAME, `must be at most ${MAX_NAME} characters`)
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must use only a-z, 0-9 and "-", and start and end with a letter or digit');

/** Widen (or narrow) exposure, then observe for a window while guards run. */
export const ExposureStep = z
  .object({
    name: Label.optional(),
    exposure: Percent,
    observe: Duration.optional(),
    cohort: Cohort.optional(),
  })
  .strict();
export type ExposureStep = z.infer<typeof ExposureStep>;

/**
 * Shadow (dark launch): `shadow` % of traffic also runs the new variant without being served it, through a
 * companion flag the application reads, while live exposure stays where it is; then observe. Guards compare the
 * shadow path with the live one (disagreement rate, latency). The next exposure step ends the shadow.
 */
export const ShadowStep = z
  .object({
    name: Label.optional(),
    shadow: Percent.refine((p) => p > 0, 'must be > 0: a shadow step runs the new variant for some traffic'),
    observe: Duration.optional(),
  })
  .strict();
export type ShadowStep = z.infer<typeof ShadowStep>;

/** Wait for a named human to approve; on timeout roll back or pause. */
export const ApprovalStep = z
  .object({
    name: Label.optional(),
    approval: z
      .object({
        timeout: Duration.optional(),
        onTimeout: z.enum(['rollback', 'pause']).default('rollback'),
        /** When set, only these actors may approve. */
        approvers: z
          .array(BoundedText(MAX_ACTOR).min(1, 'must not be empty'))
          .min(1)
          .max(MAX_APPROVERS, `must list at most ${MAX_APPROVERS} approvers`)
          .optional(),
      })
      .strict(),
  })
  .strict();
export type ApprovalStep = z.infer<typeof ApprovalStep>;

/** Hold: `pause: {}` until resume/promote, or `pause: 10m` / `pause: { duration: 10m }` for a fixed time. */
export const PauseStep = z
  .object({
    name: Label.optional(),
    pause: z.union([Duration, z.object({ duration: Duration.optional() }).strict()]),
  })
  .strict();
export type PauseStep = z.infer<typeof PauseStep>;

export const Step = z.union([ExposureStep, ApprovalStep, PauseStep, ShadowStep]);
export type Step = z.infer<typeof Step>;

const HttpCall = {
  url: HttpUrl,
  method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
  body: z.json().optional(),
  timeoutMs: z.number().int().positive().max(120_000).default(10_000),
};

/** An extra compensating action run (in reverse order) during rollback: a catalog hook, or an allowed inline call. */
export const HttpCompensation = z
  .object({
    name: Label.optional(),
    http: z.object({ ...HttpCall, headers: Headers.optional(), auth: HttpAuth.optional() }).strict(),
  })
  .strict();
export const Compensation = HttpCompensation;
export type Compensation = z.infer<typeof Compensation>;

/** A compensation a spec writes out: a URL the catalog allows, a body, no headers or credentials. */
export const InlineCompensation = z.object({ name: Label.optional(), http: z.object(HttpCall).strict() }).strict();
/** A catalog hook by name. */
export const HookCompensation = z.object({ hook: CatalogName }).strict();
export const CompensationRef = z.union([HookCompensation, InlineCompensation]);
export type CompensationRef = z.infer<typeof CompensationRef>;

export const WebhookNotifier = z
  .object({ webhook: z.object({ url: HttpUrl, auth: HttpAuth.optional(), headers: Headers.optional() }).strict() })
  .strict();
export const LogNotifier = z.object({ log: z.object({}).strict() }).strict();
/** How urgent a rollout event is: failures and rollbacks are critical, holds wait for a person (warning). */
export const Severity = z.enum(['info', 'warning', 'critical']);
export type Severity = z.infer<typeof Severity>;
/**
 * A chat channel's incoming webhook (Slack, Microsoft Teams through a Workflows webhook, Discord). Its URL is itself
 * the credential, so it is always a catalog secret; a spec names the notifier, never the URL. Events are filtered by
 * phase and severity; every message carries the rollout's status line and, with `webUi`, a link to it.
 */
export const ChatNotifier = z
  .object({
    chat: z
      .object({
        format: z.enum(['slack', 'teams', 'discord']),
        url: z.object({ secret: CatalogName }).strict(),
        /** The Temporal Web UI's address, for the link to the rollout in each message. */
        webUi: HttpUrl.optional(),
        /** Only these phases (default: every phase). */
        phases: z.array(Phase).min(1).optional(),
        /** Only events at least this severe (default: info, everything). */
        severity: Severity.default('info'),
      })
      .strict(),
  })
  .strict();
export type ChatNotifier = z.infer<typeof ChatNotifier>;
/** A notifier as the worker uses it. */
export const Notifier = z.union([WebhookNotifier, LogNotifier, ChatNotifier]);
export type Notifier = z.infer<typeof Notifier>;

/** What a spec says about a notifier: a catalog name, the log, or a webhook URL the catalog allows. */
export const NotifierRef = z.union([
  CatalogName,
  z.object({ webhook: z.object({ url: HttpUrl }).strict() }).strict(),
  LogNotifier,
]);
export type NotifierRef = z.infer<typeof NotifierRef>;

const rollbackSchema = <C extends z.ZodType>(compensation: C) =>
  z
    .object({
      exposure: Percent.default(0),
      compensations: z
        .array(compensation)
        .max(MAX_COMPENSATIONS, `must list at most ${MAX_COMPENSATIONS} compensations`)
        .default([]),
    })
    .strict();
export const RollbackSpec = rollbackSchema(Compensation);
export type RollbackSpec = z.infer<typeof RollbackSpec>;

interface SpecParts<T extends z.ZodType, G extends z.ZodType, C extends z.ZodType, N extends z.ZodType> {
  target: T;
  guard: G;
  compensation: C;
  notifier: N;
  guardName: (g: z.output<G>) => string;
}

/**
 * The spec's shape over its parts: callers write references (`RolloutSpec`), the worker runs them resolved
 * (`ResolvedSpec`); every other field and every rule is the same for both.
 */
function specSchema<T extends z.ZodType, G extends z.ZodType, C extends z.ZodType, N extends z.ZodType>(
  parts: SpecParts<T, G, C, N>,
) {
  return z
    .object({
      name: Name,
      description: BoundedText(MAX_DESCRIPTION).optional(),
      target: parts.target,
      steps: z.array(Step).min(1, 'must list at least one step').max(MAX_STEPS, `must list at most ${MAX_STEPS} steps`),
      guards: z.array(parts.guard).max(MAX_GUARDS, `must list at most ${MAX_GUARDS} guards`).default([]),
      analysis: AnalysisSpec.default({ maxExtensions: 0, onInconclusive: 'pause' }),
      rollback: rollbackSchema(parts.compensation).default({ exposure: 0, compensations: [] }),
      notify: z.array(parts.notifier).max(MAX_NOTIFIERS, `must list at most ${MAX_NOTIFIERS} notifiers`).default([]),
    })
    .strict()
    .superRefine((spec, ctx) => {
      // a spec with other problems is told those first: a field over its own limit says so at its path
      const bytes = ctx.issues.length === 0 ? utf8Length(JSON.stringify(spec)) : 0;
      if (bytes > MAX_SPEC_BYTES) {
        ctx.addIssue({
          code: 'custom',
          path: [],
          message: `the spec is too large (${Math.ceil(bytes / 1024)} KB as JSON; at most ${MAX_SPEC_BYTES / 1024} KB)`,
        });
      }
      const lastExposure = spec.steps.findLastIndex((s) => 'exposure' in s);
      const lastShadow = spec.steps.findLastIndex((s) => 'shadow' in s);
      if (lastShadow > lastExposure && lastExposure >= 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['steps', lastShadow],
          message: 'a shadow step must be followed by an exposure step, which ends the shadow',
        });
      }
      if (!spec.steps.some((s) => 'exposure' in s)) {
        ctx.addIssue({ code: 'custom', path: ['steps'], message: 'must contain at least one exposure step' });
      }
      const seen = new Set<string>();
      (spec.guards as z.output<G>[]).forEach((g, i) => {
        const name = parts.guardName(g);
        if (seen.has(name))
          ctx.addIssue({ code: 'custom', path: ['guards', i, 'name'], message: `duplicate guard name "${name}"` });
        seen.add(name);
      });
      if (spec.analysis.maxExtensions > 0 && !spec.analysis.extendBy) {
        ctx.addIssue({ code: 'custom', path: ['analysis', 'extendBy'], message: 'is required when maxExtensions > 0' });
      }
      spec.steps.forEach((step, i) => {
        if ('exposure' in step && step.exposure < spec.rollback.exposure) {
          ctx.addIssue({
            code: 'custom',
            path: ['steps', i, 'exposure'],
            message: `must be ≥ rollback.exposure (${spec.rollback.exposure})`,
          });
        }
      });
    });
}

/**
 * The rollout spec: the public contract callers write in YAML or JSON, and the workflow's input. It names what the
 * operator's catalog declares (a target, guard templates, metric providers, notifiers, hooks) and writes inline only
 * what the catalog allows; it never carries a credential. Every string and list is bounded (see `bounds.ts`), and
 * so is the whole: a spec is carried again on each continue-as-new.
 */
export const RolloutSpec = specSchema({
  target: TargetRef,
  guard: GuardRef,
  compensation: CompensationRef,
  notifier: NotifierRef,
  guardName: guardRefName,
});
/** A spec as validated, defaults filled in, its references not yet resolved. */
export type RolloutSpec = z.infer<typeof RolloutSpec>;
/** A spec as written by a user, before defaults. */
export type RolloutSpecInput = z.input<typeof RolloutSpec>;

/**
 * The rollout as the worker runs it: every reference resolved against the catalog (the workflow's spec check, a
 * local activity, returns it). Secrets stay names; activities read them when they call out.
 */
export const ResolvedSpec = specSchema({
  target: TargetSpec,
  guard: GuardSpec,
  compensation: Compensation,
  notifier: Notifier,
  guardName: (g: GuardSpec) => g.name,
});
export type ResolvedSpec = z.infer<typeof ResolvedSpec>;
export type ResolvedSpecInput = z.input<typeof ResolvedSpec>;
