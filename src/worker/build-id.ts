import { createHash } from 'node:crypto';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { PinoLogger } from '../logger.js';
import { packageVersion } from '../util/package-version.js';
import { workflowsPath } from './worker.js';

/**
 * The workflow bundle this worker runs, and the build ID it defaults to: the package version and the first 12 hex
 * digits of the bundle's SHA-256 (`0.1.0+3f9a0c1d2e4b`). Workers built from the same workflow code get the same ID;
 * any change to the workflows' code, or to what they import, gives a new one.
 */
export async function workflowBuild(logger: PinoLogger): Promise<{ code: string; buildId: string }> {
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: quiet });
  const digest = createHash('sha256').update(code).digest('hex').slice(0, 12);
  const buildId = `${await packageVersion()}+${digest}`;
  logger.info({ buildId, ms: Date.now() - started }, 'workflow bundle built');
  return { code, buildId };
}
