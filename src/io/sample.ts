// The header and first rows of a CSV/TSV file, read with the same reader as `run`, for `init`.
import { parse } from 'csv-parse/sync';
import { open, stat } from 'node:fs/promises';
import { SbError } from '../errors.js';
import { readCsv } from './csv-reader.js';
import { delimiterOf, formatOf } from './formats.js';
import { openSource } from './source.js';

export interface Sample {
  header: string[];
  /** Up to `limit` rows with as many fields as the header. */
  rows: string[][];
}

// Read a sample file; throws SbError(INPUT_FAILED / PATH_NOT_FOUND) naming the file.
export async function readSample(file: string, limit = 1000): Promise<Sample> {
  const delimiter = delimiterOf(formatOf(file) ?? 'csv');
  const options = { delimiter, quote: '"', header: true, encoding: 'utf8' as const, relaxQuotes: false };
  const s = await stat(file).catch(() => undefined);
  if (!s) throw new SbError('PATH_NOT_FOUND', `sample file not found: ${file}`);
  if (!s.isFile()) throw new SbError('USAGE', `${file} is not a file; give a CSV or TSV sample of the data to score`);
  const rows: string[][] = [];
  let header: string[] | undefined;
  for await (const chunk of readCsv(openSource(file, file).blocks, options, { file, needs: [], batchSize: limit, limit })) {
    header = chunk.header;
    for (let i = 0; i < chunk.rows; i++) rows.push(chunk.record(i));
  }
  // A file with a header line and no data rows yields no chunk: read its first record directly.
  header ??= await firstRecord(file, delimiter);
  return { header, rows };
}

async function firstRecord(file: string, delimiter: string): Promise<string[]> {
  const h = await open(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    const { bytesRead } = await h.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '');
    const [first] = parse(text, { delimiter, to_line: 1, relax_column_count: true, skip_empty_lines: true }) as string[][];
    if (!first) throw new SbError('INPUT_FAILED', 'the sample is empty: no header line', { file });
    return first;
  } finally {
    await h.close();
  }
}
