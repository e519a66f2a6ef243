import { Client, Connection } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, type NativeConnectionOptions } from '@temporalio/worker';
import { dataConverterFromEnv } from './codec.js';
import { unreachableError } from './unreachable.js';

/** Task queue every rollout worker polls. */
export const TASK_QUEUE = 'rollouts';
export const DEFAULT_ADDRESS = '127.0.0.1:7233';
export const DEFAULT_NAMESPACE = 'default';

/** Where and how to reach Temporal. `explicit` is false when nothing was configured (use the embedded server). */
export interface TemporalSettings {
  address: string;
  namespace: string;
  explicit: boolean;
  connectionOptions: NativeConnectionOptions;
}

/**
 * Reads Temporal's standard client environment: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`,
 * `TEMPORAL_TLS*`, `TEMPORAL_PROFILE` and `temporal.toml` profiles, so one binary drives a local dev server,
 * a cluster or Temporal Cloud.
 */
export function loadTemporalSettings(env: NodeJS.ProcessEnv = process.env): TemporalSettings {
  const overrideEnvVars = Object.fromEntries(
    Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
  );
  const config = loadClientConnectConfig({
    overrideEnvVars,
    ...(env.TEMPORAL_PROFILE ? { profile: env.TEMPORAL_PROFILE } : {}),
  });
  const configured = config.connectionOptions.address;
  const address = configured ?? DEFAULT_ADDRESS;
  return {
    address,
    namespace: config.namespace ?? DEFAULT_NAMESPACE,
    explicit: configured !== undefined,
    connectionOptions: { ...config.connectionOptions, address },
  };
}

/**
 * Opens a client connection (for starting, querying and updating rollouts). When `ROLLOUT_PAYLOAD_KEY` is set in
 * `env`, every payload is encrypted (see `codec.ts`); workers must then run with the same key. A server that cannot
 * be reached throws a `TemporalServerError`: `cannot reach Temporal at ADDRESS: <reason>`.
 */
export async function connectClient(settings: TemporalSettings, env: NodeJS.ProcessEnv = process.env): Promise<Client> {
  const dataConverter = dataConverterFromEnv(env);
  const { address, tls, apiKey, metadata } = settings.connectionOptions;
  const target = address ?? settings.address;
  let connection: Connection;
  try {
    connection = await Connection.connect({
      address: target,
      ...(tls !== undefined ? { tls } : {}),
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(metadata !== undefined ? { metadata } : {}),
    });
  } catch (err) {
    // every failure to connect reads the same: where, and why in a few words (the SDK's message seldom says)
    throw await unreachableError(target, err);
  }
  return new Client({ connection, namespace: settings.namespace, ...(dataConverter ? { dataConverter } : {}) });
}

/** Opens the native connection a worker polls with. `Runtime.install` must have run before this. */
export function connectWorker(settings: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect(settings.connectionOptions);
}
