// Schedule state per job, in state_dir/schedule/<job>.json: the instant up to which the scheduler has handled
// the job's fires. A scheduler started later plans from there, so it can tell which fires it missed while it
// was down (schedule.missed). Written at start and after every fire, atomically.
import { readFile } from 'node:fs/promises';
import type { JobConfig } from '../job/config.js';
import { SbError } from '../errors.js';
import { openSink } from '../storage/sink.js';
import { scheduleStatePath } from '../run/state-paths.js';

export interface ScheduleState {
  handledUntil: Date;
  lastFire?: Date;
}

export interface StateStore {
  /** The saved state, or undefined when there is none. Throws SbError for an unreadable file. */
  read(job: Pick<JobConfig, 'name' | 'stateDir'>): Promise<ScheduleState | undefined>;
  write(job: Pick<JobConfig, 'name' | 'stateDir'>, state: ScheduleState): Promise<void>;
}

// Where a job's schedule state lives.
export function statePath(stateDir: string, job: string): string {
  return scheduleStatePath(stateDir, job);
}

// The state files in state_dir.
export const fileStateStore: StateStore = {
  async read(job) {
    const file = statePath(job.stateDir, job.name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new SbError('INPUT_FAILED', `cannot read the schedule state ${file}: ${(err as Error).message}`, { file });
    }
    const raw = parseState(text);
    if (!raw) throw new SbError('INPUT_FAILED', `the schedule state ${file} is not valid; it is ignored and rewritten`, { file });
    return raw;
  },
  async write(job, state) {
    const sink = await openSink(statePath(job.stateDir, job.name));
    const body = { job: job.name, handled_until: state.handledUntil.toISOString(), last_fire: state.lastFire?.toISOString() ?? null, pid: process.pid };
    await sink.write(`${JSON.stringify(body, null, 2)}\n`);
    await sink.commit();
  },
};

// The state in a file's text, or undefined when it is not one of ours.
export function parseState(text: string): ScheduleState | undefined {
  try {
    const raw = JSON.parse(text) as { handled_until?: unknown; last_fire?: unknown };
    const handledUntil = typeof raw.handled_until === 'string' ? new Date(raw.handled_until) : undefined;
    if (!handledUntil || Number.isNaN(handledUntil.getTime())) return undefined;
    const lastFire = typeof raw.last_fire === 'string' ? new Date(raw.last_fire) : undefined;
    return { handledUntil, lastFire: lastFire && !Number.isNaN(lastFire.getTime()) ? lastFire : undefined };
  } catch {
    return undefined;
  }
}
