import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A fake of LaunchDarkly (SaaS we cannot run here) on loopback, built from its published contract: the REST API's
 * `GET /api/v2/flags/{project}/{flag}?env=` and semantic-patch `PATCH` (openapi.json `getFeatureFlag` and
 * `patchFeatureFlag`; errors `{ code, message }`; the access token raw in `Authorization`), and the server-side SDKs'
 * polling endpoint `GET /sdk/latest-all` (the SDK key in `Authorization`; `{ flags, segments }` in the flag data model
 * the SDKs evaluate). Only the instructions listed in {@link INSTRUCTIONS} are implemented; any other is answered
 * 400, as LaunchDarkly answers an invalid one, so a target cannot silently depend on something the fake ignores.
 */
export interface LaunchDarklyFake {
  url: string;
  /** Creates a flag the way LaunchDarkly does: off in every environment, `onVariation` as its default rule. */
  createFlag(key: string, variations: FakeVariation[], opts?: { onVariation?: number; offVariation?: number }): void;
  /** The flag's REST representation (every environment), or undefined. */
  flag(key: string): RestFlag | undefined;
  /** Each semantic patch LaunchDarkly applied (an unchanged flag records nothing), as its audit log would. */
  audit: { flag: string; comment: string | undefined; instructions: Instruction[] }[];
  /** Every request, in order. */
  requests: { method: string; path: string; headers: IncomingHttpHeaders; body: string }[];
  /** The next REST API requests (not SDK polls) get these answers instead, one each. */
  failNext(...answers: { status: number; body?: unknown; headers?: Record<string, string> }[]): void;
  close(): Promise<void>;
}

export interface FakeVariation {
  value: unknown;
  name?: string;
}

export interface LaunchDarklyFakeOptions {
  /** The API access token the REST API accepts. */
  apiToken: string;
  project: string;
  /** Each environment with the SDK key its server-side SDKs poll with. */
  environments: { key: string; sdkKey: string }[];
}

type Json = Record<string, unknown>;
type Answer = [status: number, body: unknown, headers?: Record<string, string> | undefined];
type Instruction = Json & { kind: string };
interface Rollout {
  variations: { variation: number; weight: number }[];
  bucketBy?: string;
  contextKind: string;
}
interface EnvState {
  on: boolean;
  offVariation: number;
  fallthrough: { variation: number } | { rollout: Rollout };
  salt: string;
  version: number;
  lastModified: number;
}
interface FlagState {
  key: string;
  version: number;
  creationDate: number;
  variations: { _id: string; value: unknown; name?: string }[];
  environments: Record<string, EnvState>;
}
export type RestFlag = ReturnType<typeof restFlag>;

const SEMANTIC_PATCH = 'launchdarkly.semanticpatch';
const WEIGHT_TOTAL = 100_000;
/** The semantic-patch instructions implemented here; each needs `environmentKey`. */
const INSTRUCTIONS = ['turnFlagOn', 'turnFlagOff', 'updateFallthroughVariationOrRollout', 'updateOffVariation'];

/** Starts the fake on a free loopback port. */
export async function startLaunchDarklyFake(opts: LaunchDarklyFakeOptions): Promise<LaunchDarklyFake> {
  const flags = new Map<string, FlagState>();
  const queued: { status: number; body?: unknown; headers?: Record<string, string> }[] = [];
  const fake: Omit<LaunchDarklyFake, 'url' | 'close'> = {
    audit: [],
    requests: [],
    createFlag(key, variations, { onVariation = 0, offVariation = variations.length - 1 } = {}) {
      const now = Date.now();
      const environments: Record<string, EnvState> = {};
      for (const { key: env } of opts.environments) {
        const salt = createHash('sha256').update(`${opts.project}/${env}/${key}`).digest('hex').slice(0, 32);
        environments[env] = {
          on: false,
          offVariation,
          fallthrough: { variation: onVariation },
          salt,
          version: 1,
          lastModified: now,
        };
      }
      const withIds = variations.map((v) => ({ _id: randomUUID(), ...v }));
      flags.set(key, { key, version: 1, creationDate: now, variations: withIds, environments });
    },
    flag: (key) => {
      const state = flags.get(key);
      return state && restFlag(opts.project, state, undefined);
    },
    failNext: (...answers) => void queued.push(...answers),
  };

  function handle(method: string, url: URL, headers: IncomingHttpHeaders, body: string): Answer {
    if (method === 'GET' && url.pathname === '/sdk/latest-all') {
      const env = opts.environments.find((e) => e.sdkKey === headers.authorization);
      if (!env) return [401, { code: 'unauthorized', message: 'Invalid SDK key' }];
      const all = Object.fromEntries([...flags.values()].map((f) => [f.key, sdkFlag(f, env.key)]));
      return [200, { flags: all, segments: {} }];
    }
    const route = /^\/api\/v2\/flags\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!route) return error(404, 'not_found', 'Invalid resource identifier');
    const injected = queued.shift();
    if (injected) {
      return [injected.status, injected.body ?? { code: 'internal_error', message: 'injected' }, injected.headers];
    }
    if (headers.authorization !== opts.apiToken) return error(401, 'unauthorized', 'Invalid access token');
    const flag =
      decodeURIComponent(route[1] ?? '') === opts.project ? flags.get(decodeURIComponent(route[2] ?? '')) : undefined;
    if (!flag) return error(404, 'not_found', 'Invalid resource identifier');
    if (method === 'GET') return [200, restFlag(opts.project, flag, url.searchParams.get('env') ?? undefined)];
    if (method !== 'PATCH') return error(405, 'method_not_allowed', 'Method not allowed');
    const problem = semanticPatch(flag, headers['content-type'], body, fake.audit);
    return problem ? error(400, 'invalid_request', problem) : [200, restFlag(opts.project, flag, undefined)];
  }

  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = req.method ?? '';
      fake.requests.push({ method, path: `${url.pathname}${url.search}`, headers: req.headers, body });
      const [status, out, headers = {}] = handle(method, url, req.headers, body);
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  });
}

const error = (status: number, code: string, message: string): Answer => [status, { code, message }];

/**
 * Applies a semantic patch to `flag`, all instructions or none (as LaunchDarkly does); returns why it is invalid,
 * or undefined. A patch that changes nothing leaves the version alone.
 */
function semanticPatch(
  flag: FlagState,
  contentType: string | undefined,
  body: string,
  audit: LaunchDarklyFake['audit'],
): string | undefined {
  const [media, ...params] = (contentType ?? '').split(';').map((p) => p.trim().toLowerCase());
  if (media !== 'application/json') return `Unsupported content type "${contentType ?? ''}"`;
  // Without the domain-model parameter LaunchDarkly reads the body as a JSON patch, which this fake does not take.
  if (!params.includes(`domain-model=${SEMANTIC_PATCH}`)) return 'Invalid JSON patch: expected an array of operations';
  let patch: { environmentKey?: unknown; comment?: unknown; instructions?: unknown };
  try {
    patch = JSON.parse(body) as typeof patch;
  } catch {
    return 'Invalid request body';
  }
  if (!Array.isArray(patch.instructions) || patch.instructions.length === 0)
    return 'instructions must be a non-empty array';
  const env = typeof patch.environmentKey === 'string' ? flag.environments[patch.environmentKey] : undefined;
  if (!env) return `environmentKey must name an environment of the flag`;
  const next: EnvState = structuredClone(env);
  for (const instruction of patch.instructions as Instruction[]) {
    const problem = applyInstruction(flag, next, instruction);
    if (problem) return problem;
  }
  const { version: _v, lastModified: _m, ...before } = env;
  const { version: _nv, lastModified: _nm, ...after } = next;
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  Object.assign(env, next, { version: env.version + 1, lastModified: Date.now() });
  flag.version += 1;
  const comment = typeof patch.comment === 'string' ? patch.comment : undefined;
  audit.push({ flag: flag.key, comment, instructions: structuredClone(patch.instructions as Instruction[]) });
  return undefined;
}

function applyInstruction(flag: FlagState, env: EnvState, instruction: Instruction): string | undefined {
  const indexOf = (id: unknown) => flag.variations.findIndex((v) => v._id === id);
  switch (instruction?.kind) {
    case 'turnFlagOn':
    case 'turnFlagOff':
      env.on = instruction.kind === 'turnFlagOn';
      return undefined;
    case 'updateOffVariation': {
      const index = indexOf(instruction.variationId);
      if (index < 0) return `unknown variationId "${String(instruction.variationId)}"`;
      env.offVariation = index;
      return undefined;
    }
    case 'updateFallthroughVariationOrRollout': {
      const { variationId, rolloutWeights, rolloutBucketBy, rolloutContextKind } = instruction;
      if ((variationId === undefined) === (rolloutWeights === undefined)) {
        return 'updateFallthroughVariationOrRollout takes either variationId or rolloutWeights';
      }
      if (variationId !== undefined) {
        const index = indexOf(variationId);
        if (index < 0) return `unknown variationId "${String(variationId)}"`;
        env.fallthrough = { variation: index };
        return undefined;
      }
      const entries = Object.entries((rolloutWeights ?? {}) as Record<string, unknown>);
      const variations: Rollout['variations'] = [];
      for (const [id, weight] of entries) {
        const index = indexOf(id);
        if (index < 0) return `unknown variation ID "${id}" in rolloutWeights`;
        if (!Number.isInteger(weight) || (weight as number) < 0 || (weight as number) > WEIGHT_TOTAL) {
          return `rolloutWeights must be integers in thousandths of a percent (0-${WEIGHT_TOTAL})`;
        }
        variations.push({ variation: index, weight: weight as number });
      }
      if (variations.reduce((sum, v) => sum + v.weight, 0) !== WEIGHT_TOTAL)
        return `rolloutWeights must total ${WEIGHT_TOTAL}`;
      if (rolloutBucketBy !== undefined && typeof rolloutBucketBy !== 'string')
        return 'rolloutBucketBy must be a string';
      const rollout: Rollout = {
        variations: variations.sort((a, b) => a.variation - b.variation),
        contextKind: typeof rolloutContextKind === 'string' ? rolloutContextKind : 'user',
      };
      if (rolloutBucketBy !== undefined) rollout.bucketBy = rolloutBucketBy;
      env.fallthrough = { rollout };
      return undefined;
    }
    default:
      return `Unknown or unsupported instruction kind "${String(instruction?.kind)}" (this fake implements ${INSTRUCTIONS.join(', ')})`;
  }
}

/** The REST representation (`FeatureFlag`), its `environments` filtered to `env` when given. */
function restFlag(project: string, flag: FlagState, env: string | undefined) {
  const environments = Object.fromEntries(
    Object.entries(flag.environments)
      .filter(([key]) => env === undefined || key === env)
      .map(([key, e]) => [
        key,
        {
          on: e.on,
          archived: false,
          salt: e.salt,
          sel: e.salt.slice(0, 16),
          lastModified: e.lastModified,
          version: e.version,
          targets: [],
          contextTargets: [],
          rules: [],
          fallthrough: structuredClone(e.fallthrough),
          offVariation: e.offVariation,
          prerequisites: [],
          _site: { href: `/${project}/${key}/features/${flag.key}`, type: 'text/html' },
          environmentName: key,
          trackEvents: false,
          trackEventsFallthrough: false,
        },
      ]),
  );
  return {
    name: flag.key,
    kind: 'multivariate',
    key: flag.key,
    version: flag.version,
    creationDate: flag.creationDate,
    variations: structuredClone(flag.variations),
    temporary: false,
    tags: [],
    _links: { self: { href: `/api/v2/flags/${project}/${flag.key}`, type: 'application/json' } },
    experiments: { baselineIdx: 0, items: [] },
    customProperties: {},
    archived: false,
    environments,
  };
}

/** The flag as server-side SDKs receive it for one environment: variation values, indices, the salt they hash. */
function sdkFlag(flag: FlagState, envKey: string): Json {
  const env = flag.environments[envKey];
  if (!env) return { key: flag.key, version: flag.version, deleted: true };
  return {
    key: flag.key,
    version: env.version,
    on: env.on,
    prerequisites: [],
    salt: env.salt,
    targets: [],
    contextTargets: [],
    rules: [],
    fallthrough: structuredClone(env.fallthrough),
    offVariation: env.offVariation,
    variations: flag.variations.map((v) => v.value),
    clientSideAvailability: { usingMobileKey: false, usingEnvironmentId: false },
    clientSide: false,
    trackEvents: false,
    trackEventsFallthrough: false,
    deleted: false,
  };
}
