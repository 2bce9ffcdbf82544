// merge over shard records and results written by hand: which run of a shard counts, what makes shards not
// belong together, and what a result that disagrees with its record does. (test/cli/shard.test.ts runs real
// workers.)
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { jobConfigHash } from '../../src/run/ledger.js';
import { acquireLock } from '../../src/run/lock.js';
import { mergeJob } from '../../src/run/merge.js';
import type { InputRecord, RunRecord, ShardInfo } from '../../src/run/record.js';
import { tempDir } from '../support/temp-dir.js';

const JOB = `model: m.onnx
input: in
features: { columns: [a] }
output: out/part-{shard}.csv
errors: { max_rejected: '10%', rejects: 'out/rejects-{shard}.csv' }
`;

function setup(jobText = JOB) {
  const dir = tempDir();
  writeFileSync(path.join(dir, 'job.yaml'), jobText);
  const job = parseJob(jobText, path.join(dir, 'job.yaml'));
  let clock = 0;
  // A run record of shard `index` of `count`, and its result file when given.
  const shard = (index: number, count: number, inputs: Partial<InputRecord>[], over: Partial<RunRecord> = {}, result?: string, info: Partial<ShardInfo> = {}) => {
    const runDir = path.join(dir, '.serve-batch/runs', `job.shard-${index}-of-${count}`);
    mkdirSync(runDir, { recursive: true });
    const output = path.join(dir, `out/part-${index}.csv`);
    if (result !== undefined) {
      mkdirSync(path.dirname(output), { recursive: true });
      writeFileSync(output, result);
    }
    const recs: InputRecord[] = inputs.map((i) => ({ path: '', bytes: 10, sha256: 's', rows_in: 1, rows_out: 1, rows_rejected: 0, output, rejects: null, status: 'ok', error: null, reason: null, duration_ms: 1, ...i }));
    const runId = `2026010${index}T00000${clock++}Z-abcd`;
    const record: RunRecord = {
      job: 'job',
      job_file: path.join(dir, 'job.yaml'),
      run_id: runId,
      trigger: 'cli',
      started_at: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
      ended_at: new Date(Date.UTC(2026, 0, 1, 0, 0, clock)).toISOString(),
      duration_ms: 1,
      status: 'ok',
      exit_code: 0,
      error: null,
      model: { path: 'm.onnx', sha256: 'M' },
      versions: { serve_batch: '0.1.0', onnxruntime: '1.30.0', node: 'v20' },
      totals: { inputs: recs.length, failed: 0, rows_in: recs.reduce((n, r) => n + r.rows_in, 0), rows_out: recs.reduce((n, r) => n + r.rows_out, 0), rows_rejected: recs.reduce((n, r) => n + r.rows_rejected, 0) },
      inputs: recs,
      warnings: [],
      record: null,
      shard: { index, count, tag: String(index), plan: 'P', pieces: 2, total_bytes: 20, bytes: 10, bytes_per_shard: [10, 10], output_format: 'csv', config_hash: jobConfigHash(job, 'csv'), batch_size: 8192, splits: [], ...info },
      ...over,
    };
    writeFileSync(path.join(runDir, `${runId}.json`), JSON.stringify(record));
    return record;
  };
  const a = path.join(dir, 'in/a.csv');
  const b = path.join(dir, 'in/b.csv');
  const merged = () => readFileSync(path.join(dir, 'out/part-all.csv'), 'utf8');
  return { dir, job, shard, a, b, merged };
}

describe('merge', () => {
  it('concatenates the shards in order with one header, and records every shard', async () => {
    const t = setup();
    t.shard(0, 2, [{ path: t.a }], {}, 'p\n1\n');
    t.shard(1, 2, [{ path: t.b }], {}, 'p\n2\n');
    const r = await mergeJob(t.job, { count: 2 });
    expect(r).toMatchObject({ status: 'ok', exit_code: 0, totals: { inputs: 2, rows_in: 2, rows_out: 2 } });
    expect(t.merged()).toBe('p\n1\n2\n');
    expect(r.merge?.shards.map((s) => [s.index, s.status, s.rows_out])).toEqual([
      [0, 'ok', 1],
      [1, 'ok', 1],
    ]);
    expect(r.versions.onnxruntime).toBe('1.30.0');
    expect(JSON.parse(readFileSync(r.record as string, 'utf8')).merge.plan).toBe('P');
  });

  it("uses each shard's latest run, not its skipped ones; a later failure counts", async () => {
    const t = setup();
    t.shard(0, 2, [{ path: t.a }], { status: 'failed', exit_code: 1, error: 'boom' });
    t.shard(0, 2, [{ path: t.a }], {}, 'p\n1\n');
    t.shard(1, 2, [{ path: t.b }], {}, 'p\n2\n');
    t.shard(1, 2, [], { status: 'skipped', exit_code: 3, error: 'locked' });
    expect((await mergeJob(t.job, { count: 2 })).status).toBe('ok');
    t.shard(1, 2, [{ path: t.b }], { status: 'interrupted', exit_code: 143, error: 'interrupted: no partial results were kept' });
    const r = await mergeJob(t.job, { count: 2 });
    expect(r).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(r.error).toMatch(/^1 of 2 shards did not finish: shard 1 was interrupted \(run \S+\): interrupted: no partial results were kept$/);
  });

  it('shards that do not belong together: another listing, model, version or job settings (exit 1)', async () => {
    const cases: [Partial<RunRecord>, Partial<ShardInfo>, RegExp][] = [
      [{}, { plan: 'Q' }, /^shard 1 planned from another listing of the inputs than shard 0 \(plan Q vs P\): the inputs changed between the workers' runs; run every shard again$/],
      [{ model: { path: 'm.onnx', sha256: 'other' } }, {}, /^shard 1 scored with another model than shard 0/],
      [{ versions: { serve_batch: '0.2.0', onnxruntime: '1.30.0', node: 'v20' } }, {}, /^shard 1 ran serve-batch 0\.2\.0, onnxruntime 1\.30\.0, shard 0 serve-batch 0\.1\.0, onnxruntime 1\.30\.0: run every shard with the same version$/],
      [{}, { config_hash: 'x' }, /^shard 1 ran with other job settings than shard 0; run every shard again$/],
      [{}, { pieces: 3 }, /^the plan has 3 pieces but the shards' records hold 2: run every shard again$/],
    ];
    for (const [over, info, message] of cases) {
      const t = setup();
      t.shard(0, 2, [{ path: t.a }], {}, 'p\n1\n', info.pieces ? { pieces: info.pieces } : {});
      t.shard(1, 2, [{ path: t.b }], over, 'p\n2\n', info);
      const r = await mergeJob(t.job, { count: 2 });
      expect(r.exit_code, String(message)).toBe(1);
      expect(r.error).toMatch(message);
      expect(existsSync(path.join(t.dir, 'out/part-all.csv'))).toBe(false);
    }
    // The job file changed since the shards ran.
    const t = setup();
    t.shard(0, 2, [{ path: t.a }], {}, 'p\n1\n');
    t.shard(1, 2, [{ path: t.b }], {}, 'p\n2\n');
    const changed = parseJob(JOB.replace('columns: [a]', 'columns: [a, b]'), path.join(t.dir, 'job.yaml'));
    expect((await mergeJob(changed, { count: 2 })).error).toMatch(/the job's settings changed since the shards ran/);
  });

  it('a result that disagrees with its record, or is gone, fails the merge and writes nothing', async () => {
    const more = setup();
    more.shard(0, 2, [{ path: more.a }], {}, 'p\n1\n');
    more.shard(1, 2, [{ path: more.b }], {}, 'p\n2\n3\n');
    expect((await mergeJob(more.job, { count: 2 })).error).toMatch(/the shard result out\/part-1\.csv holds more rows than its run record says|part-1\.csv holds more rows/);
    const fewer = setup();
    fewer.shard(0, 2, [{ path: fewer.a, rows_in: 2, rows_out: 2 }], {}, 'p\n1\n');
    fewer.shard(1, 2, [{ path: fewer.b }], {}, 'p\n2\n');
    expect((await mergeJob(fewer.job, { count: 2 })).error).toMatch(/part-0\.csv holds fewer rows than its run record says \(1 missing\)/);
    const gone = setup();
    gone.shard(0, 2, [{ path: gone.a }], {}, 'p\n1\n');
    gone.shard(1, 2, [{ path: gone.b }]);
    const r = await mergeJob(gone.job, { count: 2 });
    expect(r).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(r.error).toMatch(/a shard's result is missing or unreadable: .*part-1\.csv.*; run that shard again/);
    expect(existsSync(path.join(gone.dir, 'out/part-all.csv'))).toBe(false);
  });

  it('errors.max_rejected over the pieces of a split file: each piece under it, the file over it', async () => {
    const t = setup();
    const piece = (start: number, end: number, line: number) => ({ path: t.a, bytes: end - start, range: { start, end, file_bytes: 20, line }, rows_in: 10, rows_out: 9, rows_rejected: 1 });
    t.shard(0, 2, [piece(0, 10, 1)], {}, `p\n${'1\n'.repeat(9)}`);
    t.shard(1, 2, [piece(10, 20, 12)], {}, `p\n${'2\n'.repeat(9)}`);
    // 2 of 20 rows = 10%: allowed.
    expect((await mergeJob(t.job, { count: 2 })).status).toBe('ok');
    expect(t.merged()).toBe(`p\n${'1\n'.repeat(9)}${'2\n'.repeat(9)}`);
    const strict = parseJob(JOB.replace("'10%'", '1'), path.join(t.dir, 'job.yaml'));
    const r = await mergeJob(strict, { count: 2 });
    expect(r.error).toMatch(/^too many rejected rows across the 2 pieces of \S*in\/a\.csv: 2 of 20 rows, errors\.max_rejected is 1; the combined result was not written$/);
  });

  it('pieces that do not line up are refused', async () => {
    const t = setup();
    t.shard(0, 2, [{ path: t.a, range: { start: 0, end: 10, file_bytes: 20, line: 1 } }], {}, 'p\n1\n');
    t.shard(1, 2, [{ path: t.a, range: { start: 12, end: 20, file_bytes: 20, line: 3 } }], {}, 'p\n2\n');
    expect((await mergeJob(t.job, { count: 2 })).error).toMatch(/the shards. pieces of \S*in\/a\.csv do not line up \(shard 1 starts at byte 12\)/);
  });

  it('shards with nothing to do: no result, as an unsharded run over no inputs', async () => {
    const t = setup();
    t.shard(0, 2, [], {}, undefined, { pieces: 0 });
    t.shard(1, 2, [], {}, undefined, { pieces: 0 });
    const r = await mergeJob(t.job, { count: 2 });
    expect(r).toMatchObject({ status: 'ok', totals: { inputs: 0 } });
    expect(existsSync(path.join(t.dir, 'out/part-all.csv'))).toBe(false);
  });

  it("another merge or run of the job holds the job's lock: skipped (exit 3)", async () => {
    const t = setup();
    const lock = await acquireLock(t.job.stateDir, 'job', 'other');
    try {
      const r = await mergeJob(t.job, { count: 2 });
      expect(r).toMatchObject({ status: 'skipped', exit_code: 3 });
      expect(r.error).toMatch(/^job job is already running: pid \d+ on .* \(run other, since .*\); this merge was skipped$/);
    } finally {
      if (lock.held) await lock.release();
    }
  });
});

describe("merge checks the files it writes as run does, before writing anything (exit 2, naming both)", () => {
  // Two shards with a reject each; the merged output at `output` must be refused with `message`.
  async function refused(output: (t: ReturnType<typeof setup>) => string, message: RegExp) {
    const t = setup();
    mkdirSync(path.join(t.dir, 'in'), { recursive: true });
    writeFileSync(t.a, 'a\n1\nx\n');
    writeFileSync(t.b, 'a\n2\ny\n');
    const rej = (i: number) => path.join(t.dir, `out/rejects-${i}.csv`);
    t.shard(0, 2, [{ path: t.a, rows_in: 2, rows_rejected: 1, rejects: rej(0) }], {}, 'p\n1\n');
    t.shard(1, 2, [{ path: t.b, rows_in: 2, rows_rejected: 1, rejects: rej(1) }], {}, 'p\n2\n');
    writeFileSync(rej(0), '_file,_line,_error,a\na.csv,3,bad,x\n');
    writeFileSync(rej(1), '_file,_line,_error,a\nb.csv,3,bad,y\n');
    const lock = path.join(t.dir, '.serve-batch/locks/job.lock');
    const target = output(t);
    const before = existsSync(target) ? readFileSync(target, 'utf8') : undefined;
    const r = await mergeJob(t.job, { count: 2, output: target });
    expect([r.status, r.exit_code], r.error ?? '').toEqual(['invalid', 2]);
    expect(r.error).toMatch(message);
    expect(existsSync(target) ? readFileSync(target, 'utf8') : undefined).toBe(before);
    expect(existsSync(path.join(t.dir, 'out/part-all.csv'))).toBe(false);
    expect(existsSync(path.join(t.dir, 'out/rejects-all.csv'))).toBe(false);
    expect(existsSync(lock)).toBe(false);
  }

  it('an input', () => refused((t) => t.a, /^the result for .*in\/a\.csv would overwrite an input \(.*in\/a\.csv\); write it to another directory \(at output\.path\)$/));
  it('the merged rejects file', () => refused((t) => path.join(t.dir, 'out/rejects-all.csv'), /^the result for .*\(output\.path\) and the rejected rows of .*\(errors\.rejects\) would both be written to .*out\/rejects-all\.csv, one replacing the other/));
  it("a shard's result, and a shard's rejects file", async () => {
    await refused((t) => path.join(t.dir, 'out/part-0.csv'), /would overwrite the result of shard 0 \(.*out\/part-0\.csv\)/);
    await refused((t) => path.join(t.dir, 'out/rejects-1.csv'), /would overwrite the rejects file of shard 1 \(.*out\/rejects-1\.csv\)/);
  });
  it("the job's lock, the model, the job file, a shard's record and the scheduler's state", async () => {
    await refused((t) => path.join(t.dir, '.serve-batch/locks/job.lock'), /and the job's lock \(state_dir\) would both be written to .*locks\/job\.lock.*\(at output\.path\)$/);
    await refused((t) => path.join(t.dir, 'm.onnx'), /would overwrite the model \(.*m\.onnx\)/);
    await refused((t) => path.join(t.dir, 'job.yaml'), /would overwrite the job file \(.*job\.yaml\)/);
    await refused((t) => readdirSync(path.join(t.dir, '.serve-batch/runs/job.shard-0-of-2')).map((f) => path.join(t.dir, '.serve-batch/runs/job.shard-0-of-2', f))[0], /would overwrite the run record of shard 0/);
    await refused((t) => path.join(t.dir, '.serve-batch/schedule/job.json'), /and the scheduler's state of the job \(state_dir\) would both be written/);
  });
  it('a place under /proc, as run refuses it', () => refused(() => '/proc/x.csv', /^cannot write \/proc\/x\.csv: .*proc.*\(at output\.path\)$/));
});
