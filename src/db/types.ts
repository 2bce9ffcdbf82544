// What a database backend offers a run, whatever the database: a query read into the same columnar chunks
// every file reader yields, and result chunks written into a table that changes whole or not at all. A new
// database (MySQL, DuckDB, a warehouse) is a new module that implements `Database`; the pipeline only sees
// SourceChunks coming in and a TableWriter going out.
import type { TableWriter } from '../table/writer.js';
import type { ColumnNeed, SourceChunk } from '../table/chunk.js';
import type { FieldType } from '../table/result.js';
import type { RetryPolicy } from './retry.js';

/** How a column's values become cells (the type table of each backend maps its types to these). */
export type ValueKind = 'integer' | 'float' | 'decimal' | 'text' | 'bool' | 'date' | 'timestamp' | 'json' | 'other';

/** A column of a query's result, as the database describes it. */
export interface QueryColumn {
  name: string;
  /** The database's own name for the type (`bigint`, `timestamp with time zone`, `character varying(20)`). */
  type: string;
  kind: ValueKind;
}

/** Incremental reading: only rows whose `column` is above the largest value an earlier run scored. */
export interface Watermark {
  column: string;
  /** That value, as the database printed it when it was read (undefined: the first run reads every row). */
  after?: string;
}

/** One worker's part of a sharded run: the rows whose `column` hashes to `index` of `count`. */
export interface QueryShard {
  column: string;
  index: number;
  count: number;
}

export interface QueryReadOptions {
  /** The columns the run needs (features, passthrough), as for a file. */
  needs: ColumnNeed[];
  batchSize: number;
  /** Stop after this many rows. */
  limit?: number;
  watermark?: Watermark;
  shard?: QueryShard;
}

/** One query being read. `chunks` may be left early (the reader then closes its cursor and connection). */
export interface QueryReader {
  readonly chunks: AsyncGenerator<SourceChunk>;
  /** Rows read so far. */
  readonly rows: number;
  /** The watermark column's largest value read so far (the database's text for it), undefined before any row. */
  readonly watermark: string | undefined;
  /** Every row of the result was read (false when reading stopped at `limit`, an error or the consumer). */
  readonly complete: boolean;
}

type WriteMode = 'append' | 'replace' | 'upsert';

/** A result column to write: its type from the model or the plan, and optionally the type a passthrough
 *  column had in the source database (a table created for the result then keeps it). */
export interface TargetColumn {
  name: string;
  type: FieldType;
  sqlType?: string;
}

export interface TableWriteOptions {
  /** `table` or `schema.table`, in the database's SQL spelling (unquoted names fold as the database folds them). */
  table: string;
  mode: WriteMode;
  /** upsert: the columns that identify a row (a unique key of the table). */
  key?: string[];
  /** Create the table from `columns` when it does not exist. */
  create?: boolean;
  /** The result's columns, in order. */
  columns: TargetColumn[];
  /** A column that gets `value` (the run id) in every row written. */
  runId?: { column: string; value: string };
}

/** What `validate` learns about a target table without writing to it. */
export interface TargetCheck {
  exists: boolean;
  /** Everything that would make writing fail, one line each (empty when the table fits). */
  problems: string[];
}

/** One database, from its URL. Nothing connects before a method is called; every method opens its own
 *  connection and closes it. */
export interface Database {
  /** The URL as it may be shown: the password never appears. */
  readonly display: string;
  /** The columns and types of a query's result, without reading a row (validate). */
  describeQuery(query: string, o?: { watermark?: Watermark; shard?: QueryShard }): Promise<QueryColumn[]>;
  /** The database's plan for the query as it would be read (--dry-run), one line per element. */
  explainQuery(query: string, o?: { watermark?: Watermark; shard?: QueryShard }): Promise<string[]>;
  readQuery(query: string, o: QueryReadOptions): QueryReader;
  /** Whether the target table exists and everything writing it needs: columns, key, privileges. */
  checkTarget(o: TableWriteOptions): Promise<TargetCheck>;
  /** A writer that stages the rows and moves them into the table in one transaction on commit(). */
  openTableWriter(o: TableWriteOptions): Promise<TableWriter>;
}

export interface DatabaseOptions {
  /** Shown to the database's administrators (pg_stat_activity): say which job and run this is. */
  applicationName?: string;
  /** Connecting again after a transient failure: server starting or shutting down, connection refused or reset. */
  retry?: RetryPolicy;
  /** Give up connecting after this long (each attempt). */
  connectTimeoutMs?: number;
  /** Stops waiting between retries. */
  signal?: AbortSignal;
  /** Where the job names the query, for messages: `input.query`. */
  queryPath?: string;
  /** Where the job names the target table: `output.table`. */
  tablePath?: string;
}
