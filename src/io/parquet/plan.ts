// Which columns of a Parquet file a run reads: every needed name checked against the file's columns (with a
// did-you-mean), nested columns refused, and for each column its place in a row group and how to decode it.
import { parquetSchema, type FileMetaData, type SchemaTree } from 'hyparquet';
import { SbError } from '../../errors.js';
import type { ColumnNeed } from '../../table/chunk.js';
import { resolveColumns, type ReadContext } from '../../table/reader.js';
import type { ColumnDecoder } from './hyparquet.js';
import { columnDecoder } from './pages.js';
import { textParsers, timeKindOf, type TimeKind } from './time.js';

interface ColumnPlan {
  /** Index of the column chunk in a row group. */
  chunkIndex: number;
  decoder: ColumnDecoder;
  time?: TimeKind;
}

export interface ReadPlan {
  /** The needed columns in file order (rejected rows show what was read). */
  header: string[];
  needs: (ColumnNeed & { index: number })[];
  /** Per header column; undefined when the file has no row groups. */
  columns: (ColumnPlan | undefined)[];
}

// The needed columns: their place in each row group and how to decode them.
export function planColumns(meta: FileMetaData, ctx: ReadContext): ReadPlan {
  const tree = parquetSchema(meta);
  const names = tree.children.map((c) => c.element.name);
  // Every needed name must be a column (did-you-mean against the file's columns), as for a CSV header.
  resolveColumns(names, ctx.needs, ctx.file, undefined, 'the file');
  const header = names.filter((n) => ctx.needs.some((need) => need.name === n));
  const needs = ctx.needs.map((n) => ({ ...n, index: header.indexOf(n.name) }));
  const first = meta.row_groups[0];
  const columns = header.map((name): ColumnPlan | undefined => {
    const node = tree.children.find((c) => c.element.name === name) as SchemaTree;
    if (node.children.length > 0 || node.element.repetition_type === 'REPEATED') {
      throw new SbError('INPUT_FAILED', `column '${name}' is a nested Parquet column (struct, list or map); serve-batch reads flat columns: flatten it before scoring, or leave it out of features and passthrough`, { file: ctx.file });
    }
    if (!first) return undefined;
    const chunkIndex = chunkIndexOf(meta, name);
    if (chunkIndex === -1) throw new SbError('INPUT_FAILED', `column '${name}' has no data in the file's first row group`, { file: ctx.file });
    const meta0 = first.columns[chunkIndex].meta_data;
    if (!meta0) throw new SbError('INPUT_FAILED', `column '${name}' has no column metadata`, { file: ctx.file });
    return { chunkIndex, decoder: columnDecoder(tree, node, meta0, textParsers(), true), time: timeKindOf(node.element) };
  });
  return { header, needs, columns };
}

// Where the flat column `name` is among the column chunks of the first row group (-1: nowhere).
export function chunkIndexOf(meta: FileMetaData, name: string): number {
  const first = meta.row_groups[0];
  return first ? first.columns.findIndex((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name) : -1;
}
