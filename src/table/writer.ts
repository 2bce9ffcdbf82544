// Where result rows go: a table writer. The formats in src/io write a table into bytes (CSV, JSON Lines,
// Parquet over a storage ByteSink); a database table writer (a COPY inside one transaction) implements the same
// interface, so the run's output target (run/output-target.ts) commits, aborts and rolls back either alike.
import type { ResultChunk } from './result.js';

export interface TableWriter {
  write(chunk: ResultChunk): Promise<void>;
  /** Write what is still pending (the header of an empty result) and make the table visible as a whole. */
  commit(): Promise<void>;
  /** Drop everything written; what was there before stays (a stream keeps what it was sent). */
  abort(): Promise<void>;
  /** Rows written so far (counted independently of the reader, for reconciliation). */
  readonly rows: number;
  /** Rows reach their reader as they are written (a stream): abort and rollback cannot take them back. */
  readonly streamed: boolean;
  /** Remember the current end; `rollback` drops everything written after it (combined results: a failed
   *  input's rows). A database writer would take a savepoint. */
  mark(): Promise<WriterMark>;
  /** false when the rows cannot be taken back (a stream already sent them). */
  rollback(mark: WriterMark): Promise<boolean>;
}

export interface WriterMark {
  bytes: number;
  rows: number;
  headerDone: boolean;
}

// A writer that counts the rows it is given and keeps none (validate's sample, a profile's run).
export function discardWriter(): TableWriter {
  let rows = 0;
  return {
    write: async (c: ResultChunk) => {
      rows += c.rows;
    },
    commit: async () => undefined,
    abort: async () => undefined,
    get rows() {
      return rows;
    },
    mark: async () => ({ bytes: 0, rows, headerDone: true }),
    rollback: async () => false,
    streamed: false,
  };
}
