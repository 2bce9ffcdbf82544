// A run whose input is read by several reader threads writes what a run with one reader writes: the same
// result and rejects files byte for byte, the same counts and sha256 in the run record — and, when
// errors.max_rejected is exceeded, the same failure after the same rows. For CSV, and for a Parquet file
// whose row groups are shared among the readers.
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { runJob } from '../../src/run/run-job.js';
import { parquetReaderCount, planRowGroups, type GroupShare } from '../../src/pipeline/pieces.js';
import type { PrepareSpec } from '../../src/pipeline/prepare.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/reader-thread.js';
import { model } from '../support/cli.js';
import { mixedParquet, rejectedRow } from '../support/parquet.js';
import { tempDir } from '../support/temp-dir.js';

// Over WORKER_MIN_BYTES of CSV, every 5,000th row a bad one (not a number, or too few fields), and one row
// whose quoted note holds 3,000 lines across the place where a third reader would start: the second
// reader's piece does not end at a record start there, so it reads on to the end (quotes elsewhere would
// send their blocks through csv-parse, ten times slower).
function bigCsv(): string {
  const lines = ['id,note,x1,x2'];
  let s = 7;
  const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648).toFixed(5);
  const total = WORKER_MIN_BYTES + 1_000_000;
  let size = 0;
  let long = false;
  for (let i = 0; size < total; i++) {
    let line = i % 5000 === 4999 ? (i % 10000 === 9999 ? `${i},short,1` : `${i},bad,x,${next()}`) : `${i},plain,${next()},${next()}`;
    if (!long && size > (total * 2) / 3 - 20_000) {
      long = true;
      line = `${i},"${'a line of the note,\n'.repeat(3000)}end",${next()},${next()}`;
    }
    lines.push(line);
    size += line.length + 1;
  }
  return `${lines.join('\n')}\n`;
}

/** The model, input and columns of a job (the rest is `run`'s). */
interface Scoring {
  model: string;
  input: string;
  features: string;
  passthrough: string;
  batchSize: number;
}

const CSV_JOB: Scoring = { model: 'regressor', input: 'in.csv', features: '[x1, x2]', passthrough: '[id, note]', batchSize: 1000 };

// Run a job over its input with `readers` readers into out/`result`; the result, rejects and record.
async function run(dir: string, readers: number, maxRejected: number, o: Scoring = CSV_JOB, result = 'r.csv') {
  const job = parseJob(
    `name: readers\nmodel: ${model(o.model)}\ninput: { path: ${o.input}, readers: ${readers} }\nfeatures: { columns: ${o.features} }\npassthrough: ${o.passthrough}\nbatch_size: ${o.batchSize}\noutput: { path: out/${result}, float_precision: 9 }\nerrors: { max_rejected: ${maxRejected}, rejects: out/rejects.csv }\nstate_dir: state\n`,
    path.join(dir, 'job.yaml'),
  );
  const r = await runJob(job);
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, 'out', f), 'latin1');
    } catch {
      return undefined;
    }
  };
  const out = { status: r.status, error: r.error, result: read(result), rejects: read('rejects.csv'), inputs: r.inputs.map((i) => ({ ...i, duration_ms: 0 })) };
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  return out;
}

describe('several readers of one input', () => {
  it('write the bytes, rejects and counts of one reader; a rejects limit stops after the same rows', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.csv'), bigCsv());
    const one = await run(dir, 1, 1000);
    expect(one.status).toBe('ok');
    expect(one.inputs[0].rows_rejected).toBeGreaterThan(10);
    expect(one.inputs[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await run(dir, 3, 1000)).toEqual(one);

    const failed = await run(dir, 1, 25);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('too many rejected rows');
    expect(failed.inputs[0].rows_in).toBeLessThan(one.inputs[0].rows_in);
    // The 26th reject is in the second reader's piece, whose chunks start elsewhere than one reader's: the
    // run stops after the same rows all the same. (Bytes read by then differ: readers read ahead.)
    const many = await run(dir, 3, 25);
    expect({ ...many, inputs: many.inputs.map((i) => ({ ...i, bytes: 0 })) }).toEqual({ ...failed, inputs: failed.inputs.map((i) => ({ ...i, bytes: 0 })) });
  });
});

describe('several readers of one Parquet input', () => {
  // 240,000 rows in row groups of 70,001, 4,999, 5,000, 40,000 and 120,000 rows (none a multiple of
  // batch_size), over WORKER_MIN_BYTES; a, b and flag hold nulls and a NaNs: ~5% of the rows are rejected.
  const ROWS = 240_000;
  const PARQUET_JOB: Scoring = { model: 'forest', input: 'in.parquet', features: '[a, b, c, flag]', passthrough: '[id, ts, note]', batchSize: 1024 };

  // The row groups of in.parquet as a run with `readers` readers shares them.
  const share = (file: string, readers: number) => planRowGroups({ file, display: file } as PrepareSpec, (rows, groups) => parquetReaderCount(rows, 7, groups, undefined, readers));

  it('write the bytes, rejects and counts of one reader; a rejects limit stops after the same rows', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'in.parquet');
    writeFileSync(file, mixedParquet(ROWS, [70_001, 4_999, 5_000, 40_000, 120_000], { padding: true }));
    const data = readFileSync(file);
    expect(data.length).toBeGreaterThan(WORKER_MIN_BYTES);
    expect(((await share(file, 2)) as GroupShare).readers).toEqual([[0], [1, 2, 3, 4]]);
    expect(((await share(file, 3)) as GroupShare).readers).toEqual([[0], [1, 3], [2, 4]]);

    const one = await run(dir, 1, 100_000, PARQUET_JOB);
    const rejected = Array.from({ length: ROWS }, (_, i) => i).filter((i) => rejectedRow(i));
    expect(one.status).toBe('ok');
    expect(one.inputs[0]).toMatchObject({ rows_in: ROWS, rows_rejected: rejected.length, bytes: data.length, sha256: createHash('sha256').update(data).digest('hex') });
    // One reader's own output is right: ids in file order, each reject on its row of the file.
    const ids = (one.result as string).trim().split('\n').slice(1).map((l) => l.split(',')[0]);
    expect(ids).toEqual(Array.from({ length: ROWS }, (_, i) => `r${i}`).filter((_, i) => !rejectedRow(i)));
    const lines = (one.rejects as string).trim().split('\n').slice(1).map((l) => Number(l.split(',')[1]));
    expect(lines).toEqual(rejected.map((i) => i + 1));
    expect(await run(dir, 2, 100_000, PARQUET_JOB)).toEqual(one);
    expect(await run(dir, 3, 100_000, PARQUET_JOB)).toEqual(one);
    // A Parquet result: its row groups follow the chunks, which are one reader's.
    expect(await run(dir, 3, 100_000, PARQUET_JOB, 'r.parquet')).toEqual(await run(dir, 1, 100_000, PARQUET_JOB, 'r.parquet'));

    // The limit is crossed in row group 4 (rows 80,001-120,000), the second reader's of three: the run stops
    // after the same chunk, with the same bytes read.
    const limit = rejected.filter((i) => i < 100_000).length;
    const failed = await run(dir, 1, limit, PARQUET_JOB);
    expect(failed.status).toBe('failed');
    expect(failed.error).toContain('too many rejected rows');
    expect(failed.inputs[0].rows_in).toBeGreaterThan(80_000);
    expect(failed.inputs[0].rows_in).toBeLessThan(120_000);
    expect(await run(dir, 3, limit, PARQUET_JOB)).toEqual(failed);
  });
});
