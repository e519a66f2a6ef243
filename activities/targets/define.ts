import { z } from 'zod';
import type { ExtensionTargetSpec, TargetSpec } from '../../src/domain/target-spec.schema.js';
import type { SecretLookup } from '../credentials.js';
import type { MemoryTargetRegistry } from './memory/memory-target.js';
import { TargetError, type ExposureTarget } from './port.js';

/** What the worker gives every target it creates: the catalog's secrets, its roots, the shared memory state. */
export interface TargetContext {
  /** Reads a catalog secret by name, at call time (a rotated secret applies without a restart). */
  secret: SecretLookup;
  /** The absolute directory of a catalog root; undefined when the catalog does not declare it. */
  rootDir: (root: string | undefined) => string | undefined;
  /** The in-process state of `memory` targets. */
  memory: MemoryTargetRegistry;
}

/** The flag a target drives, and its validated settings. */
export interface TargetRequest<Settings> {
  flag: string;
  /** The variant being rolled out. */
  variant: string;
  /** The variant everyone else keeps, and everyone gets back on rollback. */
  baselineVariant: string;
  settings: Settings;
}

/**
 * A kind of exposure target: its name, the schema of its catalog settings, and a factory. Built-in kinds (`flagd`,
 * `http`, `memory`, `unleash`, `launchdarkly`) are definitions like any other; a worker adds its own with
 * {@link defineTarget}, and a catalog entry `{ type: extension, kind, flag, variant, baselineVariant, settings }`
 * names it.
 *
 * The factory does no I/O. The target it returns must keep the {@link ExposureTarget} contract: `apply` is absolute
 * (the same change twice is harmless; `change.idempotencyKey` identifies a retry), `read` returns what the backend
 * serves now (the worker verifies every change by reading it back, and verifies the baseline after a rollback), and
 * failures are {@link TargetError}s whose messages carry no secret.
 */
export interface TargetDefinition<Settings = unknown> {
  readonly kind: string;
  /** Validates the settings a catalog entry carries (for a built-in kind: the whole entry). */
  readonly settings: z.ZodType<Settings>;
  create(request: TargetRequest<Settings>, ctx: TargetContext): ExposureTarget;
}

const KIND = /^[a-z][a-z0-9-]{0,39}$/;

/** Declares a target kind; the schema's output type flows into `create`. */
export function defineTarget<Schema extends z.ZodType>(definition: {
  kind: string;
  settings: Schema;
  create: (request: TargetRequest<z.output<Schema>>, ctx: TargetContext) => ExposureTarget;
}): TargetDefinition<z.output<Schema>> {
  if (!KIND.test(definition.kind)) throw new TypeError(`target kind "${definition.kind}" must match ${KIND.source}`);
  return definition as TargetDefinition<z.output<Schema>>;
}

/** The target kinds a worker knows, by name: the built-ins first, then the ones it registers. */
export class TargetRegistry {
  readonly #kinds = new Map<string, TargetDefinition>();

  constructor(definitions: readonly TargetDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  /** Adds a kind; a second definition of the same name is a mistake, not an override. */
  register<S>(definition: TargetDefinition<S>): this {
    if (!KIND.test(definition.kind)) throw new TypeError(`target kind "${definition.kind}" must match ${KIND.source}`);
    if (this.#kinds.has(definition.kind)) throw new TypeError(`target kind "${definition.kind}" is already registered`);
    this.#kinds.set(definition.kind, definition as TargetDefinition);
    return this;
  }

  get kinds(): string[] {
    return [...this.#kinds.keys()];
  }

  has(kind: string): boolean {
    return this.#kinds.has(kind);
  }

  /**
   * The settings problems of an extension entry, by path under the entry (`settings.project: …`); empty when the
   * kind is registered and its settings are valid.
   */
  check(spec: ExtensionTargetSpec): { path: (string | number)[]; message: string }[] {
    const definition = this.#kinds.get(spec.kind);
    if (definition === undefined) {
      return [
        { path: ['kind'], message: `no target kind "${spec.kind}" is registered (known: ${this.kinds.join(', ')})` },
      ];
    }
    const parsed = definition.settings.safeParse(spec.settings);
    if (parsed.success) return [];
    return parsed.error.issues.map((i) => ({ path: ['settings', ...i.path.map(pathKey)], message: i.message }));
  }

  /** The target for a validated spec. Nothing is contacted until its first call. */
  create(spec: TargetSpec, ctx: TargetContext): ExposureTarget {
    const kind = spec.type === 'extension' ? spec.kind : spec.type;
    const definition = this.#kinds.get(kind);
    if (definition === undefined) return unregistered(kind, this.kinds);
    const raw = spec.type === 'extension' ? spec.settings : spec;
    const parsed = definition.settings.safeParse(raw);
    if (!parsed.success) return misconfigured(kind, z.prettifyError(parsed.error));
    const { flag, variant, baselineVariant } = spec;
    return withoutShadow(definition.create({ flag, variant, baselineVariant, settings: parsed.data }, ctx));
  }
}

/**
 * A target that does not declare `shadow` refuses a shadow share instead of ignoring it (which would fail every
 * read-back, retried for ever). Not retryable: the spec must change.
 */
function withoutShadow(target: ExposureTarget): ExposureTarget {
  if (target.shadow) return target;
  // delegated call by call, so a target written as a class (private fields included) keeps its `this`
  const { check, writable, refuses } = target;
  return {
    describe: target.describe,
    ...(refuses ? { refuses: (exposure) => refuses.call(target, exposure) } : {}),
    read: () => target.read(),
    apply: (change) =>
      change.shadow
        ? Promise.reject(
            new TargetError(`${target.describe}: this target has no shadow exposure (a shadow step)`, 'REFUSED', false),
          )
        : target.apply(change),
    ...(check ? { check: () => check.call(target) } : {}),
    ...(writable ? { writable: () => writable.call(target) } : {}),
  };
}

const pathKey = (k: PropertyKey): string | number => (typeof k === 'symbol' ? String(k) : k);

/** Every call fails, retryably: the worker's registrations or catalog must change, then the rollout carries on. */
function failing(describe: string, message: string): ExposureTarget {
  const fail = () => Promise.reject(new TargetError(message, 'CONFIG', true));
  return { describe, read: fail, apply: fail };
}

const unregistered = (kind: string, known: string[]) =>
  failing(
    `${kind}:unregistered`,
    `target kind "${kind}" is not registered with this worker (known: ${known.join(', ')})`,
  );

const misconfigured = (kind: string, why: string) =>
  failing(`${kind}:invalid`, `target kind "${kind}": invalid settings:\n${why}`);
