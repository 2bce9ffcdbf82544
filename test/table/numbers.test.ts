import { describe, expect, it } from 'vitest';
import { INVALID, isMissingText, MISSING, NA_VALUES, OK, parseNumberCell, trimCell, type CellStatus } from '../../src/table/numbers.js';

function cell(raw: string): { status: CellStatus; value: number } {
  const out = { status: OK as CellStatus };
  const value = parseNumberCell(raw, out);
  return { status: out.status, value };
}

describe('parseNumberCell: numbers', () => {
  it.each([
    ['0', 0],
    ['42', 42],
    ['-7', -7],
    ['+3', 3],
    ['3.25', 3.25],
    ['.5', 0.5],
    ['-.5', -0.5],
    ['5.', 5],
    ['1e5', 100000],
    ['1E5', 100000],
    ['1e+5', 100000],
    ['2.5e-3', 0.0025],
    ['00012', 12],
    ['-0', -0],
    ['123456789012345678901234567890', 1.2345678901234568e29],
  ])('%j is the number %d', (raw, value) => {
    const c = cell(raw);
    expect(c.status).toBe(OK);
    expect(c.value).toBe(value);
  });

  it('rounds decimal text to the nearest double, like Number()', () => {
    expect(cell('0.1').value).toBe(0.1);
    expect(cell('9007199254740993').value).toBe(9007199254740992);
    expect(cell('1.7976931348623157e308').value).toBe(Number.MAX_VALUE);
    expect(cell('5e-324').value).toBe(Number.MIN_VALUE);
  });

  it('keeps -0 distinct from 0', () => {
    expect(Object.is(cell('-0').value, -0)).toBe(true);
    expect(Object.is(cell('0').value, 0)).toBe(true);
  });

  it.each(['inf', 'Inf', 'INF', '+inf', 'infinity', 'Infinity', '+Infinity', 'INFINITY'])('%j is +Infinity', (raw) => {
    expect(cell(raw)).toEqual({ status: OK, value: Infinity });
  });

  it.each(['-inf', '-Inf', '-Infinity', '-INFINITY'])('%j is -Infinity', (raw) => {
    expect(cell(raw)).toEqual({ status: OK, value: -Infinity });
  });

  it('an exponent beyond the double range overflows to an infinity (still OK) or underflows to 0', () => {
    expect(cell('1e400')).toEqual({ status: OK, value: Infinity });
    expect(cell('-1e400')).toEqual({ status: OK, value: -Infinity });
    expect(cell('1e-400')).toEqual({ status: OK, value: 0 });
  });
});

describe('parseNumberCell: padding', () => {
  it.each([' 5', '5 ', '  5  ', '\t5', '5\t', ' \t5\t '])('spaces and tabs around %j are ignored', (raw) => {
    expect(cell(raw)).toEqual({ status: OK, value: 5 });
  });

  it.each([' -inf ', '\t1e3\t'])('padding around %j is ignored', (raw) => {
    expect(cell(raw).status).toBe(OK);
  });

  it.each(['5\r', '\r5', '5\n', '\u00a05', '5\u00a0', '\u20035'])('other whitespace %j is data: invalid', (raw) => {
    expect(cell(raw).status).toBe(INVALID);
  });

  it('spaces inside a number make it invalid', () => {
    expect(cell('1 000').status).toBe(INVALID);
    expect(cell('- 5').status).toBe(INVALID);
  });
});

describe('parseNumberCell: missing', () => {
  it('the empty cell and a cell of only spaces/tabs are missing', () => {
    for (const raw of ['', ' ', '   ', '\t', ' \t ']) {
      const c = cell(raw);
      expect(c.status, JSON.stringify(raw)).toBe(MISSING);
      expect(Number.isNaN(c.value)).toBe(true);
    }
  });

  it('pandas default NA strings are missing', () => {
    const pandas = ['#N/A', '#N/A N/A', '#NA', '-1.#IND', '-1.#QNAN', '-NaN', '-nan', '1.#IND', '1.#QNAN', '<NA>', 'N/A', 'NA', 'NULL', 'NaN', 'None', 'n/a', 'nan', 'null'];
    for (const raw of pandas) {
      expect(cell(raw).status, raw).toBe(MISSING);
      expect(cell(` ${raw}\t`).status, raw).toBe(MISSING);
    }
    expect([...NA_VALUES].sort()).toEqual(['', ...pandas].sort());
  });

  it('NA strings match exactly (case matters, as in pandas)', () => {
    for (const raw of ['na', 'Na', 'NAN', 'nAn', 'none', 'NONE', 'Null', 'nil', '+nan', 'N A', '"NA"']) {
      expect(cell(raw).status, raw).toBe(INVALID);
    }
  });

  it('isMissingText agrees with parseNumberCell', () => {
    for (const raw of ['', '  ', 'NA', ' null ', '#N/A N/A', 'x', '0', 'inf', 'na']) {
      expect(isMissingText(raw), JSON.stringify(raw)).toBe(cell(raw).status === MISSING);
    }
  });
});

describe('parseNumberCell: invalid', () => {
  it.each([
    '0x10', // hex
    '0X1F',
    '0b101',
    '0o17',
    '1_000', // JS numeric separators
    '1,5', // decimal comma
    '1,000',
    'abc',
    '.',
    '-',
    '+',
    'e5',
    '1e',
    '1e+',
    '1.2.3',
    '--5',
    '+-5',
    '5-',
    '1e5.5',
    '$5',
    '5%',
    '١٢', // non-ASCII digits
    'infinit',
    'infinityy',
    '-+inf',
    'true',
    '"5"',
  ])('%j is invalid', (raw) => {
    const c = cell(raw);
    expect(c.status).toBe(INVALID);
    expect(Number.isNaN(c.value)).toBe(true);
  });
});

describe('parseNumberCell: status object', () => {
  it('overwrites the status on every call (one object reused across cells)', () => {
    const out = { status: OK as CellStatus };
    parseNumberCell('x', out);
    expect(out.status).toBe(INVALID);
    parseNumberCell('', out);
    expect(out.status).toBe(MISSING);
    expect(parseNumberCell('2', out)).toBe(2);
    expect(out.status).toBe(OK);
  });

  it('the three statuses are distinct', () => {
    expect(new Set([OK, MISSING, INVALID]).size).toBe(3);
  });
});

describe('trimCell', () => {
  it('strips only spaces and tabs at both ends', () => {
    expect(trimCell('  a b\t')).toBe('a b');
    expect(trimCell('\t\t')).toBe('');
    expect(trimCell('a')).toBe('a');
    expect(trimCell('\ra\n')).toBe('\ra\n');
    expect(trimCell('\u00a0a')).toBe('\u00a0a');
  });

  it('returns the same string when nothing is trimmed', () => {
    const s = 'abc';
    expect(trimCell(s)).toBe(s);
  });
});
