import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import type { PinoLogger } from '../logger.js';

const PINO_LEVEL: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts pino to Temporal's `Logger`, so SDK, core and workflow `log` records land in one pino stream. */
export class PinoTemporalLogger implements Logger {
  constructor(private readonly pino: PinoLogger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    this.pino[PINO_LEVEL[level]](meta ?? {}, message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

let installed = false;

export interface RuntimeOptions {
  /**
   * `host:port` to serve Prometheus metrics on (`/metrics`): the SDK's worker metrics (`temporal_…`: task slots,
   * poll and schedule latencies, sticky cache) and the rollouts' own counters (`rollout_…_total`).
   */
  metricsAddress?: string;
}

/**
 * Installs the Temporal runtime with the pino adapter and core-log forwarding, and optionally the Prometheus
 * endpoint. Must run before any `NativeConnection` is opened; a second call is a no-op (the runtime is
 * process-wide).
 */
export function installRuntime(logger: PinoLogger, options: RuntimeOptions = {}): void {
  if (installed) return;
  Runtime.install({
    logger: new PinoTemporalLogger(logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: { filter: { core: 'WARN', other: 'ERROR' }, forward: {} },
      ...(options.metricsAddress
        ? {
            metrics: {
              prometheus: {
                bindAddress: options.metricsAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          }
        : {}),
    },
    shutdownSignals: [],
  });
  installed = true;
}
