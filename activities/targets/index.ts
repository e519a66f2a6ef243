import type { TargetSpec } from '../../src/domain/target-spec.schema.js';
import { assertNever } from '../../src/util/assert-never.js';
import { createFlagdFileTarget } from './flagd/flagd-file-target.js';
import { createHttpTarget } from './http/http-target.js';
import type { MemoryTargetRegistry } from './memory/memory-target.js';
import type { ExposureTarget } from './port.js';

export { TargetError, type ExposureTarget } from './port.js';
export { createFlagdFileTarget } from './flagd/flagd-file-target.js';
export { createHttpTarget } from './http/http-target.js';
export { MemoryTargetRegistry, MemoryChange } from './memory/memory-target.js';

/** What the target factories need from the worker: the shared memory registry, the flag files' root, the env. */
export interface TargetDeps {
  memory: MemoryTargetRegistry;
  /** The directory flagd paths are relative to and must stay under (default: the working directory). */
  baseDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** The {@link ExposureTarget} for a validated spec. */
export function createTarget(spec: TargetSpec, deps: TargetDeps): ExposureTarget {
  switch (spec.type) {
    case 'flagd':
      return createFlagdFileTarget(spec, deps.baseDir === undefined ? {} : { baseDir: deps.baseDir });
    case 'http':
      return createHttpTarget(spec, deps.env === undefined ? {} : { env: deps.env });
    case 'memory':
      return deps.memory.target(spec);
    default:
      return assertNever(spec, 'target type');
  }
}
