import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { catalogOf, type LoadedCatalog } from '../../src/catalog/load.js';
import type { SecretStore } from '../../src/catalog/secrets.js';
import type { RolloutClient } from '../../src/client/rollout-client.js';
import type { CatalogInput } from '../../src/domain/catalog.schema.js';
import { createLogger } from '../../src/logger.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';

/*
 * What the trust-boundary tests share: a strict catalog, an API server whose callers are the catalog's principals,
 * a start that bypasses the API (any Temporal SDK, by workflow type name), and checks of what a refused start left.
 */

/**
 * A strict catalog, its relative paths under `dir`: no inline URL is allowed (none listed, no loopback), inline
 * flagd targets land under the root `flags` (`dir/flags`), memory targets and synthetic sources stay allowed.
 */
export function strictCatalog(dir: string, extra: Partial<CatalogInput> = {}): LoadedCatalog {
  return catalogOf(
    {
      roots: { flags: 'flags' },
      ...extra,
      inline: { urls: [], loopback: false, flagdRoot: 'flags', ...extra.inline },
    },
    dir,
  );
}

/** One answer of the API: status, the body as text and (when it is JSON) parsed. */
export interface ApiAnswer {
  status: number;
  text: string;
  json: { error?: string; issues?: { path: string; message: string }[]; [key: string]: unknown };
}

export interface SecureApi {
  app: FastifyInstance;
  base: string;
  /** A request as `token`'s holder (no token: no Authorization header); a non-string body is sent as JSON. */
  call(method: string, path: string, token: string | undefined, body?: unknown): Promise<ApiAnswer>;
  close(): Promise<void>;
}

/** The HTTP API over `catalog` (its principals are the only callers: no `token` option), on a loopback port. */
export async function secureApi(opts: {
  client: RolloutClient;
  temporalClient: Client;
  catalog: LoadedCatalog;
  taskQueue: string;
  secrets?: SecretStore;
}): Promise<SecureApi> {
  const app = await createApiServer({
    client: opts.client,
    temporalClient: opts.temporalClient,
    catalog: opts.catalog,
    ...(opts.secrets ? { secrets: opts.secrets } : {}),
    logger: createLogger({ level: 'silent' }),
    taskQueue: opts.taskQueue,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  return {
    app,
    base,
    async call(method, path, token, body) {
      const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
      if (body !== undefined)
        headers['content-type'] = typeof body === 'string' ? 'application/yaml' : 'application/json';
      const res = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      let json: ApiAnswer['json'] = {};
      try {
        json = JSON.parse(text) as ApiAnswer['json'];
      } catch {
        /* not JSON */
      }
      return { status: res.status, text, json };
    },
    close: () => app.close(),
  };
}

/** `/rollouts/<id>` with the ID URL-encoded (IDs hold a slash). */
export const rolloutPath = (id: string, command?: string) =>
  `/rollouts/${encodeURIComponent(id)}${command === undefined ? '' : `/${command}`}`;

/** Starts the rollout workflow by its type name, as any Temporal SDK can: no client-side check of any kind. */
export function startRaw(
  client: Client,
  taskQueue: string,
  spec: unknown,
  workflowId: string,
): Promise<WorkflowHandle> {
  return client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId, args: [{ spec }] });
}

/**
 * Waits for the workflow to fail and checks it failed with `InvalidSpec` listing `issue` (`path: message`) as one of
 * its lines; returns the failure message.
 */
export async function expectInvalidSpec(handle: WorkflowHandle, issue: string): Promise<string> {
  const err = await handle.result().then(
    () => undefined,
    (e: unknown) => e as { cause?: { type?: string; message?: string } },
  );
  expect(err?.cause?.type, `${handle.workflowId}: failure type`).toBe('InvalidSpec');
  const message = err?.cause?.message ?? '';
  expect(message.split('\n'), handle.workflowId).toContain(issue);
  return message;
}

type History = temporal.api.history.v1.IHistory;

/** Activity tasks a run scheduled: a spec refused by the workflow's check schedules none (the check is local). */
export const scheduledActivities = (history: History): string[] =>
  (history.events ?? []).flatMap((e) => {
    const type = e.activityTaskScheduledEventAttributes?.activityType?.name;
    return type ? [type] : [];
  });

/**
 * Everything under `dir` (not following symbolic links), path → content (`-> target` for a link, `/` for a
 * directory): what a test compares before and after, byte for byte.
 */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (at: string, rel: string): Promise<void> => {
    for (const name of (await readdir(at)).sort()) {
      const path = join(at, name);
      const key = rel === '' ? name : `${rel}/${name}`;
      const info = await lstat(path);
      if (info.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        out[key] = '/';
        await walk(path, key);
      } else out[key] = await readFile(path, 'utf8');
    }
  };
  await walk(dir, '');
  return out;
}

/** Asserts that none of `values` occurs in any of the named texts. */
export function expectNoneOf(texts: Record<string, string>, values: readonly string[]): void {
  for (const [where, text] of Object.entries(texts))
    for (const value of values) expect(text.includes(value), `${where} holds ${value.slice(0, 12)}…`).toBe(false);
}
