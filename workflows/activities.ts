import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { RolloutActivities } from '../activities/index.js';

/*
 * Activity options, named once. Call sites add only what differs per call (a summary, a window's timeout):
 * `executeWithOptions` deep-merges them over these.
 */

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

/** The preflight: a few quick attempts (it reports problems as its result; a throw is a worker problem). */
export const preflightActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '60s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 3 },
});

/** Guard windows: one heartbeating activity per window; its start-to-close timeout follows the window's length. */
export const guardActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '1h',
  heartbeatTimeout: '20s',
  retry: { initialInterval: '1s', maximumInterval: '10s', maximumAttempts: 20 },
});

/** Notifications never hold up a rollout: a few retries, then the failure is logged. */
export const notifyActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '15s',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumAttempts: 5 },
});

/** Spec checks, in a local activity so zod stays out of the workflow's module graph. */
export const checkActivities = proxyLocalActivities<RolloutActivities>({
  startToCloseTimeout: '10s',
  // a rejected spec fails at once (non-retryable); anything else is a worker problem worth waiting out
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** Drill activities: read the sandbox target back, notify the verdict. */
export const drillActivities = proxyActivities<RolloutActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5 },
});
