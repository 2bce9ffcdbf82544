// The profile of a run does not depend on how its rows were grouped: the batch size, the model's threads,
// the reader thread, the number of readers and the shard cut all give the same profile file, byte for byte, and merge combines the
// shards' profiles into the file one run writes.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import { parseRunProfile } from '../../src/monitor/index.js';
import { WORKER_MIN_BYTES } from '../../src/pipeline/reader-thread.js';
import { mergeJob } from '../../src/run/merge.js';
import { profilePath, type RunRecord } from '../../src/run/record.js';
import { runJob, type RunEvent } from '../../src/run/run-job.js';
import { model } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

// `rows` rows of an id and 4 floats in [0, 1), a few cells empty (missing: nan keeps them as NaN).
function forestCsv(rows: number, seed: number): string {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['id,a,b,c,d'];
  for (let i = 0; i < rows; i++) lines.push(`r${i},${next().toFixed(6)},${next() < 0.01 ? '' : next().toFixed(6)},${next().toFixed(6)},${next().toFixed(6)}`);
  return `${lines.join('\n')}\n`;
}

function job(dir: string, o: { batchSize?: number; threads?: number; profile?: boolean; readers?: number } = {}) {
  const text = `name: iris
model: { path: ${model('multiclass')}${o.threads ? `, threads: ${o.threads}` : ''} }
input: ${o.readers ? `{ path: '*.csv', readers: ${o.readers} }` : "'*.csv'"}
features: { columns: [a, b, c, d], missing: nan }
passthrough: [id]
predictions: [{ output: label, column: species, labels: [setosa, versicolor, virginica] }, { output: probabilities, column: p }]
batch_size: ${o.batchSize ?? 8192}
output: 'out/part-{shard}.csv'
state_dir: state
${o.profile === false ? 'profile: false\n' : ''}`;
  return parseJob(text, path.join(dir, 'job.yaml'));
}

// The bytes of a run's (or merge's) profile file.
function profileBytes(r: RunRecord): Buffer {
  expect(r.status, r.error ?? '').toBe('ok');
  expect(r.profile?.file).toBeTruthy();
  return readFileSync(r.profile?.file as string);
}

function clean(dir: string): void {
  rmSync(path.join(dir, 'out'), { recursive: true, force: true });
  rmSync(path.join(dir, 'state'), { recursive: true, force: true });
}

describe('run profiles', () => {
  it('are the same for every batch size, model thread count, reader thread and shard cut; merge gives the unsharded file', async () => {
    const dir = tempDir();
    // Above WORKER_MIN_BYTES, so the unsharded run parses in the reader thread (and may score on a second
    // session with fewer threads); each shard's piece stays below it and is parsed in this thread.
    const big = forestCsv(200_000, 7);
    expect(big.length).toBeGreaterThan(WORKER_MIN_BYTES);
    writeFileSync(path.join(dir, 'a.csv'), big);
    writeFileSync(path.join(dir, 'b.csv'), forestCsv(3001, 9));
    const one = profileBytes(await runJob(job(dir)));
    clean(dir);
    const p = parseRunProfile(one.toString(), 'profile');
    expect(p.profile.columns.map((c) => `${c.name}:${c.kind}`)).toEqual(['a:number', 'b:number', 'c:number', 'd:number', 'species:text', 'p_0:number', 'p_1:number', 'p_2:number']);
    expect(p.inputs.map((i) => path.basename(i.path))).toEqual(['a.csv', 'b.csv']);
    const b = p.profile.columns[1];
    expect(b.count).toBe(203_001);
    expect(b.missing).toBeGreaterThan(1000);
    expect(profileBytes(await runJob(job(dir, { batchSize: 777, threads: 1 }))).equals(one), 'batch_size 777, one thread').toBe(true);
    clean(dir);
    // Several readers (pieces of the file read in other threads): the same profile file.
    for (const readers of [2, 3]) {
      expect(profileBytes(await runJob(job(dir, { readers }))).equals(one), `${readers} readers`).toBe(true);
      clean(dir);
    }
    for (const count of [2, 3]) {
      for (let index = 0; index < count; index++) {
        const r = await runJob(job(dir), { shard: { index, count } });
        expect(r.status, r.error ?? '').toBe('ok');
        // A shard profiles its piece; the drift (if any) is merge's.
        expect(r.profile?.file).toMatch(/\.profile\.json$/);
        expect(r.monitor).toBeUndefined();
      }
      const merged = await mergeJob(job(dir), { count });
      expect(profileBytes(merged).equals(one), `${count} shards merged`).toBe(true);
      clean(dir);
    }
  });

  it('small batches give the profile of one chunk; the record summarises it', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.csv'), forestCsv(300, 3));
    const one = await runJob(job(dir, { batchSize: 100_000 }));
    const bytes = profileBytes(one);
    clean(dir);
    for (const size of [1, 7, 64]) {
      expect(profileBytes(await runJob(job(dir, { batchSize: size }))).equals(bytes), `batch_size ${size}`).toBe(true);
      clean(dir);
    }
    const a = one.profile?.columns.find((c) => c.name === 'a');
    const values = readFileSync(path.join(dir, 'in.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Math.fround(Number(l.split(',')[1])));
    // The feature as the model received it: float32 values.
    expect(a).toMatchObject({ kind: 'number', count: 300, missing: 0, min: Math.min(...values), max: Math.max(...values) });
    const mean = values.reduce((s, x) => s + x, 0) / values.length;
    expect(a?.mean).toBeCloseTo(mean, 12);
  });

  it('a profile that cannot be written is a warning: the run, its results and its record stand', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.csv'), forestCsv(10, 3));
    const runId = '20261124T020000Z-ab12';
    mkdirSync(profilePath(path.join(dir, 'state'), 'iris', runId), { recursive: true });
    const events: RunEvent[] = [];
    const r = await runJob(job(dir), { runId, onEvent: (e) => events.push(e) });
    expect(r.status).toBe('ok');
    expect(r.exit_code).toBe(0);
    expect(r.warnings).toEqual([expect.stringMatching(/^the profile could not be written: cannot write .*20261124T020000Z-ab12\.profile\.json: it is a directory: give a file name$/)]);
    // Said as it happens too (the CLI logs it as a warning line).
    expect(events.filter((e) => e.type === 'warning')).toEqual([{ type: 'warning', job: 'iris', message: r.warnings[0] }]);
    expect(r.profile?.file).toBeNull();
    expect(JSON.parse(readFileSync(r.record as string, 'utf8'))).toMatchObject({ run_id: runId, status: 'ok', profile: { file: null } });
    expect(readFileSync(r.inputs[0].output as string, 'utf8').split('\n')).toHaveLength(12);
  });

  it('profile: false makes none', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'in.csv'), forestCsv(10, 3));
    const r = await runJob(job(dir, { profile: false }));
    expect(r.status).toBe('ok');
    expect(r.profile).toBeUndefined();
  });
});
