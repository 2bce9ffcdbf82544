// Scale-out end to end: N = 1, 3 and 7 workers, then `merge`, reproduce one unsharded run byte for byte — on a
// multi-file input of mixed formats, one large Parquet input cut at row groups, one large CSV without quotes
// cut at line starts, and CSV with quoted line breaks scored whole. Workers run one after another through
// main() in this process; once as separate processes started together, as a Kubernetes Indexed Job starts
// them. A worker killed just before its rename and run again writes the same bytes; a missing or failed shard
// makes merge fail naming it.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { openAtomic } from '../../src/storage/local/file-sink.js';
import { parquetWriter } from '../../src/io/parquet-writer.js';
import { packTexts } from '../../src/table/packed.js';
import { cli, cliAsync, expectOneLineError, listFiles, model, runMain, tempDir, writeFiles, type CliResult, type MainResult } from '../support/cli.js';

// Deterministic rows for linear_binary (a, b, c): every `bad`-th row has a non-number in b (0: none).
function rows(n: number, seed: number, bad = 211): { id: string; a: string; b: string; c: string }[] {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, (_, i) => ({
    id: `r${seed}-${i}`,
    a: (next() * 4).toFixed(3),
    b: bad > 0 && i % bad === 7 ? 'n/a?' : (next() * 10 - 5).toFixed(4),
    c: (next() * 2 - 1).toFixed(5),
  }));
}
const csv = (rs: ReturnType<typeof rows>, id = (r: { id: string }) => r.id) => `id,a,b,c\n${rs.map((r) => `${id(r)},${r.a},${r.b},${r.c}`).join('\n')}\n`;
const jsonl = (rs: ReturnType<typeof rows>) => `${rs.map((r) => JSON.stringify({ id: r.id, a: Number(r.a), b: r.b === 'n/a?' ? r.b : Number(r.b), c: Number(r.c) })).join('\n')}\n`;

const job = (input: string, output: string, extra = '') =>
  `model: ${model('linear_binary')}
input: ${input}
features: { columns: [a, b, c] }
passthrough: [id]
output: ${output}
errors: { max_rejected: '2%', rejects: 'out/rejects-{shard}.csv' }
${extra}`;

interface WorkerOptions {
  env?: (i: number) => Record<string, string>;
  args?: (i: number) => string[];
  /** Start the workers together as separate processes (default: one after another in this process). */
  spawned?: boolean;
}

// Run `count` workers of the job in `dir`.
async function workers(dir: string, count: number, o: WorkerOptions = {}): Promise<(CliResult | MainResult)[]> {
  const args = (i: number) => ['run', 'job.yaml', ...(o.args ? o.args(i) : ['--shard', `${i}/${count}`]), '--json', '--log-format', 'json'];
  if (o.spawned) return Promise.all(Array.from({ length: count }, (_, i) => cliAsync(args(i), { cwd: dir, env: o.env?.(i) }).done));
  const done = [];
  for (let i = 0; i < count; i++) done.push(await runMain(args(i), { cwd: dir, env: o.env?.(i) }));
  return done;
}

type MergeRecord = Record<string, unknown> & { inputs: Record<string, unknown>[]; merge: { shards: { index: number; status: string }[] } };

// `merge` in this process, or spawned.
async function merge(dir: string, count: number, o: { spawned?: boolean } = {}): Promise<{ status: number | null; stdout: string; stderr: string; record: MergeRecord }> {
  const args = ['merge', 'job.yaml', '--shards', String(count), '--json', '--log-format', 'text'];
  const r = o.spawned ? cli(args, { cwd: dir }) : await runMain(args, { cwd: dir });
  return { ...r, record: r.stdout ? JSON.parse(r.stdout) : undefined };
}

// The unsharded run's result and rejects (then removed, so that merge writes them afresh).
async function unsharded(dir: string, result: string): Promise<{ result: Buffer; rejects?: Buffer; record: Record<string, unknown> }> {
  const r = await runMain(['run', 'job.yaml', '--json', '--log-format', 'json'], { cwd: dir });
  expect(r.status, r.stderr).toBe(0);
  const out = { result: readFileSync(path.join(dir, result)), rejects: existsSync(path.join(dir, 'out/rejects-all.csv')) ? readFileSync(path.join(dir, 'out/rejects-all.csv')) : undefined, record: JSON.parse(r.stdout) };
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  return out;
}

// N workers + merge reproduce the unsharded bytes; returns the workers' records.
async function sameAsUnsharded(dir: string, count: number, result: string, expected: Awaited<ReturnType<typeof unsharded>>, o: WorkerOptions = {}) {
  const done = await workers(dir, count, o);
  for (const r of done) expect(r.status, r.stderr).toBe(0);
  const records = done.map((r) => JSON.parse(r.stdout) as Record<string, unknown> & { shard: { splits: { how: string; reason: string }[]; bytes: number; plan: string } });
  const m = await merge(dir, count);
  expect(m.status, m.stderr).toBe(0);
  expect(readFileSync(path.join(dir, result)).equals(expected.result), `${result} differs for N=${count}`).toBe(true);
  if (expected.rejects) expect(readFileSync(path.join(dir, 'out/rejects-all.csv')).equals(expected.rejects)).toBe(true);
  // The combined record accounts for every input and row as the unsharded record does.
  const strip = (i: Record<string, unknown>) => ({ path: i.path, bytes: i.bytes, rows_in: i.rows_in, rows_out: i.rows_out, rows_rejected: i.rows_rejected, output: i.output, status: i.status });
  expect(m.record.inputs.map(strip)).toEqual((expected.record.inputs as Record<string, unknown>[]).map(strip));
  expect(m.record.totals).toEqual(expected.record.totals);
  expect(m.record.merge.shards.map((s) => s.status)).toEqual(Array(count).fill('ok'));
  // Every worker planned the same.
  expect(new Set(records.map((r) => r.shard.plan)).size).toBe(1);
  expect(listFiles(dir).filter((f) => f.includes('.sb-tmp') || f.endsWith('.lock'))).toEqual([]);
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  return records;
}

describe('sharded runs + merge = one unsharded run, byte for byte', () => {
  it('a multi-file input (CSV, CSV.gz, JSON Lines, a header-only file), combined CSV result, N = 1, 3 (processes started together, the index from JOB_COMPLETION_INDEX) and 7', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/a.csv': csv(rows(3000, 1)),
      'in/b.csv': csv(rows(60, 2)),
      'in/c.csv.gz': gzipSync(csv(rows(5000, 3))),
      'in/d.jsonl': jsonl(rows(2500, 4)),
      'in/e.csv': 'id,a,b,c\n',
      'in/f.csv': csv(rows(7000, 5)),
      'in/g.csv': csv(rows(900, 6)),
      'job.yaml': job('in', 'out/part-{shard}.csv'),
    });
    const expected = await unsharded(d, 'out/part-all.csv');
    expect((expected.record.totals as { inputs: number }).inputs).toBe(7);
    await sameAsUnsharded(d, 1, 'out/part-all.csv', expected);
    // As a Kubernetes Indexed Job starts them: at once, each its own process, the index in JOB_COMPLETION_INDEX
    // and the count in SERVE_BATCH_SHARDS.
    await sameAsUnsharded(d, 3, 'out/part-all.csv', expected, { args: () => [], env: (i) => ({ JOB_COMPLETION_INDEX: String(i), SERVE_BATCH_SHARDS: '3' }), spawned: true });
    const records = await sameAsUnsharded(d, 7, 'out/part-all.csv', expected);
    // Files under 1 MiB are never split: every shard holds whole files.
    expect(records.flatMap((r) => (r.inputs as { range?: unknown }[]).filter((i) => i.range))).toEqual([]);
  });

  it('one large Parquet input (12 row groups, written by the project writer), Parquet result: cut at row groups, N = 1, 3, 7', async () => {
    const d = tempDir();
    writeFiles(d, { 'job.yaml': job('in/big.parquet', 'out/part-{shard}.parquet', 'batch_size: 2000') });
    // 60,000 rows in row groups of 5,000 (mark() closes a row group).
    const sink = await openAtomic(path.join(d, 'in/big.parquet'));
    const w = parquetWriter(sink, { fields: () => ['id', 'a', 'b', 'c'].map((name) => ({ name, type: name === 'id' ? 'string' : 'float64' })), batchSize: 5000 });
    for (let g = 0; g < 12; g++) {
      const rs = rows(5000, 100 + g, 997);
      const num = (k: 'a' | 'b' | 'c') => ({ name: k, kind: 'float' as const, values: Float64Array.from(rs.map((r) => (r[k] === 'n/a?' ? NaN : Number(r[k])))), stride: 1, offset: 0 });
      await w.mark();
      await w.write({ rows: 5000, columns: [{ name: 'id', kind: 'packed', values: packTexts(rs.map((r) => r.id)) }, num('a'), num('b'), num('c')] });
    }
    await w.commit();
    const expected = await unsharded(d, 'out/part-all.parquet');
    for (const count of [1, 3, 7]) {
      const records = await sameAsUnsharded(d, count, 'out/part-all.parquet', expected);
      if (count > 1) {
        expect(records[0].shard.splits).toEqual([{ path: path.join(d, 'in/big.parquet'), how: 'row_groups', pieces: count, reason: 'split at row-group starts (12 row groups)' }]);
        expect(records.every((r) => r.shard.bytes > 0)).toBe(true);
      }
    }
  });

  it('one large CSV without quotes: cut at line starts (a piece reads with the header and _line of the whole file), gzipped result, N = 7', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/big.csv': csv(rows(40_000, 7, 97)), 'job.yaml': job('in/big.csv', 'out/part-{shard}.csv.gz') });
    expect(readFileSync(path.join(d, 'in/big.csv')).length).toBeGreaterThan(1 << 20);
    const expected = await unsharded(d, 'out/part-all.csv.gz');
    const records = await sameAsUnsharded(d, 7, 'out/part-all.csv.gz', expected);
    expect(records[0].shard.splits).toEqual([{ path: path.join(d, 'in/big.csv'), how: 'bytes', pieces: 7, reason: 'split at line starts (it has no quote characters)' }]);
    const ranges = records.map((r) => (r.inputs as { range: { start: number; end: number; line: number } }[])[0].range);
    expect(ranges[0]).toMatchObject({ start: 0, line: 1 });
    for (let k = 1; k < 7; k++) expect(ranges[k].start).toBe(ranges[k - 1].end);
  });

  it('CSV with quoted line breaks is scored whole (and says why); the quoted cells survive the merge, N = 3', async () => {
    const d = tempDir();
    const quoted = csv(rows(35_000, 8), (r) => (r.id.endsWith('5') ? `"${r.id}\nsecond line, ""quoted"""` : r.id));
    writeFiles(d, { 'in/a-quoted.csv': quoted, 'in/b.csv': csv(rows(3000, 9)), 'job.yaml': job('in/*.csv', 'out/part-{shard}.csv') });
    expect(quoted.length).toBeGreaterThan(1 << 20);
    const expected = await unsharded(d, 'out/part-all.csv');
    const records = await sameAsUnsharded(d, 3, 'out/part-all.csv', expected);
    const split = records[0].shard.splits.find((s) => s.how === 'whole');
    expect(split?.reason).toMatch(/^CSV with quote characters is scored by one worker: a quoted field may hold a line break/);
  });
});

describe('retries and failures', () => {
  it('a worker killed just before its rename leaves no result; run again (as Kubernetes retries a pod) it writes the same bytes', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/big.csv': csv(rows(40_000, 10, 97)), 'in/small.csv': csv(rows(500, 11)), 'job.yaml': job('in', 'out/part-{shard}.csv') });
    const expected = await unsharded(d, 'out/part-all.csv');
    const done = await workers(d, 3);
    for (const r of done) expect(r.status, r.stderr).toBe(0);
    const parts = [0, 1, 2].map((i) => readFileSync(path.join(d, `out/part-${i}.csv`)));
    // The killed worker, its retry and the merge are processes of their own, as pods are.
    rmSync(path.join(d, 'out/part-1.csv'));
    const run = cliAsync(['run', 'job.yaml', '--shard', '1/3', '--log-format', 'json'], { cwd: d, env: { SERVE_BATCH_FAILPOINT: 'before-rename:part-1.csv:30000' } });
    const t0 = Date.now();
    while (!run.output().stderr.includes('failpoint before-rename')) {
      if (Date.now() - t0 > 20_000) throw new Error(`no failpoint: ${run.output().stderr}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    run.child.kill('SIGKILL');
    expect((await run.done).signal).toBe('SIGKILL');
    expect(existsSync(path.join(d, 'out/part-1.csv'))).toBe(false);
    expect(readdirSync(path.join(d, 'out')).some((f) => f.startsWith('.part-1.csv.'))).toBe(true);
    const again = cli(['run', 'job.yaml', '--shard', '1/3', '--json', '--log-format', 'json'], { cwd: d });
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).warnings.join()).toMatch(/did not finish: removed 1 temporary file it left \(\.part-1\.csv\./);
    expect(readFileSync(path.join(d, 'out/part-1.csv')).equals(parts[1])).toBe(true);
    expect(listFiles(d).filter((f) => f.includes('.sb-tmp') || f.endsWith('.lock'))).toEqual([]);
    const m = await merge(d, 3, { spawned: true });
    expect(m.status, m.stderr).toBe(0);
    expect(readFileSync(path.join(d, 'out/part-all.csv')).equals(expected.result)).toBe(true);
  });

  it('a missing shard makes merge (spawned) fail naming it (exit 1), and writes no result', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/a.csv': csv(rows(300, 12)), 'in/b.csv': csv(rows(300, 13)), 'job.yaml': job('in', 'out/part-{shard}.csv') });
    // Workers 0 and 2 ran; worker 1 never did.
    const done = await workers(d, 2, { args: (i) => ['--shard', `${2 * i}/3`] });
    expect(done.map((r) => r.status)).toEqual([0, 0]);
    const m = await merge(d, 3, { spawned: true });
    expect(m.status).toBe(1);
    const lines = expectOneLineError(m.stderr);
    expect(lines.some((l) => /merge failed — 1 of 3 shards did not finish: shard 1 has not run \(no record in \.serve-batch\/runs\/job\.shard-1-of-3\)/.test(l)), m.stderr).toBe(true);
    expect(existsSync(path.join(d, 'out/part-all.csv'))).toBe(false);
    expect(m.record).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(m.record.merge.shards.map((s) => s.status)).toEqual(['ok', 'missing', 'ok']);
  });

  it('a failed shard makes merge fail naming it and why (exit 1)', async () => {
    const d = tempDir();
    writeFiles(d, {
      'in/a.csv': csv(rows(300, 14, 0)),
      'in/b.csv': `${csv(rows(300, 15, 0))}x,1,2\n`,
      'job.yaml': job('in', 'out/part-{shard}.csv').replace("max_rejected: '2%'", 'max_rejected: 0'),
    });
    // b.csv ends with a line of three fields: the worker that scores it (worker 1) fails.
    const done = await workers(d, 2);
    expect(done.map((r) => r.status)).toEqual([0, 1]);
    const m = await merge(d, 2);
    expect(m.status).toBe(1);
    expect(expectOneLineError(m.stderr).some((l) => /merge failed — 1 of 2 shards did not finish: shard 1 failed \(run \S+\): 1 of 1 input failed: too many rejected rows: .*first: in\/b\.csv:302: expected 4 fields, got 3/.test(l)), m.stderr).toBe(true);
    expect(existsSync(path.join(d, 'out/part-all.csv'))).toBe(false);
  });
});

describe('the plan, before anything is scored', () => {
  it('--dry-run shows each worker its share and what was done with the files the cuts fell into; writes nothing', async () => {
    const d = tempDir();
    writeFiles(d, { 'in/a.csv': csv(rows(200, 18)), 'in/big.csv': csv(rows(40_000, 19)), 'job.yaml': job('in', 'out/part-{shard}.csv') });
    const r = await runMain(['run', 'job.yaml', '--shard', '1/3', '--dry-run', '--json', '--log-format', 'text'], { cwd: d });
    expect(r.status, r.stderr).toBe(0);
    const rec = JSON.parse(r.stdout);
    expect(rec.status).toBe('dry-run');
    expect(rec.shard).toMatchObject({ index: 1, count: 3, tag: '1', splits: [{ how: 'bytes', pieces: 3 }] });
    expect(rec.shard.bytes_per_shard.reduce((a: number, b: number) => a + b, 0)).toBe(rec.shard.total_bytes);
    expect(rec.inputs).toEqual([expect.objectContaining({ path: path.join(d, 'in/big.csv'), output: path.join(d, 'out/part-1.csv'), range: expect.objectContaining({ line: expect.any(Number) }) })]);
    const lines = expectOneLineError(r.stderr);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^job job: shard 1 of 3 \(plan [0-9a-f]{12}\): [\d,.]+ (MB|bytes) of [\d.]+ MB$/),
        'in/big.csv: split at line starts into 3 pieces (it has no quote characters)',
        expect.stringMatching(/^in\/big\.csv \(bytes [\d,]+–[\d,]+ from line [\d,]+\) → out\/part-1\.csv: would be scored$/),
      ]),
    );
    expect(existsSync(path.join(d, 'out'))).toBe(false);
    expect(existsSync(path.join(d, '.serve-batch/runs'))).toBe(false);
  });
});

describe('mistakes: one line, the documented exit code', () => {
  const files = { 'in/a.csv': csv(rows(10, 16)), 'in/b.csv': csv(rows(10, 17)) };
  const cases: { name: string; args: string[]; env?: Record<string, string>; job?: string; exit: number; message: RegExp }[] = [
    { name: '--shard past the last worker', args: ['run', 'job.yaml', '--shard', '3/3'], exit: 2, message: /--shard: the shard index counts from 0: i\/N needs 0 ≤ i < N, so the last of 3 is 2\/3 \(got '3\/3'\)/ },
    { name: '--shard not i/N', args: ['run', 'job.yaml', '--shard', 'two'], exit: 2, message: /--shard: give the worker's shard as i\/N/ },
    { name: '--shards without an index', args: ['run', 'job.yaml', '--shards', '4'], exit: 2, message: /--shards 4 needs this worker's index: give --shard i\/4, or run as a Kubernetes Indexed Job/ },
    { name: 'JOB_COMPLETION_INDEX past the count', args: ['run', 'job.yaml'], env: { JOB_COMPLETION_INDEX: '4', SERVE_BATCH_SHARDS: '4' }, exit: 2, message: /JOB_COMPLETION_INDEX is 4 but there are 4 workers, numbered 0 to 3/ },
    { name: 'a bad SERVE_BATCH_SHARDS', args: ['run', 'job.yaml', '--shard', '0/2'], env: { SERVE_BATCH_SHARDS: 'many' }, exit: 2, message: /SERVE_BATCH_SHARDS \(the number of workers\) must be a whole number, 1 or more \(got 'many'\)/ },
    { name: 'one output for every worker', args: ['run', 'job.yaml', '--shard', '0/2'], job: job('in', 'out/result.csv'), exit: 2, message: /workers 0 and 1 would both write out\/result\.csv: put \{shard\} in output\.path, e.g\. out\/result-\{shard\}\.csv \(at output\.path\)/ },
    { name: 'an incremental job', args: ['run', 'job.yaml', '--shard', '0/2'], job: job('{ path: in, incremental: true }', 'out/{input_stem}-{shard}.csv').replace('rejects-{shard}', '{input_stem}-rejects-{shard}'), exit: 2, message: /an incremental job cannot be sharded.*\(at input\.incremental\)/ },
    { name: '--limit with --shard', args: ['run', 'job.yaml', '--shard', '0/2', '--limit', '5'], exit: 2, message: /--limit cannot be combined with --shard/ },
    { name: 'merge without a count', args: ['merge', 'job.yaml'], exit: 2, message: /merge needs the number of shards that ran: --shards N \(or SERVE_BATCH_SHARDS\)/ },
    { name: 'merge --shards 0', args: ['merge', 'job.yaml', '--shards', '0'], exit: 2, message: /--shards \(the number of workers\) must be a whole number, 1 or more \(got '0'\)/ },
    { name: 'merge of one file per input without --output', args: ['merge', 'job.yaml', '--shards', '2'], job: job('in', 'out/{input_stem}-{shard}.csv'), exit: 2, message: /output\.path gives one file per input .*; merge writes one combined file: give --output PATH/ },
    { name: 'merge into another format', args: ['merge', 'job.yaml', '--shards', '1', '--output', 'all.jsonl'], exit: 2, message: /all\.jsonl names a jsonl file, but the job writes csv: merge combines results, it does not convert them; give a \.csv name/ },
    { name: 'merge with a state_dir under a file', args: ['merge', 'job.yaml', '--shards', '1'], job: job('in', 'out/part-{shard}.csv', 'state_dir: in/a.csv/state'), exit: 2, message: /cannot write the job's state in .*in\/a\.csv\/state: a parent of it is a file, not a directory \(at state_dir\)/ },
    { name: 'merge to standard output', args: ['merge', 'job.yaml', '--shards', '1', '--output', '-'], exit: 2, message: /merge writes a file \(atomically\), not standard output: give --output PATH/ },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const d = tempDir();
      writeFiles(d, { ...files, 'job.yaml': c.job ?? job('in', 'out/part-{shard}.csv') });
      const r = await runMain([...c.args, '--log-format', 'text'], { cwd: d, env: c.env });
      expect(r.status, r.stderr).toBe(c.exit);
      const lines = expectOneLineError(r.stderr);
      expect(lines.some((l) => c.message.test(l)), `no line matches ${c.message}:\n${r.stderr}`).toBe(true);
      expect(existsSync(path.join(d, 'out'))).toBe(false);
    });
  }
});
