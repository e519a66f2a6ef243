import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
  at: number;
}

/** A real HTTP server on loopback that records requests; `respond` decides each status (default 200). */
export interface HttpRecorder {
  url: string;
  requests: RecordedRequest[];
  respond: (req: RecordedRequest) => { status: number; body?: unknown };
  close(): Promise<void>;
}

export async function httpRecorder(): Promise<HttpRecorder> {
  const recorder: Omit<HttpRecorder, 'url' | 'close'> = { requests: [], respond: () => ({ status: 200 }) };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: unknown = raw;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        /* keep text */
      }
      const entry: RecordedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        at: Date.now(),
      };
      recorder.requests.push(entry);
      const { status, body: out } = recorder.respond(entry);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(out === undefined ? '{}' : JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(recorder, {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }) as HttpRecorder;
}
