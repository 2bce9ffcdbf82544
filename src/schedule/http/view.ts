// The JSON the status server answers with (/api/jobs, /api/jobs/:job/runs) and the page is drawn from: each
// loaded job with its schedule, next fires, run in progress and last runs, read from the run records.
import { hostname } from 'node:os';
import { VERSION } from '../../version.js';
import type { JobSnapshot } from '../daemon.js';
import { upcomingFires } from '../fires.js';
import { health, readiness, type Health, type Phase } from './health.js';
import { RunStore, type RunSummary } from './runs.js';
import type { SchedulerStatus } from './status.js';
import { cronInWords } from './words.js';

/** How many next fires a job lists. */
const NEXT_FIRES = 5;
/** How far back the last run and the last successful run are looked for. */
const SUCCESS_SCAN = 1000;

export interface JobView {
  name: string;
  file: string;
  schedule: { cron: string; timezone: string; words: string; missed: string; retries: number; timeout_ms: number | null } | null;
  next_fires: string[];
  last_fire: string | null;
  running: { run_id: string; pid: number | null; started_at: string } | null;
  /** The newest run that ran (skipped fires are not runs). */
  last_run: RunSummary | null;
  /** The newest skipped fire, when it is newer than last_run (the job was still running, or locked). */
  last_skipped: RunSummary | null;
  last_success_at: string | null;
  /** Run records of the job in its state_dir. */
  records: number;
}

export interface SchedulerView {
  host: string;
  version: string;
  now: string;
  started_at: string;
  phase: Phase;
  ready: boolean;
  health: Health;
  run_now: boolean;
}

// The scheduler's own state, for the top of /api/jobs and the page.
export function schedulerView(status: SchedulerStatus, runNow: boolean): SchedulerView {
  const jobs = status.jobs();
  const now = status.now();
  return {
    host: hostname(),
    version: VERSION,
    now: new Date(now).toISOString(),
    started_at: status.startedAt.toISOString(),
    phase: status.phase(),
    ready: readiness(status.phase(), jobs.length).ready,
    health: health(status.phase(), jobs, now),
    run_now: runNow,
  };
}

// The fires after `next` (the armed one), `count` in all.
function nextFires(s: JobSnapshot): Date[] {
  const schedule = s.job.schedule;
  if (!schedule || !s.next) return [];
  return [s.next, ...upcomingFires(schedule, s.next, NEXT_FIRES - 1)];
}

// One job as /api/jobs lists it, with its newest run.
export async function jobView(s: JobSnapshot, store: RunStore): Promise<JobView> {
  const { job } = s;
  const newest = (await store.latest(job, 1)).runs[0];
  const last = newest?.status === 'skipped' ? await store.find(job, (r) => r.status !== 'skipped', SUCCESS_SCAN) : newest;
  const success = last?.status === 'ok' ? last : await store.find(job, (r) => r.status === 'ok', SUCCESS_SCAN);
  const sc = job.schedule;
  return {
    name: job.name,
    file: job.file,
    schedule: sc ? { cron: sc.cron, timezone: sc.timezone, words: cronInWords(sc.cron), missed: sc.missed, retries: sc.retries, timeout_ms: sc.timeoutMs ?? null } : null,
    next_fires: nextFires(s).map((d) => d.toISOString()),
    last_fire: s.lastFire?.toISOString() ?? null,
    running: s.running ? { run_id: s.running.runId, pid: s.running.pid ?? null, started_at: s.running.startedAt.toISOString() } : null,
    last_run: last ?? null,
    last_skipped: newest?.status === 'skipped' ? newest : null,
    last_success_at: success?.ended_at ?? null,
    records: (await store.ids(job)).length,
  };
}

// Every loaded job, in load order.
export async function jobsView(status: SchedulerStatus, store: RunStore): Promise<JobView[]> {
  const out: JobView[] = [];
  for (const s of status.jobs()) out.push(await jobView(s, store));
  return out;
}
