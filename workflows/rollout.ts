import { patched } from '@temporalio/workflow';
import { boundBreach, type CommandAck } from '../src/domain/commands.js';
import type {
  AbortCommand,
  ApproveCommand,
  PauseCommand,
  PromoteCommand,
  ResumeCommand,
} from '../src/domain/commands.schema.js';
import { enterPhase, PUSHED_BREACH_CHECK, recordPushedBreach } from '../src/domain/rollout-state.js';
import type { PauseReason, Phase, RollbackTrigger, RolloutState } from '../src/domain/rollout-state.schema.js';
import type { ResolvedSpec, RolloutSpecInput } from '../src/domain/spec.schema.js';
import { formatValue } from '../src/domain/units.js';
import { isTerminal } from '../src/domain/rollout-state.js';
import { addFailures } from './guard-budget.js';
import { ROLLOUT_V3_PATCH } from './patches.js';
import { Publisher } from './publisher.js';
import type { WindowTimer } from './window-timer.js';
import type { BackgroundGuards } from './background.js';
import { rolloutMetrics } from './metrics.js';

/** Refused breaches noted in the timeline; later ones are only counted (`refusedBreaches`). */
const MAX_REFUSED_BREACH_NOTES = 5;

/** Workflow time as an ISO string (deterministic: the SDK replays the same clock). */
export const now = (): string => new Date().toISOString();

/**
 * The workflow's one mutable object: the validated spec, the state every handler reads, and every transition.
 * A phase change is recorded and published in one place ({@link Rollout.enter}); message handlers are one-line
 * calls into the command methods, and the main flow reacts to what they changed at its next `condition`.
 */
export class Rollout {
  /** Timers of guard-less observation windows (made at the first such window; not part of the carried state). */
  windowTimer?: WindowTimer;
  /** Guards that watch the whole rollout (version 5). */
  background?: BackgroundGuards;
  /** Runs from {@link ROLLOUT_V5_PATCH} on: one tally per guard across the rollout, background guards, final bake. */
  v5 = false;
  private readonly publisher: Publisher;

  constructor(
    readonly spec: ResolvedSpec,
    readonly state: RolloutState,
    /** The spec as the caller sent it: a continue-as-new carries this, and the next run resolves it again. */
    readonly request: RolloutSpecInput,
    /** Parent workflow ID to report phase changes to, when the starter asked for it. */
    readonly reportTo?: string,
  ) {
    this.publisher = new Publisher(spec, state, reportTo);
  }

  get rollingBack(): boolean {
    return this.state.rollback !== undefined;
  }

  /**
   * Between steps an operator (or guard) pause holds the rollout until resume, promote or rollback. A plain test,
   * so the common case (no pause) awaits nothing: every promise a workflow creates costs a captured stack trace.
   */
  get heldByPause(): boolean {
    return this.state.pauseReasons.length > 0 && !this.rollingBack;
  }

  /** Records a phase change (or a decision within a phase) with its cause, and publishes it. */
  enter(phase: Phase, cause: string, actor?: string): void {
    enterPhase(this.state, phase, cause, now(), actor);
    if (isTerminal(phase)) rolloutMetrics.finished(phase);
    this.publish();
  }

  /** Republishes the current state (e.g. while a rollback retries), repeating no notification. */
  publish(): void {
    this.publisher.publish();
  }

  /** Waits for notifications and parent reports still in flight. */
  settleNotifications(): Promise<void> {
    return this.publisher.settle();
  }

  /** Marks the rollout as rolling back; the main flow notices at its next wait and runs the saga. */
  requestRollback(trigger: RollbackTrigger, reason: string, actor?: string): void {
    const { state } = this;
    if (state.rollback) return;
    state.rollback = {
      trigger,
      reason,
      ...(actor !== undefined ? { actor } : {}),
      requestedAt: now(),
      failedAttempts: 0,
      retrying: false,
      done: [],
    };
    rolloutMetrics.rollback(trigger);
    state.pauseReasons = [];
    state.resumePhase = undefined;
    state.windowEndsAt = undefined;
    this.enter('RollingBack', reason, actor);
  }

  /** Adds a pause reason; the first one moves the rollout to Paused and remembers where to return. */
  addPause(reason: PauseReason): void {
    const { state } = this;
    state.pauseReasons.push(reason);
    if (state.phase !== 'Paused') {
      state.resumePhase = state.phase;
      this.enter('Paused', reason.reason, reason.actor);
    }
  }

  /** Keeps only the pause reasons `keep` accepts; when none is left the rollout returns to its previous phase. */
  clearPauses(keep: (p: PauseReason) => boolean, actor?: string, cause?: string): void {
    const { state } = this;
    const before = state.pauseReasons.length;
    state.pauseReasons = state.pauseReasons.filter(keep);
    if (before > 0 && state.pauseReasons.length === 0 && state.phase === 'Paused' && !this.rollingBack) {
      const back = state.resumePhase ?? 'Progressing';
      state.resumePhase = undefined;
      this.enter(back, cause ?? 'pause ended', actor);
    }
  }

  /** Removes every pause reason of one kind. */
  removePauses(kind: PauseReason['kind'], actor?: string, cause?: string): void {
    this.clearPauses((p) => p.kind !== kind, actor, cause);
  }

  // Operator commands: the Update validators (src/domain/commands.ts) have already accepted them.

  pause(cmd: PauseCommand): CommandAck {
    this.addPause({ kind: 'operator', reason: cmd.reason, actor: cmd.actor, at: now() });
    return this.ack();
  }

  resume(cmd: ResumeCommand): CommandAck {
    this.clearPauses((p) => p.kind === 'approval-timeout', cmd.actor, `resumed by ${cmd.actor}`);
    return this.ack();
  }

  promote(cmd: PromoteCommand): CommandAck {
    const { state } = this;
    state.promoteRequested = true;
    // a pause it clears, or the window it ends, is recorded with this cause
    let [onPause, onWindow] = [`promoted by ${cmd.actor}`, `promoted by ${cmd.actor}: window ended early`];
    if (cmd.full === true) {
      const forced = cmd.force === true;
      state.promoteFull = { actor: cmd.actor, at: now(), forced, ...(cmd.reason ? { reason: cmd.reason } : {}) };
      onPause =
        onWindow = `promoted to full by ${cmd.actor}${forced ? `, forced past failing guards: ${cmd.reason ?? ''}` : cmd.reason ? `: ${cmd.reason}` : ''}`;
    }
    const hadPause = state.pauseReasons.some((p) => p.kind !== 'approval-timeout');
    if (hadPause) this.clearPauses((p) => p.kind === 'approval-timeout', cmd.actor, onPause);
    else this.enterByCommand(state.phase, onWindow, cmd.actor);
    return this.ack();
  }

  approve(cmd: ApproveCommand): CommandAck {
    const { state } = this;
    state.approvals.push({
      step: cmd.step,
      actor: cmd.actor,
      at: now(),
      ...(cmd.comment ? { comment: cmd.comment } : {}),
    });
    const cause = `step ${cmd.step + 1} approved by ${cmd.actor}`;
    if (state.phase !== 'Paused') this.enterByCommand('AwaitingApproval', cause, cmd.actor);
    else if (state.pauseReasons.some((p) => p.kind === 'approval-timeout'))
      this.removePauses('approval-timeout', cmd.actor, cause);
    else this.enterByCommand('Paused', `${cause}; still paused by operator`, cmd.actor);
    return this.ack();
  }

  abort(cmd: AbortCommand): CommandAck {
    this.requestRollback('abort', `aborted by ${cmd.actor}: ${cmd.reason}`, cmd.actor);
    return this.ack();
  }

  /**
   * A pushed breach: a critical (or unknown) guard rolls back at once, others count against their failureLimit.
   * The payload is bounded first: a signal can come from any Temporal SDK, in any shape and size, and neither a
   * wrongly typed field nor any number of signals may throw here or grow the state without end.
   */
  breach(payload: unknown): void {
    const { spec, state } = this;
    if (state.rollback || state.phase === 'Completed') return;
    if (this.v5) return this.breachV5(payload);
    const breach = boundBreach(payload);
    const value = breach.value !== undefined ? ` (value ${breach.value})` : '';
    const what = `guard ${breach.guard} breached${value}${breach.source ? ` per ${breach.source}` : ''}`;
    const guard = breach.name === undefined ? undefined : spec.guards.find((g) => g.name === breach.name);
    if (guard && !guard.critical) {
      const count = (state.breaches[guard.name] ?? 0) + 1;
      state.breaches[guard.name] = count;
      recordPushedBreach(state.measurements, {
        guard: guard.name,
        at: now(),
        step: state.step,
        check: PUSHED_BREACH_CHECK,
        verdict: 'Failed',
        value: breach.value ?? null,
        threshold: `pushed breach ${count}/${guard.failureLimit + 1}`,
        detail: breach.reason ?? what,
      });
      if (count <= guard.failureLimit) return;
    }
    this.requestRollback('guard', what);
  }

  /**
   * A pushed breach from version 5 on: it counts in its guard's one tally, beside the pulled failures (see
   * `guard-budget.ts`); a critical guard rolls back at once, a dry-run guard only records it, and a breach naming
   * no guard of this rollout is refused, with a note in the timeline (the first few; the rest are counted).
   */
  private breachV5(payload: unknown): void {
    const { spec, state } = this;
    if (isTerminal(state.phase)) return;
    const breach = boundBreach(payload);
    const guard = breach.name === undefined ? undefined : spec.guards.find((g) => g.name === breach.name);
    if (!guard) {
      const refused = (state.refusedBreaches ?? 0) + 1;
      state.refusedBreaches = refused;
      if (refused <= MAX_REFUSED_BREACH_NOTES)
        this.enter(
          state.phase,
          `breach refused: this rollout has no guard named "${breach.guard}"${breach.source ? ` (from ${breach.source})` : ''}`,
        );
      return;
    }
    const pushed = (state.breaches[guard.name] ?? 0) + 1;
    state.breaches[guard.name] = pushed;
    const failures = addFailures(this, guard.name, 1);
    // a background guard's measured failures live in its carried tally, not in state.failures
    const measured =
      'during' in guard && guard.during === 'rollout'
        ? (state.background?.find((t) => t.guard === guard.name)?.failed ?? 0)
        : 0;
    const total = failures + measured;
    const value = breach.value !== undefined ? ` (value ${formatValue(breach.value, guard.unit)})` : '';
    const what = `guard ${guard.name} breached${value}${breach.source ? ` per ${breach.source}` : ''}`;
    recordPushedBreach(state.measurements, {
      guard: guard.name,
      at: now(),
      step: state.step,
      check: PUSHED_BREACH_CHECK,
      verdict: 'Failed',
      value: breach.value ?? null,
      threshold: `failure ${total} of ${guard.failureLimit} tolerated (pushed)`,
      ...(guard.unit ? { unit: guard.unit } : {}),
      ...(guard.dryRun ? { dryRun: true } : {}),
      detail: breach.reason ?? what,
    });
    if (guard.dryRun) return;
    if (guard.critical) return this.requestRollback('guard', `critical ${what}`);
    if (total > guard.failureLimit)
      this.requestRollback(
        'guard',
        `${what}: failed ${total}× (limit ${guard.failureLimit}), ${pushed} pushed and ${total - pushed} measured`,
      );
  }

  /**
   * A decision an operator command records within the current phase (promote ends a window, approve releases a
   * step). Runs recorded before {@link ROLLOUT_V3_PATCH} did not publish these; they replay as they ran.
   */
  private enterByCommand(phase: Phase, cause: string, actor: string): void {
    enterPhase(this.state, phase, cause, now(), actor);
    if (patched(ROLLOUT_V3_PATCH)) this.publish();
  }

  private ack(): CommandAck {
    return { accepted: true, phase: this.state.phase, step: this.state.step };
  }
}
