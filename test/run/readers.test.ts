// A run whose input is read by several reader threads writes what a run with one reader writes: the same
// result and rejects files byte for byte, the same counts and sha256 in the run record — and, when
// errors.max_rejected is exceeded, the same failure after the same rows.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { runJob } from '../../src/run/run-job.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/reader-thread.js';
import { model } from '../support/cli.js';
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

// Run the regressor over in.csv with `readers` readers; the result, rejects and record.
async function run(dir: string, readers: number, maxRejected: number) {
  const job = parseJob(
    `name: readers\nmodel: ${model('regressor')}\ninput: { path: in.csv, readers: ${readers} }\nfeatures: { columns: [x1, x2] }\npassthrough: [id, note]\nbatch_size: 1000\noutput: out/r.csv\nerrors: { max_rejected: ${maxRejected}, rejects: out/rejects.csv }\nstate_dir: state\n`,
    path.join(dir, 'job.yaml'),
  );
  const r = await runJob(job);
  const read = (f: string) => {
    try {
      return readFileSync(path.join(dir, 'out', f), 'utf8');
    } catch {
      return undefined;
    }
  };
  const out = { status: r.status, error: r.error, result: read('r.csv'), rejects: read('rejects.csv'), inputs: r.inputs.map((i) => ({ ...i, duration_ms: 0 })) };
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
