// Parquet → chunks for a run, in bounded memory: the footer first, then row group by row group only the
// needed columns, page by page (pages.ts), each page written into the chunk's columns as it is reached
// (cells.ts). A chunk never spans two row groups. A row's line is its row number in the file (1-based), also
// in a part of it (a shard's piece, one reader's share). Types: see table/builder.ts and cells.ts; decimals are
// doubles; nested columns are refused when a job reads them.
import { ChunkBuilder, StoragePool } from '../../table/builder.js';
import type { SourceChunk } from '../../table/chunk.js';
import type { ReadContext } from '../../table/reader.js';
import type { ParquetBytes } from './bytes.js';
import { fillField, storeFor, type Store } from './cells.js';
import { asInputError, metadataOf } from './metadata.js';
import { ColumnPages } from './pages.js';
import { planColumns } from './plan.js';

export interface ParquetInput {
  chunks: AsyncGenerator<SourceChunk>;
  /** Bytes of the file behind the rows read so far. */
  readonly bytesRead: number;
  /** sha256 of the file, once every row was read (undefined when reading stopped early). */
  sha256(): string | undefined;
}

// Chunks of rows from a Parquet file.
export function readParquet(bytes: ParquetBytes, ctx: ReadContext): ParquetInput {
  let bytesRead = 0;
  let digest: string | undefined;
  async function* chunks(): AsyncGenerator<SourceChunk> {
    try {
      const meta = await metadataOf(bytes, ctx.file);
      const { header, needs, columns } = planColumns(meta, ctx);
      // Row numbers count from the start of the file, also in a part of it.
      const firstRows = firstRowsOf(meta.row_groups);
      let left = ctx.limit ?? Infinity;
      const pool = new StoragePool();
      for (const g of groupsToRead(ctx.rowGroups, meta.row_groups.length)) {
        if (left <= 0) break;
        const group = meta.row_groups[g];
        const groupRows = Number(group.num_rows);
        const groupStart = firstRows[g];
        const cursors = columns.map((c) => (c ? new ColumnPages<Store>(bytes, group.columns[c.chunkIndex].meta_data, c.decoder, storeFor(c.time), groupRows, ctx.file, g) : undefined));
        let done = 0;
        while (done < groupRows && left > 0) {
          const n = Math.min(ctx.batchSize, groupRows - done, left);
          const rows = new ChunkBuilder(header, needs, n, { pool });
          for (let f = 0; f < cursors.length; f++) {
            const c = cursors[f];
            if (c) await fillField(c, rows, f, n);
          }
          for (let i = 0; i < n; i++) rows.accept(groupStart + done + i + 1);
          done += n;
          left -= n;
          bytesRead = Math.max(bytesRead, ...cursors.map((c) => c?.position ?? 0));
          yield rows.build();
        }
      }
      // A part of the file does not hash all of it (every shard's worker, every reader would read all of it).
      if (left > 0 && !ctx.rowGroups) {
        digest = await bytes.sha256();
        bytesRead = bytes.size;
      }
    } catch (err) {
      throw asInputError(err, ctx.file);
    } finally {
      await bytes.close();
    }
  }
  return {
    chunks: chunks(),
    get bytesRead() {
      return bytesRead;
    },
    sha256: () => digest,
  };
}

// The row groups to read, in file order: all of them, a shard's range [from, to), or one reader's share.
function groupsToRead(part: ReadContext['rowGroups'], count: number): number[] {
  if (part && 'only' in part) return part.only.filter((g) => g < count);
  const from = part?.from ?? 0;
  const to = Math.min(part?.to ?? Infinity, count);
  return Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
}

// The rows before each row group.
function firstRowsOf(groups: { num_rows: bigint | number }[]): number[] {
  const out: number[] = [];
  let n = 0;
  for (const g of groups) {
    out.push(n);
    n += Number(g.num_rows);
  }
  return out;
}
