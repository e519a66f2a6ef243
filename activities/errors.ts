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

/** Replaces secret values in text and in JSON values: the secret store's redactor. */
export interface Redactor {
  redact(text: string): string;
  redactValue<T>(value: T): T;
}

/**
 * The activities with every result and every failure passed through `redactor`: a service that echoes a credential
 * (in an error page, a JSON answer, a guard's detail) cannot put it into workflow history. A failure keeps its type,
 * retryability and details (redacted), and loses its cause chain, whose messages would be recorded unredacted.
 */
export function redacting<T extends Record<string, (...args: never[]) => Promise<unknown>>>(
  redactor: Redactor,
  activities: T,
): T {
  const wrapped: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return redactor.redactValue(await fn(...args));
      } catch (err) {
        const failure = toFailure(err);
        throw ApplicationFailure.create({
          message: redactor.redact(failure.message),
          ...(failure.type ? { type: failure.type } : {}),
          nonRetryable: failure.nonRetryable ?? false,
          ...(failure.details ? { details: redactor.redactValue(failure.details) } : {}),
        });
      }
    };
  }
  return wrapped as T;
}
