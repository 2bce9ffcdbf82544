// The header and first rows of a sample file, read with the same readers as `run`, for `init`: CSV/TSV,
// JSON Lines (the header is every key, nested ones as dotted paths, in the order first seen) or Parquet (its
// flat columns), gzipped text included.
import { parse } from 'csv-parse/sync';
import { open, stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { SbError } from '../errors.js';
import type { ColumnNeed, SourceChunk } from '../table/chunk.js';
import { readCsv } from './csv-reader.js';
import { delimiterOf, formatOf, formatProblem } from './formats.js';
import { JsonNumber, parseJson } from './json-line.js';
import { readJsonl } from './jsonl-reader.js';
import { openSource } from '../storage/source.js';
import { inputBlocks } from './input-blocks.js';

export interface Sample {
  header: string[];
  /** Up to `limit` rows with as many fields as the header. */
  rows: string[][];
}

// Read a sample file; throws SbError(INPUT_FAILED / PATH_NOT_FOUND) naming the file.
export async function readSample(file: string, limit = 1000): Promise<Sample> {
  const problem = formatProblem(file);
  if (problem) throw new SbError('USAGE', `${file}: ${problem}`);
  const format = formatOf(file);
  const delimiter = delimiterOf(format ?? 'csv');
  const options = { delimiter, quote: '"', header: true, encoding: 'utf8' as const, relaxQuotes: false };
  const s = await stat(file).catch(() => undefined);
  if (!s) throw new SbError('PATH_NOT_FOUND', `sample file not found: ${file}`);
  if (!s.isFile()) throw new SbError('USAGE', `${file} is not a file; give a sample of the data to score (CSV, TSV, JSON Lines or Parquet)`);
  if (format === 'parquet' || format === 'jsonl') {
    const parquet = format === 'parquet' ? await import('./parquet/index.js') : undefined; // loaded on first use
    const header = parquet ? await parquet.parquetColumns(await parquet.parquetFile(file, file), file) : await jsonKeys(file, limit);
    const needs: ColumnNeed[] = header.map((name) => ({ name, number: false, text: true }));
    const ctx = { file, needs, batchSize: limit, limit };
    const chunks = parquet ? parquet.readParquet(await parquet.parquetFile(file, file), ctx).chunks : readJsonl(inputBlocks(openSource(file, file)).blocks, ctx);
    return { header, rows: await recordsOf(chunks) };
  }
  const rows: string[][] = [];
  let header: string[] | undefined;
  for await (const chunk of readCsv(inputBlocks(openSource(file, file)).blocks, options, { file, needs: [], batchSize: limit, limit })) {
    header = chunk.header;
    for (let i = 0; i < chunk.rows; i++) rows.push(chunk.record(i));
  }
  // A file with a header line and no data rows yields no chunk: read its first record directly.
  header ??= await firstRecord(file, delimiter);
  return { header, rows };
}

// Every key of the first `limit` JSON objects (nested objects as dotted paths), in the order first seen.
async function jsonKeys(file: string, limit: number): Promise<string[]> {
  const keys = new Set<string>();
  const add = (obj: Record<string, unknown>, prefix: string, depth: number) => {
    for (const [k, v] of Object.entries(obj)) {
      // A number written as `1.0` or `1e3` comes as a JsonNumber (its value and its text): a value, not an object.
      if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof JsonNumber) && depth < 3) add(v as Record<string, unknown>, `${prefix}${k}.`, depth + 1);
      else keys.add(`${prefix}${k}`);
    }
  };
  let seen = 0;
  let carry = '';
  const decoder = new StringDecoder('utf8');
  for await (const block of inputBlocks(openSource(file, file)).blocks) {
    const lines = (carry + decoder.write(Buffer.from(block))).split('\n');
    carry = lines.pop() as string;
    for (const line of lines) {
      if (seen >= limit) return [...keys];
      try {
        const v = parseJson(line.replace(/^\uFEFF/, ''));
        if (v !== null && typeof v === 'object' && !Array.isArray(v)) add(v as Record<string, unknown>, '', 0);
      } catch {
        // Not JSON: run will reject that line; the sample just skips it.
      }
      if (line.trim() !== '') seen++;
    }
    if (seen >= limit) break;
  }
  if (carry.trim() !== '' && seen < limit) {
    try {
      const v = parseJson(carry);
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) add(v as Record<string, unknown>, '', 0);
    } catch {
      // as above
    }
  }
  if (keys.size === 0) throw new SbError('INPUT_FAILED', 'the sample has no JSON object with keys in its first lines', { file });
  return [...keys];
}

async function recordsOf(chunks: AsyncIterable<SourceChunk>): Promise<string[][]> {
  const rows: string[][] = [];
  for await (const chunk of chunks) for (let i = 0; i < chunk.rows; i++) rows.push(chunk.record(i));
  return rows;
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
