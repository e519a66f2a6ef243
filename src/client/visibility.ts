import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { z } from 'zod';
import { Phase } from '../domain/rollout-state.schema.js';
import {
  RolloutExposureKey,
  RolloutPhaseKey,
  RolloutStepKey,
  RolloutTargetKey,
} from '../temporal/search-attributes.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';

/** Most rollouts one list call returns (newest first). */
export const LIST_LIMIT = 200;

/** Query string of `GET /rollouts`. */
export const ListQuery = z
  .object({
    phase: Phase.optional(),
    target: z.string().min(1).max(200).optional(),
  })
  .strict();
export type ListQuery = z.infer<typeof ListQuery>;

/** One row of `GET /rollouts`, from visibility alone (no query to the workflow). */
export interface RolloutSummary {
  workflowId: string;
  runId: string;
  /** Temporal execution status: RUNNING, COMPLETED, FAILED, TERMINATED, … */
  status: string;
  phase: string | null;
  target: string | null;
  exposure: number | null;
  step: number | null;
  startTime: string;
}

/** A string literal for a visibility query: quotes and backslashes escaped so a value cannot end the literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** The visibility query for rollouts, optionally filtered by phase and target flag. */
export function rolloutQuery(filter: ListQuery = {}): string {
  const clauses = [`WorkflowType = ${quoteLiteral(WORKFLOW_TYPE)}`];
  if (filter.phase) clauses.push(`${RolloutPhaseKey.name} = ${quoteLiteral(filter.phase)}`);
  if (filter.target) clauses.push(`${RolloutTargetKey.name} = ${quoteLiteral(filter.target)}`);
  return clauses.join(' AND ');
}

export const phaseQuery = (phase: Phase): string => rolloutQuery({ phase });

export function summarize(wf: WorkflowExecutionInfo): RolloutSummary {
  const sa = wf.typedSearchAttributes;
  return {
    workflowId: wf.workflowId,
    runId: wf.runId,
    status: wf.status.name,
    phase: sa.get(RolloutPhaseKey) ?? null,
    target: sa.get(RolloutTargetKey) ?? null,
    exposure: sa.get(RolloutExposureKey) ?? null,
    step: sa.get(RolloutStepKey) ?? null,
    startTime: wf.startTime.toISOString(),
  };
}

/** Up to {@link LIST_LIMIT} rollouts matching the filter, newest first. */
export async function listRollouts(temporalClient: Client, filter: ListQuery): Promise<RolloutSummary[]> {
  const out: RolloutSummary[] = [];
  for await (const wf of temporalClient.workflow.list({ query: rolloutQuery(filter), pageSize: LIST_LIMIT })) {
    out.push(summarize(wf));
    if (out.length >= LIST_LIMIT) break;
  }
  return out;
}
