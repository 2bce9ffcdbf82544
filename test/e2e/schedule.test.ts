// `serve-batch schedule` end to end: the real CLI, real child processes, real files (and main() in this process
// for the command-line mistakes that stop it before it starts).
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runMain } from '../support/cli.js';
import { cli, listFiles, logLines, runRecords, startCli, tempDir, writeCsv, writeJob, type Running } from './helpers.js';

// A directory with jobs/, in/a.csv and state/ (job paths are relative to jobs/).
function workspace(): { dir: string; jobs: string } {
  const dir = tempDir('sb-sched-');
  mkdirSync(path.join(dir, 'jobs'));
  mkdirSync(path.join(dir, 'in'));
  writeCsv(path.join(dir, 'in/a.csv'), 20);
  return { dir, jobs: path.join(dir, 'jobs') };
}

// A job in jobs/ reading ../in and writing ../out, with state in ../state.
function job(jobs: string, name: string, extra: string): string {
  return writeJob(jobs, name, { input: '../in/*.csv', output: `../out/${name}/{input_stem}.csv`, stateDir: '../state', extra });
}

// SIGTERM the daemon; its exit code.
async function stop(d: Running): Promise<number | null> {
  d.child.kill('SIGTERM');
  return (await d.done).code;
}

// Wait for the n-th log line of an event.
const nth = (d: Running, event: string, n: number, ms = 20_000) => d.waitForLog((e) => e.event === event && logLines(d.stderr()).filter((x) => x.event === event).length >= n, ms);

// Events logged after `stopping`: a stopped daemon starts nothing new.
const afterStopping = (d: Running) => {
  const events = logLines(d.stderr()).map((e) => e.event);
  return events.slice(events.indexOf('stopping'));
};

// A text log line without its leading timestamp.
const untimed = (line: string) => line.replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z /, '');

// Files that must not survive a clean stop: temporaries and locks.
const leftovers = (dir: string) => listFiles(dir).filter((f) => f.endsWith('.sb-tmp') || f.endsWith('.lock') || f.includes('.stale.'));

describe('serve-batch schedule', () => {
  it('fires a 2-second schedule on even seconds from the planned first fire, a run record per fire, and stops cleanly on SIGTERM', async () => {
    const { dir, jobs } = workspace();
    job(jobs, 'every2', 'schedule: "*/2 * * * * *"');
    job(jobs, 'adhoc', '');
    const d = startCli(['schedule', jobs]);
    const loaded = await d.waitForLog((e) => e.event === 'loaded');
    expect(loaded).toMatchObject({ job: 'every2', cron: '*/2 * * * * *', timezone: 'UTC' });
    expect(await d.waitForLog((e) => e.event === 'on_demand')).toMatchObject({ job: 'adhoc' });
    await nth(d, 'finished', 3);
    expect(await stop(d)).toBe(0);
    const logs = logLines(d.stderr());
    const fired = logs.filter((e) => e.event === 'fired');
    expect(fired.length).toBeGreaterThanOrEqual(3);
    // The first fire is the one planned at loading; then later even seconds, each once.
    expect(fired[0].scheduled_for).toBe(loaded.next);
    const instants = fired.map((f) => Date.parse(f.scheduled_for as string));
    for (const t of instants) expect(t % 2000).toBe(0);
    for (let i = 1; i < instants.length; i++) expect(instants[i]).toBeGreaterThan(instants[i - 1]);
    // A fire that comes while the previous run still runs (a slow machine) is skipped, with a record of its own.
    const busy = logs.filter((e) => e.event === 'skipped' && e.reason === 'busy');
    const records = runRecords(path.join(dir, 'state'), 'every2');
    expect(records.map((r) => r.run_id).sort()).toEqual([...fired, ...busy].map((f) => f.run_id).sort());
    const ran = records.filter((r) => fired.some((f) => f.run_id === r.run_id));
    for (const r of ran) expect(r).toMatchObject({ trigger: 'schedule', status: 'ok', exit_code: 0, schedule: { attempt: 1, reason: 'schedule' } });
    for (const r of records.filter((x) => !ran.includes(x))) expect(r).toMatchObject({ trigger: 'schedule', status: 'skipped', exit_code: 3 });
    expect(logs.filter((e) => e.event === 'finished')).toHaveLength(ran.length);
    expect(afterStopping(d).filter((e) => e === 'fired' || e === 'started')).toEqual([]);
    expect(logs.map((e) => e.event).slice(-1)).toEqual(['stopped']);
    expect(existsSync(path.join(dir, 'out/every2/a.csv'))).toBe(true);
    expect(leftovers(dir)).toEqual([]);
  });

  it('a per-second job fires, records its runs and exits 0 on SIGTERM with no temporary files', async () => {
    const { dir, jobs } = workspace();
    job(jobs, 'persec', 'schedule: "* * * * * *"\nmetrics_file: ../metrics/serve_batch.prom');
    const d = startCli(['schedule', path.join(jobs, 'persec.yaml')]);
    await d.waitForLog((e) => e.event === 'finished');
    await d.waitForLog((e) => e.event === 'fired' && e.run_id !== logLines(d.stderr()).find((x) => x.event === 'finished')?.run_id);
    expect(await stop(d)).toBe(0);
    expect(afterStopping(d).filter((e) => e === 'fired' || e === 'started')).toEqual([]);
    const logs = logLines(d.stderr());
    const fired = logs.filter((e) => e.event === 'fired' || (e.event === 'skipped' && e.reason === 'busy'));
    const records = runRecords(path.join(dir, 'state'), 'persec');
    expect(records.length).toBeGreaterThanOrEqual(2);
    expect(records.length).toBe(fired.length);
    for (const r of records) expect(['ok', 'skipped']).toContain(r.status);
    expect(records.filter((r) => r.status === 'ok').length).toBeGreaterThanOrEqual(2);
    expect(listFiles(path.join(dir, 'metrics'))).toEqual(['serve_batch.prom']);
    expect(leftovers(dir)).toEqual([]);
  });

  it('refuses to start (exit 2) listing every problem, one line each, no stack', async () => {
    const { jobs } = workspace();
    job(jobs, 'badcron', 'schedule: { cron: "0 2 * * 8", timezone: Europe/Pariss }');
    job(jobs, 'badkey', 'schedule: "0 2 * * *"\nretires: 3');
    writeJob(jobs, 'nomodel', { model: 'missing.onnx', input: '../in/*.csv', stateDir: '../state', extra: 'schedule: "0 2 * * *"' });
    const r = await cli(['schedule', jobs, '--log-format', 'text']);
    expect(r.code).toBe(2);
    const lines = r.stderr.trim().split('\n').map(untimed);
    expect(lines).toEqual([
      expect.stringMatching(/^error: .*badcron\.yaml:9:\d+: invalid cron expression "0 2 \* \* 8": field 5 \(day-of-week\) value 8 is out of range 0-7 \(at schedule\.cron\)$/),
      expect.stringMatching(/^error: .*badcron\.yaml:9:\d+: unknown time zone "Europe\/Pariss", did you mean 'Europe\/Paris'\? \(at schedule\.timezone\)$/),
      expect.stringMatching(/^error: .*badkey\.yaml:10:1: unknown key 'retires' \(at retires\)$/),
      expect.stringMatching(/^error: .*nomodel\.yaml: .*missing\.onnx/),
      'error: the scheduler did not start: 4 problems in the job files',
    ]);
    expect(r.stdout).toBe('');
  });

  it('exit 2 for a bad --grace, with one line', async () => {
    const r = await runMain(['schedule', '--grace', 'soon', '--log-format', 'text']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').map(untimed)).toEqual(['error: --grace must be a duration like 30s, 2m or 1h (got "soon")']);
  });

  it('exit 2 when the default ./jobs directory does not exist', async () => {
    const r = await runMain(['schedule', '--log-format', 'text'], { cwd: tempDir() });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n').map(untimed)).toEqual(['error: jobs: no such file or directory', 'error: the scheduler did not start: 1 problem in the job files']);
    expect(r.stderr).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z error: jobs/);
  });

  it('SIGHUP reloads the job files: added jobs fire, removed ones stop, an invalid file keeps its previous version', async () => {
    const { dir, jobs } = workspace();
    const a = job(jobs, 'first', 'schedule: "0 0 1 1 *"');
    const d = startCli(['schedule', jobs]);
    await d.waitForLog((e) => e.event === 'loaded' && e.job === 'first');
    job(jobs, 'second', 'schedule: "* * * * * *"');
    d.child.kill('SIGHUP');
    expect(await d.waitForLog((e) => e.event === 'reloaded')).toMatchObject({ added: ['second'], changed: [], removed: [], unchanged: ['first'] });
    await d.waitForLog((e) => e.event === 'finished' && e.job === 'second');
    rmSync(a);
    job(jobs, 'second', 'schedule: "* * * * * *"\nbogus: true');
    d.child.kill('SIGHUP');
    const logsAt = () => logLines(d.stderr()).filter((e) => e.event === 'reloaded');
    await d.waitForLog((e) => e.event === 'reloaded' && (e.removed as string[]).includes('first'));
    expect(logsAt()[1]).toMatchObject({ added: [], changed: [], removed: ['first'], unchanged: ['second'] });
    expect(logLines(d.stderr()).find((e) => e.event === 'problem')?.msg).toMatch(/second\.yaml:\d+:1: unknown key 'bogus' .*\(reload: the previous version of this job, if any, stays\)$/);
    // The job directory vanishing (a deploy swapping it) does not unschedule its jobs.
    renameSync(jobs, `${jobs}.old`);
    d.child.kill('SIGHUP');
    expect((await d.waitForLog((e) => e.event === 'reload_failed')).msg).toMatch(/^reload refused, the loaded jobs stay: .*jobs: no such file or directory$/);
    const finishedBefore = logLines(d.stderr()).filter((e) => e.event === 'finished').length;
    await d.waitForLog((e) => e.event === 'finished' && logLines(d.stderr()).filter((x) => x.event === 'finished').length > finishedBefore);
    expect(await stop(d)).toBe(0);
    expect(runRecords(path.join(dir, 'state'), 'first')).toEqual([]);
    expect(leftovers(dir)).toEqual([]);
  });

  it('over an empty folder it starts idle, with a warning, as after a reload that emptied it; a reload brings jobs', async () => {
    const { dir, jobs } = workspace();
    const d = startCli(['schedule', jobs]);
    expect((await d.waitForLog((e) => e.event === 'warning')).msg).toMatch(/jobs: no job files \(\*\.yaml, \*\.yml\) in this directory$/);
    expect((await d.waitForLog((e) => e.event === 'idle')).msg).toBe('no job has a schedule: nothing will fire until a reload (SIGHUP) brings one');
    await new Promise((r) => setTimeout(r, 1000));
    expect(d.child.exitCode).toBeNull();
    job(jobs, 'later', 'schedule: "0 0 1 1 *"');
    d.child.kill('SIGHUP');
    expect(await d.waitForLog((e) => e.event === 'reloaded')).toMatchObject({ added: ['later'] });
    expect(await stop(d)).toBe(0);
    expect(leftovers(dir)).toEqual([]);
  });

  it('with no job on a schedule it keeps running: a reload can bring one, SIGTERM stops it with exit 0', async () => {
    const { dir, jobs } = workspace();
    job(jobs, 'adhoc', '');
    const d = startCli(['schedule', jobs]);
    expect((await d.waitForLog((e) => e.event === 'idle')).msg).toBe('no job has a schedule: nothing will fire until a reload (SIGHUP) brings one');
    // Nothing is armed now; a scheduler that let its process end would be gone well within this second.
    await new Promise((r) => setTimeout(r, 1000));
    expect(d.child.exitCode).toBeNull();
    job(jobs, 'later', 'schedule: "0 0 1 1 *"');
    d.child.kill('SIGHUP');
    expect(await d.waitForLog((e) => e.event === 'reloaded')).toMatchObject({ added: ['later'], unchanged: ['adhoc'] });
    expect(await d.waitForLog((e) => e.event === 'loaded')).toMatchObject({ job: 'later' });
    expect(await stop(d)).toBe(0);
    expect(logLines(d.stderr()).map((e) => e.event).slice(-1)).toEqual(['stopped']);
    expect(leftovers(dir)).toEqual([]);
  });
});
