import { pino, type Logger as PinoLogger, type LevelWithSilent } from 'pino';

export type { PinoLogger };

/**
 * The process-wide pino logger. Level from `LOG_LEVEL` (default `info`); JSON to stderr so that
 * stdout stays free for command output (`--json`).
 */
export function createLogger(options: { level?: LevelWithSilent; name?: string } = {}): PinoLogger {
  const level = options.level ?? (process.env.LOG_LEVEL as LevelWithSilent | undefined) ?? 'info';
  return pino({ level, name: options.name ?? 'rollout', base: { pid: process.pid } }, pino.destination(2));
}
