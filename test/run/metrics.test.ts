import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../support/temp-dir.js';
import { addNotifyFailures, countNotifyFailures, mergeMetrics, writeMetrics } from '../../src/run/metrics.js';
import type { RunRecord } from '../../src/run/record.js';

// A run record with only what metrics read.
function rec(job: string, status: RunRecord['status'], ended: string, o: Partial<RunRecord> = {}): RunRecord {
  return {
    job,
    job_file: `/jobs/${job}.yaml`,
    run_id: `${ended}-${job}`,
    trigger: 'cli',
    started_at: ended,
    ended_at: ended,
    duration_ms: 1500,
    status,
    exit_code: { ok: 0, failed: 1, invalid: 2, skipped: 3, interrupted: 143, 'dry-run': 0 }[status],
    error: null,
    model: { path: '/m.onnx', sha256: null },
    versions: { serve_batch: '0', onnxruntime: '0', node: 'v20' },
    totals: { inputs: 2, failed: 0, rows_in: 100, rows_out: 97, rows_rejected: 3 },
    inputs: [],
    warnings: [],
    record: null,
    ...o,
  };
}

const T1 = '2026-11-24T02:00:00.000Z'; // 1795485600
const T2 = '2026-11-25T02:00:00.000Z'; // 1795572000

// The value of one sample line, or undefined.
function value(text: string, sample: string): string | undefined {
  return text.split('\n').find((l) => l.startsWith(`${sample} `))?.split(' ')[1];
}

describe('mergeMetrics', () => {
  it('writes a node_exporter textfile: HELP and TYPE once per metric, a job_name label on every sample', () => {
    const text = mergeMetrics('', rec('nightly', 'ok', T1));
    expect(text).toBe(
      [
        '# HELP serve_batch_last_run_timestamp_seconds Unix time the last run of the job ended (runs skipped because of the lock do not count).',
        '# TYPE serve_batch_last_run_timestamp_seconds gauge',
        'serve_batch_last_run_timestamp_seconds{job_name="nightly"} 1795485600',
        '# HELP serve_batch_last_success_timestamp_seconds Unix time the last successful run of the job ended.',
        '# TYPE serve_batch_last_success_timestamp_seconds gauge',
        'serve_batch_last_success_timestamp_seconds{job_name="nightly"} 1795485600',
        '# HELP serve_batch_last_run_status Status of the last run: 1 for its status, 0 for the others.',
        '# TYPE serve_batch_last_run_status gauge',
        'serve_batch_last_run_status{job_name="nightly",status="failed"} 0',
        'serve_batch_last_run_status{job_name="nightly",status="interrupted"} 0',
        'serve_batch_last_run_status{job_name="nightly",status="invalid"} 0',
        'serve_batch_last_run_status{job_name="nightly",status="ok"} 1',
        '# HELP serve_batch_last_run_exit_code Exit code of the last run (0 ok, 4 completed with alerts, 1 failed, 2 invalid, 130/143 interrupted, 141 output closed).',
        '# TYPE serve_batch_last_run_exit_code gauge',
        'serve_batch_last_run_exit_code{job_name="nightly"} 0',
        '# HELP serve_batch_last_run_duration_seconds Duration of the last run.',
        '# TYPE serve_batch_last_run_duration_seconds gauge',
        'serve_batch_last_run_duration_seconds{job_name="nightly"} 1.5',
        '# HELP serve_batch_last_run_inputs Input files of the last run.',
        '# TYPE serve_batch_last_run_inputs gauge',
        'serve_batch_last_run_inputs{job_name="nightly"} 2',
        '# HELP serve_batch_last_run_rows_in Rows read by the last run.',
        '# TYPE serve_batch_last_run_rows_in gauge',
        'serve_batch_last_run_rows_in{job_name="nightly"} 100',
        '# HELP serve_batch_last_run_rows_out Result rows written by the last run.',
        '# TYPE serve_batch_last_run_rows_out gauge',
        'serve_batch_last_run_rows_out{job_name="nightly"} 97',
        '# HELP serve_batch_last_run_rows_rejected Rows rejected by the last run.',
        '# TYPE serve_batch_last_run_rows_rejected gauge',
        'serve_batch_last_run_rows_rejected{job_name="nightly"} 3',
        '',
      ].join('\n'),
    );
  });

  it('keeps the last success across a failed run, and other jobs untouched', () => {
    let text = mergeMetrics('', rec('a', 'ok', T1));
    text = mergeMetrics(text, rec('b', 'ok', T1));
    text = mergeMetrics(text, rec('a', 'failed', T2, { totals: { inputs: 1, failed: 1, rows_in: 5, rows_out: 0, rows_rejected: 5 } }));
    expect(value(text, 'serve_batch_last_run_timestamp_seconds{job_name="a"}')).toBe('1795572000');
    expect(value(text, 'serve_batch_last_success_timestamp_seconds{job_name="a"}')).toBe('1795485600');
    expect(value(text, 'serve_batch_last_run_status{job_name="a",status="failed"}')).toBe('1');
    expect(value(text, 'serve_batch_last_run_status{job_name="a",status="ok"}')).toBe('0');
    expect(value(text, 'serve_batch_last_run_rows_in{job_name="a"}')).toBe('5');
    expect(value(text, 'serve_batch_last_run_status{job_name="b",status="ok"}')).toBe('1');
    expect(text.match(/^# TYPE serve_batch_last_run_status gauge$/gm)).toHaveLength(1);
  });

  it('a skipped run only stamps last_skipped and leaves the last run alone', () => {
    const before = mergeMetrics('', rec('a', 'ok', T1));
    const after = mergeMetrics(before, rec('a', 'skipped', T2));
    expect(value(after, 'serve_batch_last_skipped_timestamp_seconds{job_name="a"}')).toBe('1795572000');
    expect(after.replace(/# HELP serve_batch_last_skipped[^]*$/, '')).toBe(before);
    // and the next real run keeps the skipped stamp
    expect(value(mergeMetrics(after, rec('a', 'ok', T2)), 'serve_batch_last_skipped_timestamp_seconds{job_name="a"}')).toBe('1795572000');
  });

  it('drops lines that are not serve-batch samples', () => {
    const text = mergeMetrics('garbage\nnode_foo 1\nserve_batch_unknown{job_name="x"} 3\n', rec('a', 'ok', T1));
    expect(text).not.toMatch(/garbage|node_foo|unknown/);
  });
});

describe('writeMetrics', () => {
  it('several jobs sharing one file, writing at once, lose no job and leave no temporary or lock file', async () => {
    const dir = tempDir('sb-metrics-');
    const file = path.join(dir, 'serve_batch.prom');
    const jobs = ['a', 'b', 'c', 'd', 'e', 'f'];
    await Promise.all(jobs.flatMap((j) => [1, 2, 3].map((i) => writeMetrics(file, rec(j, 'ok', `2026-11-24T0${i}:00:00.000Z`)))));
    const text = readFileSync(file, 'utf8');
    for (const j of jobs) expect(value(text, `serve_batch_last_run_exit_code{job_name="${j}"}`)).toBe('0');
    expect(readdirSync(dir)).toEqual(['serve_batch.prom']);
  });
});

describe('serve_batch_notify_failures_total', () => {
  it('counts undelivered notices per job across runs, and later runs of the job keep the count', async () => {
    const file = path.join(tempDir(), 'serve_batch.prom');
    await writeMetrics(file, rec('a', 'failed', T1));
    await writeMetrics(file, rec('b', 'ok', T1));
    await addNotifyFailures(file, 'a', 2, 'r1');
    await addNotifyFailures(file, 'a', 1, 'r2');
    let text = readFileSync(file, 'utf8');
    expect(text).toContain('# TYPE serve_batch_notify_failures_total counter\nserve_batch_notify_failures_total{job_name="a"} 3\n');
    expect(value(text, 'serve_batch_notify_failures_total{job_name="b"}')).toBeUndefined();
    await writeMetrics(file, rec('a', 'ok', T2));
    await writeMetrics(file, rec('a', 'skipped', T2));
    text = readFileSync(file, 'utf8');
    expect(value(text, 'serve_batch_notify_failures_total{job_name="a"}')).toBe('3');
    expect(value(text, 'serve_batch_last_run_status{job_name="a",status="ok"}')).toBe('1');
    expect(countNotifyFailures(text, 'b', 1)).toContain('serve_batch_notify_failures_total{job_name="b"} 1\n');
  });
});

describe('drift metrics', () => {
  const monitor = (columns: { column: string; value: number | null; missing_ratio: number }[]): RunRecord['monitor'] => ({
    reference: '/ref.json',
    metric: 'psi',
    warn_at: 0.1,
    fail_at: 0.25,
    missing_rate_increase: 0.05,
    level: 'fail',
    alerts: [],
    warnings: [],
    columns: columns.map((c) => ({ ...c, psi: c.value, js: null, reference_missing_ratio: 0, level: 'ok' })),
  });

  it('one sample per monitored column; none for a drift that could not be computed; a skipped run keeps them; the next run replaces them', () => {
    const first = mergeMetrics('', rec('churn', 'ok', T1, { exit_code: 4, monitor: monitor([{ column: 'tenure', value: 0.31, missing_ratio: 0.02 }, { column: 'a"b\\', value: null, missing_ratio: 0 }]) }));
    expect(value(first, 'serve_batch_drift{job_name="churn",column="tenure"}')).toBe('0.31');
    expect(value(first, 'serve_batch_missing_ratio{job_name="churn",column="tenure"}')).toBe('0.02');
    expect(first).not.toContain('serve_batch_drift{job_name="churn",column="a');
    expect(value(first, 'serve_batch_missing_ratio{job_name="churn",column="a\\"b\\\\"}')).toBe('0');
    expect(value(first, 'serve_batch_last_run_exit_code{job_name="churn"}')).toBe('4');
    expect(first).toMatch(/^# TYPE serve_batch_drift gauge$/m);
    const skipped = mergeMetrics(first, rec('churn', 'skipped', T2));
    expect(value(skipped, 'serve_batch_drift{job_name="churn",column="tenure"}')).toBe('0.31');
    const next = mergeMetrics(skipped, rec('churn', 'ok', T2));
    expect(next).not.toContain('serve_batch_drift');
  });
});
