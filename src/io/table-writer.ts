// The result writer for an output format: CSV/TSV, JSON Lines or Parquet, into an atomic file (gzipped when
// its name ends in .gz) or standard output.
import type { TextFormat } from '../job/config.js';
import type { ResultField } from '../table/result.js';
import type { TableWriter } from '../table/writer.js';
import { openSink, type ByteSink } from '../storage/sink.js';
import { csvWriter } from './csv-writer.js';
import { delimiterOf, isGzipName } from './formats.js';
import { gzipSink } from './gzip-sink.js';
import { jsonlWriter } from './jsonl-writer.js';

export interface TableWriterOptions {
  format: TextFormat;
  floatPrecision: number;
  batchSize: number;
  /** Column names for a header written before any chunk (text formats). */
  names: () => string[];
  /** Column names and types (Parquet). */
  fields: () => ResultField[];
  /** false: CSV rows through csv-stringify (the reference path). */
  fast?: boolean;
  /** Ends a wait for the reader of a stream target. */
  signal?: AbortSignal;
}

// Open the writer for `target` ('-' = standard output; a FIFO, device or descriptor is written through).
export async function openTableWriter(target: string, o: TableWriterOptions): Promise<TableWriter> {
  let sink: ByteSink = await openSink(target, { signal: o.signal });
  if (target !== '-' && isGzipName(target)) sink = gzipSink(sink);
  switch (o.format) {
    case 'jsonl':
      return jsonlWriter(sink, { floatPrecision: o.floatPrecision });
    case 'parquet': {
      const { parquetWriter } = await import('./parquet-writer.js'); // loaded on first use (~50 ms)
      return parquetWriter(sink, { fields: o.fields, batchSize: o.batchSize });
    }
    default:
      return csvWriter(sink, { delimiter: delimiterOf(o.format), floatPrecision: o.floatPrecision, names: o.names, fast: o.fast });
  }
}
