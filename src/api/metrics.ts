import type { Client } from '@temporalio/client';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { Phase, type RollbackState } from '../domain/rollout-state.schema.js';
import type { PinoLogger } from '../logger.js';
import { phaseQuery } from '../client/visibility.js';

/** How long one scrape's visibility counts are reused (the gauges of one scrape share them). */
const COUNTS_TTL_MS = 1_000;
/** How long a scrape waits for visibility counts (Prometheus' default scrape timeout is 10 s). */
const COUNTS_DEADLINE_MS = 5_000;
/** How many finished rollbacks the API remembers having observed (so each is counted once). */
const SEEN_LIMIT = 10_000;

export interface ApiMetrics {
  registry: Registry;
  /**
   * Records a finished rollback once per (workflow ID, rollback request time). Called whenever a status or list
   * call meets a rollout that ended RolledBack or Aborted.
   */
  observeRollback(workflowId: string, phase: string, rollback: RollbackState | undefined): void;
  /** Whether a rollback has been observed already (lets callers skip fetching its result). */
  seen(key: string): boolean;
  markSeen(key: string): void;
}

/**
 * The API's Prometheus metrics, in a registry of its own:
 * - `rollouts{phase}`: workflows of type progressiveRollout per RolloutPhase, counted from Temporal visibility at
 *   scrape time (so every API replica reports the same numbers; terminal phases count until retention removes them).
 * - `rollouts_rolled_back`: RolledBack + Aborted from the same counts (a gauge: retention makes it go down).
 * - `rollout_time_to_rollback_seconds{phase}`: rollback request → target verified at baseline, for finished
 *   rollbacks this process has seen through status and list calls; it does not cover rollbacks nobody looked at.
 * - Node process metrics (prom-client defaults).
 */
export function createApiMetrics(temporalClient: Client, logger: PinoLogger): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const seenKeys = new Set<string>();

  // One set of visibility counts per scrape feeds both gauges (they are collected one after the other).
  let cached: { at: number; counts: Promise<Map<Phase, number> | undefined> } | undefined;
  const phaseCounts = () => {
    if (cached && Date.now() - cached.at < COUNTS_TTL_MS) return cached.counts;
    cached = { at: Date.now(), counts: countPhases(temporalClient, logger) };
    return cached.counts;
  };
  new Gauge({
    name: 'rollouts',
    help: 'Rollouts per phase, per Temporal visibility (within retention) at scrape time',
    labelNames: ['phase'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [phase, n] of (await phaseCounts()) ?? []) this.set({ phase }, n);
    },
  });
  new Gauge({
    name: 'rollouts_rolled_back',
    help: 'Rollouts that ended RolledBack or Aborted, per Temporal visibility (within retention) at scrape time',
    registers: [registry],
    async collect() {
      this.reset();
      const counts = await phaseCounts();
      if (counts) this.set((counts.get('RolledBack') ?? 0) + (counts.get('Aborted') ?? 0));
    },
  });
  const timeToRollback = new Histogram({
    name: 'rollout_time_to_rollback_seconds',
    help: 'Rollback requested → target verified at baseline, for finished rollbacks this API process has observed',
    labelNames: ['phase'],
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1_800, 3_600, 14_400],
    registers: [registry],
  });

  const markSeen = (key: string) => {
    if (seenKeys.size >= SEEN_LIMIT) seenKeys.clear();
    seenKeys.add(key);
  };
  return {
    registry,
    seen: (key) => seenKeys.has(key),
    markSeen,
    observeRollback(workflowId, phase, rollback) {
      if ((phase !== 'RolledBack' && phase !== 'Aborted') || !rollback?.finishedAt) return;
      const key = `rollback:${workflowId}@${rollback.requestedAt}`;
      if (seenKeys.has(key)) return;
      markSeen(key);
      const seconds = (Date.parse(rollback.finishedAt) - Date.parse(rollback.requestedAt)) / 1_000;
      if (Number.isFinite(seconds) && seconds >= 0) timeToRollback.observe({ phase }, seconds);
    },
  };
}

/** Rollouts per phase from visibility; undefined when Temporal cannot answer (the series are then left out). */
async function countPhases(temporalClient: Client, logger: PinoLogger): Promise<Map<Phase, number> | undefined> {
  try {
    const connection = temporalClient.connection;
    const counts = await connection.withDeadline(Date.now() + COUNTS_DEADLINE_MS, () =>
      Promise.all(
        Phase.options.map(
          async (phase) => [phase, (await temporalClient.workflow.count(phaseQuery(phase))).count] as const,
        ),
      ),
    );
    return new Map(counts);
  } catch (err) {
    // a scrape without these series says more than stale numbers; /healthz reports the outage
    logger.warn({ err: (err as Error).message }, 'visibility count failed during metrics scrape');
    return undefined;
  }
}
