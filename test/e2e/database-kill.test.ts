// The real CLI killed with SIGKILL while it COPYs a query's scored rows into a table: the table stays exactly
// as it was and no staging table is left (it belonged to the dead process's session, which the server ends);
// the next run writes the whole result.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliAsync, model, tempDir, writeFiles } from '../support/cli.js';
import { testDatabase, type TestDatabase } from '../support/pg.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  await db.query('create table big (id bigint, a float8, b float8, c float8)');
  await db.query('insert into big select i, (i % 10) / 10.0, (i % 7) / 7.0, i % 3 from generate_series(1, 150000) as i');
  await db.query('create table scored (id bigint, label bigint, probabilities_0 real, probabilities_1 real)');
  await db.query('insert into scored values (-1, 0, 0.5, 0.5), (-2, 1, 0.25, 0.75)');
});

// The server's sessions of the job's runs (application_name `serve-batch db-kill <run id>`) doing `what`.
const sessions = (what: string) => db.query(`select pid from pg_stat_activity where application_name like 'serve-batch db-kill %' and ${what}`);

describe('kill -9 of `serve-batch run` during COPY into the table', () => {
  it('leaves the table as it was and no staging table; the next run writes every row', async () => {
    const dir = tempDir();
    const job = ['name: db-kill', `model: ${model('linear_binary')}`, "input: { database: '${DATABASE_URL}', query: 'select id, a, b, c from big' }", 'features: { columns: [a, b, c] }', 'passthrough: [id]', "output: { database: '${DATABASE_URL}', table: scored }", 'batch_size: 10000', 'state_dir: state'].join('\n');
    writeFiles(dir, { 'job.yaml': job });
    const run = cliAsync(['run', path.join(dir, 'job.yaml')], { env: { DATABASE_URL: db.url } });
    let killed = false;
    for (let i = 0; i < 6000 && !killed; i++) {
      if ((await sessions("state = 'active' and query ilike 'copy %'")).length > 0) {
        run.child.kill('SIGKILL');
        killed = true;
      } else if (run.child.exitCode !== null) break;
      else await sleep(5);
    }
    const done = await run.done;
    expect([killed, done.signal], done.stderr).toEqual([true, 'SIGKILL']);
    for (let i = 0; i < 1000 && (await sessions('true')).length > 0; i++) await sleep(10);
    expect(await sessions('true')).toEqual([]);
    expect(await db.query('select id::int as id from scored order by 1')).toEqual([{ id: -2 }, { id: -1 }]);
    expect(await db.query("select count(*)::int as n from pg_class where relname = 'serve_batch_staging'")).toEqual([{ n: 0 }]);

    const again = await cliAsync(['run', path.join(dir, 'job.yaml')], { env: { DATABASE_URL: db.url } }).done;
    expect(again.status, again.stderr).toBe(0);
    expect(await db.query('select count(*)::int as n from scored')).toEqual([{ n: 150002 }]);
  });
});
