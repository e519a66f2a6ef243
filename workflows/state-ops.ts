import type { PauseReason, RollbackTrigger, RolloutState } from '../src/domain/rollout-state.schema.js';
import { enterPhase } from '../src/domain/rollout-state.js';
import type { RolloutSpec } from '../src/domain/spec.schema.js';
import { now, publish } from './effects.js';
import type { WindowTimer } from './window-timer.js';

/** The workflow's one mutable object: the validated spec and the state every handler reads. */
export interface Rollout {
  spec: RolloutSpec;
  state: RolloutState;
  /** Parent workflow ID to report phase changes to, when the starter asked for it. */
  reportTo?: string;
  /** Timers of guard-less observation windows (made at the first such window; not part of the carried state). */
  windowTimer?: WindowTimer;
}

export const rollingBack = (r: Rollout): boolean => r.state.rollback !== undefined;

/** Marks the rollout as rolling back; the main flow notices at its next wait and runs the saga. */
export function requestRollback(r: Rollout, trigger: RollbackTrigger, reason: string, actor?: string): void {
  if (r.state.rollback) return;
  r.state.rollback = {
    trigger,
    reason,
    ...(actor !== undefined ? { actor } : {}),
    requestedAt: now(),
    failedAttempts: 0,
    retrying: false,
    done: [],
  };
  r.state.pauseReasons = [];
  r.state.resumePhase = undefined;
  r.state.windowEndsAt = undefined;
  enterPhase(r.state, 'RollingBack', reason, now(), actor);
  publish(r);
}

/** Adds a pause reason; the first one moves the rollout to Paused and remembers where to return. */
export function addPause(r: Rollout, reason: PauseReason): void {
  const { state } = r;
  state.pauseReasons.push(reason);
  if (state.phase !== 'Paused') {
    state.resumePhase = state.phase;
    enterPhase(state, 'Paused', reason.reason, now(), reason.actor);
    publish(r);
  }
}

/** Keeps only the pause reasons `keep` accepts; when none is left the rollout returns to its previous phase. */
export function clearPauses(r: Rollout, keep: (p: PauseReason) => boolean, actor?: string, cause?: string): void {
  const { state } = r;
  const before = state.pauseReasons.length;
  state.pauseReasons = state.pauseReasons.filter(keep);
  if (before > 0 && state.pauseReasons.length === 0 && state.phase === 'Paused' && !rollingBack(r)) {
    const back = state.resumePhase ?? 'Progressing';
    state.resumePhase = undefined;
    enterPhase(state, back, cause ?? 'pause ended', now(), actor);
    publish(r);
  }
}

/** Removes every pause reason of one kind. */
export function removePauses(r: Rollout, kind: PauseReason['kind'], actor?: string, cause?: string): void {
  clearPauses(r, (p) => p.kind !== kind, actor, cause);
}
