// The scheduler: plans each job's fires with the planner `next` uses, arms one timer per planned fire, and
// hands each fire to a FireRunner (in production a child process per run, see runner.ts). It decides; the
// runner, the clock, the state store and the event sink are injected, so tests drive it with a fake clock.
import type { JobConfig } from '../job/config.js';
import { messageOf } from '../errors.js';
import type { RunEvent } from '../run/run-job.js';
import { newRunId, type FireInfo, type FireReason, type RunRecord } from '../run/record.js';
import { saveRecord } from '../run/save.js';
import { planBeat, LATE_TOLERANCE_MS, type Missed } from './beat.js';
import { armAt, systemClock, type Clock } from './clock.js';
import { schedulerRecord } from './records.js';
import { upcomingFires } from './fires.js';
import { diffJobs, fingerprint, type JobDiff } from './reload.js';
import { planRetry } from './retry.js';
import { fileStateStore, type StateStore } from './state.js';

export interface RunHandle {
  readonly pid?: number;
  /** The run's record once its process has exited; never rejects. */
  readonly done: Promise<RunRecord>;
  /** Ask the run to stop cleanly (no partial output). */
  stop(): void;
  /** Stop it at once. */
  kill(): void;
}

export type RunnerEvent = { type: 'output'; stream: 'stdout' | 'stderr'; line: string } | { type: 'run'; event: RunEvent };

export interface FireRunner {
  start(job: JobConfig, run: { runId: string; fire: FireInfo }, onEvent: (e: RunnerEvent) => void): RunHandle;
}

export type DaemonEvent =
  | { event: 'loaded'; job: JobConfig; next?: Date }
  | { event: 'on_demand'; job: JobConfig }
  | { event: 'missed'; job: string; timezone: string; missed: Missed; atStart: boolean; action: 'run-once' | 'skip' | 'due' }
  | { event: 'fired'; job: string; timezone: string; run_id: string; fire: FireInfo }
  | { event: 'started'; job: string; run_id: string; pid?: number }
  | { event: 'finished' | 'failed' | 'interrupted'; job: string; record: RunRecord }
  | { event: 'skipped'; job: string; record: RunRecord; reason: 'locked' | 'busy' }
  | { event: 'retry'; job: string; timezone: string; run_id: string; attempt: number; attempts: number; at: Date }
  | { event: 'child_output'; job: string; run_id: string; pid?: number; stream: 'stdout' | 'stderr'; line: string }
  | { event: 'run_event'; job: string; run_id: string; run: RunEvent }
  | { event: 'reloaded'; diff: JobDiff }
  | { event: 'stopping'; running: string[]; graceMs: number }
  | { event: 'terminating' | 'killing'; running: string[] }
  | { event: 'stopped' }
  | { event: 'warning'; job?: string; message: string };

export interface DaemonOptions {
  runner: FireRunner;
  emit: (e: DaemonEvent) => void;
  clock?: Clock;
  state?: StateStore;
  /** Writes records the scheduler makes itself (default: metrics file + run record). */
  save?: (job: JobConfig, record: RunRecord) => Promise<void>;
  toleranceMs?: number;
}

/** A loaded job as the daemon sees it: its next planned fire, the last fire it handled, its run in progress. */
export interface JobSnapshot {
  job: JobConfig;
  next?: Date;
  lastFire?: Date;
  running?: { runId: string; pid?: number; startedAt: Date };
}

export type RunRequest = { runId: string } | { refused: 'unknown' | 'busy' | 'stopping'; message: string };

interface Slot {
  job: JobConfig;
  print: string;
  /** Fires up to this instant (ms) are handled. */
  since: number;
  lastFire?: Date;
  next?: Date;
  cancelTimer?: () => void;
  cancelRetry?: () => void;
  current?: { runId: string; pid?: number; startedAt: Date };
  removed?: boolean;
  /** State writes of this job, in order (a slow write must not land after a newer one). */
  saving?: Promise<void>;
}

interface Active {
  job: string;
  runId: string;
  handle: RunHandle;
  task: Promise<void>;
}

export class Daemon {
  private readonly slots = new Map<string, Slot>();
  private readonly active = new Set<Active>();
  private readonly clock: Clock;
  private readonly state: StateStore;
  private readonly save: (job: JobConfig, record: RunRecord) => Promise<void>;
  private stopping?: Promise<void>;
  private hurry?: () => void;

  constructor(private readonly o: DaemonOptions) {
    this.clock = o.clock ?? systemClock;
    this.state = o.state ?? fileStateStore;
    this.save = o.save ?? saveRecord;
  }

  // Load the jobs and arm their first fires (running missed ones first, per schedule.missed).
  async start(jobs: JobConfig[]): Promise<void> {
    for (const job of jobs) await this.add(job);
  }

  // SIGHUP: replace the job set. Running runs of changed or removed jobs finish with their old configuration.
  async update(jobs: JobConfig[]): Promise<JobDiff> {
    const after = new Map(jobs.map((j) => [j.name, fingerprint(j)]));
    const diff = diffJobs(new Map([...this.slots].map(([n, s]) => [n, s.print])), after);
    if (this.stopping) return diff;
    this.o.emit({ event: 'reloaded', diff });
    for (const name of diff.removed) {
      const slot = this.slots.get(name) as Slot;
      this.disarm(slot);
      slot.removed = true;
      this.slots.delete(name);
    }
    for (const job of jobs) {
      if (diff.added.includes(job.name)) await this.add(job);
      if (!diff.changed.includes(job.name)) continue;
      const slot = this.slots.get(job.name) as Slot;
      this.disarm(slot);
      Object.assign(slot, { job, print: after.get(job.name), since: Math.max(slot.since, this.clock.now()) });
      this.announce(slot);
    }
    return diff;
  }

  // SIGTERM/SIGINT: fire nothing more; give running runs `graceMs` to finish, then stop them cleanly, and kill
  // what is left after `killAfterMs`. Calling it again (a second signal) cuts the grace period short.
  stop(graceMs: number, killAfterMs: number): Promise<void> {
    if (this.stopping) {
      this.hurry?.();
      return this.stopping;
    }
    for (const slot of this.slots.values()) this.disarm(slot);
    this.stopping = this.drain(graceMs, killAfterMs);
    return this.stopping;
  }

  /** Names of jobs with a run in progress. */
  running(): string[] {
    return [...this.active].map((a) => a.job).sort();
  }

  /** Whether a stop has begun (no more fires). */
  isStopping(): boolean {
    return this.stopping !== undefined;
  }

  // What the scheduler knows of each loaded job right now, in load order: for the status page and probes.
  snapshot(): JobSnapshot[] {
    return [...this.slots.values()].map((s) => ({ job: s.job, next: s.next, lastFire: s.lastFire, running: s.current ? { ...s.current } : undefined }));
  }

  // Start a run of a loaded job now (the status page's "run now"), through the runner and lock every fire
  // uses. Refused while the job's previous run is going or the scheduler is stopping.
  requestRun(name: string): RunRequest {
    const slot = this.slots.get(name);
    if (!slot) return { refused: 'unknown', message: `no job named ${name} is loaded` };
    if (this.stopping) return { refused: 'stopping', message: 'the scheduler is stopping: it starts no new runs' };
    if (slot.current) {
      const pid = slot.current.pid ? `, pid ${slot.current.pid}` : '';
      return { refused: 'busy', message: `job ${name} is already running (run ${slot.current.runId}${pid})` };
    }
    return { runId: this.fire(slot, new Date(this.clock.now()), 'request', 1) as string };
  }

  private async add(job: JobConfig): Promise<void> {
    let since = this.clock.now();
    let lastFire: Date | undefined;
    if (job.schedule) {
      try {
        const saved = await this.state.read(job);
        if (saved) {
          since = saved.handledUntil.getTime();
          lastFire = saved.lastFire;
        }
      } catch (err) {
        this.o.emit({ event: 'warning', job: job.name, message: messageOf(err) });
      }
    }
    const slot: Slot = { job, print: fingerprint(job), since, lastFire };
    this.slots.set(job.name, slot);
    this.announce(slot, true);
  }

  // Log a job as loaded (with its next fire) or on demand, and plan it.
  private announce(slot: Slot, atStart = false): void {
    if (!slot.job.schedule) {
      this.o.emit({ event: 'on_demand', job: slot.job });
      return;
    }
    const next = upcomingFires(slot.job.schedule, new Date(Math.max(slot.since, this.clock.now())), 1)[0];
    this.o.emit({ event: 'loaded', job: slot.job, next });
    this.beat(slot, atStart);
    if (atStart) this.persist(slot);
  }

  // One wake-up of a job: run what is due (or missed, per policy) and arm the next fire.
  private beat(slot: Slot, atStart = false): void {
    const schedule = slot.job.schedule;
    if (!schedule || this.stopping || slot.removed) return;
    const now = this.clock.now();
    const b = planBeat(schedule, new Date(slot.since), new Date(now), this.o.toleranceMs ?? LATE_TOLERANCE_MS);
    slot.since = Math.max(slot.since, now);
    if (b.missed) {
      const action = b.due ? 'due' : schedule.missed;
      this.o.emit({ event: 'missed', job: slot.job.name, timezone: schedule.timezone, missed: b.missed, atStart, action });
      if (action === 'run-once') this.fire(slot, b.missed.last ?? b.missed.first, 'missed', 1);
    }
    if (b.due) this.fire(slot, b.due, 'schedule', 1);
    if ((b.due || b.missed) && !atStart) this.persist(slot);
    slot.next = b.next;
    if (b.next) slot.cancelTimer = this.arm(b.next.getTime(), () => this.beat(slot));
  }

  // Start one run of a job, unless its previous run is still going (then a skipped record is written); the
  // started run's id.
  private fire(slot: Slot, scheduledFor: Date, reason: FireReason, attempt: number): string | undefined {
    if (this.stopping || slot.removed) return undefined;
    slot.cancelRetry?.();
    slot.cancelRetry = undefined;
    const job = slot.job;
    const now = new Date(this.clock.now());
    const runId = newRunId(now);
    const fire: FireInfo = { scheduled_for: scheduledFor.toISOString(), attempt, reason };
    if (reason === 'schedule' || reason === 'missed') slot.lastFire = scheduledFor;
    if (slot.current) {
      const who = `run ${slot.current.runId}${slot.current.pid ? `, pid ${slot.current.pid}` : ''}`;
      const error = `job ${job.name} is already running (${who}, started by this scheduler); this fire was skipped`;
      const record = schedulerRecord(job, { runId, fire, started: now, ended: now, status: 'skipped', exitCode: 3, error });
      this.o.emit({ event: 'skipped', job: job.name, record, reason: 'busy' });
      void this.save(job, record).catch((err: unknown) => this.o.emit({ event: 'warning', job: job.name, message: messageOf(err) }));
      return undefined;
    }
    this.o.emit({ event: 'fired', job: job.name, timezone: job.schedule?.timezone ?? 'UTC', run_id: runId, fire });
    const handle = this.o.runner.start(job, { runId, fire }, (e) => {
      if (e.type === 'output') this.o.emit({ event: 'child_output', job: job.name, run_id: runId, pid: handle.pid, stream: e.stream, line: e.line });
      else this.o.emit({ event: 'run_event', job: job.name, run_id: runId, run: e.event });
    });
    slot.current = { runId, pid: handle.pid, startedAt: now };
    this.o.emit({ event: 'started', job: job.name, run_id: runId, pid: handle.pid });
    const active: Active = { job: job.name, runId, handle, task: Promise.resolve() };
    active.task = handle.done
      .then((record) => this.finished(slot, record))
      .catch((err: unknown) => this.o.emit({ event: 'warning', job: job.name, message: `internal error after run ${runId}: ${messageOf(err)}` }))
      .finally(() => this.active.delete(active));
    this.active.add(active);
    return runId;
  }

  // A run ended: log it and plan a retry if it failed.
  private finished(slot: Slot, record: RunRecord): void {
    slot.current = undefined;
    const job = record.job;
    if (record.status === 'ok') this.o.emit({ event: 'finished', job, record });
    else if (record.status === 'skipped') this.o.emit({ event: 'skipped', job, record, reason: 'locked' });
    else if (record.status === 'interrupted') this.o.emit({ event: 'interrupted', job, record });
    else this.o.emit({ event: 'failed', job, record });
    const schedule = slot.job.schedule;
    // A requested run is not retried: whoever asked for it sees how it ended and can ask again.
    if (!schedule || this.stopping || slot.removed || record.schedule?.reason === 'request') return;
    const attempt = record.schedule?.attempt ?? 1;
    const plan = planRetry(schedule, record.status, attempt, new Date(this.clock.now()), slot.next);
    if (!plan.retry) return;
    const scheduledFor = new Date(record.schedule?.scheduled_for ?? record.started_at);
    this.o.emit({ event: 'retry', job, timezone: schedule.timezone, run_id: record.run_id, attempt: plan.attempt, attempts: schedule.retries + 1, at: plan.at });
    slot.cancelRetry = this.arm(plan.at.getTime(), () => {
      slot.cancelRetry = undefined;
      this.fire(slot, scheduledFor, 'retry', plan.attempt);
    });
  }

  private arm(at: number, fn: () => void): () => void {
    return this.clock.arm ? this.clock.arm(at, fn) : armAt(this.clock, at, fn);
  }

  private disarm(slot: Slot): void {
    slot.cancelTimer?.();
    slot.cancelRetry?.();
    slot.cancelTimer = slot.cancelRetry = undefined;
  }

  // Save how far the job's fires are handled (errors are logged, never fatal).
  private persist(slot: Slot): void {
    const job = slot.job;
    const state = { handledUntil: new Date(slot.since), lastFire: slot.lastFire };
    slot.saving = (slot.saving ?? Promise.resolve()).then(() =>
      this.state.write(job, state).catch((err: unknown) => {
        this.o.emit({ event: 'warning', job: job.name, message: `cannot save the schedule state: ${messageOf(err)}` });
      }),
    );
  }

  private async drain(graceMs: number, killAfterMs: number): Promise<void> {
    this.o.emit({ event: 'stopping', running: this.running(), graceMs });
    if (!(await this.settled(graceMs))) {
      this.o.emit({ event: 'terminating', running: this.running() });
      for (const a of this.active) a.handle.stop();
      if (!(await this.settled(killAfterMs))) {
        this.o.emit({ event: 'killing', running: this.running() });
        for (const a of this.active) a.handle.kill();
        await Promise.all([...this.active].map((a) => a.task));
      }
    }
    this.o.emit({ event: 'stopped' });
  }

  // Whether every active run ends within `ms` (false early when hurried by another signal).
  private settled(ms: number): Promise<boolean> {
    if (this.active.size === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), ms);
      this.hurry = () => resolve(false);
      void Promise.all([...this.active].map((a) => a.task)).then(() => {
        this.clock.clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
