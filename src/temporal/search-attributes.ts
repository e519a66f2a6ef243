import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Typed search attributes the workflow keeps current; the Web UI and `rollout list` filter on them. */
export const RolloutPhaseKey = defineSearchAttributeKey('RolloutPhase', SearchAttributeType.KEYWORD);
export const RolloutTargetKey = defineSearchAttributeKey('RolloutTarget', SearchAttributeType.KEYWORD);
export const RolloutExposureKey = defineSearchAttributeKey('RolloutExposure', SearchAttributeType.DOUBLE);
export const RolloutStepKey = defineSearchAttributeKey('RolloutStep', SearchAttributeType.INT);

/** Name → CLI type name, as `temporal server start-dev --search-attribute` and the operator API expect. */
export const SEARCH_ATTRIBUTES = {
  RolloutPhase: 'Keyword',
  RolloutTarget: 'Keyword',
  RolloutExposure: 'Double',
  RolloutStep: 'Int',
} as const;
