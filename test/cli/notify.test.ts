// `run` with notify: real runs of a real model, the webhooks a real HTTP server on 127.0.0.1 in this process.
// The run's exit code and record are what they would be without notices, whatever the webhook answers, and
// the webhook's secret appears in no output, record or metrics file.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliAsync, model, runMain, tempDir, writeFiles } from '../support/cli.js';
import { webhookServers } from '../notify/webhook-server.js';

const SECRET = 'T0SECRET/B0SECRET/tokenSECRET';

const serve = webhookServers();

// A job over linear_binary with one bad row (so the run fails unless max_rejected allows it) and `notify`.
function jobDir(notify: string, o: { maxRejected?: number } = {}): { dir: string; job: string } {
  const dir = tempDir();
  writeFiles(dir, {
    'in/a.csv': 'a,b,c\n1,2,3\n0.5,x,1\n-1,0,2\n',
    'job.yaml': `name: scored\nmodel: ${model('linear_binary')}\ninput: in/*.csv\nfeatures: { columns: [a, b, c] }\noutput: out/{input_stem}.csv\nmetrics_file: metrics.prom\nerrors: { max_rejected: ${o.maxRejected ?? 0} }\nnotify:\n${notify}`,
  });
  return { dir, job: path.join(dir, 'job.yaml') };
}

// Every log line of a JSON-lines stderr.
const logLines = (stderr: string) => stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

// The run record a run wrote (its path from the run_finished line).
function recordText(stderr: string): string {
  const finished = logLines(stderr).find((l) => l.event === 'run_finished');
  return readFileSync(finished?.record as string, 'utf8');
}

describe('run: notify', () => {
  it('a failing webhook leaves the exit code, the record and the other webhooks as they were; it is logged and counted', async () => {
    const broken = await serve(() => ({ status: 500, body: 'down' }));
    const fine = await serve();
    const { dir, job } = jobDir(`  - on: [failed]\n    webhook: \${HOOK}\n    retries: 1\n  - on: failed\n    webhook: ${fine.url}/hook\n`);
    const r = await runMain(['run', job, '--log-format', 'json', '--json'], { env: { HOOK: `${broken.url}/services/${SECRET}` } });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', exit_code: 1 });
    expect(broken.received).toHaveLength(2);
    expect(fine.received).toHaveLength(1);
    const lines = logLines(r.stderr);
    const failed = lines.filter((l) => l.event === 'notify_failed');
    const sent = lines.filter((l) => l.event === 'notified');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'warn', job: 'scored', notify_event: 'failed', webhook: `\${HOOK} (http://127.0.0.1:${new URL(broken.url).port}/services/***)`, attempts: 2, status: 500 });
    expect(failed[0].msg).toMatch(/^job scored: failed notice for run \S+ not delivered to \$\{HOOK\} \(http:\/\/127\.0\.0\.1:\d+\/services\/\*\*\*\): HTTP 500 Internal Server Error: down \(2 attempts\); the run's result stands$/);
    expect(sent).toHaveLength(1);
    expect(lines.findIndex((l) => l.event === 'run_finished')).toBeLessThan(lines.findIndex((l) => l.event === 'notify_failed'));
    const metrics = readFileSync(path.join(dir, 'metrics.prom'), 'utf8');
    expect(metrics).toContain('serve_batch_notify_failures_total{job_name="scored"} 1\n');
    expect(metrics).toContain('serve_batch_last_run_exit_code{job_name="scored"} 1\n');
    const record = recordText(r.stderr);
    expect(JSON.parse(record)).toMatchObject({ status: 'failed', exit_code: 1 });
    for (const text of [r.stdout, r.stderr, record, metrics]) expect(text).not.toContain('SECRET');

    const again = await runMain(['run', job, '--log-format', 'json'], { env: { HOOK: `${broken.url}/services/${SECRET}` } });
    expect(again.status).toBe(1);
    expect(readFileSync(path.join(dir, 'metrics.prom'), 'utf8')).toContain('serve_batch_notify_failures_total{job_name="scored"} 2\n');
  });

  it('an ok run sends the record summary to a json webhook on ok, and nothing to one on failed', async () => {
    const s = await serve();
    const { job } = jobDir(`  - on: [ok]\n    webhook: ${s.url}/ok\n  - on: [failed, alert]\n    webhook: ${s.url}/bad\n`, { maxRejected: 1 });
    const r = await runMain(['run', job, '--log-format', 'json']);
    expect(r.status).toBe(0);
    expect(s.received.map((x) => x.path)).toEqual(['/ok']);
    const record = JSON.parse(recordText(r.stderr)) as { run_id: string; record: string };
    expect(JSON.parse(s.received[0].body)).toMatchObject({ event: 'ok', job: 'scored', run_id: record.run_id, status: 'ok', exit_code: 0, trigger: 'cli', inputs: 1, failed_inputs: 0, rows_in: 3, rows_out: 2, rows_rejected: 1, error: null, alerts: [], record: record.record });
    expect(logLines(r.stderr).filter((l) => l.event === 'notified')).toEqual([expect.objectContaining({ level: 'info', webhook: `http://127.0.0.1:${new URL(s.url).port}/***`, status: 200, attempts: 1 })]);
    const quiet = await runMain(['run', job, '--log-format', 'json', '--no-notify']);
    expect(quiet.status).toBe(0);
    expect(s.received).toHaveLength(1);
    expect(logLines(quiet.stderr).map((l) => l.event)).not.toContain('notified');
  });

  it('spawned: a Slack webhook from ${SLACK_WEBHOOK_URL} gets the failure; the exit code stays 1 and the URL is never printed', async () => {
    const s = await serve();
    const { job } = jobDir('  - on: [failed, alert, skipped]\n    webhook: ${SLACK_WEBHOOK_URL}\n    format: slack\n');
    const run = cliAsync(['run', job, '--log-format', 'text'], { env: { SLACK_WEBHOOK_URL: `${s.url}/services/${SECRET}` } });
    const r = await run.done;
    expect(r.status).toBe(1);
    expect(s.received).toHaveLength(1);
    expect(s.received[0].path).toBe(`/services/${SECRET}`);
    const body = JSON.parse(s.received[0].body) as { text: string; blocks: unknown[] };
    expect(body.text).toMatch(/^serve-batch: job scored failed \(exit 1\): .*rejected/);
    expect(body.blocks.length).toBeGreaterThanOrEqual(3);
    expect(r.stderr).toMatch(/job scored: failed notice for run \S+ sent to \$\{SLACK_WEBHOOK_URL\} \(http:\/\/127\.0\.0\.1:\d+\/services\/\*\*\*\) \(slack, HTTP 200\)\n/);
    expect(r.stderr + r.stdout).not.toContain('SECRET');
  });
});
