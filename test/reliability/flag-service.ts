import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One PUT the service received (whether it was answered, held or failed). */
export interface FlagPut {
  percent: number;
  idempotencyKey: string;
  authorization: string | undefined;
  status: number;
}

/**
 * A flag service on loopback speaking the HTTP exposure target's protocol (PUT `{ percent, idempotencyKey, … }`,
 * GET → `{ percent, lastKey }`), with faults a test switches on and off: hold matching PUTs unanswered until
 * released (an exposure change stays in flight), or answer everything with an error status (an outage).
 */
export interface FlagService {
  /** Base URL; give targets `${url}/flags/<flag>`. */
  url: string;
  state: { percent: number; lastKey?: string };
  puts: FlagPut[];
  /** Requests answered with the outage status so far. */
  failed: number;
  /** PUTs waiting to be answered. */
  readonly held: number;
  hold(when: (percent: number) => boolean): void;
  /** Answers every held PUT (applying it) and stops holding. */
  release(): void;
  /** Answers everything with `status`; with `echo`, the error body reflects the request's Authorization header. */
  outage(status?: number, echo?: boolean): void;
  recover(): void;
  close(): Promise<void>;
}

/** Starts a {@link FlagService} on a free loopback port, serving exposure 0 with no faults. */
export async function flagService(): Promise<FlagService> {
  let holdWhen: ((percent: number) => boolean) | undefined;
  let outageStatus: number | undefined;
  let echoAuth = false;
  const waiting: (() => void)[] = [];

  const apply = (res: ServerResponse, body: { percent: number; idempotencyKey: string }) => {
    svc.state = { percent: body.percent, lastKey: body.idempotencyKey };
    reply(res, 200, svc.state);
  };
  const handle = (req: IncomingMessage, res: ServerResponse, raw: string) => {
    if (outageStatus !== undefined) {
      svc.failed += 1;
      if (req.method === 'PUT')
        svc.puts.push({ ...putOf(raw), authorization: req.headers.authorization, status: outageStatus });
      return reply(res, outageStatus, {
        error: 'maintenance window',
        ...(echoAuth ? { youSent: req.headers.authorization } : {}),
      });
    }
    if (req.method !== 'PUT') return reply(res, 200, svc.state);
    const body = putOf(raw);
    const held = holdWhen?.(body.percent) === true;
    svc.puts.push({ ...body, authorization: req.headers.authorization, status: held ? 0 : 200 });
    if (held) waiting.push(() => apply(res, body));
    else apply(res, body);
  };
  const server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => handle(req, res, raw));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  const svc: FlagService = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state: { percent: 0 },
    puts: [],
    failed: 0,
    get held() {
      return waiting.length;
    },
    hold: (when) => (holdWhen = when),
    release: () => {
      holdWhen = undefined;
      waiting.splice(0).forEach((answer) => answer());
    },
    outage: (status = 503, echo = false) => {
      outageStatus = status;
      echoAuth = echo;
    },
    recover: () => (outageStatus = undefined),
    close: async () => {
      svc.release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return svc;
}

function putOf(raw: string): { percent: number; idempotencyKey: string } {
  const body = JSON.parse(raw || '{}') as { percent?: number; idempotencyKey?: string };
  return { percent: body.percent ?? Number.NaN, idempotencyKey: body.idempotencyKey ?? '' };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
