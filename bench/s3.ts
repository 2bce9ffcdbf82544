// Object storage bench: the bench's CSV (1M rows × 30 floats) scored by the lr model from an object in a local
// S3-protocol server (s3rver on 127.0.0.1, in its own process) into a result object, against the same job on
// local files, in turn, through the real CLI. Rows/s and peak RSS of serve-batch's process (s3rver's own CPU
// and memory are not counted, but it shares the machine's cores: a loopback server bounds the figure, it is not
// a measure of a real store).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { openS3Store } from '../src/storage/s3/client.js';
import { openS3Sink } from '../src/storage/s3/sink.js';
import { localSource } from '../src/storage/local/file-source.js';
import { measure, type Measured } from './measure.js';

export interface S3BenchCase {
  name: 'local files' | 's3 objects';
  seconds: number;
  cpuSeconds: number;
  rowsPerSecond: number;
  peakRssMb: number;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, here.split(path.sep).includes('dist') ? '../..' : '..');
const BIN = path.join(ROOT, 'bin/serve-batch.js');
const SERVER = path.join(ROOT, 'test/support/s3-server-main.cjs');
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };

// Score `data` (`rows` rows, columns id, f0…) with `model` `runs` times each from files and from objects, in turn.
export async function benchS3(data: string, rows: number, model: string, columns: string[], runs: number): Promise<S3BenchCase[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-bench-s3-'));
  const server = await startServer(path.join(dir, 'objects'));
  try {
    const env = { ...process.env, ...CREDENTIALS, AWS_ENDPOINT_URL_S3: server.endpoint };
    await upload(server.endpoint, data);
    const job = (name: string, input: string, output: string) => {
      const file = path.join(dir, `${name}.yaml`);
      writeFileSync(file, `name: bench-s3-${name}\nmodel: ${model}\ninput: ${input}\nfeatures: { columns: [${columns.join(', ')}] }\npassthrough: [id]\noutput: ${output}\nstate_dir: ${path.join(dir, 'state')}\n`);
      return file;
    };
    const local = job('local', data, path.join(dir, 'out.csv'));
    const s3 = job('s3', 's3://bench/rows.csv', 's3://bench/out.csv');
    const results: Record<S3BenchCase['name'], Measured[]> = { 'local files': [], 's3 objects': [] };
    for (let i = 0; i < runs; i++) {
      for (const [name, file] of [['local files', local], ['s3 objects', s3]] as const) {
        const r = await measure(process.execPath, [BIN, 'run', file, '--quiet'], env);
        if (r.code !== 0) throw new Error(`serve-batch run (${name}) failed: ${r.stderr}`);
        results[name].push(r);
      }
    }
    return (Object.keys(results) as S3BenchCase['name'][]).map((name) => {
      const m = results[name];
      const wall = median(m.map((r) => r.wall));
      return { name, seconds: wall, cpuSeconds: median(m.map((r) => r.cpu)), rowsPerSecond: rows / wall, peakRssMb: Math.max(...m.map((r) => r.peakRssMb)) };
    });
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// The table lines of the bench's output.
export function formatS3Bench(cases: S3BenchCase[]): string {
  const [local, s3] = cases;
  const lines = [
    'object storage (lr, the same CSV read from and written to s3rver on 127.0.0.1, against local files; medians, peak RSS: the largest)',
    'input → result | wall | CPU | rows/s | peak RSS',
    '---|---|---|---|---',
    ...cases.map((c) => `${c.name} | ${c.seconds.toFixed(2)} s | ${c.cpuSeconds.toFixed(2)} s | ${Math.round(c.rowsPerSecond).toLocaleString('en-US')} | ${c.peakRssMb.toFixed(0)} MB`),
    `s3 ÷ local: ${(s3.rowsPerSecond / local.rowsPerSecond).toFixed(2)}× the rows/s, ${(s3.peakRssMb - local.peakRssMb >= 0 ? '+' : '')}${(s3.peakRssMb - local.peakRssMb).toFixed(0)} MB peak RSS`,
  ];
  return lines.join('\n');
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// The data file as the object s3://bench/rows.csv, through serve-batch's own multipart sink.
async function upload(endpoint: string, data: string): Promise<void> {
  const saved = Object.fromEntries(Object.keys(CREDENTIALS).map((k) => [k, process.env[k]]));
  Object.assign(process.env, CREDENTIALS);
  const store = openS3Store({ endpoint });
  try {
    await store.client.send(new CreateBucketCommand({ Bucket: 'bench' }));
    const sink = openS3Sink(store, 's3://bench/rows.csv');
    for await (const block of localSource(data, data).open()) await sink.write(block);
    await sink.commit();
  } finally {
    store.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

// s3rver in its own process (the test suite's server script), stopped by its pid.
async function startServer(directory: string): Promise<{ endpoint: string; stop(): Promise<void> }> {
  const child: ChildProcess = spawn(process.execPath, [SERVER, directory, path.join(tmpdir(), 'serve-batch-s3rver')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]) as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`s3rver exited (${code}) before it listened`)));
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      const ended = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await ended;
    },
  };
}
