import { z } from 'zod';
import type { Cohort, ExposureChange, ExposureReading } from '../../../src/domain/exposure.schema.js';
import { LaunchDarklyTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { bodySnippet, describeFetchError, isTimeoutError, redactToken } from '../../../src/util/http-text.js';
import { redactUrl } from '../../../src/util/redact-url.js';
import { noSecrets, type SecretLookup } from '../../credentials.js';
import { defineTarget } from '../define.js';
import { TargetError, type ExposureTarget } from '../port.js';
import {
  environmentOf,
  findVariation,
  holds,
  LaunchDarklyFlag,
  requireVariations,
  servedPercent,
  variantWeight,
  WEIGHT_TOTAL,
  type EnvironmentConfig,
  type FlagVariation,
} from './launchdarkly-flag.js';

/** The REST API version this target is written against (LaunchDarkly asks integrations to pin one). */
const API_VERSION = '20240415';
const SEMANTIC_PATCH = 'application/json; domain-model=launchdarkly.semanticpatch';

/**
 * A flag in one LaunchDarkly environment, driven through the REST API. `apply(percent)` sends one semantic patch
 * (`turnFlagOn` plus `updateFallthroughVariationOrRollout` with rollout weights `{ variant: percent × 1000, baseline:
 * the rest }`, bucketed by context key) whose comment carries the idempotency key, for LaunchDarkly's audit log; a
 * flag that already serves that split is not patched again. `read` derives the percent from the environment's
 * default rule (a flag that is off serves its off variation). Individual targets and targeting rules are left as
 * they are and not counted.
 *
 * Cohorts are refused (REFUSED, nothing written): a cohort step would have to own a targeting rule in the
 * operator's flag, which LaunchDarkly's semantic patch can create but not mark as ours; segment such rollouts with
 * a rule or segment in LaunchDarkly and roll out its variation here instead.
 *
 * The API access token comes from the catalog secret `spec.token`, read on every call, and is sent raw in
 * `Authorization` (LaunchDarkly tokens take no scheme). No message carries its value.
 */
export function createLaunchDarklyTarget(
  spec: LaunchDarklyTargetSpec,
  opts: { secret?: SecretLookup; fetch?: typeof fetch } = {},
): ExposureTarget {
  const doFetch = opts.fetch ?? fetch;
  const secret = opts.secret ?? noSecrets;
  const base = spec.url.replace(/\/+$/, '');
  const flagPath = `/api/v2/flags/${encodeURIComponent(spec.project)}/${encodeURIComponent(spec.flag)}`;
  const describe = `launchdarkly:${spec.project}/${spec.environment}#${spec.flag}`;

  async function call(method: 'GET' | 'PATCH', path: string, body?: unknown): Promise<LaunchDarklyFlag> {
    const token = await secret(spec.token).catch((err: Error) => {
      throw new TargetError(`${describe}: ${err.message}`, 'CONFIG', true);
    });
    const shown = redactUrl(`${base}${path}`);
    const init: RequestInit = {
      method,
      headers: {
        accept: 'application/json',
        authorization: token,
        'ld-api-version': API_VERSION,
        ...(body === undefined ? {} : { 'content-type': SEMANTIC_PATCH }),
      },
      signal: AbortSignal.timeout(spec.timeoutMs),
      // A redirect is a wrong URL to fix, not something to follow with the token attached.
      redirect: 'manual',
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${base}${path}`, init);
      text = redactToken(await response.text(), token);
    } catch (err) {
      const why = isTimeoutError(err) ? `timed out after ${spec.timeoutMs} ms` : `failed: ${describeFetchError(err)}`;
      throw new TargetError(redactToken(`${method} ${shown} ${why}`, token), 'UNAVAILABLE', true);
    }
    if (!response.ok) throw statusError(spec, `${method} ${shown}`, response, text);
    return parseFlag(`${method} ${shown}`, response.status, text);
  }

  const getFlag = () => call('GET', `${flagPath}?env=${encodeURIComponent(spec.environment)}`);

  return {
    describe,
    refuses(exposure) {
      if (exposure.cohort) return refusedCohort(spec, exposure.cohort).message;
      try {
        variantWeight(exposure.percent);
        return undefined;
      } catch (err) {
        return (err as Error).message;
      }
    },
    async check() {
      const flag = await getFlag();
      environmentOf(spec, flag);
      requireVariations(spec, flag, 'both');
    },
    async read() {
      const flag = await getFlag();
      return readingOf(spec, environmentOf(spec, flag), findVariation(flag, spec.variant));
    },
    async apply(change: ExposureChange) {
      if (change.cohort) throw refusedCohort(spec, change.cohort);
      const weight = variantWeight(change.percent);
      const flag = await getFlag();
      const env = environmentOf(spec, flag);
      // Back to 0 % needs only the baseline: a rollback after a refused first step does not depend on the variant.
      const { variant, baseline } = requireVariations(spec, flag, weight === 0 ? 'baseline' : 'both');
      if (holds(env, variant, baseline, weight)) {
        return { ...readingOf(spec, env, variant), lastKey: change.idempotencyKey };
      }
      const patched = await call('PATCH', flagPath, {
        environmentKey: spec.environment,
        comment: `rollout-orchestrator ${change.idempotencyKey}: ${spec.variant} at ${change.percent} %`,
        instructions: [{ kind: 'turnFlagOn' }, fallthroughInstruction(variant, baseline, weight)],
      });
      // LaunchDarkly answers with the updated flag; read() remains the verification.
      const after = patched.environments?.[spec.environment] === undefined ? undefined : environmentOf(spec, patched);
      const reading = after ? readingOf(spec, after, variant) : { percent: change.percent };
      return { ...reading, lastKey: change.idempotencyKey };
    },
  };
}

/** A LaunchDarkly flag in one environment, driven through its REST API. */
export const launchDarklyTarget = defineTarget({
  kind: 'launchdarkly',
  settings: LaunchDarklyTargetSpec,
  create: ({ settings }, ctx) => createLaunchDarklyTarget(settings, { secret: ctx.secret }),
});

/** Weights for the two variations; a flag without the variant (back to 0 % only) serves the baseline outright. */
function fallthroughInstruction(variant: FlagVariation | undefined, baseline: FlagVariation, weight: number) {
  const kind = 'updateFallthroughVariationOrRollout';
  if (variant === undefined) return { kind, variationId: baseline.id };
  return {
    kind,
    rolloutWeights: { [variant.id]: weight, [baseline.id]: WEIGHT_TOTAL - weight },
    rolloutBucketBy: 'key',
  };
}

function readingOf(
  spec: LaunchDarklyTargetSpec,
  env: EnvironmentConfig,
  variant: FlagVariation | undefined,
): ExposureReading {
  const percent = servedPercent(env, variant);
  if (percent === undefined) {
    throw new TargetError(
      `LaunchDarkly flag "${spec.flag}" in environment "${spec.environment}" has a default rule that serves neither ` +
        'a variation nor a percentage rollout; set one in LaunchDarkly, or apply an exposure to take it over',
      'UNPARSABLE',
      false,
    );
  }
  return { percent };
}

function refusedCohort(spec: LaunchDarklyTargetSpec, cohort: Cohort): TargetError {
  return new TargetError(
    `LaunchDarkly target "${spec.flag}" rolls out to the whole environment "${spec.environment}" and refuses cohort ` +
      `steps (${cohort.attribute} in ${cohort.values.length} value(s)); target the cohort with a LaunchDarkly rule ` +
      'or segment instead (nothing was changed)',
    'REFUSED',
    false,
  );
}

function parseFlag(request: string, status: number, text: string): LaunchDarklyFlag {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw unparsable(request, status, `is not JSON (${(err as Error).message})`, text);
  }
  const flag = LaunchDarklyFlag.safeParse(json);
  if (!flag.success) {
    throw unparsable(request, status, `is not a LaunchDarkly flag: ${z.prettifyError(flag.error)}`, text);
  }
  return flag.data;
}

function unparsable(request: string, status: number, problem: string, body: string): TargetError {
  // Retryable: a proxy in front of the API can briefly serve something else.
  return new TargetError(
    `${request} answered ${status} but the body ${problem}${bodySnippet(body)}`,
    'UNPARSABLE',
    true,
  );
}

/**
 * LaunchDarkly answers errors as `{ code, message }`. 401/403 name the secret to check (CONFIG, retryable: the
 * operator fixes the secret and the rollout carries on, as for every target); 404 the keys; 409 (a
 * concurrent change), 429 and 5xx are momentary and retryable (a 429's Retry-After is left to the worker's backoff).
 */
function statusError(spec: LaunchDarklyTargetSpec, request: string, response: Response, text: string): TargetError {
  const { status } = response;
  const location = response.headers.get('location');
  const said = redactUrl(location ? `: redirected to ${location}` : bodySnippet(text));
  const message = `${request} answered ${status}${said}`;
  if (status === 401 || status === 403) {
    return new TargetError(
      `${message}; check that the API access token in catalog secret "${spec.token}" is valid and has access ` +
        `to flags in project "${spec.project}"`,
      'CONFIG',
      true,
    );
  }
  if (status === 404) {
    return new TargetError(
      `${message}; no flag "${spec.flag}" in project "${spec.project}" (check both keys)`,
      'NOT_FOUND',
      false,
    );
  }
  if (status === 429) {
    const after = response.headers.get('retry-after');
    return new TargetError(`${message}${after ? ` (Retry-After: ${after})` : ''}`, 'UNAVAILABLE', true);
  }
  if (status >= 500 || status === 409 || status === 408) return new TargetError(message, 'UNAVAILABLE', true);
  if (status === 405) {
    return new TargetError(`${message}; the environment may require approvals for flag changes`, 'REJECTED', false);
  }
  return new TargetError(message, 'REJECTED', false);
}
