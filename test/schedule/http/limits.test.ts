// The status server against clients that misbehave, over raw sockets: garbage, huge headers, headers sent
// slowly, too many connections, odd targets and hosts. Each is answered or cut off, and the server (and so
// the scheduler's loop) keeps answering afterwards.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Limits } from '../../../src/schedule/http/server.js';
import { harness, job, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function started(limits?: Partial<Limits>): Promise<Harness> {
  h = await harness({ limits });
  await h.load([job(h.dir, 'a', 'schedule: "0 2 * * *"')]);
  return h;
}

// Send `data` on a fresh connection and collect what comes back until the server closes it.
function exchange(port: number, data: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve(got) : reject(err)));
    s.on('close', () => resolve(got));
    s.end(data);
  });
}

// The server still answers a plain request.
async function stillAnswers(x: Harness): Promise<void> {
  expect((await x.get('/healthz')).status).toBe(200);
}

const status = (reply: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1]);

describe('malformed requests', () => {
  it('garbage, a bad request line, a bad header, a non-path target and broken percent-encoding are answered 400', async () => {
    const x = await started();
    const cases = [
      '\x00\x01\x02 garbage \xff\r\n\r\n',
      'GET\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header Line\r\n\r\n',
      `GET http://evil.example/ HTTP/1.1\r\nHost: 127.0.0.1:${x.server.port}\r\nConnection: close\r\n\r\n`,
      `GET * HTTP/1.1\r\nHost: 127.0.0.1:${x.server.port}\r\nConnection: close\r\n\r\n`,
      `GET /api/jobs/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1:${x.server.port}\r\nConnection: close\r\n\r\n`,
      `GET /api/jobs/a/runs?limit=%ZZ HTTP/1.1\r\nHost: 127.0.0.1:${x.server.port}\r\nConnection: close\r\n\r\n`,
    ];
    for (const c of cases) expect(status(await exchange(x.server.port, Buffer.from(c, 'latin1'))), JSON.stringify(c)).toBe(400);
    await stillAnswers(x);
  });

  it('headers larger than 16 KiB are refused with 431', async () => {
    const x = await started();
    const reply = await exchange(x.server.port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(status(reply)).toBe(431);
    await stillAnswers(x);
  });

  it('a request for another Host is refused (403): a web page cannot reach the loopback server through its own name', async () => {
    const x = await started();
    const r = await exchange(x.server.port, 'GET /api/jobs HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n');
    expect(status(r)).toBe(403);
    expect(r).toContain(`this server answers only requests to 127.0.0.1:${x.server.port} (Host: evil.example:80)`);
    const ok = await exchange(x.server.port, `GET /readyz HTTP/1.1\r\nHost: localhost:${x.server.port}\r\nConnection: close\r\n\r\n`);
    expect(status(ok)).toBe(200);
  });

  it('methods other than GET and HEAD are 405 with Allow; unknown paths 404', async () => {
    const x = await started();
    for (const m of ['DELETE', 'PUT', 'POST', 'OPTIONS']) {
      const r = await x.get('/api/jobs', { method: m });
      expect(r.status, m).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    }
    expect((await x.get('/nothing/here')).status).toBe(404);
    await stillAnswers(x);
  });
});

describe('bounds', () => {
  it('a client sending its headers a byte at a time is cut off by headersTimeout (408) before it finishes', async () => {
    const x = await started({ headersTimeoutMs: 300, requestTimeoutMs: 600, checkIntervalMs: 50 });
    const request = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${'s'.repeat(200)}\r\n\r\n`;
    const s = net.connect(x.server.port, '127.0.0.1');
    let got = '';
    let sent = 0;
    s.on('data', (d) => (got += d.toString()));
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.on('error', () => undefined);
    // 20 ms a byte: the whole request would take over 4 s.
    const timer = setInterval(() => {
      if (s.destroyed || sent >= request.length) return clearInterval(timer);
      s.write(request[sent++]);
    }, 20);
    await closed;
    clearInterval(timer);
    expect(sent).toBeLessThan(request.length);
    expect(status(got)).toBe(408);
    await stillAnswers(x);
  });

  it('connections beyond maxConnections are closed at once; the server answers again when they are gone', async () => {
    const x = await started({ maxConnections: 3 });
    const open: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = net.connect(x.server.port, '127.0.0.1');
      await new Promise((r) => s.once('connect', r));
      s.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
      open.push(s);
    }
    const extra = await exchange(x.server.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    expect(extra).toBe('');
    for (const s of open) s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    await stillAnswers(x);
  });

  it('an idle kept-alive connection is closed after keepAliveTimeout', async () => {
    const x = await started({ keepAliveTimeoutMs: 200 });
    const s = net.connect(x.server.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    s.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${x.server.port}\r\n\r\n`);
    await closed;
    expect(status(got)).toBe(200);
  });
});
