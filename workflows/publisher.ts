import {
  CancellationScope,
  getExternalWorkflowHandle,
  log,
  patched,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { detailsMarkdown } from '../src/domain/describe.js';
import type { RolloutState } from '../src/domain/rollout-state.schema.js';
import type { ResolvedSpec } from '../src/domain/spec.schema.js';
import {
  ROLLOUT_SEARCH_ATTRIBUTES,
  RolloutExposureKey,
  RolloutPhaseKey,
  RolloutStepKey,
  RolloutTargetKey,
} from '../src/temporal/search-attributes.js';
import { notifyActivities } from './activities.js';
import { rolloutPhaseSignal } from './messages.js';
import { ROLLOUT_V2_PATCH } from './patches.js';

/** An observation window shorter than this is not worth a visibility write: the next write follows within it. */
const MIN_VISIBLE_WINDOW_MS = 1_000;

/**
 * Makes a rollout's state visible: search attributes, the UI's current details, notifiers and the parent drill.
 * Owned by one rollout; it remembers what it has published so a republish of the same state repeats nothing.
 */
export class Publisher {
  private readonly inFlight: Promise<unknown>[] = [];
  /** Timeline length at the last notification: retries republish state without repeating a phase change. */
  private notifiedUpTo = 0;
  private reportedUpTo = 0;
  private reportedFailures = 0;
  /** Search attribute values as last written, or as set at start (by the client, or carried by continue-as-new). */
  private visible?: Map<string, unknown>;

  constructor(
    private readonly spec: ResolvedSpec,
    private readonly state: RolloutState,
    /** Parent workflow ID to report phase changes to, when the starter asked for it. */
    private readonly reportTo: string | undefined,
  ) {}

  publish(): void {
    const { spec, state } = this;
    if (patched(ROLLOUT_V2_PATCH)) this.upsertChangedSearchAttributes();
    else {
      upsertSearchAttributes([
        { key: RolloutPhaseKey, value: state.phase },
        { key: RolloutTargetKey, value: spec.target.flag },
        { key: RolloutExposureKey, value: state.exposure.percent },
        { key: RolloutStepKey, value: state.step },
      ]);
    }
    setCurrentDetails(detailsMarkdown(spec, state));
    this.reportToParent();
    this.notify();
  }

  /**
   * Waits, in a non-cancellable scope, for notifications still in flight, so the last phase change is delivered
   * before the run ends. Without any it awaits nothing (a scope costs promises, each with a captured stack).
   */
  async settle(): Promise<void> {
    if (this.inFlight.length === 0) return;
    const pending = this.inFlight.splice(0);
    await CancellationScope.nonCancellable(() => Promise.allSettled(pending));
  }

  private notify(): void {
    const { spec, state } = this;
    if (spec.notify.length === 0 || state.timeline.length <= this.notifiedUpTo) return;
    this.notifiedUpTo = state.timeline.length;
    const last = state.timeline[state.timeline.length - 1]!;
    const event = {
      rollout: spec.name,
      workflowId: workflowInfo().workflowId,
      phase: last.phase,
      step: last.step,
      totalSteps: state.totalSteps,
      exposure: last.exposure,
      cause: last.cause,
      at: last.at,
      ...(last.actor !== undefined ? { actor: last.actor } : {}),
    };
    // notifications never hold up the rollout; failures are logged and the rollout goes on
    const sent = notifyActivities.notify
      .executeWithOptions({ summary: `notify ${last.phase}` }, [
        { notifiers: spec.notify, event, idempotencyKey: `${state.rolloutRunId}:notify:${state.timeline.length}` },
      ])
      .catch((err: unknown) => log.warn('notification failed', { error: (err as Error).message }));
    this.inFlight.push(sent);
  }

  /**
   * Writes the search attributes whose values changed; each upsert is a history event and a visibility write (on
   * the dev server's SQLite store, the costliest part of a short step). States that last less than a second are
   * left to `status` and the details, and list queries see the last lasting phase, step and exposure: `Progressing`
   * (an exposure change in flight) and an observation window shorter than {@link MIN_VISIBLE_WINDOW_MS}.
   */
  private upsertChangedSearchAttributes(): void {
    const { spec, state } = this;
    if (state.phase === 'Progressing') return;
    if (
      state.phase === 'Observing' &&
      state.windowEndsAt &&
      Date.parse(state.windowEndsAt) - Date.now() < MIN_VISIBLE_WINDOW_MS
    )
      return;
    const visible = (this.visible ??= this.startingSearchAttributes());
    const next: SearchAttributeUpdatePair[] = [
      { key: RolloutPhaseKey, value: state.phase },
      { key: RolloutTargetKey, value: spec.target.flag },
      { key: RolloutExposureKey, value: state.exposure.percent },
      { key: RolloutStepKey, value: state.step },
    ];
    const changed = next.filter((p) => visible.get(p.key.name) !== p.value);
    if (changed.length === 0) return;
    upsertSearchAttributes(changed);
    for (const p of changed) visible.set(p.key.name, p.value);
  }

  private startingSearchAttributes(): Map<string, unknown> {
    const start = workflowInfo().typedSearchAttributes;
    return new Map<string, unknown>(ROLLOUT_SEARCH_ATTRIBUTES.map((key) => [key.name, start.get(key)]));
  }

  /** Signals the parent (a drill) on each phase change and each failed rollback attempt. */
  private reportToParent(): void {
    const { state } = this;
    const failures = state.rollback?.failedAttempts ?? 0;
    if (!this.reportTo || (state.timeline.length <= this.reportedUpTo && failures === this.reportedFailures)) return;
    this.reportedUpTo = state.timeline.length;
    this.reportedFailures = failures;
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
    const sent = getExternalWorkflowHandle(this.reportTo)
      .signal(rolloutPhaseSignal, report)
      .catch((err: unknown) => log.warn('could not report to parent', { error: (err as Error).message }));
    this.inFlight.push(sent);
  }
}
