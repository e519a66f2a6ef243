import type { MeasuredGuard } from '../src/domain/guard-spec.schema.js';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { sameExposure, type Exposure, type ExposureReading } from '../src/domain/exposure.schema.js';
import type { PreparedDrill } from '../src/domain/drill.schema.js';
import { emptyCatalog, rootDir, type LoadedCatalog } from '../src/catalog/load.js';
import { SecretStore } from '../src/catalog/secrets.js';
import type { Compensation, Notifier, ResolvedSpec } from '../src/domain/spec.schema.js';
import type { TargetSpec } from '../src/domain/target-spec.schema.js';
import type { PinoLogger } from '../src/logger.js';
import { callHttpCompensation } from './compensations/http-compensation.js';
import { observeWindow, type ObserveWindowInput, type WindowReport } from './guards/observe-window.js';
export type { ObserveProgress, ObserveWindowInput, WindowReport } from './guards/observe-window.js';
import { createMetricSource } from './sources/index.js';
import { redacting, toFailure } from './errors.js';
import { preflight, type PreflightInput, type PreflightReport } from './preflight.js';
export type { PreflightInput, PreflightReport } from './preflight.js';
import { sendNotifications, type RolloutEvent } from './notify/notify.js';
import { checkCatalogTargets } from './targets/check-catalog.js';
import { createTarget, MemoryTargetRegistry, targetRegistry, type TargetDefinition } from './targets/index.js';
import * as specCheck from './validate.js';

/** What activities need from the outside world; tests pass fakes here. */
export interface ActivityDeps {
  logger: PinoLogger;
  /** Shared state of `memory` targets (tests, drills). */
  memory?: MemoryTargetRegistry;
  /**
   * The operator's catalog: what specs may name, where flag files live, and the secrets activities read when they
   * call out. Default: an empty catalog (memory targets and synthetic sources only).
   */
  catalog?: LoadedCatalog;
  /** Where the catalog's `env` secrets are read (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** The catalog's secrets (default: a store over `catalog` and `env`); the worker shares it with its logger. */
  secrets?: SecretStore;
  /** The directory of flagd targets recorded before the catalog, which name no root (default: the catalog's). */
  baseDir?: string;
  /**
   * Target kinds this worker adds to the built-ins (`defineTarget`); a catalog entry `{ type: extension, kind }`
   * names one. Every extension entry of the catalog is checked against them when the activities are built.
   */
  targets?: readonly TargetDefinition[];
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
 * absolute, and hooks get an idempotency key derived from the rollout's run ID and the operation. Every result and
 * every error passes through the secret store's redactor: no secret value reaches workflow history.
 */
export function createActivities(deps: ActivityDeps) {
  const memory = deps.memory ?? new MemoryTargetRegistry();
  const loaded = deps.catalog ?? emptyCatalog();
  const secrets = deps.secrets ?? new SecretStore(loaded, deps.env ?? process.env);
  const secret = (name: string) => secrets.get(name);
  const registry = targetRegistry(deps.targets);
  checkCatalogTargets(loaded, registry);
  const targetOf = (spec: TargetSpec) =>
    createTarget(spec, {
      registry,
      memory,
      secret,
      rootDir: (root) => (root === undefined ? (deps.baseDir ?? loaded.dir) : rootDir(loaded, root)),
    });
  // read at each check: \`rollout dev --demo\` adds the demo's entries to a running worker's catalog
  const checks = {
    get catalog() {
      return loaded.catalog;
    },
    targetOf,
  };
  const log = () =>
    deps.logger.child({
      activity: Context.current().info.activityType,
      workflowId: Context.current().info.workflowExecution?.workflowId,
    });

  return redacting(secrets, {
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
        const result = await callHttpCompensation(input.compensation, input.idempotencyKey, secret);
        log().info(
          { compensation: input.compensation.name ?? input.compensation.http.url, key: input.idempotencyKey },
          'compensation ran',
        );
        return result;
      } catch (err) {
        throw toFailure(err);
      }
    },

    /**
     * Proves, before the first exposure change and writing nothing, that the rollout can run: its target reads
     * back and passes its own check, and every guard's source answers a query.
     */
    async preflight(input: PreflightInput): Promise<PreflightReport> {
      const report = await preflight(input, {
        targetOf,
        sourceOf: (guard: MeasuredGuard) => createMetricSource(guard.source, { secret }),
      });
      if (report.problems.length > 0) log().warn({ problems: report.problems }, 'preflight failed');
      return report;
    },

    /** Watches the guards through one observation window (one activity, heartbeating each check). */
    async observeWindow(input: ObserveWindowInput): Promise<WindowReport> {
      return observeWindow(
        { ...input, mode: 'window' },
        (guard: MeasuredGuard) => createMetricSource(guard.source, { secret }),
        (value) => secrets.redactValue(value),
      );
    },

    /**
     * Watches the guards with `during: rollout` through one segment of the rollout (approval waits, pauses and
     * windows alike), from the tallies of the segment before; returns early when one fails.
     */
    async watchGuards(input: ObserveWindowInput): Promise<WindowReport> {
      return observeWindow(
        { ...input, mode: 'background' },
        (guard: MeasuredGuard) => createMetricSource(guard.source, { secret }),
        (value) => secrets.redactValue(value),
      );
    },

    /**
     * The workflow's spec check (a local activity): the spec resolved against the catalog and the target's policy,
     * then the target's own check (an existing flag has both variants), before anything changes.
     */
    async validateRolloutSpec(spec: unknown, firstRun = true): Promise<ResolvedSpec> {
      return specCheck.validateRolloutSpec(spec, checks, firstRun);
    },

    /** Checks a drill spec and resolves the rollout it runs (a local activity). */
    async prepareDrill(drill: unknown): Promise<PreparedDrill> {
      return specCheck.prepareDrill(drill, checks);
    },

    /** Tells the spec's notifiers about a phase change. */
    async notify(input: { notifiers: Notifier[]; event: RolloutEvent; idempotencyKey: string }): Promise<void> {
      await sendNotifications(input.notifiers, input.event, {
        logger: deps.logger,
        secret,
        idempotencyKey: input.idempotencyKey,
        namespace: currentNamespace(),
      });
    },
  });
}
export type RolloutActivities = ReturnType<typeof createActivities>;

/** The calling workflow's namespace, for links; undefined outside an activity (a direct call in a test). */
function currentNamespace(): string | undefined {
  try {
    return Context.current().info.workflowNamespace;
  } catch {
    return undefined;
  }
}
