// The scheduler as the status server sees it: its phase (loading the job files, running, stopping), its
// jobs, the time, and "run now". The server starts before the job files are loaded, so /readyz can say it
// is not ready yet; the daemon is attached once every job is loaded.
import { systemClock, type Clock } from '../clock.js';
import type { JobSnapshot, RunRequest } from '../daemon.js';
import type { Phase } from './health.js';

export type StatusDaemon = { snapshot(): JobSnapshot[]; isStopping(): boolean; requestRun(name: string): RunRequest };

export class SchedulerStatus {
  private daemon?: StatusDaemon;
  readonly startedAt: Date;

  constructor(readonly clock: Clock = systemClock) {
    this.startedAt = new Date(clock.now());
  }

  // The daemon, once it has loaded every job.
  attach(daemon: StatusDaemon): void {
    this.daemon = daemon;
  }

  phase(): Phase {
    if (!this.daemon) return 'loading';
    return this.daemon.isStopping() ? 'stopping' : 'running';
  }

  jobs(): JobSnapshot[] {
    return this.daemon?.snapshot() ?? [];
  }

  now(): number {
    return this.clock.now();
  }

  requestRun(name: string): RunRequest {
    if (!this.daemon) return { refused: 'stopping', message: 'the scheduler is still loading its job files' };
    return this.daemon.requestRun(name);
  }
}
