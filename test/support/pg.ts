// The suite's PostgreSQL server from a test file: a database of the file's own on it (created on first use,
// dropped after the file), a client connected as the server's superuser for setting up and checking tables,
// and URLs that serve-batch's database code connects with.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, expect, inject } from 'vitest';
import { FAILED_FILE, SERVER_FILE, WANT_FILE, type PgServerInfo } from './pg-server.js';

export interface TestDatabase {
  server: PgServerInfo;
  /** The database's name. */
  name: string;
  /** postgres://user:password@127.0.0.1:port/name */
  url: string;
  /** A URL for another user of the same server and database. */
  urlFor(user: string, password: string): string;
  /** Connected as the superuser to this database. */
  admin: pg.Client;
  /** A query as the superuser, its rows. */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, values?: unknown[]): Promise<R[]>;
}

/** The database of the test file being run. The suite runs files one after another in a worker without
 *  loading this module again (isolate: false), so the module's afterAll runs after the first file only:
 *  a file that finds another file's database drops it and makes its own. */
let current: { file: string; db: Promise<TestDatabase> } | undefined;

// The server of this run, started on request (waits until it accepts connections).
export async function testServer(): Promise<PgServerInfo> {
  const dir = inject('pgServerDir');
  const want = path.join(dir, WANT_FILE);
  if (!existsSync(want)) writeFileSync(want, '');
  // initdb and the start take 1–5 s; a minute means something is wrong.
  for (let waited = 0; waited < 120_000; waited += 50) {
    if (existsSync(path.join(dir, SERVER_FILE))) return JSON.parse(readFileSync(path.join(dir, SERVER_FILE), 'utf8')) as PgServerInfo;
    if (existsSync(path.join(dir, FAILED_FILE))) throw new Error(readFileSync(path.join(dir, FAILED_FILE), 'utf8'));
    await sleep(50);
  }
  throw new Error('the test PostgreSQL server did not start within 2 minutes');
}

// This test file's database (the same one on every call), dropped once the worker's next file asks for its own
// (the last one goes with the server).
export function testDatabase(): Promise<TestDatabase> {
  const file = expect.getState().testPath ?? '';
  if (current?.file !== file) {
    const earlier = current?.db;
    current = { file, db: (earlier ? dropDatabase(earlier).catch(() => undefined) : Promise.resolve()).then(createDatabase) };
  }
  return current.db;
}

afterAll(async () => {
  const db = current?.db;
  current = undefined;
  if (db) await dropDatabase(db);
});

async function dropDatabase(db: Promise<TestDatabase>): Promise<void> {
  const d = await db;
  await d.admin.end();
  const c = new pg.Client({ ...connection(d.server), database: 'postgres' });
  await c.connect();
  await c.query(`drop database if exists "${d.name}" with (force)`);
  await c.end();
}

function connection(s: PgServerInfo) {
  return { host: s.host, port: s.port, user: s.user, password: s.password };
}

async function createDatabase(): Promise<TestDatabase> {
  const server = await testServer();
  const name = `t_${randomBytes(6).toString('hex')}`;
  const boot = new pg.Client({ ...connection(server), database: 'postgres' });
  await boot.connect();
  await boot.query(`create database "${name}"`);
  await boot.end();
  const admin = new pg.Client({ ...connection(server), database: name });
  admin.on('error', () => {});
  await admin.connect();
  const urlFor = (user: string, password: string) => `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${server.host}:${server.port}/${name}`;
  return {
    server,
    name,
    url: urlFor(server.user, server.password),
    urlFor,
    admin,
    query: async (sql, values) => (await admin.query(sql, values)).rows,
  };
}
