// Stopping a run that is blocked, with the real CLI: a FIFO input that no process writes (the run waits in
// the kernel's open), a model call that never returns (a Loop of 10^12 steps) — SIGTERM, SIGHUP, a timeout,
// and validate's bound. The process must end (the test times out otherwise), without temporary files, with
// its lock released and its run record written. Readiness comes from /proc: a thread waiting for a FIFO's
// writer, or CPU time beyond what starting takes (only the endless Loop burns it).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cliAsync, expectOneLineError, listFiles, model, type CliResult } from '../support/cli.js';
import { tempDir } from '../support/temp-dir.js';

type Started = ReturnType<typeof cliAsync>;

// Every CLI a test starts; one still running after its test (a failed test) is killed by its pid.
const started: Started[] = [];
const start = (args: string[], cwd: string): Started => {
  const run = cliAsync(args, { cwd });
  started.push(run);
  return run;
};
afterEach(() => {
  for (const run of started.splice(0)) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
});

// The exit status a shell sees: the code, or 128 + the signal that ended the process.
const statusOf = (r: CliResult) => r.status ?? 128 + constants.signals[r.signal as NodeJS.Signals];

// CPU time of a process so far, in clock ticks (1/100 s).
function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

// Whether one of a process's threads waits in open() for a FIFO's writer.
function waitsForWriter(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).some((t) => {
    try {
      return readFileSync(`/proc/${pid}/task/${t}/wchan`, 'utf8') === 'wait_for_partner';
    } catch {
      return false;
    }
  });
}

// Poll until `ready` holds for the running CLI (or it ended).
async function until(run: Started, ready: (pid: number) => boolean): Promise<void> {
  const pid = run.child.pid as number;
  let ended = false;
  void run.done.then(() => (ended = true));
  while (!ended) {
    try {
      if (ready(pid)) return;
    } catch {
      // the process is gone: `done` says how
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the CLI ended before it was ready: ${run.output().stderr}`);
}

// A job over the loop_steps model (y = x after max(x) steps) or a FIFO, in a fresh directory.
function setUp(o: { input: 'fifo' | number[]; extra?: string }): { dir: string; job: string } {
  const dir = tempDir();
  if (o.input === 'fifo') execFileSync('mkfifo', [path.join(dir, 'in.csv')]);
  else writeFileSync(path.join(dir, 'in.csv'), `id,x\n${o.input.map((x, i) => `r${i},${x}`).join('\n')}\n`);
  const job = path.join(dir, 'job.yaml');
  writeFileSync(job, `name: stuck\nmodel: ${model('loop_steps')}\ninput: { path: in.csv, format: csv }\nfeatures: { columns: [x] }\npassthrough: [id]\noutput: out/{input_stem}.csv\nstate_dir: state\n${o.extra ?? ''}`);
  return { dir, job };
}

// The single run record of the job, and what the directory holds besides it, the job and the input.
function after(dir: string): { record: Record<string, unknown>; left: string[] } {
  const runs = path.join(dir, 'state/runs/stuck');
  const names = readdirSync(runs);
  expect(names).toHaveLength(1);
  const record = JSON.parse(readFileSync(path.join(runs, names[0]), 'utf8')) as Record<string, unknown>;
  const left = listFiles(dir).filter((f) => !['job.yaml', 'in.csv', `state/runs/stuck/${names[0]}`].includes(f));
  return { record, left };
}

const ENDLESS = [1, 1e12, 2];

describe('a blocked run stops on a signal', () => {
  it('SIGTERM while the input is a FIFO nobody writes: exit 143, no temporary files, lock released, record written', async () => {
    const { dir, job } = setUp({ input: 'fifo' });
    const run = start(['run', job, '--log-format', 'json'], dir);
    await until(run, waitsForWriter);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(statusOf(r)).toBe(143);
    const { record, left } = after(dir);
    expect(left).toEqual([]); // no temporary file, no lock, no result
    expect(record).toMatchObject({ status: 'interrupted', exit_code: 143 });
    expect(record.error).toBe('interrupted by SIGTERM: reading in.csv had not come back 5 s later and was left running; no partial results were kept');
    expectOneLineError(r.stderr);
  });

  it('SIGTERM while the model is inside a call that never returns: exit 143, the same cleanup', async () => {
    const { dir, job } = setUp({ input: ENDLESS });
    const run = start(['run', job, '--log-format', 'json'], dir);
    await until(run, (pid) => cpuTicks(pid) >= 150);
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(statusOf(r)).toBe(143);
    const { record, left } = after(dir);
    expect(left).toEqual([]);
    expect(record).toMatchObject({ status: 'interrupted', exit_code: 143, error: 'interrupted by SIGTERM: the model had not answered 5 s later and was left running; no partial results were kept' });
  });

  it('SIGHUP (the terminal closed) stops like SIGTERM: exit 143, no leftovers', async () => {
    const { dir, job } = setUp({ input: 'fifo' });
    const run = start(['run', job, '--log-format', 'json'], dir);
    await until(run, waitsForWriter);
    run.child.kill('SIGHUP');
    const r = await run.done;
    expect(statusOf(r)).toBe(143);
    const { record, left } = after(dir);
    expect(left).toEqual([]);
    expect(record).toMatchObject({ status: 'interrupted', exit_code: 143 });
    expect(String(record.error)).toMatch(/^interrupted by SIGHUP: /);
  });
});

describe('timeout', () => {
  // 30 rows of 300,000 Loop steps each, one call per row (~0.3 s each): longer than the timeout, and every
  // call comes back, so the run stops at the next chunk.
  const SLOW = Array.from({ length: 30 }, () => 3e5);

  it('timeout: in the job fails a run that takes longer: exit 1, "timed out after", nothing written', async () => {
    const { dir, job } = setUp({ input: SLOW, extra: 'batch_size: 1\ntimeout: 1s\n' });
    const r = await start(['run', job, '--log-format', 'json'], dir).done;
    expect(r.status).toBe(1);
    const { record, left } = after(dir);
    expect(left).toEqual([]);
    expect(record).toMatchObject({ status: 'failed', exit_code: 1, error: 'timed out after 1.00s: no partial results were kept' });
    expect(r.stderr).toContain('timed out after 1.00s');
  });

  it('run --timeout replaces the job\'s timeout for one run', async () => {
    const { dir, job } = setUp({ input: SLOW, extra: 'batch_size: 1\ntimeout: 1h\n' });
    const r = await start(['run', job, '--timeout', '1s', '--log-format', 'json'], dir).done;
    expect(r.status).toBe(1);
    expect(after(dir).record).toMatchObject({ status: 'failed', error: 'timed out after 1.00s: no partial results were kept' });
  });

  it('a timed-out run whose model call never returns is recorded as timed out, and the process ends with SIGTERM', async () => {
    const { dir, job } = setUp({ input: ENDLESS, extra: 'timeout: 1s\n' });
    const r = await start(['run', job, '--log-format', 'json'], dir).done;
    expect(r.signal).toBe('SIGTERM');
    const { record, left } = after(dir);
    expect(left).toEqual([]);
    expect(record).toMatchObject({ status: 'failed', exit_code: 1, error: 'timed out after 1.00s: the model had not answered 5 s later and was left running; no partial results were kept' });
  });

  it('a timeout of 0 or not a duration is refused (exit 2)', async () => {
    const { dir, job } = setUp({ input: [1], extra: 'timeout: 0\n' });
    const r = await start(['run', job], dir).done;
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('must be longer than 0 (leave it out for no limit) (at timeout)');
    expect(existsSync(path.join(dir, 'state'))).toBe(false);
  });
});

describe('validate', () => {
  it('refuses a model that does not answer on the sample within the bound, in one line', async () => {
    const { dir, job } = setUp({ input: ENDLESS, extra: 'timeout: 2s\n' });
    const r = await start(['validate', job, '--log-format', 'text'], dir).done;
    const lines = expectOneLineError(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('the model did not answer on 3 rows within 2.00s');
    // A thread inside a call that never returns keeps Node.js from exiting: validate ends with SIGTERM.
    expect(statusOf(r)).toBe(143);
  });
});
