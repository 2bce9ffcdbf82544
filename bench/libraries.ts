// Why CSV reading, result writing and number formatting have hand-written fast paths: the libraries alone
// against those paths, on the bench's own data, one thread each.
//
// - reading: csv-parse alone (records of strings, nothing else) and serve-batch's reference reader (csv-parse +
//   featurize) against the fast reader (bytes → float32 tensors), all over the same file;
// - writing: 1M four-column result rows (id, label, two probabilities) through the reference writer
//   (csv-stringify) and through the byte writer;
// - formatting one float: `toPrecision` (the reference meaning) against floatDigits;
// - JSON Lines: the same rows as a JSON Lines file, read to the same float32 tensors by serve-batch's reader
//   (json-line.ts's parser) and by readers on libraries: its line reader with JSON.parse or lossless-json per
//   line, and stream-chain's JSONL stream (JSON.parse per line). Only lossless-json keeps a number's text as
//   json-line.ts does (`1.50`, 20-digit ids), and it costs 2.8× the CPU with that meaning and 1.5× even with
//   plain numbers (11.1 s, 31.0 s, 16.9 s of CPU on 1M rows, quiet 2-core machine), so the hand-written parser
//   stays; JSON.parse (5.7 s) and stream-chain (7.0 s) are faster but lose the texts.
// Each fast path is proven equal to its reference by the test suite; only speed is measured here.
// `npm run bench:libraries` runs this part alone.
import { createReadStream, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse';
import { parse as parseLossless } from 'lossless-json';
import parserStream from 'stream-chain/jsonl/parserStream.js';
import type { ByteSink } from '../src/storage/sink.js';
import { openSource } from '../src/storage/source.js';
import { csvWriter } from '../src/io/csv-writer.js';
import { formatFloat, formatFloatReference } from '../src/io/format.js';
import { inputBlocks } from '../src/io/input-blocks.js';
import { JsonNumber, parseJson } from '../src/io/json-line.js';
import { readJsonl, type LineParser } from '../src/io/jsonl-reader.js';
import type { ResultChunk } from '../src/table/result.js';
import { ChunkBuilder, StoragePool } from '../src/table/builder.js';
import type { SourceChunk } from '../src/table/chunk.js';
import { packTexts } from '../src/table/packed.js';
import { featurize, FeedPool } from '../src/pipeline/featurize.js';
import type { RunPlan } from '../src/pipeline/plan.js';
import { prepareHere } from '../src/pipeline/prepare.js';
import { FEATURES, ensureJsonl, ensureRows } from './data.js';
import { cpuOf } from './measure.js';
import { uniform } from './random.js';

export interface LibraryFigures {
  csvParseAlone: number;
  readerReference: number;
  writerReference: number;
  writerFast: number;
  /** nanoseconds per value */
  toPrecisionNs: number;
  floatDigitsNs: number;
  jsonl: JsonlFigures;
}

const NEEDS = [{ name: 'id', number: false, text: true }, ...Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, number: true, text: false }))];
/** The bench's plan: f0..f29 into one float32 tensor [N, 30], id passed through. */
const PLAN = {
  needs: NEEDS,
  tensors: [{ input: 'input', type: 'float32' as const, columns: NEEDS.slice(1).map((n) => ({ name: n.name, missing: { kind: 'reject' as const } })), rank: 2 as const }],
  passthrough: ['id'],
};
const CSV = { delimiter: ',', quote: '"', header: true, encoding: 'utf8' as const, relaxQuotes: false };

/** Parse + featurize one CSV of the bench's shape (id, f0..f29) in this thread; `fast: false` = csv-parse. */
export async function readAll(file: string, fast: boolean, onChunk?: (feed: Float32Array) => void): Promise<{ wall: number; cpu: number }> {
  const m = await cpuOf(async () => {
    const p = prepareHere({ file, display: file, format: 'csv', csv: { ...CSV, fastPath: fast }, plan: PLAN, batchSize: 8192 });
    for await (const c of p.chunks) onChunk?.(c.feeds[0].data as Float32Array);
  });
  return { wall: m.wall, cpu: m.cpu };
}

// csv-parse's stream API as its documentation shows it ('readable' + read()), counting records.
async function csvParseAlone(file: string): Promise<number> {
  const m = await cpuOf(
    () =>
      new Promise<number>((resolve, reject) => {
        let records = 0;
        const parser = parse();
        parser.on('readable', () => {
          while (parser.read() !== null) records++;
        });
        parser.on('error', reject);
        parser.on('end', () => resolve(records));
        createReadStream(file).pipe(parser);
      }),
  );
  return m.wall;
}

// Result chunks of 8192 rows shaped like a classifier's: id text, int64 label, float32 probabilities [N, 2].
function resultChunks(rows: number): ResultChunk[] {
  const rnd = uniform(7);
  const chunks: ResultChunk[] = [];
  for (let done = 0; done < rows; done += 8192) {
    const n = Math.min(8192, rows - done);
    const ids = Array.from({ length: n }, (_, i) => `id${done + i}`);
    const label = new BigInt64Array(n);
    const p = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      p[2 * i] = rnd();
      p[2 * i + 1] = 1 - p[2 * i];
      label[i] = p[2 * i] > 0.5 ? 0n : 1n;
    }
    chunks.push({
      rows: n,
      columns: [
        { name: 'id', kind: 'packed', values: packTexts(ids) }, // passthrough as a run carries it
        { name: 'label', kind: 'int', values: label, stride: 1, offset: 0 },
        { name: 'probabilities_0', kind: 'float', values: p, stride: 2, offset: 0 },
        { name: 'probabilities_1', kind: 'float', values: p, stride: 2, offset: 1 },
      ],
    });
  }
  return chunks;
}

// A sink that keeps nothing: the writers' own cost, without the disk.
function nullSink(): ByteSink {
  let bytes = 0;
  return {
    target: 'null',
    streamed: false,
    async write(d) {
      bytes += d.length;
    },
    async commit() {},
    async abort() {},
    async mark() {
      return bytes;
    },
    async rollback() {
      return false;
    },
  };
}

async function writeAll(chunks: ResultChunk[], fast: boolean): Promise<number> {
  const m = await cpuOf(async () => {
    const w = csvWriter(nullSink(), { delimiter: ',', floatPrecision: 6, names: () => chunks[0].columns.map((c) => c.name), fast });
    for (const c of chunks) await w.write(c);
    await w.commit();
  });
  return m.wall;
}

function perValue(format: (x: number, p: number) => string, values: Float32Array): number {
  let keep = 0;
  const t0 = performance.now();
  for (let i = 0; i < values.length; i++) keep += format(values[i], 6).length;
  const ns = ((performance.now() - t0) * 1e6) / values.length;
  if (keep === 0) throw new Error('nothing formatted');
  return ns;
}

/** One JSON Lines reader, read to the end of the file once. */
export interface JsonlCase {
  name: string;
  /** Whether a number's text reaches the row as written (`1.50`, 20-digit ids), as parseJson keeps it. */
  texts: boolean;
  wall: number;
  cpu: number;
}

export interface JsonlFigures {
  file: string;
  bytes: number;
  rows: number;
  cases: JsonlCase[];
}

/** What a reader made: rows fed to the tensors and the sum of every tensor value, to prove the readers agree. */
interface Fed {
  rows: number;
  sum: number;
}

function fedTo(fed: Fed, data: Float32Array, rows: number): void {
  fed.rows += rows;
  for (let i = 0; i < data.length; i++) fed.sum += data[i];
}

// serve-batch's reader as a run uses it (prepareHere, format jsonl): bytes → json-line.ts → chunks → tensors.
async function jsonlHere(file: string, fed: Fed): Promise<void> {
  const p = prepareHere({ file, display: file, format: 'jsonl', csv: CSV, plan: PLAN, batchSize: 8192 });
  for await (const c of p.chunks) fedTo(fed, c.feeds[0].data as Float32Array, c.rows);
}

// The chunk's tensors, as prepareHere makes them.
function featurized(chunk: SourceChunk, pool: FeedPool, fed: Fed): void {
  const f = featurize(chunk, PLAN as RunPlan, pool);
  fedTo(fed, f.feeds[0].data as Float32Array, f.rows);
  chunk.release?.();
}

// serve-batch's JSON Lines reader (lines, BOM, UTF-8 checks, key lookup, chunks) with `parse` for each line.
async function jsonlWith(file: string, parse: LineParser, fed: Fed): Promise<void> {
  const pool = new FeedPool();
  const blocks = inputBlocks(openSource(file, file)).blocks;
  for await (const chunk of readJsonl(blocks, { file, needs: NEEDS, batchSize: 8192 }, undefined, parse)) featurized(chunk, pool, fed);
}

// stream-chain's JSONL parser stream (stream-json's jsonl/Parser is now a re-export of it): its own line
// splitting and JSON.parse per line; its objects go into chunks as jsonl-reader.ts puts them (top-level keys).
async function jsonlStreamChain(file: string, fed: Fed): Promise<void> {
  const header = NEEDS.map((n) => n.name);
  const indexed = NEEDS.map((n, index) => ({ ...n, index }));
  const storage = new StoragePool();
  const pool = new FeedPool();
  let rows = new ChunkBuilder(header, indexed, 8192, { pool: storage });
  let line = 1;
  for await (const item of createReadStream(file).pipe(parserStream())) {
    const obj = (item as { value: Record<string, unknown> }).value;
    for (let f = 0; f < header.length; f++) rows.value(f, rows.rows, obj[header[f]]);
    rows.accept(line++);
    if (rows.full) {
      featurized(rows.build(), pool, fed);
      rows = new ChunkBuilder(header, indexed, 8192, { pool: storage });
    }
  }
  if (rows.rows > 0) featurized(rows.build(), pool, fed);
}

// A number as parseJson gives it: its value, with its text when String(value) would not give that back.
function keptNumber(text: string): number | JsonNumber {
  const value = Number(text);
  return String(value) === text ? value : new JsonNumber(value, text);
}

// lossless-json with parseJson's meaning: number texts kept as above, a repeated key's last value wins.
const losslessKept: LineParser = (text) => parseLossless(text, null, { parseNumber: keptNumber, onDuplicateKey: ({ newValue }) => newValue });
const losslessPlain: LineParser = (text) => parseLossless(text, null, { parseNumber: Number, onDuplicateKey: ({ newValue }) => newValue });

const JSONL_READERS: { name: string; texts: boolean; read: (file: string, fed: Fed) => Promise<void> }[] = [
  { name: 'serve-batch (prepareHere, jsonl: json-line.ts)', texts: true, read: jsonlHere },
  { name: 'jsonl-reader + parseJson (json-line.ts)', texts: true, read: (f, fed) => jsonlWith(f, parseJson, fed) },
  { name: 'jsonl-reader + JSON.parse', texts: false, read: (f, fed) => jsonlWith(f, (t) => JSON.parse(t), fed) },
  { name: 'jsonl-reader + lossless-json, numbers as parseJson keeps them', texts: true, read: (f, fed) => jsonlWith(f, losslessKept, fed) },
  { name: 'jsonl-reader + lossless-json, numbers as Number', texts: false, read: (f, fed) => jsonlWith(f, losslessPlain, fed) },
  { name: "stream-chain's JSONL parser (JSON.parse) → ChunkBuilder", texts: false, read: jsonlStreamChain },
];

// The bench's rows as JSON Lines (written next to the CSV once), read to float32 tensors by each reader in
// turn, one run each in this thread; every reader must feed the same rows and values.
export async function measureJsonl(csvFile: string, rows: number): Promise<JsonlFigures> {
  const file = csvFile.replace(/\.csv$/, '.jsonl');
  await ensureJsonl(csvFile, file);
  const cases: JsonlCase[] = [];
  let first: Fed | undefined;
  for (const r of JSONL_READERS) {
    const fed: Fed = { rows: 0, sum: 0 };
    const m = await cpuOf(() => r.read(file, fed));
    first ??= fed;
    if (fed.rows !== rows || fed.sum !== first.sum) throw new Error(`${r.name}: ${fed.rows} rows, sum ${fed.sum}; expected ${rows} rows, sum ${first.sum}`);
    cases.push({ name: r.name, texts: r.texts, wall: m.wall, cpu: m.cpu });
  }
  return { file, bytes: statSync(file).size, rows, cases };
}

// The JSON Lines figures as a table; ratios are CPU against the same reader with parseJson.
export function formatJsonl(j: JsonlFigures): string {
  const base = j.cases[1].cpu;
  const lines = [
    `JSON Lines readers: ${j.file} (${j.rows.toLocaleString('en-US')} rows, ${(j.bytes / 1e6).toFixed(0)} MB), bytes → the same float32 tensors [N, ${FEATURES}] (checked: same rows, same sum), one thread each, one run:`,
    'reader | number texts | wall | CPU | MB/s | rows/s | CPU ÷ parseJson',
    '---|---|---|---|---|---|---',
  ];
  for (const c of j.cases) {
    lines.push(`${c.name} | ${c.texts ? 'kept' : 'lost'} | ${c.wall.toFixed(2)} s | ${c.cpu.toFixed(2)} s | ${(j.bytes / 1e6 / c.wall).toFixed(0)} | ${((j.rows / c.wall) / 1000).toFixed(0)}k | ${(c.cpu / base).toFixed(2)}`);
  }
  return lines.join('\n');
}

export async function measureLibraries(file: string, rows: number): Promise<LibraryFigures> {
  const csvParse = await csvParseAlone(file);
  const reference = await readAll(file, false);
  const chunks = resultChunks(rows);
  const writerReference = await writeAll(chunks, false);
  const writerFast = await writeAll(chunks, true);
  const rnd = uniform(11);
  const values = Float32Array.from({ length: 1_000_000 }, () => rnd() * 10 - 5);
  perValue(formatFloat, values.subarray(0, 100_000)); // warm up both
  perValue(formatFloatReference, values.subarray(0, 100_000));
  return {
    csvParseAlone: csvParse,
    readerReference: reference.wall,
    writerReference,
    writerFast,
    toPrecisionNs: perValue(formatFloatReference, values),
    floatDigitsNs: perValue(formatFloat, values),
    jsonl: await measureJsonl(file, rows),
  };
}

// The figures as printed; `fast` is the fast CSV reader over the same `bytes` of CSV.
export function formatLibraries(l: LibraryFigures, fast: { wall: number }, bytes: number, rows: number): string {
  const f2 = (x: number) => x.toFixed(2);
  const mbs = (s: number) => `${(bytes / 1e6 / s).toFixed(0)} MB/s`;
  return [
    `why the fast paths (one thread, same data): csv-parse alone ${f2(l.csvParseAlone)} s (${mbs(l.csvParseAlone)}); reader on csv-parse (reference) ${f2(l.readerReference)} s (${mbs(l.readerReference)}); fast reader ${f2(fast.wall)} s (${mbs(fast.wall)})`,
    `  ${(rows / 1e6).toFixed(0)}M result rows × 4 columns: csv-stringify (reference) ${f2(l.writerReference)} s, byte writer ${f2(l.writerFast)} s; one float to 6 digits: toPrecision ${l.toPrecisionNs.toFixed(0)} ns, floatDigits ${l.floatDigitsNs.toFixed(0)} ns`,
    formatJsonl(l.jsonl),
  ].join('\n');
}

// `npm run bench:libraries [-- --rows N] [--jsonl]`: this part alone on the bench's cached data (.bench/);
// --jsonl: the JSON Lines readers only.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--rows');
  const rows = at === -1 ? 1_000_000 : Number(process.argv[at + 1]);
  const cache = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../.bench');
  mkdirSync(cache, { recursive: true });
  const data = path.join(cache, `rows-${rows}.csv`);
  await ensureRows(data, rows);
  if (process.argv.includes('--jsonl')) {
    process.stdout.write(`${formatJsonl(await measureJsonl(data, rows))}\n`);
  } else {
    const fast = await readAll(data, true);
    process.stdout.write(`${formatLibraries(await measureLibraries(data, rows), fast, statSync(data).size, rows)}\n`);
  }
}
