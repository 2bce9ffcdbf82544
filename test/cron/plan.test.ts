import { describe, expect, it, vi } from 'vitest';
import { parseCron, type CronSpec } from '../../src/cron/cron.js';
import { formatLocalIso, isValidTimeZone, nextFires } from '../../src/cron/plan.js';
import { offsetAt } from '../../src/cron/tz.js';

const NY = 'America/New_York';
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
// Next fires as UTC ISO strings.
const fires = (expr: string, tz: string, after: string, n: number): string[] =>
  nextFires(parseCron(expr), tz, new Date(after), n).map(iso);
// Next fires as local ISO strings with offset.
const local = (expr: string, tz: string, after: string, n: number): string[] =>
  nextFires(parseCron(expr), tz, new Date(after), n).map((d) => formatLocalIso(d, tz));
const gaps = (ds: string[]): number[] => ds.slice(1).map((d, i) => (Date.parse(d) - Date.parse(ds[i])) / 1000);

describe('acceptance cases', () => {
  it('0 2 * * * in Asia/Seoul', () => {
    expect(fires('0 2 * * *', 'Asia/Seoul', '2026-11-24T00:00:00Z', 2)).toEqual(['2026-11-24T17:00:00Z', '2026-11-25T17:00:00Z']);
  });

  it('45 2 * * * in New York across spring-forward: the gap time fires at 03:00 EDT', () => {
    const got = fires('45 2 * * *', NY, '2025-03-07T12:00:00Z', 3);
    expect(got).toEqual(['2025-03-08T07:45:00Z', '2025-03-09T07:00:00Z', '2025-03-10T06:45:00Z']);
    expect(Date.parse(got[1])).toBeGreaterThanOrEqual(Date.parse('2025-03-09T07:00:00Z'));
    expect(Date.parse(got[1])).toBeLessThanOrEqual(Date.parse('2025-03-09T07:45:00Z'));
    expect(formatLocalIso(new Date(got[1]), NY)).toBe('2025-03-09T03:00:00-04:00');
  });

  it('30 1 * * * in New York across fall-back: one fire, at the first 01:30', () => {
    const got = fires('30 1 * * *', NY, '2025-11-01T12:00:00Z', 3);
    expect(got).toEqual(['2025-11-02T05:30:00Z', '2025-11-03T06:30:00Z', '2025-11-04T06:30:00Z']);
    expect(got.filter((d) => d.startsWith('2025-11-02'))).toEqual(['2025-11-02T05:30:00Z']);
  });

  it('0 0 1 * 1 in UTC: day-of-month OR day-of-week', () => {
    expect(fires('0 0 1 * 1', 'UTC', '2026-11-24T00:00:00Z', 3)).toEqual([
      '2026-11-30T00:00:00Z',
      '2026-12-01T00:00:00Z',
      '2026-12-07T00:00:00Z',
    ]);
  });

  it('*/10 * * * * * (seconds first) fires every 10 s', () => {
    const got = fires('*/10 * * * * *', 'UTC', '2026-11-24T00:00:00Z', 9);
    expect(got[0]).toBe('2026-11-24T00:00:10Z');
    expect(got[8]).toBe('2026-11-24T00:01:30Z');
    expect(gaps(got)).toEqual(Array(8).fill(10));
  });
});

describe('basic planning', () => {
  it('is strictly after `after`, also with milliseconds', () => {
    expect(fires('0 2 * * *', 'UTC', '2026-01-01T02:00:00Z', 1)).toEqual(['2026-01-02T02:00:00Z']);
    expect(fires('0 2 * * *', 'UTC', '2026-01-01T01:59:59.999Z', 1)).toEqual(['2026-01-01T02:00:00Z']);
    expect(fires('*/10 * * * * *', 'UTC', '2026-01-01T00:00:09.500Z', 1)).toEqual(['2026-01-01T00:00:10Z']);
  });

  it('handles count 0 and rejects bad arguments', () => {
    expect(nextFires(parseCron('* * * * *'), 'UTC', new Date(0), 0)).toEqual([]);
    expect(() => nextFires(parseCron('* * * * *'), 'Mars/Olympus', new Date(0), 1)).toThrow('unknown time zone "Mars/Olympus"');
    expect(() => nextFires(parseCron('* * * * *'), 'UTC', new Date(NaN), 1)).toThrow(/valid Date/);
    expect(() => nextFires(parseCron('* * * * *'), 'UTC', new Date(0), -1)).toThrow(/count/);
  });

  it('AND-s day fields when one starts with "*" (Vixie DOM_STAR/DOW_STAR)', () => {
    // Odd days (*/2 from 1) that are also Mondays.
    const got = nextFires(parseCron('0 0 */2 * 1'), 'UTC', new Date('2026-01-01T00:00:00Z'), 6);
    expect(got).toHaveLength(6);
    for (const d of got) {
      expect(d.getUTCDay()).toBe(1);
      expect(d.getUTCDate() % 2).toBe(1);
    }
    expect(iso(got[0])).toBe('2026-01-05T00:00:00Z');
  });

  it('understands names and macros', () => {
    expect(fires('0 9 * * MON-FRI', 'UTC', '2026-11-27T12:00:00Z', 2)).toEqual(['2026-11-30T09:00:00Z', '2026-12-01T09:00:00Z']);
    expect(fires('@weekly', 'UTC', '2026-11-24T00:00:00Z', 2)).toEqual(['2026-11-29T00:00:00Z', '2026-12-06T00:00:00Z']);
    expect(fires('@monthly', 'UTC', '2026-11-24T00:00:00Z', 2)).toEqual(['2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z']);
    expect(fires('@yearly', 'Asia/Seoul', '2026-11-24T00:00:00Z', 1)).toEqual(['2026-12-31T15:00:00Z']);
    expect(fires('@hourly', 'UTC', '2026-11-24T00:30:00Z', 2)).toEqual(['2026-11-24T01:00:00Z', '2026-11-24T02:00:00Z']);
    expect(fires('0 0 1 JAN,jul *', 'UTC', '2026-11-24T00:00:00Z', 2)).toEqual(['2027-01-01T00:00:00Z', '2027-07-01T00:00:00Z']);
  });

  it('Asia/Kolkata (+05:30, no DST) keeps a 24 h rhythm all year', () => {
    const got = fires('30 2 * * *', 'Asia/Kolkata', '2025-01-01T00:00:00Z', 366);
    expect(got[0]).toBe('2025-01-01T21:00:00Z');
    expect(new Set(gaps(got))).toEqual(new Set([86400]));
    expect(formatLocalIso(new Date(got[0]), 'Asia/Kolkata')).toBe('2025-01-02T02:30:00+05:30');
  });
});

describe('spring forward (gap)', () => {
  it('fires a fixed-time gap job at the transition, strictly-after respected', () => {
    expect(fires('45 2 * * *', NY, '2025-03-09T06:59:59.500Z', 1)).toEqual(['2025-03-09T07:00:00Z']);
    expect(fires('45 2 * * *', NY, '2025-03-09T07:00:00Z', 1)).toEqual(['2025-03-10T06:45:00Z']);
    expect(local('0 30 2 * * *', NY, '2025-03-09T00:00:00Z', 1)).toEqual(['2025-03-09T03:00:00-04:00']);
  });

  it('collapses several fixed-time gap matches of one day into one fire', () => {
    // Vixie would run the job four times right after the jump; we plan one fire at 03:00 EDT.
    expect(fires('0,15,30,45 2 * * *', NY, '2025-03-09T00:00:00Z', 3)).toEqual([
      '2025-03-09T07:00:00Z',
      '2025-03-10T06:00:00Z',
      '2025-03-10T06:15:00Z',
    ]);
    // 02:00 (gap) and the real 03:00 coincide at 07:00Z: one fire.
    expect(local('0 1-3 * * *', NY, '2025-03-09T05:00:00Z', 3)).toEqual([
      '2025-03-09T01:00:00-05:00',
      '2025-03-09T03:00:00-04:00',
      '2025-03-10T01:00:00-04:00',
    ]);
  });

  it('wildcard jobs skip the gap instead of catching up', () => {
    // '*/15 2' has a '*' minute field (Vixie MIN_STAR): nothing on 2025-03-09.
    expect(fires('*/15 2 * * *', NY, '2025-03-09T00:00:00Z', 1)).toEqual(['2025-03-10T06:00:00Z']);
    expect(local('30 * * * *', NY, '2025-03-09T05:00:00Z', 3)).toEqual([
      '2025-03-09T00:30:00-05:00',
      '2025-03-09T01:30:00-05:00',
      '2025-03-09T03:30:00-04:00',
    ]);
  });

  it('hourly and every-minute jobs continue on the new wall clock', () => {
    expect(fires('0 * * * *', NY, '2025-03-09T05:30:00Z', 3)).toEqual(['2025-03-09T06:00:00Z', '2025-03-09T07:00:00Z', '2025-03-09T08:00:00Z']);
    expect(local('* * * * *', NY, '2025-03-09T06:57:00Z', 4)).toEqual([
      '2025-03-09T01:58:00-05:00',
      '2025-03-09T01:59:00-05:00',
      '2025-03-09T03:00:00-04:00',
      '2025-03-09T03:01:00-04:00',
    ]);
  });

  it('Europe/Berlin 2025-03-30 (02:00 CET -> 03:00 CEST)', () => {
    expect(local('30 2 * * *', 'Europe/Berlin', '2025-03-29T12:00:00Z', 2)).toEqual([
      '2025-03-30T03:00:00+02:00',
      '2025-03-31T02:30:00+02:00',
    ]);
    expect(fires('30 2 * * *', 'Europe/Berlin', '2025-03-29T12:00:00Z', 1)).toEqual(['2025-03-30T01:00:00Z']);
  });

  it('Australia/Sydney 2025-10-05 (southern hemisphere, 02:00 AEST -> 03:00 AEDT)', () => {
    expect(fires('30 2 * * *', 'Australia/Sydney', '2025-10-04T00:00:00Z', 2)).toEqual(['2025-10-04T16:00:00Z', '2025-10-05T15:30:00Z']);
    expect(formatLocalIso(new Date('2025-01-15T00:00:00Z'), 'Australia/Sydney')).toMatch(/\+11:00$/);
    expect(formatLocalIso(new Date('2025-07-15T00:00:00Z'), 'Australia/Sydney')).toMatch(/\+10:00$/);
  });

  it('Australia/Lord_Howe 2025-10-05 (30-minute shift, 02:00 -> 02:30)', () => {
    expect(local('15 2 * * *', 'Australia/Lord_Howe', '2025-10-04T00:00:00Z', 2)).toEqual([
      '2025-10-05T02:30:00+11:00',
      '2025-10-06T02:15:00+11:00',
    ]);
    // 02:45 exists after a 30-minute jump.
    expect(fires('45 2 * * *', 'Australia/Lord_Howe', '2025-10-04T00:00:00Z', 1)).toEqual(['2025-10-04T15:45:00Z']);
    expect(gaps(fires('*/10 * * * *', 'Australia/Lord_Howe', '2025-10-04T15:00:00Z', 8))).toEqual(Array(7).fill(600));
  });
});

describe('fall back (overlap)', () => {
  it('fixed-time jobs fire at the first occurrence only', () => {
    expect(fires('0,30 1 * * *', NY, '2025-11-02T04:00:00Z', 3)).toEqual(['2025-11-02T05:00:00Z', '2025-11-02T05:30:00Z', '2025-11-03T06:00:00Z']);
    // 'after' inside the second pass: the 01:30 of that day already ran.
    expect(fires('30 1 * * *', NY, '2025-11-02T06:10:00Z', 1)).toEqual(['2025-11-03T06:30:00Z']);
    expect(local('0 1-3 * * *', NY, '2025-11-02T04:00:00Z', 3)).toEqual([
      '2025-11-02T01:00:00-04:00',
      '2025-11-02T02:00:00-05:00',
      '2025-11-02T03:00:00-05:00',
    ]);
  });

  it('wildcard jobs follow real time through both passes', () => {
    expect(local('0 * * * *', NY, '2025-11-02T03:30:00Z', 4)).toEqual([
      '2025-11-02T00:00:00-04:00',
      '2025-11-02T01:00:00-04:00',
      '2025-11-02T01:00:00-05:00',
      '2025-11-02T02:00:00-05:00',
    ]);
    // '*/15 1' (MIN_STAR) runs in both 01:xx hours.
    const got = fires('*/15 1 * * *', NY, '2025-11-02T04:50:00Z', 9);
    expect(got.slice(0, 8)).toEqual(['05:00', '05:15', '05:30', '05:45', '06:00', '06:15', '06:30', '06:45'].map((t) => `2025-11-02T${t}:00Z`));
    expect(got[8]).toBe('2025-11-03T06:00:00Z');
  });

  it('every-minute jobs have no duplicates and stay 60 s apart across the overlap', () => {
    const got = fires('* * * * *', NY, '2025-11-02T04:30:00Z', 180);
    expect(new Set(got).size).toBe(180);
    expect(new Set(gaps(got))).toEqual(new Set([60]));
  });

  it('Europe/Berlin 2025-10-26 (03:00 CEST -> 02:00 CET)', () => {
    expect(fires('30 2 * * *', 'Europe/Berlin', '2025-10-25T12:00:00Z', 2)).toEqual(['2025-10-26T00:30:00Z', '2025-10-27T01:30:00Z']);
    expect(new Set(gaps(fires('*/20 * * * *', 'Europe/Berlin', '2025-10-25T23:30:00Z', 9)))).toEqual(new Set([1200]));
  });

  it('Australia/Sydney 2025-04-06 (03:00 AEDT -> 02:00 AEST)', () => {
    expect(local('30 2 * * *', 'Australia/Sydney', '2025-04-05T00:00:00Z', 2)).toEqual([
      '2025-04-06T02:30:00+11:00',
      '2025-04-07T02:30:00+10:00',
    ]);
  });

  it('Australia/Lord_Howe 2025-04-06 (02:00 +11 -> 01:30 +10:30)', () => {
    expect(local('45 1 * * *', 'Australia/Lord_Howe', '2025-04-05T00:00:00Z', 2)).toEqual([
      '2025-04-06T01:45:00+11:00',
      '2025-04-07T01:45:00+10:30',
    ]);
    expect(local('*/30 * * * *', 'Australia/Lord_Howe', '2025-04-05T13:50:00Z', 4)).toEqual([
      '2025-04-06T01:00:00+11:00',
      '2025-04-06T01:30:00+11:00',
      '2025-04-06T01:30:00+10:30',
      '2025-04-06T02:00:00+10:30',
    ]);
  });
});

// Brazil had DST until 2019, with changes at midnight.
const saoPauloHasDst = formatLocalIso(new Date('2018-12-15T12:00:00Z'), 'America/Sao_Paulo').endsWith('-02:00');

describe.runIf(saoPauloHasDst)('America/Sao_Paulo history (DST changes at midnight)', () => {
  it('spring 2018-11-04: midnight does not exist, fires at 01:00 -02', () => {
    expect(local('0 0 * * *', 'America/Sao_Paulo', '2018-11-02T12:00:00Z', 3)).toEqual([
      '2018-11-03T00:00:00-03:00',
      '2018-11-04T01:00:00-02:00',
      '2018-11-05T00:00:00-02:00',
    ]);
  });

  it('fall 2019-02-17: 23:xx of 02-16 repeats across midnight', () => {
    expect(local('30 23 * * *', 'America/Sao_Paulo', '2019-02-15T12:00:00Z', 3)).toEqual([
      '2019-02-15T23:30:00-02:00',
      '2019-02-16T23:30:00-02:00',
      '2019-02-17T23:30:00-03:00',
    ]);
    // After the first 23:30 of 02-16 but in the repeated hour: the next fire is on 02-17.
    expect(fires('30 23 * * *', 'America/Sao_Paulo', '2019-02-17T02:10:00Z', 1)).toEqual(['2019-02-18T02:30:00Z']);
    // Wildcard: real hourly rhythm, the later local date 02-17 00:30 comes after the repeated 02-16 23:30.
    expect(local('30 * * * *', 'America/Sao_Paulo', '2019-02-17T00:00:00Z', 4)).toEqual([
      '2019-02-16T22:30:00-02:00',
      '2019-02-16T23:30:00-02:00',
      '2019-02-16T23:30:00-03:00',
      '2019-02-17T00:30:00-03:00',
    ]);
  });
});

// Reference: Vixie cron's main loop, one real minute at a time (5-field specs only).
// Wildcard jobs run when the current wall clock matches; fixed-time jobs run for every wall-clock
// minute not seen before (so skipped gap minutes run right after the jump, repeated ones never).
// `walls[i]` is the wall clock (as a naive UTC timestamp) at real minute fromMs + i minutes.
function vixieReference(spec: CronSpec, walls: number[], fromMs: number): string[] {
  const out: string[] = [];
  let seen = -Infinity;
  const matches = (naive: number): boolean => {
    const d = new Date(naive);
    if (!spec.minutes.includes(d.getUTCMinutes()) || !spec.hours.includes(d.getUTCHours())) return false;
    if (!spec.months.includes(d.getUTCMonth() + 1)) return false;
    const dom = spec.daysOfMonth.includes(d.getUTCDate());
    const dow = spec.daysOfWeek.includes(d.getUTCDay());
    return spec.domRestricted && spec.dowRestricted ? dom || dow : dom && dow;
  };
  for (let i = 0; i < walls.length; i++) {
    const t = fromMs + i * 60_000;
    const wall = walls[i];
    let fire = false;
    if (!spec.fixedTime) fire = matches(wall);
    else if (wall > seen) {
      for (let w = seen === -Infinity ? wall : seen + 60_000; w <= wall; w += 60_000) fire ||= matches(w);
      seen = wall;
    }
    if (fire) out.push(iso(new Date(t)));
  }
  return out;
}

describe('agrees with a minute-by-minute Vixie simulation around transitions', () => {
  const windows: Array<[string, string]> = [
    [NY, '2025-03-07T00:00:00Z'],
    [NY, '2025-10-31T00:00:00Z'],
    ['Europe/Berlin', '2025-03-28T00:00:00Z'],
    ['Europe/Berlin', '2025-10-24T00:00:00Z'],
    ['Australia/Sydney', '2025-04-03T00:00:00Z'],
    ['Australia/Sydney', '2025-10-02T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-04-03T00:00:00Z'],
    ['Australia/Lord_Howe', '2025-10-02T00:00:00Z'],
    ['Asia/Kolkata', '2025-03-07T00:00:00Z'],
    ...(saoPauloHasDst ? ([['America/Sao_Paulo', '2018-11-01T00:00:00Z'], ['America/Sao_Paulo', '2019-02-14T00:00:00Z']] as Array<[string, string]>) : []),
  ];
  const exprs = [
    '30 2 * * *', '45 1 * * *', '15 2 * * *', '0,15,30,45 2 * * *', '*/15 2 * * *', '0 * * * *', '*/7 * * * *',
    '30 * * * *', '0 1-3 * * *', '0 0 * * *', '30 23 * * *', '* 1 * * *', '5 2 * * 0', '0 2 1 * 0', '@daily',
  ];
  it.each(windows)('%s from %s', (tz, start) => {
    const fromMs = Date.parse(start);
    const toMs = fromMs + 5 * 86_400_000;
    const walls: number[] = [];
    for (let t = fromMs; t < toMs; t += 60_000) walls.push(t + offsetAt(tz, t));
    for (const expr of exprs) {
      const spec = parseCron(expr);
      const want = vixieReference(spec, walls, fromMs);
      const got = nextFires(spec, tz, new Date(fromMs - 1), want.length + 1).map(iso).filter((d) => Date.parse(d) < toMs);
      expect(got, `${expr} in ${tz}`).toEqual(want);
    }
  });
});

// How much work planning does, counted in zone lookups (ICU's formatToParts, the costly step of planning)
// rather than timed: a planner that stepped through days or seconds would make thousands of them.
describe('efficiency and bounds', () => {
  const lookups = <T>(plan: () => T): { got: T; lookups: number } => {
    const spy = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      return { got: plan(), lookups: spy.mock.calls.length };
    } finally {
      spy.mockRestore();
    }
  };
  const planned = (expr: string, tz: string, n: number) => lookups(() => fires(expr, tz, '2025-03-01T00:00:00Z', n));

  it('yearly, Feb 29 and 31st-of-month jobs skip non-matching days without looking them up', () => {
    const leap = planned('0 0 29 2 *', NY, 3);
    expect(leap.got).toEqual(['2028-02-29T05:00:00Z', '2032-02-29T05:00:00Z', '2036-02-29T05:00:00Z']);
    expect(leap.lookups).toBeLessThanOrEqual(10); // 11 years of days
    const thirtyFirst = planned('0 0 31 * *', 'Europe/Berlin', 12);
    expect(thirtyFirst.got[0]).toBe('2025-03-30T22:00:00Z'); // 2025-03-31T00:00+02:00
    expect(thirtyFirst.got).toHaveLength(12);
    expect(thirtyFirst.lookups).toBeLessThanOrEqual(60); // 2 a matching day, ~20 to find each of 2 DST changes
    const yearly = planned('@yearly', 'Australia/Lord_Howe', 10);
    expect(yearly.got).toHaveLength(10);
    expect(yearly.lookups).toBeLessThanOrEqual(40);
  });

  it('finds rare AND combinations (Feb 29 that is a Sunday)', () => {
    const r = planned('0 0 29 2 */7', 'UTC', 2);
    expect(r.got).toEqual(['2032-02-29T00:00:00Z', '2060-02-29T00:00:00Z']);
    expect(r.lookups).toBeLessThanOrEqual(10); // 35 years of days
  });

  it('returns nothing for a spec that never fires, after the one lookup of where it starts', () => {
    expect(() => parseCron('0 0 30 2 *')).toThrow(/never fires/);
    const never: CronSpec = { ...parseCron('0 0 1 2 *'), daysOfMonth: [30] };
    const r = lookups(() => nextFires(never, NY, new Date('2025-01-01T00:00:00Z'), 3));
    expect(r.got).toEqual([]);
    expect(r.lookups).toBe(1);
  });

  it('serves many sub-minute fires without stepping through time', () => {
    const r = planned('* * * * * *', NY, 5000);
    expect(new Set(gaps(r.got))).toEqual(new Set([1]));
    expect(r.lookups).toBeLessThanOrEqual(10); // not one a fire
  });
});

describe('time-zone helpers', () => {
  it('isValidTimeZone', () => {
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Mars/Olympus')).toBe(false);
    expect(isValidTimeZone('')).toBe(false);
  });

  it('formatLocalIso', () => {
    expect(formatLocalIso(new Date('2025-03-09T07:00:00Z'), NY)).toBe('2025-03-09T03:00:00-04:00');
    expect(formatLocalIso(new Date('2025-03-09T06:59:59Z'), NY)).toBe('2025-03-09T01:59:59-05:00');
    expect(formatLocalIso(new Date('2026-11-24T17:00:00Z'), 'Asia/Seoul')).toBe('2026-11-25T02:00:00+09:00');
    expect(formatLocalIso(new Date('2026-11-24T17:00:00Z'), 'UTC')).toBe('2026-11-24T17:00:00+00:00');
    expect(formatLocalIso(new Date('2025-04-05T15:00:00.250Z'), 'Australia/Lord_Howe')).toBe('2025-04-06T01:30:00.250+10:30');
  });
});
