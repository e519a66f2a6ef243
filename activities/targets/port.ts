import type { Exposure, ExposureChange, ExposureReading } from '../../src/domain/exposure.schema.js';

/**
 * Where exposure is applied: a flag file, a flag service, an in-memory fake.
 * Implementations must be idempotent (`apply` is absolute) and must throw a {@link TargetError}
 * with a clear message rather than a raw system error.
 */
export interface ExposureTarget {
  /** A short human label for logs and the UI, e.g. `flagd:./flags/flags.json#new-ranker`. */
  readonly describe: string;
  /** Sets the exposure and returns what the target now holds. */
  apply(change: ExposureChange): Promise<ExposureReading>;
  /** Reads the exposure the target currently holds. */
  read(): Promise<ExposureReading>;
  /**
   * Checks, writing nothing, that the rollout can run here: e.g. an existing flag defines both variants. Throws a
   * {@link TargetError} (`CONFIG` or `REFUSED` when the spec must change). Run before the first exposure change.
   */
  check?(): Promise<void>;
  /**
   * True when `apply` honours `change.shadow` (a shadow step's share, through a companion flag the application reads)
   * and `read` reports it. A target without it refuses a shadow step before the rollout changes anything.
   */
  readonly shadow?: boolean;
  /**
   * Why this target could never hold `exposure` (a fractional percent Unleash cannot store, a cohort LaunchDarkly
   * does not manage), or undefined when it could. Pure: the preflight asks it for every step before anything changes.
   */
  refuses?(exposure: Exposure): string | undefined;
  /** Proves, writing nothing, that `apply` could write now (a flag file's directory exists and is writable). */
  writable?(): Promise<void>;
}

/**
 * Why a target operation failed. `retryable: false` marks errors a retry cannot fix without a human. `REFUSED`: the
 * spec asks for something the target never does (a file outside its root, a reserved name); nothing was written.
 */
export class TargetError extends Error {
  override readonly name = 'TargetError';
  constructor(
    message: string,
    readonly code: 'NOT_FOUND' | 'UNPARSABLE' | 'UNAVAILABLE' | 'REJECTED' | 'CONFIG' | 'REFUSED',
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
