// Data inside messages: short, and unable to act on a terminal or a log reader.
import { describe, expect, it } from 'vitest';
import { quoteCell, shownName, shownNames } from '../../src/util/quote.js';

describe('quoteCell', () => {
  it('quotes a plain value as it is', () => {
    expect(quoteCell('four')).toBe("'four'");
    expect(quoteCell('')).toBe("''");
  });

  it('cuts a long value to 20 characters with "…": no key or token (32 characters and more) is shown whole', () => {
    expect(quoteCell('x'.repeat(20))).toBe(`'${'x'.repeat(20)}'`);
    expect(quoteCell('-----BEGIN OPENSSH PRIVATE KEY-----b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ')).toBe("'-----BEGIN OPENSSH P…'");
    expect(quoteCell('ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789')).toBe("'ghp_AbCdEfGhIjKlMnOp…'");
  });

  it('does not split a surrogate pair when cutting', () => {
    const q = quoteCell(`${'x'.repeat(19)}😀tail`);
    expect(q).toBe(`'${'x'.repeat(19)}…'`);
  });

  it('writes values with control, bidirectional or separator characters as JSON strings with those escaped', () => {
    expect(quoteCell('a\nb')).toBe('"a\\nb"');
    expect(quoteCell('\u001b[31mred')).toBe('"\\u001b[31mred"');
    expect(quoteCell('abc\u202edcba')).toBe('"abc\\u202edcba"');
    expect(quoteCell('\u0085x\u2028')).toBe('"\\u0085x\\u2028"');
    expect(quoteCell('\ud800x')).toBe('"\\ud800x"');
    expect(quoteCell('say "hi"\t')).toBe('"say \\"hi\\"\\t"');
  });
});

describe('shownNames', () => {
  it('lists plain names as they are, and quotes long or strange ones', () => {
    expect(shownNames(['a', 'b c', 'x_1'])).toBe('a, b c, x_1');
    expect(shownName('n'.repeat(21))).toBe(`'${'n'.repeat(20)}…'`);
    expect(shownName('ghp_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789')).toBe("'ghp_AbCdEfGhIjKlMnOp…'");
    expect(shownName('a, b')).toBe("'a, b'");
    expect(shownName('\u0000PK')).toBe('"\\u0000PK"');
  });

  it('shows the first 12 names, then "…"', () => {
    const names = Array.from({ length: 20 }, (_, i) => `c${i}`);
    expect(shownNames(names)).toBe(`${names.slice(0, 12).join(', ')}, …`);
  });
});
