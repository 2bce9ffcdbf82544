// Parquet bench: flights-3m.parquet (vega-datasets: 3,000,000 rows, 11 row groups of 272,727 rows, ZSTD,
// written by Polars) scored by the regressor fixture (variable = delay·1.5 − distance·2 + 3) through the
// real CLI, as a user runs it. Each case runs in a fresh process; its peak RSS is the process's own maxRSS
// (worker threads included), recorded at exit by a preloaded hook, so nothing else in this process counts.
// The same files, model and jobs every time; only the machine's speed varies.
//
//   npm run bench:parquet            (also the last part of `npm run bench`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface ParquetCase {
  name: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** User + system CPU time of the process (it reads in a worker thread while the model runs). */
  cpuSeconds: number;
  peakRssMb: number;
  outputBytes: number;
}

export interface ParquetBench {
  file: string;
  fileBytes: number;
  cases: ParquetCase[];
}

const here = path.dirname(fileURLToPath(import.meta.url));
// bench/ in the sources, dist/bench/ in the build.
const ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../..' : '..');
const BIN = path.join(ROOT, 'bin/serve-batch.js');
const MODEL = path.join(ROOT, 'fixtures/models/regressor.onnx');
const FLIGHTS = path.join(path.dirname(path.dirname(createRequire(import.meta.url).resolve('vega-datasets'))), 'data/flights-3m.parquet');

// Records the process's peak RSS (kB) and CPU time (µs) into $SB_BENCH_STATS when it exits.
const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs'; process.on('exit', () => { const u = process.resourceUsage(); writeFileSync(process.env.SB_BENCH_STATS, JSON.stringify({ maxRSS: u.maxRSS, cpu: u.userCPUTime + u.systemCPUTime })); });",
)}`;

// The first two cases differ only in how many rows are read (the first half, 6 of 11 row groups, against
// all): equal peaks mean memory does not grow with the input (a tiny CSV run of the same CLI peaks at about
// 110 MB: Node, ONNX Runtime, the model). A much shorter run would compare start-up, not the steady state.
const CASES: { name: string; passthrough: string[]; output: string; limit?: number }[] = [
  { name: 'parquet → parquet, 2 int64 features, first 1.5M rows', passthrough: [], output: 'out.parquet', limit: 1_500_000 },
  { name: 'parquet → parquet, 2 int64 features', passthrough: [], output: 'out.parquet' },
  { name: 'parquet → parquet, + timestamp and string passthrough', passthrough: ['date', 'origin'], output: 'out.parquet' },
  { name: 'parquet → csv, + timestamp and string passthrough', passthrough: ['date', 'origin'], output: 'out.csv' },
];

// Run every case once; figures for the report.
export async function benchParquet(): Promise<ParquetBench> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-parquet-'));
  try {
    const cases: ParquetCase[] = [];
    for (const c of CASES) {
      const job = path.join(dir, 'job.yaml');
      const output = path.join(dir, c.output);
      const stats = path.join(dir, 'stats.json');
      writeFileSync(
        job,
        [
          `model: ${MODEL}`,
          `input: ${FLIGHTS}`,
          'features: { columns: [delay, distance], missing: nan }',
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
      cases.push({
        name: c.name,
        rows,
        seconds: round(seconds, 2),
        rowsPerSecond: Math.round(rows / seconds),
        cpuSeconds: round(s.cpu / 1e6, 2),
        peakRssMb: Math.round(s.maxRSS / 1024),
        outputBytes: statSync(output).size,
      });
    }
    return { file: FLIGHTS, fileBytes: statSync(FLIGHTS).size, cases };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits: number): number {
  return Number(x.toFixed(digits));
}

// A table for the terminal.
export function formatParquetBench(b: ParquetBench): string {
  const lines = [`flights-3m.parquet (${(b.fileBytes / 1e6).toFixed(1)} MB, 3,000,000 rows) with the regressor fixture, wall time from process start:`];
  for (const c of b.cases) {
    lines.push(`  ${c.name.padEnd(58)} ${String(c.rowsPerSecond.toLocaleString('en-US')).padStart(10)} rows/s  ${c.seconds.toFixed(2).padStart(6)} s  cpu ${c.cpuSeconds.toFixed(2).padStart(6)} s  peak RSS ${String(c.peakRssMb).padStart(4)} MB`);
  }
  return lines.join('\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const b = await benchParquet();
  process.stdout.write(`${formatParquetBench(b)}\n`);
  if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(b)}\n`);
}
