import {
  CancellationScope,
  getExternalWorkflowHandle,
  log,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { RolloutActivities } from '../activities/index.js';
import { detailsMarkdown } from '../src/domain/describe.js';
import { RolloutExposureKey, RolloutPhaseKey, RolloutStepKey, RolloutTargetKey } from '../src/temporal/search-attributes.js';
import { rolloutPhaseSignal } from './messages.js';
import { ROLLOUT_V2_PATCH } from './patches.js';
import type { Rollout } from './state-ops.js';

/** Forward-path activities: a few retries, then the rollout fails and rolls back. */
export const forwardActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '10s', maximumAttempts: 5 },
});

/**
 * Rollback activities: two quick attempts each; the saga loops around them with a durable backoff timer,
 * so retrying never ends and `status` can say that it is retrying.
 */
export const rollbackActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '500ms', backoffCoefficient: 2, maximumAttempts: 2 },
});

/** Guard evaluation: options are set per window (timeouts follow the window's length). */
export const guardActivities = proxyActivities<RolloutActivities>({ startToCloseTimeout: '1h', heartbeatTimeout: '20s' });

const notifyActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Workflow time as an ISO string (deterministic: the SDK replays the same clock). */
export const now = (): string => new Date().toISOString();

const pendingNotifications: Promise<unknown>[] = [];
/** Timeline length at the last notification: retries republish state without repeating a phase change. */
let notifiedUpTo = 0;

/** Makes the current state visible: search attributes, the UI's current details, and notifiers. */
export function publish(r: Rollout): void {
  const { spec, state } = r;
  if (patched(ROLLOUT_V2_PATCH)) upsertChangedSearchAttributes(r);
  else {
    upsertSearchAttributes([
      { key: RolloutPhaseKey, value: state.phase },
      { key: RolloutTargetKey, value: spec.target.flag },
      { key: RolloutExposureKey, value: state.exposure.percent },
      { key: RolloutStepKey, value: state.step },
    ]);
  }
  setCurrentDetails(detailsMarkdown(spec, state));
  reportToParent(r);
  if (spec.notify.length === 0 || state.timeline.length <= notifiedUpTo) return;
  notifiedUpTo = state.timeline.length;
  const last = state.timeline[state.timeline.length - 1]!;
  const event = {
    rollout: spec.name,
    workflowId: workflowInfo().workflowId,
    phase: last.phase,
    step: last.step,
    exposure: last.exposure,
    cause: last.cause,
    at: last.at,
    ...(last.actor !== undefined ? { actor: last.actor } : {}),
  };
  // notifications never hold up the rollout; failures are logged and the rollout goes on
  const sent = notifyActivities.notify
    .executeWithOptions({ startToCloseTimeout: '15s', summary: `notify ${last.phase}` }, [
      { notifiers: spec.notify, event, idempotencyKey: `${state.rolloutRunId}:notify:${state.timeline.length}` },
    ])
    .catch((err: unknown) => log.warn('notification failed', { error: (err as Error).message }));
  pendingNotifications.push(sent);
}

/** Search attribute values as last written, or as set at start (by the client, or carried by continue-as-new). */
let visible: Map<string, unknown> | undefined;

/** An observation window shorter than this is not worth a visibility write: the next write follows within it. */
const MIN_VISIBLE_WINDOW_MS = 1_000;

/**
 * Writes the search attributes whose values changed; each upsert is a history event and a visibility write (on
 * the dev server's SQLite store, the costliest part of a short step). States that last less than a second are
 * left to `status` and the details, and list queries see the last lasting phase, step and exposure: `Progressing`
 * (an exposure change in flight) and an observation window shorter than {@link MIN_VISIBLE_WINDOW_MS}.
 */
function upsertChangedSearchAttributes(r: Rollout): void {
  const { spec, state } = r;
  if (state.phase === 'Progressing') return;
  if (state.phase === 'Observing' && state.windowEndsAt && Date.parse(state.windowEndsAt) - Date.now() < MIN_VISIBLE_WINDOW_MS) return;
  if (!visible) {
    const start = workflowInfo().typedSearchAttributes;
    visible = new Map<string, unknown>([
      [RolloutPhaseKey.name, start.get(RolloutPhaseKey)],
      [RolloutTargetKey.name, start.get(RolloutTargetKey)],
      [RolloutExposureKey.name, start.get(RolloutExposureKey)],
      [RolloutStepKey.name, start.get(RolloutStepKey)],
    ]);
  }
  const next: SearchAttributeUpdatePair[] = [
    { key: RolloutPhaseKey, value: state.phase },
    { key: RolloutTargetKey, value: spec.target.flag },
    { key: RolloutExposureKey, value: state.exposure.percent },
    { key: RolloutStepKey, value: state.step },
  ];
  const changed = next.filter((p) => visible!.get(p.key.name) !== p.value);
  if (changed.length === 0) return;
  upsertSearchAttributes(changed);
  for (const p of changed) visible.set(p.key.name, p.value);
}

let reportedUpTo = 0;
let reportedFailures = 0;

/** Signals the parent (a drill) on each phase change and each failed rollback attempt. */
function reportToParent(r: Rollout): void {
  const { state } = r;
  const failures = state.rollback?.failedAttempts ?? 0;
  if (!r.reportTo || (state.timeline.length <= reportedUpTo && failures === reportedFailures)) return;
  reportedUpTo = state.timeline.length;
  reportedFailures = failures;
  const last = state.timeline[state.timeline.length - 1]!;
  const report = {
    workflowId: workflowInfo().workflowId,
    phase: state.phase,
    step: state.step,
    exposure: state.exposure.percent,
    cause: last.cause,
    at: last.at,
    ...(state.rollback ? { rollback: { ...state.rollback, done: [...state.rollback.done] } } : {}),
  };
  const sent = getExternalWorkflowHandle(r.reportTo)
    .signal(rolloutPhaseSignal, report)
    .catch((err: unknown) => log.warn('could not report to parent', { error: (err as Error).message }));
  pendingNotifications.push(sent);
}

/**
 * Waits, in a non-cancellable scope, for notifications still in flight, so the last phase change is delivered
 * before the run ends. Without any it awaits nothing (a scope costs promises, each with a captured stack).
 */
export async function settleNotifications(): Promise<void> {
  if (pendingNotifications.length === 0) return;
  const pending = pendingNotifications.splice(0);
  await CancellationScope.nonCancellable(() => Promise.allSettled(pending));
}
