import type { FlagdTargetSpec, TargetSpec } from '../../src/domain/target-spec.schema.js';
import { assertNever } from '../../src/util/assert-never.js';
import { createFlagdFileTarget } from './flagd/flagd-file-target.js';
import { createHttpTarget } from './http/http-target.js';
import type { MemoryTargetRegistry } from './memory/memory-target.js';
import { TargetError, type ExposureTarget } from './port.js';
import type { SecretLookup } from '../credentials.js';

export { TargetError, type ExposureTarget } from './port.js';
export { createFlagdFileTarget } from './flagd/flagd-file-target.js';
export { createHttpTarget } from './http/http-target.js';
export { MemoryTargetRegistry, MemoryChange } from './memory/memory-target.js';

/** What the target factories need from the worker: the shared memory registry, the catalog's roots and secrets. */
export interface TargetDeps {
  memory: MemoryTargetRegistry;
  /**
   * The directory of a catalog root, which flagd paths are relative to and must stay under; undefined for a root
   * the catalog does not declare. A target without a root (recorded before the catalog) asks with `undefined`.
   */
  rootDir: (root: string | undefined) => string | undefined;
  secret?: SecretLookup;
}

/** The {@link ExposureTarget} for a validated spec. */
export function createTarget(spec: TargetSpec, deps: TargetDeps): ExposureTarget {
  switch (spec.type) {
    case 'flagd': {
      const baseDir = deps.rootDir(spec.root);
      if (baseDir === undefined) return undeclaredRoot(spec);
      return createFlagdFileTarget(spec, { baseDir });
    }
    case 'http':
      return createHttpTarget(spec, deps.secret === undefined ? {} : { secret: deps.secret });
    case 'memory':
      return deps.memory.target(spec);
    default:
      return assertNever(spec, 'target type');
  }
}

/** A flagd target whose root the worker's catalog does not declare: every call fails, retryably (fix the catalog). */
function undeclaredRoot(spec: FlagdTargetSpec): ExposureTarget {
  const fail = () =>
    Promise.reject(
      new TargetError(`flagd root "${spec.root}" is not declared in the worker's catalog`, 'CONFIG', true),
    );
  return { describe: `flagd:${spec.root}:${spec.path}#${spec.flag}`, read: fail, apply: fail };
}
