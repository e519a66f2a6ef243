import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';
import { logFormat, prettyDestination, type LogStream } from './log-format.js';

export type { PinoLogger };

/** Rewrites a finished log line; the worker installs its secret store's redactor here once the catalog is loaded. */
export interface LineRedactor {
  redact?: (line: string) => string;
}

/**
 * The process-wide pino logger. Level from `LOG_LEVEL` (default `info`); to stderr so that stdout stays free for
 * command output (`--json`): pretty lines on a terminal, JSON anywhere else (`LOG_FORMAT=json|pretty` decides).
 * Every line passes through `redactor.redact` when one is set: a secret value that reaches a log line (an echoed
 * credential in an error) is replaced before it is written, in either form.
 */
export function createLogger(
  options: { level?: LevelWithSilent; name?: string; redactor?: LineRedactor; stream?: LogStream } = {},
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
    destinationOf(options.stream ?? process.stderr),
  );
}

function destinationOf(stream: LogStream) {
  if (logFormat(stream) === 'pretty') return prettyDestination(stream);
  return stream === process.stderr ? pino.destination(2) : { write: (line: string) => stream.write(line) };
}
