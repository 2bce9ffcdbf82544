// Runs whose inputs and results are objects in an S3-protocol server (s3rver, started by the test on
// 127.0.0.1): every format in and out, gzip, Parquet by ranged reads, the incremental ledger by ETag, a sharded
// run and its merge, a killed upload cleaned up by the next run, refused configurations, and standard output
// from an object. Real ONNX sessions, in process through runJob() and main(); one spawned CLI run.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { runJob } from '../../src/run/run-job.js';
import { cli, model, runMain } from '../support/cli.js';
import { setEnv, startS3Server, type S3TestServer } from '../support/s3-server.js';
import { tempDir } from '../support/temp-dir.js';

let server: S3TestServer;
let restoreEnv: () => void;

beforeAll(async () => {
  server = await startS3Server();
  restoreEnv = setEnv(server.env());
  for (const b of ['data', 'results']) await server.bucket(b);
});

afterAll(async () => {
  restoreEnv?.();
  await server?.stop();
});

// `rows` rows for linear_binary (columns a, b, c), with a non-number in column a at the 0-based rows in `bad`.
function csv(rows: number, bad: number[] = [], seed = 0): string {
  let s = 'id,a,b,c\n';
  for (let i = 0; i < rows; i++) s += `r${i},${bad.includes(i) ? 'oops' : ((i + seed) % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
  return s;
}

// The object's bytes, or undefined when there is none.
async function object(bucket: string, key: string): Promise<Buffer | undefined> {
  try {
    const r = await server.admin.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
    throw err;
  }
}

async function keys(bucket: string, prefix: string): Promise<string[]> {
  const r = await server.admin.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((c) => c.Key as string).sort();
}

// A job in a new directory (state_dir there); `lines` are its YAML lines besides model, features and state.
function job(lines: string[], name = 's3-test') {
  const dir = tempDir();
  const text = [`name: ${name}`, `model: ${model('linear_binary')}`, 'features: { columns: [a, b, c] }', 'state_dir: state', ...lines].join('\n');
  writeFileSync(path.join(dir, 'job.yaml'), text);
  return { dir, file: path.join(dir, 'job.yaml'), job: parseJob(text, path.join(dir, 'job.yaml')) };
}

describe('objects in, objects out', () => {
  it('CSV objects from a glob are scored into one result object per input, and rejects into an object', async () => {
    await server.put('data', 'csv1/a.csv', csv(20, [3]));
    await server.put('data', 'csv1/b.csv', csv(10));
    const { job: j, dir } = job(['input: s3://data/csv1/*.csv', 'passthrough: [id]', 'output: s3://results/csv1/{input_stem}.csv', 'errors: { max_rejected: 5, rejects: s3://results/csv1/rejects.csv }']);
    const local = job(['input: in/*.csv', 'passthrough: [id]', 'output: out/{input_stem}.csv', 'errors: { max_rejected: 5 }']);
    mkdirSync(path.join(local.dir, 'in'));
    writeFileSync(path.join(local.dir, 'in/a.csv'), csv(20, [3]));
    writeFileSync(path.join(local.dir, 'in/b.csv'), csv(10));
    const r = await runJob(j);
    expect([r.status, r.error, r.totals.rows_out, r.totals.rows_rejected, r.warnings]).toEqual(['ok', null, 29, 1, []]);
    expect(r.inputs.map((i) => [i.path, i.output, i.rejects])).toEqual([
      ['s3://data/csv1/a.csv', 's3://results/csv1/a.csv', 's3://results/csv1/rejects.csv'],
      ['s3://data/csv1/b.csv', 's3://results/csv1/b.csv', null],
    ]);
    const l = await runJob(local.job);
    expect(l.status).toBe('ok');
    // The same bytes as the job on local files.
    expect((await object('results', 'csv1/a.csv'))?.toString()).toBe(readFileSync(path.join(local.dir, 'out/a.csv'), 'utf8'));
    expect((await object('results', 'csv1/b.csv'))?.toString()).toBe(readFileSync(path.join(local.dir, 'out/b.csv'), 'utf8'));
    expect((await object('results', 'csv1/rejects.csv'))?.toString()).toMatch(/^_file,_line,_error,id,a,b,c\ns3:\/\/data\/csv1\/a\.csv,5,/);
    expect(existsSync(path.join(dir, 'state/inflight/s3-test.json'))).toBe(false);
  });
});

describe('formats', () => {
  it('gzipped CSV in, gzipped JSON Lines out in one combined object; Parquet in by ranged reads, Parquet out', async () => {
    await server.put('data', 'gz/a.csv.gz', gzipSync(csv(30, [], 1)));
    await server.put('data', 'gz/b.csv.gz', gzipSync(csv(40, [], 2)));
    const s3 = job(['input: s3://data/gz/*.csv.gz', 'passthrough: [id]', 'output: s3://results/gz/all.jsonl.gz']);
    const local = job(['input: in/*.csv.gz', 'passthrough: [id]', 'output: out/all.jsonl.gz']);
    mkdirSync(path.join(local.dir, 'in'));
    writeFileSync(path.join(local.dir, 'in/a.csv.gz'), gzipSync(csv(30, [], 1)));
    writeFileSync(path.join(local.dir, 'in/b.csv.gz'), gzipSync(csv(40, [], 2)));
    expect((await runJob(s3.job)).status).toBe('ok');
    expect((await runJob(local.job)).status).toBe('ok');
    const got = await object('results', 'gz/all.jsonl.gz');
    expect(gunzipSync(got!).toString()).toBe(gunzipSync(readFileSync(path.join(local.dir, 'out/all.jsonl.gz'))).toString());
    expect(gunzipSync(got!).toString().split('\n')).toHaveLength(71);

    // A Parquet input of several row groups, written by a local run, read back from the store.
    const pq = job(['input: in/*.csv', 'passthrough: [id, a, b, c]', 'predictions: [{ output: label, column: label }]', 'batch_size: 100', 'output: out/p.parquet']);
    mkdirSync(path.join(pq.dir, 'in'));
    writeFileSync(path.join(pq.dir, 'in/p.csv'), csv(1000));
    expect((await runJob(pq.job)).status).toBe('ok');
    const parquet = readFileSync(path.join(pq.dir, 'out/p.parquet'));
    await server.put('data', 'pq/p.parquet', parquet);
    const fromS3 = job(['input: s3://data/pq/p.parquet', 'passthrough: [id]', 'output: s3://results/pq/{input_stem}.parquet']);
    const fromFile = job([`input: ${JSON.stringify(path.join(pq.dir, 'out/p.parquet'))}`, 'passthrough: [id]', 'output: out/{input_stem}.parquet']);
    const r = await runJob(fromS3.job);
    expect([r.status, r.totals.rows_out, r.inputs[0].bytes, r.inputs[0].sha256]).toEqual(['ok', 1000, parquet.length, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    expect((await runJob(fromFile.job)).status).toBe('ok');
    expect((await object('results', 'pq/p.parquet'))?.equals(readFileSync(path.join(fromFile.dir, 'out/p.parquet')))).toBe(true);
  });
});

describe('incremental jobs over objects', () => {
  it('skip unchanged objects by their ETag, score a rewritten one and a new one', async () => {
    await server.put('data', 'inc/a.csv', csv(10));
    await server.put('data', 'inc/b.csv', csv(12));
    const { job: j } = job(['input: { path: s3://data/inc/, incremental: true }', 'output: s3://results/inc/{input_stem}.csv']);
    const first = await runJob(j);
    expect(first.inputs.map((i) => [i.status, i.reason])).toEqual([
      ['ok', 'new input'],
      ['ok', 'new input'],
    ]);
    const second = await runJob(j);
    expect(second.inputs.map((i) => [i.status, i.rows_out])).toEqual([
      ['skipped', 0],
      ['skipped', 0],
    ]);
    expect(second.inputs[0].reason).toMatch(/unchanged \(same ETag, model and job settings\)$/);
    // The same size, other bytes: the ETag tells without reading the object.
    await server.put('data', 'inc/b.csv', csv(12, [], 3));
    await server.put('data', 'inc/c.csv', csv(5));
    const third = await runJob(j);
    expect(third.inputs.map((i) => [i.path, i.status])).toEqual([
      ['s3://data/inc/a.csv', 'skipped'],
      ['s3://data/inc/b.csv', 'ok'],
      ['s3://data/inc/c.csv', 'ok'],
    ]);
    expect(third.inputs[1].reason).toMatch(/its content changed since it was scored by run .* \(ETag ".*" → ETag ".*"\)$/);
    expect(await keys('results', 'inc/')).toEqual(['inc/a.csv', 'inc/b.csv', 'inc/c.csv']);
  });
});
