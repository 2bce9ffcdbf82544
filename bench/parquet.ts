// Parquet bench, through the real CLI as a user runs it, on two files:
// - flights-3m.parquet (vega-datasets: 3,000,000 rows, 11 row groups of 272,727 rows, ZSTD, written by Polars)
//   scored by the regressor fixture (variable = delay·1.5 − distance·2 + 3);
// - a wide file written here: 2M rows of 30 float32 features drawn from N(0, 1) and an id, in 10 row groups
//   of 200,000 rows (hyparquet-writer, Snappy; ~250 MB), scored by the bench's lr (bench/models.ts).
// Each file is scored with one reader (input.readers: 1) and with more: the default readers (flights-3m's
// columns are too little reading for a second reader), or a reader per core (the wide file: its 60M values are
// reading enough, but the default leaves a core to the main thread), or 2 readers asked for;
// each such result is compared byte for byte with the one-reader result before it. Each case runs in a
// fresh process; its peak RSS is the process's own maxRSS (worker threads included), recorded at exit by a
// preloaded hook, so nothing else in this process counts. The same files, models and jobs every time; only
// the machine's speed varies.
//
//   npm run bench:parquet            (also the last part of `npm run bench`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { FEATURES } from './data.js';
import { writeBenchModels } from './models.js';
import { normal } from './random.js';

export interface ParquetCase {
  name: string;
  /** input.readers, or 'default'. */
  readers: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** User + system CPU time of the process (it reads in worker threads while the model runs). */
  cpuSeconds: number;
  peakRssMb: number;
  outputBytes: number;
  /** More than one reader asked for: whether the result has the bytes of the one-reader case before it. */
  sameAsOneReader?: boolean;
}

export interface ParquetBench {
  files: { name: string; bytes: number; rows: number; rowGroups: number }[];
  cases: ParquetCase[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
// bench/ in the sources, dist/bench/ in the build.
const ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../..' : '..');
const BIN = path.join(ROOT, 'bin/serve-batch.js');
const REGRESSOR = path.join(ROOT, 'fixtures/models/regressor.onnx');
const FLIGHTS = path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data/flights-3m.parquet');
const WIDE_ROWS = 2_000_000;
const WIDE_GROUP = 200_000;

// Records the process's peak RSS (kB) and CPU time (µs) into $SB_BENCH_STATS when it exits.
const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeFileSync(process.env.SB_BENCH_STATS, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime })); });",
)}`;

interface Case {
  name: string;
  file: 'flights' | 'wide';
  passthrough: string[];
  output: string;
  limit?: number;
  /** input.readers; undefined: serve-batch's choice. */
  readers?: number;
}

// The first two cases (one reader each) differ only in how many rows are read (the first half, 6 of 11 row
// groups, against all): equal peaks mean memory does not grow with the input (a tiny CSV run of the same CLI
// peaks at about 110 MB: Node, ONNX Runtime, the model). A much shorter run would compare start-up, not the
// steady state. A case with more readers follows the one-reader case it is compared with.
const CASES: Case[] = [
  { name: 'flights → parquet, 2 int64 features, first 1.5M rows', file: 'flights', passthrough: [], output: 'half.parquet', limit: 1_500_000 },
  { name: 'flights → parquet, 2 int64 features', file: 'flights', passthrough: [], output: 'one.parquet', readers: 1 },
  { name: 'flights → parquet, 2 int64 features', file: 'flights', passthrough: [], output: 'default.parquet' },
  { name: 'flights → parquet, + timestamp and string passthrough', file: 'flights', passthrough: ['date', 'origin'], output: 'one-text.parquet', readers: 1 },
  { name: 'flights → parquet, + timestamp and string passthrough', file: 'flights', passthrough: ['date', 'origin'], output: 'two-text.parquet', readers: 2 },
  { name: 'flights → csv, + timestamp and string passthrough', file: 'flights', passthrough: ['date', 'origin'], output: 'text.csv' },
  { name: 'wide (2M × 30 float32) → csv, lr', file: 'wide', passthrough: ['id'], output: 'wide-one.csv', readers: 1 },
  { name: 'wide (2M × 30 float32) → csv, lr', file: 'wide', passthrough: ['id'], output: 'wide-all.csv', readers: Math.max(2, os.availableParallelism()) },
];

// The wide file: an id and FEATURES float32 columns of N(0, 1) values, the same on every machine.
function writeWide(file: string): void {
  const rnd = normal(3);
  const columnData: Parameters<typeof parquetWriteBuffer>[0]['columnData'] = [{ name: 'id', data: Int32Array.from({ length: WIDE_ROWS }, (_, i) => i), type: 'INT32' }];
  for (let f = 0; f < FEATURES; f++) columnData.push({ name: `f${f}`, data: Float32Array.from({ length: WIDE_ROWS }, () => rnd()), type: 'FLOAT' });
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: WIDE_GROUP })));
}

// Run every case once; figures for the report.
export async function benchParquet(): Promise<ParquetBench> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-parquet-'));
  try {
    const wide = path.join(dir, 'wide.parquet');
    writeWide(wide);
    const lr = writeBenchModels(path.join(dir, 'models')).lr;
    const inputs = {
      flights: { file: FLIGHTS, model: REGRESSOR, features: ['delay', 'distance'] },
      wide: { file: wide, model: lr, features: Array.from({ length: FEATURES }, (_, i) => `f${i}`) },
    };
    const cases: ParquetCase[] = [];
    let oneReader: string | undefined;
    for (const c of CASES) {
      const input = inputs[c.file];
      const job = path.join(dir, 'job.yaml');
      const output = path.join(dir, c.output);
      const stats = path.join(dir, 'stats.json');
      writeFileSync(
        job,
        [
          `model: ${input.model}`,
          `input: { path: ${input.file}${c.readers === undefined ? '' : `, readers: ${c.readers}`} }`,
          `features: { columns: [${input.features.join(', ')}], missing: nan }`,
          `passthrough: [${c.passthrough.join(', ')}]`,
          `output: ${output}`,
          `state_dir: ${path.join(dir, 'state')}`,
          '',
        ].join('\n'),
      );
      const started = process.hrtime.bigint();
      const limit = c.limit ? ['--limit', String(c.limit)] : [];
      const r = spawnSync(process.execPath, ['--import', HOOK, BIN, 'run', job, '--json', '--quiet', ...limit], {
        env: { ...process.env, NO_COLOR: '1', SB_BENCH_STATS: stats },
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      });
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (r.status !== 0) throw new Error(`bench case '${c.name}' failed (exit ${r.status}): ${r.stderr}`);
      const record = JSON.parse(r.stdout) as { totals: { rows_out: number } };
      const s = JSON.parse(readFileSync(stats, 'utf8')) as { maxRSS: number; cpu: number };
      const rows = record.totals.rows_out;
      const many = c.readers !== 1 && c.limit === undefined;
      const comparable = many && oneReader !== undefined && path.extname(oneReader) === path.extname(output);
      cases.push({
        name: c.name,
        readers: c.readers === undefined ? (c.limit === undefined ? 'default' : '1') : String(c.readers),
        sameAsOneReader: comparable ? readFileSync(output).equals(readFileSync(oneReader as string)) : undefined,
        rows,
        seconds: round(seconds, 2),
        rowsPerSecond: Math.round(rows / seconds),
        cpuSeconds: round(s.cpu / 1e6, 2),
        peakRssMb: Math.round(s.maxRSS / 1024),
        outputBytes: statSync(output).size,
      });
      if (c.readers === 1) oneReader = output;
    }
    const files = [
      { name: 'flights-3m.parquet', bytes: statSync(FLIGHTS).size, rows: 3_000_000, rowGroups: 11 },
      { name: 'wide.parquet', bytes: statSync(wide).size, rows: WIDE_ROWS, rowGroups: WIDE_ROWS / WIDE_GROUP },
    ];
    return { files, cases };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

// A table for the terminal.
export function formatParquetBench(b: ParquetBench): string {
  const about = b.files.map((f) => `${f.name} (${(f.bytes / 1e6).toFixed(1)} MB, ${f.rows.toLocaleString('en-US')} rows, ${f.rowGroups} row groups)`).join(', ');
  const lines = [`Parquet: ${about}; wall time from process start:`];
  for (const c of b.cases) {
    const readers = c.readers === '1' ? '1 reader' : c.readers === 'default' ? 'default readers' : `${c.readers} readers`;
    const same = c.sameAsOneReader === undefined ? '' : c.sameAsOneReader ? '  = 1 reader: identical bytes' : '  = 1 reader: DIFFERENT';
    lines.push(`  ${c.name.padEnd(56)} ${readers.padEnd(15)} ${String(c.rowsPerSecond.toLocaleString('en-US')).padStart(10)} rows/s  ${c.seconds.toFixed(2).padStart(6)} s  cpu ${c.cpuSeconds.toFixed(2).padStart(6)} s  peak RSS ${String(c.peakRssMb).padStart(4)} MB${same}`);
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const b = await benchParquet();
  process.stdout.write(`${formatParquetBench(b)}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(b)}\n`);
}
