import { z } from 'zod';
import { Exposure } from '../domain/exposure.schema.js';
import { MeasurementRecord } from '../domain/tally.schema.js';
import {
  Approval,
  GuardStatus,
  PauseReason,
  Phase,
  RollbackState,
  TimelineEntry,
  WindowSummary,
} from '../domain/rollout-state.schema.js';
import type { RolloutStatus } from '../../workflows/messages.js';

/** One alert in an Alertmanager webhook (v4). Unknown fields are kept: Alertmanager adds some over time. */
export const AlertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: z.record(z.string(), z.string()),
  annotations: z.record(z.string(), z.string()).default({}),
  startsAt: z.string(),
  endsAt: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});
export type AlertmanagerAlert = z.infer<typeof AlertmanagerAlert>;

/** The body Alertmanager POSTs to a `webhook_config` receiver (payload version 4). */
export const AlertmanagerWebhook = z.looseObject({
  version: z.literal('4', { error: 'must be "4" (the Alertmanager webhook payload version this API reads)' }),
  status: z.enum(['firing', 'resolved']),
  receiver: z.string().optional(),
  groupKey: z.string().optional(),
  alerts: z.array(AlertmanagerAlert),
});
export type AlertmanagerWebhook = z.infer<typeof AlertmanagerWebhook>;

/** What `POST /alerts/alertmanager` answers. */
export const AlertmanagerResponse = z.object({
  signalled: z.number().int().describe('guardBreach signals sent'),
  ignored: z
    .number()
    .int()
    .describe('resolved alerts, alerts without rollout and guard labels, duplicates in the payload'),
  errors: z.array(z.object({ rollout: z.string(), guard: z.string(), error: z.string() })),
});
export type AlertmanagerResponse = z.infer<typeof AlertmanagerResponse>;

/** `RolloutStatus` (plus live guard time) as a schema, for the OpenAPI document; checked against the type below. */
export const RolloutStatusSchema = z.object({
  name: z.string(),
  target: z.string(),
  phase: Phase,
  step: z.number().int(),
  totalSteps: z.number().int(),
  stepDescription: z.string(),
  steps: z.array(z.string()).describe('every step, described in one line each'),
  exposure: Exposure,
  pauseReasons: z.array(PauseReason),
  approvals: z.array(Approval),
  guards: z.array(GuardStatus),
  measurements: z.array(MeasurementRecord).describe('measurements that changed a decision, exactly as judged'),
  windows: z.array(WindowSummary),
  windowEndsAt: z.string().optional(),
  rollback: RollbackState.optional(),
  timeline: z.array(TimelineEntry),
  startedAt: z.string(),
  run: z.number().int(),
  refusedBreaches: z.number().int().optional().describe('pushed breaches refused: they named no guard of the rollout'),
  undoOf: z.string().optional().describe('an undo run: the run ID of the completed run it undoes'),
  guardsAsOf: z.string().optional().describe('when live guard values (from the observation heartbeat) were measured'),
});
// The live value must fit the documented schema and both must name the same fields, or the document has drifted.
type StatusDoc = z.infer<typeof RolloutStatusSchema>;
type StatusLive = RolloutStatus & { guardsAsOf?: string };
export type StatusSchemaMatches = [
  StatusLive extends StatusDoc ? true : never,
  Exclude<keyof StatusDoc, keyof StatusLive> extends never ? true : never,
  Exclude<keyof StatusLive, keyof StatusDoc> extends never ? true : never,
];
export const statusSchemaMatches: StatusSchemaMatches = [true, true, true];

/** The run `retry` or `undo` started. */
export const RestartResponse = z.object({
  workflowId: z.string(),
  runId: z.string(),
  after: z.string().optional().describe('retry: how the run it starts again had ended'),
  undoes: z.string().optional().describe('undo: the run ID of the completed run it undoes'),
  baseline: z.number().optional().describe('undo: the exposure (%) it sets the target back to'),
  uiUrl: z.string().optional().describe('the new run in the Temporal Web UI, when the server knows the UI address'),
});

export const StartResponse = z.object({
  workflowId: z.string(),
  runId: z.string(),
  uiUrl: z.string().optional().describe('the rollout in the Temporal Web UI, when the server knows the UI address'),
});

export const CommandAckSchema = z.object({ accepted: z.literal(true), phase: z.string(), step: z.number().int() });

export const RolloutSummarySchema = z.object({
  workflowId: z.string(),
  runId: z.string(),
  status: z.string().describe('Temporal execution status: RUNNING, COMPLETED, FAILED, TERMINATED, …'),
  phase: z.string().nullable(),
  target: z.string().nullable(),
  exposure: z.number().nullable(),
  step: z.number().int().nullable(),
  startTime: z.string(),
});
export const RolloutList = z.object({ rollouts: z.array(RolloutSummarySchema) });

export const ErrorBody = z.object({
  error: z.string(),
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  hint: z.string().optional(),
});

export const Health = z.object({ ok: z.boolean(), error: z.string().optional() });
