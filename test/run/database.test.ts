// Jobs that read a query and write a table on the suite's real PostgreSQL server, through runJob() and main()
// in process: each output mode, a query read by watermark across runs, a failed run that leaves the table and
// the watermark as they were, files in → table out and query in → CSV out, sharded runs, validate and
// --dry-run, and a password that never shows.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SbError } from '../../src/errors.js';
import { parseJob } from '../../src/job/load.js';
import { mergeJob } from '../../src/run/merge.js';
import { runJob } from '../../src/run/run-job.js';
import { model, runMain, tempDir, writeFiles } from '../support/cli.js';
import { testDatabase, type TestDatabase } from '../support/pg.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await makeSource('customers', 100);
});

// A table of rows id = 1 … n: features a, b, c from the id, and `updated` = id (a column that grows).
async function makeSource(table: string, n: number): Promise<void> {
  await db.query(`create table ${table} (id bigint primary key, a float8, b float8, c float8, updated bigint not null)`);
  await addRows(table, 1, n);
}

async function addRows(table: string, from: number, to: number): Promise<void> {
  await db.query(`insert into ${table} select i, (i % 10) / 10.0, (i % 7) / 7.0, i % 3, i from generate_series($1::int, $2::int) as i`, [from, to]);
}

interface TestJob {
  dir: string;
  file: string;
  text: string;
}

// A job file in a new directory; `input` and `output` are YAML values (flow style), `extra` more lines.
function job(input: string, output: string, extra = '', dir = tempDir()): TestJob {
  const text = ['name: db-job', `model: ${model('linear_binary')}`, `input: ${input}`, 'features: { columns: [a, b, c] }', 'passthrough: [id]', `output: ${output}`, 'state_dir: state', extra].join('\n');
  const file = path.join(dir, 'job.yaml');
  writeFiles(dir, { 'job.yaml': text });
  return { dir, file, text };
}

const query = (sql: string, more = '') => `{ database: '\${DATABASE_URL}', query: '${sql}'${more} }`;
const table = (name: string, more = '') => `{ database: '\${DATABASE_URL}', table: ${name}${more} }`;
const load = (j: TestJob, url = db.url) => parseJob(j.text, j.file, { ...process.env, DATABASE_URL: url });
const ids = async (t: string) => (await db.query<{ id: string }>(`select id::text as id from ${t}`)).map((r) => Number(r.id)).sort((a, b) => a - b);
const count = async (t: string) => (await db.query<{ n: number }>(`select count(*)::int as n from ${t}`))[0].n;
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('a query scored into a table', () => {
  it('append, with create: true: the table is made with typed columns, and each run adds its rows', async () => {
    const j = job(query('select id, a, b, c from customers where id <= 10'), table('scores_append', ', create: true'));
    const r = await runJob(load(j));
    expect([r.status, r.error, r.totals.rows_out]).toEqual(['ok', null, 10]);
    // The passthrough column keeps its source type; probabilities are float32 → real, the label int64 → bigint.
    const types = await db.query("select column_name, data_type from information_schema.columns where table_name = 'scores_append' order by ordinal_position");
    expect(types).toEqual([
      { column_name: 'id', data_type: 'bigint' },
      { column_name: 'label', data_type: 'bigint' },
      { column_name: 'probabilities_0', data_type: 'real' },
      { column_name: 'probabilities_1', data_type: 'real' },
    ]);
    const [row] = await db.query<{ p0: number; p1: number }>('select probabilities_0 as p0, probabilities_1 as p1 from scores_append where id = 1');
    expect(row.p0 + row.p1).toBeCloseTo(1, 5);
    expect((await runJob(load(j))).status).toBe('ok');
    expect(await count('scores_append')).toBe(20);
    // The record names the query and the table, never the password.
    const rec = r.inputs[0];
    expect(rec.query).toEqual({ text: 'select id, a, b, c from customers where id <= 10' });
    expect(rec.output).toMatch(/^scores_append on postgres:\/\/serve_batch_test@127\.0\.0\.1:\d+\//);
    const saved = readFileSync(r.record as string, 'utf8');
    expect(saved).not.toContain(db.server.password);
  });

  it('replace: the table holds the last run\'s rows only', async () => {
    await db.query('create table scores_replace (id bigint, label bigint, probabilities_0 real, probabilities_1 real)');
    await db.query('insert into scores_replace values (999, 0, 0.5, 0.5)');
    const first = job(query('select id, a, b, c from customers where id <= 10'), table('scores_replace', ', mode: replace'));
    expect((await runJob(load(first))).status).toBe('ok');
    expect(await ids('scores_replace')).toEqual(range(1, 10));
    const second = job(query('select id, a, b, c from customers where id between 5 and 7'), table('scores_replace', ', mode: replace'));
    expect((await runJob(load(second))).status).toBe('ok');
    expect(await ids('scores_replace')).toEqual([5, 6, 7]);
  });

  it('upsert by key: rows with a known key are updated, new keys inserted; the run id column says which run wrote each', async () => {
    const more = ", mode: upsert, key: [id], create: true, run_id_column: scored_run";
    const first = await runJob(load(job(query('select id, a, b, c from customers where id <= 10'), table('scores_upsert', more))));
    const second = await runJob(load(job(query('select id, a, b, c from customers where id between 6 and 15'), table('scores_upsert', more))));
    expect([first.status, second.status]).toEqual(['ok', 'ok']);
    const rows = await db.query<{ id: string; scored_run: string }>('select id::text as id, scored_run from scores_upsert order by scores_upsert.id');
    expect(rows.map((r) => Number(r.id))).toEqual(range(1, 15));
    expect(rows.map((r) => r.scored_run)).toEqual([...range(1, 5).map(() => first.run_id), ...range(6, 15).map(() => second.run_id)]);
  });
});

describe('a query read by watermark', () => {
  it('reads only the rows above the largest value scored before; a failed run moves neither the table nor the watermark', async () => {
    await makeSource('events', 20);
    const j = job(query('select id, a, b, c, updated from events', ', watermark: updated'), table('events_scored', ', create: true'), 'batch_size: 5');
    const first = await runJob(load(j));
    expect([first.status, first.totals.rows_out, first.inputs[0].query?.watermark]).toEqual(['ok', 20, { column: 'updated', after: null, to: '20' }]);
    const ledger = JSON.parse(readFileSync(path.join(j.dir, 'state/ledger/db-job.json'), 'utf8')) as { watermarks: Record<string, { value: string; column: string }> };
    expect(Object.values(ledger.watermarks).map((w) => [w.column, w.value])).toEqual([['updated', '20']]);

    // Nothing new: nothing read, the watermark stays.
    const idle = await runJob(load(j));
    expect([idle.status, idle.totals.rows_in, idle.inputs[0].query?.watermark]).toEqual(['ok', 0, { column: 'updated', after: '20', to: null }]);

    // New rows, one of them unscorable (a NULL feature, rejected; errors.max_rejected is 0): the run fails
    // after rows were sent to the database, and the table and the watermark stay as they were.
    await addRows('events', 21, 40);
    await db.query('update events set a = null where id = 37');
    const failed = await runJob(load(j));
    expect([failed.status, failed.exit_code]).toEqual(['failed', 1]);
    expect(failed.error).toContain('too many rejected rows');
    expect(await ids('events_scored')).toEqual(range(1, 20));

    // Fixed: the next run scores rows 21 … 40, and only those.
    await db.query('update events set a = 0.5 where id = 37');
    const next = await runJob(load(j));
    expect([next.status, next.totals.rows_out, next.inputs[0].query?.watermark]).toEqual(['ok', 20, { column: 'updated', after: '20', to: '40' }]);
    expect(await ids('events_scored')).toEqual(range(1, 40));

    // --reprocess reads every row again (and the watermark stays at the largest value).
    const again = await runJob(load(j), { reprocess: true });
    expect([again.status, again.totals.rows_out]).toEqual(['ok', 40]);
  });

  it('a result file must be new every run: output.path without {run_id} is refused at its YAML path', () => {
    const j = job(query('select id, a, b, c, updated from events', ', watermark: updated'), 'out/scores.csv');
    const err = (() => {
      try {
        load(j);
      } catch (e) {
        return e as SbError;
      }
      throw new Error('expected the job to be refused');
    })();
    expect(err.context.problems?.join('\n')).toMatch(/job\.yaml:6:\d+: a query read by watermark .* put \{run_id\} in output\.path .*\(at output\.path\)/);
  });
});

describe('files and queries mixed', () => {
  it('CSV files in, a table out', async () => {
    const dir = tempDir();
    writeFiles(dir, { 'in/a.csv': 'id,a,b,c\n1,0.1,0.2,0\n2,0.3,0.4,1\n', 'in/b.csv': 'id,a,b,c\n3,0.5,0.6,2\n' });
    const r = await runJob(load(job('in/*.csv', table('from_files', ', create: true'), '', dir)));
    expect([r.status, r.totals.inputs, r.totals.rows_out]).toEqual(['ok', 2, 3]);
    // Passthrough text from a file is a text column.
    expect(await db.query('select id from from_files order by id')).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }]);
  });

  it('a query in, a CSV file out (rejects to a file as well)', async () => {
    const j = job(query('select id, case when id = 3 then null else a end as a, b, c from customers where id <= 5 order by id'), 'out/scores.csv', "features: { columns: [a, b, c], missing: reject }\nerrors: { max_rejected: 1, rejects: out/rejects.csv }");
    const r = await runJob(load({ ...j, text: j.text.replace('features: { columns: [a, b, c] }\n', '') }));
    expect([r.status, r.totals.rows_out, r.totals.rows_rejected]).toEqual(['ok', 4, 1]);
    const lines = readFileSync(path.join(j.dir, 'out/scores.csv'), 'utf8').trim().split('\n');
    expect(lines[0]).toBe('id,label,probabilities_0,probabilities_1');
    expect(lines.slice(1).map((l) => l.split(',')[0])).toEqual(['1', '2', '4', '5']);
    // A rejected row's line is its ordinal in the result; its fields are the query's columns.
    const rejects = readFileSync(path.join(j.dir, 'out/rejects.csv'), 'utf8').trim().split('\n');
    expect(rejects[0]).toBe('_file,_line,_error,id,a,b,c');
    expect(rejects[1]).toMatch(/^postgres:\/\/serve_batch_test@[^,]*,3,.*,3,,/);
  });
});

describe('sharded runs over a query', () => {
  it('each worker reads the rows whose shard_key hashes to it and appends them in its own transaction', async () => {
    const j = job(query('select id, a, b, c from customers', ', shard_key: id'), table('scores_sharded', ', create: true'));
    const runs = [await runJob(load(j), { shard: { index: 0, count: 2 } }), await runJob(load(j), { shard: { index: 1, count: 2 } })];
    expect(runs.map((r) => r.status)).toEqual(['ok', 'ok']);
    expect(runs[0].totals.rows_out + runs[1].totals.rows_out).toBe(100);
    expect(runs.every((r) => r.totals.rows_out > 0)).toBe(true);
    expect(await ids('scores_sharded')).toEqual(range(1, 100));
    // Each shard committed its own rows: merge has nothing to combine, and says so.
    const merged = await mergeJob(load(j), { count: 2 });
    expect([merged.exit_code, merged.error]).toEqual([2, expect.stringMatching(/each shard committed its rows into scores_sharded .* nothing to merge \(at output\.table\)$/) as string]);
  });

  it('without shard_key, or with mode: replace, is refused (exit 2, at the key to change)', async () => {
    const none = await runJob(load(job(query('select id, a, b, c from customers'), table('scores_sharded'))), { shard: { index: 0, count: 2 } });
    expect([none.exit_code, none.error]).toEqual([2, expect.stringContaining('needs input.shard_key') as string]);
    const replace = await runJob(load(job(query('select id, a, b, c from customers', ', shard_key: id'), table('scores_sharded', ', mode: replace'))), { shard: { index: 0, count: 2 } });
    expect([replace.exit_code, replace.error]).toEqual([2, expect.stringMatching(/mode: replace cannot be sharded.*\(at output\.mode\)/) as string]);
  });
});

describe('what the database refuses, before a row is read', () => {
  it('a wrong password: one line without the password, exit 2, and the table untouched', async () => {
    await db.query("create role scorer login password 'right-Pa55word'");
    const j = job(query('select id, a, b, c from customers'), table('never_made', ', create: true'));
    const wrong = db.urlFor('scorer', 'Wr0ng-pa55word');
    const r = await runMain(['run', '--log-format', 'text', j.file], { env: { DATABASE_URL: wrong } });
    expect(r.status).toBe(2);
    const errors = r.stderr.split('\n').filter((l) => /error/i.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/password authentication failed for user "scorer"/);
    expect(r.stderr + r.stdout).not.toContain('Wr0ng-pa55word');
    const records = path.join(j.dir, 'state/runs/db-job');
    for (const f of readdirSync(records)) expect(readFileSync(path.join(records, f), 'utf8')).not.toContain('Wr0ng-pa55word');
    expect(await db.query("select to_regclass('never_made') as t")).toEqual([{ t: null }]);
  });

  it('a SQL error with its place in the query, a missing column, a missing table: exit 2', async () => {
    const bad = await runJob(load(job(query('select id, a, b, c fro customers'), table('t_none'))));
    expect([bad.exit_code, bad.error]).toEqual([2, expect.stringMatching(/syntax error at or near "customers" \(at query line 1, column 24: 'customers'\) \(at input\.query\)$/) as string]);
    const column = await runJob(load(job(query('select id, a, b from customers'), table('t_none', ', create: true'))));
    expect([column.exit_code, column.error]).toEqual([2, expect.stringContaining("column 'c' is not in the query's result") as string]);
    const missing = await runJob(load(job(query('select id, a, b, c from customers'), table('t_none'))));
    expect([missing.exit_code, missing.error]).toEqual([2, expect.stringMatching(/cannot write table t_none on postgres:\/\/.*(does not exist|create: true)/) as string]);
  });

  it('--limit into a table is refused; --output writes a file instead of the table', async () => {
    const j = job(query('select id, a, b, c from customers'), table('scores_limit', ', create: true'));
    const limited = await runJob(load(j), { limit: 5 });
    expect([limited.exit_code, limited.error]).toEqual([2, expect.stringContaining('--limit 5 would write the first 5 rows of each input into the table scores_limit') as string]);
    const out = path.join(j.dir, 'first.csv');
    const toFile = await runJob(load(j), { limit: 5, output: out });
    expect([toFile.status, readFileSync(out, 'utf8').trim().split('\n').length]).toEqual(['ok', 6]);
    expect(await db.query("select to_regclass('scores_limit') as t")).toEqual([{ t: null }]);
  });
});

describe('validate and --dry-run', () => {
  it('validate checks the query and the table; --dry-run shows the query plan and writes nothing', async () => {
    const ok = job(query('select id, a, b, c from customers'), table('scores_validate', ', create: true'));
    const v = await runMain(['validate', ok.file], { env: { DATABASE_URL: db.url } });
    expect([v.status, v.stdout]).toEqual([0, expect.stringMatching(/^ok: .* result columns id, label, probabilities_0, probabilities_1; first 100 rows of postgres:\/\//) as string]);
    const bad = job(query('select id, a, b from customers'), table('scores_validate'));
    const vb = await runMain(['validate', '--log-format', 'text', bad.file], { env: { DATABASE_URL: db.url } });
    expect(vb.status).toBe(2);
    expect(vb.stderr).toContain("column 'c' is not in the query's result");
    const dry = await runMain(['run', '--dry-run', '--log-format', 'text', ok.file], { env: { DATABASE_URL: db.url } });
    expect(dry.status).toBe(0);
    expect(dry.stderr).toMatch(/query on postgres:\/\/.* → scores_validate on postgres:\/\/.*would be scored/);
    expect(dry.stderr).toMatch(/Seq Scan on customers/);
    expect(await db.query("select to_regclass('scores_validate') as t")).toEqual([{ t: null }]);
    expect(existsSync(path.join(ok.dir, 'state/runs'))).toBe(false);
  });
});

describe('the job file', () => {
  const problems = (input: string, output: string) => {
    try {
      load(job(input, output));
    } catch (e) {
      return (e as SbError).context.problems ?? [];
    }
    return [];
  };

  it('each wrong combination is one problem at its YAML path', () => {
    expect(problems("{ database: '${DATABASE_URL}' }", 'out.csv')).toEqual([expect.stringMatching(/required key is missing: the query .*\(at input\.query\)$/)]);
    expect(problems("{ path: in.csv, database: '${DATABASE_URL}', query: 'select 1' }", 'out.csv')).toEqual([expect.stringMatching(/give either input\.path .* not both \(at input\.path\)$/)]);
    expect(problems("{ path: in.csv, watermark: updated }", 'out.csv')).toEqual([expect.stringMatching(/input\.watermark needs input\.database .*\(at input\.watermark\)$/)]);
    expect(problems(query('select 1', ', format: csv'), 'out.csv')).toEqual([expect.stringMatching(/input\.format is for files.*\(at input\.format\)$/)]);
    expect(problems('in.csv', table('t', ', mode: upsert'))).toEqual([expect.stringMatching(/mode: upsert needs output\.key.*\(at output\.mode\)$/)]);
    expect(problems('in.csv', table('t', ', key: [id]'))).toEqual([expect.stringMatching(/output\.key is only used by mode: upsert.*\(at output\.key\)$/)]);
    expect(problems('in.csv', "{ path: out.csv, table: t }")).toEqual([expect.stringMatching(/output\.table needs output\.database.*\(at output\.table\)$/)]);
    expect(problems('in.csv', "{ database: 'mysql://u:Secr3t@h/db', table: t }")).toEqual([expect.stringMatching(/must be a PostgreSQL URL.*\(at output\.database\)$/)]);
    expect(problems('in.csv', "{ database: 'mysql://u:Secr3t@h/db', table: t }").join('')).not.toContain('Secr3t');
  });
});
