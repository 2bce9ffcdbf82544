// Wall-clock timers for the daemon, behind a Clock so tests can drive time by hand.
//
// Fires are armed with plain timers at instants planned by nextFires (the planner `next` uses), not with
// node-cron tasks: node-cron 4 matches day-of-month AND day-of-week and skips a daily time that falls in a DST
// gap, so its own matching cannot be what fires the job; a node-cron task per planned instant would only wrap
// the same timer (and could not be driven by a test clock).
//
// setTimeout runs on the monotonic clock, which does not advance while the host is suspended, and it cannot
// wait longer than 2^31-1 ms (about 24.8 days; longer delays fire at once). So a wait is cut into steps of at
// most a minute, each re-reading the wall clock: a suspend or clock step delays a fire by at most a minute.
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

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
