import { z } from 'zod';
import { ExposureChange, sameExposure, type ExposureReading } from '../../../src/domain/exposure.schema.js';
import type { MemoryTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError, type ExposureTarget } from '../port.js';

/** One change a memory target accepted. `at` is an ISO timestamp (plain data, so logs can cross into workflows). */
export const MemoryChange = ExposureChange.extend({ at: z.iso.datetime() }).strict();
export type MemoryChange = z.infer<typeof MemoryChange>;

interface NamedState {
  reading: ExposureReading;
  log: MemoryChange[];
  failures: { remaining: number; always: boolean; error: TargetError | undefined };
}

/**
 * In-process exposure targets for tests and drills. Targets created with the same `name` share one state, the way
 * two workers would share one flag service. Faults are injected per name with {@link failNext} / {@link setFailing}.
 */
export class MemoryTargetRegistry {
  readonly #states = new Map<string, NamedState>();
  readonly #now: () => Date;

  constructor(opts: { now?: () => Date } = {}) {
    this.#now = opts.now ?? (() => new Date());
  }

  /** A target backed by the state named `spec.name` (created at 0 % on first use). */
  target(spec: MemoryTargetSpec): ExposureTarget {
    return {
      describe: `memory:${spec.name}#${spec.flag}`,
      shadow: true,
      apply: async (change) => this.#apply(spec.name, change),
      read: async () => this.state(spec.name),
    };
  }

  /** The ordered changes applied to `name`; an idempotent repeat appears once. */
  log(name: string): MemoryChange[] {
    return this.#state(name).log.map((entry) => structuredClone(entry));
  }

  /** What `name` currently holds. */
  state(name: string): ExposureReading {
    return structuredClone(this.#state(name).reading);
  }

  /** The next `count` applies to `name` throw `error` (default: a retryable UNAVAILABLE) and change nothing. */
  failNext(name: string, count: number, error?: TargetError): void {
    const failures = this.#state(name).failures;
    failures.remaining = count;
    failures.error = error;
  }

  /** While on, every apply to `name` throws a retryable UNAVAILABLE and changes nothing. */
  setFailing(name: string, failing: boolean): void {
    this.#state(name).failures.always = failing;
  }

  #apply(name: string, change: ExposureChange): ExposureReading {
    const state = this.#state(name);
    const { failures } = state;
    if (failures.always || failures.remaining > 0) {
      const injected = failures.remaining > 0 ? failures.error : undefined;
      if (failures.remaining > 0) failures.remaining -= 1;
      throw injected ?? new TargetError(`memory target ${name} is failing (injected fault)`, 'UNAVAILABLE', true);
    }
    const { idempotencyKey, ...exposure } = change;
    const last = state.log.at(-1);
    // Only a repeat of the latest change is a retry; the same key after a different change is applied again,
    // because the caller asked for that exposure to be in force now.
    const isRetry = last !== undefined && last.idempotencyKey === idempotencyKey && sameExposure(last, exposure);
    if (!isRetry) state.log.push({ ...structuredClone(exposure), idempotencyKey, at: this.#now().toISOString() });
    state.reading = { ...structuredClone(exposure), lastKey: idempotencyKey };
    return this.state(name);
  }

  #state(name: string): NamedState {
    let state = this.#states.get(name);
    if (!state) {
      state = { reading: { percent: 0 }, log: [], failures: { remaining: 0, always: false, error: undefined } };
      this.#states.set(name, state);
    }
    return state;
  }
}
