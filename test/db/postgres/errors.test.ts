// Every failure a user can meet with a database, against the suite's real server: one line each with the
// documented code and exit code, the place in the query for SQL errors, connections tried again after
// transient failures — and the password in none of it.
import { createServer, Socket, type Server } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase as openAny } from '../../../src/db/open.js';
import { PgEndpoint } from '../../../src/db/postgres/connection.js';
import { openDatabase, type PgDatabaseOptions } from '../../../src/db/postgres/index.js';
import type { Database, QueryReadOptions } from '../../../src/db/types.js';
import { SbError, exitCodeOf } from '../../../src/errors.js';
import { failure as sbFailure } from '../../support/failure.js';
import { testDatabase, type TestDatabase } from '../../support/pg.js';
import { chunkOf, f64, packed } from '../../support/result-chunks.js';

let db: TestDatabase;
let pgdb: Database;
const WRONG_PASSWORD = 'wrong-Secret-4711';
/** Every error of this file, checked for passwords at the end. */
const seen: SbError[] = [];
const FAST = { attempts: 3, firstDelayMs: 10, maxDelayMs: 20 };

beforeAll(async () => {
  db = await testDatabase();
  pgdb = openDatabase(db.url, { applicationName: 'sb-errors-test', retry: FAST });
  await db.query('create table customers (id int, tenure float8, monthly float8)');
  await db.query('insert into customers select g, g, g * 2 from generate_series(1, 5000) g');
});

async function failure(work: Promise<unknown>): Promise<SbError> {
  const err = await sbFailure(work);
  seen.push(err);
  return err;
}

async function readAll(query: string, o: Partial<QueryReadOptions> = {}, database = pgdb): Promise<number> {
  let rows = 0;
  for await (const c of database.readQuery(query, { needs: [{ name: 'tenure', number: true, text: false }], batchSize: 1000, ...o }).chunks) rows += c.rows;
  return rows;
}

const withPort = (url: string, port: number) => url.replace(/:\d+\//, `:${port}/`);

// A port nothing listens on.
async function deadPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

// A TCP proxy to the server whose first `failures` connections fail as `how` says: 'reset' closes the socket
// at once, 'starting' answers PostgreSQL's "the database system is starting up" (57P03) as a server that is
// still starting does.
async function flakyProxy(failures: number, how: 'reset' | 'starting'): Promise<{ port: number; connections: () => number; close: () => Promise<void> }> {
  let count = 0;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    sockets.push(client);
    client.on('error', () => {});
    if (++count <= failures) {
      if (how === 'reset') client.destroy();
      else client.once('data', () => client.end(errorResponse('57P03', 'the database system is starting up')));
      return;
    }
    const upstream = new Socket();
    sockets.push(upstream);
    upstream.on('error', () => client.destroy());
    upstream.connect(db.server.port, db.server.host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => count,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

// A PostgreSQL ErrorResponse message (FATAL, with a SQLSTATE).
function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0`), Buffer.from([0])]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

// The backend of a serve-batch session with this application name, ended by the server's administrator.
async function terminate(app: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await db.query<{ ok: boolean }>('select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = $1', [app]);
    if (r.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no session of ${app}`);
}

describe('connecting', () => {
  it('a server that is not there: tried again, then one line, exit 1 (a later run may find it up)', async () => {
    const port = await deadPort();
    const err = await failure(readAll('select 1 as tenure', {}, openDatabase(withPort(db.url, port), { retry: FAST })));
    expect(err.code).toBe('DB_UNREACHABLE');
    expect(exitCodeOf(err)).toBe(1);
    expect(err.describe()).toMatch(new RegExp(`^cannot connect to postgres://serve_batch_test@127\\.0\\.0\\.1:${port}/t_\\w+: connection refused \\(is the server running and accepting TCP connections on that host and port\\?\\) \\(tried 3 times over [\\d.]+ s\\)$`));
  });

  it.each(['reset', 'starting'] as const)('a connection that fails at first (%s) is tried again and then works', async (how) => {
    const proxy = await flakyProxy(2, how);
    try {
      const rows = await readAll('select tenure from customers', {}, openDatabase(withPort(db.url, proxy.port), { retry: FAST }));
      expect(rows).toBe(5000);
      expect(proxy.connections()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it("a server still starting after every try: the server's words and how long it was tried", async () => {
    const proxy = await flakyProxy(10, 'starting');
    try {
      const err = await failure(openDatabase(withPort(db.url, proxy.port), { retry: FAST }).describeQuery('select 1'));
      expect(err.code).toBe('DB_UNREACHABLE');
      expect(err.message).toMatch(/^cannot connect to postgres:\/\/serve_batch_test@127\.0\.0\.1:\d+\/t_\w+: the database system is starting up \(tried 3 times over [\d.]+ s\)$/);
      expect(proxy.connections()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  it('a wrong password: exit 2, not tried again, and neither password shown', async () => {
    const counting = await flakyProxy(0, 'reset');
    const bad = openDatabase(withPort(db.urlFor(db.server.user, WRONG_PASSWORD), counting.port), { retry: FAST });
    const err = await failure(bad.describeQuery('select 1'));
    expect(counting.connections()).toBe(1);
    await counting.close();
    expect(err.code).toBe('DB_INVALID');
    expect(exitCodeOf(err)).toBe(2);
    expect(err.message).toMatch(/^cannot connect to postgres:\/\/serve_batch_test@127\.0\.0\.1:\d+\/t_\w+: password authentication failed for user "serve_batch_test"; check the user and password \(in the database URL, PGPASSWORD or ~\/\.pgpass\)$/);
  });

  it('a database that does not exist', async () => {
    const err = await failure(openDatabase(db.url.replace(/\/t_\w+$/, '/nodb'), { retry: FAST }).describeQuery('select 1'));
    expect(err.code).toBe('DB_INVALID');
    expect(err.message).toMatch(/: database "nodb" does not exist; check the database name in the URL \(or PGDATABASE\)$/);
  });

  it('takes what the URL leaves out from the libpq environment (PGPASSWORD, PGUSER, PGDATABASE, PGHOST, PGPORT)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, { PGHOST: db.server.host, PGPORT: String(db.server.port), PGUSER: db.server.user, PGPASSWORD: db.server.password, PGDATABASE: db.name });
    try {
      const env = openDatabase('postgresql://', { retry: FAST });
      expect(env.display).toBe(`postgres://serve_batch_test@127.0.0.1:${db.server.port}/${db.name}`);
      expect(await env.describeQuery('select 1 as one')).toEqual([{ name: 'one', type: 'integer', kind: 'integer' }]);
      const partly = openDatabase(`postgres://${db.server.user}@${db.server.host}:${db.server.port}/${db.name}`, { retry: FAST });
      expect(await partly.describeQuery('select 1 as one')).toHaveLength(1);
    } finally {
      for (const k of ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE']) {
        if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
      }
    }
  });

  it('refuses a URL of no known database, or one it cannot read, without showing the password', async () => {
    const other = await failure(openAny(`mysql://root:${WRONG_PASSWORD}@db/x`));
    expect(other.message).toBe('not a database URL: mysql://root:***@db/x (expected postgres://… or postgresql://…)');
    expect(exitCodeOf(other)).toBe(2);
    const port = await failure(Promise.resolve().then(() => openDatabase(`postgres://u:${WRONG_PASSWORD}@host:port/db`)));
    expect(port.code).toBe('DB_INVALID');
    expect(port.message).toMatch(/^the database URL postgres:\/\/u:\*\*\*@host:port\/db cannot be read: /);
  });
});

describe('the query', () => {
  it("a syntax error: the server's message and the place in the query (line, column, the text there)", async () => {
    const err = await failure(readAll('select id,\n       tenure,\n  from customers'));
    expect(err.code).toBe('DB_INVALID');
    expect(exitCodeOf(err)).toBe(2);
    expect(err.describe()).toMatch(/^cannot read the query on postgres:\/\/\S+: syntax error at or near "from" \(at query line 3, column 3: 'from customers'\)$/);
  });

  it('names where the job holds the query and the table', async () => {
    const named = openDatabase(db.url, { retry: FAST, queryPath: 'input.query', tablePath: 'output.table' });
    const query = await failure(named.describeQuery('select nothing'));
    expect(query.describe()).toMatch(/: column "nothing" does not exist \(at query line 1, column 8: 'nothing'\) \(at input\.query\)$/);
    const table = await failure(named.openTableWriter({ table: 'absent', mode: 'append', columns: [{ name: 'p', type: 'float64' }] }));
    expect(table.describe()).toBe("cannot write table absent: table absent does not exist (create: true creates it from the result's columns) (at output.table)");
    const name = await failure(named.checkTarget({ table: 'my table', mode: 'append', columns: [] }));
    expect(name.describe()).toMatch(/^table name 'my table' has a part that needs quotes .* \(at output\.table\)$/);
  });

  it("a missing table or column, with the server's hint; the same from validate's probe", async () => {
    const table = await failure(readAll('select tenure from custmers'));
    expect(table.message).toMatch(/relation "custmers" does not exist \(at query line 1, column 20: 'custmers'\)$/);
    const column = await failure(pgdb.describeQuery('select id, tenur from customers'));
    expect(column.code).toBe('DB_INVALID');
    expect(column.message).toMatch(/^cannot run the query on \S+: column "tenur" does not exist \(hint: Perhaps you meant to reference the column "customers\.tenure"\.\) \(at query line 1, column 12: 'tenur from customers'\)$/);
    const plan = await failure(pgdb.explainQuery('select nope()'));
    expect(plan.message).toMatch(/^cannot explain the query on \S+: function nope\(\) does not exist \(hint: .*\) \(at query line 1, column 8: 'nope\(\)'\)$/);
  });

  it('a value the query cannot compute at some row: exit 1, after how many rows', async () => {
    const err = await failure(readAll('select 1.0 / (id - 2500) as tenure from customers'));
    expect(err.code).toBe('INPUT_FAILED');
    expect(exitCodeOf(err)).toBe(1);
    expect(err.message).toMatch(/^cannot read the query on \S+: division by zero after 2,000 rows$/);
  });

  it('a table the user may not read', async () => {
    await db.query("create role reader login password 'reader-pw'");
    const err = await failure(readAll('select tenure from customers', {}, openDatabase(db.urlFor('reader', 'reader-pw'), { retry: FAST })));
    expect(err.code).toBe('DB_INVALID');
    expect(err.message).toMatch(/: permission denied for table customers$/);
    const probe = await failure(openDatabase(db.urlFor('reader', 'reader-pw')).describeQuery('select * from customers'));
    expect(probe.message).toMatch(/permission denied for table customers$/);
  });
});

describe('a connection lost mid-run', () => {
  it('while reading: exit 1, after how many rows', async () => {
    const reading = openDatabase(db.url, { applicationName: 'sb-lost-read', retry: FAST });
    let rows = 0;
    const err = await failure(
      (async () => {
        for await (const c of reading.readQuery('select tenure from customers', { needs: [{ name: 'tenure', number: true, text: false }], batchSize: 1000 }).chunks) {
          rows += c.rows;
          if (rows === 1000) await terminate('sb-lost-read');
        }
      })(),
    );
    expect(rows).toBe(1000);
    expect(err.code).toBe('INPUT_FAILED');
    expect(err.message).toMatch(/^cannot read the query on \S+: the connection to \S+ was lost after 1,000 rows: terminating connection due to administrator command$/);
  });

  it('while writing, and before the commit: exit 1, the table unchanged', async () => {
    await db.query('create table scores (id text, p float8)');
    const o: PgDatabaseOptions = { applicationName: 'sb-lost-write', retry: FAST };
    const columns = [
      { name: 'id', type: 'string' as const },
      { name: 'p', type: 'float64' as const },
    ];
    const rows = chunkOf(packed('id', ['a', 'b']), f64('p', [0.5, 0.25]));
    const w = await openDatabase(db.url, o).openTableWriter({ table: 'scores', mode: 'replace', columns });
    await w.write(rows);
    await terminate('sb-lost-write');
    const err = await failure(w.write(rows));
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toMatch(/^cannot write table scores: the connection to \S+ was lost: /);
    await w.abort();

    const w2 = await openDatabase(db.url, o).openTableWriter({ table: 'scores', mode: 'replace', columns });
    await w2.write(rows);
    await terminate('sb-lost-write');
    const commit = await failure(w2.commit());
    expect(commit.code).toBe('WRITE_FAILED');
    expect(commit.message).toMatch(/^cannot write table scores: the connection to \S+ was lost: terminating connection due to administrator command; the table is unchanged$/);
    expect(await db.query('select * from scores')).toEqual([]);
  });
});

afterAll(() => {
  // Whatever failed, the passwords never appear: not in messages, their one-line form, context or causes' texts.
  expect(seen.length).toBeGreaterThan(10);
  for (const err of seen) {
    const shown = [err.message, err.describe(), JSON.stringify(err.context), String(err), inspect(err, { depth: 0 })].join('\n');
    for (const secret of [db.server.password, WRONG_PASSWORD, 'reader-pw']) expect(shown).not.toContain(secret);
  }
  const endpoint = new PgEndpoint(db.url);
  const shown = [pgdb.display, String(pgdb), inspect(pgdb, { depth: 5, showHidden: true }), String(endpoint), inspect(endpoint, { depth: 5, showHidden: true })].join('\n');
  expect(shown).not.toContain(db.server.password);
});
