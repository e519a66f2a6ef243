import {
  FlagdTargetSpec,
  HttpTargetSpec,
  MemoryTargetSpec,
  type TargetSpec,
} from '../../src/domain/target-spec.schema.js';
import { noSecrets, type SecretLookup } from '../credentials.js';
import { defineTarget, TargetRegistry, type TargetContext, type TargetDefinition } from './define.js';
import { createFlagdFileTarget } from './flagd/flagd-file-target.js';
import { createHttpTarget } from './http/http-target.js';
import { launchDarklyTarget } from './launchdarkly/launchdarkly-target.js';
import type { MemoryTargetRegistry } from './memory/memory-target.js';
import { TargetError, type ExposureTarget } from './port.js';
import { unleashTarget } from './unleash/unleash-target.js';

export { TargetError, type ExposureTarget } from './port.js';
export {
  defineTarget,
  TargetRegistry,
  type TargetContext,
  type TargetDefinition,
  type TargetRequest,
} from './define.js';
export { createFlagdFileTarget } from './flagd/flagd-file-target.js';
export { createHttpTarget } from './http/http-target.js';
export { createLaunchDarklyTarget, launchDarklyTarget } from './launchdarkly/launchdarkly-target.js';
export { MemoryTargetRegistry, MemoryChange } from './memory/memory-target.js';
export { createUnleashTarget, unleashTarget } from './unleash/unleash-target.js';

/** A flag in a flagd flag file under a catalog root. */
export const flagdTarget = defineTarget({
  kind: 'flagd',
  settings: FlagdTargetSpec,
  create: ({ settings }, ctx) => {
    const baseDir = ctx.rootDir(settings.root);
    return baseDir === undefined ? undeclaredRoot(settings) : createFlagdFileTarget(settings, { baseDir });
  },
});

/** A flag service speaking this project's HTTP contract. */
export const httpTarget = defineTarget({
  kind: 'http',
  settings: HttpTargetSpec,
  create: ({ settings }, ctx) => createHttpTarget(settings, { secret: ctx.secret }),
});

/** An in-process target (tests, drills). */
export const memoryTarget = defineTarget({
  kind: 'memory',
  settings: MemoryTargetSpec,
  create: ({ settings }, ctx) => ctx.memory.target(settings),
});

/** The target kinds this package implements, registered like any other. */
export const BUILT_IN_TARGETS: readonly TargetDefinition[] = [
  flagdTarget,
  httpTarget,
  memoryTarget,
  launchDarklyTarget,
  unleashTarget,
];

/** A registry of the built-in kinds plus `extra`. */
export function targetRegistry(extra: readonly TargetDefinition[] = []): TargetRegistry {
  return new TargetRegistry([...BUILT_IN_TARGETS, ...extra]);
}

/** What the target factories need from the worker: the shared memory registry, the catalog's roots and secrets. */
export interface TargetDeps {
  memory: MemoryTargetRegistry;
  /**
   * The directory of a catalog root, which flagd paths are relative to and must stay under; undefined for a root
   * the catalog does not declare. A target without a root (recorded before the catalog) asks with `undefined`.
   */
  rootDir: (root: string | undefined) => string | undefined;
  secret?: SecretLookup;
  /** The kinds to create from (default: the built-ins). */
  registry?: TargetRegistry;
}

const builtIns = targetRegistry();

/** The {@link ExposureTarget} for a validated spec. */
export function createTarget(spec: TargetSpec, deps: TargetDeps): ExposureTarget {
  const ctx: TargetContext = { memory: deps.memory, rootDir: deps.rootDir, secret: deps.secret ?? noSecrets };
  return (deps.registry ?? builtIns).create(spec, ctx);
}

/** A flagd target whose root the worker's catalog does not declare: every call fails, retryably (fix the catalog). */
function undeclaredRoot(spec: FlagdTargetSpec): ExposureTarget {
  const fail = () =>
    Promise.reject(
      new TargetError(`flagd root "${spec.root}" is not declared in the worker's catalog`, 'CONFIG', true),
    );
  return { describe: `flagd:${spec.root}:${spec.path}#${spec.flag}`, read: fail, apply: fail };
}
