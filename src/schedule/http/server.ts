// The scheduler's HTTP server (`schedule --http`): probes, metrics, the JSON API and the status page.
// Read-only unless a token is configured, which allows POST /api/jobs/:job/run ("run now").
//
// A URL never names a file: a job is looked up among the loaded jobs by name, a run id must have newRunId's
// form, and the record is read from the path the job's state_dir and recordPath give. Every request is
// answered within bounds (headers within headersTimeout, the whole request within requestTimeout, at most
// maxConnections sockets) and a request that fails is answered 400 or 500; nothing a client sends reaches the
// scheduler's loop as an exception.
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { messageOf, SbError } from '../../errors.js';
import { JOB_NAME } from '../../job/schema.js';
import { authority, type ListenAddress } from './address.js';
import { bearerVerifier } from './auth.js';
import { health, readiness } from './health.js';
import { CHART_RUNS, recordUrl, renderPage } from './page.js';
import { SchedulerMetrics } from './prometheus.js';
import { RUN_ID, RunStore } from './runs.js';
import type { SchedulerStatus } from './status.js';
import { PAGE_CSS } from './style.js';
import { jobsView, jobView, schedulerView } from './view.js';
import { errnoReason } from '../../util/errno.js';
import { redact, redactDeep } from '../../util/redact.js';

export interface Limits {
  /** Time to receive a request's headers (slow clients are cut off, 408). */
  headersTimeoutMs: number;
  /** Time to receive a whole request. */
  requestTimeoutMs: number;
  /** An idle kept-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Connections beyond this many are closed at once. */
  maxConnections: number;
  /** How often Node checks the two request timeouts (its default, 30 s, would let a slow client stay 40 s). */
  checkIntervalMs: number;
}

const LIMITS: Limits = { headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 64, checkIntervalMs: 1_000 };
/** Largest `limit` of /api/jobs/:job/runs. */
const MAX_RUNS_LIMIT = 500;
const DEFAULT_RUNS_LIMIT = 50;

type LogFn = (level: 'info' | 'warn' | 'error', event: string, message: string, fields?: Record<string, unknown>) => void;

export interface StatusServerOptions {
  listen: ListenAddress;
  status: SchedulerStatus;
  metrics: SchedulerMetrics;
  store?: RunStore;
  /** Allows "run now" with `Authorization: Bearer <token>`. Never logged. */
  token?: string;
  log: LogFn;
  limits?: Partial<Limits>;
}

export interface StatusServer {
  /** `http://host:port` as bound (the actual port when 0 was asked for). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};
// The page loads only its own scripts and styles; inline script never runs (its data block is JSON).
const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Asset {
  type: string;
  body: Buffer | undefined;
}

// The browser script: the compiled client.js beside this module (from sources, as in development and the
// tests, the one in dist/).
function clientScript(): Buffer | undefined {
  const here = fileURLToPath(new URL('./client.js', import.meta.url));
  for (const file of [here, here.replace(/([\\/])src\1schedule\1http\1client\.js$/, '$1dist$1src$1schedule$1http$1client.js')]) {
    try {
      return readFileSync(file);
    } catch {
      // the next candidate
    }
  }
  return undefined;
}

// The files the page loads, read once.
function loadAssets(): Map<string, Asset> {
  const require = createRequire(import.meta.url);
  const file = (id: string) => {
    try {
      return readFileSync(require.resolve(id));
    } catch {
      return undefined;
    }
  };
  return new Map<string, Asset>([
    ['page.js', { type: 'text/javascript; charset=utf-8', body: clientScript() }],
    ['page.css', { type: 'text/css; charset=utf-8', body: Buffer.from(PAGE_CSS) }],
    ['uplot.js', { type: 'text/javascript; charset=utf-8', body: file('uplot/dist/uPlot.iife.min.js') }],
    ['uplot.css', { type: 'text/css; charset=utf-8', body: file('uplot/dist/uPlot.min.css') }],
  ]);
}

// Host headers a loopback server answers: a page on another site cannot reach it by pointing its own
// name at 127.0.0.1 (DNS rebinding).
function loopbackHosts(listen: ListenAddress, port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, authority(listen.host, port)].map((h) => h.toLowerCase()));
}

// Start listening; rejects with a USAGE SbError when the address cannot be bound.
export async function startStatusServer(o: StatusServerOptions): Promise<StatusServer> {
  const limits = { ...LIMITS, ...o.limits };
  const store = o.store ?? new RunStore();
  const assets = loadAssets();
  const verify = o.token ? bearerVerifier(o.token) : undefined;
  let hosts = new Set<string>();

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const target = req.url ?? '';
    if (!target.startsWith('/')) throw new HttpError(400, 'the request target must be a path');
    const host = req.headers.host?.toLowerCase();
    if (o.listen.loopback && host !== undefined && !hosts.has(host)) throw new HttpError(403, `this server answers only requests to ${[...hosts][0]} (Host: ${host})`);
    let url: URL;
    let parts: string[];
    try {
      url = new URL(target, 'http://status.invalid');
      parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    } catch {
      throw new HttpError(400, 'the request path is not a valid URL path');
    }
    const path = parts.join('/');
    const read = () => {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `${method} is not allowed here (GET or HEAD)`, { allow: 'GET, HEAD' });
    };
    const jobOf = (name: string) => {
      const snap = JOB_NAME.test(name) ? o.status.jobs().find((s) => s.job.name === name) : undefined;
      if (!snap) throw new HttpError(404, `no job named ${name} is loaded`);
      return snap;
    };

    if (path === '' || path === 'index.html') {
      read();
      const view = schedulerView(o.status, Boolean(verify));
      const jobs = [];
      for (const s of o.status.jobs()) jobs.push({ view: await jobView(s, store), runs: (await store.latest(s.job, CHART_RUNS)).runs });
      return send(req, res, 200, 'text/html; charset=utf-8', renderPage(view, jobs), { 'content-security-policy': PAGE_CSP });
    }
    if (parts[0] === 'assets' && parts.length === 2) {
      read();
      const asset = assets.get(parts[1]);
      if (!asset?.body) throw new HttpError(404, `no asset ${parts[1]}`);
      return send(req, res, 200, asset.type, asset.body, { 'cache-control': 'no-cache' });
    }
    if (path === 'healthz') {
      read();
      const h = health(o.status.phase(), o.status.jobs(), o.status.now());
      return sendJson(req, res, h.ok ? 200 : 503, h);
    }
    if (path === 'readyz') {
      read();
      const r = readiness(o.status.phase(), o.status.jobs().length);
      return sendJson(req, res, r.ready ? 200 : 503, r);
    }
    if (path === 'metrics') {
      read();
      return send(req, res, 200, o.metrics.contentType, await o.metrics.render(o.status, store));
    }
    if (parts[0] === 'api' && parts[1] === 'jobs') {
      if (parts.length === 2) {
        read();
        return sendJson(req, res, 200, { scheduler: schedulerView(o.status, Boolean(verify)), jobs: await jobsView(o.status, store) });
      }
      const snap = jobOf(parts[2]);
      if (parts.length === 3) {
        read();
        return sendJson(req, res, 200, await jobView(snap, store));
      }
      if (parts.length === 4 && parts[3] === 'runs') {
        read();
        const limit = runsLimit(url.searchParams.get('limit'));
        const { runs, total } = await store.latest(snap.job, limit);
        const listed = runs.map((r) => ({ ...r, record_url: recordUrl(snap.job.name, r.run_id) }));
        return sendJson(req, res, 200, { job: snap.job.name, total, runs: listed });
      }
      if (parts.length === 5 && parts[3] === 'runs') {
        read();
        const bytes = RUN_ID.test(parts[4]) ? await store.raw(snap.job, parts[4]) : undefined;
        if (!bytes) throw new HttpError(404, `job ${snap.job.name} has no run ${parts[4]}`);
        return send(req, res, 200, 'application/json; charset=utf-8', bytes);
      }
      if (parts.length === 4 && parts[3] === 'run') return runNow(req, res, snap.job.name);
    }
    throw new HttpError(404, `nothing at ${url.pathname}`);
  };

  // POST /api/jobs/:job/run.
  const runNow = (req: IncomingMessage, res: ServerResponse, job: string): void => {
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed here (POST, with the token)`, { allow: 'POST' });
    if (!verify) throw new HttpError(403, 'run now is off: start the scheduler with --http-token (or SERVE_BATCH_HTTP_TOKEN) to allow it');
    if (!verify(req.headers.authorization)) {
      o.log('warn', 'http_refused', `refused a run request for job ${job} from ${req.socket.remoteAddress}: no valid bearer token`, { job, remote: req.socket.remoteAddress });
      throw new HttpError(401, 'a valid bearer token is needed: Authorization: Bearer <the --http-token value>', { 'www-authenticate': 'Bearer realm="serve-batch"' });
    }
    const r = o.status.requestRun(job);
    if ('refused' in r) throw new HttpError(r.refused === 'busy' ? 409 : r.refused === 'unknown' ? 404 : 503, r.message);
    sendJson(req, res, 202, { job, run_id: r.runId, record_url: recordUrl(job, r.runId), message: `run ${r.runId} of ${job} started` });
  };

  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: limits.checkIntervalMs,
    },
    (req, res) => {
      route(req, res).catch((err: unknown) => {
        const known = err instanceof HttpError;
        if (!known) o.log('warn', 'http_error', `the status server could not answer ${req.method} ${req.url}: ${messageOf(err)}`);
        const status = known ? err.status : 500;
        if (res.headersSent) return void res.destroy();
        sendJson(req, res, status, { error: known ? err.message : 'internal error (see the scheduler log)' }, known ? err.headers : {});
      });
    },
  );
  server.maxConnections = limits.maxConnections;

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) => reject(listenError(o.listen, err));
    server.once('error', fail);
    server.listen({ host: o.listen.host, port: o.listen.port }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  // Errors of the listening socket after start (rare) are logged; the scheduler goes on.
  server.on('error', (err) => o.log('error', 'http_error', `the status server failed: ${messageOf(err)}`));
  const port = (server.address() as AddressInfo).port;
  hosts = loopbackHosts(o.listen, port);
  return {
    url: `http://${authority(o.listen.host, port)}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The `limit` query parameter.
function runsLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_RUNS_LIMIT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_RUNS_LIMIT) throw new HttpError(400, `limit must be a whole number from 1 to ${MAX_RUNS_LIMIT} (got "${raw}")`);
  return n;
}

/** Why an address cannot be listened on. */
const UNLISTENABLE = {
  EADDRINUSE: 'the address is in use (another process listens there; choose another port)',
  EACCES: 'permission denied (ports below 1024 need privileges; choose a port above 1023)',
  EADDRNOTAVAIL: 'this host has no such address',
};

// The one line for an address that cannot be listened on.
function listenError(listen: ListenAddress, err: NodeJS.ErrnoException): SbError {
  const where = authority(listen.host, listen.port);
  return new SbError('USAGE', `${listen.source} ${where}: cannot listen: ${errnoReason(err, UNLISTENABLE)}`);
}

// Send a body (none for HEAD) with the security headers, and values from the environment hidden.
function send(req: IncomingMessage, res: ServerResponse, status: number, type: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  const bytes = typeof body === 'string' ? Buffer.from(redact(body)) : body;
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': bytes.length, ...headers });
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

function sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  send(req, res, status, 'application/json; charset=utf-8', `${JSON.stringify(redactDeep(body), null, 2)}\n`, headers);
}
