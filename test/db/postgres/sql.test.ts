import { describe, expect, it } from 'vitest';
import { parseTableName, quoteIdent, readStatement } from '../../../src/db/postgres/sql.js';

describe('names', () => {
  it('quotes any identifier, doubling quotes', () => {
    expect(quoteIdent('a')).toBe('"a"');
    expect(quoteIdent('we"ird; drop table x')).toBe('"we""ird; drop table x"');
    expect(() => quoteIdent('a\0b')).toThrow('holds a NUL character');
  });

  it.each([
    ['scores', undefined, 'scores', '"scores"'],
    ['Analytics.Churn_Scores', 'analytics', 'churn_scores', '"analytics"."churn_scores"'],
    ['"Analytics"."My ""Table"""', 'Analytics', 'My "Table"', '"Analytics"."My ""Table"""'],
    ['"a.b".c', 'a.b', 'c', '"a.b"."c"'],
  ])('reads %s as PostgreSQL does', (raw, schema, name, sql) => {
    expect(parseTableName(raw)).toEqual({ schema, name, display: raw, sql });
  });

  it.each([
    ['a.b.c', 'has more than two parts'],
    ['my table', "has a part that needs quotes ('my table')"],
    ['a.', 'has an empty part'],
    ['"a', 'has an unclosed quote'],
    ['"a"b', 'has text after a quoted part'],
    ['x;drop table y', "has a part that needs quotes ('x;drop table y')"],
  ])('refuses %s', (raw, why) => {
    expect(() => parseTableName(raw)).toThrow(`table name '${raw}' ${why}`);
  });
});

describe('the statement that reads a query', () => {
  it('is the query itself without a watermark or shard (its ORDER BY holds)', () => {
    expect(readStatement('select a from t order by a;  \n')).toEqual({ text: 'select a from t order by a', values: [], queryStart: 0, queryLength: 26, query: 'select a from t order by a' });
  });

  it('wraps the query for a watermark: the value bound as $1, ordered by the column; no value on the first run', () => {
    const q = 'select * from t -- all of it';
    expect(readStatement(q, { watermark: { column: 'Updated At', after: '2024-01-01' } })).toMatchObject({
      text: `select * from (\n${q}\n) as q where q."Updated At" > $1 order by q."Updated At"`,
      values: ['2024-01-01'],
      queryStart: 16,
    });
    expect(readStatement(q, { watermark: { column: 'u' } }).text).toBe(`select * from (\n${q}\n) as q where q."u" is not null order by q."u"`);
  });

  it('selects a shard by a hash of the column, with bound numbers', () => {
    expect(readStatement('select 1 as id', { shard: { column: 'id', index: 2, count: 4 } })).toMatchObject({
      text: 'select * from (\nselect 1 as id\n) as q where mod(hashtext(q."id"::text)::bigint + 2147483648, $1::bigint) = $2::bigint',
      values: ['4', '2'],
    });
  });
});
