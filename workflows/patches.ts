/**
 * Version 2 of the rollout workflows' command sequence, one patch for both changes so a run records one marker:
 * - the spec is checked in a local activity (one marker event) instead of in workflow code, which keeps the zod
 *   schemas out of every workflow's module graph (the SDK evaluates it afresh for each run, and keeps it in memory
 *   for as long as the run is cached);
 * - search attributes are upserted only when a value visible in list queries changes, and not for states that
 *   last under a second: `Progressing` (an exposure change in flight) and observation windows shorter than 1 s
 *   (both show in `status` and the UI's details instead).
 * Histories recorded before it (`test/replay/histories/v1`) replay through the old branches.
 */
export const ROLLOUT_V2_PATCH = 'rollout-v2';

/**
 * Version 3: a decision an operator command records without changing phase (promote ending a window early, an
 * approval) is published like every other timeline entry: notifiers and a parent drill hear of it, and the UI's
 * details show it at once. Before it, such an entry was folded into the next phase change's publication and never
 * notified on its own. Histories recorded before it (`test/replay/histories/v2`) replay through the old branch.
 */
export const ROLLOUT_V3_PATCH = 'rollout-v3';

/**
 * Version 4: a first run proves it can run before its first exposure change (the `preflight` activity: the target
 * reads back and passes its own check, its file can be written, every guard's source answers a query). One that
 * cannot ends in the terminal phase `Failed` within seconds, having changed nothing, instead of failing at its
 * first write and rolling back. Histories recorded before it (`test/replay/histories/v3`) run no preflight.
 */
export const ROLLOUT_V4_PATCH = 'rollout-v4';

/**
 * Version 5: guards over the whole rollout.
 * - Guards with `during: rollout` are watched by a background `watchGuards` activity from the first exposure change
 *   until the rollout completes (approval waits, pauses, between steps), in segments of 1 to 10 minutes.
 * - `analysis.finalBake` observes once more after the last step.
 * - `failureLimit` counts over the whole rollout (`budget: rollout`, the default) or per window: each window starts
 *   from the guard's failures so far, and pushed breaches count in the same tally as pulled failures.
 * - A pushed breach naming no guard of the rollout is refused (recorded), no longer a rollback.
 * - Dry-run guards are recorded and never acted on.
 * Histories recorded before it (`test/replay/histories/v4`) replay with per-window tallies and breaches apart.
 */
export const ROLLOUT_V5_PATCH = 'rollout-v5';

/**
 * Version 6: `promote` with `full` skips every remaining step and window and sets the last step's exposure at once
 * (one `applyExposure`), then completes. The marker is recorded only by runs that take that branch; no run before
 * it could (its validator refused the field), so every earlier history replays unchanged.
 */
export const ROLLOUT_V6_PATCH = 'rollout-v6';

/**
 * Version 7: `undo`. A run started with `undo` runs no step: it pushes the spec's compensations, asks for a rollback
 * (trigger `undo`) and runs the saga to the spec's baseline, ending RolledBack. Only undo runs record the marker;
 * no earlier run had the field, so every earlier history replays unchanged.
 */
export const ROLLOUT_V7_PATCH = 'rollout-v7';

/**
 * Version 8: shadow steps. A `shadow: N` step sets the target's shadow share (a companion flag the application reads
 * to run the new variant without serving it) at the current live exposure, then observes. Only runs with a shadow
 * step record the marker; no earlier run could have one (the schema refused the key), so every earlier history
 * replays unchanged.
 */
export const ROLLOUT_V8_PATCH = 'rollout-v8';
