// The only module that imports hyparquet's internals (hyparquet/src/*.js): page headers, page decompression,
// data and dictionary page decoding, value conversion and definition levels. The package exports them through
// its `./src/*.js` subpath but does not document them, so any release may change them: package.json pins
// hyparquet to the exact version this module was written against (test/io/parquet/hyparquet.test.ts fails
// when the installed one differs; hyparquet-writer 0.17.0 pins the same version). Why not the public API:
// parquetRead and parquetScan decode a row group's columns whole, an optional int64 column as one BigInt per
// value, where serve-batch decodes one page at a time straight into typed columns. Reading flights-3m into the
// same chunks (bench/parquet-api.ts, busy 2-core machine, two runs): its two int64 columns as numbers took
// 0.71-0.72 s CPU and 109-112 MB peak RSS here, 1.58-1.61 s and 201-212 MB through parquetRead, 1.43-1.53 s
// and 185-210 MB through parquetScan; with a timestamp and a string as text too, 1.60-1.71 s here against
// 2.86-3.07 s through either.
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';
import { getMaxDefinitionLevel } from 'hyparquet/src/schema.js';
import type { ColumnDecoder } from 'hyparquet/src/types.js';
import type { DecodedArray, PageHeader } from 'hyparquet';

export type { ColumnDecoder };
export { DEFAULT_PARSERS, getMaxDefinitionLevel as maxDefinitionLevel };

/** A data page, decoded: values hold only the non-null rows (or dictionary indices). */
export interface DataPage {
  rows: number;
  /** Definition level per row; empty when the column has no nulls. */
  defs: number[] | undefined;
  values: DecodedArray;
  encoding: string;
}

// The page header at the start of `bytes` and its length; a RangeError when `bytes` ends inside it.
export function pageHeader(bytes: Uint8Array): { header: PageHeader; length: number } {
  const reader = { view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset: 0 };
  const header = parquetHeader(reader);
  if (reader.offset > bytes.length) throw new RangeError('header beyond the window');
  return { header, length: reader.offset };
}

// The values of a dictionary page (PLAIN-encoded, as the format requires), not yet converted.
export function dictionaryValues(body: Uint8Array, header: PageHeader, decoder: ColumnDecoder): DecodedArray {
  const dph = header.dictionary_page_header;
  if (!dph) throw new Error('dictionary page header is missing');
  const raw = decompressPage(body, header.uncompressed_page_size, decoder.codec, decoder.compressors);
  return readPlain({ view: new DataView(raw.buffer, raw.byteOffset, raw.byteLength), offset: 0 }, decoder.type, dph.num_values, decoder.element.type_length);
}

// A DATA_PAGE or DATA_PAGE_V2, decoded (values not yet converted); undefined for pages that carry no rows.
export function dataPage(body: Uint8Array, header: PageHeader, decoder: ColumnDecoder): DataPage | undefined {
  if (header.type === 'DATA_PAGE') {
    const daph = header.data_page_header;
    if (!daph) throw new Error('data page header is missing');
    const raw = decompressPage(body, header.uncompressed_page_size, decoder.codec, decoder.compressors);
    const { definitionLevels, dataPage: values } = readDataPage(raw, daph, decoder);
    return { rows: daph.num_values, defs: definitionLevels, values, encoding: daph.encoding };
  }
  if (header.type === 'DATA_PAGE_V2') {
    const daph2 = header.data_page_header_v2;
    if (!daph2) throw new Error('data page header is missing');
    const { definitionLevels, dataPage: values } = readDataPageV2(body, header, decoder);
    return { rows: daph2.num_rows, defs: definitionLevels, values, encoding: daph2.encoding };
  }
  return undefined;
}

// Physical values as the column's logical type says (strings, decimals, unsigned, …), by the decoder's parsers.
export function convertValues(values: DecodedArray, decoder: ColumnDecoder): DecodedArray {
  return convert(values, decoder);
}
