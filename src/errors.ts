/**
 * Errors a user can act on. `hint` says how to fix the cause; the CLI prints message and hint as one
 * paragraph instead of a stack trace.
 */
export class RolloutError extends Error {
  override readonly name: string = 'RolloutError';
  constructor(
    message: string,
    readonly hint?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Message and hint as one paragraph. */
  explain(): string {
    return this.hint ? `${this.message}\n${this.hint}` : this.message;
  }
}

/** The Temporal CLI could not be found or built. */
export class TemporalCliError extends RolloutError {
  override readonly name = 'TemporalCliError';
}

/** The Temporal server could not be started, reached or reused. */
export class TemporalServerError extends RolloutError {
  override readonly name = 'TemporalServerError';
}

/** A spec or command failed validation; `issues` carries the paths. */
export class ValidationError extends RolloutError {
  override readonly name = 'ValidationError';
  constructor(
    message: string,
    readonly issues: readonly { path: string; message: string }[],
  ) {
    super(message);
  }
}
