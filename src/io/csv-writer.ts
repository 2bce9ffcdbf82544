// Result chunks → CSV/TSV text. The header comes from the first chunk's column names (or the planned names
// for an input without rows); values are formatted here, quoting is csv-stringify's.
import { stringify } from 'csv-stringify/sync';
import type { ResultChunk, ResultColumn } from '../pipeline/assemble.js';
import type { ByteSink } from './atomic.js';
import { formatFloat } from './format.js';

export interface TableWriter {
  write(chunk: ResultChunk): Promise<void>;
  /** Write what is still pending (the header of an empty result) and commit the sink. */
  commit(): Promise<void>;
  abort(): Promise<void>;
  /** Rows written so far (counted independently of the reader, for reconciliation). */
  readonly rows: number;
  /** Remember the current end; `rollback` drops everything written after it (combined outputs). */
  mark(): Promise<WriterMark>;
  rollback(mark: WriterMark): Promise<boolean>;
}

export interface WriterMark {
  bytes: number;
  rows: number;
  headerDone: boolean;
}

export interface CsvWriteOptions {
  delimiter: string;
  floatPrecision: number;
  /** Header for a result without any chunk. */
  names: () => string[];
}

export function csvWriter(sink: ByteSink, o: CsvWriteOptions): TableWriter {
  let headerDone = false;
  let rows = 0;
  const line = (cells: string[][]) => stringify(cells, { delimiter: o.delimiter, record_delimiter: '\n' });
  const header = async (names: string[]) => {
    if (headerDone) return;
    headerDone = true;
    await sink.write(line([names]));
  };
  return {
    async write(chunk) {
      await header(chunk.columns.map((c) => c.name));
      if (chunk.rows === 0) return;
      const cells = chunk.columns.map((c) => cellsOf(c, chunk.rows, o.floatPrecision));
      const lines = new Array<string[]>(chunk.rows);
      for (let r = 0; r < chunk.rows; r++) lines[r] = cells.map((col) => col[r]);
      await sink.write(line(lines));
      rows += chunk.rows;
    },
    get rows() {
      return rows;
    },
    async mark() {
      return { bytes: await sink.mark(), rows, headerDone };
    },
    async rollback(m) {
      if (!(await sink.rollback(m.bytes))) return false;
      rows = m.rows;
      headerDone = m.headerDone;
      return true;
    },
    async commit() {
      await header(o.names());
      await sink.commit();
    },
    abort: () => sink.abort(),
  };
}

// One result column as cell texts.
export function cellsOf(c: ResultColumn, rows: number, precision: number): string[] {
  if (c.kind === 'text') return c.values;
  const out = new Array<string>(rows);
  const { values, stride, offset } = c;
  if (c.kind === 'float') for (let r = 0; r < rows; r++) out[r] = formatFloat(c.values[r * stride + offset], precision);
  else if (c.kind === 'bool') for (let r = 0; r < rows; r++) out[r] = c.values[r * stride + offset] ? 'true' : 'false';
  else for (let r = 0; r < rows; r++) out[r] = String((values as ArrayLike<unknown>)[r * stride + offset]);
  return out;
}
