// `npm run bench`: serve-batch against its peers, in one run, as ratios.
//
// On a deterministic 1M-row, 30-float CSV: DuckDB's scan of the whole file (every column, all cores: the
// ingest floor, bench/duckdb.ts), the reader alone (parse + featurize, one thread), and for each model (lr,
// gbr, rf, mlp): the ONNX Runtime floor (preloaded tensors, chunks of 8192), `serve-batch run` end to end with
// one reader, one reader per core and its default readers (wall, CPU, peak RSS, rows/s, MB/s), the file piped
// to its standard input (against one reader on the file), the overlap efficiency, the
// DuckDB + onnxruntime-node script (bench/duckdb.ts) and — when /usr/bin/python3 has pandas and scikit-learn —
// the pandas peer (../shared/bench/peer_pandas.py) on the same file with the same models, both peers' results
// compared with ours (≤ 1e-4). Then: results of the fast paths equal to the reference paths byte for
// byte, peak RSS on 10M rows against 1M rows, the libraries alone against the hand-written fast paths
// (bench/libraries.ts: CSV reading and writing, float formatting, JSON Lines parsing), Parquet: flights-3m.parquet in rows/s and peak RSS (bench/parquet.ts), read through
// hyparquet's internals against its public API (bench/parquet-api.ts), and object storage: the lr run from and
// to a local S3-protocol server against local files (bench/s3.ts).
//
// These machines are noisy: each end-to-end run (serve-batch and the peer, in turn) is repeated --runs times
// (default 3) and the medians are compared; peak RSS is the largest of the runs. Tree models may differ from
// the peer on a few rows whose feature sits between a split threshold and its float32 rounding (the ONNX
// TreeEnsemble operators store thresholds as float32): bench/float32_thresholds.py re-scores those rows with
// scikit-learn on float32 thresholds, and they count as equal only when that reproduces our values.
//
// Options: --rows N (default 1000000), --runs N (default 3), --models lr,rf, --skip-peer, --skip-flat,
// --skip-libraries, --skip-parquet, --skip-s3, --skip-postgres, --threads N (model.threads). Last, PostgreSQL: the
// same rows read from a table and scored into a table, against the CSV run (bench/postgres.ts).
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { FEATURES, ensureRows } from './data.js';
import { formatLibraries, measureLibraries, readAll } from './libraries.js';
import { cpuOf, measure, type Measured } from './measure.js';
import { benchParquet, formatParquetBench } from './parquet.js';
import { benchParquetApi, formatParquetApi } from './parquet-api.js';
import { benchS3, formatS3Bench } from './s3.js';
import { benchPostgres, formatPgBench } from './postgres.js';
import { writeBenchModels, type BenchModel } from './models.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(ROOT, 'bin/serve-batch.js');
const SHARED = path.resolve(ROOT, '../shared/bench');
const CACHE = path.join(ROOT, '.bench');
const PYTHON = '/usr/bin/python3';

/** Targets: serve-batch end to end must be this many times faster than the pandas peer. */
const TARGETS: Record<BenchModel, number> = { lr: 2, gbr: 3, rf: 3.3, mlp: 7 };
/** Target: lr end to end within this many times DuckDB's scan of the file. */
const SCAN_TARGET = 2;
const RSS_LIMIT_MB = 250;
const CORES = os.availableParallelism();
const DUCKDB = path.join(ROOT, 'dist/bench/duckdb.js');

const args = process.argv.slice(2);
const opt = (name: string) => {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
};
const ROWS = Number(opt('--rows') ?? 1_000_000);
const MODELS = (opt('--models') ?? 'lr,gbr,rf,mlp').split(',') as BenchModel[];
const THREADS = opt('--threads');
const RUNS = Math.max(1, Number(opt('--runs') ?? 3));

const log = (s: string) => process.stdout.write(`${s}\n`);
const f2 = (x: number) => x.toFixed(2);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Several runs of one command as one figure: median wall and CPU, the largest peak RSS.
function summary(runs: Measured[]): Measured {
  return { wall: median(runs.map((r) => r.wall)), cpu: median(runs.map((r) => r.cpu)), peakRssMb: Math.max(...runs.map((r) => r.peakRssMb)), code: runs[0].code, stderr: runs[0].stderr };
}

// Rows beyond 1e-4 that scikit-learn reproduces once its thresholds are rounded to float32 as in the .onnx.
function float32Explained(pkl: string, data: string, ours: string, peer: string): { differing: number; explained: number } {
  const r = spawnSync(PYTHON, [path.join(ROOT, 'bench/float32_thresholds.py'), pkl, data, ours, peer], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`float32_thresholds.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { differing: number; explained: number };
}

function peerAvailable(): boolean {
  if (args.includes('--skip-peer') || !existsSync(PYTHON) || !existsSync(SHARED)) return false;
  return spawnSync(PYTHON, ['-c', 'import pandas, sklearn, onnx'], { stdio: 'ignore' }).status === 0;
}

// A job scoring `input` with `modelFile`; `extra` adds top-level keys (profile: false, monitor: ...);
// `readers`: input.readers (default: serve-batch's choice).
function job(dir: string, name: string, modelFile: string, input: string, output: string, extra = '', readers?: number): string {
  const cols = Array.from({ length: FEATURES }, (_, i) => `f${i}`).join(', ');
  const threads = THREADS ? `  threads: ${THREADS}\n` : '';
  const file = path.join(dir, `${name}.yaml`);
  const inputs = readers === undefined ? input : `{ path: ${input}, readers: ${readers} }`;
  writeFileSync(file, `name: bench-${name}\nmodel:\n  path: ${modelFile}\n${threads}input: ${inputs}\nfeatures: { columns: [${cols}] }\npassthrough: [id]\noutput: ${output}\nstate_dir: ${path.join(dir, 'state')}\n${extra}`);
  return file;
}

// ONNX Runtime alone: the same session options as a run, one chunk of 8192 real rows fed again and again.
async function floor(modelFile: string, rows: number, sample: Float32Array): Promise<{ wall: number; cpu: number }> {
  const options: ort.InferenceSession.SessionOptions = { logSeverityLevel: 4, executionMode: 'sequential', graphOptimizationLevel: 'all' };
  if (THREADS) options.intraOpNumThreads = Number(THREADS);
  const session = await ort.InferenceSession.create(modelFile, options);
  const n = sample.length / FEATURES;
  const { wall, cpu } = await cpuOf(async () => {
    for (let done = 0; done < rows; done += n) {
      const k = Math.min(n, rows - done);
      await session.run({ input: new ort.Tensor('float32', sample.subarray(0, k * FEATURES), [k, FEATURES]) });
    }
  });
  await session.release();
  return { wall, cpu };
}

// The reading half alone (parse + featurize, no model, no writing), in this thread; keeps one chunk of real
// rows for the floor.
async function readerCost(file: string): Promise<{ wall: number; cpu: number; sample: Float32Array }> {
  let sample: Float32Array | undefined;
  const m = await readAll(file, true, (feed) => (sample ??= feed.slice()));
  return { ...m, sample: sample as Float32Array };
}

// Compare our result with the peer's: same ids in order, labels equal, values within 1e-4 (relative to
// values above 1: both sides are written with 6 significant digits).
function comparePeer(ours: string, peer: string): { rows: number; maxDiff: number; labelMismatches: number } {
  const a = readFileSync(ours, 'utf8').trimEnd().split('\n');
  const b = readFileSync(peer, 'utf8').trimEnd().split('\n');
  if (a.length !== b.length) throw new Error(`row counts differ: ${a.length} vs ${b.length}`);
  let maxDiff = 0;
  let labelMismatches = 0;
  for (let i = 1; i < a.length; i++) {
    const x = a[i].split(',');
    const y = b[i].split(',');
    if (x[0] !== y[0]) throw new Error(`row ${i}: id ${x[0]} vs ${y[0]}`);
    const labelled = y.length > 2;
    if (labelled && x[1] !== y[1]) labelMismatches++;
    for (let k = labelled ? 2 : 1; k < y.length; k++) maxDiff = Math.max(maxDiff, Math.abs(Number(x[k]) - Number(y[k])) / Math.max(1, Math.abs(Number(y[k]))));
  }
  return { rows: a.length - 1, maxDiff, labelMismatches };
}

// The first `rows` rows of a CSV (header included), for the bit-for-bit check against the reference paths.
async function head(src: string, dst: string, rows: number): Promise<void> {
  if (existsSync(dst)) return;
  const text = readFileSync(src).subarray(0, 400 * (rows + 1)).toString('utf8').split('\n').slice(0, rows + 1).join('\n');
  writeFileSync(dst, `${text}\n`);
}

// `times` copies of a CSV's data rows under its header.
async function repeat(src: string, dst: string, times: number): Promise<void> {
  if (existsSync(dst)) return;
  const out = createWriteStream(`${dst}.partial`);
  const data = readFileSync(src);
  const body = data.subarray(data.indexOf(10) + 1);
  out.write(data.subarray(0, data.indexOf(10) + 1));
  for (let i = 0; i < times; i++) if (!out.write(body)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
  renameSync(`${dst}.partial`, dst);
}

async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const work = path.join(CACHE, 'run');
  mkdirSync(work, { recursive: true });
  const data = path.join(CACHE, `rows-${ROWS}.csv`);
  log(`serve-batch bench — ${os.cpus().length} cores, node ${process.version}, onnxruntime ${ort.env.versions.common}`);
  log(`data: ${ROWS.toLocaleString('en-US')} rows × ${FEATURES} floats (deterministic)…`);
  await ensureRows(data, ROWS);
  const bytes = statSync(data).size;
  log(`data: ${data} (${(bytes / 1e6).toFixed(0)} MB)`);

  const peer = peerAvailable();
  let models: Record<BenchModel, string>;
  if (peer) {
    const shared = path.join(CACHE, 'shared-models');
    if (!existsSync(path.join(shared, 'mlp.pkl'))) {
      log('peer: building ../shared/bench models (scikit-learn, about a minute)…');
      const r = spawnSync(PYTHON, [path.join(SHARED, 'make_models.py'), shared], { stdio: 'inherit' });
      if (r.status !== 0) throw new Error('make_models.py failed');
    }
    models = { lr: '', gbr: '', rf: '', mlp: '' };
    for (const m of MODELS) models[m] = path.join(shared, `${m}.onnx`);
    log('models: ../shared/bench/make_models.py exports (the same models the peer runs)');
  } else {
    models = writeBenchModels(path.join(CACHE, 'models'));
    log(`models: the project's own equivalents (bench/models.ts); peer skipped (${existsSync(PYTHON) ? 'no pandas/scikit-learn' : 'no /usr/bin/python3'})`);
  }

  const scans: Measured[] = [];
  for (let i = 0; i < RUNS; i++) {
    const r = await measure(process.execPath, [DUCKDB, 'scan', data]);
    if (r.code !== 0) throw new Error(`duckdb scan failed: ${r.stderr}`);
    scans.push(r);
  }
  const scan = summary(scans);
  log(`DuckDB scan (read_csv, every column, ${os.cpus().length} threads, whole process): ${f2(scan.wall)} s wall, ${f2(scan.cpu)} s CPU, ${scan.peakRssMb.toFixed(0)} MB, ${(bytes / 1e6 / scan.wall).toFixed(0)} MB/s`);
  const reader = await readerCost(data);
  log(`reader alone (parse + featurize, one thread): ${f2(reader.wall)} s wall, ${f2(reader.cpu)} s CPU, ${(bytes / 1e6 / reader.wall).toFixed(0)} MB/s`);

  const rows: string[] = [];
  const overheads: string[] = [];
  const stdins: string[] = [];
  let allMet = true;
  for (const m of MODELS) {
    const fl = await floor(models[m], ROWS, reader.sample);
    const out = path.join(work, `${m}.csv`);
    const jobFile = job(work, m, models[m], data, out);
    const oneFile = job(work, `${m}-1`, models[m], data, path.join(work, `${m}.1.csv`), '', 1);
    // A reader per core, whatever the default chooses (the most parallel reading of one file).
    const allFile = job(work, `${m}-all`, models[m], data, path.join(work, `${m}.all.csv`), '', CORES);
    const ours: Measured[] = [];
    const oneReader: Measured[] = [];
    const allReaders: Measured[] = [];
    const peers: Measured[] = [];
    const ducks: Measured[] = [];
    const peerOut = path.join(work, `${m}.peer.csv`);
    // Profiling's cost: the same run without a profile, and with monitor against a reference of the same data
    // (profile, drift and the profile file), in turn with the default run (which profiles).
    const plainJob = job(work, `${m}-plain`, models[m], data, out, 'profile: false\n');
    const reference = path.join(work, `${m}.reference.json`);
    const monitoredJob = job(work, `${m}-monitored`, models[m], data, out, `monitor: { reference: ${reference} }\n`);
    const made = await measure(process.execPath, [BIN, 'profile', jobFile, '-o', reference, '--quiet']);
    if (made.code !== 0) throw new Error(`serve-batch profile ${m} failed: ${made.stderr}`);
    const plain: Measured[] = [];
    const monitored: Measured[] = [];
    // The same file piped to standard input (parsed in a reader thread, its bytes read by the main thread).
    const piped: Measured[] = [];
    const pipedOut = path.join(work, `${m}.stdin.csv`);
    const duckOut = path.join(work, `${m}.duckdb.csv`);
    for (let i = 0; i < RUNS; i++) {
      const p0 = await measure(process.execPath, [BIN, 'run', plainJob, '--quiet']);
      if (p0.code !== 0) throw new Error(`serve-batch run ${m} (profile: false) failed: ${p0.stderr}`);
      plain.push(p0);
      const mo = await measure(process.execPath, [BIN, 'run', monitoredJob, '--quiet']);
      if (mo.code !== 0) throw new Error(`serve-batch run ${m} (monitor) failed with exit code ${mo.code}: ${mo.stderr}`);
      monitored.push(mo);
      const r = await measure(process.execPath, [BIN, 'run', jobFile, '--quiet']);
      if (r.code !== 0) throw new Error(`serve-batch run ${m} failed: ${r.stderr}`);
      ours.push(r);
      const r1 = await measure(process.execPath, [BIN, 'run', oneFile, '--quiet']);
      if (r1.code !== 0) throw new Error(`serve-batch run ${m} (one reader) failed: ${r1.stderr}`);
      oneReader.push(r1);
      const rp = await measure(process.execPath, [BIN, 'run', jobFile, '--quiet', '--input', '-', '--input-format', 'csv', '--output', pipedOut], process.env, data);
      if (rp.code !== 0) throw new Error(`serve-batch run ${m} (standard input) failed: ${rp.stderr}`);
      piped.push(rp);
      const ra = await measure(process.execPath, [BIN, 'run', allFile, '--quiet']);
      if (ra.code !== 0) throw new Error(`serve-batch run ${m} (${CORES} readers) failed: ${ra.stderr}`);
      allReaders.push(ra);
      const d = await measure(process.execPath, [DUCKDB, 'peer', models[m], data, duckOut]);
      if (d.code !== 0) throw new Error(`DuckDB peer ${m} failed: ${d.stderr}`);
      ducks.push(d);
      if (!peer) continue;
      const p = await measure(PYTHON, [path.join(SHARED, 'peer_pandas.py'), models[m].replace(/\.onnx$/, '.pkl'), data, peerOut]);
      if (p.code !== 0) throw new Error(`peer ${m} failed: ${p.stderr}`);
      peers.push(p);
    }
    const run = summary(ours);
    const one = summary(oneReader);
    const all = summary(allReaders);
    const duck = summary(ducks);
    const peerRun = peer ? summary(peers) : undefined;
    const base = summary(plain);
    const mon = summary(monitored);
    const pct = (x: number) => `${x >= base.wall ? '+' : ''}${(((x - base.wall) / base.wall) * 100).toFixed(1)}%`;
    const cpuPct = (x: number) => `${x >= base.cpu ? '+' : ''}${(((x - base.cpu) / base.cpu) * 100).toFixed(1)}%`;
    const overheadMet = mon.wall <= base.wall * 1.1;
    allMet &&= overheadMet;
    overheads.push(
      [
        m.padEnd(4),
        `${f2(base.wall)} s / ${f2(base.cpu)} CPU`,
        `${f2(run.wall)} s / ${f2(run.cpu)} CPU (${pct(run.wall)} wall, ${cpuPct(run.cpu)} CPU)`,
        `${f2(mon.wall)} s / ${f2(mon.cpu)} CPU (${pct(mon.wall)} wall, ${cpuPct(mon.cpu)} CPU)`,
        overheadMet ? 'met' : 'NOT MET',
      ].join(' | '),
    );
    const sameOne = readFileSync(out).equals(readFileSync(path.join(work, `${m}.1.csv`))) && readFileSync(out).equals(readFileSync(path.join(work, `${m}.all.csv`)));
    allMet &&= sameOne;
    const pipe = summary(piped);
    const samePiped = readFileSync(out).equals(readFileSync(pipedOut));
    allMet &&= samePiped;
    stdins.push(
      [m.padEnd(4), `${f2(pipe.wall)} s / ${f2(pipe.cpu)} CPU / ${pipe.peakRssMb.toFixed(0)} MB`, `${f2(pipe.wall / one.wall)}×`, samePiped ? 'identical bytes' : 'DIFFERENT'].join(' | '),
    );
    const d = comparePeer(out, duckOut);
    const duckCmp = d.maxDiff <= 1e-4 && d.labelMismatches === 0 ? 'equal' : `${d.labelMismatches} label(s) differ, max diff ${d.maxDiff.toExponential(1)}`;
    let cmp = '';
    if (peer) {
      const c = comparePeer(out, peerOut);
      let same = c.maxDiff <= 1e-4 && c.labelMismatches === 0;
      cmp = `${same ? 'equal' : 'DIFFERENT'} (max diff ${c.maxDiff.toExponential(1)}${c.labelMismatches ? `, ${c.labelMismatches} label(s) differ` : ''})`;
      if (!same && c.labelMismatches === 0) {
        const x = float32Explained(models[m].replace(/\.onnx$/, '.pkl'), data, out, peerOut);
        same = x.explained === x.differing;
        cmp = `${same ? 'equal' : 'DIFFERENT'}: ${c.rows - x.differing} rows within 1e-4; ${x.differing} row(s) beyond, ${x.explained} of them reproduced by scikit-learn with float32 thresholds`;
      }
      allMet &&= same;
    }
    const ideal = (reader.cpu + fl.cpu) / os.cpus().length;
    const ratio = peerRun ? peerRun.wall / run.wall : undefined;
    const toScan = run.wall / scan.wall;
    const met = (ratio === undefined || ratio >= TARGETS[m]) && run.peakRssMb <= RSS_LIMIT_MB && (m !== 'lr' || toScan <= SCAN_TARGET);
    allMet &&= met;
    const rate = (w: number) => `${((ROWS / w) / 1000).toFixed(0)}k rows/s, ${(bytes / 1e6 / w).toFixed(0)} MB/s`;
    rows.push(
      [
        m.padEnd(4),
        peerRun ? `${f2(peerRun.wall)} s / ${peerRun.peakRssMb.toFixed(0)} MB` : 'n/a',
        `${f2(duck.wall)} s / ${f2(duck.cpu)} CPU / ${duck.peakRssMb.toFixed(0)} MB`,
        `${f2(fl.wall)} s (${f2(fl.cpu)} CPU)`,
        `${f2(one.wall)} s / ${f2(one.cpu)} CPU / ${one.peakRssMb.toFixed(0)} MB (${rate(one.wall)})`,
        `${f2(all.wall)} s / ${f2(all.cpu)} CPU / ${all.peakRssMb.toFixed(0)} MB (${rate(all.wall)})`,
        `${f2(run.wall)} s / ${f2(run.cpu)} CPU / ${run.peakRssMb.toFixed(0)} MB (${rate(run.wall)})`,
        `${((ideal / run.wall) * 100).toFixed(0)}%`,
        ratio === undefined ? 'n/a' : `${f2(ratio)}× (target ≥ ${TARGETS[m]}×)`,
        `${f2(duck.wall / run.wall)}×`,
        `${f2(toScan)}×${m === 'lr' ? ` (target ≤ ${SCAN_TARGET}×)` : ''}`,
        met ? 'met' : 'NOT MET',
        `pandas: ${cmp || 'n/a'}; DuckDB script: ${duckCmp}; 1 and ${CORES} readers: ${sameOne ? 'identical bytes' : 'DIFFERENT'}`,
      ].join(' | '),
    );
    // Each model's line as soon as it is measured: a long bench stopped midway keeps what it measured.
    log(`measured: ${rows[rows.length - 1]}`);
  }
  log('');
  log(`${RUNS} run(s) each, in turn; medians (peak RSS: the largest)`);
  log(`DuckDB scan: ${f2(scan.wall)} s / ${f2(scan.cpu)} CPU / ${scan.peakRssMb.toFixed(0)} MB`);
  log(`model | pandas peer wall / peak RSS | DuckDB + ORT script wall / CPU / peak RSS | ORT floor | serve-batch, 1 reader | serve-batch, ${CORES} readers | serve-batch, default readers | overlap | pandas ÷ serve-batch | DuckDB script ÷ serve-batch | serve-batch ÷ DuckDB scan | target | results`);
  log('---|---|---|---|---|---|---|---|---|---|---|---|---');
  for (const r of rows) log(r);
  log(`overlap = (reader CPU + ORT CPU) / cores ÷ wall: 100% means the two cores were kept busy with nothing but parsing and inference`);
  log('');
  log(`standard input: the file piped to the default run's --input -, ${RUNS} run(s), in turn with the others; medians`);
  log('model | wall / CPU / peak RSS | ÷ one reader on the file | results against the file');
  log('---|---|---|---');
  for (const r of stdins) log(r);
  log('');
  log(`profiling: ${RUNS} run(s) each of profile: false, the default (profiled) and monitor: against a reference, in turn; medians`);
  log('model | profile: false wall / CPU | profiled | profiled + monitor (drift, profile file) | target ≤ +10% wall');
  log('---|---|---|---|---');
  for (const r of overheads) log(r);

  // Bit for bit: fast paths (quote-free reader, byte writer, reader thread) against the reference paths.
  const small = path.join(CACHE, 'rows-100000.csv');
  await head(data, small, 100_000);
  for (const m of MODELS) {
    const fast = path.join(work, `${m}.fast.csv`);
    const slow = path.join(work, `${m}.reference.csv`);
    await measure(process.execPath, [BIN, 'run', job(work, `${m}-f`, models[m], small, fast), '--quiet']);
    await measure(process.execPath, [BIN, 'run', job(work, `${m}-r`, models[m], small, slow), '--quiet'], { ...process.env, SERVE_BATCH_FAST_PATH: '0' });
    const same = readFileSync(fast).equals(readFileSync(slow));
    allMet &&= same;
    log(`fast path = reference path on 100,000 rows (${m}): ${same ? 'identical bytes' : 'DIFFERENT'}`);
  }

  if (!args.includes('--skip-flat') && MODELS.includes('lr')) {
    const big = path.join(CACHE, `rows-${ROWS * 10}.csv`);
    await repeat(data, big, 10);
    const one = await measure(process.execPath, [BIN, 'run', job(work, 'flat1', models.lr, data, path.join(work, 'flat1.csv')), '--quiet']);
    const ten = await measure(process.execPath, [BIN, 'run', job(work, 'flat10', models.lr, big, path.join(work, 'flat10.csv')), '--quiet']);
    const flat = ten.peakRssMb <= one.peakRssMb * 1.1;
    allMet &&= flat;
    log(`flat memory (lr): ${(ROWS / 1e6).toFixed(0)}M rows ${one.peakRssMb.toFixed(0)} MB peak, ${((ROWS * 10) / 1e6).toFixed(0)}M rows ${ten.peakRssMb.toFixed(0)} MB peak (${f2(ten.wall)} s) — ${flat ? 'flat' : 'NOT flat'}`);
  }
  if (!args.includes('--skip-libraries')) {
    log('');
    log(formatLibraries(await measureLibraries(data, ROWS), reader, bytes, ROWS));
  }
  if (!args.includes('--skip-parquet')) {
    log('');
    log(formatParquetBench(await benchParquet()));
    log(formatParquetApi(benchParquetApi()));
  }
  if (!args.includes('--skip-s3') && MODELS.includes('lr')) {
    log('');
    log(formatS3Bench(await benchS3(data, ROWS, models.lr, Array.from({ length: FEATURES }, (_, i) => `f${i}`), RUNS)));
  }
  if (!args.includes('--skip-postgres')) {
    log('');
    log(formatPgBench(await benchPostgres(data, models.lr || writeBenchModels(path.join(CACHE, 'models')).lr, ROWS, RUNS)));
  }
  log(allMet ? '\nall targets met' : '\nsome targets NOT met');
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${(err as Error).stack}\n`);
  process.exitCode = 1;
});
