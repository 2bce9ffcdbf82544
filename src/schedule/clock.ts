// Wall-clock timers for the daemon, behind a Clock so tests can drive time by hand.
//
// When a job fires is decided by nextFires (the planner `next` uses), never by node-cron's own matching:
// node-cron 4 matches day-of-month AND day-of-week and skips a daily time that falls in a DST gap. node-cron
// only arms the planned instant: the system clock gives each planned fire a one-shot node-cron task whose
// expression is that exact second in UTC (no DST there, and it cannot misread the day rule). Test clocks
// use armAt alone.
//
// setTimeout runs on the monotonic clock, which does not advance while the host is suspended, and it cannot
// wait longer than 2^31-1 ms (about 24.8 days; longer delays fire at once). So a wait is cut into steps of at
// most a minute, each re-reading the wall clock: a suspend or clock step delays a fire by at most a minute.
import cron from 'node-cron';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Call fn at wall-clock instant `at` (ms); returns a cancel function. Default: armAt. */
  arm?(at: number, fn: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  arm: (at, fn) => armWithNodeCron(at, fn),
};

const DAY_MS = 86_400_000;
const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

// Arm a one-shot node-cron task for the UTC second `at`. A cron expression names no year, so a fire more
// than a day away is first waited for with armAt; instants less than two seconds away, or not on a whole
// second (retries), are armed with armAt directly.
export function armWithNodeCron(at: number, fn: () => void): () => void {
  const left = at - Date.now();
  if (left < 2000 || at % 1000 !== 0) return armAt(systemClock, at, fn);
  if (left > DAY_MS) {
    let cancelInner: (() => void) | undefined;
    const cancelOuter = armAt(systemClock, at - DAY_MS, () => {
      cancelInner = armWithNodeCron(at, fn);
    });
    return () => {
      cancelOuter();
      cancelInner?.();
    };
  }
  const d = new Date(at);
  const expression = `${d.getUTCSeconds()} ${d.getUTCMinutes()} ${d.getUTCHours()} ${d.getUTCDate()} ${d.getUTCMonth() + 1} *`;
  const task = cron.schedule(expression, () => fn(), { timezone: 'UTC', maxExecutions: 1, logger: silent, suppressMissedWarning: true });
  return () => {
    void task.destroy();
  };
}

/** setTimeout's largest delay. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** How often a long wait re-reads the wall clock. */
export const RECHECK_MS = 60_000;

// Call `fn` once the wall clock reaches `at` (ms), never synchronously; returns a function that cancels it.
export function armAt(clock: Clock, at: number, fn: () => void): () => void {
  let handle: unknown;
  let cancelled = false;
  const step = (): void => {
    if (cancelled) return;
    const left = at - clock.now();
    if (left <= 0) {
      cancelled = true;
      fn();
      return;
    }
    handle = clock.setTimeout(step, Math.min(left, RECHECK_MS, MAX_TIMER_MS));
  };
  handle = clock.setTimeout(step, Math.max(0, Math.min(at - clock.now(), RECHECK_MS, MAX_TIMER_MS)));
  return () => {
    cancelled = true;
    clock.clearTimeout(handle);
  };
}
