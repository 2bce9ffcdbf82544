// Reading queries from the suite's real PostgreSQL server into chunks: every type of the table in
// src/db/postgres/values.ts with NULLs, the watermark across reads, shards, limits, leaving early, the query's
// describe and explain, and a million rows in flat memory.
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/postgres/index.js';
import type { Database, QueryReadOptions } from '../../../src/db/types.js';
import type { ColumnNeed, SourceChunk } from '../../../src/table/chunk.js';
import { INVALID, MISSING, OK } from '../../../src/table/numbers.js';
import { featurize } from '../../../src/pipeline/featurize.js';
import type { FeedType } from '../../../src/pipeline/plan.js';
import { oneColumnPlan, type Missing } from '../../support/plans.js';
import { plain, type PlainChunk } from '../../support/csv.js';
import { failure } from '../../support/failure.js';
import { testDatabase, type TestDatabase } from '../../support/pg.js';

let db: TestDatabase;
let pgdb: Database;

beforeAll(async () => {
  db = await testDatabase();
  pgdb = openDatabase(db.url, { applicationName: 'sb-reader-test' });
});

const both = (...names: string[]): ColumnNeed[] => names.map((name) => ({ name, number: true, text: true }));

async function readAll(query: string, o: Partial<QueryReadOptions> = {}, database = pgdb) {
  const reader = database.readQuery(query, { needs: [], batchSize: 1000, ...o });
  const chunks: PlainChunk[] = [];
  for await (const c of reader.chunks) chunks.push(plain(c));
  return { chunks, reader };
}

describe('the PostgreSQL types', () => {
  const COLUMNS = ['i2', 'i4', 'i8', 'num', 'f4', 'f8', 'tx', 'vc', 'ch', 'b', 'd', 'ts', 'tz', 'j', 'jb', 'u', 'iv', 'arr'];

  beforeAll(async () => {
    await db.query(`create table types (
      id int4 primary key, i2 int2, i4 int4, i8 int8, num numeric(40,10), f4 float4, f8 float8, tx text, vc varchar(10), ch char(3),
      b bool, d date, ts timestamp, tz timestamptz, j json, jb jsonb, u uuid, iv interval, arr int4[])`);
    await db.query(`insert into types values
      (1, -32768, 2147483647, 9007199254740993, 12345678901234567890.1234567890, 0.1, 1e-5, 'héllo ✓', '2.5', 'ab',
       true, '2001-01-14', '2001-01-14 21:55:00.5', '2001-01-14 23:55:00+02', '{"a": [1, 2]}', '{"b": 1, "a": null}',
       'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00', '{1,2}'),
      (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null),
      (3, 0, 0, -9223372036854775808, 'NaN', 'Infinity', 'NaN', 'NA', '', 'x', false, '0044-03-15 BC', 'infinity',
       '2001-01-14 21:55:00.123456+00', 'null', '[]', '00000000-0000-0000-0000-000000000000', '-1 mons', '{}')`);
  });

  it('reads numbers as numbers and every type as the text the table in values.ts gives', async () => {
    const { chunks } = await readAll('select * from types order by id', { needs: both(...COLUMNS) });
    expect(chunks).toHaveLength(1);
    const c = chunks[0];
    expect(c.header).toEqual(['id', ...COLUMNS]);
    expect(c.lines).toEqual([1, 2, 3]);
    const n = (name: string) => c.numbers[name];
    const t = (name: string) => c.texts[name];
    expect(n('i2')).toEqual({ values: [-32768, NaN, 0], status: [OK, MISSING, OK] });
    expect(t('i2')).toEqual(['-32768', '', '0']);
    expect(n('i4').values[0]).toBe(2147483647);
    // int8: the nearest double for numeric inputs, every digit as text.
    expect(n('i8')).toEqual({ values: [9007199254740992, NaN, -9223372036854775808], status: [OK, MISSING, OK] });
    expect(t('i8')).toEqual(['9007199254740993', '', '-9223372036854775808']);
    // numeric: the text as stored (scale included), NaN missing.
    expect(n('num')).toEqual({ values: [12345678901234567890.123456789, NaN, NaN], status: [OK, MISSING, MISSING] });
    expect(t('num')).toEqual(['12345678901234567890.1234567890', '', '']);
    // float4 0.1: the float4 value's shortest text, the double nearest that text.
    expect(n('f4')).toEqual({ values: [0.1, NaN, Infinity], status: [OK, MISSING, OK] });
    expect(t('f4')).toEqual(['0.1', '', 'inf']);
    expect(n('f8')).toEqual({ values: [1e-5, NaN, NaN], status: [OK, MISSING, MISSING] });
    expect(t('f8')).toEqual(['1e-05', '', '']);
    // Text is read as a CSV cell would be: '2.5' is a number, 'NA' and '' are missing.
    expect(t('tx')).toEqual(['héllo ✓', '', 'NA']);
    expect(n('tx').status).toEqual([INVALID, MISSING, MISSING]);
    expect(n('vc')).toEqual({ values: [2.5, NaN, NaN], status: [OK, MISSING, MISSING] });
    expect(t('ch')).toEqual(['ab ', '', 'x  ']);
    expect(n('b')).toEqual({ values: [1, NaN, 0], status: [OK, MISSING, OK] });
    expect(t('b')).toEqual(['true', '', 'false']);
    // Dates and times: ISO 8601, UTC with Z, microseconds written out, 44 BC as the astronomical year -0043.
    expect(t('d')).toEqual(['2001-01-14', '', '-0043-03-15']);
    expect(t('ts')).toEqual(['2001-01-14T21:55:00.500000', '', 'infinity']);
    expect(t('tz')).toEqual(['2001-01-14T21:55:00Z', '', '2001-01-14T21:55:00.123456Z']);
    for (const name of ['d', 'ts', 'tz', 'j', 'jb']) expect(n(name).status).toEqual([INVALID, MISSING, INVALID]);
    expect(t('j')).toEqual(['{"a": [1, 2]}', '', 'null']);
    expect(t('jb')).toEqual(['{"a": null, "b": 1}', '', '[]']);
    // Other types: PostgreSQL's text, read as CSV text.
    expect(t('u')).toEqual(['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '', '00000000-0000-0000-0000-000000000000']);
    expect(t('iv')).toEqual(['1 day 02:00:00', '', '-1 mons']);
    expect(t('arr')).toEqual(['{1,2}', '', '{}']);
    expect(n('arr').status).toEqual([INVALID, MISSING, INVALID]);
  });

  it("gives every column of the query in a row's record, also the columns the run does not read", async () => {
    const { chunks } = await readAll('select * from types order by id', { needs: both('f8') });
    expect(chunks[0].texts).toEqual({ f8: ['1e-05', '', ''] });
    expect(chunks[0].records[0]).toEqual([
      '1', '-32768', '2147483647', '9007199254740993', '12345678901234567890.1234567890', '0.1', '1e-05', 'héllo ✓', '2.5', 'ab ', 'true', '2001-01-14',
      '2001-01-14T21:55:00.500000', '2001-01-14T21:55:00Z', '{"a": [1, 2]}', '{"a": null, "b": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '1 day 02:00:00', '{1,2}',
    ]);
    expect(chunks[0].records[1]).toEqual(['2', ...COLUMNS.map(() => '')]);
  });

  it('is the same whatever the session defaults of the role (time zone, date style, float digits)', async () => {
    await db.query(`alter database "${db.name}" set timezone = 'America/New_York'`);
    await db.query(`alter database "${db.name}" set datestyle = 'SQL, DMY'`);
    await db.query(`alter database "${db.name}" set extra_float_digits = -3`);
    try {
      const { chunks } = await readAll('select * from types order by id', { needs: both('tz', 'd', 'f4', 'ts') });
      expect(chunks[0].texts).toEqual({
        tz: ['2001-01-14T21:55:00Z', '', '2001-01-14T21:55:00.123456Z'],
        d: ['2001-01-14', '', '-0043-03-15'],
        f4: ['0.1', '', 'inf'],
        ts: ['2001-01-14T21:55:00.500000', '', 'infinity'],
      });
    } finally {
      await db.query(`alter database "${db.name}" reset all`);
    }
  });

  it('describes the columns of a query with their types, without reading a row', async () => {
    const cols = await pgdb.describeQuery('select * from types');
    expect(cols.map((c) => [c.name, c.type, c.kind])).toEqual([
      ['id', 'integer', 'integer'],
      ['i2', 'smallint', 'integer'],
      ['i4', 'integer', 'integer'],
      ['i8', 'bigint', 'integer'],
      ['num', 'numeric(40,10)', 'decimal'],
      ['f4', 'real', 'float'],
      ['f8', 'double precision', 'float'],
      ['tx', 'text', 'text'],
      ['vc', 'character varying(10)', 'text'],
      ['ch', 'character(3)', 'text'],
      ['b', 'boolean', 'bool'],
      ['d', 'date', 'date'],
      ['ts', 'timestamp without time zone', 'timestamp'],
      ['tz', 'timestamp with time zone', 'timestamp'],
      ['j', 'json', 'json'],
      ['jb', 'jsonb', 'json'],
      ['u', 'uuid', 'other'],
      ['iv', 'interval', 'other'],
      ['arr', 'integer[]', 'other'],
    ]);
  });
});

describe('reading a query', () => {
  beforeAll(async () => {
    await db.query('create table nums as select g as id, g * 0.5 as x, md5(g::text) as s from generate_series(1, 2500) g');
  });

  it('reads batch_size rows at a time, numbering rows by their place in the result', async () => {
    const { chunks, reader } = await readAll('select id, x from nums order by id', { needs: both('x'), batchSize: 1000 });
    expect(chunks.map((c) => c.rows)).toEqual([1000, 1000, 500]);
    expect(chunks[1].lines[0]).toBe(1001);
    expect(chunks[2].lines.at(-1)).toBe(2500);
    expect(chunks[2].numbers.x.values.at(-1)).toBe(1250);
    expect(reader.rows).toBe(2500);
    expect(reader.complete).toBe(true);
  });

  it('keeps the order of the query, and a trailing semicolon or comment does not matter', async () => {
    const { chunks } = await readAll('select id from nums where id <= 3 order by id desc; \n', { needs: both('id') });
    expect(chunks[0].texts.id).toEqual(['3', '2', '1']);
    const commented = await readAll('select id from nums where id <= 2 order by id -- the first two', { needs: both('id'), watermark: { column: 'id' } });
    expect(commented.chunks[0].texts.id).toEqual(['1', '2']);
  });

  it('stops at the limit, and says the result was not read to its end', async () => {
    const { chunks, reader } = await readAll('select id from nums order by id', { needs: both('id'), batchSize: 2, limit: 5 });
    expect(chunks.map((c) => c.texts.id)).toEqual([['1', '2'], ['3', '4'], ['5']]);
    expect(reader.complete).toBe(false);
  });

  it('gives no chunk for an empty result, but still checks the columns', async () => {
    const empty = await readAll('select id, x from nums where false', { needs: both('x') });
    expect(empty.chunks).toEqual([]);
    expect(empty.reader.complete).toBe(true);
    const err = await failure(readAll('select id, x from nums where false', { needs: both('xx') }));
    expect(err.code).toBe('DB_INVALID');
    expect(err.describe()).toMatch(/^query on postgres:\/\/serve_batch_test@127\.0\.0\.1:\d+\/t_\w+: column 'xx' is not in the query's result, did you mean 'x'\? \(columns: id, x\)$/);
  });

  it('closes its cursor, transaction and connection when the consumer stops early', async () => {
    const reader = pgdb.readQuery('select * from nums', { needs: both('x'), batchSize: 100 });
    for await (const c of reader.chunks) {
      expect(c.rows).toBe(100);
      break;
    }
    expect(reader.complete).toBe(false);
    expect(await db.query("select pid from pg_stat_activity where application_name = 'sb-reader-test'")).toEqual([]);
  });

  it('refuses a query that writes (it runs in a read-only transaction)', async () => {
    const err = await failure(readAll('insert into nums values (0, 0, null) returning id', { needs: both('id') }));
    expect(err.code).toBe('DB_INVALID');
    expect(err.message).toContain('cannot execute INSERT in a read-only transaction');
    expect(await db.query('select count(*)::int as n from nums')).toEqual([{ n: 2500 }]);
  });

  it('splits a result into shards by a column: each row in exactly one', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    for (let index = 0; index < 3; index++) {
      const { chunks } = await readAll('select id, s from nums', { needs: both('s'), shard: { column: 's', index, count: 3 }, batchSize: 5000 });
      const ids = chunks.flatMap((c) => c.records.map((r) => r[0]));
      sizes.push(ids.length);
      seen.push(...ids);
    }
    expect(seen.map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 2500 }, (_, i) => i + 1));
    for (const n of sizes) expect(n).toBeGreaterThan(600);
  });

  it('explains the query as a run would read it', async () => {
    const plan = await pgdb.explainQuery('select id, x from nums', { watermark: { column: 'id', after: '2000' } });
    expect(plan.join('\n')).toMatch(/Sort[\s\S]*Scan on nums[\s\S]*Filter: \(id > '?2000'?/);
  });
});

describe('the watermark', () => {
  beforeAll(async () => {
    await db.query('create table events (id bigint, at timestamptz, x float8)');
    await db.query(`insert into events values (1, '2024-05-01 10:00:00.000001+00', 1), (2, '2024-05-01 10:00:01+00', 2),
                    (3, '2024-05-01 09:00:00+00', 3), (4, null, 4)`);
  });

  it('reads rows in the order of the column and keeps its largest value; the next read starts after it', async () => {
    const first = await readAll('select id, at, x from events', { needs: both('x'), watermark: { column: 'at' } });
    // NULL has no place in the order: that row is never read.
    expect(first.chunks[0].records.map((r) => r[0])).toEqual(['3', '1', '2']);
    expect(first.reader.watermark).toBe('2024-05-01 10:00:01+00');

    await db.query(`insert into events values (5, '2024-05-01 10:00:02.5+00', 5), (6, '2024-05-01 10:00:01.000001+00', 6), (7, '2024-04-01 00:00:00+00', 7)`);
    const second = await readAll('select id, at, x from events', { needs: both('x'), watermark: { column: 'at', after: first.reader.watermark } });
    // Only rows above the watermark: a row that arrives later with an older value (7) is not read.
    expect(second.chunks[0].records.map((r) => r[0])).toEqual(['6', '5']);
    expect(second.reader.watermark).toBe('2024-05-01 10:00:02.5+00');

    const third = await readAll('select id, at, x from events', { needs: both('x'), watermark: { column: 'at', after: second.reader.watermark } });
    expect(third.chunks).toEqual([]);
    expect(third.reader.watermark).toBeUndefined();
    expect(third.reader.complete).toBe(true);
  });

  it('keeps every digit of a bigint watermark (beyond 2^53)', async () => {
    await db.query('create table big (id bigint)');
    await db.query('insert into big values (9007199254740992), (9007199254740993)');
    const first = await readAll('select id from big', { needs: both('id'), watermark: { column: 'id', after: '9007199254740992' } });
    expect(first.chunks[0].texts.id).toEqual(['9007199254740993']);
    expect(first.reader.watermark).toBe('9007199254740993');
    const next = await readAll('select id from big', { needs: both('id'), watermark: { column: 'id', after: first.reader.watermark } });
    expect(next.chunks).toEqual([]);
  });

  it('takes the watermark as a bound parameter: a value is never SQL', async () => {
    const err = await failure(readAll('select id, at, x from events', { needs: both('x'), watermark: { column: 'id', after: '0 or true; drop table events; --' } }));
    expect(err.message).toContain('invalid input syntax for type bigint: "0 or true; drop table events; --"');
    expect((await db.query('select count(*)::int as n from events'))[0].n).toBe(7);
  });

  it('names the column when it is not one of the query', async () => {
    const err = await failure(readAll('select id, x from events', { needs: both('x'), watermark: { column: 'updated_at' } }));
    expect(err.code).toBe('DB_INVALID');
    expect(err.message).toContain('column q.updated_at does not exist');
    expect(err.message).toContain('in the condition serve-batch adds for the watermark or shard column');
  });
});

describe('NULLs under each features.missing policy (through the featurizer)', () => {
  async function featurized(column: string, type: FeedType, missing: Missing) {
    const p = oneColumnPlan(type, missing);
    const reader = pgdb.readQuery(`select id, ${column} as v from policies order by id`, { needs: p.needs, batchSize: 10 });
    const chunks: SourceChunk[] = [];
    for await (const c of reader.chunks) chunks.push(c);
    const f = featurize(chunks[0], p);
    return { data: Array.from(f.feeds[0].data as ArrayLike<unknown>), rejects: f.rejects.map((r) => [r.line, r.error, r.fields]) };
  }

  beforeAll(async () => {
    await db.query('create table policies (id text, f float8, i int8)');
    await db.query("insert into policies values ('a', 1.5, 9007199254740993), ('b', null, null), ('c', 'NaN', 3)");
  });

  it('reject: the row goes, with its ordinal in the result and every column of it', async () => {
    expect(await featurized('f', 'float32', { kind: 'reject' })).toEqual({
      data: [1.5],
      rejects: [
        [2, "column 'v': empty value (features.missing: reject)", ['b', '']],
        [3, "column 'v': empty value (features.missing: reject)", ['c', '']],
      ],
    });
  });

  it('nan: NaN for NULL and for a NaN value', async () => {
    expect((await featurized('f', 'float64', { kind: 'nan' })).data.map(String)).toEqual(['1.5', 'NaN', 'NaN']);
  });

  it('a number: that number, also for an int64 input read exactly from int8', async () => {
    expect((await featurized('f', 'float32', { kind: 'fill', value: -1 })).data).toEqual([1.5, -1, -1]);
    expect(await featurized('i', 'int64', { kind: 'fill', value: 0 })).toEqual({ data: [9007199254740993n, 0n, 3n], rejects: [] });
  });
});

describe('a million rows', () => {
  it('streams through the cursor in flat memory', async () => {
    const reader = pgdb.readQuery('select g as id, g * 0.5 as x, md5(g::text) as s from generate_series(1, 1000000) g', {
      needs: [
        { name: 'x', number: true, text: false },
        { name: 's', number: false, text: true },
        { name: 'id', number: false, text: true },
      ],
      batchSize: 8192,
    });
    let rows = 0;
    let sum = 0;
    const base = process.memoryUsage().rss;
    let peak = base;
    for await (const c of reader.chunks) {
      const x = c.numbers.get('x')!.values;
      for (let i = 0; i < c.rows; i++) sum += x[i];
      expect(c.texts.get('s')![c.rows - 1]).toMatch(/^[0-9a-f]{32}$/);
      rows += c.rows;
      peak = Math.max(peak, process.memoryUsage().rss);
    }
    expect(rows).toBe(1_000_000);
    expect(sum).toBe(0.5 * (1_000_000 * 1_000_001) / 2);
    // Measured on the busy 2-core machine: batches of 8192 rows grow RSS by ~40 MB (up to 90 MB when a major
    // GC comes late); the whole result read at once (batch_size 1,000,000) grows it by ~280 MB.
    expect(peak - base).toBeLessThan(150 * 1024 * 1024);
  });
});
