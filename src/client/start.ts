import {
  WorkflowExecutionAlreadyStartedError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { describeStep } from '../domain/describe.js';
import { rolloutIdForFlag } from '../domain/ids.js';
import type { ResolvedSpec, RolloutSpec } from '../domain/spec.schema.js';
import { describeIssues } from '../domain/validation.js';
import { RolloutError, ValidationError } from '../errors.js';
import { validateSpec } from '../spec/load.js';
import { checkSpec } from '../spec/check.js';
import { targetKey } from '../domain/resolve.js';
import type { Catalog } from '../domain/catalog.schema.js';
import { TASK_QUEUE } from '../temporal/connection.js';
import {
  RolloutExposureKey,
  RolloutPhaseKey,
  RolloutStepKey,
  RolloutTargetKey,
} from '../temporal/search-attributes.js';
import type { progressiveRollout } from '../../workflows/progressive-rollout.js';
import { WORKFLOW_TYPE, type UndoRequest } from '../../workflows/messages.js';

/**
 * One active rollout per target: the workflow ID is derived from the catalog target's name (or an inline target's
 * flag), so a second start for the same target is refused while one runs.
 */
export function rolloutWorkflowId(spec: Pick<RolloutSpec, 'target'>): string {
  return rolloutIdForFlag(targetKey(spec.target));
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
  /**
   * The operator's catalog, when this side has it (`rollout serve`, `--config`): the spec is then resolved and
   * checked against it and its policy before anything starts. Without it only the spec's shape is checked here; the
   * workflow's own check (against the worker's catalog) is the one that decides.
   */
  catalog?: Catalog;
  /** Start an undo of a completed run of this spec ({@link RolloutClient.undo}): no step runs, exposure goes back. */
  undo?: UndoRequest;
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
  const { undo } = options;
  // an undo is a rollback, which allowed hours never hold back
  const checked = checkedSpec(input, options.catalog, undo === undefined);
  const spec = checked.request;
  const target = targetKey(spec.target);
  const variant =
    checked.resolved?.target.variant ??
    (typeof spec.target === 'string' ? undefined : (spec.target.variant as string | undefined));
  const workflowId = options.workflowId ?? rolloutWorkflowId(spec);
  try {
    return await client.workflow.start<typeof progressiveRollout>(WORKFLOW_TYPE, {
      taskQueue: options.taskQueue ?? TASK_QUEUE,
      workflowId,
      args: [undo ? { spec, undo } : { spec }],
      workflowIdConflictPolicy: 'FAIL',
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      typedSearchAttributes: [
        { key: RolloutPhaseKey, value: 'Pending' },
        // the flag, as the workflow records it; before a catalog resolved it, the name is all this side knows
        { key: RolloutTargetKey, value: checked.resolved?.target.flag ?? target },
        { key: RolloutExposureKey, value: spec.rollback.exposure },
        { key: RolloutStepKey, value: 0 },
      ],
      ...(undo
        ? {
            staticSummary: `undo ${spec.name}: ${target} back to ${spec.rollback.exposure}%`,
            staticDetails: `undo of run ${undo.of} by ${undo.actor}: ${undo.reason}`,
          }
        : {
            staticSummary: `${spec.name}: ${target}${variant !== undefined ? ` → ${variant}` : ''} in ${spec.steps.length} steps`,
            staticDetails: spec.steps.map((s, i) => `${i + 1}. ${describeStep(s)}`).join('\n'),
          }),
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

/** The spec checked as far as this side can: fully against a catalog, else its shape. */
function checkedSpec(
  input: unknown,
  catalog: Catalog | undefined,
  checkHours: boolean,
): { request: RolloutSpec; resolved?: ResolvedSpec } {
  if (catalog === undefined) {
    const shape = validateSpec(input);
    if (!shape.ok) throw new ValidationError(`invalid rollout spec:\n${describeIssues(shape.issues)}`, shape.issues);
    return { request: shape.spec };
  }
  const full = checkSpec(input, catalog, checkHours ? { startingAt: new Date() } : {});
  if (!full.ok) throw new ValidationError(`invalid rollout spec:\n${describeIssues(full.issues)}`, full.issues);
  return { request: full.request, resolved: full.spec };
}
