// The scheduler when runs go wrong: a run's process dies, a run times out and is retried, another process
// holds the job's lock. Real CLI, real child processes, real files.
//
// A crash is caused for real, from outside: the test kills the run's process with SIGKILL (what the kernel's
// OOM killer does to a leaking model; onnxruntime-node's abort on some outputs is SIGABRT, handled the same
// way: the child's exit signal is all the scheduler sees). No hook in the product is needed for this.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listFiles, logLines, MODELS, runRecords, startCli, tempDir, until, writeCsv, writeJob } from './helpers.js';

const FIXED_BATCH = path.join(MODELS, 'fixed_batch.onnx'); // [1, 3]: one row per session.run, slow on purpose

// A workspace with jobs/ and in/; the job reads ../in/*.csv and writes one combined ../out/result.csv.
function workspace(name: string, rows: number, extra: string, model = FIXED_BATCH): { dir: string; jobs: string; state: string } {
  // input.format lets `run --input -` read stdin as CSV.
  const dir = tempDir('sb-fail-');
  mkdirSync(path.join(dir, 'jobs'));
  mkdirSync(path.join(dir, 'in'));
  writeCsv(path.join(dir, 'in/big.csv'), rows);
  writeJob(path.join(dir, 'jobs'), name, { model, input: '{ path: ../in/*.csv, format: csv }', output: '../out/result.csv', stateDir: '../state', extra });
  return { dir, jobs: path.join(dir, 'jobs'), state: path.join(dir, 'state') };
}

const tempFiles = (dir: string) => listFiles(dir).filter((f) => f.endsWith('.sb-tmp') || f.includes('.stale.'));

// The pid recorded in a lock file, if it exists.
function lockPid(file: string): number | undefined {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

describe('serve-batch schedule when runs go wrong', () => {
  it('a run whose process is killed: the scheduler logs the failure, writes its record, and keeps firing (the dead run’s lock is taken over)', async () => {
    const { dir, jobs, state } = workspace('crashy', 60_000, 'schedule: "* * * * * *"\nbatch_size: 500');
    const d = startCli(['schedule', jobs]);
    const started = await d.waitForLog((e) => e.event === 'started');
    const pid = started.pid as number;
    const lock = path.join(state, 'locks/crashy.lock');
    await until(() => lockPid(lock) === pid, 15_000, 'the run to take the job lock');
    // From now on the input is small, so the next run is quick.
    rmSync(path.join(dir, 'in/big.csv'));
    writeCsv(path.join(dir, 'in/small.csv'), 10);
    process.kill(pid, 'SIGKILL');
    const failed = await d.waitForLog((e) => e.event === 'failed' && e.run_id === started.run_id);
    expect(failed.msg).toBe("job crashy: failed — the run's process was killed by signal SIGKILL before it could finish");
    const ok = await d.waitForLog((e) => e.event === 'finished', 20_000);
    d.child.kill('SIGTERM');
    const r = await d.done;
    expect(r.code).toBe(0);
    const records = runRecords(state, 'crashy');
    const crashed = records.find((x) => x.run_id === started.run_id);
    expect(crashed).toMatchObject({ trigger: 'schedule', status: 'failed', exit_code: 1, error: expect.stringContaining('SIGKILL'), schedule: { attempt: 1, reason: 'schedule' } });
    expect(records.find((x) => x.run_id === ok.run_id)).toMatchObject({ status: 'ok', totals: { rows_in: 10, rows_out: 10 } });
    expect(readFileSync(path.join(dir, 'out/result.csv'), 'utf8').trim().split('\n')).toHaveLength(11);
    expect(tempFiles(dir)).toEqual([]); // the killed run's temporary output was removed by the next run
    expect(existsSync(lock)).toBe(false);
  });

  it('timeout stops the run cleanly (no partial output), and the failed run is retried', async () => {
    // One fire, missed a minute ago (missed: run-once runs it at start); the next one is an hour away.
    const minute = new Date(Date.now() - 60_000).getUTCMinutes();
    // 400,000 rows of a model called one row at a time: several seconds, far more than the timeout.
    const { dir, jobs, state } = workspace('slow', 400_000, `schedule: { cron: "${minute} * * * *", missed: run-once, timeout: 1500ms, retries: 1, retry_delay: 1s }\nbatch_size: 500`);
    mkdirSync(path.join(state, 'schedule'), { recursive: true });
    writeFileSync(path.join(state, 'schedule/slow.json'), JSON.stringify({ job: 'slow', handled_until: new Date(Date.now() - 3 * 60_000).toISOString(), last_fire: null }));
    const d = startCli(['schedule', jobs]);
    expect(await d.waitForLog((e) => e.event === 'missed')).toMatchObject({ action: 'run-once', at_start: true, count: 1 });
    const first = await d.waitForLog((e) => e.event === 'failed');
    expect(first.msg).toMatch(/^job slow: failed — timed out after 1\.50s: it was stopped cleanly; no partial results were kept$/);
    expect(await d.waitForLog((e) => e.event === 'retry')).toMatchObject({ attempt: 2, attempts: 2 });
    const second = await d.waitForLog((e) => e.event === 'failed' && e.run_id !== first.run_id);
    d.child.kill('SIGTERM');
    expect((await d.done).code).toBe(0);
    const records = runRecords(state, 'slow');
    expect(records.map((x) => [x.status, x.exit_code, x.schedule.attempt, x.schedule.reason])).toEqual([
      ['failed', 1, 1, 'missed'],
      ['failed', 1, 2, 'retry'],
    ]);
    expect(records[1].run_id).toBe(second.run_id);
    // The input each was scoring says the same, not that it was interrupted by SIGTERM.
    for (const r of records) for (const i of r.inputs as { error: string | null }[]) expect(i.error ?? '').toMatch(/^timed out after 1\.50s: /);
    expect(existsSync(path.join(dir, 'out/result.csv'))).toBe(false);
    expect(tempFiles(dir)).toEqual([]);
  });

  it('a fire while `run` holds the job lock is logged as skipped (exit 3 record), and the daemon carries on', async () => {
    const { dir, jobs, state } = workspace('shared', 10, 'schedule: "* * * * * *"', path.join(MODELS, 'linear_binary.onnx'));
    const job = path.join(jobs, 'shared.yaml');
    const lock = path.join(state, 'locks/shared.lock');
    // `run` reads stdin, held open by the test, so it holds the lock for as long as the test wants.
    const holder = startCli(['run', job, '--input', '-', '--output', path.join(dir, 'manual.csv')], { stdin: 'pipe' });
    await until(() => lockPid(lock) === holder.child.pid, 15_000, 'run to take the lock');
    const d = startCli(['schedule', jobs]);
    const skipped = await d.waitForLog((e) => e.event === 'skipped');
    expect(skipped).toMatchObject({ level: 'warn', reason: 'locked', status: 'skipped', exit_code: 3 });
    expect(holder.child.exitCode).toBe(null); // still holding the lock
    expect(skipped.msg).toMatch(new RegExp(`^job shared: skipped — job shared is already running: pid ${holder.child.pid} on ${hostname()} \\(run .*\\); this run was skipped$`));
    holder.child.stdin!.end('id,a,b,c\nx,1,2,3\n');
    expect((await holder.done).code).toBe(0);
    await d.waitForLog((e) => e.event === 'finished');
    d.child.kill('SIGTERM');
    expect((await d.done).code).toBe(0);
    const statuses = runRecords(state, 'shared').map((x) => `${x.trigger}:${x.status}`);
    expect(statuses).toContain('cli:ok');
    expect(statuses).toContain('schedule:skipped');
    expect(statuses).toContain('schedule:ok');
    expect(logLines(d.stderr()).some((e) => e.event === 'internal_error')).toBe(false);
  });

  it('SIGTERM with a run longer than --grace: the run is stopped cleanly (no partial output) and the scheduler exits 0', async () => {
    const { dir, jobs, state } = workspace('long', 200_000, 'schedule: "* * * * * *"\nbatch_size: 500');
    const d = startCli(['schedule', jobs, '--grace', '1s']);
    const started = await d.waitForLog((e) => e.event === 'started');
    await until(() => lockPid(path.join(state, 'locks/long.lock')) === started.pid, 15_000, 'the run to take the lock');
    d.child.kill('SIGTERM');
    const r = await d.done;
    expect(r.code).toBe(0);
    // Stopped because the grace ran out (terminating), not because the run finished.
    const events = logLines(r.stderr).map((e) => e.event).filter((e) => e !== 'warning' && e !== 'input_finished');
    expect(events.slice(events.indexOf('stopping'))).toEqual(['stopping', 'terminating', 'interrupted', 'stopped']);
    expect(runRecords(state, 'long').find((x) => x.run_id === started.run_id)).toMatchObject({ status: 'interrupted', exit_code: 143 });
    expect(existsSync(path.join(dir, 'out/result.csv'))).toBe(false);
    expect(tempFiles(dir)).toEqual([]);
  });
});
