/** Activities of the overhead baseline: the same count as a rollout's, with empty bodies. */
export function createBaselineActivities() {
  return {
    /** Stands in for `applyExposure`: does nothing, returns nothing. */
    async baselineStep(_input: { step: number }): Promise<void> {},
  };
}
export type BaselineActivities = ReturnType<typeof createBaselineActivities>;
