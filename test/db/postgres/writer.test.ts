// Writing result chunks into tables of the suite's real PostgreSQL server: the three modes, a created table
// and its types, values that COPY must escape, NULL against the empty string, nothing visible before the
// commit, rollback to a mark, and every problem a target can have (checked before a row is written).
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../src/db/postgres/index.js';
import type { Database, TableWriteOptions, TargetColumn } from '../../../src/db/types.js';
import { exitCodeOf } from '../../../src/errors.js';
import type { ResultChunk } from '../../../src/table/result.js';
import { failure } from '../../support/failure.js';
import { testDatabase, type TestDatabase } from '../../support/pg.js';
import { bools, chunkOf, f32, f32Of, f64, i32, i64, packed, texts, u64 } from '../../support/result-chunks.js';

let db: TestDatabase;
let pgdb: Database;

beforeAll(async () => {
  db = await testDatabase();
  pgdb = openDatabase(db.url, { applicationName: 'sb-writer-test' });
});

const COLUMNS: TargetColumn[] = [
  { name: 'id', type: 'string', sqlType: 'bigint' },
  { name: 'p_stay', type: 'float32' },
  { name: 'p_leave', type: 'float32' },
  { name: 'label', type: 'string' },
];

// Scores for ids: p_leave = id / 10.
function scores(ids: number[], label = 'x'): ResultChunk {
  const p = ids.map((id) => [1 - id / 10, id / 10]);
  return chunkOf(
    packed('id', ids.map(String)),
    f32Of('p_stay', p, 0),
    f32Of('p_leave', p, 1),
    texts('label', ids.map(() => label)),
  );
}

async function write(o: TableWriteOptions, ...chunks: ResultChunk[]): Promise<void> {
  const w = await pgdb.openTableWriter(o);
  try {
    for (const c of chunks) await w.write(c);
    await w.commit();
  } catch (err) {
    // As a run does: a writer that failed is aborted.
    await w.abort();
    throw err;
  }
}

const staging = async () => (await db.query<{ n: number }>("select count(*)::int as n from pg_class where relname = 'serve_batch_staging'"))[0].n;
const rowsOf = (table: string, order = 'id') => db.query(`select * from ${table} order by ${order}`);

describe('the three modes', () => {
  it('create: true makes the table from the result: model types, a passthrough column typed as its source, the run id', async () => {
    await write({ table: 'created', mode: 'append', create: true, columns: COLUMNS, runId: { column: 'scored_run', value: 'run-1' } }, scores([1, 2]), scores([3]));
    const types = await db.query(`select attname as name, format_type(atttypid, atttypmod) as type from pg_attribute
                                  where attrelid = 'created'::regclass and attnum > 0 order by attnum`);
    expect(types).toEqual([
      { name: 'id', type: 'bigint' },
      { name: 'p_stay', type: 'real' },
      { name: 'p_leave', type: 'real' },
      { name: 'label', type: 'text' },
      { name: 'scored_run', type: 'text' },
    ]);
    expect(await db.query('select id::int, p_leave::float8, scored_run from created order by id')).toEqual([
      { id: 1, p_leave: Math.fround(0.1), scored_run: 'run-1' },
      { id: 2, p_leave: Math.fround(0.2), scored_run: 'run-1' },
      { id: 3, p_leave: Math.fround(0.3), scored_run: 'run-1' },
    ]);
    expect(await staging()).toBe(0);
  });

  it('append adds the rows to what is there, into a table with more columns (nullable or with defaults)', async () => {
    await db.query("create table appended (id bigint, p_stay real, p_leave float8, label varchar(5), note text, at timestamptz not null default now(), seq bigint generated always as identity)");
    await db.query("insert into appended (id, p_stay, p_leave, label) values (0, 1, 0, 'old')");
    await write({ table: 'appended', mode: 'append', columns: COLUMNS }, scores([1, 2]));
    await write({ table: 'appended', mode: 'append', columns: COLUMNS }, scores([3]));
    expect((await db.query('select id::int, label, note, seq::int from appended order by id')).map((r) => Object.values(r))).toEqual([
      [0, 'old', null, 1],
      [1, 'x', null, 2],
      [2, 'x', null, 3],
      [3, 'x', null, 4],
    ]);
  });

  it('replace swaps the whole content in one transaction, and an empty result leaves an empty table', async () => {
    await db.query('create table replaced (id bigint, p_stay real, p_leave real, label text)');
    await db.query("insert into replaced values (7, 0, 1, 'old'), (8, 0, 1, 'old')");
    await write({ table: 'replaced', mode: 'replace', columns: COLUMNS }, scores([1, 2], 'new'));
    expect((await rowsOf('replaced')).map((r) => [Number(r.id), r.label])).toEqual([
      [1, 'new'],
      [2, 'new'],
    ]);
    await write({ table: 'replaced', mode: 'replace', columns: COLUMNS });
    expect(await rowsOf('replaced')).toEqual([]);
  });

  it('upsert updates the rows whose key is there and inserts the others', async () => {
    await db.query('create table upserted (id bigint primary key, p_stay real, p_leave real, label text, scored_run text, kept text)');
    await db.query("insert into upserted values (1, 0, 1, 'old', 'run-0', 'k1'), (5, 0, 1, 'old', 'run-0', 'k5')");
    await write({ table: 'upserted', mode: 'upsert', key: ['id'], columns: COLUMNS, runId: { column: 'scored_run', value: 'run-1' } }, scores([1, 2], 'new'));
    expect((await rowsOf('upserted')).map((r) => [Number(r.id), r.label, r.scored_run, r.kept])).toEqual([
      [1, 'new', 'run-1', 'k1'],
      [2, 'new', 'run-1', null],
      [5, 'old', 'run-0', 'k5'],
    ]);
  });

  it('upsert with create: true makes the key the primary key', async () => {
    await write({ table: 'upsert_created', mode: 'upsert', key: ['id'], create: true, columns: COLUMNS }, scores([1, 2]));
    await write({ table: 'upsert_created', mode: 'upsert', key: ['id'], create: true, columns: COLUMNS }, scores([2, 3], 'again'));
    expect((await rowsOf('upsert_created')).map((r) => [Number(r.id), r.label])).toEqual([
      [1, 'x'],
      [2, 'again'],
      [3, 'again'],
    ]);
  });

  it('upsert refuses a result with the same key twice, and leaves the table as it was', async () => {
    const err = await failure(write({ table: 'upserted', mode: 'upsert', key: ['id'], columns: COLUMNS }, scores([1, 1], 'dup')));
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toBe('cannot write table upserted: the result has more than one row with the same key (id); upsert needs one row per key; the table is unchanged');
    expect((await rowsOf('upserted')).map((r) => r.label)).toEqual(['new', 'new', 'old']);
    expect(await staging()).toBe(0);
  });

  it('writes into a schema-qualified table, with names folded or quoted as PostgreSQL reads them', async () => {
    await db.query('create schema "Analytics"');
    await db.query('create table "Analytics".scores (id bigint, p_stay real, p_leave real, label text)');
    await write({ table: '"Analytics".Scores', mode: 'append', columns: COLUMNS }, scores([4]));
    expect((await rowsOf('"Analytics".scores')).map((r) => Number(r.id))).toEqual([4]);
  });
});

describe('values', () => {
  const TRICKY = ['tab\there', 'line\nbreak', 'cr\rlf\r\n', 'back\\slash', '\\N', '\\', 'NULL', '', ' spaces ', 'emoji 🙂 中文 é́', '"quoted" \'single\'', 'a\u2028b'];

  it('keeps every character of text cells, and the empty string apart from NULL', async () => {
    const columns: TargetColumn[] = [
      { name: 'label', type: 'string' },
      { name: 'pass', type: 'string' },
      { name: 'n', type: 'int32' },
    ];
    await write({ table: 'tricky', mode: 'append', create: true, columns }, chunkOf(texts('label', TRICKY), packed('pass', TRICKY), i32('n', TRICKY.map((_, i) => i))));
    const back = await db.query<{ label: string | null; pass: string | null }>('select label, pass from tricky order by n');
    expect(back.map((r) => r.label)).toEqual(TRICKY);
    expect(back.map((r) => r.pass)).toEqual(TRICKY);
    expect(back.filter((r) => r.label === null)).toEqual([]);
  });

  it('writes an empty passthrough cell as NULL into a column that cannot hold the empty string', async () => {
    const columns: TargetColumn[] = [
      { name: 'id', type: 'string', sqlType: 'bigint' },
      { name: 'day', type: 'string', sqlType: 'date' },
      { name: 'tag', type: 'string', sqlType: 'character varying(8)' },
    ];
    await write({ table: 'typed_pass', mode: 'append', create: true, columns }, chunkOf(packed('id', ['9007199254740993', '']), packed('day', ['2024-05-01', '']), packed('tag', ['', 'b'])));
    expect(await db.query('select id::text, day::text, tag from typed_pass order by tag')).toEqual([
      { id: '9007199254740993', day: '2024-05-01', tag: '' },
      { id: null, day: null, tag: 'b' },
    ]);
  });

  it('writes floats with every bit, NaN as NULL, the infinities as such; integers with every digit; booleans', async () => {
    const f = [0.1, 1 / 3, -0, 1e-300, 3.4028234663852886e38, NaN, Infinity, -Infinity];
    const columns: TargetColumn[] = [
      { name: 'n', type: 'int32' },
      { name: 'd', type: 'float64' },
      { name: 's', type: 'float32' },
      { name: 'big', type: 'int64' },
      { name: 'ubig', type: 'uint64' },
      { name: 'ok', type: 'bool' },
    ];
    const big = [-(2n ** 63n), 2n ** 63n - 1n, 9007199254740993n, 0n, 1n, 2n, 3n, 4n];
    const ubig = [2n ** 64n - 1n, 0n, 1n, 2n, 3n, 4n, 5n, 6n];
    await write(
      { table: 'numbers', mode: 'append', create: true, columns },
      chunkOf(i32('n', f.map((_, i) => i)), f64('d', f), f32('s', f), i64('big', big), u64('ubig', ubig), bools('ok', f.map((_, i) => i % 2 === 0))),
    );
    const back = await db.query<{ d: number | null; s: number | null; big: string; ubig: string; ok: boolean }>('select d, s::float8 as s, big::text, ubig::text, ok from numbers order by n');
    expect(back.map((r) => r.d)).toEqual([0.1, 1 / 3, -0, 1e-300, 3.4028234663852886e38, null, Infinity, -Infinity]);
    expect(back.map((r) => r.s)).toEqual([...Float32Array.from(f.slice(0, 5))].concat([null as unknown as number, Infinity, -Infinity]));
    expect(back.map((r) => r.big)).toEqual(big.map(String));
    expect(back.map((r) => r.ubig)).toEqual(ubig.map(String));
    expect(back.map((r) => r.ok)).toEqual([true, false, true, false, true, false, true, false]);
  });

  it('refuses a text with a NUL character (PostgreSQL text cannot hold one), naming the cell', async () => {
    const err = await failure(write({ table: 'nul', mode: 'append', create: true, columns: [{ name: 'label', type: 'string' }] }, chunkOf(texts('label', ['ok', 'a\0b']))));
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toBe("result row 2, column 'label': the text holds a NUL character, which a PostgreSQL text value cannot store");
    expect(await db.query("select to_regclass('nul') as t")).toEqual([{ t: null }]);
  });

  it('names the result row and column of a value the table does not take, and leaves the table as it was', async () => {
    await db.query('create table strict_ids (id bigint, p_stay real, p_leave real, label text)');
    const w = await pgdb.openTableWriter({ table: 'strict_ids', mode: 'append', columns: COLUMNS });
    await w.write(scores([1, 2]));
    const err = await failure(w.write(chunkOf(packed('id', ['3', 'four']), f32('p_stay', [0, 0]), f32('p_leave', [1, 1]), texts('label', ['a', 'b']))));
    await w.abort();
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.describe()).toBe(`cannot write table strict_ids: invalid input syntax for type bigint: "four" (result row 4, column 'id'); the table is unchanged`);
    expect(exitCodeOf(err)).toBe(1);
    expect(await rowsOf('strict_ids')).toEqual([]);
  });
});

describe('staging', () => {
  it('shows nothing of the result before the commit, and nothing at all after an abort', async () => {
    await db.query('create table staged (id bigint, p_stay real, p_leave real, label text)');
    const w = await pgdb.openTableWriter({ table: 'staged', mode: 'append', columns: COLUMNS });
    await w.write(scores([1, 2, 3]));
    expect(w.rows).toBe(3);
    expect(await rowsOf('staged')).toEqual([]);
    expect(await staging()).toBe(1);
    await w.abort();
    expect(await rowsOf('staged')).toEqual([]);
    expect(await staging()).toBe(0);
    await expect(w.write(scores([4]))).rejects.toThrow('the writer was already committed or aborted');
  });

  it('rolls back to a mark: the rows written after it leave the result', async () => {
    await db.query('create table marked (id bigint, p_stay real, p_leave real, label text)');
    const w = await pgdb.openTableWriter({ table: 'marked', mode: 'append', columns: COLUMNS });
    await w.write(scores([1, 2]));
    const m = await w.mark();
    await w.write(scores([3, 4]));
    expect(await w.rollback(m)).toBe(true);
    expect(w.rows).toBe(2);
    await w.write(scores([5]));
    await w.commit();
    expect((await rowsOf('marked')).map((r) => Number(r.id))).toEqual([1, 2, 5]);
  });
});

describe('locks', () => {
  it('waits a bounded time for a table another session holds, tries again, then gives up with the table unchanged', async () => {
    await db.query("create table busy (id bigint, p_stay real, p_leave real, label text)");
    const quick = openDatabase(db.url, { writer: { lockTimeoutMs: 100, conflictRetry: { attempts: 2, firstDelayMs: 10, maxDelayMs: 10 } } });
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table busy in access share mode');
    try {
      const w = await quick.openTableWriter({ table: 'busy', mode: 'replace', columns: COLUMNS });
      await w.write(scores([1]));
      const err = await failure(w.commit());
      expect(err.code).toBe('WRITE_FAILED');
      expect(err.message).toBe('cannot write table busy: canceling statement due to lock timeout (waited 100 ms for a lock on the table, 2 times: another session holds it); the table is unchanged');
    } finally {
      await holder.query('rollback');
    }
    // The same with the lock released while the writer waits between its tries.
    await holder.query('begin');
    await holder.query('lock table busy in access share mode');
    const patient = openDatabase(db.url, { writer: { lockTimeoutMs: 100, conflictRetry: { attempts: 5, firstDelayMs: 200, maxDelayMs: 200 } } });
    const w = await patient.openTableWriter({ table: 'busy', mode: 'replace', columns: COLUMNS });
    await w.write(scores([1]));
    const committed = w.commit();
    await new Promise((resolve) => setTimeout(resolve, 150));
    await holder.query('rollback');
    await holder.end();
    await committed;
    expect((await rowsOf('busy')).map((r) => Number(r.id))).toEqual([1]);
  });
});

describe('checking the target', () => {
  beforeAll(async () => {
    await db.query('create table target (id bigint primary key, p_stay real, p_leave boolean, labl text, run int, must text not null)');
    await db.query('create view target_view as select * from target');
    await db.query('create role limited login password \'limited-pw\'');
    await db.query(`revoke temporary on database "${db.name}" from public`);
    await db.query('revoke create on schema public from public');
  });

  it('lists every problem at once: columns, types, NOT NULL without default, the run id column, the key', async () => {
    const check = await pgdb.checkTarget({ table: 'target', mode: 'upsert', key: ['label'], columns: COLUMNS, runId: { column: 'run', value: 'r' } });
    expect(check).toEqual({
      exists: true,
      problems: [
        "column 'p_leave' of target is boolean, which cannot hold the result's float32 values",
        "table target has no column 'label', did you mean 'labl'? (columns: id, p_stay, p_leave, labl, run, must)",
        "run_id_column 'run' of target is integer; run ids are text",
        "column 'must' of target is NOT NULL without a default, and the result does not write it",
        'mode upsert needs a primary key or unique index on exactly (label) of target; it has (id)',
      ],
    });
  });

  it('says what is missing, and what to grant, for a user with too few privileges', async () => {
    const limited = openDatabase(db.urlFor('limited', 'limited-pw'));
    const cols: TargetColumn[] = [{ name: 'id', type: 'string' }];
    expect((await limited.checkTarget({ table: 'target', mode: 'replace', columns: cols })).problems).toEqual([
      `user limited may not create temporary tables in database ${db.name}, where serve-batch stages the rows before moving them in one transaction (GRANT TEMPORARY ON DATABASE "${db.name}" TO "limited")`,
      "column 'must' of target is NOT NULL without a default, and the result does not write it",
      'user limited may not insert into target (GRANT INSERT ON TABLE "target" TO "limited")',
      'user limited may not truncate target, which mode replace does (GRANT TRUNCATE ON TABLE "target" TO "limited")',
    ]);
    expect((await limited.checkTarget({ table: 'nope', mode: 'append', create: true, columns: cols })).problems).toContain(
      'table nope cannot be created: user limited may not create tables in schema public (GRANT CREATE ON SCHEMA "public" TO "limited")',
    );
    const upsert: TableWriteOptions = { table: 'target', mode: 'upsert', key: ['id'], columns: [...cols, { name: 'must', type: 'string' }] };
    await db.query('grant insert, update on target to limited');
    await db.query(`grant temporary on database "${db.name}" to limited`);
    // ON CONFLICT reads the key: without SELECT the server refuses the upsert.
    expect((await limited.checkTarget(upsert)).problems).toEqual([
      'user limited may not select from target, which mode upsert needs to find existing keys (GRANT SELECT ON TABLE "target" TO "limited")',
    ]);
    const direct = new pg.Client({ connectionString: db.urlFor('limited', 'limited-pw') });
    await direct.connect();
    await expect(direct.query("insert into target (id, must) values (1, 'm') on conflict (id) do update set must = excluded.must")).rejects.toThrow('permission denied for table target');
    await direct.end();
    await db.query('grant select on target to limited');
    expect((await limited.checkTarget(upsert)).problems).toEqual([]);
    // What the check promises holds: the upsert goes through with exactly these privileges.
    const w = await limited.openTableWriter(upsert);
    await w.write(chunkOf(packed('id', ['1']), texts('must', ['m'])));
    await w.commit();
    expect(await db.query('select id::int, must from target')).toEqual([{ id: 1, must: 'm' }]);
  });

  it('refuses a table that does not exist (unless create), a view, and a bad name, before writing anything', async () => {
    const missing = await failure(pgdb.openTableWriter({ table: 'absent', mode: 'append', columns: COLUMNS }));
    expect(missing.code).toBe('DB_INVALID');
    expect(exitCodeOf(missing)).toBe(2);
    expect(missing.message).toBe("cannot write table absent: table absent does not exist (create: true creates it from the result's columns)");
    const view = await pgdb.checkTarget({ table: 'target_view', mode: 'append', columns: COLUMNS });
    expect(view.problems).toEqual(['target_view is a view; serve-batch writes tables']);
    const schema = await pgdb.checkTarget({ table: 'nowhere.t', mode: 'append', create: true, columns: COLUMNS });
    expect(schema).toEqual({ exists: false, problems: ['table nowhere.t cannot be created: schema nowhere does not exist'] });
    const name = await failure(pgdb.checkTarget({ table: 'a.b.c', mode: 'append', columns: COLUMNS }));
    expect(name.message).toBe('table name \'a.b.c\' has more than two parts: write it as table or schema.table, quoting a part that holds other characters than letters, digits and _ ("My Table")');
    expect(await staging()).toBe(0);
  });
});
