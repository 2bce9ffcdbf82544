// The status server over real HTTP in this process: probes, metrics, the JSON API, the page and run now, in
// front of a real Daemon on a fake clock whose runs write real run records.
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mergeMetrics } from '../../../src/run/metrics.js';
import { recordPath } from '../../../src/run/record.js';
import { parseExposition } from '../../support/prometheus.js';
import { harness, job, T0, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const TOKEN = 'c0ffee-0123456789-abcdef';
const MARKUP = '<img src=x onerror=alert(1)>';

// A harness with two jobs loaded: `every10` (every 10 s) and `adhoc` (no schedule).
async function loaded(o: { token?: string } = {}): Promise<Harness> {
  h = await harness(o);
  await h.load([job(h.dir, 'every10', 'schedule: "*/10 * * * * *"'), job(h.dir, 'adhoc', '')]);
  return h;
}

const json = async (r: Response) => (await r.json()) as Record<string, any>;

describe('probes', () => {
  it('/readyz is 503 while the job files load and 200 once they are; /healthz is 200 throughout', async () => {
    h = await harness();
    const loading = await h.get('/readyz');
    expect(loading.status).toBe(503);
    expect(await json(loading)).toMatchObject({ ready: false, phase: 'loading' });
    expect((await h.get('/healthz')).status).toBe(200);
    await h.load([job(h.dir, 'every10', 'schedule: "*/10 * * * * *"')]);
    const ready = await h.get('/readyz');
    expect(ready.status).toBe(200);
    expect(await json(ready)).toEqual({ ready: true, phase: 'running', reason: '1 job loaded' });
  });

  it('/healthz is 503 naming the job when a planned fire is overdue beyond its grace, and 200 again once it fires', async () => {
    h = await loaded();
    expect(await json(await h.get('/healthz'))).toMatchObject({ ok: true, reason: 'alive, every fire on time' });
    // The wall clock passes the fire at T0+10s by 61 s without the timer running: the scheduler is stuck.
    h.clock.t = T0 + 10_000 + 61_000;
    const stuck = await h.get('/healthz');
    expect(stuck.status).toBe(503);
    const body = await json(stuck);
    expect(body.reason).toBe("job every10: the fire planned for 2026-11-24T00:00:10.000Z has not happened 61 s later (grace 60 s): the scheduler's timers are not firing");
    expect(body.overdue).toEqual([{ job: 'every10', due: '2026-11-24T00:00:10.000Z', late_ms: 61_000 }]);
    // Within the grace it is still healthy.
    h.clock.t = T0 + 10_000 + 60_000;
    expect((await h.get('/healthz')).status).toBe(200);
    await h.clock.advance(0);
    await h.runner.runs[0].finish({ status: 'ok' });
    expect((await h.get('/healthz')).status).toBe(200);
  });

  it('while stopping, /readyz is 503 and /healthz still 200', async () => {
    h = await loaded();
    void h.daemon.stop(30_000, 10_000);
    expect(await json(await h.get('/readyz'))).toMatchObject({ ready: false, phase: 'stopping' });
    expect((await h.get('/healthz')).status).toBe(200);
  });

  it('HEAD answers the headers without a body', async () => {
    h = await loaded();
    const r = await h.get('/healthz', { method: 'HEAD' });
    expect(r.status).toBe(200);
    expect(Number(r.headers.get('content-length'))).toBeGreaterThan(0);
    expect(await r.text()).toBe('');
  });
});

describe('the JSON API', () => {
  it('/api/jobs: schedule in words, next fires, the running pid, then the last run from its record', async () => {
    h = await loaded();
    let jobs = (await json(await h.get('/api/jobs'))).jobs as Record<string, any>[];
    expect(jobs.map((j) => j.name)).toEqual(['every10', 'adhoc']);
    expect(jobs[0]).toMatchObject({
      schedule: { cron: '*/10 * * * * *', timezone: 'UTC', words: 'Every 10 seconds', missed: 'skip', retries: 0, timeout_ms: null },
      next_fires: [10, 20, 30, 40, 50].map((s) => new Date(T0 + s * 1000).toISOString()),
      running: null,
      last_run: null,
      records: 0,
    });
    expect(jobs[1]).toMatchObject({ schedule: null, next_fires: [] });
    await h.clock.advance(10_000);
    jobs = (await json(await h.get('/api/jobs'))).jobs;
    expect(jobs[0].running).toEqual({ run_id: h.runner.runs[0].runId, pid: 4001, started_at: new Date(T0 + 10_000).toISOString() });
    await h.clock.advance(500);
    await h.runner.runs[0].finish({ status: 'failed', error: `input /data/${MARKUP}.csv: bad\nsecond line`, rows: [7, 5, 2] });
    jobs = (await json(await h.get('/api/jobs'))).jobs;
    expect(jobs[0].running).toBeNull();
    expect(jobs[0].last_run).toMatchObject({
      run_id: h.runner.runs[0].runId,
      status: 'failed',
      exit_code: 1,
      trigger: 'schedule',
      reason: 'schedule',
      duration_ms: 500,
      rows_in: 7,
      rows_out: 5,
      rows_rejected: 2,
      error: `input /data/${MARKUP}.csv: bad`,
      drift: null,
    });
    expect(jobs[0].records).toBe(1);
    const one = await h.get('/api/jobs/every10');
    expect(await json(one)).toEqual(jobs[0]);
  });

  it('/api/jobs/:job/runs lists the newest first, up to limit, and a run id links to its record, served as written', async () => {
    h = await loaded();
    for (let i = 0; i < 3; i++) {
      await h.clock.advance(10_000);
      await h.runner.runs[i].finish({ status: 'ok', rows: [i + 1, i + 1, 0] });
    }
    const body = await json(await h.get('/api/jobs/every10/runs?limit=2'));
    expect(body.total).toBe(3);
    expect(body.runs.map((r: any) => r.rows_in)).toEqual([3, 2]);
    const first = body.runs[0];
    expect(first.record_url).toBe(`/api/jobs/every10/runs/${first.run_id}`);
    const record = await h.get(first.record_url);
    expect(record.status).toBe(200);
    expect(record.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const file = recordPath(path.join(h.dir, 'state'), 'every10', first.run_id);
    expect(await record.text()).toBe(readFileSync(file, 'utf8'));
    expect((await json(await h.get('/api/jobs/every10/runs'))).runs).toHaveLength(3);
  });

  it('a bad limit is 400; an unknown job or run is 404', async () => {
    h = await loaded();
    for (const bad of ['0', '501', 'abc', '1.5', '-1', '']) {
      const r = await h.get(`/api/jobs/every10/runs?limit=${bad}`);
      expect(r.status, bad).toBe(400);
      expect((await json(r)).error).toBe(`limit must be a whole number from 1 to 500 (got "${bad}")`);
    }
    expect(await json(await h.get('/api/jobs/nope/runs'))).toEqual({ error: 'no job named nope is loaded' });
    expect((await h.get('/api/jobs/every10/runs/20261124T000010Z-abcd')).status).toBe(404);
  });

  it('no URL reads outside the state directory: traversal in job names and run ids, links, other files', async () => {
    h = await loaded();
    await h.clock.advance(10_000);
    await h.runner.runs[0].finish({ status: 'ok' });
    const runs = path.join(h.dir, 'state', 'runs', 'every10');
    writeFileSync(path.join(h.dir, 'secret.json'), '{"status":"ok","run_id":"secret"}');
    // A link in the runs folder that has a run id's name and points outside.
    symlinkSync(path.join(h.dir, 'secret.json'), path.join(runs, '20261124T000000Z-dead.json'));
    mkdirSync(path.join(h.dir, 'state', 'runs', '..secret'), { recursive: true });
    const tries = [
      '/api/jobs/every10/runs/20261124T000000Z-dead',
      '/api/jobs/every10/runs/..%2F..%2F..%2Fsecret',
      '/api/jobs/every10/runs/%2E%2E',
      '/api/jobs/..%2Fsecret.json/runs',
      '/api/jobs/%2E%2E/runs',
      '/api/jobs/every10%2F..%2F..%2Fsecret/runs',
      '/api/jobs/every10/runs/20261124T000010Z-abcd.json',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2E%2E%2Fserver.ts',
      '/../../etc/passwd',
      '/%2E%2E/%2E%2E/etc/passwd',
    ];
    for (const t of tries) {
      const r = await h.get(t);
      expect(r.status, t).toBe(404);
      expect(await r.text(), t).not.toMatch(/"run_id":"secret"|root:x/);
    }
    // The listing skips the link too (not a regular file).
    expect((await json(await h.get('/api/jobs/every10/runs'))).runs.map((r: any) => r.run_id)).toEqual([h.runner.runs[0].runId]);
  });
});

describe('/metrics', () => {
  const families = parseExposition;
  const values = (f: ReturnType<typeof families>, name: string) => f.get(name)!.samples.map((s) => [s.labels, s.value]);

  it("carries the metrics_file's gauges under the same names and values, runs by status, a duration histogram and the next fire", async () => {
    h = await loaded();
    await h.clock.advance(10_000);
    await h.clock.advance(2_000);
    const ok = await h.runner.runs[0].finish({ status: 'ok', rows: [10, 9, 1] });
    await h.clock.advance(8_000);
    await h.clock.advance(3_000);
    const failed = await h.runner.runs[1].finish({ status: 'failed', error: 'boom' });
    const r = await h.get('/metrics');
    expect(r.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await r.text();
    const f = families(text);
    // Exactly the textfile's samples after these two runs (the last success kept across the failure).
    const textfile = mergeMetrics(mergeMetrics('', ok), failed);
    for (const line of textfile.split('\n').filter((l) => l.startsWith('serve_batch_'))) expect(text.split('\n')).toContain(line);
    expect(values(f, 'serve_batch_last_success_timestamp_seconds')).toEqual([[{ job_name: 'every10' }, Date.parse(ok.ended_at) / 1000]]);
    expect(f.get('serve_batch_runs_total')?.type).toBe('counter');
    const runs = Object.fromEntries(f.get('serve_batch_runs_total')!.samples.filter((s) => s.labels.job_name === 'every10').map((s) => [s.labels.status, s.value]));
    expect(runs).toEqual({ ok: 1, failed: 1, skipped: 0, interrupted: 0, invalid: 0 });
    const hist = f.get('serve_batch_run_duration_seconds')!;
    expect(hist.type).toBe('histogram');
    const mine = hist.samples.filter((s) => s.labels.job_name === 'every10');
    const bucket = (le: string) => mine.find((s) => s.name.endsWith('_bucket') && s.labels.le === le)?.value;
    expect([bucket('1'), bucket('2.5'), bucket('5'), bucket('+Inf')]).toEqual([0, 1, 2, 2]);
    expect(mine.find((s) => s.name.endsWith('_sum'))?.value).toBe(5);
    expect(mine.find((s) => s.name.endsWith('_count'))?.value).toBe(2);
    expect(values(f, 'serve_batch_next_fire_timestamp_seconds')).toEqual([[{ job_name: 'every10' }, (T0 + 30_000) / 1000]]);
    expect(values(f, 'serve_batch_running')).toEqual([
      [{ job_name: 'every10' }, 0],
      [{ job_name: 'adhoc' }, 0],
    ]);
    expect(values(f, 'serve_batch_scheduler_ready')).toEqual([[{}, 1]]);
    expect(f.get('serve_batch_drift')?.samples).toEqual([]);
  });

  it("exports the newest run's drift per monitored column when its record carries a monitor section", async () => {
    h = await loaded();
    await h.clock.advance(10_000);
    const monitor = { metric: 'psi', warn_at: 0.1, fail_at: 0.25, columns: [{ column: 'tenure', psi: 0.31, js: 0.2, missing_ratio: 0.01, level: 'fail' }, { column: 'say "hi"\\', psi: 0.02, js: 0.01, missing_ratio: 0 }] };
    await h.runner.runs[0].finish({ status: 'ok', rows: [5, 5, 0], extra: { monitor } });
    const f = families(await (await h.get('/metrics')).text());
    expect(values(f, 'serve_batch_drift')).toEqual([
      [{ job_name: 'every10', column: 'tenure' }, 0.31],
      [{ job_name: 'every10', column: 'say "hi"\\' }, 0.02],
    ]);
    expect(values(f, 'serve_batch_missing_ratio').map(([, v]) => v)).toEqual([0.01, 0]);
    const api = await json(await h.get('/api/jobs/every10/runs'));
    expect(api.runs[0].drift).toEqual({
      metric: 'psi',
      warn_at: 0.1,
      fail_at: 0.25,
      columns: [
        { column: 'tenure', value: 0.31, missing_ratio: 0.01, level: 'fail' },
        { column: 'say "hi"\\', value: 0.02, missing_ratio: 0, level: null },
      ],
    });
  });
});

describe('the page', () => {
  it('lists every job, escapes error text and paths, and is served with a strict content security policy', async () => {
    h = await loaded();
    await h.clock.advance(10_000);
    await h.runner.runs[0].finish({ status: 'failed', error: `${MARKUP} in "/data/a.csv" & more` });
    const r = await h.get('/');
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    const page = await r.text();
    expect(page).toContain('<tr data-job="every10">');
    expect(page).toContain('<tr data-job="adhoc">');
    expect(page).toContain('Every 10 seconds');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt; in &quot;/data/a.csv&quot; &amp; more');
    expect(page).not.toContain('<img');
    // The chart data block cannot end its script element.
    const data = /<script type="application\/json" id="chart-data">(.*?)<\/script>/s.exec(page)![1];
    expect(data).not.toContain('<');
    expect(JSON.parse(data).jobs[0]).toMatchObject({ name: 'every10', status: ['failed'] });
  });

  it('serves its script, style sheets and uPlot itself', async () => {
    h = await loaded();
    for (const [asset, type] of [['page.css', 'text/css'], ['uplot.js', 'text/javascript'], ['uplot.css', 'text/css'], ['page.js', 'text/javascript']]) {
      const r = await h.get(`/assets/${asset}`);
      expect(r.status, asset).toBe(200);
      expect(r.headers.get('content-type')).toBe(`${type}; charset=utf-8`);
      expect((await r.text()).length).toBeGreaterThan(100);
    }
  });
});

describe('run now', () => {
  it('is refused (403) without a configured token', async () => {
    h = await loaded();
    const r = await h.get('/api/jobs/adhoc/run', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(403);
    expect((await json(r)).error).toMatch(/^run now is off: start the scheduler with --http-token/);
    expect(h.runner.runs).toHaveLength(0);
  });

  it('needs the bearer token (401 otherwise, never logged), starts a run through the runner, and refuses a second while it runs', async () => {
    h = await loaded({ token: TOKEN });
    for (const auth of [undefined, 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`]) {
      const r = await h.get('/api/jobs/adhoc/run', { method: 'POST', headers: auth ? { authorization: auth } : {} });
      expect(r.status, auth).toBe(401);
      expect(r.headers.get('www-authenticate')).toBe('Bearer realm="serve-batch"');
    }
    expect(h.runner.runs).toHaveLength(0);
    const ok = await h.get('/api/jobs/adhoc/run', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(ok.status).toBe(202);
    const body = await json(ok);
    expect(h.runner.runs.map((r) => [r.job, r.reason, r.runId])).toEqual([['adhoc', 'request', body.run_id]]);
    const again = await h.get('/api/jobs/adhoc/run', { method: 'POST', headers: { authorization: `bearer ${TOKEN}` } });
    expect(again.status).toBe(409);
    expect((await json(again)).error).toBe(`job adhoc is already running (run ${body.run_id}, pid 4001)`);
    const record = await h.runner.runs[0].finish({ status: 'ok' });
    expect(record.schedule).toMatchObject({ reason: 'request', attempt: 1 });
    expect((await h.get('/api/jobs/nope/run', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect((await h.get('/api/jobs/adhoc/run')).status).toBe(405);
    expect(h.logs.filter((l) => l.event === 'http_refused')).toHaveLength(5);
    expect(JSON.stringify(h.logs)).not.toContain(TOKEN.slice(0, 12));
    // The page offers the button.
    expect(await (await h.get('/')).text()).toContain('<button type="button" data-run="adhoc">Run now</button>');
  });

  it('a requested run that fails is not retried', async () => {
    h = await harness({ token: TOKEN });
    await h.load([job(h.dir, 'r', 'schedule: { cron: "0 * * * *", retries: 2, retry_delay: 1s }')]);
    await h.get('/api/jobs/r/run', { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    await h.runner.runs[0].finish({ status: 'failed', error: 'boom' });
    await h.clock.advance(60_000);
    expect(h.runner.runs).toHaveLength(1);
    expect(h.events.map((e) => e.event)).not.toContain('retry');
  });
});
