import { z } from 'zod';
import { MAX_ENV_NAME, MAX_LABEL, MAX_URL } from './bounds.js';

/** A string of at most `max` characters; longer is refused with a message that says the limit. */
export const BoundedText = (max: number) => z.string().max(max, `must be at most ${max} characters`);

/** A name or label a spec gives something (a step, a guard, a compensation): not empty, at most 100 characters. */
export const Label = BoundedText(MAX_LABEL).min(1, 'must not be empty');

/** The name of the environment variable that holds a secret: specs name it and never carry the secret itself. */
export const EnvVarName = z
  .string()
  .max(MAX_ENV_NAME, `must be at most ${MAX_ENV_NAME} characters`)
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a secret value');
export type EnvVarName = z.infer<typeof EnvVarName>;

/** An endpoint a spec points at (a target, a metric source, a hook, a webhook): http or https only. */
export const HttpUrl = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
  .max(MAX_URL, `must be at most ${MAX_URL} characters`);
export type HttpUrl = z.infer<typeof HttpUrl>;
