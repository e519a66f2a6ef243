import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type { PinoLogger };

/** Rewrites a finished log line; the worker installs its secret store's redactor here once the catalog is loaded. */
export interface LineRedactor {
  redact?: (line: string) => string;
}

/**
 * The process-wide pino logger. Level from `LOG_LEVEL` (default `info`); JSON to stderr so that stdout stays free
 * for command output (`--json`). Every line passes through `redactor.redact` when one is set: a secret value that
 * reaches a log line (an echoed credential in an error) is replaced before it is written.
 */
export function createLogger(
  options: { level?: LevelWithSilent; name?: string; redactor?: LineRedactor } = {},
): PinoLogger {
  const level = options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  const redactor = options.redactor;
  return pino(
    {
      level,
      name: options.name ?? 'rollout',
      base: { pid: process.pid },
      ...(redactor ? { hooks: { streamWrite: (line: string) => redactor.redact?.(line) ?? line } } : {}),
    },
    pino.destination(2),
  );
}
