/**
 * The one place activities read a secret: the value of the environment variable `name`, trimmed, or undefined when
 * no variable is named or it is unset or blank. Read on every call, so a rotated secret applies without a restart.
 * Callers say what is missing by the variable's name, never its value.
 */
export function secretFromEnv(name: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (name === undefined) return undefined;
  const value = env[name]?.trim();
  return value ? value : undefined;
}
