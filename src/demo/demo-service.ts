import { randomUUID } from 'node:crypto';
import { unwatchFile, watchFile } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlagdProvider } from '@openfeature/flagd-provider';
import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { z } from 'zod';
import { RolloutError } from '../errors.js';

/** What the demo service decides between, per request. */
export interface DemoFlag {
  /** Absolute path of the flagd flag file the rollout writes. */
  file: string;
  key: string;
  variant: string;
  baselineVariant: string;
}

export interface DemoServiceOptions {
  flag: DemoFlag;
  port: number;
  host?: string;
  /** Injected for deterministic tests; default Math.random. */
  random?: () => number;
  /** How often the flag file is checked for changes (default 250 ms). */
  flagPollMs?: number;
  /** Evaluate through this flagd daemon instead of reading `flag.file`; default: {@link flagdDaemonFromEnv}. */
  flagd?: FlagdDaemon;
  /** Where the FLAGD_* variables are read from (default `process.env`). */
  env?: Record<string, string | undefined>;
}

/** A running flagd daemon the demo service evaluates through. */
export interface FlagdDaemon {
  /**
   * `rpc`: flagd evaluates each request (its evaluation port); `in-process`: the provider syncs the flag definitions
   * from flagd's sync port and evaluates them locally.
   */
  resolver: 'rpc' | 'in-process';
  host: string;
  port: number;
}

const Port = z.coerce.number().int().min(1).max(65_535);
const FlagdEnv = z.object({
  FLAGD_HOST: z.string().min(1),
  FLAGD_RESOLVER: z.enum(['rpc', 'in-process']).default('rpc'),
  FLAGD_PORT: Port.optional(),
  FLAGD_SYNC_PORT: Port.optional(),
});

/**
 * The daemon named by the variables flagd's providers read: `FLAGD_HOST` (unset: none, the service reads the flag
 * file), `FLAGD_RESOLVER` `rpc` (default) or `in-process`, and the port: `FLAGD_PORT` (default 8013), or for
 * in-process `FLAGD_SYNC_PORT`, else `FLAGD_PORT`, else 8015. The daemon must serve the file the rollout writes.
 */
export function flagdDaemonFromEnv(env: Record<string, string | undefined>): FlagdDaemon | undefined {
  if (!env.FLAGD_HOST) return undefined;
  const set = (name: string) => env[name] || undefined; // empty counts as unset, as for the providers
  const parsed = FlagdEnv.safeParse({
    FLAGD_HOST: env.FLAGD_HOST,
    FLAGD_RESOLVER: set('FLAGD_RESOLVER')?.toLowerCase(),
    FLAGD_PORT: set('FLAGD_PORT'),
    FLAGD_SYNC_PORT: set('FLAGD_SYNC_PORT'),
  });
  if (!parsed.success)
    throw new RolloutError(
      `demo service: bad flagd daemon settings in the environment: ${z.prettifyError(parsed.error)}`,
      'Set FLAGD_RESOLVER to rpc or in-process and FLAGD_PORT/FLAGD_SYNC_PORT to a port number, or unset FLAGD_HOST.',
    );
  const { FLAGD_HOST: host, FLAGD_RESOLVER: resolver, FLAGD_PORT, FLAGD_SYNC_PORT } = parsed.data;
  const port = resolver === 'rpc' ? (FLAGD_PORT ?? 8013) : (FLAGD_SYNC_PORT ?? FLAGD_PORT ?? 8015);
  return { resolver, host, port };
}

/** A running demo service. */
export interface DemoService {
  url: string;
  /** `127.0.0.1:port`, a Prometheus scrape target. */
  hostPort: string;
  fault(): boolean;
  /** Turns the regression in the new variant on or off (also `POST /fault {"on": true}`). */
  setFault(on: boolean): void;
  /** Where `GET /prometheus/*` is proxied to (undefined: 503). */
  setPrometheus(url: string | undefined): void;
  stop(): Promise<void>;
}

/** What the fault does to the new variant: slower and failing, so both guards have something to catch. */
export const FAULT = { extraLatencyMs: 300, errorRate: 0.3 } as const;
const BASE_LATENCY_MS = { mean: 25, spread: 20 };
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2];
const FaultBody = z.object({ on: z.boolean() }).strict();

/**
 * Starts the demo "checkout" service. Each `GET /checkout?user=<id>` asks OpenFeature (flagd provider, in-process,
 * reading the flag file offline, or through a flagd daemon: `options.flagd`, FLAGD_HOST) which variant that user
 * gets — the user id is the targeting key, so fractional bucketing is sticky per user — then simulates the work and
 * records `demo_requests_total{variant,code,path}` and `demo_request_duration_seconds{variant,path}` for
 * `GET /metrics`. While a shadow step's companion flag (`<key>-shadow`) is on for a user served the baseline, the new
 * variant runs too, unserved (`path="shadow"`), and `demo_shadow_comparisons_total{outcome}` counts whether its
 * answer agreed with the one served.
 */
export async function startDemoService(options: DemoServiceOptions): Promise<DemoService> {
  const random = options.random ?? Math.random;
  const { flag } = options;
  const registry = new Registry();
  const requests = new Counter({
    name: 'demo_requests_total',
    help: 'Checkout requests by variant, status code and path (served, or run in shadow and not served).',
    labelNames: ['variant', 'code', 'path'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'demo_request_duration_seconds',
    help: 'Checkout latency by variant and path (served or shadow).',
    labelNames: ['variant', 'path'] as const,
    buckets: BUCKETS,
    registers: [registry],
  });
  const shadowComparisons = new Counter({
    name: 'demo_shadow_comparisons_total',
    help: 'Requests that ran the new variant in shadow, by whether its answer agreed with the one served.',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const faultGauge = new Gauge({
    name: 'demo_fault',
    help: '1 while the injected regression is on.',
    registers: [registry],
  });
  // every series exists from the start, so an error ratio is 0 (not absent) until the first error
  for (const variant of [flag.variant, flag.baselineVariant]) {
    for (const code of ['200', '500'])
      for (const path of ['served', 'shadow']) requests.inc({ variant, code, path }, 0);
    for (const path of ['served', 'shadow']) duration.zero({ variant, path });
  }
  for (const outcome of ['agree', 'disagree']) shadowComparisons.inc({ outcome }, 0);

  // unique per service: two services on port 0 sharing a domain would replace (and close) each other's provider
  const domain = `demo-service:${flag.file}:${randomUUID()}`;
  // The provider watches the file with fs.watchFile at Node's default 5 s poll and offers no option for it. Node
  // shares one stat watcher per path and the first caller sets its interval, so watching first makes the provider
  // see a rollout's write within flagPollMs instead of 5 s (a demo window is 20 s).
  const noop = () => {};
  const daemon = options.flagd ?? flagdDaemonFromEnv(options.env ?? process.env);
  if (!daemon) watchFile(flag.file, { interval: options.flagPollMs ?? 250, persistent: false }, noop);
  const provider = daemon
    ? new FlagdProvider({ resolverType: daemon.resolver, host: daemon.host, port: daemon.port })
    : new FlagdProvider({ resolverType: 'in-process', offlineFlagSourcePath: flag.file });
  try {
    await OpenFeature.setProviderAndWait(domain, provider);
  } catch (err) {
    unwatchFile(flag.file, noop);
    if (!daemon) throw err;
    await provider.onClose().catch(() => {});
    throw new RolloutError(
      `demo service: the flagd daemon at ${daemon.host}:${daemon.port} (${daemon.resolver}) is not reachable: ${(err as Error).message}`,
      'Start flagd serving the flag file, or unset FLAGD_HOST to read the file directly.',
      { cause: err },
    );
  }
  const flags = OpenFeature.getClient(domain);

  let fault = false;
  let prometheus: string | undefined;
  const setFault = (on: boolean) => {
    fault = on;
    faultGauge.set(on ? 1 : 0);
  };

  /** One checkout on `variant`'s code path: its latency and status, recorded under `path`. */
  async function work(variant: string, path: 'served' | 'shadow'): Promise<number> {
    const started = performance.now();
    const faulty = fault && variant === flag.variant;
    await sleep(BASE_LATENCY_MS.mean + (random() - 0.5) * BASE_LATENCY_MS.spread + (faulty ? FAULT.extraLatencyMs : 0));
    const code = faulty && random() < FAULT.errorRate ? 500 : 200;
    requests.inc({ variant, code: String(code), path });
    duration.observe({ variant, path }, (performance.now() - started) / 1000);
    return code;
  }

  async function checkout(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const user = url.searchParams.get('user') ?? req.headers['x-user-id']?.toString() ?? 'anonymous';
    const context = { targetingKey: user };
    const details = await flags.getStringDetails(flag.key, flag.baselineVariant, context);
    const variant = details.value === flag.variant ? flag.variant : flag.baselineVariant;
    // a shadow step's companion flag: run the new variant too, unserved, and compare once both have answered
    const shadow =
      variant !== flag.variant && (await flags.getBooleanValue(`${flag.key}-shadow`, false, context))
        ? work(flag.variant, 'shadow')
        : undefined;
    const code = await work(variant, 'served');
    if (shadow)
      void shadow.then((shadowCode) => shadowComparisons.inc({ outcome: shadowCode === code ? 'agree' : 'disagree' }));
    json(res, code, code === 200 ? { user, variant } : { user, variant, error: 'checkout failed (injected fault)' });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://demo');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /checkout') return checkout(req, res, url);
    if (route === 'GET /metrics') {
      res.writeHead(200, { 'content-type': registry.contentType }).end(await registry.metrics());
      return;
    }
    if (route === 'GET /fault') return json(res, 200, { on: fault });
    if (route === 'POST /fault') {
      const body = FaultBody.safeParse(await readJson(req));
      if (!body.success)
        return json(res, 400, { error: `expected {"on": true|false}: ${z.prettifyError(body.error)}` });
      setFault(body.data.on);
      return json(res, 200, { on: fault });
    }
    if (route === 'GET /healthz') return json(res, 200, { ok: true });
    if (req.method === 'GET' && url.pathname.startsWith('/prometheus/')) return proxy(res, url);
    json(res, 404, { error: `no route ${route}` });
  }

  /**
   * A rollout's spec (and so its guard's Prometheus URL) is frozen in workflow history, while this run's Prometheus
   * listens on a fresh random port. Guards go through this stable address so a resumed rollout still finds it.
   */
  async function proxy(res: ServerResponse, url: URL): Promise<void> {
    if (!prometheus) return json(res, 503, { status: 'error', error: 'no Prometheus is running in this demo' });
    const upstream = await fetch(`${prometheus}${url.pathname.slice('/prometheus'.length)}${url.search}`, {
      signal: AbortSignal.timeout(10_000),
    });
    res
      .writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' })
      .end(await upstream.text());
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) json(res, 502, { error: (err as Error).message });
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', resolve);
  }).catch(async (err: unknown) => {
    await closeFlags();
    throw err;
  });
  const address = server.address() as AddressInfo;
  const hostPort = `${address.address}:${address.port}`;

  async function closeFlags(): Promise<void> {
    unwatchFile(flag.file, noop);
    await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
    await provider.onClose();
  }

  return {
    url: `http://${hostPort}`,
    hostPort,
    fault: () => fault,
    setFault,
    setPrometheus: (url) => (prometheus = url),
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeFlags();
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > 10_000) return undefined;
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
