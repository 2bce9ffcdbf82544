// A webhook receiver on 127.0.0.1 (a free port) for notification tests: it records every request and
// answers each with what the test's handler says (a status, a delay, headers).
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Wait this long before answering (a slow endpoint). */
  delayMs?: number;
}

export interface WebhookServer {
  url: string;
  received: Received[];
  close(): Promise<void>;
}

// Start a receiver; `answer(n)` gives the answer to the n-th request (1-based).
export async function webhookServer(answer: (n: number, r: Received) => Answer = () => ({ status: 200, body: 'ok' })): Promise<WebhookServer> {
  const received: Received[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const a = answer(received.length, r);
      const send = () => {
        if (res.destroyed) return;
        res.writeHead(a.status, { 'content-type': 'text/plain', ...a.headers });
        res.end(a.body ?? '');
      };
      if (!a.delayMs) return send();
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, a.delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// `serve`, which starts a receiver that is closed after each test of the file that calls this.
export function webhookServers(): (...args: Parameters<typeof webhookServer>) => Promise<WebhookServer> {
  let servers: WebhookServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    servers = [];
  });
  return async (...args) => {
    const s = await webhookServer(...args);
    servers.push(s);
    return s;
  };
}
