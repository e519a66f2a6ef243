import { z } from 'zod';
import { EnvVarName, HttpUrl } from './common.schema.js';

const FlagName = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'must be a flag key ([A-Za-z0-9_.-], starting with a letter or digit)');
const Variant = z.string().min(1, 'must not be empty');

const Common = {
  flag: FlagName,
  variant: Variant,
  baselineVariant: Variant,
};

/** A flag in an OpenFeature flagd flag-definition file. */
export const FlagdTargetSpec = z
  .object({
    type: z.literal('flagd'),
    path: z.string().min(1, 'must name the flag file'),
    ...Common,
  })
  .strict();
export type FlagdTargetSpec = z.infer<typeof FlagdTargetSpec>;

/** A flag service reached over HTTP: PUT/POST `{ flag, variant, percent, cohort }`, GET to read back. */
export const HttpTargetSpec = z
  .object({
    type: z.literal('http'),
    url: HttpUrl,
    method: z.enum(['PUT', 'POST']).default('PUT'),
    /** Name of the environment variable that holds the bearer token; never the token itself. */
    tokenEnv: EnvVarName.optional(),
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    ...Common,
  })
  .strict();
export type HttpTargetSpec = z.infer<typeof HttpTargetSpec>;

/** An in-process target, for tests and drills: state lives in the worker's memory under `name`. */
export const MemoryTargetSpec = z
  .object({
    type: z.literal('memory'),
    name: z.string().min(1),
    ...Common,
  })
  .strict();
export type MemoryTargetSpec = z.infer<typeof MemoryTargetSpec>;

export const TargetSpec = z
  .discriminatedUnion('type', [FlagdTargetSpec, HttpTargetSpec, MemoryTargetSpec])
  .refine((t) => t.variant !== t.baselineVariant, {
    message: 'variant and baselineVariant must differ',
    path: ['variant'],
  });
export type TargetSpec = z.infer<typeof TargetSpec>;
