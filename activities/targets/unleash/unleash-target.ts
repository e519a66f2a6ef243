import { z } from 'zod';
import type { ExposureChange, ExposureReading } from '../../../src/domain/exposure.schema.js';
import { UnleashTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { bodySnippet, describeFetchError, isTimeoutError } from '../../../src/util/http-text.js';
import { redactUrl } from '../../../src/util/redact-url.js';
import { redactHeaders, type SecretLookup } from '../../credentials.js';
import { defineTarget } from '../define.js';
import { TargetError, type ExposureTarget } from '../port.js';
import {
  environmentOf,
  managedStrategy,
  readingOf,
  sameStrategy,
  strategyFor,
  UnleashFeature,
  UnleashStrategy,
  type StrategyBody,
} from './unleash-strategy.js';

type Method = 'GET' | 'POST' | 'PUT';
const ProjectList = z.looseObject({ projects: z.array(z.looseObject({ id: z.string() })) });

/**
 * A flag in one Unleash environment, driven through the Admin API. The target keeps ONE `flexibleRollout` strategy
 * on the flag in `spec.environment`: `rollout` = the percent, `stickiness` and `groupId` (default: the flag name)
 * from the catalog, one strategy variant `spec.variant` (weight 1000), and a cohort as one constraint
 * `{ contextName: attribute, operator: IN, values }`. The SDKs then report `isEnabled` for that share of users and
 * `getVariant()` = `spec.variant`; everyone else sees the flag disabled, which the application serves as
 * `baselineVariant` (Unleash itself has no baseline to store).
 *
 * `apply` creates a missing flag (type `release`) in `spec.project`, then creates the strategy or replaces it in
 * place (PUT), never adding a second one, and turns the environment on when the percent is above 0. At 0 % the
 * strategy stays with rollout 0 and the environment's on/off switch is left alone: an enabled flag serves no one,
 * and an operator's kill switch stays off. A change that is already in force writes nothing. Unleash takes whole
 * percentages: a fraction is REFUSED before any call. A flag whose environment holds any other strategy is a CONFIG
 * error: the target will not serve users it cannot count.
 *
 * `read` reports the strategy's rollout while the environment is on (else 0 %) and its constraint as the cohort; a
 * missing flag or strategy reads 0 %. The admin or personal access token comes from catalog secret `spec.token`,
 * read on every call and sent as `Authorization`; no message carries it.
 */
export function createUnleashTarget(
  spec: UnleashTargetSpec,
  opts: { secret: SecretLookup; fetch?: typeof fetch },
): ExposureTarget {
  const doFetch = opts.fetch ?? fetch;
  const base = spec.url.replace(/\/+$/, '');
  const shownBase = redactUrl(base);
  const enc = encodeURIComponent;
  const projectPath = `/api/admin/projects/${enc(spec.project)}`;
  const featurePath = `${projectPath}/features/${enc(spec.flag)}`;
  const envPath = `${featurePath}/environments/${enc(spec.environment)}`;
  const describe = `unleash:${shownBase}/${spec.project}/${spec.environment}#${spec.flag}`;

  /** One Admin API call; a status in `accept` is returned rather than thrown. */
  async function call(method: Method, path: string, body?: unknown, accept: number[] = []) {
    const token = await opts.secret(spec.token).catch((err: Error) => {
      throw new TargetError(`${describe}: ${err.message}`, 'CONFIG', true);
    });
    // The token is redacted everywhere: a server or a fetch error (an invalid header value) may quote it.
    const scrub = (text: string) => redactUrl(redactHeaders(text, { authorization: token }));
    const request = `${method} ${shownBase}${path}`;
    const init: RequestInit = {
      method,
      headers: { accept: 'application/json', authorization: token },
      signal: AbortSignal.timeout(spec.timeoutMs),
      // A redirect is a wrong URL to fix, not something to follow with the token attached.
      redirect: 'manual',
    };
    if (body !== undefined) {
      init.headers = { ...init.headers, 'content-type': 'application/json' };
      init.body = JSON.stringify(body);
    }
    let response: Response;
    let text: string;
    try {
      response = await doFetch(`${base}${path}`, init);
      text = scrub(await response.text());
    } catch (err) {
      const why = isTimeoutError(err) ? `timed out after ${spec.timeoutMs} ms` : `failed: ${describeFetchError(err)}`;
      throw new TargetError(scrub(`${request} ${why}`), 'UNAVAILABLE', true);
    }
    if (!response.ok && !accept.includes(response.status)) throw statusError(spec, request, response, text);
    return { request, status: response.status, text };
  }

  async function getFeature(): Promise<UnleashFeature | undefined> {
    const answer = await call('GET', featurePath, undefined, [404]);
    return answer.status === 404 ? undefined : parse(answer, UnleashFeature, 'an Unleash feature');
  }

  async function createFeature(): Promise<UnleashFeature> {
    const description = `Rolled out by rollout-orchestrator: "${spec.variant}" to a percentage, the rest "${spec.baselineVariant}"`;
    const created = await call(
      'POST',
      `${projectPath}/features`,
      { name: spec.flag, type: 'release', description },
      [409],
    );
    // 409: created a moment ago by someone else (then it is here now), or the name is taken outside this project.
    const feature = await getFeature();
    if (feature) return feature;
    throw new TargetError(
      `${created.request} answered ${created.status}${serverSaid(created.text)}; the flag name "${spec.flag}" is ` +
        `taken outside project "${spec.project}" (another project, or archived): revive or move it in Unleash`,
      'REJECTED',
      false,
    );
  }

  async function writeStrategy(current: UnleashStrategy | undefined, wanted: StrategyBody) {
    const answer = current
      ? await call('PUT', `${envPath}/strategies/${enc(current.id)}`, wanted)
      : await call('POST', `${envPath}/strategies`, wanted);
    return parse(answer, UnleashStrategy, 'an Unleash strategy');
  }

  return {
    describe,
    refuses: (exposure) => (Number.isInteger(exposure.percent) ? undefined : wholePercentOnly(spec, exposure.percent)),
    async check() {
      const feature = await getFeature();
      if (feature) {
        managedStrategy(spec, environmentOf(spec, feature));
        return;
      }
      // A flag the first apply creates: its project must exist (and the token be accepted).
      const { projects } = parse(await call('GET', '/api/admin/projects'), ProjectList, 'a list of Unleash projects');
      if (projects.some((p) => p.id === spec.project)) return;
      throw new TargetError(
        `Unleash at ${shownBase} has no project "${spec.project}" to create flag "${spec.flag}" in ` +
          `(it has: ${projects.map((p) => `"${p.id}"`).join(', ') || 'none'}); fix the catalog's project`,
        'CONFIG',
        true,
      );
    },
    async read() {
      const feature = await getFeature();
      if (!feature) return { percent: 0 };
      const env = environmentOf(spec, feature);
      return readingOf(spec, env, managedStrategy(spec, env));
    },
    async apply(change: ExposureChange): Promise<ExposureReading> {
      requireWholePercent(spec, change.percent);
      const servesNoOne = change.percent === 0 && !change.cohort;
      let feature = await getFeature();
      // a missing flag already serves no one: a rollback to 0 % creates nothing
      if (!feature && servesNoOne) return { percent: 0 };
      feature ??= await createFeature();
      const env = environmentOf(spec, feature);
      const current = managedStrategy(spec, env);
      const wanted = strategyFor(spec, change);
      let strategy = current;
      if (current ? !sameStrategy(current, wanted) : !servesNoOne) strategy = await writeStrategy(current, wanted);
      let enabled = env.enabled;
      if (change.percent > 0 && !enabled) {
        await call('POST', `${envPath}/on`);
        enabled = true;
      }
      return readingOf(spec, { ...env, enabled }, strategy);
    },
  };
}

/** A flag in one Unleash environment, driven through its Admin API. */
export const unleashTarget = defineTarget({
  kind: 'unleash',
  settings: UnleashTargetSpec,
  create: ({ settings }, ctx) => createUnleashTarget(settings, { secret: ctx.secret }),
});

function requireWholePercent(spec: UnleashTargetSpec, percent: number): void {
  if (Number.isInteger(percent)) return;
  throw new TargetError(`${wholePercentOnly(spec, percent)} (nothing was changed)`, 'REFUSED', false);
}

const wholePercentOnly = (spec: UnleashTargetSpec, percent: number) =>
  `Unleash takes whole percentages: flag "${spec.flag}" cannot be set to ${percent} %; use whole-number ` +
  'exposure steps for an Unleash target';

function parse<T>(answer: { request: string; status: number; text: string }, schema: z.ZodType<T>, what: string): T {
  let json: unknown;
  try {
    json = JSON.parse(answer.text);
  } catch (err) {
    throw unparsable(answer, `is not JSON (${(err as Error).message})`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw unparsable(answer, `is not ${what}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

function unparsable(answer: { request: string; status: number; text: string }, problem: string): TargetError {
  // Retryable: a proxy in front of Unleash can briefly serve something else.
  const message = `${answer.request} answered ${answer.status} but the body ${problem}${bodySnippet(answer.text)}`;
  return new TargetError(message, 'UNPARSABLE', true);
}

/** Unleash answers errors as `{ name, message, details }`: its message, else an excerpt of the body. */
function serverSaid(text: string): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown }).message;
    if (typeof message === 'string') return bodySnippet(message);
  } catch {
    // not JSON: a proxy's page
  }
  return bodySnippet(text);
}

/**
 * 401/403 and 404 are the catalog's to fix (the token, the project, the environment): CONFIG, retried until an
 * operator does. 408, 409 (a concurrent change), 429 and 5xx are momentary. Any other answer refuses the request.
 */
function statusError(spec: UnleashTargetSpec, request: string, response: Response, text: string): TargetError {
  const { status } = response;
  const location = response.headers.get('location');
  const message = `${request} answered ${status}${location ? `: redirected to ${redactUrl(location)}` : serverSaid(text)}`;
  if (status === 401 || status === 403) {
    return new TargetError(
      `${message}; check that catalog secret "${spec.token}" holds an Unleash admin or personal access token ` +
        `that may change flags in project "${spec.project}"`,
      'CONFIG',
      true,
    );
  }
  if (status === 404) {
    return new TargetError(
      `${message}; check the catalog's project "${spec.project}" and environment "${spec.environment}"`,
      'CONFIG',
      true,
    );
  }
  if (status >= 500 || status === 408 || status === 409 || status === 429) {
    return new TargetError(message, 'UNAVAILABLE', true);
  }
  return new TargetError(message, 'REJECTED', false);
}
