/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// The status page's script, served as /assets/page.js (the compiled form of this file). It re-fetches the
// page every few seconds and swaps it in (the server draws and escapes everything; this script sets no HTML
// of its own), ticks the countdowns each second, draws each job's charts with uPlot (served by the
// scheduler too) from the page's JSON block, and sends "run now" with the token the user types.
import type uPlotType from 'uplot';

declare const uPlot: typeof uPlotType;

interface ChartJob {
  name: string;
  t: number[];
  status: string[];
  rows_in: number[];
  rows_out: number[];
  rows_rejected: number[];
  duration_s: (number | null)[];
  drift: { metric: string | null; warn_at: number | null; fail_at: number | null; columns: { column: string; values: (number | null)[] }[] };
}

const charts = new Map<Element, uPlotType>();
const PALETTE = ['#0969da', '#8250df', '#1a7f37', '#bf3989', '#bc4c00', '#0a7e8c', '#6e7781', '#953800'];
const TOKEN_KEY = 'serve-batch-token';
/** Server time minus this browser's: countdowns follow the scheduler's clock. */
let skew = 0;

// The same wording as the server's (page.ts span/relative).
function span(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

function relative(at: number, now: number): string {
  if (Math.abs(at - now) < 1000) return 'now';
  return at >= now ? `in ${span(at - now)}` : `${span(now - at)} ago`;
}

// Every countdown and "ago" on the page, against the scheduler's clock.
function tick(): void {
  const now = Date.now() + skew;
  for (const el of document.querySelectorAll<HTMLTimeElement>('time[data-rel]')) {
    const at = Date.parse(el.dateTime);
    if (Number.isFinite(at)) el.textContent = relative(at, now);
  }
}

function readSkew(): void {
  const at = Date.parse(document.querySelector<HTMLTimeElement>('#meta time[data-rel]:last-of-type')?.dateTime ?? '');
  if (Number.isFinite(at)) skew = at - Date.now();
}

function chartData(): ChartJob[] {
  const el = document.getElementById('chart-data');
  try {
    return (JSON.parse(el?.textContent ?? '{}') as { jobs?: ChartJob[] }).jobs ?? [];
  } catch {
    return [];
  }
}

const seconds = (v: number | null) => (v === null ? '—' : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} s`);
const rows = (v: number | null) => (v === null ? '—' : v.toLocaleString('en-US'));
const width = (fig: Element) => Math.max(300, fig.clientWidth - 22);
const points = { show: true, size: 6 };
/** Time axis steps (seconds): whole seconds at least, then the usual clock steps. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800, 2592000, 31536000];
const timeAxis: uPlotType.Axis = { space: 90, incrs: TIME_STEPS };
// The x range of the runs with a margin, so the first and last points are whole; a minute around a single
// run (uPlot's own range for one point spans years).
function xRange(u: uPlotType, min: number, max: number): uPlotType.Range.MinMax {
  const xs = u.data[0];
  if (xs.length === 0) return [min, max];
  const [lo, hi] = [xs[0], xs[xs.length - 1]];
  const pad = hi === lo ? 30 : (hi - lo) * 0.04;
  return [lo - pad, hi + pad];
}

// uPlot options and data of a job's chart of `kind`.
function chartOf(kind: string, j: ChartJob, fig: Element): { opts: uPlotType.Options; data: uPlotType.AlignedData } {
  const base = { width: width(fig), height: 180, cursor: { drag: { x: false, y: false } }, legend: { live: false } };
  if (kind === 'drift') {
    const d = j.drift;
    const series: uPlotType.Series[] = [{ label: 'run started' }];
    const data: (number | null)[][] = [j.t];
    d.columns.forEach((c, i) => {
      series.push({ label: c.column, stroke: PALETTE[i % PALETTE.length], width: 1.5, points, spanGaps: true, value: (_u, v) => (v === null ? '—' : v.toFixed(3)) });
      data.push(c.values);
    });
    if (d.warn_at !== null) {
      series.push({ label: 'warn at', stroke: '#bf8700', dash: [6, 4], width: 1, points: { show: false } });
      data.push(j.t.map(() => d.warn_at));
    }
    if (d.fail_at !== null) {
      series.push({ label: 'fail at', stroke: '#cf222e', dash: [6, 4], width: 1, points: { show: false } });
      data.push(j.t.map(() => d.fail_at));
    }
    const axes: uPlotType.Axis[] = [timeAxis, { label: d.metric ?? 'drift', size: 56 }];
    return { opts: { ...base, scales: { x: { time: true, range: xRange }, y: { range: (_u, _min, max) => [0, Math.max(max, d.fail_at ?? 0) * 1.1 || 1] } }, series, axes }, data: data as uPlotType.AlignedData };
  }
  const series: uPlotType.Series[] = [
    { label: 'run started' },
    // Drawn wide and light under rows out, which usually equals it.
    { label: 'rows in', scale: 'rows', stroke: '#54aeff', width: 4, points, value: (_u, v) => rows(v) },
    { label: 'rows out', scale: 'rows', stroke: '#1a7f37', width: 1.5, points, value: (_u, v) => rows(v) },
    { label: 'rejected', scale: 'rows', stroke: '#cf222e', width: 1.5, points, value: (_u, v) => rows(v) },
    { label: 'duration', scale: 's', stroke: '#6e7781', dash: [4, 3], width: 1.5, points, value: (_u, v) => seconds(v) },
  ];
  const axes: uPlotType.Axis[] = [
    timeAxis,
    { scale: 'rows', label: 'rows', size: 60, values: (_u, vals) => vals.map((v) => (v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(v))) },
    { scale: 's', side: 1, label: 'seconds', size: 56, grid: { show: false } },
  ];
  const scales = { x: { time: true, range: xRange }, rows: { range: (_u: uPlotType, _min: number, max: number): uPlotType.Range.MinMax => [0, max > 0 ? max * 1.1 : 1] }, s: { range: (_u: uPlotType, _min: number, max: number): uPlotType.Range.MinMax => [0, max > 0 ? max * 1.15 : 1] } };
  return { opts: { ...base, scales, series, axes }, data: [j.t, j.rows_in, j.rows_out, j.rows_rejected, j.duration_s] as uPlotType.AlignedData };
}

// Draw or update every chart on the page; charts whose figure left the page are dropped.
function draw(): void {
  if (typeof uPlot === 'undefined') return;
  const jobs = new Map(chartData().map((j) => [j.name, j]));
  for (const [fig, chart] of charts) {
    if (!fig.isConnected) {
      chart.destroy();
      charts.delete(fig);
    }
  }
  for (const fig of document.querySelectorAll<HTMLElement>('figure.chart[data-job]')) {
    const j = jobs.get(fig.dataset.job ?? '');
    if (!j) continue;
    const { opts, data } = chartOf(fig.dataset.chart ?? 'rows', j, fig);
    let chart = charts.get(fig);
    if (chart && chart.series.length === opts.series.length) chart.setData(data);
    else {
      chart?.destroy();
      chart = new uPlot(opts, data, fig);
      charts.set(fig, chart);
    }
    // What the chart holds now: one point per run.
    fig.dataset.points = String(chart.data[0].length);
  }
}

// Fetch the page again and swap it in, keeping the charts' canvases (and so the reader's place).
async function refresh(): Promise<void> {
  const offline = document.getElementById('offline');
  try {
    const res = await fetch(location.pathname, { cache: 'no-store', headers: { accept: 'text/html' } });
    if (!res.ok) throw new Error(String(res.status));
    const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
    const next = doc.getElementById('live');
    const current = document.getElementById('live');
    if (!next || !current) throw new Error('not a status page');
    for (const fig of next.querySelectorAll<HTMLElement>('figure.chart[data-job]')) {
      const old = [...current.querySelectorAll<HTMLElement>('figure.chart[data-job]')].find((f) => f.dataset.job === fig.dataset.job && f.dataset.chart === fig.dataset.chart);
      if (!old) continue;
      const caption = old.querySelector('figcaption');
      if (caption) caption.textContent = fig.querySelector('figcaption')?.textContent ?? '';
      fig.replaceWith(old);
    }
    current.replaceWith(document.adoptNode(next));
    readSkew();
    draw();
    tick();
  } catch {
    if (offline) offline.hidden = false;
  }
}

// "Run now": POST with the bearer token (asked once per tab, kept in sessionStorage).
async function runNow(job: string): Promise<void> {
  const token = sessionStorage.getItem(TOKEN_KEY) ?? window.prompt(`Token to start ${job} now (the scheduler's --http-token):`);
  if (!token) return;
  const res = await fetch(`/api/jobs/${encodeURIComponent(job)}/run`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (res.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
  if (!res.ok) window.alert(body.message ?? `the scheduler answered ${res.status}`);
  await refresh();
}

document.addEventListener('click', (e) => {
  const button = (e.target as Element | null)?.closest<HTMLButtonElement>('button[data-run]');
  if (button?.dataset.run) void runNow(button.dataset.run);
});
window.addEventListener('resize', () => {
  for (const [fig, chart] of charts) chart.setSize({ width: width(fig), height: 180 });
});

const period = Number(document.body.dataset.refresh ?? '5') * 1000;
readSkew();
draw();
tick();
setInterval(tick, 1000);
// One refresh at a time: the next is planned when the previous has ended.
const loop = (): void => void refresh().finally(() => setTimeout(loop, period));
setTimeout(loop, period);

export {};
