// Where input rows come from: a table reader yields chunks of the columns a run needs. The formats in src/io
// read a table from bytes (CSV/TSV, JSON Lines, Parquet over a storage ByteSource); a database query cursor
// implements the same interface (its chunks built with the same ChunkBuilder), so the pipeline reads either alike.
import { SbError } from '../errors.js';
import { shownNames } from '../util/quote.js';
import { didYouMean } from '../util/suggest.js';
import type { ColumnNeed, SourceChunk } from './chunk.js';

export interface TableReader {
  chunks: AsyncIterable<SourceChunk>;
  /** Bytes read so far (as stored). */
  bytes(): number;
  /** What the whole input came to; valid once the chunks are exhausted (sha256 only for a whole input read to its end;
   *  watermark only for a query read by watermark to its end: the largest value of its column read). */
  end(): { bytes: number; sha256?: string; watermark?: string };
}

// What a reader is asked for.
export interface ReadContext {
  /** The input as shown in messages. */
  file: string;
  needs: ColumnNeed[];
  batchSize: number;
  /** Stop after this many data rows (accepted + rejected). */
  limit?: number;
  /** A shard's piece that starts in the middle of a text file, at this physical line: no byte-order mark
   *  there, the header comes from the options, and (JSON Lines) the file's first piece checks the keys. */
  from?: { line: number };
  /** Part of a Parquet file: a shard's piece, row groups [from, to) (to undefined: through the last), or one
   *  of several readers' row groups (`only`, ascending). */
  rowGroups?: { from: number; to?: number } | { only: number[] };
}

// Map needed column names to header positions; a missing or duplicated name fails the input. `where` names
// what holds the columns in messages (a CSV header; a Parquet file's schema).
export function resolveColumns(header: string[], needs: ColumnNeed[], file: string, line?: number, where = 'the header'): (ColumnNeed & { index: number })[] {
  return needs.map((n) => {
    const index = header.indexOf(n.name);
    if (index === -1) {
      throw new SbError('INPUT_FAILED', `column '${n.name}' is not in ${where}${didYouMean(n.name, header)} (columns: ${shownNames(header)})`, { file, line });
    }
    const again = header.indexOf(n.name, index + 1);
    if (again !== -1) {
      throw new SbError('INPUT_FAILED', `column '${n.name}' appears twice in ${where} (fields ${index + 1} and ${again + 1}); rename one`, { file, line });
    }
    return { ...n, index };
  });
}
