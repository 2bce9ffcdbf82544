// Notices of finished runs sent to a real HTTP server on 127.0.0.1: which event a record gives, both bodies,
// a slow endpoint (timeout, then a retry), failing ones (5xx retried then given up, 4xx never retried,
// Retry-After honoured), and no secret of the webhook URL in what is returned.
import { describe, expect, it } from 'vitest';
import type { NotifyTarget } from '../../src/job/config.js';
import { parseJob } from '../../src/job/load.js';
import { alertsOf, eventOf, retryAfter, sendNotices, type JsonNotice } from '../../src/notify/index.js';
import type { RunRecord, RunStatus } from '../../src/run/record.js';
import { schedulerRecord } from '../../src/schedule/records.js';
import { redactUrl, scrubUrl } from '../../src/util/redact-url.js';
import { webhookServers, type WebhookServer } from './webhook-server.js';

const SECRET = 'T0SECRET/B0SECRET/xyzSECRETtoken';
const job = parseJob('name: churn\nmodel: m.onnx\ninput: in/*.csv\nfeatures: {columns: [a]}\noutput: out.csv\n', '/jobs/churn.yaml');

// A finished run's record with the given status, counts and extra sections.
function record(status: RunStatus, extra: Record<string, unknown> = {}): RunRecord {
  const started = new Date('2026-11-24T02:00:00Z');
  const r = schedulerRecord(job, { runId: '20261124T020000Z-ab12', fire: { scheduled_for: started.toISOString(), attempt: 1, reason: 'schedule' }, started, ended: new Date(started.getTime() + 4200), status, exitCode: status === 'ok' ? 0 : status === 'skipped' ? 3 : 1, error: status === 'ok' ? '' : 'input in/a.csv: 3 rows rejected, more than errors.max_rejected (0) <see rejects>' });
  r.error = status === 'ok' ? null : r.error;
  r.totals = { inputs: 2, failed: status === 'failed' ? 1 : 0, skipped: 0, rows_in: 1000, rows_out: 997, rows_rejected: 3 };
  r.record = '/jobs/.serve-batch/runs/churn/20261124T020000Z-ab12.json';
  return Object.assign(r, extra);
}

// A webhook of `server` with a secret path, as the job file would give it.
function target(server: WebhookServer, o: Partial<NotifyTarget> = {}): NotifyTarget {
  const url = `${server.url}/services/${SECRET}?token=QUERYSECRET`;
  return { on: ['failed', 'alert', 'skipped', 'ok', 'interrupted'], url, shown: redactUrl(url), format: 'json', timeoutMs: 5000, retries: 2, ...o };
}

const FAST = { backoffMs: 5 };
const serve = webhookServers();

const col = (column: string, value: number, level: 'ok' | 'warn' | 'fail') => ({ column, value, psi: value, js: null, missing_ratio: 0, reference_missing_ratio: 0, level });
// A record's monitor section as run/monitor.ts writes it: tenure above fail_at.
const monitor = {
  reference: '/ref.json',
  metric: 'psi' as const,
  warn_at: 0.1,
  fail_at: 0.25,
  missing_rate_increase: 0.05,
  level: 'fail' as const,
  columns: [col('tenure', 0.31, 'fail'), col('monthly', 0.12, 'warn'), col('p_leave', 0.02, 'ok')],
  alerts: ['tenure: psi 0.31 above fail_at 0.25'],
  warnings: ['monthly: psi 0.12 above warn_at 0.1'],
};

describe('which event a run gives', () => {
  it('one event per record: alert for a run with a column above fail_at, failed for failed and invalid runs, none for dry runs', () => {
    expect(eventOf(record('ok'))).toBe('ok');
    expect(eventOf(record('ok', { monitor }))).toBe('alert');
    expect(alertsOf(record('ok', { monitor }))).toEqual([{ column: 'tenure', value: 0.31, metric: 'psi', fail_at: 0.25 }]);
    expect(eventOf(record('ok', { monitor: { ...monitor, level: 'warn', columns: [col('tenure', 0.31, 'warn')] } }))).toBe('ok');
    expect(eventOf(record('failed'))).toBe('failed');
    expect(eventOf(record('invalid'))).toBe('failed');
    expect(eventOf(record('failed', { monitor }))).toBe('failed');
    expect(eventOf(record('skipped'))).toBe('skipped');
    expect(eventOf(record('interrupted'))).toBe('interrupted');
    expect(eventOf(record('dry-run'))).toBeUndefined();
  });

  it('sends only to the webhooks whose `on` names the event, each once', async () => {
    const s = await serve();
    const targets = [target(s, { on: ['failed'] }), target(s, { on: ['ok'] }), target(s, { on: ['alert', 'failed'], format: 'slack' })];
    const out = await sendNotices(targets, record('failed'), FAST);
    expect(out.map((o) => [o.event, o.format, o.ok, o.attempts])).toEqual([['failed', 'json', true, 1], ['failed', 'slack', true, 1]]);
    expect(s.received).toHaveLength(2);
    expect(await sendNotices(targets, record('dry-run'), FAST)).toEqual([]);
    expect(await sendNotices(undefined, record('failed'), FAST)).toEqual([]);
    expect(s.received).toHaveLength(2);
  });
});

describe('the bodies', () => {
  it('json: the record summary, POSTed as application/json', async () => {
    const s = await serve();
    const [o] = await sendNotices([target(s)], record('ok', { monitor }), FAST);
    expect(o).toMatchObject({ ok: true, status: 200, event: 'alert' });
    const got = s.received[0];
    expect(got.method).toBe('POST');
    expect(got.path).toBe(`/services/${SECRET}?token=QUERYSECRET`);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toMatch(/^serve-batch\/\d/);
    const body = JSON.parse(got.body) as JsonNotice;
    expect(body).toMatchObject({
      event: 'alert', job: 'churn', run_id: '20261124T020000Z-ab12', status: 'ok', exit_code: 0, trigger: 'schedule',
      schedule: { scheduled_for: '2026-11-24T02:00:00.000Z', attempt: 1, reason: 'schedule' },
      started_at: '2026-11-24T02:00:00.000Z', ended_at: '2026-11-24T02:00:04.200Z', duration_ms: 4200,
      inputs: 2, failed_inputs: 0, rows_in: 1000, rows_out: 997, rows_rejected: 3, error: null, warnings: [],
      alerts: [{ column: 'tenure', value: 0.31, metric: 'psi', fail_at: 0.25 }],
      record: '/jobs/.serve-batch/runs/churn/20261124T020000Z-ab12.json',
    });
    expect(typeof body.host).toBe('string');
  });

  it('slack: text and blocks, with the error and counts, Slack control characters escaped', async () => {
    const s = await serve();
    await sendNotices([target(s, { format: 'slack' })], record('failed'), FAST);
    const body = JSON.parse(s.received[0].body) as { text: string; blocks: { type: string; text?: { type: string; text: string }; fields?: { text: string }[]; elements?: { text: string }[] }[] };
    expect(body.text).toBe('serve-batch: job churn failed (exit 1): input in/a.csv: 3 rows rejected, more than errors.max_rejected (0) &lt;see rejects&gt;');
    expect(body.blocks[0]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: ':x: *churn* failed (exit 1)' } });
    expect(body.blocks[1].fields?.map((f) => f.text)).toEqual(['*Rows*\n1,000 in · 997 out · 3 rejected', '*Inputs*\n2 (1 failed)', '*Duration*\n4.20s', '*Run*\n`20261124T020000Z-ab12`']);
    expect(body.blocks[2].text?.text).toBe('```input in/a.csv: 3 rows rejected, more than errors.max_rejected (0) &lt;see rejects&gt;```');
    expect(body.blocks.at(-1)).toMatchObject({ type: 'context' });
    expect(body.blocks.at(-1)?.elements?.[0].text).toContain('schedule for 2026-11-24T02:00:00.000Z');

    await sendNotices([target(s, { format: 'slack' })], record('ok', { monitor }), FAST);
    const alert = JSON.parse(s.received[1].body) as typeof body;
    expect(alert.text).toBe('serve-batch: job churn finished with alerts');
    expect(alert.blocks.map((b) => b.text?.text ?? '')).toContain('*Drift alerts*\n• `tenure`: psi 0.31 (fail_at 0.25)');
  });
});

describe('delivery', () => {
  it('a slow endpoint: the attempt times out and the retry is sent', async () => {
    const s = await serve((n) => (n === 1 ? { status: 200, delayMs: 30_000 } : { status: 200 }));
    const [o] = await sendNotices([target(s, { timeoutMs: 1500, retries: 2 })], record('failed'), FAST);
    expect(o).toMatchObject({ ok: true, attempts: 2, status: 200 });
    expect(o.message).toBe(`job churn: failed notice for run 20261124T020000Z-ab12 sent to ${redactUrl(target(s).url)} (json, HTTP 200, after 2 attempts)`);
    expect(s.received).toHaveLength(2);
  });

  it('an endpoint that never answers in time: every attempt times out, then it gives up', async () => {
    const s = await serve(() => ({ status: 200, delayMs: 30_000 }));
    const [o] = await sendNotices([target(s, { timeoutMs: 100, retries: 1 })], record('failed'), FAST);
    expect(o).toMatchObject({ ok: false, attempts: 2, status: null, reason: 'no answer within 0.1 s (2 attempts)' });
  });

  it('5xx answers are retried, then given up with the last answer as the reason', async () => {
    const s = await serve(() => ({ status: 500, body: 'upstream exploded\nstack trace here' }));
    const [o] = await sendNotices([target(s, { retries: 3 })], record('failed'), FAST);
    expect(s.received).toHaveLength(4);
    expect(o).toMatchObject({ ok: false, attempts: 4, status: 500, reason: 'HTTP 500 Internal Server Error: upstream exploded (4 attempts)' });
    expect(o.message).toBe(`job churn: failed notice for run 20261124T020000Z-ab12 not delivered to http://127.0.0.1:${new URL(s.url).port}/services/***: HTTP 500 Internal Server Error: upstream exploded (4 attempts); the run's result stands`);
  });

  it('a 500 then a 200: delivered on the second attempt', async () => {
    const s = await serve((n) => ({ status: n === 1 ? 503 : 200 }));
    const [o] = await sendNotices([target(s)], record('failed'), FAST);
    expect(o).toMatchObject({ ok: true, attempts: 2 });
  });

  it('4xx answers are never retried (a revoked or mistyped webhook)', async () => {
    const s = await serve(() => ({ status: 404, body: 'no_service' }));
    const [o] = await sendNotices([target(s, { retries: 5 })], record('failed'), FAST);
    expect(s.received).toHaveLength(1);
    expect(o).toMatchObject({ ok: false, attempts: 1, status: 404, reason: 'HTTP 404 Not Found: no_service (not retried)' });
    const redirect = await serve(() => ({ status: 302, headers: { location: 'http://127.0.0.1:9/elsewhere' } }));
    const [r] = await sendNotices([target(redirect)], record('failed'), FAST);
    expect(redirect.received).toHaveLength(1);
    expect(r.reason).toBe('HTTP 302 Found (redirects are not followed) (not retried)');
  });

  it('429 is retried after its Retry-After', async () => {
    const s = await serve((n) => (n === 1 ? { status: 429, headers: { 'retry-after': '0' } } : { status: 200 }));
    const [o] = await sendNotices([target(s)], record('failed'), { backoffMs: 60_000 });
    expect(o).toMatchObject({ ok: true, attempts: 2 });
    expect(retryAfter('120', 30_000)).toBe(30_000);
    expect(retryAfter('2', 30_000)).toBe(2000);
    expect(retryAfter(new Date(Date.parse('2026-01-01T00:00:10Z')).toUTCString(), 30_000, Date.parse('2026-01-01T00:00:00Z'))).toBe(10_000);
    expect(retryAfter('soon', 30_000)).toBeUndefined();
    expect(retryAfter(null, 30_000)).toBeUndefined();
  });

  it('a refused connection is retried and reported without the URL\'s secret parts', async () => {
    const s = await serve();
    const t = target(s, { retries: 1 });
    await s.close();
    const [o] = await sendNotices([t], record('failed'), FAST);
    expect(o).toMatchObject({ ok: false, attempts: 2, status: null });
    expect(o.reason).toMatch(/ECONNREFUSED/);
    for (const text of [o.message, o.reason, o.webhook, JSON.stringify(o)]) {
      expect(text).not.toContain('SECRET');
      expect(text).not.toContain('QUERYSECRET');
    }
  });
});

describe('URLs in messages', () => {
  it('keeps the scheme, host and port; hides userinfo, path and query', () => {
    expect(redactUrl('https://hooks.slack.com/services/T000/B000/XXXX')).toBe('https://hooks.slack.com/services/***');
    expect(redactUrl('https://user:pw@example.com:8443/mytopic?key=1')).toBe('https://***@example.com:8443/***');
    expect(redactUrl('http://example.com')).toBe('http://example.com/');
    expect(redactUrl('http://example.com/#frag')).toBe('http://example.com/***');
    expect(redactUrl('not a url')).toBe('an invalid URL');
    const url = 'https://u:pass1234@example.com/a/secretpath?token=abcd';
    expect(scrubUrl(`failed on ${url} (path /a/secretpath?token=abcd, user pass1234)`, url)).toBe('failed on https://***@example.com/*** (path ***, user ***)');
  });
});
