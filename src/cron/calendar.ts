// Civil-calendar arithmetic on day numbers (days since 1970-01-01, proleptic Gregorian)
// and the date part of cron matching. No time zones here.
import type { CronSpec } from './cron.js';

export const DAY_MS = 86_400_000;

export interface CivilDate {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

// Day number of a proleptic-Gregorian date (Howard Hinnant's days_from_civil).
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

// Calendar date of a day number (Howard Hinnant's civil_from_days).
export function civilFromDays(n: number): CivilDate {
  const z = n + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day: doy - Math.floor((153 * mp + 2) / 5) + 1 };
}

// Day of week of a day number, 0 = Sunday (day 0, 1970-01-01, was a Thursday).
function weekday(n: number): number {
  return ((n % 7) + 11) % 7;
}

// Day number of the first day of the month after (year, month).
export function firstOfNextMonth(year: number, month: number): number {
  return month === 12 ? daysFromCivil(year + 1, 1, 1) : daysFromCivil(year, month + 1, 1);
}

export interface DateMatcher {
  month: boolean[]; // index 1-12
  dom: boolean[]; // index 1-31
  dow: boolean[]; // index 0-6
  either: boolean; // true: dom OR dow (both restricted), false: dom AND dow
}

// Lookup tables for the date fields of a spec.
export function dateMatcher(spec: CronSpec): DateMatcher {
  const table = (values: readonly number[], size: number): boolean[] => {
    const t = new Array<boolean>(size).fill(false);
    for (const v of values) t[v] = true;
    return t;
  };
  return {
    month: table(spec.months, 13),
    dom: table(spec.daysOfMonth, 32),
    dow: table(spec.daysOfWeek, 7),
    // Vixie cron (DOM_STAR/DOW_STAR): if either day field starts with '*' both must match,
    // otherwise a day matching either field is enough.
    either: spec.domRestricted && spec.dowRestricted,
  };
}

// Whether the calendar date of day number n matches the month/day fields.
export function matchesDay(m: DateMatcher, n: number, date: CivilDate = civilFromDays(n)): boolean {
  if (!m.month[date.month]) return false;
  const dom = m.dom[date.day];
  const dow = m.dow[weekday(n)];
  return m.either ? dom || dow : dom && dow;
}

// Whether any calendar date ever matches. 2000-2027 holds every (month, day, weekday)
// combination that exists at all, Feb 29 included (2000-2024 have it on all 7 weekdays).
export function matchesSomeDate(spec: CronSpec): boolean {
  const m = dateMatcher(spec);
  const end = daysFromCivil(2028, 1, 1);
  for (let n = daysFromCivil(2000, 1, 1); n < end; n++) {
    if (matchesDay(m, n)) return true;
  }
  return false;
}
