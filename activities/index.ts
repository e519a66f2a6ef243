import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sameExposure, type Exposure, type ExposureReading } from '../src/domain/exposure.schema.js';
import type { DrillSpec } from '../src/domain/drill.schema.js';
import type { Compensation, Notifier, RolloutSpec } from '../src/domain/spec.schema.js';
import type { TargetSpec } from '../src/domain/target-spec.schema.js';
import type { PinoLogger } from '../src/logger.js';
import { callHttpCompensation } from './compensations/http-compensation.js';
import { observeWindow, type ObserveWindowInput, type WindowReport } from './guards/observe-window.js';
export type { ObserveProgress, ObserveWindowInput, WindowReport } from './guards/observe-window.js';
import { createMetricSource } from './sources/index.js';
import { toFailure } from './errors.js';
import { sendNotifications, type RolloutEvent } from './notify/notify.js';
import { createTarget, MemoryTargetRegistry } from './targets/index.js';
import { checkDrillSpec, checkRolloutSpec } from './validate.js';

/** What activities need from the outside world; tests pass fakes here. */
export interface ActivityDeps {
  logger: PinoLogger;
  /** Shared state of `memory` targets (tests, drills). */
  memory?: MemoryTargetRegistry;
  /** Directory relative flag-file paths resolve against (default: the worker's cwd). */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

export interface ApplyExposureInput {
  target: TargetSpec;
  exposure: Exposure;
  idempotencyKey: string;
}

export interface CompensationInput {
  compensation: Compensation;
  idempotencyKey: string;
}

/**
 * Builds the activity implementations over their dependencies. Every activity is idempotent: exposure is
 * absolute, and hooks get an idempotency key derived from the rollout's run ID and the operation.
 */
export function createActivities(deps: ActivityDeps) {
  const memory = deps.memory ?? new MemoryTargetRegistry();
  const env = deps.env ?? process.env;
  const targetOf = (spec: TargetSpec) =>
    createTarget(spec, { memory, env, ...(deps.baseDir !== undefined ? { baseDir: deps.baseDir } : {}) });
  const log = () =>
    deps.logger.child({
      activity: Context.current().info.activityType,
      workflowId: Context.current().info.workflowExecution?.workflowId,
    });

  return {
    /** Sets the target's exposure and verifies it by reading it back. */
    async applyExposure(input: ApplyExposureInput): Promise<ExposureReading> {
      const target = targetOf(input.target);
      try {
        await target.apply({ ...input.exposure, idempotencyKey: input.idempotencyKey });
        const reading = await target.read();
        if (!sameExposure(reading, input.exposure)) {
          throw ApplicationFailure.retryable(
            `${target.describe}: read back ${JSON.stringify(reading)} after setting ${JSON.stringify(input.exposure)}`,
            'VERIFY_MISMATCH',
          );
        }
        log().info(
          { target: target.describe, exposure: input.exposure, key: input.idempotencyKey },
          'exposure applied',
        );
        return reading;
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** Reads what the target currently serves. */
    async readExposure(target: TargetSpec): Promise<ExposureReading> {
      try {
        return await targetOf(target).read();
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** Runs one custom compensation hook. */
    async runCompensation(input: CompensationInput): Promise<{ status: number }> {
      try {
        const result = await callHttpCompensation(input.compensation, input.idempotencyKey, env);
        log().info(
          { compensation: input.compensation.name ?? input.compensation.http.url, key: input.idempotencyKey },
          'compensation ran',
        );
        return result;
      } catch (err) {
        throw toFailure(err);
      }
    },

    /** Watches the guards through one observation window (one activity, heartbeating each check). */
    async observeWindow(input: ObserveWindowInput): Promise<WindowReport> {
      return observeWindow(input, (guard) => createMetricSource(guard.source, { env }));
    },

    /** Validates a rollout spec and fills its defaults (a local activity: no I/O, no retries needed). */
    async validateRolloutSpec(spec: unknown): Promise<RolloutSpec> {
      return checkRolloutSpec(spec);
    },

    /** Validates a drill spec and builds the rollout it runs (a local activity). */
    async prepareDrill(drill: unknown): Promise<{ drill: DrillSpec; spec: RolloutSpec }> {
      return checkDrillSpec(drill);
    },

    /** Tells the spec's notifiers about a phase change. */
    async notify(input: { notifiers: Notifier[]; event: RolloutEvent; idempotencyKey: string }): Promise<void> {
      await sendNotifications(input.notifiers, input.event, {
        logger: deps.logger,
        env,
        idempotencyKey: input.idempotencyKey,
      });
    },
  };
}
export type RolloutActivities = ReturnType<typeof createActivities>;
