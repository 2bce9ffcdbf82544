// GET /metrics: the Prometheus text exposition of the scheduler.
//
// - The metrics_file gauges (serve_batch_last_run_*, last_success, last_skipped), under the same names and
//   with the same meaning: each loaded job's newest records folded through the textfile writer's own
//   mergeMetrics, in the order they ended, so the page and the file never disagree.
// - prom-client for what only a long-running process has: runs by status (a counter since this scheduler
//   started), run durations (a histogram), the next fire per job, runs in progress, readiness, per-column
//   drift of the newest run when its record carries it, and Node's process metrics.
// Every sample has a `job_name` label (not `job`, which Prometheus sets to the scrape job).
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { JobConfig } from '../../job/config.js';
import { mergeMetrics } from '../../run/metrics.js';
import type { RunRecord } from '../../run/record.js';
import type { DaemonEvent } from '../daemon.js';
import { readiness } from './health.js';
import type { RunStore, RunSummary } from './runs.js';
import type { SchedulerStatus } from './status.js';

const P = 'serve_batch_';
/** Run statuses given a zero sample from the start, so rate() sees the first run of each. */
const STATUSES = ['ok', 'failed', 'skipped', 'interrupted', 'invalid'];
/** Durations from sub-second test jobs to nightly runs of several hours. */
const DURATION_BUCKETS = [0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800];
/** How far back the last success, failure or skip is looked for in a job's records. */
const SCAN = 1000;

export interface MetricsOptions {
  /** Node's process metrics (CPU, memory, event loop lag); on in the CLI. */
  processMetrics?: boolean;
}

export class SchedulerMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter;
  private readonly durations: Histogram;
  private readonly next: Gauge;
  private readonly running: Gauge;
  private readonly ready: Gauge;
  private readonly drift: Gauge;
  private readonly missing: Gauge;
  private readonly notifyFailures: Counter;
  /** Jobs whose counter and histogram have their zero samples. */
  private readonly known = new Set<string>();

  constructor(o: MetricsOptions = {}) {
    const registers = [this.registry];
    this.runs = new Counter({ name: `${P}runs_total`, help: 'Runs this scheduler started that ended, by status (skipped: the job was still running or another process held its lock).', labelNames: ['job_name', 'status'], registers });
    this.durations = new Histogram({ name: `${P}run_duration_seconds`, help: 'Durations of the runs this scheduler started (skipped runs are not counted).', labelNames: ['job_name'], buckets: DURATION_BUCKETS, registers });
    this.next = new Gauge({ name: `${P}next_fire_timestamp_seconds`, help: 'Unix time of the next planned fire of the job.', labelNames: ['job_name'], registers });
    this.running = new Gauge({ name: `${P}running`, help: '1 while a run of the job started by this scheduler is in progress, else 0.', labelNames: ['job_name'], registers });
    this.ready = new Gauge({ name: `${P}scheduler_ready`, help: '1 once every job file is loaded, 0 while loading or stopping.', registers });
    this.drift = new Gauge({ name: `${P}drift`, help: "Drift of a monitored column in the job's newest run, against its reference (the record's metric: PSI or Jensen-Shannon distance).", labelNames: ['job_name', 'column'], registers });
    this.missing = new Gauge({ name: `${P}missing_ratio`, help: "Share of missing values of a monitored column in the job's newest run.", labelNames: ['job_name', 'column'], registers });
    this.notifyFailures = new Counter({ name: `${P}notify_failures_total`, help: 'Notices (notify: webhooks) this scheduler could not deliver.', labelNames: ['job_name'], registers });
    if (o.processMetrics) collectDefaultMetrics({ register: this.registry });
  }

  // Count a run that ended (from the scheduler's events).
  observe(e: DaemonEvent): void {
    if (e.event === 'notified' && !e.outcome.ok) this.notifyFailures.inc({ job_name: e.job });
    if (e.event !== 'finished' && e.event !== 'failed' && e.event !== 'interrupted' && e.event !== 'skipped') return;
    const r = e.record;
    this.init(e.job);
    this.runs.inc({ job_name: e.job, status: r.status });
    if (e.event !== 'skipped') this.durations.observe({ job_name: e.job }, r.duration_ms / 1000);
  }

  // A job's zero samples, once: rate() then sees its first run of each status.
  private init(job_name: string): void {
    if (this.known.has(job_name)) return;
    this.known.add(job_name);
    for (const status of STATUSES) this.runs.inc({ job_name, status }, 0);
    this.notifyFailures.inc({ job_name }, 0);
    this.durations.zero({ job_name });
  }

  // The exposition text: the metrics_file gauges, then the registry's metrics (see the file comment).
  async render(status: SchedulerStatus, store: RunStore): Promise<string> {
    const jobs = status.jobs();
    let textfile = '';
    this.next.reset();
    this.running.reset();
    this.drift.reset();
    this.missing.reset();
    this.ready.set(readiness(status.phase(), jobs.length).ready ? 1 : 0);
    for (const s of jobs) {
      const job_name = s.job.name;
      this.init(job_name);
      if (s.next) this.next.set({ job_name }, s.next.getTime() / 1000);
      this.running.set({ job_name }, s.running ? 1 : 0);
      const last = await store.find(s.job, (r) => r.status !== 'skipped', SCAN);
      for (const c of last?.drift?.columns ?? []) {
        if (c.value !== null) this.drift.set({ job_name, column: c.column }, c.value);
        if (c.missing_ratio !== null) this.missing.set({ job_name, column: c.column }, c.missing_ratio);
      }
      textfile = await foldTextfile(textfile, s.job, store, last);
    }
    // Once the textfile writer exports a family too (drift, when runs carry it), its samples are the ones kept.
    const taken = new Set([...textfile.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const parts = [textfile];
    for (const m of this.registry.getMetricsAsArray()) {
      if (taken.has(m.name)) continue;
      const text = await this.registry.getSingleMetricAsString(m.name);
      parts.push(text.endsWith('\n') ? text : `${text}\n`);
    }
    return parts.join('');
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

// `text` with a job's metrics_file samples: its newest run, newest success and newest skip, merged in the
// order they ended, exactly as the textfile writer merged them when each run ended.
async function foldTextfile(text: string, job: JobConfig, store: RunStore, last: RunSummary | undefined): Promise<string> {
  const success = last?.status === 'ok' ? last : await store.find(job, (r) => r.status === 'ok', SCAN);
  const skipped = await store.find(job, (r) => r.status === 'skipped', SCAN);
  const picked = [...new Set([success, last, skipped])].filter((s): s is RunSummary => s !== undefined);
  const records: RunRecord[] = [];
  for (const s of picked) {
    const r = await store.record(job, s.run_id);
    if (r && typeof r.ended_at === 'string' && r.totals) records.push({ ...r, job: job.name });
  }
  records.sort((a, b) => Date.parse(a.ended_at) - Date.parse(b.ended_at));
  for (const r of records) text = mergeMetrics(text, r);
  return text;
}
