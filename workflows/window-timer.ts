import { CancellationScope, condition, isCancellation, sleep } from '@temporalio/workflow';

/**
 * The timers of a rollout's guard-less observation windows, each cut short when the rollout is interrupted
 * (promote, rollback). Emits the commands `condition(interrupted, ms, { summary })` emits: StartTimer, and
 * CancelTimer once `interrupted` turns true while the timer runs (also when it is true as the window opens). It
 * is cheaper per window: `condition` with a timeout builds a scope, a race and a blocked condition for every
 * call (some thirty promises, each of which the SDK gives a captured, source-mapped stack trace), where this
 * keeps one scope and one blocked condition for as long as nothing interrupts, and adds only the timer per window.
 *
 * Like `condition`, the interruption is noticed when the SDK checks blocked conditions, after an activation's
 * jobs have run, so the CancelTimer takes the same place among the activation's commands. A cancellation of the
 * workflow cancels the open timer through the scope and is rethrown; a window that opens after the workflow was
 * cancelled starts no timer. Made in the rollout's main flow (whose scope is the workflow's root), which is the
 * parent of its scopes, as it was of the scopes `condition` made.
 */
export class WindowTimer {
  /** The scope the rollout's main flow runs in (the workflow's root): a cancelled workflow cancels the timer. */
  private readonly parent = CancellationScope.current();
  private scope = this.freshScope();
  /** The scope interrupt() cancelled last: a cancellation from it means "cut short", any other is rethrown. */
  private cut?: CancellationScope;
  private watching = false;
  private open = false;

  constructor(private readonly interrupted: () => boolean) {}

  /** Waits `ms`, or less when interrupted first. */
  async wait(ms: number, summary: string): Promise<void> {
    // The workflow was cancelled in this activation, and the cancellation has not reached the kept scope yet (it
    // travels by microtask): a fresh scope inherits it at once, so, as with condition(), no timer is started.
    if (this.parent.consideredCancelled && !this.scope.consideredCancelled) this.scope = this.freshScope();
    const scope = this.scope;
    this.open = true;
    const timer = scope.run(() => sleep(ms, { summary }));
    if (this.interrupted()) this.interrupt();
    else this.watch();
    try {
      await timer;
    } catch (err) {
      if (scope !== this.cut || !isCancellation(err)) throw err; // a cancelled workflow
    } finally {
      this.open = false;
    }
  }

  /** One blocked condition, armed while nothing has interrupted: it stays across windows. */
  private watch(): void {
    if (this.watching) return;
    this.watching = true;
    void condition(this.interrupted).then(
      () => {
        this.watching = false;
        if (this.open) this.interrupt();
      },
      // the workflow was cancelled: the open timer is cancelled through its scope
      () => (this.watching = false),
    );
  }

  private interrupt(): void {
    this.cut = this.scope;
    this.scope = this.freshScope();
    this.cut.cancel();
  }

  private freshScope(): CancellationScope {
    return new CancellationScope({ cancellable: true, parent: this.parent });
  }
}
