// Parquet → chunks, in bounded memory. The footer (metadata) is read first; then, row group by row group,
// only the needed columns are read page by page through a small window over the file, and each page is
// decoded into the chunk's columns as it is reached. So memory holds one page (and one dictionary) per
// needed column, never a row group or the file: hyparquet's own row reading (parquetRead) fetches all
// planned bytes at once and assembles every value as a JS object (for flights-3m: 2.6 s and 180 MB for two
// int64 columns, most of it BigInt garbage), which is why pages are decoded here with hyparquet's page
// functions (hyparquet/src/*.js, exported by the package) and written straight into typed columns.
//
// A row's line is its row number in the file (1-based). Types: see table/builder.ts; int64 arrives as BigInt and is
// read exactly as text (for int64 inputs) and as the nearest double (for float inputs); timestamps and dates
// are ISO 8601 text (`2001-01-14T21:55:00`, with `Z` when the file says the time is UTC); decimals are
// doubles. Nested columns (struct, list, map) are refused when a job reads them.
import { createHash } from 'node:crypto';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetSchema, type FileMetaData, type SchemaElement, type SchemaTree } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import type { ColumnDecoder, CompressionCodec, Compressors, DecodedArray, ParquetParsers } from 'hyparquet/src/types.js';
import { compressors as extraCompressors } from 'hyparquet-compressors';
import { SbError } from '../errors.js';
import { ChunkBuilder, StoragePool } from '../table/builder.js';
import type { ColumnNeed, SourceChunk } from '../table/chunk.js';
import { MISSING, OK, parseNumberCell, type CellStatus } from '../table/numbers.js';
import { resolveColumns, type ReadContext } from '../table/reader.js';
import { memorySource, readWhole } from '../storage/memory.js';
import { openSource, type ByteSource, type SourceStat } from '../storage/source.js';

/** Bytes read from the file at a time per column (more when a page is larger). */
const WINDOW_BYTES = 1 << 20;

// Native zlib for GZIP and BROTLI (faster than the JavaScript decoders); ZSTD, Snappy and LZ4 from
// hyparquet-compressors.
const COMPRESSORS: Compressors = {
  ...extraCompressors,
  GZIP: (input) => gunzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
};

/** Random access to the bytes of a Parquet file. */
export interface ParquetBytes {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
  close(): Promise<void>;
  /** sha256 of the whole file. */
  sha256(): Promise<string>;
}

// A source's bytes by random access; one that can only be read in order (standard input, a FIFO) is read
// whole first, since Parquet starts at its footer.
export async function parquetBytes(source: ByteSource): Promise<ParquetBytes> {
  let src = source;
  let stat = src.readAt ? await src.stat() : undefined;
  if (!stat) {
    src = memorySource(await readWhole(source), source.url, source.display);
    stat = await src.stat();
  }
  const readAt = src.readAt as NonNullable<ByteSource['readAt']>;
  const { size } = stat as SourceStat;
  return {
    size,
    read: async (position, length) => {
      const b = await readAt(position, position + length);
      return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
    },
    close: () => src.close(),
    async sha256() {
      const stream = src.open();
      for await (const _ of stream);
      return stream.sha256() as string;
    },
  };
}

// A file on disk (or standard input: '-').
export function parquetFile(file: string, display: string): Promise<ParquetBytes> {
  return parquetBytes(openSource(file, display));
}

// Bytes already in memory.
export function parquetBuffer(buf: Buffer): ParquetBytes {
  return {
    size: buf.length,
    read: async (position, length) => buf.subarray(position, position + length),
    close: async () => undefined,
    sha256: async () => createHash('sha256').update(buf).digest('hex'),
  };
}

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
      const { header, needs, columns } = plan(meta, ctx);
      const from = ctx.rowGroups?.from ?? 0;
      const to = Math.min(ctx.rowGroups?.to ?? Infinity, meta.row_groups.length);
      // Row numbers count from the start of the file, also in a shard's piece.
      let groupStart = meta.row_groups.slice(0, from).reduce((n, g) => n + Number(g.num_rows), 0);
      let left = ctx.limit ?? Infinity;
      const pool = new StoragePool();
      for (let g = from; g < to && left > 0; g++) {
        const group = meta.row_groups[g];
        const groupRows = Number(group.num_rows);
        const cursors = columns.map((c) => (c ? new ColumnCursor(bytes, group.columns[c.chunkIndex].meta_data, c.decoder, c.time, groupRows, ctx.file, g) : undefined));
        let done = 0;
        while (done < groupRows && left > 0) {
          const n = Math.min(ctx.batchSize, groupRows - done, left);
          const rows = new ChunkBuilder(header, needs, n, { pool });
          for (let f = 0; f < cursors.length; f++) await cursors[f]?.fill(rows, f, n);
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
// it holds: the places a shard plan may cut the file.
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

async function metadataOf(bytes: ParquetBytes, file: string): Promise<FileMetaData> {
  if (bytes.size < 12) throw new SbError('INPUT_FAILED', `not a Parquet file: ${bytes.size === 0 ? 'it is empty' : `only ${bytes.size} bytes`}`, { file });
  const head = await bytes.read(0, 4);
  if (head.toString('latin1') !== 'PAR1') throw new SbError('INPUT_FAILED', 'not a Parquet file: it does not start with PAR1', { file });
  const asyncBuffer = {
    byteLength: bytes.size,
    slice: async (start: number, end = bytes.size) => {
      const b = await bytes.read(start, end - start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  try {
    return await parquetMetadataAsync(asyncBuffer);
  } catch (err) {
    if (err instanceof SbError) throw err;
    throw new SbError('INPUT_FAILED', `not a valid Parquet file: ${cleanMessage(err)}`, { file });
  }
}

interface ColumnPlan {
  chunkIndex: number;
  decoder: ColumnDecoder;
  time?: TimeKind;
}

/** INT64 timestamps and INT32 dates, turned into text here (hyparquet would make a Date per value). */
type TimeKind = { kind: 'time'; perSecond: number; digits: number; utc: boolean } | { kind: 'date' };

function timeKindOf(element: SchemaElement): TimeKind | undefined {
  const lt = element.logical_type;
  const ct = element.converted_type;
  if (element.type === 'INT64') {
    if (lt?.type === 'TIMESTAMP') {
      const [perSecond, digits] = lt.unit === 'MILLIS' ? [1e3, 3] : lt.unit === 'MICROS' ? [1e6, 6] : [1e9, 9];
      return { kind: 'time', perSecond, digits, utc: lt.isAdjustedToUTC };
    }
    // Legacy TIMESTAMP_MILLIS/MICROS are UTC by the format's definition.
    if (ct === 'TIMESTAMP_MILLIS') return { kind: 'time', perSecond: 1e3, digits: 3, utc: true };
    if (ct === 'TIMESTAMP_MICROS') return { kind: 'time', perSecond: 1e6, digits: 6, utc: true };
  }
  if (element.type === 'INT32' && (lt?.type === 'DATE' || ct === 'DATE')) return { kind: 'date' };
  return undefined;
}

// The needed columns: their place in each row group and how to decode them.
function plan(meta: FileMetaData, ctx: ReadContext): { header: string[]; needs: (ColumnNeed & { index: number })[]; columns: (ColumnPlan | undefined)[] } {
  const tree = parquetSchema(meta);
  const names = tree.children.map((c) => c.element.name);
  // Every needed name must be a column (did-you-mean against the file's columns), as for a CSV header.
  resolveColumns(names, ctx.needs, ctx.file, undefined, 'the file');
  // The chunk's header: the needed columns in file order (rejected rows show what was read).
  const header = names.filter((n) => ctx.needs.some((need) => need.name === n));
  const needs = ctx.needs.map((n) => ({ ...n, index: header.indexOf(n.name) }));
  const first = meta.row_groups[0];
  const columns = header.map((name): ColumnPlan | undefined => {
    const node = tree.children.find((c) => c.element.name === name) as SchemaTree;
    if (node.children.length > 0 || node.element.repetition_type === 'REPEATED') {
      throw new SbError('INPUT_FAILED', `column '${name}' is a nested Parquet column (struct, list or map); serve-batch reads flat columns: flatten it before scoring, or leave it out of features and passthrough`, { file: ctx.file });
    }
    if (!first) return undefined;
    const chunkIndex = first.columns.findIndex((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name);
    if (chunkIndex === -1) throw new SbError('INPUT_FAILED', `column '${name}' has no data in the file's first row group`, { file: ctx.file });
    const meta0 = first.columns[chunkIndex].meta_data;
    if (!meta0) throw new SbError('INPUT_FAILED', `column '${name}' has no column metadata`, { file: ctx.file });
    const schemaPath = [tree, node];
    return {
      chunkIndex,
      decoder: {
        pathInSchema: [name],
        type: node.element.type ?? meta0.type,
        element: node.element,
        schemaPath,
        codec: meta0.codec,
        parsers: parsersFor(node.element),
        compressors: COMPRESSORS,
        utf8: true,
      },
      time: timeKindOf(node.element),
    };
  });
  return { header, needs, columns };
}

// For the types left to hyparquet's convert(): INT96 timestamps as ISO text without a zone (as pandas
// reads them), JSON as its text; the rest as hyparquet decodes them.
function parsersFor(_element: SchemaElement): ParquetParsers {
  const bigIso = (v: bigint, per: bigint, digits: number) => {
    let seconds = v / per;
    let fraction = v % per;
    if (fraction < 0n) {
      fraction += per;
      seconds -= 1n;
    }
    return isoText(Number(seconds), Number(fraction), digits, false);
  };
  return {
    ...DEFAULT_PARSERS,
    timestampFromMilliseconds: (v: bigint) => bigIso(BigInt(v), 1000n, 3),
    timestampFromMicroseconds: (v: bigint) => bigIso(BigInt(v), 1000000n, 6),
    timestampFromNanoseconds: (v: bigint) => bigIso(BigInt(v), 1000000000n, 9),
    dateFromDays: (days: number) => dateText(days),
    jsonFromBytes: (b: Uint8Array) => (b ? Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('utf8') : b),
  };
}

// Value v of a timestamp store as text (kept in `texts` when given).
function timeText(store: Extract<Store, { kind: 'time' }>, v: number, texts: string[] | undefined): string {
  const hi = store.words[2 * v + 1];
  const n = hi * 4294967296 + (store.words[2 * v] >>> 0);
  let t: string;
  if (Number.isSafeInteger(n)) {
    const seconds = Math.floor(n / store.perSecond);
    t = isoText(seconds, n - seconds * store.perSecond, store.digits, store.utc);
  } else {
    const big = store.values[v];
    const per = BigInt(store.perSecond);
    let seconds = big / per;
    let fraction = big % per;
    if (fraction < 0n) {
      fraction += per;
      seconds -= 1n;
    }
    t = isoText(Number(seconds), Number(fraction), store.digits, store.utc);
  }
  if (texts) texts[v] = t;
  return t;
}

let lastDay = NaN;
let lastDate = '';

// `2001-01-14T21:55:00` from whole seconds since 1970 and a fraction in units of 10^-digits s (shown only
// when not zero), with `Z` when the file says the time is UTC.
export function isoText(seconds: number, fraction: number, digits: number, utc: boolean): string {
  const day = Math.floor(seconds / 86400);
  if (day !== lastDay) {
    lastDate = dateText(day);
    lastDay = day;
  }
  const s = seconds - day * 86400;
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s - hh * 3600) / 60);
  const ss = s - hh * 3600 - mm * 60;
  const frac = fraction === 0 ? '' : `.${String(fraction).padStart(digits, '0')}`;
  return `${lastDate}T${hh < 10 ? '0' : ''}${hh}:${mm < 10 ? '0' : ''}${mm}:${ss < 10 ? '0' : ''}${ss}${frac}${utc ? 'Z' : ''}`;
}

// `2001-01-14` from days since 1970 (outside the years Date can show: the number of days).
export function dateText(days: number): string {
  const ms = days * 86400000;
  if (!(Math.abs(ms) <= 8.64e15)) return String(days);
  const iso = new Date(ms).toISOString();
  return iso.slice(0, iso.indexOf('T'));
}

type Store =
  | { kind: 'float'; values: Float32Array | Float64Array }
  | { kind: 'int'; values: Int32Array | Uint32Array | Uint16Array | Int16Array | Int8Array | Uint8Array }
  | { kind: 'int64'; values: BigInt64Array | BigUint64Array; words: Int32Array; unsigned: boolean }
  | { kind: 'any'; values: unknown[]; parsed?: { value: Float64Array; status: Uint8Array } }
  | { kind: 'time'; values: BigInt64Array; words: Int32Array; perSecond: number; digits: number; utc: boolean; texts?: string[] }
  | { kind: 'date'; values: Int32Array; texts?: string[] };

const UNPARSED = 255;

// Decoded values of a data page or a dictionary, by how they are read.
function storeOf(values: DecodedArray): Store {
  if (values instanceof Float64Array || values instanceof Float32Array) return { kind: 'float', values };
  if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    return { kind: 'int64', values, words: new Int32Array(values.buffer, values.byteOffset, values.length * 2), unsigned: values instanceof BigUint64Array };
  }
  if (ArrayBuffer.isView(values)) return { kind: 'int', values: values as Exclude<typeof values, BigInt64Array | BigUint64Array | Float32Array | Float64Array | unknown[]> };
  return { kind: 'any', values: values as unknown[] };
}

interface Page {
  /** Rows in the page, and the next one to read. */
  rows: number;
  row: number;
  /** Definition level per row (empty: no nulls), and the level of a present value. */
  defs: ArrayLike<number> | undefined;
  maxDef: number;
  /** Next value (values hold only the non-null rows). */
  value: number;
  /** Dictionary indices per value, when dictionary-encoded. */
  index?: ArrayLike<number>;
  store: Store;
}

// One column of one row group, read page by page.
class ColumnCursor {
  private pos: number;
  private readonly end: number;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;
  private page?: Page;
  private dictionary?: Store;
  private rowsLeft: number;
  private readonly maxDef: number;

  constructor(
    private readonly bytes: ParquetBytes,
    meta: { dictionary_page_offset?: bigint; data_page_offset: bigint; total_compressed_size: bigint; codec: CompressionCodec } | undefined,
    private readonly decoder: ColumnDecoder,
    private readonly time: TimeKind | undefined,
    groupRows: number,
    private readonly file: string,
    private readonly group: number,
  ) {
    if (!meta) throw new SbError('INPUT_FAILED', `column '${decoder.pathInSchema[0]}' has no column metadata in row group ${group}`, { file });
    this.pos = Number(meta.dictionary_page_offset || meta.data_page_offset);
    this.end = this.pos + Number(meta.total_compressed_size);
    this.decoder = { ...decoder, codec: meta.codec };
    this.rowsLeft = groupRows;
    this.maxDef = getMaxDefinitionLevel(decoder.schemaPath);
  }

  /** File offset reached. */
  get position(): number {
    return this.pos;
  }

  // Write the next n rows of this column into field f of `rows` (rows 0..n-1).
  async fill(rows: ChunkBuilder, f: number, n: number): Promise<void> {
    let i = 0;
    while (i < n) {
      let page = this.page;
      if (!page || page.row >= page.rows) page = await this.nextPage();
      const k = Math.min(n - i, page.rows - page.row);
      try {
        writeRows(page, rows, f, i, k);
      } catch (err) {
        throw this.decodeError(err);
      }
      i += k;
    }
  }

  private async nextPage(): Promise<Page> {
    for (;;) {
      if (this.pos >= this.end || this.rowsLeft <= 0) throw this.decodeError(new Error('the column chunk ends before its rows do'));
      const { header, dataStart } = await this.header();
      const size = header.compressed_page_size;
      const body = await this.bytesAt(dataStart, size);
      this.pos = dataStart + size;
      try {
        if (header.type === 'DICTIONARY_PAGE') {
          const dph = header.dictionary_page_header;
          if (!dph) throw new Error('dictionary page header is missing');
          const raw = decompressPage(body, header.uncompressed_page_size, this.decoder.codec, this.decoder.compressors);
          const plain = readPlain({ view: new DataView(raw.buffer, raw.byteOffset, raw.byteLength), offset: 0 }, this.decoder.type, dph.num_values, this.decoder.element.type_length);
          this.dictionary = this.store(plain);
          continue;
        }
        if (header.type === 'DATA_PAGE') {
          const daph = header.data_page_header;
          if (!daph) throw new Error('data page header is missing');
          const raw = decompressPage(body, header.uncompressed_page_size, this.decoder.codec, this.decoder.compressors);
          const { definitionLevels, dataPage } = readDataPage(raw, daph, this.decoder);
          return this.setPage(daph.num_values, definitionLevels, dataPage, daph.encoding);
        }
        if (header.type === 'DATA_PAGE_V2') {
          const daph2 = header.data_page_header_v2;
          if (!daph2) throw new Error('data page header is missing');
          const { definitionLevels, dataPage } = readDataPageV2(body, header, this.decoder);
          return this.setPage(daph2.num_rows, definitionLevels, dataPage, daph2.encoding);
        }
        // INDEX_PAGE and unknown page types carry no rows.
      } catch (err) {
        throw this.decodeError(err);
      }
    }
  }

  private setPage(rows: number, defs: number[] | undefined, data: DecodedArray, encoding: string): Page {
    let store: Store;
    let index: ArrayLike<number> | undefined;
    if (encoding === 'PLAIN_DICTIONARY' || encoding === 'RLE_DICTIONARY') {
      if (!this.dictionary) throw new Error('a dictionary-encoded page without a dictionary');
      store = this.dictionary;
      index = data as ArrayLike<number>;
    } else {
      store = this.store(data);
    }
    this.rowsLeft -= rows;
    this.page = { rows, row: 0, defs: defs && defs.length > 0 ? defs : undefined, maxDef: this.maxDef, value: 0, index, store };
    return this.page;
  }

  // Decoded values as a store: timestamps and dates kept raw (texts made when read), the rest converted.
  private store(data: DecodedArray): Store {
    const t = this.time;
    if (t?.kind === 'time' && data instanceof BigInt64Array) return { ...t, values: data, words: new Int32Array(data.buffer, data.byteOffset, data.length * 2) };
    if (t?.kind === 'date' && data instanceof Int32Array) return { kind: 'date', values: data };
    return storeOf(convert(data, this.decoder));
  }

  // Parse the page header at `pos`, widening the window until it holds the whole header.
  private async header(): Promise<{ header: ReturnType<typeof parquetHeader>; dataStart: number }> {
    let want = Math.min(64 * 1024, this.end - this.pos);
    for (;;) {
      const buf = await this.bytesAt(this.pos, want);
      try {
        const reader = { view: new DataView(buf.buffer, buf.byteOffset, buf.byteLength), offset: 0 };
        const header = parquetHeader(reader);
        if (reader.offset > buf.length) throw new RangeError('header beyond the window');
        return { header, dataStart: this.pos + reader.offset };
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

  private decodeError(err: unknown): SbError {
    if (err instanceof SbError) return err;
    return new SbError('INPUT_FAILED', `cannot decode column '${this.decoder.pathInSchema[0]}' in row group ${this.group + 1}: ${cleanMessage(err)}`, { file: this.file });
  }
}

const cellParse = { status: 0 as CellStatus };

// Rows [page.row, page.row + k) of a page into rows i..i+k-1 of field f.
function writeRows(page: Page, rows: ChunkBuilder, f: number, i: number, k: number): void {
  const { defs, maxDef, index, store } = page;
  const num = rows.numberAt[f];
  if (num && !rows.textAt[f] && (store.kind === 'float' || store.kind === 'int' || store.kind === 'int64')) {
    numbersOnly(page, num.values, num.status, i, k);
    return;
  }
  for (let r = 0; r < k; r++, page.row++) {
    if (defs && defs[page.row] !== maxDef) {
      rows.missing(f, i + r);
      continue;
    }
    const v = index ? index[page.value++] : page.value++;
    switch (store.kind) {
      case 'float':
        rows.number(f, i + r, store.values[v]);
        break;
      case 'int':
        rows.number(f, i + r, store.values[v]);
        break;
      case 'int64': {
        const lo = store.words[2 * v] >>> 0;
        const hi = store.words[2 * v + 1];
        const n = (store.unsigned ? hi >>> 0 : hi) * 4294967296 + lo;
        const values = store.values;
        rows.integer(f, i + r, n, () => String(values[v]));
        break;
      }
      case 'time': {
        // Dictionary entries are formatted once.
        const texts = index ? (store.texts ??= new Array<string>(store.values.length)) : undefined;
        rows.other(f, i + r, texts?.[v] ?? timeText(store, v, texts));
        break;
      }
      case 'date': {
        const texts = index ? (store.texts ??= new Array<string>(store.values.length)) : undefined;
        let t = texts?.[v];
        if (t === undefined) {
          t = dateText(store.values[v]);
          if (texts) texts[v] = t;
        }
        rows.other(f, i + r, t);
        break;
      }
      default: {
        const x = store.values[v];
        if (typeof x === 'string' && index && rows.needsNumber(f)) {
          // A dictionary string is parsed once, not once per row.
          store.parsed ??= { value: new Float64Array(store.values.length), status: new Uint8Array(store.values.length).fill(UNPARSED) };
          if (store.parsed.status[v] === UNPARSED) {
            store.parsed.value[v] = parseNumberCell(x, cellParse);
            store.parsed.status[v] = cellParse.status;
          }
          rows.textParsed(f, i + r, x, store.parsed.value[v], store.parsed.status[v] as CellStatus);
        } else rows.value(f, i + r, x);
      }
    }
  }
}

// The common case, a numeric column read only as numbers: straight into the typed columns.
function numbersOnly(page: Page, out: Float64Array, status: Uint8Array, i: number, k: number): void {
  const { defs, maxDef, index, store } = page;
  const end = i + k;
  if (store.kind === 'int64') {
    const { words, unsigned } = store;
    for (let o = i; o < end; o++, page.row++) {
      if (defs && defs[page.row] !== maxDef) {
        out[o] = NaN;
        status[o] = MISSING;
        continue;
      }
      const v = index ? index[page.value++] : page.value++;
      const hi = words[2 * v + 1];
      out[o] = (unsigned ? hi >>> 0 : hi) * 4294967296 + (words[2 * v] >>> 0);
      status[o] = OK;
    }
    return;
  }
  const values = (store as { values: ArrayLike<number> }).values;
  for (let o = i; o < end; o++, page.row++) {
    if (defs && defs[page.row] !== maxDef) {
      out[o] = NaN;
      status[o] = MISSING;
      continue;
    }
    const x = values[index ? index[page.value++] : page.value++];
    out[o] = x;
    status[o] = x === x ? OK : MISSING;
  }
}

// Any failure as one line: hyparquet's messages start with "parquet ".
function cleanMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  return m.replace(/^parquet /, '');
}

function asInputError(err: unknown, file: string): unknown {
  if (err instanceof SbError) return err;
  return new SbError('INPUT_FAILED', `cannot read the Parquet file: ${cleanMessage(err)}`, { file });
}
