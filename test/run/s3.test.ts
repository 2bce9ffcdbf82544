// Runs whose inputs and results are objects in an S3-protocol server (s3rver, started by the test on
// 127.0.0.1): every format in and out, gzip, Parquet by ranged reads, the incremental ledger by ETag, a sharded
// run and its merge, a killed upload cleaned up by the next run, refused configurations, and standard output
// from an object. Real ONNX sessions, in process through runJob() and main(); one spawned CLI run.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { runJob } from '../../src/run/run-job.js';
import { cliAsync, model, runMain, writeFiles } from '../support/cli.js';
import { makeFifo } from '../support/streams.js';
import { mixedParquet, rejectedRow } from '../support/parquet.js';
import { s3Proxy, setEnv, startS3Server, type S3TestServer } from '../support/s3-server.js';
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
  return {
    dir,
    file: path.join(dir, 'job.yaml'),
    get job() {
      return parseJob(text, path.join(dir, 'job.yaml'));
    },
  };
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

describe('objects and files in one job', () => {
  it('a list of inputs mixing a glob of keys and local files, sorted as one listing, into one result object', async () => {
    await server.put('data', 'mixed/b.csv', csv(4));
    await server.put('data', 'mixed/.partial.csv', csv(4));
    await server.put('data', 'mixed/notes.txt', 'not an input');
    const { job: j, dir } = job(['input: [s3://data/mixed/, in/*.csv]', 'passthrough: [id]', 'output: s3://results/mixed/all.csv']);
    writeFiles(dir, { 'in/a.csv': csv(3) });
    const r = await runJob(j);
    expect([r.status, r.inputs.map((i) => i.path), r.totals.rows_out]).toEqual(['ok', [path.join(dir, 'in/a.csv'), 's3://data/mixed/b.csv'], 7]);
    expect((await object('results', 'mixed/all.csv'))?.toString().trim().split('\n')).toHaveLength(8);
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
    // Through a proxy that records the requests, named by the job's storage block.
    const proxy = await s3Proxy(server.port);
    const fromS3 = job(['input: s3://data/pq/p.parquet', 'passthrough: [id]', 'output: s3://results/pq/{input_stem}.parquet', `storage: { s3: { endpoint: "http://127.0.0.1:${proxy.port}", region: eu-west-1 } }`]);
    const fromFile = job([`input: ${JSON.stringify(path.join(pq.dir, 'out/p.parquet'))}`, 'passthrough: [id]', 'output: out/{input_stem}.parquet']);
    const r = await runJob(fromS3.job);
    await proxy.close();
    expect([r.status, r.totals.rows_out, r.inputs[0].bytes, r.inputs[0].sha256]).toEqual(['ok', 1000, parquet.length, expect.stringMatching(/^[0-9a-f]{64}$/)]);
    // The footer and the row groups by explicit ranges (never a suffix range), then the whole object once for its sha256.
    const gets = [...proxy.requests().matchAll(/^GET \/data\/pq\/p\.parquet[^\r]*\r\n((?:[^\r]+\r\n)*)/gm)].map((m) => /^range: (.*)$/im.exec(m[1])?.[1]?.trim() ?? 'whole');
    expect(gets.filter((g) => g !== 'whole').length).toBeGreaterThanOrEqual(2);
    expect(gets.every((g) => g === 'whole' || /^bytes=\d+-\d+$/.test(g))).toBe(true);
    expect((await runJob(fromFile.job)).status).toBe('ok');
    expect((await object('results', 'pq/p.parquet'))?.equals(readFileSync(path.join(fromFile.dir, 'out/p.parquet')))).toBe(true);
  });
});

describe('several readers of one object', () => {
  it('a Parquet object of several row groups read by two readers gives the bytes, rejects and counts of one', async () => {
    const data = mixedParquet(240_000, [70_001, 4_999, 5_000, 40_000, 120_000], { padding: true });
    await server.put('data', 'pqpar/in.parquet', data);
    // Through a proxy that records the requests: each reader reads the footer from the start ('PAR1').
    const proxy = await s3Proxy(server.port);
    const heads = () => proxy.requests().match(/^range: bytes=0-3\r$/gim)?.length ?? 0;
    const runs = [];
    for (const readers of [1, 2]) {
      const before = heads();
      const { job: j, dir } = job([
        `input: { path: s3://data/pqpar/in.parquet, readers: ${readers} }`,
        'passthrough: [id, ts, note]',
        'batch_size: 1024',
        'output: out/r.csv',
        'errors: { max_rejected: 100000, rejects: out/rejects.csv }',
        `storage: { s3: { endpoint: "http://127.0.0.1:${proxy.port}", region: eu-west-1 } }`,
      ]);
      const r = await runJob(j);
      const read = (f: string) => readFileSync(path.join(dir, 'out', f), 'utf8');
      // The planner's footer, then each reader's.
      expect(heads() - before).toBe(1 + readers);
      runs.push({ status: r.status, inputs: r.inputs.map((i) => ({ ...i, output: null, rejects: null, duration_ms: 0 })), result: read('r.csv'), rejects: read('rejects.csv').replaceAll(dir, '') });
    }
    await proxy.close();
    expect(runs[0].inputs[0]).toMatchObject({ rows_in: 240_000, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    expect(runs[0].rejects.trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]))).toEqual(
      Array.from({ length: 240_000 }, (_, i) => i)
        .filter((i) => rejectedRow(i, ['a', 'b']))
        .map((i) => i + 1),
    );
    expect(runs[1]).toEqual(runs[0]);
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

describe('sharded runs over objects', () => {
  it('two workers cut one object by byte ranges and write their results to the store; merge combines them there', async () => {
    const text = csv(60_000);
    await server.put('data', 'shard/big.csv', text);
    const s3 = job(['input: s3://data/shard/*.csv', 'passthrough: [id]', 'output: s3://results/shard/out-{shard}.csv'], 'sharded');
    const local = job(['input: in/*.csv', 'passthrough: [id]', 'output: out/out.csv']);
    mkdirSync(path.join(local.dir, 'in'));
    writeFileSync(path.join(local.dir, 'in/big.csv'), text);
    const shards = [];
    for (const index of [0, 1]) shards.push(await runJob(s3.job, { shard: { index, count: 2 } }));
    expect(shards.map((r) => [r.status, r.error])).toEqual([
      ['ok', null],
      ['ok', null],
    ]);
    expect(shards.map((r) => r.inputs[0].range?.start)).toEqual([0, expect.any(Number)]);
    expect(shards[1].inputs[0].range!.start).toBeGreaterThan(0);
    const { mergeJob } = await import('../../src/run/merge.js');
    const merged = await mergeJob(s3.job, { count: 2 });
    expect([merged.status, merged.error, merged.totals.rows_out]).toEqual(['ok', null, 60_000]);
    expect((await runJob(local.job)).status).toBe('ok');
    expect((await object('results', 'shard/out-all.csv'))?.equals(readFileSync(path.join(local.dir, 'out/out.csv')))).toBe(true);
  });
});

describe('standard output and the command line', () => {
  it('--input s3://… --output - prints the result of an object', async () => {
    await server.put('data', 'cli/one.csv', csv(3));
    const { file, dir } = job(['input: in/*.csv', 'passthrough: [id]', 'output: out/{input_stem}.csv']);
    const r = await runMain(['run', file, '--input', 's3://data/cli/one.csv', '--output', '-', '--quiet'], { cwd: dir });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n')[0]).toBe('id,label,probabilities_0,probabilities_1');
    expect(r.stdout.trim().split('\n')).toHaveLength(4);
  });
});

describe('a combined result object and a failed input', () => {
  it("is not committed when the failed input's rows already left in a part with earlier rows", async () => {
    const rows = (n: number, bad?: number) => {
      let s = 'id,a,b,c\n';
      for (let i = 0; i < n; i++) s += `${'y'.repeat(60)}${i},${i === bad ? 'oops' : (i % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
      return s;
    };
    // About 3 MiB of results from a.csv, then b.csv fails after about 6 MiB more: the first 8 MiB part, sent
    // while b.csv was read, holds rows of both.
    await server.put('data', 'combined/a.csv', rows(30_000));
    await server.put('data', 'combined/b.csv', rows(80_000, 79_000));
    await server.put('data', 'combined/c.csv', rows(10));
    const { job: j, dir } = job(['input: s3://data/combined/*.csv', 'passthrough: [id]', 'output: s3://results/combined/all.csv'], 'combined');
    const r = await runJob(j);
    expect([r.status, r.exit_code]).toEqual(['failed', 1]);
    // Its multipart upload is aborted; s3rver refuses (405): said, and kept in the journal for the next run.
    expect(r.warnings).toEqual([expect.stringMatching(/^s3:\/\/results\/combined\/all\.csv: the store does not abort multipart uploads \(HTTP 405 MethodNotAllowed\); upload \S+ stays until a lifecycle rule or the store's own cleanup removes it$/)]);
    expect(JSON.parse(readFileSync(path.join(dir, 'state/inflight/combined.json'), 'utf8'))).toMatchObject({ ended: true, pending: [{ url: 's3://results/combined/all.csv' }] });
    expect(r.inputs.map((i) => i.status)).toEqual(['failed', 'failed', 'failed']);
    expect(r.inputs[1].error).toMatch(/^too many rejected rows/);
    for (const i of [0, 2]) {
      expect(r.inputs[i].error).toBe("the combined result s3://results/combined/all.csv is not written: rows of s3://data/combined/b.csv, which failed, were already sent with earlier rows and cannot be taken out; run again, or put {input_stem} in output.path for one result per input");
    }
    expect(await keys('results', 'combined/')).toEqual([]);

    // Fixed, the same job uploads and completes a result of about 10 MiB in two parts: its own upload leaves the
    // journal once completed; the earlier one stays, tried again and said again.
    const left = JSON.parse(readFileSync(path.join(dir, 'state/inflight/combined.json'), 'utf8')) as { pending: { id: string }[] };
    await server.put('data', 'combined/b.csv', rows(80_000));
    const fixed = await runJob(j);
    expect([fixed.status, fixed.totals.rows_out]).toEqual(['ok', 110_010]);
    expect(fixed.warnings).toEqual([expect.stringMatching(/ended: could not abort 1 multipart upload it left, noted for the next run: .*HTTP 405/)]);
    expect((await object('results', 'combined/all.csv'))?.toString().trim().split('\n')).toHaveLength(110_011);
    expect(JSON.parse(readFileSync(path.join(dir, 'state/inflight/combined.json'), 'utf8'))).toMatchObject({ ended: true, pending: left.pending });
  });
});

describe('--limit over objects', () => {
  it('never replaces a result object with a partial one', async () => {
    await server.put('data', 'limit/one.csv', csv(5));
    const { file, dir } = job(['input: s3://data/limit/*.csv', 'output: s3://results/limit/{input_stem}.csv']);
    expect((await runMain(['run', file, '--quiet'], { cwd: dir })).status).toBe(0);
    const before = await object('results', 'limit/one.csv');
    const r = await runMain(['run', file, '--limit', '2'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--limit 2 would replace s3:\/\/results\/limit\/one\.csv with a partial result/);
    expect((await object('results', 'limit/one.csv'))?.equals(before!)).toBe(true);
  });
});

describe('a configuration the store refuses', () => {
  it('a bucket that does not exist: exit 2, one line naming the URL and what to check', async () => {
    const { file, dir } = job(['input: s3://no-such-bucket/in/*.csv', 'output: out/{input_stem}.csv']);
    const r = await runMain(['run', file], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').filter((l) => /error/.test(l))).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot list s3:\/\/no-such-bucket\/in\/\*\.csv: the bucket 'no-such-bucket' does not exist at http:\/\/127\.0\.0\.1:\d+; check the bucket name and the endpoint/);
    const out = job(['input: in/*.csv', 'output: s3://no-such-bucket/out/{input_stem}.csv']);
    writeFiles(out.dir, { 'in/a.csv': csv(3) });
    const w = await runMain(['run', out.file], { cwd: out.dir });
    expect(w.status).toBe(2);
    expect(w.stderr).toMatch(/cannot write s3:\/\/no-such-bucket\/out\/a\.csv: the bucket 'no-such-bucket' does not exist .* \(at output\.path\)/);
  });

  it('credentials the store does not know: exit 2 for run and validate, no secret in any line', async () => {
    await server.put('data', 'creds/a.csv', csv(3));
    const { file, dir } = job(['input: s3://data/creds/*.csv', 'output: out/{input_stem}.csv']);
    const env = { AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY0000', AWS_SECRET_ACCESS_KEY: 'a-secret-that-must-not-show' };
    const r = await runMain(['run', file], { cwd: dir, env });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cannot list s3:\/\/data\/creds\/\*\.csv: the store rejected the credentials \(InvalidAccessKeyId\) at http:\/\/127\.0\.0\.1:\d+; check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, or AWS_PROFILE/);
    const v = await runMain(['validate', file], { cwd: dir, env });
    expect(v.status).toBe(2);
    expect(v.stderr).toMatch(/the store rejected the credentials/);
    for (const text of [r.stderr, r.stdout, v.stderr, v.stdout, readFileSync(path.join(dir, 'state/runs/s3-test', readdirSync(path.join(dir, 'state/runs/s3-test'))[0]), 'utf8')]) {
      expect(text).not.toContain(env.AWS_ACCESS_KEY_ID);
      expect(text).not.toContain(env.AWS_SECRET_ACCESS_KEY);
    }
  });

  it('validate: a store that cannot be reached is exit 1 (try again later); an endpoint from a variable is never shown', async () => {
    const { file, dir } = job(['input: s3://data/creds/*.csv', 'output: out/{input_stem}.csv', 'storage: { s3: { endpoint: "${S3_ENDPOINT}" } }']);
    const v = await runMain(['validate', file], { cwd: dir, env: { S3_ENDPOINT: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' } });
    expect(v.status).toBe(1);
    expect(v.stderr).toContain('cannot list s3://data/creds/*.csv: cannot reach the store at ${S3_ENDPOINT}: connection refused; check storage.s3.endpoint');
    expect(v.stderr).not.toContain('127.0.0.1:9');
    const bad = await runMain(['validate', file], { cwd: dir, env: { S3_ENDPOINT: 'ftp://user:hunter2@example.com' } });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/storage\.s3\.endpoint/);
    expect(bad.stderr).not.toContain('hunter2');
    expect(bad.stderr).not.toContain('example.com');
  });
});

describe('a run killed during a multipart upload', () => {
  it('leaves no result object; the next run aborts its upload (s3rver refuses: noted and said) and writes the whole result', async () => {
    // Rows with long ids, so the result passes the 8 MiB of a first part while the input is still coming.
    const rows = (from: number, to: number) => {
      let s = from === 0 ? 'id,a,b,c\n' : '';
      for (let i = from; i < to; i++) s += `${'x'.repeat(60)}${i},${(i % 10) / 10},${(i % 7) / 7},${i % 3}\n`;
      return s;
    };
    const { file, dir } = job(['input: in/*.csv', 'passthrough: [id]', 'output: s3://results/killed/{input_stem}.csv'], 'killed');
    mkdirSync(path.join(dir, 'in'));
    const fifo = makeFifo(path.join(dir, 'in/big.csv'));
    const run = cliAsync(['run', file, '--input', fifo, '--quiet'], { cwd: dir, env: server.env() });
    const feed = createWriteStream(fifo);
    feed.on('error', () => undefined);
    feed.write(rows(0, 150_000));
    // The upload is noted in the run's journal before its first part is sent.
    const journal = path.join(dir, 'state/inflight/killed.json');
    const pending = () => (existsSync(journal) ? (JSON.parse(readFileSync(journal, 'utf8')) as { pending?: { url: string; id: string }[] }).pending ?? [] : []);
    for (let waited = 0; pending().length === 0; waited += 50) {
      if (waited > 60_000) throw new Error(`no upload was noted: ${run.output().stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(pending()).toEqual([{ url: 's3://results/killed/big.csv', id: expect.any(String) }]);
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    feed.destroy();
    expect(await keys('results', 'killed/')).toEqual([]);

    // The next run, on the whole input.
    writeFileSync(path.join(dir, 'whole.csv'), rows(0, 20_000));
    const j = parseJob(readFileSync(file, 'utf8'), file);
    const next = await runJob({ ...j, input: { ...j.input, patterns: [path.join(dir, 'whole.csv')] }, output: { ...j.output, template: 's3://results/killed/big.csv' } });
    expect([next.status, next.error]).toEqual(['ok', null]);
    expect(next.warnings).toEqual([
      expect.stringMatching(
        /^run \S+ \(pid \d+, started .*\) did not finish: it left no temporary files; could not abort 1 multipart upload it left, noted for the next run: s3:\/\/results\/killed\/big\.csv: the store does not abort multipart uploads \(HTTP 405 MethodNotAllowed\); upload \S+ stays until a lifecycle rule or the store's own cleanup removes it$/,
      ),
    ]);
    // Noted for the next run, which tries again and says so.
    expect(pending()).toHaveLength(1);
    expect(JSON.parse(readFileSync(journal, 'utf8'))).toMatchObject({ ended: true, dirs: [] });
    const local = job([`input: ${JSON.stringify(path.join(dir, 'whole.csv'))}`, 'passthrough: [id]', 'output: out/big.csv'], 'killed-local');
    expect((await runJob(local.job)).status).toBe('ok');
    expect((await object('results', 'killed/big.csv'))?.equals(readFileSync(path.join(local.dir, 'out/big.csv')))).toBe(true);
    writeFileSync(path.join(dir, 'small.csv'), rows(0, 10));
    const again = await runJob({ ...j, input: { ...j.input, patterns: [path.join(dir, 'small.csv')] }, output: { ...j.output, template: 's3://results/killed/again.csv' } });
    expect(again.warnings).toEqual([expect.stringMatching(/^run \S+ \(pid \d+, started .*\) ended: could not abort 1 multipart upload it left, noted for the next run: .*HTTP 405/)]);
  });
});
