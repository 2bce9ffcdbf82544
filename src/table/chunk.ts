// The unit every stage passes on: up to batch_size rows as columns, with the physical source line of each
// row and the rows rejected while building it. Readers fill a ChunkBuilder (builder.ts); featurize and
// assemble consume SourceChunk. No stage holds one object per row.
import type { PackedText } from './packed.js';

export interface Reject {
  /** Physical line in the source where the row starts (1-based). */
  line: number;
  error: string;
  /** The row's original fields (as far as they could be split). */
  fields: string[];
}

export interface NumberColumn {
  values: Float64Array;
  /** OK, MISSING or INVALID per row (numbers.ts). */
  status: Uint8Array;
}

// Which source columns a run needs, and as what.
export interface ColumnNeed {
  name: string;
  /** Parsed as numbers (for numeric model inputs). */
  number: boolean;
  /** Kept as text (passthrough, string/int64/bool inputs, rejects). */
  text: boolean;
}

export interface SourceChunk {
  /** Accepted rows in this chunk. */
  rows: number;
  /** Physical line of each accepted row. */
  lines: Float64Array;
  numbers: Map<string, NumberColumn>;
  /** Text columns as strings, made from `packed` when a stage first asks for one. */
  texts: Map<string, string[]>;
  /** Text columns as UTF-8 bytes, valid until release(). */
  packed: Map<string, PackedText>;
  /** Rows the reader rejected (ragged, bad quotes), in line order. */
  rejects: Reject[];
  /** Original fields of accepted row i (for rejects raised later, e.g. by the featurizer). */
  record(i: number): string[];
  /** The header of the source (column names in file order). */
  header: string[];
  /** The consumer is done with the chunk: its buffers may be reused (optional). */
  release?(): void;
}
