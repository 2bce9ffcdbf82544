// What the footer alone says about a Parquet file, without reading rows: its flat columns (for `init`) and
// where its row groups start (the places a shard plan may cut it).
import { parquetSchema } from 'hyparquet';
import type { ParquetBytes } from './bytes.js';
import { asInputError, metadataOf } from './metadata.js';

// The flat top-level columns of a Parquet file (what a job can read), in file order.
export async function parquetColumns(bytes: ParquetBytes, file: string): Promise<string[]> {
  try {
    const tree = parquetSchema(await metadataOf(bytes, file));
    return tree.children.filter((c) => c.children.length === 0 && c.element.repetition_type !== 'REPEATED').map((c) => c.element.name);
  } catch (err) {
    throw asInputError(err, file);
  } finally {
    await bytes.close();
  }
}

// Where each row group of a Parquet file starts (the smallest offset of its column chunks) and how many rows
// it holds.
export async function parquetRowGroups(bytes: ParquetBytes, file: string): Promise<{ starts: number[]; rows: number[] }> {
  try {
    const meta = await metadataOf(bytes, file);
    const starts = meta.row_groups.map((g) => Math.min(...g.columns.map((c) => Number(c.meta_data ? c.meta_data.dictionary_page_offset || c.meta_data.data_page_offset : c.file_offset))));
    return { starts, rows: meta.row_groups.map((g) => Number(g.num_rows)) };
  } catch (err) {
    throw asInputError(err, file);
  } finally {
    await bytes.close();
  }
}
