// GET /: the status page. Drawn here, on the server, from the same views as /api/jobs, with every value
// escaped (html.ts); the browser script (client.ts) only re-fetches this page every few seconds, swaps it in,
// ticks the countdowns and draws the charts from the JSON block at the end. Without JavaScript the page
// still shows everything and reloads itself every 30 s.
import { formatLocalIso } from '../../cron/tz.js';
import { html, jsonScript, type Html } from './html.js';
import type { RunSummary } from './runs.js';
import type { JobView, SchedulerView } from './view.js';

/** Runs listed in each job's table; the chart shows up to CHART_RUNS. */
const TABLE_RUNS = 10;
export const CHART_RUNS = 50;
/** Seconds between the page's own refreshes. */
const REFRESH_SECONDS = 5;

export interface PageJob {
  view: JobView;
  runs: RunSummary[];
}

/** The statuses a run can have, as the page colours them (legend order). */
const STATUS_WORDS: [string, string][] = [
  ['ok', 'finished'],
  ['running', 'in progress'],
  ['failed', 'failed or invalid'],
  ['alert', 'finished with alerts'],
  ['interrupted', 'stopped by a shutdown'],
  ['skipped', 'not run: still running, or locked'],
  ['never', 'no run yet'],
];

// A status's colour class (statuses a later version may add get the neutral one).
function statusClass(status: string): string {
  if (status === 'invalid') return 'failed';
  return STATUS_WORDS.some(([s]) => s === status) ? status : 'other';
}

// A status as a coloured dot and its word.
function chip(status: string, word = status): Html {
  return html`<span class="chip s-${statusClass(status)}"><span class="dot"></span>${word}</span>`;
}

// `3 s`, `4 min 05 s`, `5 h 12 min`, `2 d 3 h`: a span of time as the page says it.
function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

// `in 4 s`, `now` or `4 s ago`.
export function relative(at: number, now: number): string {
  if (Math.abs(at - now) < 1000) return 'now';
  return at >= now ? `in ${span(at - now)}` : `${span(now - at)} ago`;
}

// A <time> the browser keeps counting (data-rel), with its instant in the job's time zone as a tooltip.
function when(iso: string | null, now: number, tz: string): Html | string {
  if (!iso) return '—';
  const at = Date.parse(iso);
  return html`<time datetime="${iso}" data-rel title="${localTime(iso, tz)} ${tz}">${relative(at, now)}</time>`;
}

// `2026-11-24 02:00:00` in the time zone.
function localTime(iso: string, tz: string): string {
  return formatLocalIso(new Date(iso), tz).slice(0, 19).replace('T', ' ');
}

function duration(ms: number | null): string {
  if (ms === null) return '—';
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : span(ms);
}

const count = (n: number) => n.toLocaleString('en-US');

// The URL of a run's record.
export function recordUrl(job: string, runId: string): string {
  return `/api/jobs/${encodeURIComponent(job)}/runs/${encodeURIComponent(runId)}`;
}

// The job's row in the overview table.
function jobRow(j: JobView, now: number, runNow: boolean): Html {
  const tz = j.schedule?.timezone ?? 'UTC';
  const last = j.last_run;
  const state = j.running ? chip('running', 'running') : last ? chip(last.status) : chip('never', 'never ran');
  const lastWhen = j.running
    ? html`started ${when(j.running.started_at, now, tz)}${last ? html` · before: ${last.status}` : ''}`
    : last
      ? html`${when(last.ended_at, now, tz)} · ${duration(last.duration_ms)}`
      : '';
  const skipped = j.last_skipped;
  const skip = skipped ? html`<div class="sub" title="${skipped.error ?? ''}">${chip('skipped', 'then skipped')} ${when(skipped.ended_at, now, tz)}</div>` : '';
  const next = j.next_fires[0];
  return html`<tr data-job="${j.name}">
  <td class="name"><a href="#job-${j.name}">${j.name}</a></td>
  <td class="schedule">${j.schedule ? html`${j.schedule.words}<div class="sub"><code>${j.schedule.cron}</code> · ${j.schedule.timezone}</div>` : html`<span class="muted">on demand</span>`}</td>
  <td class="next">${next ? html`${when(next, now, tz)}<div class="sub">${localTime(next, tz)}</div>` : html`<span class="muted">—</span>`}</td>
  <td class="last">${state}<div class="sub">${lastWhen}</div>${skip}</td>
  <td class="error">${last?.error ? html`<span class="err" title="${last.error}">${last.error}</span>` : html`<span class="muted">—</span>`}</td>
  ${runNow ? html`<td class="action"><button type="button" data-run="${j.name}">Run now</button></td>` : ''}
</tr>`;
}

// A job's runs as table rows, newest first.
function runRows(job: string, runs: RunSummary[], tz: string): Html[] {
  return runs.slice(0, TABLE_RUNS).map(
    (r) => html`<tr>
  <td><a href="${recordUrl(job, r.run_id)}"><code>${r.run_id}</code></a></td>
  <td>${r.started_at ? localTime(r.started_at, tz) : '—'}</td>
  <td>${r.reason ?? r.trigger ?? ''}</td>
  <td>${chip(r.status)}</td>
  <td class="num">${duration(r.duration_ms)}</td>
  <td class="num">${count(r.rows_in)}</td>
  <td class="num">${count(r.rows_out)}</td>
  <td class="num">${count(r.rows_rejected)}</td>
  <td class="num">${r.exit_code ?? '—'}</td>
  <td class="error">${r.error ? html`<span class="err" title="${r.error}">${r.error}</span>` : ''}</td>
</tr>`,
  );
}

// A job's section: what it is, its charts and its last runs.
function jobSection(p: PageJob): Html {
  const j = p.view;
  const tz = j.schedule?.timezone ?? 'UTC';
  const chart = drawn(p.runs);
  const hasDrift = chart.some((r) => r.drift);
  return html`<section class="job" id="job-${j.name}">
  <h2>${j.name}</h2>
  <p class="sub"><code>${j.file}</code> · ${j.schedule ? html`${j.schedule.words} (${j.schedule.timezone})` : 'on demand'} · ${count(j.records)} run record${j.records === 1 ? '' : 's'}</p>
  ${
    p.runs.length === 0
      ? html`<p class="muted">No runs yet.</p>`
      : html`<div class="charts">
    <figure class="chart" data-chart="rows" data-job="${j.name}"><figcaption>Rows and duration of the last ${chart.length} run${chart.length === 1 ? '' : 's'} (skipped fires are not drawn)</figcaption></figure>
    ${hasDrift ? html`<figure class="chart" data-chart="drift" data-job="${j.name}"><figcaption>Drift per monitored column</figcaption></figure>` : ''}
  </div>
  <table class="runs">
    <thead><tr><th>Run (record)</th><th>Started (${tz})</th><th>Trigger</th><th>Status</th><th class="num">Duration</th><th class="num">Rows in</th><th class="num">Out</th><th class="num">Rejected</th><th class="num">Exit</th><th>Error</th></tr></thead>
    <tbody>${runRows(j.name, p.runs, tz)}</tbody>
  </table>
  <p class="more"><a href="/api/jobs/${encodeURIComponent(j.name)}/runs?limit=50">The last 50 runs as JSON</a></p>`
  }
</section>`;
}

// The runs a chart draws, oldest first: skipped fires did not run, so they have no rows or duration.
function drawn(runs: RunSummary[]): RunSummary[] {
  return runs.filter((r) => r.status !== 'skipped').slice(0, CHART_RUNS).reverse();
}

// What the charts draw (the JSON block at the end of the page).
function chartData(jobs: PageJob[]): unknown {
  return {
    jobs: jobs.map((p) => {
      const runs = drawn(p.runs);
      const drift = runs.find((r) => r.drift)?.drift;
      const columns = [...new Set(runs.flatMap((r) => r.drift?.columns.map((c) => c.column) ?? []))];
      return {
        name: p.view.name,
        t: runs.map((r) => Date.parse(r.started_at ?? r.ended_at ?? '') / 1000),
        status: runs.map((r) => r.status),
        rows_in: runs.map((r) => r.rows_in),
        rows_out: runs.map((r) => r.rows_out),
        rows_rejected: runs.map((r) => r.rows_rejected),
        duration_s: runs.map((r) => (r.duration_ms === null ? null : r.duration_ms / 1000)),
        drift: {
          metric: drift?.metric ?? null,
          warn_at: drift?.warn_at ?? null,
          fail_at: drift?.fail_at ?? null,
          columns: columns.map((c) => ({ column: c, values: runs.map((r) => r.drift?.columns.find((x) => x.column === c)?.value ?? null) })),
        },
      };
    }),
  };
}

// The scheduler's state in the header.
function header(s: SchedulerView, now: number): Html {
  const healthy = s.health.ok;
  return html`<header>
  <h1>serve-batch <span class="muted">scheduler on ${s.host}</span></h1>
  <p class="meta" id="meta">
    <span class="pill ${healthy ? 'good' : 'bad'}" title="${s.health.reason}">${healthy ? 'healthy' : 'unhealthy'}</span>
    <span class="pill ${s.ready ? 'good' : 'wait'}">${s.ready ? 'ready' : s.phase}</span>
    version ${s.version} · started ${when(s.started_at, now, 'UTC')} · page from <time datetime="${s.now}" data-rel>${relative(Date.parse(s.now), now)}</time>
    <span id="offline" class="pill bad" hidden>not reachable</span>
  </p>
  ${healthy ? '' : html`<p class="problem">${s.health.reason}</p>`}
</header>`;
}

// The whole page.
export function renderPage(s: SchedulerView, jobs: PageJob[]): string {
  const now = Date.parse(s.now);
  const legend = STATUS_WORDS.map(([st, word]) => html`<li>${chip(st, st === 'never' ? 'never ran' : st)} <span class="muted">${word}</span></li>`);
  const body = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${s.host}: serve-batch scheduler</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uplot.css">
<link rel="stylesheet" href="/assets/page.css">
<noscript><meta http-equiv="refresh" content="30"></noscript>
</head>
<body data-refresh="${REFRESH_SECONDS}">
<div id="live">
${header(s, now)}
<main>
<section class="overview">
  <table class="jobs">
    <thead><tr><th>Job</th><th>Schedule</th><th>Next fire</th><th>Last run</th><th>Last error</th>${s.run_now ? html`<th></th>` : ''}</tr></thead>
    <tbody>${jobs.length === 0 ? html`<tr><td colspan="5" class="muted">${s.phase === 'loading' ? 'Loading the job files…' : 'No jobs loaded.'}</td></tr>` : jobs.map((p) => jobRow(p.view, now, s.run_now))}</tbody>
  </table>
  <ul class="legend">${legend}</ul>
</section>
${jobs.map(jobSection)}
</main>
<script type="application/json" id="chart-data">${jsonScript(chartData(jobs))}</script>
</div>
<script src="/assets/uplot.js"></script>
<script type="module" src="/assets/page.js"></script>
</body>
</html>
`;
  return body.text;
}
