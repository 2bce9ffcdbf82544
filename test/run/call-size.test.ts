// A row's results do not depend on how rows are grouped into model calls: with a forest of 100 trees (which
// ONNX Runtime adds up in another order on calls of few rows), every batch_size from 1 up, and every sharded
// run of 1 to 7 workers cut inside a file and merged, write the bytes of one run in one chunk — with 9
// significant digits, so that every float32 bit shows. And a stop while the forest's chunks are scored in
// parallel calls leaves no result behind.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { mergeJob } from '../../src/run/merge.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/reader-thread.js';
import { runJob } from '../../src/run/run-job.js';
import { model } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// A CSV of `rows` rows of an id and 4 floats in [0, 1) (no quotes, so a shard may cut it at any line).
function forestCsv(rows: number, seed: number): string {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648).toFixed(6);
  const lines = ['id,a,b,c,d'];
  for (let i = 0; i < rows; i++) lines.push(`r${i},${next()},${next()},${next()},${next()}`);
  return `${lines.join('\n')}\n`;
}

// The forest job over `input`, with `batch_size`, writing out/part-{shard}.csv.
function job(dir: string, input: string, batchSize: number, threads?: number) {
  const text = `name: forest
model: { path: ${model('forest')}${threads === undefined ? '' : `, threads: ${threads}`} }
input: ${input}
features: { columns: [a, b, c, d] }
passthrough: [id]
batch_size: ${batchSize}
output: { path: 'out/part-{shard}.csv', float_precision: 9 }
state_dir: state
`;
  return parseJob(text, path.join(dir, 'job.yaml'));
}

// One run (or one shard of one) and its result's bytes.
async function result(dir: string, input: string, batchSize: number, threads?: number): Promise<Buffer> {
  const r = await runJob(job(dir, input, batchSize, threads));
  expect(r.status, r.error ?? '').toBe('ok');
  const bytes = readFileSync(path.join(dir, 'out/part-all.csv'));
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  return bytes;
}

describe('results do not depend on how rows are grouped into model calls', () => {
  it('batch_size 1 to 12, 37, 64, 129 and 150 give the bytes of one chunk', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.csv'), forestCsv(150, 11));
    const one = await result(dir, 'in.csv', 1_000_000);
    expect(one.toString().split('\n')).toHaveLength(152);
    for (const size of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 37, 64, 129, 150]) {
      expect((await result(dir, 'in.csv', size)).equals(one), `batch_size ${size}`).toBe(true);
    }
  });

  it('1 to 7 workers, each file cut inside, merged, give the bytes of one chunk', async () => {
    const dir = tempDir();
    // 1.2 MB and 0.3 MB: the first is split between workers at line starts (above 1 MiB), the second is not,
    // and ends in a chunk of 50 rows (8192 + 50).
    writeFileSync(path.join(dir, 'a.csv'), forestCsv(30_000, 23));
    writeFileSync(path.join(dir, 'b.csv'), forestCsv(8242, 31));
    const input = '"*.csv"';
    const one = await result(dir, input, 1_000_000);
    for (let count = 1; count <= 7; count++) {
      for (let index = 0; index < count; index++) {
        const r = await runJob(job(dir, input, 8192), { shard: { index, count } });
        expect(r.status, r.error ?? '').toBe('ok');
      }
      const merged = await mergeJob(job(dir, input, 8192), { count });
      expect(merged.status, merged.error ?? '').toBe('ok');
      expect(readFileSync(path.join(dir, 'out/part-all.csv')).equals(one), `${count} workers`).toBe(true);
      rmSync(path.join(dir, 'out'), { recursive: true, force: true });
      rmSync(path.join(dir, 'state'), { recursive: true, force: true });
    }
  });

  it('an input read in a reader thread (8 MiB and more) gives the bytes of one chunk at every batch_size', async () => {
    const dir = tempDir();
    // The forest differs on every row between ONNX Runtime sessions of 1 and 2 threads: a chunk scored on a
    // session of another thread count shows here.
    const csv = forestCsv(220_000, 47);
    expect(Buffer.byteLength(csv)).toBeGreaterThan(WORKER_MIN_BYTES);
    writeFileSync(path.join(dir, 'big.csv'), csv);
    const one = await result(dir, 'big.csv', 1_000_000);
    expect(one.toString().split('\n')).toHaveLength(220_002);
    for (const size of [8192, 3000]) {
      expect((await result(dir, 'big.csv', size)).equals(one), `batch_size ${size}`).toBe(true);
    }
    // Scored on one thread per session (in parallel calls when the machine has cores for them): the bytes of
    // model.threads 1, whatever the number of cores.
    expect((await result(dir, 'big.csv', 8192, 1)).equals(one)).toBe(true);
    // The same rows in a file below the reader thread's size, read on this thread: the same bytes.
    const lines = csv.split('\n');
    writeFileSync(path.join(dir, 'head.csv'), `${lines.slice(0, 100_001).join('\n')}\n`);
    const head = (await result(dir, 'head.csv', 8192)).toString().split('\n');
    expect(head.slice(0, 100_001)).toEqual(one.toString().split('\n').slice(0, 100_001));
  });
});

describe('a forest scored in parallel calls', () => {
  it('a stop while its chunks are scored ends the run interrupted with no result, and the next run writes the bytes of one thread', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'big.csv'), forestCsv(220_000, 53));
    const stop = new AbortController();
    const r = await runJob(job(dir, 'big.csv', 8192), { signal: stop.signal, onProgress: (p) => p.rows > 0 && stop.abort('SIGTERM') });
    expect([r.status, r.exit_code, r.totals.rows_out]).toEqual(['interrupted', 143, 0]);
    expect(existsSync(path.join(dir, 'out/part-all.csv'))).toBe(false);
    const again = await result(dir, 'big.csv', 8192);
    expect(again.equals(await result(dir, 'big.csv', 8192, 1))).toBe(true);
  });
});
