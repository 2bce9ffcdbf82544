import { describe, expect, it } from 'vitest';
import { cellText, isoDate, isoTimestamp, kindOf } from '../../../src/db/postgres/values.js';

describe('PostgreSQL text → ISO 8601', () => {
  it.each([
    ['2001-01-14 21:55:00', '2001-01-14T21:55:00'],
    ['2001-01-14 21:55:00.5', '2001-01-14T21:55:00.500000'],
    ['2001-01-14 21:55:00.000001+00', '2001-01-14T21:55:00.000001Z'],
    ['2001-01-14 21:55:00+05:30', '2001-01-14T21:55:00+05:30'],
    ['2001-01-14 21:55:00-08', '2001-01-14T21:55:00-08:00'],
    ['1900-01-01 00:00:00+00:09:21', '1900-01-01T00:00:00+00:09:21'],
    ['0001-01-01 00:00:00 BC', '0000-01-01T00:00:00'],
    ['0044-03-15 12:00:00+00 BC', '-0043-03-15T12:00:00Z'],
    ['10000-01-01 00:00:00', '+10000-01-01T00:00:00'],
    ['infinity', 'infinity'],
    ['-infinity', '-infinity'],
  ])('timestamp %s → %s', (pg, iso) => {
    expect(isoTimestamp(pg)).toBe(iso);
  });

  it('dates', () => {
    expect(isoDate('2024-02-29')).toBe('2024-02-29');
    expect(isoDate('0001-12-31 BC')).toBe('0000-12-31');
    expect(isoDate('infinity')).toBe('infinity');
  });
});

describe('cell text by kind', () => {
  it('shows what a text cell holds', () => {
    expect(cellText(kindOf(701), 'NaN')).toBe('');
    expect(cellText(kindOf(1700), '-Infinity')).toBe('-inf');
    expect(cellText(kindOf(16), 'f')).toBe('false');
    expect(cellText(kindOf(1184), '2001-01-14 21:55:00+00')).toBe('2001-01-14T21:55:00Z');
    expect(cellText(kindOf(2950), 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11')).toBe('a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11');
    expect(cellText(kindOf(25), null)).toBe('');
  });
});
