// Result chunks → a PostgreSQL table, whole or not at all. Each chunk is sent with COPY … FROM STDIN (text
// format, copy-text.ts) into a TEMPORARY staging table of this writer's own session, in a short statement of
// its own (no transaction stays open while the model scores). commit() then moves the rows in one
// transaction:
//   append   insert into target select … from staging
//   replace  truncate target; insert … — TRUNCATE takes an ACCESS EXCLUSIVE lock until the commit, so readers
//            of the table wait for the move (not for the scoring) and then see the new rows, never a mix or an
//            empty table
//   upsert   insert … on conflict (key) do update set every other column
// (create: true adds `create table if not exists` at the start of that transaction). A staging table is
// visible to its session only and dropped by the server when the session ends, however it ends: a killed run
// leaves none behind, and the target is untouched unless the final COMMIT was sent.
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { SbError } from '../../errors.js';
import type { TableWriter, WriterMark } from '../../table/writer.js';
import type { ResultChunk } from '../../table/result.js';
import { withRetry, type RetryPolicy } from '../retry.js';
import type { TableWriteOptions, TargetCheck } from '../types.js';
import { closeSession, lossReason, settle, type PgEndpoint, type Session } from './connection.js';
import { copyText } from './copy-text.js';
import { isConflict, isConnectionLoss, pgFailure } from './failures.js';
import { parseTableName, quoteIdent, type TableName } from './sql.js';
import { columnTypes, createTableSql, inspectTarget, ROW, STAGING, stagingSql, targetProblems } from './target.js';

/** How long the final transaction waits for a lock on the target before it tries again (other sessions'
 *  queries wait behind a waiting TRUNCATE, so it must not wait for hours). */
const LOCK_TIMEOUT_MS = 30_000;

export interface WriterSettings {
  yamlPath?: string;
  /** Conflicts in the final transaction (lock timeout, deadlock) are tried again this often. */
  conflictRetry?: RetryPolicy;
  lockTimeoutMs?: number;
}

// What validate reports about a target without writing: the table's existence and every problem.
export async function checkTarget(endpoint: PgEndpoint, o: TableWriteOptions, yamlPath?: string): Promise<TargetCheck> {
  const name = parseTableName(o.table, yamlPath);
  return endpoint.withSession(
    async (s) => {
      const t = await inspectTarget(s.client, name);
      return { exists: t.table !== undefined, problems: targetProblems(name, t, o, endpoint.user) };
    },
    (err) => pgFailure(err, { display: endpoint.display, phase: 'check', what: `cannot check table ${name.display}`, yamlPath }),
  );
}

// Connect, check the target and create the staging table; every problem with the target fails here, before
// a row is scored.
export async function openTableWriter(endpoint: PgEndpoint, o: TableWriteOptions, settings: WriterSettings = {}): Promise<TableWriter> {
  const name = parseTableName(o.table, settings.yamlPath);
  const what = `cannot write table ${name.display}`;
  const opened = await endpoint
    .retrying(async () => {
      const session = await endpoint.openSession();
      try {
        const target = await inspectTarget(session.client, name);
        const problems = targetProblems(name, target, o, endpoint.user);
        if (problems.length > 0) throw new SbError('DB_INVALID', `${what}: ${problems[0]}`, { yamlPath: settings.yamlPath, problems: problems.slice(1) });
        const types = columnTypes(target, o);
        await session.client.query(stagingSql(o, types));
        return { session, types, create: target.table === undefined };
      } catch (err) {
        await closeSession(session);
        throw err;
      }
    })
    .catch((err: unknown) => {
      throw pgFailure(err, { display: endpoint.display, phase: 'check', what, yamlPath: settings.yamlPath });
    });
  return new PgTableWriter(endpoint, name, o, opened.session, opened.types, opened.create, settings);
}

class PgTableWriter implements TableWriter {
  rows = 0;
  /** Rows wait in the staging table until commit(): a rollback or an abort takes every one back. */
  readonly streamed = false;
  private closed = false;
  private readonly copySql: string;
  private readonly emptyIsNull: boolean[];
  private readonly what: string;

  constructor(
    private readonly endpoint: PgEndpoint,
    private readonly name: TableName,
    private readonly o: TableWriteOptions,
    private readonly session: Session,
    private readonly types: { type: string; emptyIsNull: boolean }[],
    private readonly create: boolean,
    private readonly settings: WriterSettings,
  ) {
    this.copySql = `copy ${STAGING} (${[ROW, ...o.columns.map((c) => c.name)].map(quoteIdent).join(', ')}) from stdin`;
    this.emptyIsNull = types.map((t) => t.emptyIsNull);
    this.what = `cannot write table ${name.display}`;
  }

  async write(chunk: ResultChunk): Promise<void> {
    this.open();
    if (chunk.rows === 0) return;
    chunk.columns.forEach((c, k) => {
      if (c.name !== this.o.columns[k]?.name) throw new SbError('WRITE_FAILED', `${this.what}: result column ${k + 1} is '${c.name}', but the table writer was opened for '${this.o.columns[k]?.name}'`);
    });
    if (chunk.columns.length !== this.o.columns.length) throw new SbError('WRITE_FAILED', `${this.what}: a chunk has ${chunk.columns.length} columns, the writer ${this.o.columns.length}`);
    const first = this.rows + 1;
    const text = copyText(chunk, first, this.emptyIsNull);
    let copied: number;
    try {
      await settle();
      copied = await copyIn(this.session.client, this.copySql, text);
    } catch (err) {
      throw this.failure(await lossReason(this.session, err), 'write', copyPlace(err, first, this.o.columns.map((c) => c.name)));
    }
    if (copied !== chunk.rows) throw new SbError('RECONCILE', `${this.what}: counts do not reconcile: COPY stored ${copied} of ${chunk.rows} rows`);
    this.rows += chunk.rows;
  }

  async mark(): Promise<WriterMark> {
    this.open();
    return { bytes: 0, rows: this.rows, headerDone: true };
  }

  // Drop the rows written after `m` from the staging table (a failed input of a combined result).
  async rollback(m: WriterMark): Promise<boolean> {
    this.open();
    try {
      await this.session.client.query(`delete from ${STAGING} where ${quoteIdent(ROW)} > $1`, [m.rows]);
    } catch (err) {
      throw this.failure(await lossReason(this.session, err), 'write');
    }
    this.rows = m.rows;
    return true;
  }

  // Move the staged rows into the table in one transaction, then end the session (and its staging table).
  async commit(): Promise<void> {
    this.open();
    this.closed = true;
    const state = { committing: false };
    try {
      const policy = this.settings.conflictRetry ?? { attempts: 4, firstDelayMs: 1000, maxDelayMs: 8000 };
      await withRetry(() => this.move(state), policy, isConflict);
    } catch (err) {
      const cause = (err as { last?: unknown }).last ?? err;
      if (state.committing && isConnectionLoss(cause)) {
        throw new SbError('WRITE_FAILED', `${this.what}: the connection to ${this.endpoint.display} was lost while committing, so the server may or may not have applied the result: check the table${this.o.runId ? ` (rows of this run have ${this.o.runId.column} = '${this.o.runId.value}')` : ''}`, { yamlPath: this.settings.yamlPath }, { cause: err });
      }
      const wait = this.settings.lockTimeoutMs ?? LOCK_TIMEOUT_MS;
      const tries = (err as { attempts?: number }).attempts;
      const note = isConflict(cause) ? `(waited ${wait >= 1000 ? `${Math.round(wait / 1000)} s` : `${wait} ms`} for a lock on the table${tries ? `, ${tries} times` : ''}: another session holds it)` : undefined;
      throw this.failure(await lossReason(this.session, err), 'commit', note);
    } finally {
      await this.end();
    }
  }

  async abort(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.end();
  }

  // Drop the staging table and end the session. The server would drop the table when the session ends anyway,
  // but only once its backend has exited, a moment after the client is gone; dropping it first means no
  // staging table is left once commit() or abort() returns.
  private async end(): Promise<void> {
    if (!this.session.lost) await this.session.client.query(`drop table if exists ${STAGING}`).catch(() => {});
    await closeSession(this.session);
  }

  // One try at the final transaction; rolled back on any failure before COMMIT.
  private async move(state: { committing: boolean }): Promise<void> {
    const q = (text: string, values?: unknown[]) => this.session.client.query(text, values);
    await settle();
    await q('begin');
    try {
      await q(`set local lock_timeout = ${Math.max(1, Math.round(this.settings.lockTimeoutMs ?? LOCK_TIMEOUT_MS))}`);
      if (this.create) await q(createTableSql(this.name, this.o, this.types));
      if (this.o.mode === 'replace') await q(`truncate table ${this.name.sql}`);
      const r = await q(this.insertSql(), this.o.runId ? [this.o.runId.value] : []);
      if (r.rowCount !== this.rows) throw new SbError('RECONCILE', `${this.what}: counts do not reconcile: ${this.rows} rows staged, ${r.rowCount} moved; the table is unchanged`);
      state.committing = true;
      await q('commit');
      state.committing = false;
    } catch (err) {
      if (!state.committing && !this.session.lost) await q('rollback').catch(() => {});
      throw err;
    }
  }

  private insertSql(): string {
    const cols = this.o.columns.map((c) => quoteIdent(c.name));
    const targetCols = this.o.runId ? [...cols, quoteIdent(this.o.runId.column)] : cols;
    const values = this.o.runId ? [...cols, '$1::text'] : cols;
    let sql = `insert into ${this.name.sql} (${targetCols.join(', ')}) select ${values.join(', ')} from ${STAGING}`;
    if (this.o.mode === 'upsert' && this.o.key) {
      const key = new Set(this.o.key);
      // Every row counts as moved, also a key-only result (its update sets the key to itself).
      const set = targetCols.filter((c, k) => k >= cols.length || !key.has(this.o.columns[k].name));
      const assign = (set.length > 0 ? set : [quoteIdent(this.o.key[0])]).map((c) => `${c} = excluded.${c}`);
      sql += ` on conflict (${this.o.key.map(quoteIdent).join(', ')}) do update set ${assign.join(', ')}`;
    }
    return sql;
  }

  private open(): void {
    if (this.closed) throw new SbError('WRITE_FAILED', `${this.what}: the writer was already committed or aborted`);
  }

  private failure(err: unknown, phase: 'write' | 'commit', note?: string): SbError {
    if ((err as { code?: string }).code === '21000' && this.o.mode === 'upsert') {
      return new SbError('WRITE_FAILED', `${this.what}: the result has more than one row with the same key (${this.o.key?.join(', ')}); upsert needs one row per key; the table is unchanged`, { yamlPath: this.settings.yamlPath }, { cause: err });
    }
    return pgFailure(err, { display: this.endpoint.display, phase, what: this.what, note, outcome: 'the table is unchanged', yamlPath: this.settings.yamlPath });
  }
}

// Send COPY text; resolves with the number of rows the server stored.
function copyIn(client: pg.Client, sql: string, text: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on('error', reject);
    stream.on('finish', () => resolve(stream.rowCount));
    stream.end(text);
  });
}

// `(result row 12, column 'p')` from the server's COPY context line (`COPY serve_batch_staging, line 3, column p: "…"`).
function copyPlace(err: unknown, first: number, columns: string[]): string | undefined {
  const where = (err as { where?: string }).where;
  const m = where ? /line (\d+)(?:, column ([^:]+))?/.exec(where) : null;
  if (!m) return undefined;
  const column = m[2] && columns.includes(m[2]) ? `, column '${m[2]}'` : '';
  return `(result row ${first + Number(m[1]) - 1}${column})`;
}
