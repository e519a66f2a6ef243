import { isCancellation, sleep } from '@temporalio/workflow';
import { compensationLabel } from '../src/domain/rollout-state.js';
import type { CompensationEntry } from '../src/domain/rollout-state.schema.js';
import { rollbackActivities } from './activities.js';
import { causeMessage } from './failure-message.js';
import { rolloutMetrics } from './metrics.js';
import { now, type Rollout } from './rollout.js';

const MAX_BACKOFF_MS = 30_000;

/** Backoff before retry `attempt` (1-based): 1 s, 2 s, 4 s … capped at 30 s. */
export function rollbackBackoffMs(attempt: number): number {
  return Math.min(1_000 * 2 ** (attempt - 1), MAX_BACKOFF_MS);
}

/**
 * The saga: pop compensations in reverse (exposure first, then custom hooks in reverse spec order), then
 * set the baseline exposure once more and verify it by reading it back. Runs in a non-cancellable scope;
 * every step retries until it succeeds, and `status` shows the retrying state meanwhile.
 */
export async function runRollback(r: Rollout): Promise<void> {
  const { spec, state } = r;
  const rollback = state.rollback!;
  while (state.compensations.length > 0) {
    const entry = state.compensations[state.compensations.length - 1]!;
    const label = compensationLabel(entry);
    const opIndex = state.compensations.length - 1;
    await untilItSucceeds(r, label, () => runEntry(r, entry, opIndex));
    state.compensations.pop();
    rollback.done.push(label);
  }
  const baseline = { percent: spec.rollback.exposure };
  await untilItSucceeds(r, 'verify baseline', async () => {
    const reading = await rollbackActivities.applyExposure.executeWithOptions(
      { summary: `verify ${spec.target.flag} is back at ${baseline.percent}%` },
      [{ target: spec.target, exposure: baseline, idempotencyKey: `${state.rolloutRunId}:rollback:verify` }],
    );
    state.exposure = { percent: reading.percent };
  });
  rollback.done.push('verify baseline');
  rollback.finishedAt = now();
  const final = rollback.trigger === 'abort' || rollback.trigger === 'cancel' ? 'Aborted' : 'RolledBack';
  r.enter(final, `back at ${baseline.percent}%: ${rollback.reason}`, rollback.actor);
}

async function runEntry(r: Rollout, entry: CompensationEntry, opIndex: number): Promise<void> {
  const { spec, state } = r;
  const idempotencyKey = `${state.rolloutRunId}:rollback:${opIndex}`;
  if (entry.kind === 'exposure') {
    const reading = await rollbackActivities.applyExposure.executeWithOptions(
      { summary: `roll ${spec.target.flag} back to ${entry.restore.percent}%` },
      [{ target: spec.target, exposure: entry.restore, idempotencyKey }],
    );
    state.exposure = { percent: reading.percent, ...(reading.cohort ? { cohort: reading.cohort } : {}) };
    return;
  }
  const compensation = spec.rollback.compensations[entry.index]!;
  await rollbackActivities.runCompensation.executeWithOptions(
    { startToCloseTimeout: `${compensation.http.timeoutMs + 5_000}ms`, summary: `compensation: ${entry.name}` },
    [{ compensation, idempotencyKey }],
  );
}

async function untilItSucceeds(r: Rollout, what: string, op: () => Promise<void>): Promise<void> {
  const rollback = r.state.rollback!;
  for (let attempt = 1; ; attempt++) {
    try {
      await op();
      if (rollback.retrying) {
        rollback.retrying = false;
        delete rollback.retryingWhat;
        delete rollback.nextRetryAt;
        r.publish();
      }
      return;
    } catch (err) {
      if (isCancellation(err)) throw err;
      const wait = rollbackBackoffMs(attempt);
      rollback.failedAttempts += 1;
      rolloutMetrics.rollbackRetry();
      rollback.retrying = true;
      rollback.retryingWhat = what;
      rollback.lastError = causeMessage(err);
      rollback.nextRetryAt = new Date(Date.now() + wait).toISOString();
      r.publish();
      await sleep(wait, { summary: `retry ${what} (attempt ${attempt + 1})` });
    }
  }
}
