// Connections to one PostgreSQL database, from a postgres:// URL; whatever the URL leaves out comes from the
// libpq environment (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ~/.pgpass), so
// `postgresql://` alone means "as psql would connect here". The URL stays in a private field (which
// util.inspect does not show) and pg keeps the password in a property that is not enumerable; `display` and
// every message show the database without it.
import { once } from 'node:events';
import pg from 'pg';
import { SbError } from '../../errors.js';
import { redactUrl } from '../redact.js';
import { DEFAULT_RETRY, withRetry, type RetryPolicy } from '../retry.js';
import type { DatabaseOptions } from '../types.js';
import { ConnectFailed, isConnectionLoss, isTransient } from './failures.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

// Every session reads values as ISO dates, UTC timestamps and shortest-exact floats, whatever the server's
// or the role's defaults (values.ts relies on these texts).
const SESSION_SETUP = "set TimeZone = 'UTC'; set DateStyle = 'ISO, YMD'; set IntervalStyle = 'postgres'; set extra_float_digits = 1";

/** One connected session; `lost` is set when the connection failed (the first failure the client reported). */
export interface Session {
  client: pg.Client;
  lost?: Error;
  /** Every failure the client reported outside a query (the server's FATAL message may be one of them). */
  errors: Error[];
}

export class PgEndpoint {
  /** postgres://user@host:port/database, never with the password. */
  readonly display: string;
  /** The user serve-batch connects as (for messages about privileges). */
  readonly user: string;
  readonly #config: pg.ClientConfig;
  readonly #retry: RetryPolicy;
  readonly #signal?: AbortSignal;

  constructor(url: string, o: DatabaseOptions = {}) {
    this.#config = {
      connectionString: url,
      application_name: o.applicationName ?? 'serve-batch',
      connectionTimeoutMillis: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      keepAlive: true,
    };
    this.#retry = o.retry ?? DEFAULT_RETRY;
    this.#signal = o.signal;
    let probe: pg.Client;
    try {
      // Parses the URL and fills in the environment's defaults, without connecting.
      probe = new pg.Client(this.#config);
    } catch (err) {
      throw new SbError('DB_INVALID', `the database URL ${redactUrl(url)} cannot be read: ${err instanceof Error ? redactUrl(err.message) : 'invalid'}`);
    }
    const host = probe.host?.includes(':') && !probe.host.startsWith('/') ? `[${probe.host}]` : probe.host;
    this.user = probe.user ?? '';
    this.display = `postgres://${encodeURIComponent(this.user)}@${host}:${probe.port}/${encodeURIComponent(probe.database ?? '')}`;
  }

  toString(): string {
    return this.display;
  }

  // `work` again after each transient failure, as the retry policy allows.
  retrying<T>(work: () => Promise<T>): Promise<T> {
    return withRetry(work, this.#retry, isTransient, this.#signal);
  }

  // Run `work` on a new session and close it after; a transient failure before `work` returns starts over on
  // a new session (work must be safe to repeat: reads and checks).
  async withSession<T>(work: (s: Session) => Promise<T>, failure: (err: unknown) => SbError): Promise<T> {
    try {
      return await this.retrying(async () => {
        const s = await this.openSession();
        try {
          return await work(s);
        } finally {
          await closeSession(s);
        }
      });
    } catch (err) {
      throw err instanceof SbError ? err : failure(err);
    }
  }

  // One try at a new session (no retry).
  async openSession(): Promise<Session> {
    const client = new pg.Client(this.#config);
    const session: Session = { client, errors: [] };
    // A connection that fails while idle emits 'error'; without a listener that would end the process.
    client.on('error', (err) => {
      session.lost ??= err;
      session.errors.push(err);
    });
    client.on('notice', () => {});
    try {
      await client.connect();
      await client.query(SESSION_SETUP);
    } catch (err) {
      await closeSession(session);
      throw new ConnectFailed(err);
    }
    return session;
  }
}

const CLOSE_WAIT_MS = 5000;
const REASON_WAIT_MS = 1000;

// The server's own reason for a lost connection (an administrator ended the session, the server shut down),
// when it sent one: a write that finds the socket closed (EPIPE) can fail before the server's last message,
// already received, is read. Waits for the socket to close (at most 1 s), then prefers the server's words.
export async function lossReason(s: Session, err: unknown): Promise<unknown> {
  if (!isConnectionLoss(err) || hasSqlState(err)) return err;
  const stream = (s.client as unknown as { connection?: { stream?: NodeJS.EventEmitter & { destroyed?: boolean } } }).connection?.stream;
  if (stream && !stream.destroyed) await bounded(once(stream, 'close'), REASON_WAIT_MS);
  return s.errors.find(hasSqlState) ?? err;
}

// Let the socket deliver what the server sent while this process was busy, before writing to it again: a session
// the server ended meanwhile then fails with the server's reason instead of the EPIPE of writing into a closed
// socket, which discards what was still unread (seen in 5 of 40 reads whose session was terminated between chunks).
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

const hasSqlState = (err: unknown) => typeof (err as { code?: unknown } | undefined)?.code === 'string' && /^[0-9A-Z]{5}$/.test((err as { code: string }).code);

// `work`, given up after 5 s: closing politely must not hold a run when the server stopped answering.
export async function bounded(work: Promise<unknown>, ms = CLOSE_WAIT_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([work.catch(() => {}), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

// End a session: politely when the connection is alive, at once when it is not (the socket is destroyed
// after at most 5 s).
export async function closeSession(s: Session): Promise<void> {
  const conn = (s.client as unknown as { connection?: { stream?: { destroy(): void } } }).connection;
  try {
    await bounded(s.client.end());
  } finally {
    conn?.stream?.destroy();
  }
}
