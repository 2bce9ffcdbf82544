// What hyparquet's internals buy (src/io/parquet/hyparquet.ts): flights-3m.parquet read into the same chunks
// three ways, each in a fresh process (peak RSS is the process's own), one thread, no model:
//
// - internals: serve-batch's reader (io/parquet/read.ts), one page at a time straight into typed columns;
// - parquetRead: hyparquet's documented row reader, one row group at a time (rowStart/rowEnd), its columns
//   (onChunk) put into chunks by the builder's generic setter (as the differential test's reference does);
// - parquetScan: hyparquet's documented column scan, readColumn per row group and column, the same way.
//
// The public-API readers get the same decompressors and the same timestamp-as-text parsers, so every case
// yields the same cells (the digest column shows it). Two column sets: the Parquet bench's features (delay,
// distance: int64, read as numbers) and those plus a timestamp and a string read as text.
//
//   npm run bench:parquet-api            (also part of `npm run bench`, after bench/parquet.ts)
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetMetadataAsync, parquetRead, parquetScan, type AsyncBuffer } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetFile, readParquet, type ParquetBytes } from '../src/io/parquet/index.js';
import { textParsers } from '../src/io/parquet/time.js';
import { ChunkBuilder, StoragePool } from '../src/table/builder.js';
import type { ColumnNeed, SourceChunk } from '../src/table/chunk.js';

const FLIGHTS = path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data/flights-3m.parquet');
const BATCH = 8192;
const WAYS = ['internals', 'parquetRead', 'parquetScan'] as const;
type Way = (typeof WAYS)[number];

const SETS: { name: string; needs: ColumnNeed[] }[] = [
  {
    name: '2 int64 as numbers',
    needs: [
      { name: 'delay', number: true, text: false },
      { name: 'distance', number: true, text: false },
    ],
  },
  {
    name: '+ timestamp, string as text',
    needs: [
      { name: 'delay', number: true, text: false },
      { name: 'distance', number: true, text: false },
      { name: 'date', number: false, text: true },
      { name: 'origin', number: false, text: true },
    ],
  },
];

export interface ParquetApiCase {
  set: string;
  way: Way;
  rows: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMb: number;
  /** sha256 of every cell read (equal across ways = the same chunks). */
  digest: string;
}

// Every case, each in a child process.
export function benchParquetApi(): ParquetApiCase[] {
  const self = fileURLToPath(import.meta.url);
  const cases: ParquetApiCase[] = [];
  for (const [s, set] of SETS.entries()) {
    for (const way of WAYS) {
      const r = spawnSync(process.execPath, [self, '--case', way, String(s)], { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (r.status !== 0) throw new Error(`parquet-api case ${way} failed (exit ${r.status}): ${r.stderr}`);
      cases.push({ set: set.name, way, ...(JSON.parse(r.stdout) as Omit<ParquetApiCase, 'set' | 'way'>) });
    }
  }
  return cases;
}

// A table for the terminal: each public-API way against the internals.
export function formatParquetApi(cases: ParquetApiCase[]): string {
  const lines = ['flights-3m.parquet read into chunks (no model, one thread): hyparquet internals vs its public API'];
  for (const c of cases) {
    const base = cases.find((b) => b.set === c.set && b.way === 'internals') as ParquetApiCase;
    const ratio = c.way === 'internals' ? '' : `  (${(c.cpuSeconds / base.cpuSeconds).toFixed(1)}× cpu, ${(c.peakRssMb / base.peakRssMb).toFixed(1)}× peak)`;
    lines.push(`  ${c.set.padEnd(28)} ${c.way.padEnd(12)} ${c.seconds.toFixed(2).padStart(6)} s  cpu ${c.cpuSeconds.toFixed(2).padStart(6)} s  peak RSS ${String(c.peakRssMb).padStart(4)} MB  cells ${c.digest.slice(0, 12)}${ratio}`);
  }
  return lines.join('\n');
}

// One case, in this process.
async function runCase(way: Way, needs: ColumnNeed[]): Promise<Omit<ParquetApiCase, 'set' | 'way'>> {
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const hash = createHash('sha256');
  let rows = 0;
  const ctx = { file: 'flights-3m.parquet', needs, batchSize: BATCH };
  const chunks = way === 'internals' ? readParquet(await parquetFile(FLIGHTS, ctx.file), ctx).chunks : publicChunks(await parquetFile(FLIGHTS, ctx.file), needs, way);
  for await (const c of chunks) {
    rows += c.rows;
    digest(hash, c, needs);
    c.release?.();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    rows,
    seconds: round(Number(process.hrtime.bigint() - started) / 1e9),
    cpuSeconds: round((cpu.user + cpu.system) / 1e6),
    peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
    digest: hash.digest('hex'),
  };
}

// Chunks through hyparquet's public API: row group by row group, the group's columns decoded whole, then
// cut into chunks by the builder's generic setter.
async function* publicChunks(bytes: ParquetBytes, needs: ColumnNeed[], way: Way): AsyncGenerator<SourceChunk> {
  const file: AsyncBuffer = {
    byteLength: bytes.size,
    slice: async (start, end = bytes.size) => {
      const b = await bytes.read(start, end - start);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
  };
  const metadata = await parquetMetadataAsync(file);
  const names = metadata.schema.slice(1).map((e) => e.name);
  const header = names.filter((n) => needs.some((need) => need.name === n));
  const indexed = needs.map((n) => ({ ...n, index: header.indexOf(n.name) }));
  const options = { file, metadata, columns: header, compressors, parsers: textParsers() };
  const scan = way === 'parquetScan' ? await parquetScan(options) : undefined;
  const pool = new StoragePool();
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    const rowEnd = groupStart + groupRows;
    const data = new Map<string, ArrayLike<unknown>>();
    if (scan) {
      for (const name of header) data.set(name, await scan.readColumn({ column: name, rowStart: groupStart, rowEnd }));
    } else {
      await parquetRead({ ...options, rowStart: groupStart, rowEnd, onChunk: (c) => data.set(c.columnName, c.columnData) });
    }
    const columns = header.map((name) => data.get(name) as ArrayLike<unknown>);
    for (let done = 0; done < groupRows; done += BATCH) {
      const n = Math.min(BATCH, groupRows - done);
      const rows = new ChunkBuilder(header, indexed, n, { pool });
      for (let f = 0; f < columns.length; f++) for (let i = 0; i < n; i++) rows.value(f, i, columns[f][done + i]);
      for (let i = 0; i < n; i++) rows.accept(groupStart + done + i + 1);
      yield rows.build();
    }
    groupStart = rowEnd;
  }
  await bytes.close();
}

// Every cell of a chunk into the hash: numbers with their status, texts as their bytes.
function digest(hash: ReturnType<typeof createHash>, c: SourceChunk, needs: ColumnNeed[]): void {
  for (const need of needs) {
    const num = c.numbers.get(need.name);
    if (num) hash.update(num.values).update(num.status);
    const packed = c.packed.get(need.name);
    if (packed) hash.update(packed.bytes).update(packed.offsets);
  }
  hash.update(c.lines);
}

function round(x: number): number {
  return Number(x.toFixed(2));
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--case');
  if (at !== -1) {
    process.stdout.write(JSON.stringify(await runCase(process.argv[at + 1] as Way, SETS[Number(process.argv[at + 2])].needs)));
  } else {
    process.stdout.write(`${formatParquetApi(benchParquetApi())}\n`);
  }
}
