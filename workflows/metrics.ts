import { metricMeter } from '@temporalio/workflow';
import type { Phase, RollbackTrigger } from '../src/domain/rollout-state.schema.js';

/*
 * The rollouts' own counters, emitted through the worker runtime's metrics (Prometheus with
 * `rollout worker --metrics-address`, as `rollout_…_total` labelled with namespace, task queue and workflow type):
 * not during replay, and never a command, so no history changes. Labels are closed sets (phases, triggers), never a
 * caller's text: a flag name from a spec would make the series unbounded. Counters are made at first use, inside a
 * workflow's context.
 */
const COUNTERS = {
  started: ['rollout_started', 'rollouts', 'rollouts started (first runs only)'],
  finished: ['rollout_finished', 'rollouts', 'rollouts ended, by final phase'],
  rollbacks: ['rollout_rollbacks', 'rollbacks', 'rollbacks requested, by trigger'],
  retries: ['rollout_rollback_retries', 'attempts', 'failed rollback steps, each retried after a backoff'],
  steps: ['rollout_exposure_changes', 'changes', 'exposure changes applied on the forward path'],
} as const;

function add(which: keyof typeof COUNTERS, tags: Record<string, string> = {}): void {
  const [name, unit, description] = COUNTERS[which];
  metricMeter.createCounter(name, unit, description).add(1, tags);
}

export const rolloutMetrics = {
  started: (): void => add('started'),
  finished: (phase: Phase): void => add('finished', { phase }),
  rollback: (trigger: RollbackTrigger): void => add('rollbacks', { trigger }),
  rollbackRetry: (): void => add('retries'),
  exposureChange: (): void => add('steps'),
};
