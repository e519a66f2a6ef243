import {
  ApplicationFailure,
  condition,
  ParentClosePolicy,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { compensationLabel } from '../src/domain/rollout-state.js';
import { compensationName } from '../src/domain/spec.js';
import type { RolloutInput } from './messages.js';
import type { DrillSpecInput } from '../src/domain/drill.schema.js';
import { DRILL_GUARD, judgeDrill, type DrillReport } from '../src/domain/drill.js';
import { toMs } from '../src/domain/time.js';
import { guardBreachSignal, rolloutPhaseSignal, type PhaseReport, type RolloutResult } from './messages.js';
import { progressiveRollout } from './progressive-rollout.js';
import { drillActivities } from './activities.js';
import { acceptDrillSpec } from './spec-check.js';

const { readExposure, notify } = drillActivities;

/**
 * A rollout drill: starts a real `progressiveRollout` as a child against the drill's target, injects a breach
 * at the chosen step, and checks that the rollout rolled back, the target reads its baseline, every
 * compensation ran exactly once, and detection and rollback met the SLO — all within the drill's deadline.
 * A failed drill fails this workflow (visible in the UI) with the report as failure details.
 */
export async function rolloutDrill(input: { drill: DrillSpecInput }): Promise<DrillReport> {
  const { drill, spec, request } = await acceptDrillSpec(input.drill);
  const deadlineAt = Date.now() + toMs(drill.deadline);
  const reports: PhaseReport[] = [];
  setHandler(rolloutPhaseSignal, (r) => void reports.push(r));

  const rolloutWorkflowId = `${workflowInfo().workflowId}/rollout`;
  const child = await startChild(progressiveRollout, {
    workflowId: rolloutWorkflowId,
    // the child resolves the rollout again: its input is a caller's spec, checked like any other
    // (drills prepared before version 2 carry no request: their resolved spec, webhook and log notifiers only, goes)
    args: [{ spec: request ?? (spec as RolloutInput['spec']), reportPhases: true }],
    // a drill that gives up must not leave its sandbox rollout running
    parentClosePolicy: ParentClosePolicy.TERMINATE,
    staticSummary: `drill ${drill.name}: breach at step ${drill.inject.atStep + 1} by ${drill.inject.method}`,
  });
  let result: RolloutResult | undefined;
  let childError: unknown;
  void child.result().then(
    (r) => (result = r),
    (e: unknown) => (childError = e),
  );
  const remaining = () => Math.max(0, deadlineAt - Date.now());
  const atStep = (r: PhaseReport) => r.step === drill.inject.atStep && r.phase === 'Observing';

  let injectedAtMs: number | undefined;
  await condition(() => reports.some(atStep) || result !== undefined || childError !== undefined, remaining());
  const observing = reports.find(atStep);
  if (observing) {
    if (drill.inject.method === 'signal') {
      if (drill.inject.after) await sleep(toMs(drill.inject.after));
      injectedAtMs = Date.now();
      await child.signal(guardBreachSignal, {
        guard: DRILL_GUARD,
        source: `drill ${drill.name}`,
        reason: 'injected by a rollout drill',
      });
    } else {
      injectedAtMs = Date.parse(observing.at); // the synthetic guard fails from the window's first check
    }
  }
  await condition(() => result !== undefined || childError !== undefined, remaining());

  const last = reports[reports.length - 1];
  const rollback = result?.rollback ?? last?.rollback;
  const stillRunning = result || childError ? undefined : describeStuck(last);
  const reading = await readExposure(spec.target).catch(() => undefined);
  const report = judgeDrill({
    drill,
    rolloutWorkflowId,
    finalPhase:
      result?.phase ?? (childError ? `failed (${(childError as Error).message})` : (last?.phase ?? 'unknown')),
    ...(stillRunning ? { stillRunning } : {}),
    ...(result ? { finalReason: result.reason } : {}),
    ...(injectedAtMs !== undefined ? { injectedAtMs } : {}),
    ...(rollback ? { detectedAtMs: Date.parse(rollback.requestedAt) } : {}),
    ...(rollback?.finishedAt ? { rolledBackAtMs: Date.parse(rollback.finishedAt) } : {}),
    baseline: { expected: spec.rollback.exposure, actual: reading?.percent },
    compensations: spec.rollback.compensations.map((c, index) => {
      const name = compensationLabel({ kind: 'custom', index, name: compensationName(c) });
      return { name, runs: (rollback?.done ?? []).filter((d) => d === name).length };
    }),
  });
  if (drill.notify.length) {
    await notify({
      notifiers: drill.notify,
      event: {
        rollout: drill.name,
        workflowId: workflowInfo().workflowId,
        phase: report.passed ? 'DrillPassed' : 'DrillFailed',
        step: drill.inject.atStep,
        exposure: reading?.percent ?? -1,
        cause: report.passed ? `rolled back in ${report.timeToRollbackMs} ms` : report.reasons.join('; '),
        at: new Date().toISOString(),
      },
      idempotencyKey: `${workflowInfo().runId}:drill-notify`,
    }).catch(() => undefined);
  }
  if (!report.passed)
    throw ApplicationFailure.nonRetryable(
      `drill ${drill.name} failed: ${report.reasons.join('; ')}`,
      'DrillFailed',
      report,
    );
  return report;
}

function describeStuck(last: PhaseReport | undefined): string {
  if (!last) return 'it never reported a phase';
  const r = last.rollback;
  if (r?.retrying)
    return `still ${last.phase}, retrying ${r.retryingWhat ?? 'a compensation'} after ${r.failedAttempts} failures: ${r.lastError ?? ''}`;
  return `still ${last.phase} (${last.cause})`;
}
