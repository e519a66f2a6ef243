/**
 * rollout-orchestrator as a library: start, inspect and operate progressive rollouts (and drills) from any
 * Node service. Other languages start `progressiveRollout` by name on task queue `rollouts` (see README).
 */
export { RolloutClient, CommandRejectedError } from './client/rollout-client.js';
export { startRollout, rolloutWorkflowId, RolloutAlreadyRunningError, type StartOptions } from './client/start.js';
export { DrillClient, validateDrill, type DrillSummary } from './client/drills.js';
export type { ListQuery, RolloutSummary } from './client/visibility.js';
export { RolloutSpec, ResolvedSpec, type RolloutSpecInput, type Step } from './domain/spec.schema.js';
export { GuardSpec, type ThresholdGuard, type CompareGuard } from './domain/guard-spec.schema.js';
export { DrillSpec, type DrillSpecInput } from './domain/drill.schema.js';
export { type DrillReport } from './domain/drill.js';
export type {
  Phase,
  RolloutState,
  GuardStatus,
  TimelineEntry,
  PauseReason,
  Approval,
} from './domain/rollout-state.schema.js';
export type {
  AbortCommand,
  ApproveCommand,
  PauseCommand,
  PromoteCommand,
  ResumeCommand,
  GuardBreach,
} from './domain/commands.schema.js';
export type { CommandAck } from './domain/commands.js';
export { parseSpecText, validateSpec, specJsonSchema, catalogJsonSchema } from './spec/load.js';
export { checkSpec, loadSpecFile, type SpecCheck } from './spec/check.js';
export { Catalog, type CatalogInput } from './domain/catalog.schema.js';
export { checkCatalog } from './domain/catalog.js';
export { catalogOf, loadCatalogFile, type LoadedCatalog } from './catalog/load.js';
export { RolloutError, ValidationError } from './errors.js';
export { TASK_QUEUE, loadTemporalSettings, connectClient } from './temporal/connection.js';
export {
  WORKFLOW_TYPE,
  abortUpdate,
  approveUpdate,
  guardBreachSignal,
  pauseUpdate,
  promoteUpdate,
  resumeUpdate,
  statusQuery,
  type RolloutInput,
  type RolloutResult,
  type RolloutStatus,
} from '../workflows/messages.js';
export { createRolloutWorker, type RolloutWorkerOptions } from './worker/worker.js';
export {
  defineTarget,
  TargetError,
  type ExposureTarget,
  type TargetContext,
  type TargetDefinition,
  type TargetRequest,
} from '../activities/targets/index.js';
export type { ExposureChange, ExposureReading, Cohort } from './domain/exposure.schema.js';
export { ExtensionTargetSpec, type TargetSpec } from './domain/target-spec.schema.js';
