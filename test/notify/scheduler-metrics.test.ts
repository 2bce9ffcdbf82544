// The scheduler's /metrics counts the notices it could not deliver, per job.
import { describe, expect, it } from 'vitest';
import type { NotifyOutcome } from '../../src/notify/index.js';
import { SchedulerMetrics } from '../../src/schedule/http/prometheus.js';

const outcome = (ok: boolean): NotifyOutcome => ({ event: 'failed', webhook: 'https://hooks.slack.com/services/***', format: 'slack', ok, attempts: ok ? 1 : 4, status: ok ? 200 : 500, reason: ok ? null : 'HTTP 500', message: '' });

describe('SchedulerMetrics: serve_batch_notify_failures_total', () => {
  it('counts undelivered notices only', async () => {
    const m = new SchedulerMetrics();
    m.observe({ event: 'notified', job: 'a', run_id: 'r1', outcome: outcome(false) });
    m.observe({ event: 'notified', job: 'a', run_id: 'r2', outcome: outcome(true) });
    m.observe({ event: 'notified', job: 'a', run_id: 'r3', outcome: outcome(false) });
    const text = await m.registry.getSingleMetricAsString('serve_batch_notify_failures_total');
    expect(text).toContain('# TYPE serve_batch_notify_failures_total counter');
    expect(text).toContain('serve_batch_notify_failures_total{job_name="a"} 2');
  });
});
