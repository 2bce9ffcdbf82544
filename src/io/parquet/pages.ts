// One column chunk of one row group, read page by page through a small window over the file: memory holds
// one page (and one dictionary) per column, never a row group. Both `run` (read.ts) and `merge` (results.ts)
// read columns through it; what a page's values become is the caller's `store`.
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { ColumnMetaData, Compressors, DecodedArray, ParquetParsers, SchemaTree } from 'hyparquet';
import { compressors as extraCompressors } from 'hyparquet-compressors';
import { SbError } from '../../errors.js';
import { cleanMessage } from './metadata.js';
import { dataPage, dictionaryValues, maxDefinitionLevel, pageHeader, type ColumnDecoder } from './hyparquet.js';

/** Bytes read from the file at a time per column (more when a page is larger). */
const WINDOW_BYTES = 1 << 20;

// Native zlib for GZIP and BROTLI (faster than the JavaScript decoders); ZSTD, Snappy and LZ4 from
// hyparquet-compressors.
const COMPRESSORS: Compressors = {
  ...extraCompressors,
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
};

// How to decode the flat top-level column `node` of `tree` (its codec is set per row group).
export function columnDecoder(tree: SchemaTree, node: SchemaTree, meta: ColumnMetaData, parsers: ParquetParsers, utf8: boolean): ColumnDecoder {
  return { pathInSchema: [node.element.name], type: node.element.type ?? meta.type, element: node.element, schemaPath: [tree, node], codec: meta.codec, parsers, compressors: COMPRESSORS, utf8 };
}

/** A data page being read. */
export interface Page<S> {
  /** Rows in the page, and the next one to read. */
  rows: number;
  row: number;
  /** Definition level per row (undefined: no nulls), and the level of a present value. */
  defs: ArrayLike<number> | undefined;
  maxDef: number;
  /** Next value (values hold only the non-null rows). */
  value: number;
  /** Dictionary indices per value, when dictionary-encoded. */
  index?: ArrayLike<number>;
  store: S;
}

/** Where a column chunk is in the file. */
type ChunkPlace = Pick<ColumnMetaData, 'dictionary_page_offset' | 'data_page_offset' | 'total_compressed_size' | 'codec'>;

/** Random access to the file, as pages need it. */
interface ReadAt {
  read(position: number, length: number): Promise<Buffer>;
}

// The pages of one column of one row group; `store` makes a page's (or the dictionary's) decoded values
// into what the caller reads.
export class ColumnPages<S> {
  private pos: number;
  private readonly end: number;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  private page?: Page<S>;
  private dictionary?: S;
  private rowsLeft: number;
  private readonly maxDef: number;
  private readonly decoder: ColumnDecoder;

  constructor(
    private readonly bytes: ReadAt,
    meta: ChunkPlace | undefined,
    decoder: ColumnDecoder,
    private readonly store: (values: DecodedArray, decoder: ColumnDecoder) => S,
    groupRows: number,
    private readonly file: string,
    private readonly group: number,
  ) {
    if (!meta) throw new SbError('INPUT_FAILED', `column '${decoder.pathInSchema[0]}' has no column metadata in row group ${group + 1}`, { file });
    this.pos = Number(meta.dictionary_page_offset || meta.data_page_offset);
    this.end = this.pos + Number(meta.total_compressed_size);
    this.decoder = { ...decoder, codec: meta.codec };
    this.rowsLeft = groupRows;
    this.maxDef = maxDefinitionLevel(decoder.schemaPath);
  }

  /** File offset reached. */
  get position(): number {
    return this.pos;
  }

  // The page holding the next row to read.
  async current(): Promise<Page<S>> {
    const page = this.page;
    return page && page.row < page.rows ? page : this.nextPage();
  }

  // A failure reading this column, as one line naming it and its row group.
  decodeError(err: unknown): SbError {
    if (err instanceof SbError) return err;
    return new SbError('INPUT_FAILED', `cannot decode column '${this.decoder.pathInSchema[0]}' in row group ${this.group + 1}: ${cleanMessage(err)}`, { file: this.file });
  }

  private async nextPage(): Promise<Page<S>> {
    for (;;) {
      if (this.pos >= this.end || this.rowsLeft <= 0) throw this.decodeError(new Error('the column chunk ends before its rows do'));
      const { header, dataStart } = await this.header();
      const size = header.compressed_page_size;
      const body = await this.bytesAt(dataStart, size);
      this.pos = dataStart + size;
      try {
        if (header.type === 'DICTIONARY_PAGE') {
          this.dictionary = this.store(dictionaryValues(body, header, this.decoder), this.decoder);
          continue;
        }
        const data = dataPage(body, header, this.decoder);
        // INDEX_PAGE and unknown page types carry no rows.
        if (data) return this.setPage(data.rows, data.defs, data.values, data.encoding);
      } catch (err) {
        throw this.decodeError(err);
      }
    }
  }

  private setPage(rows: number, defs: number[] | undefined, data: DecodedArray, encoding: string): Page<S> {
    let store: S;
    let index: ArrayLike<number> | undefined;
    if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY') {
      if (!this.dictionary) throw new Error('a dictionary-encoded page without a dictionary');
      store = this.dictionary;
      index = data as ArrayLike<number>;
    } else {
      store = this.store(data, this.decoder);
    }
    this.rowsLeft -= rows;
    this.page = { rows, row: 0, defs: defs && defs.length > 0 ? defs : undefined, maxDef: this.maxDef, value: 0, index, store };
    return this.page;
  }

  // Parse the page header at `pos`, widening the window until it holds the whole header.
  private async header(): Promise<{ header: ReturnType<typeof pageHeader>['header']; dataStart: number }> {
    let want = Math.min(64 * 1024, this.end - this.pos);
    for (;;) {
      const buf = await this.bytesAt(this.pos, want);
      try {
        const { header, length } = pageHeader(buf);
        return { header, dataStart: this.pos + length };
      } catch (err) {
        if (!(err instanceof RangeError) || want >= this.end - this.pos) throw this.decodeError(err);
        want = Math.min(want * 4, this.end - this.pos);
      }
    }
  }

  // Bytes [at, at + length) of the file, through the window.
  private async bytesAt(at: number, length: number): Promise<Buffer> {
    if (at + length > this.end) throw this.decodeError(new Error('a page reaches past the end of its column chunk'));
    const offset = at - this.windowStart;
    if (offset >= 0 && offset + length <= this.window.length) return this.window.subarray(offset, offset + length);
    const size = Math.min(Math.max(length, WINDOW_BYTES), this.end - at);
    this.window = await this.bytes.read(at, size);
    this.windowStart = at;
    return this.window.subarray(0, length);
  }
}
