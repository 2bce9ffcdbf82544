// Time-zone offsets from Intl.DateTimeFormat (the runtime's ICU tz data; no database of our own).
import { DAY_MS, civilFromDays, daysFromCivil } from './calendar.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

// A cached formatter giving the numeric wall-clock fields of an instant in `timeZone`.
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23', // 'hour12: false' can print midnight as 24
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

// Whether Intl knows `timeZone` (an IANA name such as "Europe/Berlin", or "UTC").
export function isValidTimeZone(timeZone: string): boolean {
  if (typeof timeZone !== 'string' || timeZone === '') return false;
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

// UTC offset of `timeZone` at instant `ms`, in ms (local wall clock minus UTC; whole seconds).
export function offsetAt(timeZone: string, ms: number): number {
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  for (const p of formatter(timeZone).formatToParts(ms)) {
    const v = Number(p.value);
    switch (p.type) {
      case 'year': y = v; break;
      case 'month': mo = v; break;
      case 'day': d = v; break;
      case 'hour': h = v; break;
      case 'minute': mi = v; break;
      case 'second': s = v; break;
    }
  }
  const local = daysFromCivil(y, mo, d) * DAY_MS + (h * 3600 + mi * 60 + s) * 1000;
  return local - Math.floor(ms / 1000) * 1000;
}

// `instant` as local ISO 8601 with its offset in `timeZone`, e.g. 2025-03-09T03:00:00-04:00.
export function formatLocalIso(instant: Date, timeZone: string): string {
  const ms = instant.getTime();
  const offset = offsetAt(timeZone, ms);
  const local = Math.floor(ms / 1000) * 1000 + offset;
  const dayNo = Math.floor(local / DAY_MS);
  const { year, month, day } = civilFromDays(dayNo);
  const secs = (local - dayNo * DAY_MS) / 1000;
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const frac = ms % 1000 === 0 ? '' : `.${pad(((ms % 1000) + 1000) % 1000, 3)}`;
  const abs = Math.abs(offset) / 1000;
  // Offsets are whole minutes in practice; historical LMT offsets may carry seconds.
  const offSecs = abs % 60 === 0 ? '' : `:${pad(abs % 60)}`;
  const sign = offset < 0 ? '-' : '+';
  return (
    `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(Math.floor(secs / 3600))}:${pad(Math.floor(secs / 60) % 60)}:${pad(secs % 60)}` +
    `${frac}${sign}${pad(Math.floor(abs / 3600))}:${pad(Math.floor(abs / 60) % 60)}${offSecs}`
  );
}
