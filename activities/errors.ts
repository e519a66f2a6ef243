import { ApplicationFailure } from '@temporalio/activity';
import { TargetError } from './targets/port.js';

/**
 * Turns an adapter error into a Temporal failure: `TargetError`s keep their code as the failure type and
 * their retryability; anything else is retryable.
 */
export function toFailure(err: unknown): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TargetError) {
    return ApplicationFailure.create({
      message: err.message,
      type: err.code,
      nonRetryable: !err.retryable,
      cause: err,
    });
  }
  const e = err as Error;
  return ApplicationFailure.create({ message: e?.message ?? String(err), type: e?.name ?? 'Error' });
}
