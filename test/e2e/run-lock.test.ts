// One lock per job, taken by `run` like every other entry point: a second concurrent run exits 3, a lock whose
// holder died is taken over, and `run` writes the metrics file. The runs that hold a lock or meet a live holder
// are processes; the others run main() in this process.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { cli, listFiles, logLines, runRecords, startCli, tempDir, until, writeCsv, writeJob } from './helpers.js';

describe('serve-batch run and the job lock', () => {
  it('a second concurrent run of the same job exits 3 and the first is unaffected', async () => {
    const dir = tempDir();
    writeCsv(path.join(dir, 'in.csv'), 20);
    const job = writeJob(dir, 'twice', { input: '{ path: in.csv, format: csv }', output: 'out/{job}.csv' });
    const lock = path.join(dir, 'state/locks/twice.lock');
    // The first run reads its rows from stdin, which the test holds open: it keeps the lock, deterministically,
    // until the second run has finished.
    const first = startCli(['run', job, '--input', '-'], { stdin: 'pipe' });
    await until(() => existsSync(lock), 15_000, 'the first run to take the lock');
    const second = await cli(['run', job]);
    expect(second.code).toBe(3);
    const finished = logLines(second.stderr).find((e) => e.event === 'run_finished');
    expect(finished).toMatchObject({ level: 'warn', status: 'skipped', exit_code: 3 });
    expect(finished?.msg).toMatch(/^job twice: skipped — job twice is already running: pid \d+ on .* \(run .*\); this run was skipped$/);
    first.child.stdin!.end(readFileSync(path.join(dir, 'in.csv')));
    const r1 = await first.done;
    expect(r1.code).toBe(0);
    const records = runRecords(path.join(dir, 'state'), 'twice');
    expect(records.map((r) => [r.status, r.exit_code]).sort()).toEqual([['ok', 0], ['skipped', 3]]);
    expect(readFileSync(path.join(dir, 'out/twice.csv'), 'utf8').split('\n')).toHaveLength(22);
    expect(existsSync(lock)).toBe(false);
  });

  it('takes over a stale lock (a lock file naming a dead pid)', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    writeCsv(path.join(dir, 'in/a.csv'), 5);
    const job = writeJob(dir, 'stale');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid as number;
    mkdirSync(path.join(dir, 'state/locks'), { recursive: true });
    const lock = path.join(dir, 'state/locks/stale.lock');
    writeFileSync(lock, JSON.stringify({ pid: dead, host: hostname(), run_id: 'crashed-run', started_at: '2026-01-01T00:00:00.000Z' }));
    const r = await runMain(['run', job]);
    expect(r.status, r.stderr).toBe(0);
    expect(runRecords(path.join(dir, 'state'), 'stale').map((x) => x.status)).toEqual(['ok']);
    expect(existsSync(lock)).toBe(false);
    expect(listFiles(dir).filter((f) => f.includes('.sb-tmp') || f.includes('.stale'))).toEqual([]);
  });

  it('a live holder is respected: exit 3, the lock file is left as it was', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    const job = writeJob(dir, 'held');
    mkdirSync(path.join(dir, 'state/locks'), { recursive: true });
    const lock = path.join(dir, 'state/locks/held.lock');
    // Written by this process, so after it started (a lock older than its pid's process is a dead run's).
    const owner = JSON.stringify({ pid: process.pid, host: hostname(), run_id: 'test-holder', started_at: new Date().toISOString() });
    writeFileSync(lock, owner);
    const r = await cli(['run', job, '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'skipped', exit_code: 3, error: expect.stringContaining(`pid ${process.pid}`) });
    expect(readFileSync(lock, 'utf8')).toBe(owner);
  });

  it('run writes the metrics file (Prometheus textfile), atomically', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'in'));
    writeCsv(path.join(dir, 'in/a.csv'), 7);
    const job = writeJob(dir, 'metered', { extra: 'metrics_file: metrics/serve_batch.prom' });
    const r = await runMain(['run', job]);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(path.join(dir, 'metrics/serve_batch.prom'), 'utf8');
    expect(text).toMatch(/^serve_batch_last_run_status\{job_name="metered",status="ok"\} 1$/m);
    expect(text).toMatch(/^serve_batch_last_run_rows_in\{job_name="metered"\} 7$/m);
    expect(text).toMatch(/^serve_batch_last_success_timestamp_seconds\{job_name="metered"\} \d+(\.\d+)?$/m);
    expect(listFiles(path.join(dir, 'metrics'))).toEqual(['serve_batch.prom']);
  });
});
