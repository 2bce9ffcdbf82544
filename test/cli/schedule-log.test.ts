import { describe, expect, it } from 'vitest';
import { describeEvent } from '../../src/cli/schedule-log.js';
import { parseJob } from '../../src/job/load.js';
import { schedulerRecord } from '../../src/schedule/records.js';

const job = parseJob('name: nightly\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\nschedule: { cron: "0 2 * * *", timezone: Asia/Seoul }\n', '/jobs/nightly.yaml');
const fire = { scheduled_for: '2026-11-24T17:00:00.000Z', attempt: 1, reason: 'schedule' as const };

describe('describeEvent', () => {
  it('loaded: the cron, the zone and the next fire in local time and UTC', () => {
    const e = describeEvent({ event: 'loaded', job, next: new Date('2026-11-24T17:00:00Z') });
    expect(e?.message).toBe('job nightly: loaded from /jobs/nightly.yaml: "0 2 * * *" in Asia/Seoul; next fire 2026-11-25T02:00:00+09:00 (2026-11-24T17:00:00.000Z)');
    expect(e?.fields).toMatchObject({ job: 'nightly', next: '2026-11-24T17:00:00.000Z', timezone: 'Asia/Seoul' });
  });

  it('missed, fired, retry and failed lines', () => {
    const missed = describeEvent({
      event: 'missed',
      job: 'nightly',
      timezone: 'Asia/Seoul',
      atStart: true,
      action: 'run-once',
      missed: { count: 2, more: false, first: new Date('2026-11-23T17:00:00Z'), last: new Date('2026-11-24T17:00:00Z') },
    });
    expect(missed?.message).toBe('job nightly: missed 2 fires while the scheduler was not running (2026-11-24T02:00:00+09:00 to 2026-11-25T02:00:00+09:00); running once now (missed: run-once)');
    expect(missed?.level).toBe('warn');
    expect(describeEvent({ event: 'fired', job: 'nightly', timezone: 'Asia/Seoul', run_id: 'R', fire })?.message).toBe('job nightly: fire for 2026-11-25T02:00:00+09:00: run R');
    const requested = describeEvent({ event: 'fired', job: 'nightly', timezone: 'Asia/Seoul', run_id: 'R', fire: { ...fire, reason: 'request' } });
    expect(requested).toMatchObject({ message: 'job nightly: run requested over HTTP (run now): run R', fields: { reason: 'request', attempt: 1 } });
    expect(describeEvent({ event: 'retry', job: 'nightly', timezone: 'Asia/Seoul', run_id: 'R', attempt: 2, attempts: 3, at: new Date('2026-11-24T17:05:00Z') })?.message).toBe(
      'job nightly: run R failed; retrying at 2026-11-25T02:05:00+09:00 (attempt 2 of 3)',
    );
    const record = schedulerRecord(job, { runId: 'R', fire, started: new Date(0), ended: new Date(1000), status: 'failed', exitCode: 1, error: "the run's process was killed by signal SIGKILL before it could finish" });
    const failed = describeEvent({ event: 'failed', job: 'nightly', record });
    expect(failed).toMatchObject({ level: 'error', event: 'failed', message: "job nightly: failed — the run's process was killed by signal SIGKILL before it could finish" });
    expect(failed?.fields).not.toHaveProperty('inputs');
  });

  it('stopping lines', () => {
    expect(describeEvent({ event: 'stopping', running: ['a'], graceMs: 30_000 })?.message).toBe('stopping: no new runs; waiting up to 30s for 1 running job (a)');
    expect(describeEvent({ event: 'stopped' })).toEqual({ level: 'info', event: 'stopped', message: 'stopped', fields: {} });
  });
});
