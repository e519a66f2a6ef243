import { createServer as createHttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { Connection } from '@temporalio/client';
import { describe, expect, inject, it, type TestContext } from 'vitest';
import { TemporalServerError } from '../../src/errors.js';
import { startDevServer } from '../../src/temporal/dev-server.js';

const IP = '127.0.0.1';

/** Puts `server` on a free port until the current test finishes (open sockets included). */
async function occupyPort(server: Server, onTestFinished: TestContext['onTestFinished']): Promise<number> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, IP, resolve));
  onTestFinished(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return (server.address() as AddressInfo).port;
}

async function startDevServerFailure(port: number): Promise<TemporalServerError> {
  const err = await startDevServer({
    cliPath: inject('temporalCliPath'),
    ip: IP,
    port,
    uiPort: false,
    dbFile: null,
  }).then(
    (server) => server.stop().then(() => undefined),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(TemporalServerError);
  return err as TemporalServerError;
}

async function systemInfo(address: string) {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    return await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
}

describe('startDevServer when the port is taken', () => {
  // concurrent because each case waits out the 5 s gRPC probe; hooks come from the test's own context
  it.concurrent.for([
    { squatter: 'an HTTP server', create: () => createHttpServer((_req, res) => res.writeHead(404).end('not here')) },
    { squatter: 'a TCP server that never answers', create: () => createTcpServer(() => {}) },
  ])(
    'refuses to start next to $squatter, and says how to get out of the way',
    async ({ create }, { onTestFinished }) => {
      const port = await occupyPort(create(), onTestFinished);

      const err = await startDevServerFailure(port);

      expect(err.message).toContain(`Port ${port} on ${IP} is taken by something that is not a Temporal server`);
      expect(err.hint).toContain(`Stop the process listening on ${IP}:${port}`);
      expect(err.hint).toContain('TEMPORAL_ADDRESS');
      expect(err.explain()).not.toMatch(/^\s+at /m);
    },
  );
});

describe('startDevServer when a Temporal server already runs at the address', () => {
  it('reuses it and leaves it running on stop()', async () => {
    const address = inject('temporalAddress');
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    const logs: string[] = [];

    const server = await startDevServer({
      cliPath: inject('temporalCliPath'),
      ip: IP,
      port,
      uiPort: false,
      dbFile: null,
      log: (m) => logs.push(m),
    });

    expect(server).toMatchObject({ address, reused: true, pid: undefined, uiUrl: undefined, dbFile: undefined });
    expect(logs).toContain(`Reusing the Temporal server already running at ${address}.`);

    await server.stop();

    const info = await systemInfo(address);
    expect(info.serverVersion).toMatch(/^\d+\.\d+\.\d+/);
  });
});
