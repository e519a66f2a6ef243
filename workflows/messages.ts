import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AbortCommand,
  ApproveCommand,
  GuardBreach,
  PauseCommand,
  PromoteCommand,
  ResumeCommand,
} from '../src/domain/commands.schema.js';
import type { CommandAck } from '../src/domain/commands.js';
import type { Exposure } from '../src/domain/exposure.schema.js';
import type {
  Approval,
  GuardStatus,
  PauseReason,
  Phase,
  RollbackState,
  RolloutState,
  TimelineEntry,
  WindowSummary,
} from '../src/domain/rollout-state.schema.js';
import type { MeasurementRecord } from '../src/domain/tally.schema.js';
import type { RolloutSpecInput } from '../src/domain/spec.schema.js';

/** Workflow type name: other SDKs start rollouts by this name. */
export const WORKFLOW_TYPE = 'progressiveRollout';

/** Input of `progressiveRollout`: the spec, and on continue-as-new the state carried over. */
export interface RolloutInput {
  spec: RolloutSpecInput;
  carried?: RolloutState;
  /** Signal every phase change (and rollback retry) to the parent workflow; drills use this. */
  reportPhases?: boolean;
  /**
   * Undo a completed run of this spec (version 7): no step runs; the spec's compensations run and its exposure goes
   * back to its baseline (`rollback.exposure`), as a rollback would, and the run ends RolledBack.
   */
  undo?: UndoRequest;
}

/** Who undoes which completed run, and why (bounded by the workflow: any SDK may send it). */
export interface UndoRequest {
  /** Run ID of the completed run. */
  of: string;
  actor: string;
  reason: string;
}

/** What a rollout reports to its parent on each phase change (`reportPhases`). */
export interface PhaseReport {
  workflowId: string;
  phase: Phase;
  step: number;
  exposure: number;
  cause: string;
  at: string;
  rollback?: RollbackState;
}

/** What `status` returns. */
export interface RolloutStatus {
  name: string;
  target: string;
  phase: Phase;
  step: number;
  totalSteps: number;
  stepDescription: string;
  /** Every step, described in one line each (for step bars and tables). */
  steps: string[];
  exposure: Exposure;
  pauseReasons: PauseReason[];
  approvals: Approval[];
  guards: GuardStatus[];
  /** Measurements that changed a decision, exactly as judged. */
  measurements: MeasurementRecord[];
  windows: WindowSummary[];
  windowEndsAt?: string;
  rollback?: RollbackState;
  timeline: TimelineEntry[];
  startedAt: string;
  run: number;
  /** Pushed breaches refused because they named no guard of the rollout. */
  refusedBreaches?: number;
  /** An undo run: the completed run it undoes. */
  undoOf?: string;
}

/** What a finished rollout returns. */
export interface RolloutResult {
  name: string;
  target: string;
  phase: 'Completed' | 'RolledBack' | 'Aborted' | 'Failed';
  reason: string;
  exposure: Exposure;
  stepsCompleted: number;
  totalSteps: number;
  approvals: Approval[];
  guards: GuardStatus[];
  measurements: MeasurementRecord[];
  windows: WindowSummary[];
  rollback?: RollbackState;
  timeline: TimelineEntry[];
}

export const pauseUpdate = defineUpdate<CommandAck, [PauseCommand]>('pause');
export const resumeUpdate = defineUpdate<CommandAck, [ResumeCommand]>('resume');
export const promoteUpdate = defineUpdate<CommandAck, [PromoteCommand]>('promote');
export const approveUpdate = defineUpdate<CommandAck, [ApproveCommand]>('approve');
export const abortUpdate = defineUpdate<CommandAck, [AbortCommand]>('abort');
export const guardBreachSignal = defineSignal<[GuardBreach]>('guardBreach');
export const statusQuery = defineQuery<RolloutStatus>('status');
export const rolloutPhaseSignal = defineSignal<[PhaseReport]>('rolloutPhase');
