// PostgreSQL failures → one SbError line each: what failed, where (the database as it may be shown, the place
// in the query), the server's own words, and what to do. The class of the failure decides its code:
//   - what the job or the database's grants must change (credentials, unknown database, table, column, SQL
//     errors, privileges: SQLSTATE classes 28, 3D, 42) → DB_INVALID, exit 2;
//   - a server that cannot be reached once the retries are spent → DB_UNREACHABLE, exit 1;
//   - anything else while reading or writing rows (a value the query cannot compute, a connection lost mid-run)
//     → INPUT_FAILED or WRITE_FAILED, exit 1.
import { SbError, type ErrorCode } from '../../errors.js';
import { quoteCell } from '../../util/quote.js';
import { RetriesExhausted } from '../retry.js';
import type { Statement } from './sql.js';

/** What a PostgreSQL error response carries (pg's DatabaseError). */
interface PgError extends Error {
  code?: string;
  severity?: string;
  detail?: string;
  hint?: string;
  position?: string;
  where?: string;
  column?: string;
}

/** What was being done, for the message and the code of a failure that is not the job's fault. */
type Phase = 'connect' | 'check' | 'read' | 'write' | 'commit';

export interface FailureContext {
  /** The database as it may be shown (no password). */
  display: string;
  phase: Phase;
  /** What was being done, as the message starts: "cannot read the query", "cannot write analytics.scores". */
  what: string;
  /** The statement, to place the server's error position in the user's query. */
  statement?: Statement;
  /** Where in the rows it happened: "after 8,192 rows", "(result row 12, column 'p')". */
  note?: string;
  /** What it leaves, at the end of the message: "the table is unchanged". */
  outcome?: string;
  /** Where the job names this (input.query, output.table). */
  yamlPath?: string;
}

/** A failure to open a session (connecting, authenticating, setting the session up), with its cause. */
export class ConnectFailed extends Error {
  constructor(readonly error: unknown) {
    super(error instanceof Error ? error.message : String(error));
    this.name = 'ConnectFailed';
  }
}

const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// Server starting, shutting down or restarting; connection failures; too many connections.
const TRANSIENT_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);

// A failure worth connecting again for: the server is restarting, refused or dropped the connection.
export function isTransient(err: unknown): boolean {
  if (err instanceof ConnectFailed) return isTransient(err.error);
  if (!(err instanceof Error)) return false;
  const code = (err as PgError).code;
  if (code && (NETWORK.has(code) || TRANSIENT_STATES.has(code))) return true;
  return /^Connection terminated|^Client has encountered a connection error|timeout expired/i.test(err.message);
}

// The connection is gone (the session's temporary tables and open transaction with it).
export function isConnectionLoss(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as PgError).code ?? '';
  return NETWORK.has(code) || code.startsWith('08') || code.startsWith('57P') || /^Connection terminated|not queryable|connection error/i.test(err.message);
}

// Conflicts with other sessions that an identical second try may not meet: lock timeout, deadlock, serialization.
export function isConflict(err: unknown): boolean {
  const code = (err as PgError | undefined)?.code;
  return code === '55P03' || code === '40P01' || code === '40001';
}

// The SbError for a failure of a PostgreSQL operation.
export function pgFailure(err: unknown, ctx: FailureContext): SbError {
  if (err instanceof SbError) return err;
  const exhausted = err instanceof RetriesExhausted ? err : undefined;
  let cause = exhausted ? exhausted.last : err;
  const connecting = cause instanceof ConnectFailed;
  if (cause instanceof ConnectFailed) cause = cause.error;
  if (cause instanceof SbError) return cause;
  const e = (cause instanceof Error ? cause : new Error(String(cause))) as PgError;
  const code = e.code ?? '';
  const tries = exhausted && exhausted.attempts > 1 ? ` (tried ${exhausted.attempts} times over ${Math.round(exhausted.elapsedMs / 100) / 10} s)` : '';
  const context = ctx.yamlPath ? { yamlPath: ctx.yamlPath } : {};
  const make = (c: ErrorCode, message: string) => new SbError(c, message, context, { cause: err });
  const outcome = ctx.outcome ? `; ${ctx.outcome}` : '';

  if (connecting || ctx.phase === 'connect') {
    const start = `cannot connect to ${ctx.display}`;
    if (code === 'ENOTFOUND') return make('DB_INVALID', `${start}: ${networkReason(e)}`);
    if (isTransient(e)) return make('DB_UNREACHABLE', `${start}: ${code === '' || NETWORK.has(code) ? networkReason(e) : serverText(e)}${tries}`);
    return make('DB_INVALID', `${start}: ${serverText(e)}${authHint(code)}`);
  }
  if (isConnectionLoss(e)) {
    const lost = `${ctx.what}: the connection to ${ctx.display} was lost${ctx.note ? ` ${ctx.note}` : ''}: ${serverText(e)}${outcome}`;
    return make(ctx.phase === 'read' ? 'INPUT_FAILED' : ctx.phase === 'check' ? 'DB_UNREACHABLE' : 'WRITE_FAILED', lost);
  }
  const text = `${ctx.what}: ${serverText(e)}${queryPlace(e, ctx.statement)}${ctx.note ? ` ${ctx.note}` : ''}${outcome}`;
  if (/^(28|3D|42)/.test(code) || code === '25006' || ctx.phase === 'check') return make('DB_INVALID', text);
  return make(ctx.phase === 'read' ? 'INPUT_FAILED' : 'WRITE_FAILED', text);
}

// The server's message with its detail and hint, on one line.
function serverText(e: PgError): string {
  let s = oneLine(e.message || 'unknown error');
  if (e.detail) s += ` (${oneLine(e.detail)})`;
  if (e.hint) s += ` (hint: ${oneLine(e.hint)})`;
  return s;
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function networkReason(e: PgError): string {
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is the server running and accepting TCP connections on that host and port?)';
    case 'ENOTFOUND':
      return 'host not found (check the host name in the database URL)';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ECONNRESET':
      return 'the server closed the connection';
    default:
      // pg's own connect timeout has no code: "timeout expired", "Connection terminated due to connection timeout".
      return /timeout/i.test(e.message) ? 'no answer within the connect timeout' : oneLine(e.message);
  }
}

function authHint(code: string): string {
  if (code === '28P01') return '; check the user and password (in the database URL, PGPASSWORD or ~/.pgpass)';
  if (code === '3D000') return '; check the database name in the URL (or PGDATABASE)';
  return '';
}

// ` at query line 2, column 8: 'tenur, monthly from …'` for a server error position inside the user's query;
// a position in the text serve-batch wrapped around it (the watermark or shard column) is said so.
function queryPlace(e: PgError, s: Statement | undefined): string {
  const pos = Number(e.position);
  if (!s || !Number.isInteger(pos) || pos < 1) return '';
  const at = pos - 1 - s.queryStart;
  if (at < 0 || at >= s.queryLength) return ' (in the condition serve-batch adds for the watermark or shard column)';
  const before = s.query.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return ` (at query line ${line}, column ${column}: ${quoteCell(s.query.slice(at).split('\n')[0], 30)})`;
}
