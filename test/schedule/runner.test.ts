// The child-process runner against stand-in children (test/schedule/children/behave.mjs): how each way a run's
// process can end becomes a run record.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseJob } from '../../src/job/load.js';
import type { RunRecord } from '../../src/run/record.js';
import { checkInChild, childRunner } from '../../src/schedule/runner.js';

const CHILD = path.join(import.meta.dirname, 'children/behave.mjs');
const job = (schedule = 'schedule: "0 2 * * *"') => parseJob(`name: j\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\n${schedule}\n`, '/jobs/j.yaml');
const fire = { scheduled_for: '2026-11-24T02:00:00.000Z', attempt: 1, reason: 'schedule' as const };

// Run one fire with the stand-in child behaving as `behave`; returns the record and what was saved.
async function runWith(behave: string, o: { schedule?: string; killAfterMs?: number; act?: (h: { stop(): void; kill(): void }) => void } = {}) {
  process.env.BEHAVE = behave;
  const saved: RunRecord[] = [];
  const events: unknown[] = [];
  const runner = childRunner({ killAfterMs: o.killAfterMs ?? 10_000, childPath: CHILD, save: async (_j, r) => void saved.push(r) });
  const handle = runner.start(job(o.schedule), { runId: 'R1', fire }, (e) => events.push(e));
  expect(handle.pid).toBeGreaterThan(0);
  o.act?.(handle);
  const record = await handle.done;
  return { record, saved, events };
}

afterEach(() => {
  delete process.env.BEHAVE;
});

describe('childRunner', () => {
  it('a record sent by the child is the result; the scheduler writes nothing', async () => {
    const { record, saved } = await runWith('record');
    expect(record).toMatchObject({ run_id: 'R1', status: 'ok', from: 'child' });
    expect(saved).toEqual([]);
  });

  it('a child killed by a signal: a failed record naming the signal, with the inputs it had finished, written by the scheduler', async () => {
    const { record, saved } = await runWith('sigkill-after-input');
    expect(record).toMatchObject({
      run_id: 'R1',
      trigger: 'schedule',
      schedule: fire,
      status: 'failed',
      exit_code: 1,
      error: "the run's process was killed by signal SIGKILL before it could finish",
      totals: { inputs: 1, rows_in: 5, rows_out: 5 },
    });
    expect(saved).toEqual([record]);
  });

  it("a child that exits without a record: the exit code and its last line of output", async () => {
    const { record, events } = await runWith('exit-with-output');
    expect(record.error).toBe("the run's process exited with code 134 before it could finish; its last output: terminate called: native failure");
    expect(events).toContainEqual({ type: 'output', stream: 'stderr', line: 'terminate called: native failure' });
  });

  it('timeout: SIGTERM, then SIGKILL when the run ignores it; recorded as failed', async () => {
    // The timeout leaves the child time to start Node and ignore SIGTERM (its first line), also on a busy machine.
    const { record, saved } = await runWith('hang-ignoring-sigterm', { schedule: 'schedule: { cron: "0 2 * * *", timeout: 1s }', killAfterMs: 300 });
    expect(record).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(record.error).toBe('timed out after 1.00s: it did not stop and was killed (SIGKILL); nothing was committed, and its temporary files are removed by the next run');
    expect(saved).toEqual([record]);
  });

  it('timeout: a run its SIGTERM stopped is recorded as timed out, stopped cleanly', async () => {
    const { record, saved } = await runWith('stopped-on-sigterm', { schedule: 'schedule: { cron: "0 2 * * *", timeout: 1s }' });
    expect(record).toMatchObject({ status: 'failed', exit_code: 1, from: 'child', error: 'timed out after 1.00s: it was stopped cleanly; no partial results were kept' });
    expect(saved).toEqual([record]);
  });

  it("timeout: a run whose SIGTERM came after every result was committed keeps the child's record (the run completed)", async () => {
    const { record, saved } = await runWith('complete-on-sigterm', { schedule: 'schedule: { cron: "0 2 * * *", timeout: 1s }' });
    expect(record).toMatchObject({ status: 'ok', exit_code: 0, from: 'child' });
    expect(saved).toEqual([]);
  });

  it('killed by the shutdown: recorded as interrupted', async () => {
    const { record } = await runWith('hang-ignoring-sigterm', { act: (h) => setTimeout(() => h.kill(), 100) });
    expect(record).toMatchObject({ status: 'interrupted', exit_code: 143, error: "stopped by the scheduler's shutdown (SIGKILL) before it could finish" });
  });
});

describe('checkInChild', () => {
  it('a model check whose process dies is a problem, not a crash of the scheduler', async () => {
    process.env.BEHAVE = 'sigkill-after-input';
    expect(await checkInChild(job(), CHILD)).toEqual({ problems: ['the process checking its model was killed by signal SIGKILL before it could finish'], warnings: [] });
  });
});
