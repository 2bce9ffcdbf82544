// Fire-time planning: the instants at which Vixie cron would run a job in an IANA time zone.
//
// Matching: a local wall-clock time matches when second, minute, hour and month match and the
// day matches day-of-month OR day-of-week if both are restricted, else both (Vixie DOM_STAR/DOW_STAR).
//
// DST rules (Vixie cron's cron.c "time jumped" handling, see CronSpec.fixedTime):
// - Spring forward (gap): a matching local time that does not exist fires at the first instant
//   after the gap (the transition itself: a 02:30 New York job fires 03:00 EDT) if the job is
//   fixed-time. Vixie runs each skipped fixed-time match right after the jump; since the daemon arms
//   one timer per instant, all gap matches of a day collapse into that one fire (also with a real
//   match at the transition instant, e.g. 03:00). Wildcard jobs ('*' in second/minute/hour) do not
//   catch up: the gap times are skipped and the job continues on the new wall clock.
// - Fall back (overlap): repeated local times fire once, at their first occurrence, for fixed-time
//   jobs (Vixie: "fixed-time jobs have already run"). Wildcard jobs follow real time and fire in
//   both passes, so an hourly or every-minute job keeps its real-time spacing.
// Output is strictly increasing; each instant appears once.
import type { CronSpec } from './cron.js';
import { DAY_MS, civilFromDays, dateMatcher, firstOfNextMonth, matchesDay } from './calendar.js';
import { isValidTimeZone, offsetAt } from './tz.js';

export { formatLocalIso, isValidTimeZone } from './tz.js';

/** Give up after this many days without a fire; 28 years fits jobs like Feb 29 that is also a Sunday. */
const MAX_GAP_DAYS = 28 * 366;

// The next `count` fire instants strictly after `after` for `spec` in `timeZone`, ascending.
// Fewer are returned only if the search passes MAX_GAP_DAYS without a fire.
export function nextFires(spec: CronSpec, timeZone: string, after: Date, count: number): Date[] {
  if (!isValidTimeZone(timeZone)) throw new Error(`unknown time zone "${timeZone}"`);
  const afterMs = after instanceof Date ? after.getTime() : NaN;
  if (!Number.isFinite(afterMs)) throw new Error('nextFires: "after" must be a valid Date');
  if (!Number.isInteger(count) || count < 0) throw new Error(`nextFires: count must be a non-negative integer, got ${count}`);
  const found = new Set<number>();
  const matcher = dateMatcher(spec);
  // Start one local date early: a fall-back across midnight repeats the end of the previous date.
  let day = Math.floor((afterMs + offsetAt(timeZone, afterMs)) / DAY_MS) - 1;
  let stopDay = day + MAX_GAP_DAYS;
  let full = count === 0;
  while (day <= stopDay && count > 0) {
    const date = civilFromDays(day);
    if (!matcher.month[date.month]) {
      day = firstOfNextMonth(date.year, date.month); // skip whole months that cannot match
      continue;
    }
    if (matchesDay(matcher, day, date)) {
      let taken = 0;
      for (const t of firesOnDay(spec, timeZone, day, afterMs)) {
        if (found.has(t)) continue;
        found.add(t);
        if (++taken >= count) break;
      }
      if (!full && taken > 0) stopDay = Math.max(stopDay, day + MAX_GAP_DAYS);
      // Once enough are found, one more date can still hold earlier instants (fall-back across midnight).
      if (!full && found.size >= count) {
        full = true;
        stopDay = day + 1;
      }
    }
    day++;
  }
  return [...found].sort((a, b) => a - b).slice(0, count).map((ms) => new Date(ms));
}

// Fire instants (ms, ascending) whose local date is day number `day`, strictly after `afterMs`.
function* firesOnDay(spec: CronSpec, tz: string, day: number, afterMs: number): Generator<number> {
  const n0 = day * DAY_MS; // local midnight as a naive (offset-free) timestamp
  const n1 = n0 + DAY_MS;
  // Any instant showing this date lies within a day of [n0, n1); we assume at most one offset
  // change in that window (true of all real zones), so equal ends mean a constant offset.
  const before = offsetAt(tz, n0 - DAY_MS);
  const after = offsetAt(tz, n1 + DAY_MS);
  if (before === after) {
    yield* segment(spec, n0, n0, n1, before, afterMs);
    return;
  }
  const t = findTransition(tz, n0 - DAY_MS, n1 + DAY_MS, before);
  // Wall-clock times before the change, at the old offset (all before instant t).
  yield* segment(spec, n0, n0, Math.min(n1, t + before), before, afterMs);
  if (after > before) {
    // Spring forward: local times in [t+before, t+after) never occur. Vixie runs fixed-time jobs
    // that fell into the gap right after the jump; wildcard jobs just skip the gap.
    const gapFrom = Math.max(n0, t + before);
    const gapTo = Math.min(n1, t + after);
    if (spec.fixedTime && t > afterMs && gapFrom < gapTo && hasTime(spec, (gapFrom - n0) / 1000, (gapTo - n0) / 1000)) {
      yield t;
    }
    yield* segment(spec, n0, Math.max(n0, t + after), n1, after, afterMs);
  } else {
    // Fall back: local times in [t+after, t+before) occur again. Vixie does not rerun fixed-time
    // jobs there ("they already ran"); wildcard jobs run again, following real time.
    const from = spec.fixedTime ? t + before : t + after;
    yield* segment(spec, n0, Math.max(n0, from), n1, after, afterMs);
  }
}

// Instants for matching local times in [from, to) (naive ms on the day starting n0) at a fixed offset.
function* segment(spec: CronSpec, n0: number, from: number, to: number, offset: number, afterMs: number): Generator<number> {
  // Smallest whole-second local time whose instant is strictly after afterMs.
  const lo = Math.max(from, Math.floor((afterMs + offset) / 1000) * 1000 + 1000);
  if (lo >= to) return;
  for (const s of timesOfDay(spec, Math.ceil((lo - n0) / 1000), Math.ceil((to - n0) / 1000))) {
    yield n0 + s * 1000 - offset;
  }
}

// First whole-second instant in (loMs, hiMs] whose offset is not `before` (binary search).
function findTransition(tz: string, loMs: number, hiMs: number, before: number): number {
  let lo = Math.floor(loMs / 1000);
  let hi = Math.ceil(hiMs / 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(tz, mid * 1000) === before) lo = mid;
    else hi = mid;
  }
  return hi * 1000;
}

// Matching seconds-of-day in [from, to), ascending; skips whole hours and minutes that cannot match.
function* timesOfDay(spec: CronSpec, from: number, to: number): Generator<number> {
  for (const h of spec.hours) {
    if (h * 3600 + 3600 <= from) continue;
    if (h * 3600 >= to) return;
    for (const m of spec.minutes) {
      const base = h * 3600 + m * 60;
      if (base + 60 <= from) continue;
      if (base >= to) return;
      for (const s of spec.seconds) {
        const t = base + s;
        if (t < from) continue;
        if (t >= to) return;
        yield t;
      }
    }
  }
}

// Whether some matching time of day lies in [from, to) seconds.
function hasTime(spec: CronSpec, from: number, to: number): boolean {
  return !timesOfDay(spec, from, to).next().done;
}
