import { describe, expect, it } from 'vitest';
import { copyText } from '../../../src/db/postgres/copy-text.js';
import { bools, chunkOf, f32Of, f64, i64, packed, texts } from '../../support/result-chunks.js';

describe('COPY text', () => {
  it('numbers each row, separates columns by tabs, escapes what COPY reads specially', () => {
    const chunk = chunkOf(texts('t', ['a\tb', 'c\nd\re\\f', '\\N', '']), packed('p', ['', 'x', 'é🙂', '']), f64('f', [0.1, NaN, -Infinity, -0]), i64('i', [1n, -(2n ** 63n), 0n, 9007199254740993n]), bools('b', [true, false, true, false]));
    expect(copyText(chunk, 7, [false, true, false, false, false]).toString()).toBe(
      ['7\ta\\tb\t\\N\t0.1\t1\tt', '8\tc\\nd\\re\\\\f\tx\t\\N\t-9223372036854775808\tf', '9\t\\\\N\té🙂\t-Infinity\t0\tt', '10\t\t\\N\t-0\t9007199254740993\tf', ''].join('\n'),
    );
  });

  it('reads the column of a [N, K] output at its offset', () => {
    const chunk = chunkOf(f32Of('p1', [[0.25, 0.75], [0.5, 0.5]], 1));
    expect(copyText(chunk, 1, [false]).toString()).toBe('1\t0.75\n2\t0.5\n');
  });

  it('is empty for no rows', () => {
    expect(copyText({ rows: 0, columns: [] }, 1, []).length).toBe(0);
  });
});
