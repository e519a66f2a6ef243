import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { describeStep } from '../domain/describe.js';
import { rolloutIdForFlag } from '../domain/ids.js';
import type { RolloutSpec } from '../domain/spec.schema.js';
import { describeIssues } from '../domain/validation.js';
import { RolloutError, ValidationError } from '../errors.js';
import { validateSpec } from '../spec/load.js';
import { TASK_QUEUE } from '../temporal/connection.js';
import {
  RolloutExposureKey,
  RolloutPhaseKey,
  RolloutStepKey,
  RolloutTargetKey,
} from '../temporal/search-attributes.js';
import type { progressiveRollout } from '../../workflows/progressive-rollout.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';

/** One active rollout per flag: the workflow ID is derived from the target flag. */
export function rolloutWorkflowId(spec: Pick<RolloutSpec, 'target'>): string {
  return rolloutIdForFlag(spec.target.flag);
}

/** A second start for the same flag while one runs. */
export class RolloutAlreadyRunningError extends RolloutError {
  override readonly name = 'RolloutAlreadyRunningError';
  constructor(
    readonly workflowId: string,
    readonly runId: string | undefined,
  ) {
    super(
      `A rollout for this flag is already running: ${workflowId}${runId ? ` (run ${runId})` : ''}.`,
      'Wait for it to finish, or abort it first (rollout abort ID --reason ...).',
    );
  }
}

export interface StartOptions {
  taskQueue?: string;
  /** Override the derived workflow ID (tests). */
  workflowId?: string;
}

/**
 * Validates the spec and starts `progressiveRollout`. An invalid spec throws a {@link ValidationError} and
 * starts nothing; a running rollout for the same flag throws {@link RolloutAlreadyRunningError}.
 */
export async function startRollout(
  client: Client,
  input: unknown,
  options: StartOptions = {},
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof progressiveRollout>> {
  const result = validateSpec(input);
  if (!result.ok) throw new ValidationError(`invalid rollout spec:\n${describeIssues(result.issues)}`, result.issues);
  const spec = result.spec;
  const workflowId = options.workflowId ?? rolloutWorkflowId(spec);
  try {
    return await client.workflow.start<typeof progressiveRollout>(WORKFLOW_TYPE, {
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      workflowId,
      args: [{ spec }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: RolloutPhaseKey, value: 'Pending' },
        { key: RolloutTargetKey, value: spec.target.flag },
        { key: RolloutExposureKey, value: spec.rollback.exposure },
        { key: RolloutStepKey, value: 0 },
      ],
      staticSummary: `${spec.name}: ${spec.target.flag} → ${spec.target.variant} in ${spec.steps.length} steps`,
      staticDetails: spec.steps.map((s, i) => `${i}. ${describeStep(s)}`).join('\n'),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const running = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      throw new RolloutAlreadyRunningError(workflowId, running?.runId);
    }
    throw err;
  }
}
