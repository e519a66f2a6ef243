import { z } from 'zod';

/** The name of the environment variable that holds a secret: specs name it and never carry the secret itself. */
export const EnvVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, not a secret value');
export type EnvVarName = z.infer<typeof EnvVarName>;

/** An endpoint a spec points at (a target, a metric source, a hook, a webhook): http or https only. */
export const HttpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
export type HttpUrl = z.infer<typeof HttpUrl>;
