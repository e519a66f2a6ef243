import { z } from 'zod';
import {
  MAX_ACTOR,
  MAX_APPROVERS,
  MAX_COMPENSATIONS,
  MAX_DESCRIPTION,
  MAX_GUARDS,
  MAX_HEADERS,
  MAX_HEADER_VALUE,
  MAX_LABEL,
  MAX_NAME,
  MAX_NOTIFIERS,
  MAX_SPEC_BYTES,
  MAX_STEPS,
  utf8Length,
} from './bounds.js';
import { BoundedText, EnvVarName, HttpUrl, Label } from './common.schema.js';
import { Duration } from './duration.schema.js';
import { Cohort, Percent } from './exposure.schema.js';
import { AnalysisSpec, GuardSpec } from './guard-spec.schema.js';
import { TargetSpec } from './target-spec.schema.js';

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

export const Step = z.union([ExposureStep, ApprovalStep, PauseStep]);
export type Step = z.infer<typeof Step>;

/** An extra compensating action run (in reverse order) during rollback. */
export const HttpCompensation = z
  .object({
    name: Label.optional(),
    http: z
      .object({
        url: HttpUrl,
        method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
        body: z.json().optional(),
        headers: z
          .record(BoundedText(MAX_LABEL), BoundedText(MAX_HEADER_VALUE))
          .refine((h) => Object.keys(h).length <= MAX_HEADERS, `must list at most ${MAX_HEADERS} headers`)
          .optional(),
        tokenEnv: EnvVarName.optional(),
        timeoutMs: z.number().int().positive().max(120_000).default(10_000),
      })
      .strict(),
  })
  .strict();
export const Compensation = HttpCompensation;
export type Compensation = z.infer<typeof Compensation>;

export const WebhookNotifier = z
  .object({ webhook: z.object({ url: HttpUrl, tokenEnv: EnvVarName.optional() }).strict() })
  .strict();
export const LogNotifier = z.object({ log: z.object({}).strict() }).strict();
export const Notifier = z.union([WebhookNotifier, LogNotifier]);
export type Notifier = z.infer<typeof Notifier>;

export const RollbackSpec = z
  .object({
    exposure: Percent.default(0),
    compensations: z
      .array(Compensation)
      .max(MAX_COMPENSATIONS, `must list at most ${MAX_COMPENSATIONS} compensations`)
      .default([]),
  })
  .strict();
export type RollbackSpec = z.infer<typeof RollbackSpec>;

/**
 * The rollout spec: the public contract users write in YAML or JSON. Every string and list is bounded (see
 * `bounds.ts`), and so is the whole: a spec is the workflow's input, carried again on each continue-as-new.
 */
export const RolloutSpec = z
  .object({
    name: Name,
    description: BoundedText(MAX_DESCRIPTION).optional(),
    target: TargetSpec,
    steps: z.array(Step).min(1, 'must list at least one step').max(MAX_STEPS, `must list at most ${MAX_STEPS} steps`),
    guards: z.array(GuardSpec).max(MAX_GUARDS, `must list at most ${MAX_GUARDS} guards`).default([]),
    analysis: AnalysisSpec.default({ maxExtensions: 0, onInconclusive: 'pause' }),
    rollback: RollbackSpec.default({ exposure: 0, compensations: [] }),
    notify: z.array(Notifier).max(MAX_NOTIFIERS, `must list at most ${MAX_NOTIFIERS} notifiers`).default([]),
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
    if (!spec.steps.some((s) => 'exposure' in s)) {
      ctx.addIssue({ code: 'custom', path: ['steps'], message: 'must contain at least one exposure step' });
    }
    const seen = new Set<string>();
    spec.guards.forEach((g, i) => {
      if (seen.has(g.name))
        ctx.addIssue({ code: 'custom', path: ['guards', i, 'name'], message: `duplicate guard name "${g.name}"` });
      seen.add(g.name);
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
/** A validated spec, defaults filled in. */
export type RolloutSpec = z.infer<typeof RolloutSpec>;
/** A spec as written by a user, before defaults. */
export type RolloutSpecInput = z.input<typeof RolloutSpec>;
