import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes the workflow keeps current; the Web UI and `rollout list` filter on them. */
export const RolloutPhaseKey = defineSearchAttributeKey('RolloutPhase', SearchAttributeType.KEYWORD);
export const RolloutTargetKey = defineSearchAttributeKey('RolloutTarget', SearchAttributeType.KEYWORD);
export const RolloutExposureKey = defineSearchAttributeKey('RolloutExposure', SearchAttributeType.DOUBLE);
export const RolloutStepKey = defineSearchAttributeKey('RolloutStep', SearchAttributeType.INT);

/** Every search attribute the project uses: the dev server registers these, and a namespace must have them. */
export const ROLLOUT_SEARCH_ATTRIBUTES = [
  RolloutPhaseKey,
  RolloutTargetKey,
  RolloutExposureKey,
  RolloutStepKey,
] as const;
