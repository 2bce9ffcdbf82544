// PostgreSQL as a source of rows (a query) and a destination of results (a table), behind the database-neutral
// `Database` of src/db/types.ts, which the run's reader (io/table-reader.ts) and writer (run/database.ts) call
// (see "Integration" below).
//
// Pieces
//   connection.ts  PgEndpoint: a postgres:// URL (what it leaves out comes from the libpq environment: PGHOST,
//                  PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE, ~/.pgpass; `postgresql://` alone is "as
//                  psql would connect"), `display` without the password, sessions set to UTC, ISO dates and
//                  shortest-exact floats, connecting again after transient failures (src/db/retry.ts: 6 tries
//                  over ~15 s by default), sessions closed within 5 s even when the server stopped answering.
//   sql.ts         quoting (every identifier quoted, every value a bound parameter), table names read as
//                  PostgreSQL reads them (`Analytics.Scores` is analytics.scores, "Quoted" parts kept), and the
//                  statement a read runs: the query as written, or wrapped for a watermark or shard.
//   values.ts      the type table below: a value's PostgreSQL text → chunk cells.
//   reader.ts      readQuery: a server-side cursor (pg-cursor) fetching batch_size rows at a time into
//                  SourceChunks through table/builder.ts's ChunkBuilder (the builder every file reader
//                  uses), in one READ ONLY REPEATABLE READ transaction; never the whole result in memory
//                  (1,000,000 rows: RSS +40 MB, flat). A chunk's header is every column of the result; a row's
//                  line is its ordinal in the result (1-based) and its record every column's text, so a rejected
//                  row shows the ordinal and the key and watermark columns in the rejects file.
//   query.ts       describeQuery (`limit 0`: the result's columns and types, and proof the user may read what
//                  the query reads) and explainQuery (EXPLAIN of the statement a run would read).
//   copy-text.ts   result chunks → COPY text rows (escaping, NULL, every bit of floats and digit of integers).
//   target.ts      the target table from the catalog; every problem at once (missing table or columns, types
//                  that cannot hold the result's, NOT NULL columns the result does not write, the upsert key's
//                  unique index, INSERT/TRUNCATE/UPDATE/SELECT/CREATE/TEMPORARY privileges, with the GRANT that
//                  fixes each); CREATE TABLE and the staging table.
//   writer.ts      openTableWriter → TableWriter: each chunk COPYed into a TEMPORARY staging table of the
//                  writer's own session, then in one transaction on commit():
//                    append   insert into target select … from staging
//                    replace  truncate target; insert … (TRUNCATE holds an ACCESS EXCLUSIVE lock until COMMIT:
//                             readers wait for the move, not for the scoring, and never see a mix or an empty table)
//                    upsert   insert … on conflict (key) do update set every other column (the key must be a
//                             primary key or unique index, and needs SELECT besides INSERT and UPDATE)
//                  create: true adds `create table if not exists` (the key as primary key for upsert) at the start
//                  of that transaction; the run id column, when asked for, gets the run id (a bound parameter).
//                  The final transaction waits at most 30 s for a lock on the target (sessions queue behind a
//                  waiting TRUNCATE), then tries again (4 tries). mark()/rollback() take a failed input's rows out
//                  of the staging table.
//   failures.ts    every failure as one SbError line (below).
//
// Types (README "Databases")
//   PostgreSQL type                      numeric input                    int64, bool, string input, passthrough
//   int2, int4, oid                      that number                      its digits
//   int8                                 the nearest double               exact digits (an int64 input reads them exactly)
//   numeric                              the nearest double; NaN missing  its text as stored (`1.50`, every digit)
//   float4, float8                       that number; NaN missing         shortest text that reads back the same value; ±Infinity `inf`/`-inf`
//   text, varchar, char, name            read as CSV text                 the string
//   bool                                 1 / 0                            `true` / `false`
//   date                                 not a number (row rejected)      `2001-01-14`
//   timestamp                            not a number                     `2001-01-14T21:55:00`, `.500000` when there is a fraction
//   timestamptz                          not a number                     the same in UTC, with `Z`
//   json, jsonb                          not a number                     its text
//   any other (uuid, interval, arrays…)  read as CSV text                 PostgreSQL's text for it
//   NULL                                 missing (features.missing)       empty
// Tables created for a result: float32 real, float64 double precision, int32 integer, int64 bigint, uint64
// numeric(20,0), bool boolean, labels and strings text, a passthrough column the type its source column had
// (TargetColumn.sqlType), the run id column text. Written values: floats with every bit (NaN as NULL), integers
// with every digit, an empty passthrough cell as NULL in a column whose type is not a string type.
//
// Watermark: the query is wrapped — `select * from (<query>) as q where q.<col> > $1 order by q.<col>` — so users
// write their query plainly and name a column of its result; the previous value is a bound parameter, as the
// server printed it (exact for bigint, numeric, timestamps); the largest value read is the last row's. Rows whose
// column is NULL are never read (they have no place in the order). Rows that arrive later with a value at or
// below the watermark are not read either: the column must grow with commit order (a sequence, or a timestamp
// set at commit — not one set when a long transaction started). Shards: `mod(hashtext(q.<col>::text) + 2^31,
// count) = index`, every row in exactly one shard.
//
// What a killed run leaves: the target exactly as it was (nothing is written to it before the final transaction,
// and a transaction the client did not COMMIT is rolled back when its connection ends); no staging table (a
// temporary table belongs to its session and the server drops it when the session ends, however it ends). A run
// killed after sending COMMIT leaves the complete result. Needs a session of its own: a pooler in transaction
// mode (pgbouncer's default) would lose the staging table between statements; use session mode or connect
// directly. A role's statement_timeout also bounds a whole read (the cursor is one statement for the run).
//
// Failures (failures.ts): DB_INVALID (exit 2) for what the job or the grants must change — bad credentials,
// unknown database, SQL errors with the server's message and the place in the query (`at query line 3, column
// 3: 'from customers'`), missing table or column, permission denied, a target that does not fit;
// DB_UNREACHABLE (exit 1, so schedule.retries tries again) when the server cannot be reached after the retries;
// INPUT_FAILED / WRITE_FAILED (exit 1) for what happens mid-run: a value the query cannot compute, a connection
// lost (`… was lost after 8,192 rows: terminating connection due to administrator command`), a value the table
// does not take (`(result row 4, column 'id')`). The password is in no message, record or display.
//
// Integration (what the run's reader and writer layers will do with this module)
//   - Job schema: input { database, query, watermark? } and output { database, table, mode, key?, create?,
//     run_id_column? }; `database` a URL (usually ${DATABASE_URL}); open it with src/db/open.ts openDatabase(url,
//     { applicationName: `serve-batch ${job} ${runId}`, signal: the run's stop signal, queryPath: 'input.query',
//     tablePath: 'output.table' }). Records show `db.display`, never the URL.
//   - Reading (openTableReader for a query input): db.readQuery(query, { needs: plan.needs, batchSize, limit,
//     watermark: { column, after: the ledger's value unless --reprocess }, shard }) → `chunks` is the same
//     AsyncGenerator<SourceChunk> the file readers give. The ledger keys the input by (db.display, query,
//     watermark column) and stores reader.watermark only when reader.complete and the run's result committed;
//     the record gets the query text, the watermark range (after → reader.watermark) and reader.rows. The cursor
//     works in the reader thread as in the main thread (pg is plain JavaScript).
//   - Writing (openResultWriter for a table output): db.openTableWriter({ table, mode, key, create, columns:
//     resultFields(plan, model) with each passthrough column's sqlType from db.describeQuery when the input is a
//     query, runId }) → a TableWriter (write/commit/abort/mark/rollback): one combined target per run (tokens
//     such as {input_stem} mean nothing for a table), a failed input's rows rolled back to its mark.
//   - validate: describeQuery (the query's columns against features and passthrough, the watermark column) and
//     checkTarget (its problems list, one line each); --dry-run: explainQuery. Both open and close their own
//     connections.
//   - README: the exit codes table gains DB_INVALID (2) and DB_UNREACHABLE (1); the "Databases" section takes
//     the tables and paragraphs above.
//   - Chunks cannot carry NULL in text columns (the ChunkBuilder makes it ''): a NULL passthrough value reaches a table
//     as NULL only where the column's type is not a string type; keeping NULL in text columns needs a null mask
//     on text columns in table/.
import type { Database, DatabaseOptions } from '../types.js';
import { PgEndpoint } from './connection.js';
import { describeQuery, explainQuery } from './query.js';
import { readQuery } from './reader.js';
import { checkTarget, openTableWriter, type WriterSettings } from './writer.js';

export interface PgDatabaseOptions extends DatabaseOptions {
  writer?: Omit<WriterSettings, 'yamlPath'>;
}

// The Database of a postgres:// or postgresql:// URL (nothing connects until a method is called).
export function openDatabase(url: string, o: PgDatabaseOptions = {}): Database {
  const endpoint = new PgEndpoint(url, o);
  return {
    display: endpoint.display,
    describeQuery: (query, q) => describeQuery(endpoint, query, q, o.queryPath),
    explainQuery: (query, q) => explainQuery(endpoint, query, q, o.queryPath),
    readQuery: (query, r) => readQuery(endpoint, query, r, o.queryPath),
    checkTarget: (w) => checkTarget(endpoint, w, o.tablePath),
    openTableWriter: (w) => openTableWriter(endpoint, w, { ...o.writer, yamlPath: o.tablePath }),
  };
}
