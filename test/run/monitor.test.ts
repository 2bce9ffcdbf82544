// Drift against a reference, end to end: a reference made with `serve-batch profile`, runs over generated
// data with and without a known shift, the drift values recomputed here from the README's formulas (bins on
// the reference file's edges and top values, shares floored at 0.0001 for PSI, base-2 Jensen-Shannon), the
// exit code 4 with its warnings, log line, record section and metrics, and every mistake in monitor: as one
// line with exit code 2.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/run/record.js';
import { planRetry } from '../../src/schedule/retry.js';
import { driftOf } from '../../src/schedule/http/runs.js';
import { cli, expectOneLineError, model, runMain, tempDir, writeFiles } from '../support/cli.js';

const LABELS = ['setosa', 'versicolor', 'virginica'];

// `rows` rows of 4 features: a uniform in [0, 1) (squared when `shift`), b, c and d uniform; c is empty in a
// `missingC` share of the rows.
function csv(rows: number, seed: number, o: { shift?: boolean; missingC?: number } = {}): string {
  let s = seed;
  const next = () => (s = (s * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ['id,a,b,c,d'];
  for (let i = 0; i < rows; i++) {
    const a = o.shift ? next() ** 2 : next();
    const c = next() < (o.missingC ?? 0) ? '' : (next() * 4).toFixed(5);
    lines.push(`r${i},${a.toFixed(5)},${(next() * 2).toFixed(5)},${c},${next().toFixed(5)}`);
  }
  return `${lines.join('\n')}\n`;
}

function jobYaml(monitor: string): string {
  return `name: iris
model: ${model('multiclass')}
input: data/today.csv
features: { columns: [a, b, c, d], missing: nan }
passthrough: [id]
predictions: [{ output: label, column: species, labels: [${LABELS.join(', ')}] }, { output: probabilities, column: p }]
output: { path: out/scores.csv, float_precision: 9 }
state_dir: state
metrics_file: metrics.prom
${monitor}`;
}

const MONITOR = `monitor:
  reference: ref.json
  metric: psi
  warn_at: 0.1
  fail_at: 0.25
  missing_rate_increase: 0.05
`;

// ---- The README's formulas, written out independently of src/monitor ----

// Counts of values on bins (-inf, e0), [e0, e1), ..., [e_last, +inf); NaN is missing and in no bin.
function binCount(values: number[], edges: number[]): number[] {
  const out = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    let i = 0;
    while (i < edges.length && v >= edges[i]) i++;
    out[i]++;
  }
  return out;
}

// Counts of the named values, then of every other non-missing value.
function valueCount(values: string[], named: string[]): number[] {
  const out = new Array<number>(named.length + 1).fill(0);
  for (const v of values) {
    if (v === '') continue;
    const i = named.indexOf(v);
    out[i === -1 ? named.length : i]++;
  }
  return out;
}

// Each count's share of their sum.
function shares(counts: number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => c / total);
}

function psi(ref: number[], run: number[]): number {
  const [P, Q] = [shares(run), shares(ref)];
  let sum = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = Math.max(P[i], 0.0001);
    const q = Math.max(Q[i], 0.0001);
    sum += (p - q) * Math.log(p / q);
  }
  return sum;
}

function js(ref: number[], run: number[]): number {
  const [P, Q] = [shares(run), shares(ref)];
  let sum = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = P[i];
    const q = Q[i];
    const m = (p + q) / 2;
    if (p > 0) sum += 0.5 * p * Math.log2(p / m);
    if (q > 0) sum += 0.5 * q * Math.log2(q / m);
  }
  return Math.sqrt(sum);
}

// A CSV's column as the model receives it (float32) or as it was written (text).
function column(file: string, name: string): string[] {
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
  const k = lines[0].split(',').indexOf(name);
  return lines.slice(1).map((l) => l.split(',')[k]);
}
const floats = (cells: string[]) => cells.map((c) => (c === '' ? NaN : Math.fround(Number(c))));

interface RefColumn {
  name: string;
  kind: string;
  count: number;
  missing: number;
  histogram: { edges?: number[]; values?: string[]; counts: number[]; other?: number };
}

function setup(): string {
  const dir = tempDir();
  writeFiles(dir, {
    'job.yaml': jobYaml(MONITOR),
    'data/baseline.csv': csv(6000, 1, { missingC: 0.01 }),
    'data/same.csv': csv(6000, 2, { missingC: 0.01 }),
    'data/shifted.csv': csv(6000, 3, { shift: true, missingC: 0.2 }),
  });
  return dir;
}

describe('monitor', () => {
  it('profile of one row says "1 row"', async () => {
    const dir = setup();
    writeFiles(dir, { 'data/one.csv': csv(1, 4) });
    const made = await runMain(['profile', 'job.yaml', '--input', 'data/one.csv', '-o', 'one.json', '--log-format', 'text'], { cwd: dir });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/data\/one\.csv: 1 row profiled\n/);
    expect(made.stderr).toMatch(/profile of 1 input, 1 row, 8 columns \(/);
  });

  it('drift values equal the README formulas; a shift exits 4 with its results written; no shift exits 0', async () => {
    const dir = setup();
    const made = await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir });
    expect(made.status, made.stderr).toBe(0);
    expect(made.stderr).toMatch(/profile of 1 input, 6,000 rows, 8 columns \(a, b, c, d, species, p_0, p_1, p_2\) → ref\.json/);
    const ref = JSON.parse(readFileSync(path.join(dir, 'ref.json'), 'utf8')) as { columns: RefColumn[] };
    const refOf = (name: string) => ref.columns.find((c) => c.name === name) as RefColumn;

    // The reference's own histograms are the exact counts of the baseline on its edges.
    const baseline = path.join(dir, 'data/baseline.csv');
    expect(refOf('a').histogram.edges).toHaveLength(19);
    expect(refOf('a').histogram.counts).toEqual(binCount(floats(column(baseline, 'a')), refOf('a').histogram.edges as number[]));
    expect(refOf('c').missing).toBe(column(baseline, 'c').filter((c) => c === '').length);

    const shifted = await runMain(['run', 'job.yaml', '--input', 'data/shifted.csv', '--json', '--log-format', 'text'], { cwd: dir });
    expect(shifted.status, shifted.stderr).toBe(4);
    const record = JSON.parse(shifted.stdout) as RunRecord;
    expect(record.status).toBe('ok');
    expect(record.exit_code).toBe(4);
    expect(readFileSync(path.join(dir, 'out/scores.csv'), 'utf8').split('\n')).toHaveLength(6002);
    const m = record.monitor;
    if (!m) throw new Error('no monitor section');
    expect(m).toMatchObject({ metric: 'psi', warn_at: 0.1, fail_at: 0.25, missing_rate_increase: 0.05, level: 'fail' });
    expect(m.columns.map((c) => c.column)).toEqual(['a', 'b', 'c', 'd', 'species', 'p_0', 'p_1', 'p_2']);

    // Recomputed: features from the input (float32, as fed), predictions from the result file.
    const input = path.join(dir, 'data/shifted.csv');
    const scores = path.join(dir, 'out/scores.csv');
    const refBase = (name: string) => (['a', 'b', 'c', 'd'].includes(name) ? baseline : undefined);
    for (const c of m.columns) {
      const r = refOf(c.column);
      let refCounts: number[];
      let runCounts: number[];
      if (r.kind === 'text') {
        const named = r.histogram.values as string[];
        refCounts = [...r.histogram.counts, r.histogram.other as number];
        runCounts = valueCount(column(scores, c.column), named);
      } else {
        const edges = r.histogram.edges as number[];
        refCounts = r.histogram.counts;
        const base = refBase(c.column);
        if (base) expect(binCount(floats(column(base, c.column)), edges), c.column).toEqual(refCounts);
        runCounts = binCount(floats(column(['a', 'b', 'c', 'd'].includes(c.column) ? input : scores, c.column)), edges);
      }
      expect(c.psi, c.column).toBeCloseTo(psi(refCounts, runCounts), 12);
      expect(c.js, c.column).toBeCloseTo(js(refCounts, runCounts), 12);
      expect(c.value).toBe(c.psi);
    }
    const byName = Object.fromEntries(m.columns.map((c) => [c.column, c]));
    // a was squared: far above fail_at; b and d did not move.
    expect(byName.a.psi).toBeGreaterThan(0.25);
    expect(byName.a.level).toBe('fail');
    expect(byName.b.psi).toBeLessThan(0.1);
    expect(byName.d.level).toBe('ok');
    // c lost a fifth of its values: its missing share rose past missing_rate_increase, and so did the
    // probabilities' (the model answers NaN for a row with a missing feature).
    expect(byName.c.missing_ratio).toBeGreaterThan(0.15);
    expect(byName.c.reference_missing_ratio).toBeLessThan(0.02);
    expect(byName.c.level).toBe('fail');
    expect(byName.p_0.missing_ratio).toBe(byName.c.missing_ratio);
    expect(shifted.stderr).toMatch(/drift \(psi against ref\.json, warn_at 0\.1, fail_at 0\.25\): a 0\.\d+ FAIL/);
    expect(shifted.stderr).toMatch(/warning: drift: column 'a': psi 0\.\d+ is above fail_at 0\.25/);
    expect(shifted.stderr).toMatch(/warning: drift: column 'c': missing share 0\.\d+ against 0\.\d+ in the reference, a rise above missing_rate_increase 0\.05/);
    expect(shifted.stderr).toMatch(/job iris: completed with alerts — column 'a'/);
    // A run completed with alerts is a warning, not an error: its results were written.
    expect(shifted.stderr).toMatch(/^warning: job iris: completed with alerts/m);
    const metrics = readFileSync(path.join(dir, 'metrics.prom'), 'utf8');
    expect(metrics).toContain('serve_batch_last_run_exit_code{job_name="iris"} 4');
    expect(metrics).toContain(`serve_batch_drift{job_name="iris",column="a"} ${byName.a.psi}`);
    expect(metrics).toContain(`serve_batch_missing_ratio{job_name="iris",column="c"} ${byName.c.missing_ratio}`);
    // The scheduler's status page and /metrics read the section as written.
    const shown = driftOf(record as unknown as Record<string, unknown>);
    expect(shown).toEqual({ metric: 'psi', warn_at: 0.1, fail_at: 0.25, columns: m.columns.map((c) => ({ column: c.column, value: c.psi, missing_ratio: c.missing_ratio, level: c.level })) });
    // The record's profile file has this run's histograms on the reference's bins.
    const own = JSON.parse(readFileSync(record.profile?.file as string, 'utf8')) as { columns: RefColumn[] };
    expect(own.columns[0].histogram.edges).toEqual(refOf('a').histogram.edges);

    const same = await runMain(['run', 'job.yaml', '--input', 'data/same.csv', '--json', '--log-format', 'text'], { cwd: dir });
    expect(same.status, same.stderr).toBe(0);
    const quiet = (JSON.parse(same.stdout) as RunRecord).monitor;
    expect(quiet?.level).toBe('ok');
    for (const c of quiet?.columns ?? []) expect(c.psi ?? 1, c.column).toBeLessThan(0.1);
    expect(same.stderr).not.toMatch(/warning/);
    expect(readFileSync(path.join(dir, 'metrics.prom'), 'utf8')).toContain('serve_batch_last_run_exit_code{job_name="iris"} 0');
  });

  it('js: the Jensen-Shannon distance is the value compared with the thresholds', async () => {
    const dir = setup();
    writeFileSync(path.join(dir, 'job.yaml'), jobYaml('monitor: { reference: ref.json, metric: js, warn_at: 0.05, fail_at: 0.9, columns: [a, species] }\n'));
    expect((await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir })).status).toBe(0);
    const r = await runMain(['run', 'job.yaml', '--input', 'data/shifted.csv', '--json', '--log-format', 'text'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const m = (JSON.parse(r.stdout) as RunRecord).monitor;
    expect(m?.columns.map((c) => c.column)).toEqual(['a', 'species']);
    expect(m?.columns[0].value).toBe(m?.columns[0].js);
    expect(m?.columns[0].level).toBe('warn');
    expect(m?.level).toBe('warn');
    expect(r.stderr).toMatch(/warning: drift: column 'a': js 0\.\d+ is above warn_at 0\.05/);
  });

  it('exits 4 end to end from the spawned CLI, with the metrics lines', async () => {
    const dir = setup();
    expect((await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir })).status).toBe(0);
    const r = cli(['run', 'job.yaml', '--input', 'data/shifted.csv', '--log-format', 'text'], { cwd: dir });
    expect(r.status, r.stderr).toBe(4);
    expect(r.stderr).toMatch(/completed with alerts/);
    expect(existsSync(path.join(dir, 'out/scores.csv'))).toBe(true);
    const metrics = readFileSync(path.join(dir, 'metrics.prom'), 'utf8');
    expect(metrics).toMatch(/^serve_batch_drift\{job_name="iris",column="a"\} 0\.\d+$/m);
    expect(metrics).toMatch(/^serve_batch_missing_ratio\{job_name="iris",column="c"\} 0\.\d+$/m);
    expect(metrics).toMatch(/^# TYPE serve_batch_drift gauge$/m);
  });
});

describe('monitor across shards and schedules', () => {
  it('merge computes the drift of the whole run, equal to the unsharded run, and exits 4', async () => {
    const dir = setup();
    expect((await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir })).status).toBe(0);
    const one = await runMain(['run', 'job.yaml', '--input', 'data/shifted.csv', '--json'], { cwd: dir });
    expect(one.status, one.stderr).toBe(4);
    const unsharded = JSON.parse(one.stdout) as RunRecord;
    writeFileSync(path.join(dir, 'job.yaml'), jobYaml(MONITOR).replace('input: data/today.csv', 'input: data/shifted.csv').replace('out/scores.csv', "'out/part-{shard}.csv'"));
    for (const shard of ['0/2', '1/2']) {
      const w = await runMain(['run', 'job.yaml', '--shard', shard, '--json'], { cwd: dir });
      expect(w.status, w.stderr).toBe(0);
      expect((JSON.parse(w.stdout) as RunRecord).monitor).toBeUndefined();
    }
    const merged = await runMain(['merge', 'job.yaml', '--shards', '2', '--json', '--log-format', 'text'], { cwd: dir });
    expect(merged.status, merged.stderr).toBe(4);
    const record = JSON.parse(merged.stdout) as RunRecord;
    expect(record.monitor?.columns).toEqual(unsharded.monitor?.columns);
    expect(readFileSync(record.profile?.file as string).equals(readFileSync(unsharded.profile?.file as string))).toBe(true);
    expect(merged.stderr).toMatch(/merged 2 shards — .* — completed with alerts: column 'a'/);
    expect(merged.stderr).toMatch(/^warning: job iris: merged 2 shards/m);
  });

  it('the scheduler does not retry a run that completed with alerts', async () => {
    const dir = setup();
    expect((await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir })).status).toBe(0);
    const r = await runMain(['run', 'job.yaml', '--input', 'data/shifted.csv', '--json'], { cwd: dir });
    const record = JSON.parse(r.stdout) as RunRecord;
    expect(record.exit_code).toBe(4);
    expect(planRetry({ retries: 3, retryDelayMs: 1000 }, record.status, 1, new Date(record.ended_at), undefined)).toEqual({ retry: false, reason: 'the run succeeded' });
  });

  it('a --limit preview is profiled but not compared', async () => {
    const dir = setup();
    expect((await runMain(['profile', 'job.yaml', '--input', 'data/baseline.csv', '-o', 'ref.json'], { cwd: dir })).status).toBe(0);
    const r = await runMain(['run', 'job.yaml', '--input', 'data/shifted.csv', '--limit', '50', '--output', 'preview.csv', '--json'], { cwd: dir });
    expect(r.status, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout) as RunRecord;
    expect(record.monitor).toBeUndefined();
    expect(record.profile?.columns[0]).toMatchObject({ name: 'a', count: 50 });
  });

  it('validate checks the reference as run does', async () => {
    const dir = setup();
    const r = await runMain(['validate', 'job.yaml', '--log-format', 'text'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/reference profile ref\.json not found; make it from a baseline with serve-batch profile job\.yaml --input BASELINE -o ref\.json \(at monitor\.reference\)/);
  });
});

describe('monitor mistakes: one line, exit 2, nothing written', () => {
  const cases: [string, string, (dir: string) => void, RegExp][] = [
    ['a missing reference', MONITOR, () => undefined, /^error: job iris: invalid — reference profile ref\.json not found; make it from a baseline with serve-batch profile job\.yaml --input BASELINE -o ref\.json \(at monitor\.reference\)$/m],
    ['a reference that is not JSON', MONITOR, (dir) => writeFileSync(path.join(dir, 'ref.json'), '{"version": 1,\n  "columns": [oops]}'), /ref\.json: not a usable profile: invalid JSON \(Unexpected token 'o'\); make it again with serve-batch profile job\.yaml -o ref\.json/m],
    [
      "another model's reference",
      MONITOR,
      (dir) => writeFileSync(path.join(dir, 'ref.json'), JSON.stringify({ version: 1, columns: [{ name: 'x', kind: 'text', count: 1, missing: 0, high_cardinality: false, values: [['u', 1]] }] })),
      /reference profile ref\.json has no column 'a' \(its columns: x\): it was made for another job or model; make it again with serve-batch profile job\.yaml -o ref\.json \(at monitor\.reference\)$/m,
    ],
    ['an unknown monitored column', 'monitor: { reference: ref.json, columns: [a, tenure] }\n', () => undefined, /monitor\.columns names 'tenure', which is neither a feature nor a prediction column of this job \(columns: a, b, c, d, species, p_0, p_1, p_2\) \(at monitor\.columns\.1\)$/m],
    ['warn_at above fail_at', 'monitor: { reference: ref.json, warn_at: 0.5, fail_at: 0.2 }\n', () => undefined, /job\.yaml:10:\d+: warn_at must not be above fail_at.*\(at monitor\.warn_at\)/],
    ['an unknown metric', 'monitor: { reference: ref.json, metric: kl }\n', () => undefined, /job\.yaml:10:\d+: .*(psi|"psi").*\(at monitor\.metric\)/],
    ['monitor without profiles', 'profile: false\nmonitor: { reference: ref.json }\n', () => undefined, /monitor compares the profile of each run with its reference: remove profile: false \(at profile\)/],
  ];
  for (const [what, monitor, prepare, message] of cases) {
    it(what, async () => {
      const dir = setup();
      writeFileSync(path.join(dir, 'job.yaml'), jobYaml(monitor));
      prepare(dir);
      const r = await runMain(['run', 'job.yaml', '--log-format', 'text'], { cwd: dir });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(existsSync(path.join(dir, 'out'))).toBe(false);
    });
  }
});

describe('profile mistakes: one line, exit 2, no reference written', () => {
  it.each([
    ['input.path matching no file', [], /^error: no input files match input\.path: a reference needs a baseline to profile \(at input\.path\)$/],
    ['an --input matching no file', ['--input', 'data/none*.csv'], /^error: no input files match data\/none\*\.csv: a reference needs a baseline to profile$/],
  ])('%s', async (_, args, message) => {
    const dir = tempDir();
    writeFiles(dir, { 'job.yaml': jobYaml('').replace('input: data/today.csv', 'input: data/today*.csv') });
    const r = await runMain(['profile', 'job.yaml', ...args, '-o', 'ref.json', '--log-format', 'text'], { cwd: dir });
    expect(r.status).toBe(2);
    expect(expectOneLineError(r.stderr), r.stderr).toEqual([expect.stringMatching(message)]);
    expect(existsSync(path.join(dir, 'ref.json'))).toBe(false);
  });
});
