// kill -9 of a process writing a table, at the two moments that matter: while it sends rows (COPY into its
// staging table) and inside the final transaction (after the target was truncated and the rows inserted, before
// COMMIT). Either way the target is exactly as it was, and no staging table is left: it belonged to the dead
// process's session, which the server ends.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/cli.js';
import { testDatabase, type TestDatabase } from '../../support/pg.js';

const CHILD = path.join(ROOT, 'test/support/pg-write-child.mjs');
let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
});

interface Writing {
  child: ChildProcess;
  exited: Promise<NodeJS.Signals | number | null>;
  output: () => string;
}

// Start a writer process (see pg-write-child.mjs).
function startWriter(o: { app: string; table: string; mode: string; key?: string[]; create?: boolean; chunks: number; rows: number }): Writing {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ url: db.url, ...o })], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
  return { child, exited, output: () => out };
}

// Wait until the server shows the writer's session in the state `what` says, then SIGKILL the writer.
async function killWhen(w: Writing, app: string, what: string): Promise<void> {
  for (let i = 0; i < 3000; i++) {
    const r = await db.query('select pid from pg_stat_activity where application_name = $1 and ' + what, [app]);
    if (r.length > 0) {
      w.child.kill('SIGKILL');
      expect(await w.exited).toBe('SIGKILL');
      return;
    }
    if (w.child.exitCode !== null) throw new Error(`the writer ended before it could be killed:\n${w.output()}`);
    await sleep(5);
  }
  throw new Error(`the writer never got there:\n${w.output()}`);
}

// Wait until the server has ended the dead writer's session (that is when its temporary tables go).
async function sessionGone(app: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if ((await db.query('select 1 from pg_stat_activity where application_name = $1', [app])).length === 0) return;
    await sleep(10);
  }
  throw new Error(`the session of ${app} is still there`);
}

const staging = async () => (await db.query<{ n: number }>("select count(*)::int as n from pg_class where relname = 'serve_batch_staging'"))[0].n;
const content = (table: string) => db.query(`select id::int, p from ${table} order by id`);

describe('kill -9 during COPY', () => {
  it('leaves no table where create: true would have made one, and no staging table', async () => {
    const w = startWriter({ app: 'sb-kill-create', table: 'made', mode: 'append', create: true, chunks: 1000, rows: 50_000 });
    await killWhen(w, 'sb-kill-create', "state = 'active' and query ilike 'copy %'");
    await sessionGone('sb-kill-create');
    expect(await db.query("select to_regclass('made') as t")).toEqual([{ t: null }]);
    expect(await staging()).toBe(0);
  });

  it('leaves an existing table as it was', async () => {
    await db.query('create table appended (id bigint, p float8)');
    await db.query('insert into appended values (-1, 0.5), (-2, 0.25)');
    const w = startWriter({ app: 'sb-kill-copy', table: 'appended', mode: 'append', chunks: 1000, rows: 50_000 });
    await killWhen(w, 'sb-kill-copy', "state = 'active' and query ilike 'copy %'");
    await sessionGone('sb-kill-copy');
    expect(await content('appended')).toEqual([
      { id: -2, p: 0.25 },
      { id: -1, p: 0.5 },
    ]);
    expect(await staging()).toBe(0);
  });
});

describe('kill -9 inside the final transaction', () => {
  // A statement trigger that waits for an advisory lock this test holds: the writer's INSERT has put its rows
  // in (after TRUNCATE for replace) and waits there, inside its transaction, before its COMMIT.
  async function holdAfterInsert(table: string): Promise<pg.Client> {
    await db.query(`create or replace function hold_after_insert() returns trigger language plpgsql as $$
                    begin perform pg_advisory_lock(4711); perform pg_advisory_unlock(4711); return null; end $$`);
    await db.query(`create trigger hold after insert on ${table} for each statement execute function hold_after_insert()`);
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('select pg_advisory_lock(4711)');
    return holder;
  }

  it.each([
    ['replace', undefined],
    ['upsert', ['id']],
  ] as const)('%s: the table keeps its rows, and no staging table is left', async (mode, key) => {
    const table = `final_${mode}`;
    await db.query(`create table ${table} (id bigint primary key, p float8)`);
    await db.query(`insert into ${table} values (1, 0.5), (2, 0.25)`);
    const holder = await holdAfterInsert(table);
    const app = `sb-kill-final-${mode}`;
    const w = startWriter({ app, table, mode, key: key ? [...key] : undefined, chunks: 2, rows: 1000 });
    try {
      await killWhen(w, app, "wait_event_type = 'Lock' and wait_event = 'advisory'");
      expect(w.output()).toContain('committing\n');
      expect(w.output()).not.toContain('committed\n');
    } finally {
      await holder.query('select pg_advisory_unlock(4711)');
      await holder.end();
    }
    await sessionGone(app);
    expect(await content(table)).toEqual([
      { id: 1, p: 0.5 },
      { id: 2, p: 0.25 },
    ]);
    expect(await staging()).toBe(0);
  });

  it('without a kill, the same writer commits (the trigger only waits)', async () => {
    await db.query('create table final_ok (id bigint primary key, p float8)');
    const holder = await holdAfterInsert('final_ok');
    await holder.query('select pg_advisory_unlock(4711)');
    await holder.end();
    const w = startWriter({ app: 'sb-final-ok', table: 'final_ok', mode: 'replace', chunks: 2, rows: 1000 });
    expect(await w.exited).toBe(0);
    expect(w.output()).toContain('committed\n');
    expect((await db.query<{ n: number }>('select count(*)::int as n from final_ok'))[0].n).toBe(2000);
  });
});
