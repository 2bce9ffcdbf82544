// Parquet → chunks for a run, in bounded memory: the footer first, then row group by row group only the
// needed columns, page by page (pages.ts), each page written into the chunk's columns as it is reached
// (cells.ts). A row's line is its row number in the file (1-based), also in a shard's piece. Types: see
// table/builder.ts and cells.ts; decimals are doubles; nested columns are refused when a job reads them.
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
      const from = ctx.rowGroups?.from ?? 0;
      const to = Math.min(ctx.rowGroups?.to ?? Infinity, meta.row_groups.length);
      // Row numbers count from the start of the file, also in a shard's piece.
      let groupStart = meta.row_groups.slice(0, from).reduce((n, g) => n + Number(g.num_rows), 0);
      let left = ctx.limit ?? Infinity;
      const pool = new StoragePool();
      for (let g = from; g < to && left > 0; g++) {
        const group = meta.row_groups[g];
        const groupRows = Number(group.num_rows);
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
        groupStart += groupRows;
      }
      // A shard's piece does not hash the whole file (every worker would read all of it).
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
