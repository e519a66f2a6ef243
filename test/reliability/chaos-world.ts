import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One exposure change as the flag service saw it. */
export interface ChangeRecord {
  flag: string;
  percent: number;
  key: string;
  at: number;
}

/**
 * The outside world of the chaos suite, served over real HTTP on loopback: a flag service (the HTTP
 * exposure target: PUT sets a flag, GET reads it, every change logged in order) and a compensation hook
 * that applies its effect once per idempotency key and counts every call.
 */
export interface ChaosWorld {
  url: string;
  flags: Map<string, { percent: number; lastKey?: string }>;
  changes: ChangeRecord[];
  hookCalls: Map<string, number>;
  hookEffects: Map<string, number>;
  close(): Promise<void>;
}

export async function startChaosWorld(): Promise<ChaosWorld> {
  const world = {
    flags: new Map<string, { percent: number; lastKey?: string }>(),
    changes: [] as ChangeRecord[],
    hookCalls: new Map<string, number>(),
    hookEffects: new Map<string, number>(),
  };
  const seenKeys = new Set<string>();
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const [, kind, name] = url.pathname.split('/');
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (kind === 'flags' && name) {
        if (req.method === 'GET') return reply(200, world.flags.get(name) ?? { percent: 0 });
        const body = JSON.parse(raw) as { percent: number; idempotencyKey: string };
        const current = world.flags.get(name);
        // a retried change with the same key is the same change: log it once
        if (current?.lastKey !== body.idempotencyKey)
          world.changes.push({ flag: name, percent: body.percent, key: body.idempotencyKey, at: Date.now() });
        world.flags.set(name, { percent: body.percent, lastKey: body.idempotencyKey });
        return reply(200, world.flags.get(name));
      }
      if (kind === 'hooks' && name) {
        const key = String(req.headers['idempotency-key'] ?? '');
        world.hookCalls.set(name, (world.hookCalls.get(name) ?? 0) + 1);
        if (!seenKeys.has(key)) {
          seenKeys.add(key);
          world.hookEffects.set(name, (world.hookEffects.get(name) ?? 0) + 1);
        }
        return reply(200, { ok: true });
      }
      reply(404, { error: 'not found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(world, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
