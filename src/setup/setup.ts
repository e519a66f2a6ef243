import { type Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import { RolloutError } from '../errors.js';
import { connectClient, type TemporalSettings } from '../temporal/connection.js';
import { ROLLOUT_SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';

const { IndexedValueType } = proto.temporal.api.enums.v1;
/** The gRPC status codes setup tells apart (numbering from the gRPC spec). */
const grpcStatus = {
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  UNIMPLEMENTED: 12,
  UNAUTHENTICATED: 16,
} as const;
type IndexedValueType = proto.temporal.api.enums.v1.IndexedValueType;
type RolloutAttribute = (typeof ROLLOUT_SEARCH_ATTRIBUTES)[number];

/** Retention of a namespace `rollout setup` creates: a rollout's history stays inspectable for three days. */
export const DEFAULT_RETENTION_HOURS = 72;
/** Workflow type, id and task queue of the probe start; `rollout list` filters on its own workflow type. */
export const PROBE_WORKFLOW_TYPE = 'rolloutSetupProbe';
const PROBE_ID = 'rollout-setup-probe';

export interface SetupOptions {
  /** Where to connect (`loadTemporalSettings()`); its namespace is used unless `namespace` is given. */
  settings: TemporalSettings;
  namespace?: string;
  retentionHours?: number;
  /** Bound on waiting for the namespace and attributes to become usable. Default 60 s. */
  timeoutMs?: number;
  /** One line per thing created or already present. */
  log?: (line: string) => void;
  /** An open client to use instead of connecting (its namespace is ignored). */
  client?: Client;
}

export interface SetupResult {
  namespace: string;
  /** What this run created: `namespace X`, `search attribute Y`. */
  created: string[];
  alreadyPresent: string[];
  /** How long it took until a start with the attributes was accepted. */
  readyAfterMs: number;
}

/** The operator API's type for an SDK search attribute type (`KEYWORD` → `INDEXED_VALUE_TYPE_KEYWORD`). */
export function indexedTypeOf(attribute: RolloutAttribute): IndexedValueType {
  return IndexedValueType[`INDEXED_VALUE_TYPE_${attribute.type}`];
}

/** `Keyword`, `Double`, `Int`: how Temporal's CLI and UI name a type. */
function typeLabel(attribute: RolloutAttribute): string {
  return attribute.type.charAt(0) + attribute.type.slice(1).toLowerCase();
}

/**
 * `rollout setup`: makes a Temporal server ready for rollouts, idempotently. Creates the namespace when it is
 * missing (and the server allows it), registers the project's search attributes ({@link ROLLOUT_SEARCH_ATTRIBUTES}),
 * then waits until a workflow start carrying them is accepted: a real server caches namespaces and search attribute
 * mappings, so both become usable a moment after they were created.
 */
export async function setupTemporal(options: SetupOptions): Promise<SetupResult> {
  const started = Date.now();
  const deadline = started + (options.timeoutMs ?? 60_000);
  const namespace = options.namespace ?? options.settings.namespace;
  const log = options.log ?? (() => {});
  const result: SetupResult = { namespace, created: [], alreadyPresent: [], readyAfterMs: 0 };
  const note = (what: string, created: boolean, detail = '') => {
    (created ? result.created : result.alreadyPresent).push(what);
    log(`${what}: ${created ? 'created' : 'already present'}${detail}`);
  };

  const client = options.client ?? (await connectClient({ ...options.settings, namespace }));
  const { workflowService, operatorService } = client.connection;
  try {
    // 1. the namespace
    if (await namespaceExists(client, namespace)) note(`namespace ${namespace}`, false);
    else {
      const retentionHours = options.retentionHours ?? DEFAULT_RETENTION_HOURS;
      try {
        await workflowService.registerNamespace({
          namespace,
          workflowExecutionRetentionPeriod: msToTs(`${retentionHours} hours`),
          description: 'progressive rollouts (rollout-orchestrator)',
        });
        note(`namespace ${namespace}`, true, ` (retention ${retentionHours}h)`);
      } catch (err) {
        if (codeOf(err) === grpcStatus.ALREADY_EXISTS) note(`namespace ${namespace}`, false);
        else if (isDenied(err))
          throw new RolloutError(
            `The namespace ${namespace} does not exist, and this server does not let this client create it (${firstLine(err)}).`,
            'Create it with your platform (Temporal Cloud: tcld or the Cloud UI; a cluster: `temporal operator namespace create`), then run `rollout setup` again.',
            { cause: err },
          );
        else throw err;
      }
    }

    // 2. the search attributes (a namespace just created may not be visible to the operator API yet)
    const existing = await retryUntil(deadline, isNotYetVisible, async () => {
      const answer = await operatorService.listSearchAttributes({ namespace });
      return answer.customAttributes ?? {};
    });
    const wrongType = ROLLOUT_SEARCH_ATTRIBUTES.filter(
      (a) => a.name in existing && existing[a.name] !== indexedTypeOf(a),
    );
    if (wrongType.length)
      throw new RolloutError(
        `Namespace ${namespace} already has ${wrongType.map((a) => a.name).join(', ')} with another type than the rollouts need (${wrongType.map((a) => `${a.name}: ${typeLabel(a)}`).join(', ')}).`,
        'Remove or rename those search attributes (`temporal operator search-attribute remove`), then run `rollout setup` again.',
      );
    const missing = ROLLOUT_SEARCH_ATTRIBUTES.filter((a) => !(a.name in existing));
    if (missing.length) {
      try {
        await retryUntil(deadline, isNotYetVisible, () =>
          operatorService.addSearchAttributes({
            namespace,
            searchAttributes: Object.fromEntries(missing.map((a) => [a.name, indexedTypeOf(a)])),
          }),
        );
      } catch (err) {
        if (codeOf(err) === grpcStatus.ALREADY_EXISTS) {
          // a concurrent setup won the race: what it registered is as good
        } else if (isDenied(err))
          throw new RolloutError(
            `This server does not let this client register search attributes on ${namespace} (${firstLine(err)}); missing: ${missing.map((a) => a.name).join(', ')}.`,
            `Register them with your platform (Temporal Cloud: \`tcld namespace search-attributes add\`): ${missing.map((a) => `${a.name}=${typeLabel(a)}`).join(', ')}.`,
            { cause: err },
          );
        else throw err;
      }
    }
    for (const a of ROLLOUT_SEARCH_ATTRIBUTES)
      note(`search attribute ${a.name} (${typeLabel(a)})`, missing.includes(a));

    // 3. usable: a start that carries every attribute is accepted
    await retryUntil(deadline, isNotYetUsable, () => probeStart(client));
    result.readyAfterMs = Date.now() - started;
    log(
      `ready: a start with the search attributes is accepted in ${namespace} (${formatSeconds(result.readyAfterMs)})`,
    );
    return result;
  } finally {
    if (!options.client) await client.connection.close();
  }
}

async function namespaceExists(client: Client, namespace: string): Promise<boolean> {
  try {
    await client.connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch (err) {
    if (codeOf(err) === grpcStatus.NOT_FOUND) return false;
    throw err;
  }
}

/**
 * Starts and at once terminates a probe workflow (no worker ever sees it) carrying a value for every attribute.
 * One fixed id: reruns replace the previous probe instead of piling up executions.
 */
async function probeStart(client: Client): Promise<void> {
  const values: Record<RolloutAttribute['type'], unknown> = { KEYWORD: 'setup-probe', DOUBLE: 0, INT: 0 };
  const handle = await client.workflow.start(PROBE_WORKFLOW_TYPE, {
    taskQueue: PROBE_ID,
    workflowId: PROBE_ID,
    workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.TERMINATE_EXISTING,
    workflowExecutionTimeout: '1 minute',
    typedSearchAttributes: ROLLOUT_SEARCH_ATTRIBUTES.map((key) => ({ key, value: values[key.type] })) as never,
  });
  await handle.terminate('rollout setup probe').catch(() => {});
}

/** Retries `fn` while `retryable(err)` holds and the deadline has not passed (every 200 ms). */
async function retryUntil<T>(deadline: number, retryable: (err: unknown) => boolean, fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!retryable(err) || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function codeOf(err: unknown): number | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'number' ? e.code : e?.cause?.code;
  return typeof code === 'number' ? code : undefined;
}

function messageOf(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } } | undefined;
  return `${e?.message ?? ''} ${e?.cause?.message ?? ''}`;
}

function isDenied(err: unknown): boolean {
  const code = codeOf(err);
  return (
    code === grpcStatus.PERMISSION_DENIED || code === grpcStatus.UNIMPLEMENTED || code === grpcStatus.UNAUTHENTICATED
  );
}

/** A namespace registered a moment ago: the frontend's namespace cache has not seen it yet. */
function isNotYetVisible(err: unknown): boolean {
  return codeOf(err) === grpcStatus.NOT_FOUND || /namespace .* (is )?not found/i.test(messageOf(err));
}

/** The namespace or the attributes' mapping not yet in the frontend's caches. */
function isNotYetUsable(err: unknown): boolean {
  return (
    isNotYetVisible(err) ||
    /NamespaceNotFound/.test((err as Error)?.name ?? '') ||
    /no mapping defined for search attribute|invalid search attribute|is not defined/i.test(messageOf(err))
  );
}

function firstLine(err: unknown): string {
  return messageOf(err).trim().split('\n')[0] ?? 'refused';
}

function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

export interface AttributeCheck {
  namespace: string;
  /** Undefined when the check could not run (unreachable, not allowed); the caller then says nothing. */
  missing?: string[];
  namespaceMissing?: boolean;
}

/** Which of the project's search attributes the namespace lacks (for the worker's start-up warning). */
export async function checkSearchAttributes(client: Client, namespace: string): Promise<AttributeCheck> {
  try {
    const answer = await client.connection.operatorService.listSearchAttributes({ namespace });
    const existing = answer.customAttributes ?? {};
    return { namespace, missing: ROLLOUT_SEARCH_ATTRIBUTES.filter((a) => !(a.name in existing)).map((a) => a.name) };
  } catch (err) {
    if (isNotYetVisible(err))
      return { namespace, namespaceMissing: true, missing: ROLLOUT_SEARCH_ATTRIBUTES.map((a) => a.name) };
    return { namespace };
  }
}
