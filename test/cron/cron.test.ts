import { describe, expect, it } from 'vitest';
import { parseCron, validateCron } from '../../src/cron/cron.js';

const range = (lo: number, hi: number, step = 1): number[] => {
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
};

describe('parseCron: fields', () => {
  it('parses a 5-field expression, seconds fixed at 0', () => {
    const s = parseCron('0 2 * * *');
    expect(s.hasSeconds).toBe(false);
    expect(s.seconds).toEqual([0]);
    expect(s.minutes).toEqual([0]);
    expect(s.hours).toEqual([2]);
    expect(s.daysOfMonth).toEqual(range(1, 31));
    expect(s.months).toEqual(range(1, 12));
    expect(s.daysOfWeek).toEqual(range(0, 6));
    expect(s.domRestricted).toBe(false);
    expect(s.dowRestricted).toBe(false);
    expect(s.fixedTime).toBe(true);
    expect(s.source).toBe('0 2 * * *');
  });

  it('parses a 6-field expression with seconds first', () => {
    const s = parseCron('*/10 * * * * *');
    expect(s.hasSeconds).toBe(true);
    expect(s.seconds).toEqual([0, 10, 20, 30, 40, 50]);
    expect(s.minutes).toEqual(range(0, 59));
    expect(s.fixedTime).toBe(false);
    expect(parseCron('15 30 2 * * *')).toMatchObject({ seconds: [15], minutes: [30], hours: [2], fixedTime: true });
  });

  it('handles lists, ranges, steps and a/n', () => {
    const s = parseCron('1,5-7,20-40/10,50 */6 1-10/3 */4 1/2');
    expect(s.minutes).toEqual([1, 5, 6, 7, 20, 30, 40, 50]);
    expect(s.hours).toEqual([0, 6, 12, 18]);
    expect(s.daysOfMonth).toEqual([1, 4, 7, 10]);
    expect(s.months).toEqual([1, 5, 9]);
    // 1/2 on day-of-week runs 1..7 -> Mon, Wed, Fri, Sun(7 = 0)
    expect(s.daysOfWeek).toEqual([0, 1, 3, 5]);
    expect(parseCron('5/20 * * * *').minutes).toEqual([5, 25, 45]);
    expect(parseCron('3,1,3,2 * * * *').minutes).toEqual([1, 2, 3]);
  });

  it('accepts month and day names in any case, also in ranges', () => {
    const s = parseCron('0 0 * jan-Mar,DEC mon-FRI');
    expect(s.months).toEqual([1, 2, 3, 12]);
    expect(s.daysOfWeek).toEqual([1, 2, 3, 4, 5]);
    expect(parseCron('0 0 * * sun,Sat').daysOfWeek).toEqual([0, 6]);
    expect(parseCron('0 0 * * MON-FRI/2').daysOfWeek).toEqual([1, 3, 5]);
  });

  it('treats day-of-week 7 as Sunday', () => {
    expect(parseCron('0 0 * * 7').daysOfWeek).toEqual([0]);
    expect(parseCron('0 0 * * 5-7').daysOfWeek).toEqual([0, 5, 6]);
    expect(parseCron('0 0 * * 0,7').daysOfWeek).toEqual([0]);
  });

  it('records dom/dow restriction like Vixie (first character "*" = unrestricted)', () => {
    expect(parseCron('0 0 1 * 1')).toMatchObject({ domRestricted: true, dowRestricted: true });
    expect(parseCron('0 0 1 * *')).toMatchObject({ domRestricted: true, dowRestricted: false });
    expect(parseCron('0 0 * * 1')).toMatchObject({ domRestricted: false, dowRestricted: true });
    expect(parseCron('0 0 */1 * */1')).toMatchObject({ domRestricted: false, dowRestricted: false });
    // Vixie: '*/2' still starts with '*', so it does not trigger the OR rule.
    expect(parseCron('0 0 */2 * 1')).toMatchObject({ domRestricted: false, dowRestricted: true });
    // A full explicit range is restricted in Vixie's sense (it does not start with '*').
    expect(parseCron('0 0 1-31 * 1').domRestricted).toBe(true);
  });

  it('classifies fixed-time vs wildcard jobs by the second/minute/hour fields', () => {
    expect(parseCron('30 2 * * *').fixedTime).toBe(true);
    expect(parseCron('0,15,30,45 1-3 * * *').fixedTime).toBe(true);
    expect(parseCron('*/15 2 * * *').fixedTime).toBe(false);
    expect(parseCron('0 * * * *').fixedTime).toBe(false);
    expect(parseCron('* 30 2 * * *').fixedTime).toBe(false);
  });
});

describe('parseCron: macros', () => {
  const cases: Array<[string, string]> = [
    ['@yearly', '0 0 1 1 *'],
    ['@annually', '0 0 1 1 *'],
    ['@monthly', '0 0 1 * *'],
    ['@weekly', '0 0 * * 0'],
    ['@daily', '0 0 * * *'],
    ['@midnight', '0 0 * * *'],
    ['@hourly', '0 * * * *'],
  ];
  it.each(cases)('%s expands to %s', (macro, expansion) => {
    const { source: _a, ...fromMacro } = parseCron(macro);
    const { source: _b, ...expanded } = parseCron(expansion);
    expect(fromMacro).toEqual(expanded);
  });

  it('is case-insensitive and keeps the source text', () => {
    expect(parseCron(' @DAILY ').source).toBe('@DAILY');
    expect(parseCron('@Hourly').minutes).toEqual([0]);
  });
});

describe('validateCron', () => {
  it('returns no problems for valid expressions', () => {
    for (const e of ['* * * * *', '0 2 * * *', '*/10 * * * * *', '@weekly', '0 0 29 2 *', '59 23 31 12 SAT']) {
      expect(validateCron(e), e).toEqual([]);
    }
  });

  it('reports an out-of-range hour with its position and name', () => {
    expect(validateCron('0 24 * * *')).toEqual(['field 2 (hour) value 24 is out of range 0-23']);
    // Six fields: the hour is the third field.
    expect(validateCron('0 0 24 * * *')).toEqual(['field 3 (hour) value 24 is out of range 0-23']);
  });

  it('reports every problem at once', () => {
    expect(validateCron('60 24 0 13 8')).toEqual([
      'field 1 (minute) value 60 is out of range 0-59',
      'field 2 (hour) value 24 is out of range 0-23',
      'field 3 (day-of-month) value 0 is out of range 1-31',
      'field 4 (month) value 13 is out of range 1-12',
      'field 5 (day-of-week) value 8 is out of range 0-7',
    ]);
    expect(validateCron('61,62 * * * *')).toHaveLength(2);
  });

  it('reports malformed items', () => {
    expect(validateCron('* * *')).toEqual([
      'expected 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), got 3',
    ]);
    expect(validateCron('')).toEqual(['cron expression is empty']);
    expect(validateCron('x * * * *')).toEqual(['field 1 (minute) value "x" is not a number']);
    expect(validateCron('0 0 * FOO *')).toEqual(['field 4 (month) value "FOO" is not a number or month name (JAN-DEC)']);
    expect(validateCron('0 0 * * MONDAY')).toEqual([
      'field 5 (day-of-week) value "MONDAY" is not a number or day name (SUN-SAT)',
    ]);
    expect(validateCron('0 0 * MON *')).toEqual(['field 4 (month) value "MON" is not a number or month name (JAN-DEC)']);
    expect(validateCron('0 5-3 * * *')).toEqual(['field 2 (hour) range 5-3 is reversed (start 5 is after end 3)']);
    expect(validateCron('*/0 * * * *')).toEqual(['field 1 (minute) step "0" must be an integer from 1 to 60']);
    expect(validateCron('*/x * * * *')).toEqual(['field 1 (minute) step "x" must be an integer from 1 to 60']);
    expect(validateCron('1,,2 * * * *')).toEqual(['field 1 (minute) has an empty list item in "1,,2"']);
    expect(validateCron('1/2/3 * * * *')).toEqual(['field 1 (minute) item "1/2/3" has more than one "/"']);
    expect(validateCron('1-2-3 * * * *')).toEqual(['field 1 (minute) range "1-2-3" has more than one "-"']);
    expect(validateCron('0 0 L * *')).toEqual(['field 3 (day-of-month) value "L" is not a number']);
    expect(validateCron('0 0 ? * *')).toEqual(['field 3 (day-of-month) value "?" is not a number']);
    expect(validateCron('-1 * * * *')).toHaveLength(1);
  });

  it('rejects @reboot and unknown macros', () => {
    expect(validateCron('@reboot')).toEqual(['@reboot is not supported: it has no fire times to plan']);
    expect(validateCron('@fortnightly')[0]).toMatch(/^unknown macro "@fortnightly" \(expected one of @yearly, /);
  });

  it('says "never fires" when no calendar date can match', () => {
    expect(validateCron('0 0 30 2 *')).toEqual([
      'never fires: no calendar date matches day-of-month "30", month "2" and day-of-week "*"',
    ]);
    expect(validateCron('0 0 31 4,6,9,11 *')[0]).toMatch(/^never fires/);
    // AND rule (dow starts with '*'): Feb 30 on a Sunday does not exist either.
    expect(validateCron('0 0 30 2 */7')[0]).toMatch(/^never fires/);
    // OR rule: Feb 30 never exists but Mondays in February do.
    expect(validateCron('0 0 30 2 1')).toEqual([]);
    // Feb 29 exists in leap years; Feb 29 that is a Sunday only every 28 years, still valid.
    expect(validateCron('0 0 29 2 *')).toEqual([]);
    expect(validateCron('0 0 29 2 */7')).toEqual([]);
  });
});

describe('parseCron errors', () => {
  it('throws with the expression and the first problem', () => {
    expect(() => parseCron('0 24 * * *')).toThrow('invalid cron expression "0 24 * * *": field 2 (hour) value 24 is out of range 0-23');
    expect(() => parseCron('60 24 * * *')).toThrow(/field 1 \(minute\) value 60 is out of range 0-59 \(and 1 more problem\)$/);
    expect(() => parseCron('0 0 30 2 *')).toThrow(/never fires/);
  });
});
