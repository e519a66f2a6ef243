import { z } from 'zod';
import { EnvVarName, HttpUrl } from './common.schema.js';
import { Duration } from './duration.schema.js';
import { Cohort, Percent } from './exposure.schema.js';
import { AnalysisSpec, GuardSpec } from './guard-spec.schema.js';
import { TargetSpec } from './target-spec.schema.js';

const Name = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters')
  .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/, 'must use only a-z, 0-9 and "-", and start and end with a letter or digit');

/** Widen (or narrow) exposure, then observe for a window while guards run. */
export const ExposureStep = z
  .object({
    name: z.string().min(1).optional(),
    exposure: Percent,
    observe: Duration.optional(),
    cohort: Cohort.optional(),
  })
  .strict();
export type ExposureStep = z.infer<typeof ExposureStep>;

/** Wait for a named human to approve; on timeout roll back or pause. */
export const ApprovalStep = z
  .object({
    name: z.string().min(1).optional(),
    approval: z
      .object({
        timeout: Duration.optional(),
        onTimeout: z.enum(['rollback', 'pause']).default('rollback'),
        /** When set, only these actors may approve. */
        approvers: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict(),
  })
  .strict();
export type ApprovalStep = z.infer<typeof ApprovalStep>;

/** Hold: `pause: {}` until resume/promote, or `pause: 10m` / `pause: { duration: 10m }` for a fixed time. */
export const PauseStep = z
  .object({
    name: z.string().min(1).optional(),
    pause: z.union([Duration, z.object({ duration: Duration.optional() }).strict()]),
  })
  .strict();
export type PauseStep = z.infer<typeof PauseStep>;

export const Step = z.union([ExposureStep, ApprovalStep, PauseStep]);
export type Step = z.infer<typeof Step>;

/** An extra compensating action run (in reverse order) during rollback. */
export const HttpCompensation = z
  .object({
    name: z.string().min(1).optional(),
    http: z
      .object({
        url: HttpUrl,
        method: z.enum(['POST', 'PUT', 'PATCH', 'DELETE']).default('POST'),
        body: z.json().optional(),
        headers: z.record(z.string(), z.string()).optional(),
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
    compensations: z.array(Compensation).default([]),
  })
  .strict();
export type RollbackSpec = z.infer<typeof RollbackSpec>;

/** The rollout spec: the public contract users write in YAML or JSON. */
export const RolloutSpec = z
  .object({
    name: Name,
    description: z.string().max(2_000).optional(),
    target: TargetSpec,
    steps: z.array(Step).min(1, 'must list at least one step'),
    guards: z.array(GuardSpec).default([]),
    analysis: AnalysisSpec.default({ maxExtensions: 0, onInconclusive: 'pause' }),
    rollback: RollbackSpec.default({ exposure: 0, compensations: [] }),
    notify: z.array(Notifier).default([]),
  })
  .strict()
  .superRefine((spec, ctx) => {
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
