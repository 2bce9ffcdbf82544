// What the scheduler does for one job when it wakes up (node-cron's plan-beat, adapted): a pure function of
// the instant up to which the job's fires were handled (`since`), the wall clock (`now`) and the schedule.
//
// - A fire in (since, now] that is at most `toleranceMs` old is due: it runs now (its run record keeps the
//   planned instant). Timers wake a little late; a restart of a few seconds should not lose a fire.
// - Older fires in (since, now] were missed: the scheduler was not running, the host was suspended, or the
//   clock jumped. The job's `missed:` policy decides (skip, or run once now).
// - `next` is the first fire after now: the instant to arm.
// If the clock went back (now < since), fires up to `since` already ran and are not run again.
import type { ScheduleConfig } from '../job/config.js';
import { upcomingFires } from './fires.js';

/** A fire up to this late still runs as scheduled; later ones count as missed. */
export const LATE_TOLERANCE_MS = 60_000;
/** Missed fires are counted up to this many (a per-second job down for a day misses 86,400). */
export const MISSED_COUNT_LIMIT = 1000;

export interface Missed {
  /** How many fires were missed (at most MISSED_COUNT_LIMIT; `more` says there were more). */
  count: number;
  more: boolean;
  first: Date;
  /** The latest missed fire; unknown when there were more than the limit. */
  last?: Date;
}

export interface Beat {
  due?: Date;
  missed?: Missed;
  next?: Date;
}

type Schedule = Pick<ScheduleConfig, 'cron' | 'timezone'>;

// Plan one wake-up of a job (see the file comment).
export function planBeat(schedule: Schedule, since: Date, now: Date, toleranceMs = LATE_TOLERANCE_MS): Beat {
  const nowMs = now.getTime();
  const sinceMs = since.getTime();
  const next = upcomingFires(schedule, new Date(Math.max(sinceMs, nowMs)), 1)[0];
  if (nowMs <= sinceMs) return { next };
  const head = upcomingFires(schedule, since, MISSED_COUNT_LIMIT + 2).filter((d) => d.getTime() <= nowMs);
  const truncated = head.length === MISSED_COUNT_LIMIT + 2;
  // The latest fire not older than the tolerance (fires are at least a second apart, so this many suffice).
  const windowStart = Math.max(sinceMs, nowMs - toleranceMs - 1);
  const recent = truncated ? upcomingFires(schedule, new Date(windowStart), Math.ceil(toleranceMs / 1000) + 2).filter((d) => d.getTime() <= nowMs) : head;
  const latest = recent[recent.length - 1];
  const due = latest && nowMs - latest.getTime() <= toleranceMs ? latest : undefined;
  const missedFires = due && !truncated ? head.slice(0, -1) : head;
  if (missedFires.length === 0) return { due, next };
  const missed: Missed = truncated
    ? { count: MISSED_COUNT_LIMIT, more: true, first: missedFires[0] }
    : { count: missedFires.length, more: false, first: missedFires[0], last: missedFires[missedFires.length - 1] };
  return { due, missed, next };
}
