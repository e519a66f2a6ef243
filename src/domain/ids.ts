/**
 * Rollout workflow IDs. Zod-free, so workflow code can derive and recognise them too: every module a workflow
 * imports is evaluated again for each workflow run.
 */

/** Every rollout's workflow ID starts with this; the flag follows. */
export const ROLLOUT_ID_PREFIX = 'rollout/';

/** The workflow ID of a flag's rollout: one rollout runs per flag, so a second start for it is refused. */
export function rolloutIdForFlag(flag: string): string {
  return `${ROLLOUT_ID_PREFIX}${flag}`;
}

/**
 * What an operator types or labels for a rollout: a workflow ID (`rollout/checkout`, kept as given) or just its
 * flag (`checkout`). Flag keys cannot contain `/`, so a slash marks an ID.
 */
export function rolloutIdFromIdOrFlag(idOrFlag: string): string {
  return idOrFlag.includes('/') ? idOrFlag : rolloutIdForFlag(idOrFlag);
}
